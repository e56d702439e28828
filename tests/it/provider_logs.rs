//! `cloudwatch_log_group` against the emulator, through the real SDK, in two regions: create with
//! tags, retention, class and KMS key; read back as the same as the spec under the declared
//! comparison; refresh by stack tag in one listing; update in place (retention changed and
//! removed, key removed, tags changed); adoption after a crash; invalid values refused before any
//! call; delete and delete again.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, ProviderError, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

const KIND: Kind = Kind::CloudwatchLogGroup;

fn names(list: &[&str]) -> Hints {
    Hints {
        names: list
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>(),
        ..Hints::default()
    }
}

/// Asserts that the live group plans clean against `desired`: every attribute the same under
/// the kind's declared comparison.
fn assert_no_op(desired: &Attrs, live: &Observed) {
    let out = compare_all(KIND, desired, &live.attrs);
    assert!(
        out.values().all(|c| *c == AttrCmp::Same),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

fn key_arn(region: &str) -> String {
    format!("arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
}

#[tokio::test(flavor = "multi_thread")]
async fn log_group_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    for region in ["eu-west-1", "us-west-2"] {
        let name = "/aws/eks/app/cluster";
        let r = Res::new(&format!("{region}/cloudwatch_log_group.eks"));
        let ctx = r.ctx();
        let desired = attrs(json!({
            "name": name,
            "retention_in_days": 30,
            "log_group_class": "INFREQUENT_ACCESS",
            "kms_key_id": key_arn(region),
            "tags": {"team": "platform"},
        }));
        let group = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(group.status, Status::Ready);
        assert_eq!(group.id, name);
        assert_eq!(group.region, region);
        assert_eq!(group.attrs.get("retention_in_days"), Some(&Value::Int(30)));
        assert_eq!(attr(&group.attrs, "log_group_class"), "INFREQUENT_ACCESS");
        assert_eq!(attr(&group.attrs, "kms_key_id"), key_arn(region));
        assert_eq!(
            group.attrs.get("tags"),
            desired.get("tags"),
            "user tags only"
        );
        assert_eq!(group.stack_tag(), Some("tests"));
        assert_eq!(
            group.address_tag(),
            Some(format!("{region}/cloudwatch_log_group.eks").as_str())
        );
        assert_eq!(attr(&group.computed, "id"), name);
        let arn = attr(&group.computed, "arn");
        assert!(arn.starts_with(&format!("arn:aws:logs:{region}:")), "{arn}");
        assert!(arn.ends_with(":log-group:/aws/eks/app/cluster"), "{arn}");
        assert_no_op(&desired, &group);

        let read = p.read(&ctx, name).await.expect("read").expect("exists");
        assert_eq!(read, group);

        // A longer name under the same prefix, this stack's but not asked for, and another
        // stack's group that the hints do name: neither is the group, and the listing is one
        // DescribeLogGroups (narrowed to the names' common prefix) plus the tags of the named
        // groups only.
        let longer = Res::new(&format!("{region}/cloudwatch_log_group.longer"));
        p.create(
            &longer.ctx(),
            &attrs(json!({"name": "/aws/eks/app/cluster-2"})),
        )
        .await
        .expect("create a longer name");
        let foreign = Res::new(&format!("{region}/cloudwatch_log_group.foreign"));
        other
            .create(
                &foreign.ctx(),
                &attrs(json!({"name": "/aws/eks/foreign/cluster"})),
            )
            .await
            .expect("create another stack's group");
        let before = p.clients.requests();
        let hinted = names(&[name, "/aws/eks/foreign/cluster", "/aws/eks/absent/cluster"]);
        let listed = p.refresh(KIND, region, &hinted).await.expect("refresh");
        assert_eq!(listed, vec![group.clone()]);
        let after = p.clients.requests();
        assert_eq!(
            after.operation("DescribeLogGroups") - before.operation("DescribeLogGroups"),
            1
        );
        assert_eq!(
            after.operation("ListTagsForResource") - before.operation("ListTagsForResource"),
            2
        );
        let none = p
            .refresh(KIND, region, &Hints::default())
            .await
            .expect("refresh");
        assert!(none.is_empty(), "without hints no group is the stack's");
        assert_eq!(
            p.clients.requests().total(),
            after.total(),
            "and none is listed"
        );

        // Update in place: retention shortened, key removed, tags changed.
        let changed = attrs(json!({
            "name": name,
            "retention_in_days": 7,
            "log_group_class": "INFREQUENT_ACCESS",
            "tags": {"team": "sre", "env": "prod"},
        }));
        assert_eq!(
            compare(KIND, "kms_key_id", None, group.attrs.get("kms_key_id")),
            AttrCmp::Differs,
            "a key removed from the spec is a change"
        );
        let updated = p
            .update_and_wait(&ctx, &group, &changed)
            .await
            .expect("update");
        assert_eq!(updated.attrs.get("retention_in_days"), Some(&Value::Int(7)));
        assert_eq!(updated.attrs.get("kms_key_id"), None);
        assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
        assert_eq!(updated.address_tag(), group.address_tag(), "identity kept");
        assert_no_op(&changed, &updated);
        assert_eq!(
            p.read(&ctx, name).await.expect("read"),
            Some(updated.clone())
        );

        // Retention removed: never expire, and a live retention would be a change.
        let forever = attrs(json!({"name": name, "tags": {"team": "sre", "env": "prod"}}));
        assert_eq!(
            compare(
                KIND,
                "retention_in_days",
                None,
                updated.attrs.get("retention_in_days")
            ),
            AttrCmp::Differs
        );
        let kept = p
            .update_and_wait(&ctx, &updated, &forever)
            .await
            .expect("remove retention");
        assert_eq!(kept.attrs.get("retention_in_days"), None);
        assert_eq!(
            attr(&kept.attrs, "log_group_class"),
            "INFREQUENT_ACCESS",
            "the class is kept when the spec has no opinion"
        );
        assert_no_op(&forever, &kept);
        // The key back, and the tags cleared.
        let keyed = attrs(json!({"name": name, "kms_key_id": key_arn(region)}));
        let rekeyed = p
            .update_and_wait(&ctx, &kept, &keyed)
            .await
            .expect("associate key");
        assert_eq!(attr(&rekeyed.attrs, "kms_key_id"), key_arn(region));
        assert_eq!(rekeyed.attrs.get("tags"), None);
        assert_eq!(rekeyed.stack_tag(), Some("tests"), "identity tags stay");
        assert_no_op(&keyed, &rekeyed);

        // Delete, and deleting again is not an error.
        p.delete_and_wait(&ctx, &rekeyed, &keyed)
            .await
            .expect("delete");
        p.delete(&ctx, &rekeyed, &keyed)
            .await
            .expect("delete twice");
        assert!(p.read(&ctx, name).await.expect("read").is_none());
        assert!(
            p.refresh(KIND, region, &hinted)
                .await
                .expect("refresh")
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_group_made_before_a_crash_is_adopted_not_made_twice() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "eu-west-1";
    let r = Res::new(&format!("{region}/cloudwatch_log_group.audit"));
    let ctx = r.ctx();
    let desired = attrs(json!({"name": "/platform/audit", "retention_in_days": 90}));
    // The create went through, but its answer was lost with the process.
    let made = p.create(&ctx, &desired).await.expect("create");

    // The next apply finds it by name and identity tags.
    let found = p.find(&ctx, &desired).await.expect("find").expect("found");
    assert_eq!(found, made);
    assert_eq!(
        attr(&found.attrs, "log_group_class"),
        "STANDARD",
        "AWS default"
    );
    assert_no_op(&desired, &found);

    // The same name at another address, or in another stack, is not this create's group.
    let elsewhere = Res::new(&format!("{region}/cloudwatch_log_group.other"));
    assert!(
        p.find(&elsewhere.ctx(), &desired)
            .await
            .expect("find")
            .is_none()
    );
    let other = emu.provider("other").await;
    assert!(other.find(&ctx, &desired).await.expect("find").is_none());

    // A retried create meets ResourceAlreadyExistsException, adopts its own group and brings
    // it to the spec; another stack's create of the name fails.
    let retried = attrs(json!({"name": "/platform/audit", "retention_in_days": 14}));
    let adopted = p.create(&ctx, &retried).await.expect("retried create");
    assert_eq!(adopted.id, made.id);
    assert_eq!(
        adopted.attrs.get("retention_in_days"),
        Some(&Value::Int(14))
    );
    let err = other
        .create(&ctx, &retried)
        .await
        .expect_err("another stack's group");
    assert!(err.to_string().contains("ResourceAlreadyExists"), "{err}");
    p.delete(&ctx, &adopted, &retried).await.expect("delete");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_names_and_retentions_are_refused_before_any_call() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/cloudwatch_log_group.bad");
    let ctx = r.ctx();
    for bad in [
        json!({"name": "/ok/name", "retention_in_days": 8}),
        json!({"name": "has space"}),
        json!({"name": "x".repeat(513)}),
    ] {
        let before = p.clients.requests().total();
        let err = p
            .create(&ctx, &attrs(bad.clone()))
            .await
            .expect_err("refused");
        assert!(matches!(err, ProviderError::Invalid { .. }), "{bad}: {err}");
        assert_eq!(p.clients.requests().total(), before, "{bad}: no request");
    }
    assert!(p.read(&ctx, "/ok/name").await.expect("read").is_none());
}
