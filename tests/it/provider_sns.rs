//! `sns_topic` and `sns_subscription` against the emulator, through the real SDK: topics created
//! with tags, display name and KMS key, read back as the same as the spec under the declared
//! comparison, refreshed in one listing, updated in place, adopted after a crash, deleted;
//! email and HTTPS subscriptions pending until confirmed (with a real ARN all along), refreshed
//! through one ListSubscriptions once confirmed, left to SNS when deleted while pending.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, ProviderError, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

fn hints(names: &[&str], ids: &[&str]) -> Hints {
    Hints {
        names: names
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>(),
        ids: ids.iter().map(|n| (*n).to_owned()).collect::<BTreeSet<_>>(),
        ..Hints::default()
    }
}

fn assert_no_op(kind: Kind, desired: &Attrs, live: &Observed) {
    let out = compare_all(kind, desired, &live.attrs);
    assert!(
        out.values().all(|c| *c == AttrCmp::Same),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

fn pending(o: &Observed) -> bool {
    o.computed.get("pending_confirmation") == Some(&Value::Bool(true))
}

#[tokio::test(flavor = "multi_thread")]
async fn topic_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    for region in ["eu-west-1", "us-east-1"] {
        let r = Res::new(&format!("{region}/sns_topic.alerts"));
        let ctx = r.ctx();
        let key =
            format!("arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        let desired = attrs(json!({
            "name": "platform-alerts",
            "display_name": "Platform",
            "kms_master_key_id": key,
            "tags": {"team": "platform"},
        }));
        let topic = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(topic.status, Status::Ready);
        assert_eq!(
            topic.id,
            format!("arn:aws:sns:{region}:123456789012:platform-alerts")
        );
        assert_eq!(attr(&topic.computed, "arn"), topic.id);
        assert_eq!(attr(&topic.attrs, "display_name"), "Platform");
        assert_eq!(attr(&topic.attrs, "kms_master_key_id"), key);
        assert_eq!(
            topic.attrs.get("tags"),
            desired.get("tags"),
            "user tags only"
        );
        assert_eq!(topic.stack_tag(), Some("tests"));
        assert_eq!(
            topic.address_tag(),
            Some(format!("{region}/sns_topic.alerts").as_str())
        );
        assert_no_op(Kind::SnsTopic, &desired, &topic);
        assert_eq!(
            p.read(&ctx, &topic.id).await.expect("read"),
            Some(topic.clone())
        );

        // Another stack's topic the hints name, and one of this stack's no hint names: neither is
        // returned. One ListTopics; attributes and tags only of the topics named.
        let foreign = Res::new(&format!("{region}/sns_topic.foreign"));
        other
            .create(&foreign.ctx(), &attrs(json!({"name": "foreign"})))
            .await
            .expect("another stack's topic");
        let unnamed = Res::new(&format!("{region}/sns_topic.unnamed"));
        p.create(&unnamed.ctx(), &attrs(json!({"name": "unnamed"})))
            .await
            .expect("a topic no hint names");
        let before = p.clients.requests();
        let named = hints(&["platform-alerts", "foreign", "absent"], &[]);
        let listed = p
            .refresh(Kind::SnsTopic, region, &named)
            .await
            .expect("refresh");
        assert_eq!(listed, vec![topic.clone()]);
        let after = p.clients.requests();
        let delta = |op: &str| after.operation(op) - before.operation(op);
        assert_eq!(delta("ListTopics"), 1);
        assert_eq!(delta("GetTopicAttributes"), 2);
        assert_eq!(delta("ListTagsForResource"), 2);
        assert!(
            p.refresh(Kind::SnsTopic, region, &Hints::default())
                .await
                .expect("refresh")
                .is_empty()
        );
        assert_eq!(
            p.clients.requests().total(),
            after.total(),
            "no hints, no call"
        );

        // Update in place: the key as an alias is no change; display name removed; tags changed.
        let aliased = attrs(json!({
            "name": "platform-alerts",
            "display_name": "Platform",
            "kms_master_key_id": "alias/sns-alerts",
            "tags": {"team": "platform"},
        }));
        assert_no_op(Kind::SnsTopic, &aliased, &topic);
        let changed = attrs(json!({
            "name": "platform-alerts",
            "kms_master_key_id": key,
            "tags": {"team": "sre"},
        }));
        assert_eq!(
            compare(
                Kind::SnsTopic,
                "display_name",
                None,
                topic.attrs.get("display_name")
            ),
            AttrCmp::Differs,
            "a display name removed from the spec is a change"
        );
        let updated = p
            .update_and_wait(&ctx, &topic, &changed)
            .await
            .expect("update");
        assert_eq!(updated.attrs.get("display_name"), None);
        assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
        assert_eq!(updated.address_tag(), topic.address_tag(), "identity kept");
        assert_no_op(Kind::SnsTopic, &changed, &updated);
        // Encryption turned off.
        let plain = attrs(json!({"name": "platform-alerts", "tags": {"team": "sre"}}));
        let plain_topic = p
            .update_and_wait(&ctx, &updated, &plain)
            .await
            .expect("no key");
        assert_eq!(plain_topic.attrs.get("kms_master_key_id"), None);
        assert_no_op(Kind::SnsTopic, &plain, &plain_topic);

        p.delete_and_wait(&ctx, &plain_topic, &plain)
            .await
            .expect("delete");
        p.delete(&ctx, &plain_topic, &plain)
            .await
            .expect("delete twice");
        assert!(p.read(&ctx, &topic.id).await.expect("read").is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_topic_made_before_a_crash_is_adopted_not_made_twice() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/sns_topic.alerts");
    let ctx = r.ctx();
    let desired = attrs(json!({"name": "alerts", "tags": {"team": "platform"}}));
    // The create went through, but its answer was lost with the process.
    let made = p.create(&ctx, &desired).await.expect("create");
    let found = p.find(&ctx, &desired).await.expect("find").expect("found");
    assert_eq!(found, made);
    // The same name at another address, or in another stack, is not this create's topic.
    let elsewhere = Res::new("eu-west-1/sns_topic.other");
    assert!(
        p.find(&elsewhere.ctx(), &desired)
            .await
            .expect("find")
            .is_none()
    );
    let other = emu.provider("other").await;
    assert!(other.find(&ctx, &desired).await.expect("find").is_none());
    // CreateTopic is idempotent by name: the retried create gets the same topic...
    let again = p.create(&ctx, &desired).await.expect("retried create");
    assert_eq!(again.id, made.id);
    // ...but another stack's create of the name is refused (its tags differ), not merged.
    let err = other
        .create(&ctx, &desired)
        .await
        .expect_err("another stack's topic");
    assert!(err.to_string().contains("InvalidParameter"), "{err}");
    // Bad names are refused before any call.
    let before = p.clients.requests().total();
    for bad in [json!({"name": "has space"}), json!({"name": "x.fifo"})] {
        let err = p
            .create(&ctx, &attrs(bad.clone()))
            .await
            .expect_err("refused");
        assert!(matches!(err, ProviderError::Invalid { .. }), "{bad}: {err}");
    }
    assert_eq!(p.clients.requests().total(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn email_and_https_subscriptions_stay_pending_until_confirmed() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "eu-west-1";
    let t = Res::new(&format!("{region}/sns_topic.alerts"));
    let topic = p
        .create(&t.ctx(), &attrs(json!({"name": "alerts"})))
        .await
        .expect("topic");

    let email = Res::new(&format!("{region}/sns_subscription.oncall"));
    let email_desired = attrs(json!({
        "topic_arn": topic.id,
        "protocol": "email",
        "endpoint": "oncall@example.com",
    }));
    let sub = p
        .create_and_wait(&email.ctx(), &email_desired)
        .await
        .expect("subscribe");
    // A real ARN at once (ReturnSubscriptionArn), ready for regionctl, pending for SNS.
    assert!(sub.id.starts_with(&format!("{}:", topic.id)), "{}", sub.id);
    assert_eq!(sub.status, Status::Ready);
    assert!(pending(&sub));
    assert_no_op(Kind::SnsSubscription, &email_desired, &sub);
    assert_eq!(
        p.read(&email.ctx(), &sub.id).await.expect("read"),
        Some(sub.clone())
    );

    // Pending, the listing shows "PendingConfirmation" instead of the ARN: the refresh cannot
    // return it, and the plan reads it by the id the state records.
    let ids = hints(&[], &[sub.id.as_str()]);
    let listed = p
        .refresh(Kind::SnsSubscription, region, &ids)
        .await
        .expect("refresh");
    assert!(listed.is_empty(), "{listed:?}");
    // Without ids nothing is listed at all: subscriptions carry no tags.
    let before = p.clients.requests().total();
    assert!(
        p.refresh(Kind::SnsSubscription, region, &Hints::default())
            .await
            .expect("refresh")
            .is_empty()
    );
    assert_eq!(p.clients.requests().total(), before);

    // Subscribe again (a create retried after a crash): the same subscription, not a second one.
    let again = p
        .create(&email.ctx(), &email_desired)
        .await
        .expect("subscribe again");
    assert_eq!(again.id, sub.id);

    // The recipient confirms (the emulator's token is the ARN's last part).
    let token = sub.id.rsplit(':').next().expect("uuid").to_owned();
    p.clients
        .sns(region)
        .confirm_subscription()
        .topic_arn(&topic.id)
        .token(token)
        .send()
        .await
        .expect("confirm");
    let before = p.clients.requests();
    let listed = p
        .refresh(Kind::SnsSubscription, region, &ids)
        .await
        .expect("refresh");
    assert_eq!(
        p.clients.requests().operation("ListSubscriptions") - before.operation("ListSubscriptions"),
        1
    );
    assert_eq!(listed.len(), 1);
    let confirmed = &listed[0];
    assert_eq!(confirmed.id, sub.id);
    assert!(!pending(confirmed));
    assert_no_op(Kind::SnsSubscription, &email_desired, confirmed);
    assert_eq!(
        p.read(&email.ctx(), &sub.id).await.expect("read").as_ref(),
        Some(confirmed),
        "the listing and the read agree"
    );
    // The endpoint forces a new subscription.
    assert!(
        regionctl::spec::schema::schema(Kind::SnsSubscription)
            .field("endpoint")
            .expect("field")
            .force_new
    );
    // Confirmed, it is unsubscribed and gone.
    p.delete_and_wait(&email.ctx(), confirmed, &email_desired)
        .await
        .expect("unsubscribe");
    assert!(p.read(&email.ctx(), &sub.id).await.expect("read").is_none());

    // An HTTPS subscription pending when deleted: SNS refuses to delete it and expires it
    // itself, so the delete asks nothing of SNS and returns at once.
    let hook = Res::new(&format!("{region}/sns_subscription.hook"));
    let hook_desired = attrs(json!({
        "topic_arn": topic.id,
        "protocol": "https",
        "endpoint": "https://hooks.example.com/sns",
    }));
    let hooked = p
        .create(&hook.ctx(), &hook_desired)
        .await
        .expect("subscribe https");
    assert!(pending(&hooked));
    let started = Instant::now();
    let before = p.clients.requests();
    p.delete_and_wait(&hook.ctx(), &hooked, &hook_desired)
        .await
        .expect("left to expire");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        p.clients.requests().operation("Unsubscribe"),
        before.operation("Unsubscribe"),
        "no Unsubscribe of a pending subscription"
    );
    assert!(
        p.read(&hook.ctx(), &hooked.id)
            .await
            .expect("read")
            .is_some()
    );

    // Endpoints that do not suit the protocol are refused before any call.
    let before = p.clients.requests().total();
    for (protocol, endpoint) in [
        ("email", "not-an-address"),
        ("https", "http://insecure.example.com"),
        ("http", "ftp://x.example.com"),
    ] {
        let bad = attrs(json!({"topic_arn": topic.id, "protocol": protocol, "endpoint": endpoint}));
        let err = p.create(&email.ctx(), &bad).await.expect_err("refused");
        assert!(
            matches!(err, ProviderError::Invalid { .. }),
            "{protocol} {endpoint}: {err}"
        );
    }
    assert_eq!(p.clients.requests().total(), before);
}
