//! `kms_key` and `kms_alias` against the emulator, through the real SDK: a key created with
//! rotation, policy, description and tags, read back as the spec under the declared comparison
//! (the policy as JSON, whatever its text); refresh by stack tag with one ListKeys and one
//! ListAliases; update in place; adoption after a crash; delete as a scheduled deletion that
//! makes the key gone; an alias created, re-pointed and deleted; values AWS refuses refused before
//! any call; and the emulator answering as KMS does where moto did not.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, ProviderError, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

/// Every attribute the same under the kind's declared comparison (a write-only one, which AWS
/// never reports, is compared with state by the planner).
fn assert_no_op(kind: Kind, desired: &Attrs, live: &Observed) {
    let out = compare_all(kind, desired, &live.attrs);
    assert!(
        out.values()
            .all(|c| matches!(c, AttrCmp::Same | AttrCmp::NotObservable)),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

fn policy(account_action: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "root",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": account_action,
            "Resource": "*",
        }],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn key_lifecycle_with_rotation_and_policy() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    let region = "eu-west-1";
    let r = Res::new(&format!("{region}/kms_key.data"));
    let ctx = r.ctx();
    let desired = attrs(json!({
        "description": "RDS and Redis at rest",
        "enable_key_rotation": true,
        "rotation_period_in_days": 180,
        "policy": policy("kms:*"),
        "deletion_window_in_days": 7,
        "tags": {"team": "platform"},
    }));
    let key = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(key.status, Status::Ready);
    assert_eq!(attr(&key.computed, "id"), key.id);
    let arn = attr(&key.computed, "arn");
    assert!(
        arn.starts_with(&format!("arn:aws:kms:{region}:")) && arn.ends_with(&key.id),
        "{arn}"
    );
    assert_eq!(
        key.attrs.get("enable_key_rotation"),
        Some(&Value::Bool(true))
    );
    assert_eq!(
        key.attrs.get("rotation_period_in_days"),
        Some(&Value::Int(180))
    );
    assert_eq!(key.attrs.get("tags"), desired.get("tags"), "user tags only");
    assert_eq!(key.stack_tag(), Some("tests"));
    assert_eq!(key.address_tag(), Some("eu-west-1/kms_key.data"));
    assert_eq!(key.attrs.get("deletion_window_in_days"), None, "write-only");
    assert_no_op(Kind::KmsKey, &desired, &key);
    // The same policy as JSON text, reformatted, is the same; another action is not.
    let text = serde_json::to_string_pretty(&policy("kms:*")).expect("json");
    assert_eq!(
        compare(
            Kind::KmsKey,
            "policy",
            Some(&Value::Str(text)),
            key.attrs.get("policy")
        ),
        AttrCmp::Same
    );
    assert_eq!(
        compare(
            Kind::KmsKey,
            "policy",
            Some(&Value::from_json(&policy("kms:Describe*"))),
            key.attrs.get("policy")
        ),
        AttrCmp::Differs
    );
    assert_eq!(
        p.read(&ctx, &key.id).await.expect("read"),
        Some(key.clone())
    );

    // Refresh: another stack's key and a key without tags are not this stack's; the listing is
    // one ListKeys and one ListAliases, whatever the number of keys.
    let theirs = Res::new(&format!("{region}/kms_key.theirs"));
    other
        .create(&theirs.ctx(), &attrs(json!({"enable_key_rotation": true})))
        .await
        .expect("another stack's key");
    let before = p.clients.requests();
    let listed = p
        .refresh(Kind::KmsKey, region, &Hints::default())
        .await
        .expect("refresh");
    assert_eq!(listed, vec![key.clone()]);
    let after = p.clients.requests();
    assert_eq!(
        after.operation("ListKeys") - before.operation("ListKeys"),
        1
    );
    assert_eq!(
        after.operation("ListAliases") - before.operation("ListAliases"),
        1
    );
    assert!(
        p.refresh(Kind::KmsKey, "us-west-2", &Hints::default())
            .await
            .expect("refresh another region")
            .is_empty(),
        "keys are regional"
    );

    // Update in place: description, rotation off, policy, tags.
    let changed = attrs(json!({
        "description": "rotated by hand",
        "enable_key_rotation": false,
        "policy": policy("kms:Describe*"),
        "tags": {"team": "sre"},
    }));
    let updated = p
        .update_and_wait(&ctx, &key, &changed)
        .await
        .expect("update");
    assert_eq!(updated.id, key.id);
    assert_eq!(attr(&updated.attrs, "description"), "rotated by hand");
    assert_eq!(
        updated.attrs.get("enable_key_rotation"),
        Some(&Value::Bool(false))
    );
    assert_eq!(updated.attrs.get("rotation_period_in_days"), None);
    assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
    assert_eq!(updated.stack_tag(), Some("tests"), "identity tags stay");
    assert_no_op(Kind::KmsKey, &changed, &updated);
    // No description in the spec is an empty one: the live one differs.
    assert_eq!(
        compare(
            Kind::KmsKey,
            "description",
            None,
            updated.attrs.get("description")
        ),
        AttrCmp::Differs
    );

    // Delete schedules the deletion with the window last applied; the key is then gone.
    p.delete_and_wait(&ctx, &updated, &desired)
        .await
        .expect("delete");
    assert!(p.read(&ctx, &key.id).await.expect("read").is_none());
    p.delete(&ctx, &updated, &desired)
        .await
        .expect("deleting a key pending deletion again");
    let hints = Hints {
        ids: BTreeSet::from([key.id.clone()]),
        ..Hints::default()
    };
    assert!(
        p.refresh(Kind::KmsKey, region, &hints)
            .await
            .expect("refresh")
            .is_empty(),
        "a key pending deletion is not listed"
    );
    let window = emu.boto3(&format!(
        "k = client('kms', '{region}').describe_key(KeyId='{}')['KeyMetadata']\n\
         print(k['KeyState'], (k['DeletionDate'] - k['CreationDate']).days)",
        key.id
    ));
    assert!(
        window.trim().starts_with("PendingDeletion 7")
            || window.trim().starts_with("PendingDeletion 6"),
        "{window}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_made_before_a_crash_is_found_by_its_tags() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("us-west-2/kms_key.replica");
    let ctx = r.ctx();
    let desired = attrs(json!({"enable_key_rotation": true}));
    // The create went through; its answer was lost with the process.
    let made = p.create(&ctx, &desired).await.expect("create");
    let found = p.find(&ctx, &desired).await.expect("find").expect("found");
    assert_eq!(found, made);
    assert_eq!(
        found.attrs.get("rotation_period_in_days"),
        Some(&Value::Int(365)),
        "AWS's default period"
    );
    assert_no_op(Kind::KmsKey, &desired, &found);
    let elsewhere = Res::new("us-west-2/kms_key.other");
    assert!(
        p.find(&elsewhere.ctx(), &desired)
            .await
            .expect("find")
            .is_none()
    );
    let other = emu.provider("other").await;
    assert!(other.find(&ctx, &desired).await.expect("find").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn alias_lifecycle_and_repointing() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "us-west-2";
    let k1 = Res::new(&format!("{region}/kms_key.one"));
    let k2 = Res::new(&format!("{region}/kms_key.two"));
    let one = p
        .create(&k1.ctx(), &attrs(json!({"enable_key_rotation": true})))
        .await
        .expect("key one");
    let two = p
        .create(&k2.ctx(), &attrs(json!({"enable_key_rotation": true})))
        .await
        .expect("key two");

    let r = Res::new(&format!("{region}/kms_alias.data"));
    let ctx = r.ctx();
    let desired = attrs(json!({"name": "alias/platform/data", "target_key_id": one.id}));
    let alias = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(alias.id, "alias/platform/data");
    assert_eq!(attr(&alias.attrs, "target_key_id"), one.id);
    assert_eq!(
        attr(&alias.computed, "target_key_arn"),
        attr(&one.computed, "arn")
    );
    assert!(attr(&alias.computed, "arn").ends_with(":alias/platform/data"));
    assert_no_op(Kind::KmsAlias, &desired, &alias);
    // The key's ARN in the spec is the same key as the id ListAliases reports.
    let by_arn = attrs(json!({
        "name": "alias/platform/data",
        "target_key_id": attr(&one.computed, "arn"),
    }));
    assert_no_op(Kind::KmsAlias, &by_arn, &alias);

    // Refresh: one ListAliases; the aliases the hints name only.
    let before = p.clients.requests();
    let hints = Hints {
        names: BTreeSet::from(["alias/platform/data".to_owned(), "alias/absent".to_owned()]),
        ..Hints::default()
    };
    let listed = p
        .refresh(Kind::KmsAlias, region, &hints)
        .await
        .expect("refresh");
    assert_eq!(listed, vec![alias.clone()]);
    assert_eq!(p.clients.requests().total() - before.total(), 1);

    // Re-pointed in place, given as an ARN.
    let moved = attrs(json!({
        "name": "alias/platform/data",
        "target_key_id": attr(&two.computed, "arn"),
    }));
    assert_eq!(
        compare(
            Kind::KmsAlias,
            "target_key_id",
            moved.get("target_key_id"),
            alias.attrs.get("target_key_id")
        ),
        AttrCmp::Differs
    );
    let updated = p
        .update_and_wait(&ctx, &alias, &moved)
        .await
        .expect("update");
    assert_eq!(attr(&updated.attrs, "target_key_id"), two.id);
    assert_no_op(Kind::KmsAlias, &moved, &updated);

    // A retried create (its answer lost) takes the alias over and points it as asked.
    let again = p.create(&ctx, &desired).await.expect("retried create");
    assert_eq!(attr(&again.attrs, "target_key_id"), one.id);

    p.delete_and_wait(&ctx, &again, &desired)
        .await
        .expect("delete");
    p.delete(&ctx, &again, &desired)
        .await
        .expect("delete twice");
    assert!(p.read(&ctx, &alias.id).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn values_kms_refuses_are_refused_before_any_call() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let key = Res::new("eu-west-1/kms_key.bad");
    let alias = Res::new("eu-west-1/kms_alias.bad");
    for (r, bad) in [
        (
            &key,
            json!({"enable_key_rotation": true, "rotation_period_in_days": 30}),
        ),
        (&key, json!({"description": "x".repeat(8193)})),
        (
            &alias,
            json!({"name": "alias/aws/rds", "target_key_id": "k"}),
        ),
        (&alias, json!({"name": "platform", "target_key_id": "k"})),
        (
            &alias,
            json!({"name": "alias/has space", "target_key_id": "k"}),
        ),
    ] {
        let before = p.clients.requests().total();
        let err = p
            .create(&r.ctx(), &attrs(bad.clone()))
            .await
            .expect_err("refused");
        assert!(matches!(err, ProviderError::Invalid { .. }), "{bad}: {err}");
        assert_eq!(p.clients.requests().total(), before, "{bad}: no request");
    }
}

/// The emulator answers as KMS does where moto did not (tests/emulator/regionctl_moto/kms.py).
#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_answers_rotation_and_deletion_as_kms_does() {
    let emu = Emulator::start();
    let out = emu.boto3(
        "k = client('kms', 'eu-west-1')\n\
         key = k.create_key()['KeyMetadata']['KeyId']\n\
         k.enable_key_rotation(KeyId=key, RotationPeriodInDays=120)\n\
         s = k.get_key_rotation_status(KeyId=key)\n\
         print('period', s['KeyRotationEnabled'], s['RotationPeriodInDays'])\n\
         for days in (5000,):\n\
         \x20   try:\n\
         \x20       k.enable_key_rotation(KeyId=key, RotationPeriodInDays=days)\n\
         \x20       print('accepted', days)\n\
         \x20   except Exception as e:\n\
         \x20       print('refused', days, e.response['Error']['Code'])\n\
         try:\n\
         \x20   k.schedule_key_deletion(KeyId=key, PendingWindowInDays=45)\n\
         \x20   print('accepted window 45')\n\
         except Exception as e:\n\
         \x20   print('refused window', e.response['Error']['Code'])\n\
         arn = k.describe_key(KeyId=key)['KeyMetadata']['Arn']\n\
         k.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)\n\
         for call in (lambda: k.get_key_rotation_status(KeyId=key), lambda: k.enable_key_rotation(KeyId=key), lambda: k.schedule_key_deletion(KeyId=key)):\n\
         \x20   try:\n\
         \x20       call()\n\
         \x20       print('accepted pending')\n\
         \x20   except Exception as e:\n\
         \x20       print('pending', e.response['Error']['Code'])\n",
    );
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "period True 120",
            "refused 5000 ValidationException",
            "refused window ValidationException",
            "pending KMSInvalidStateException",
            "pending KMSInvalidStateException",
            "pending KMSInvalidStateException",
        ],
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_key_gets_the_identity_tags_on_its_first_update() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/kms_key.imported");
    let ctx = r.ctx();
    // Made by another tool, so without regionctl's tags, then imported by its id.
    let id = emu
        .boto3("print(client('kms', 'eu-west-1').create_key(Description='theirs')['KeyMetadata']['KeyId'])")
        .trim()
        .to_owned();
    let prior = p
        .read(&ctx, &id)
        .await
        .expect("read")
        .expect("the key exists");
    assert_eq!(prior.stack_tag(), None, "{prior:?}");
    // The plan proposes a tags update for it; the update adds them, and nothing else changes.
    let desired = attrs(json!({"description": "theirs"}));
    let updated = p
        .update_and_wait(&ctx, &prior, &desired)
        .await
        .expect("update");
    assert_eq!(updated.id, id);
    assert_eq!(updated.stack_tag(), Some("tests"), "{updated:?}");
    assert_eq!(
        updated.address_tag(),
        Some("eu-west-1/kms_key.imported"),
        "{updated:?}"
    );
}
