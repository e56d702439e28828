//! `cloudwatch_metric_alarm` against the emulator, through the real SDK, in two regions: an EKS
//! node CPU alarm notifying an SNS topic, read back as the same as the spec under the declared
//! comparison; refresh by name in one DescribeAlarms per 100 names; update in place (PutMetricAlarm
//! rewrites everything, tags by TagResource / UntagResource); actions disabled by someone else
//! kept while the spec has no opinion; adoption after a crash; someone else's alarm never
//! overwritten; invalid periods refused before any call; delete and delete again.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, ProviderError, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare_all};
use regionctl::spec::value::Value;
use serde_json::{Value as Json, json};

const KIND: Kind = Kind::CloudwatchMetricAlarm;

fn names(list: &[&str]) -> Hints {
    Hints {
        names: list
            .iter()
            .map(|n| (*n).to_owned())
            .collect::<BTreeSet<_>>(),
        ..Hints::default()
    }
}

fn assert_no_op(desired: &Attrs, live: &Observed) {
    let out = compare_all(KIND, desired, &live.attrs);
    assert!(
        out.values().all(|c| *c == AttrCmp::Same),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

fn topic(region: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:123456789012:{name}")
}

/// Node CPU above 75 % for 5 minutes, as the platform declares it.
fn node_cpu(region: &str, extra: Json) -> Attrs {
    let mut spec = json!({
        "name": "eks-node-cpu-high",
        "description": "EKS nodes above 75 % CPU for 5 minutes",
        "namespace": "AWS/EC2",
        "metric_name": "CPUUtilization",
        "dimensions": {"AutoScalingGroupName": "eks-general-1234"},
        "statistic": "Average",
        "period": 60,
        "evaluation_periods": 5,
        "threshold": 75,
        "comparison_operator": "GreaterThanThreshold",
        "alarm_actions": [topic(region, "b-alerts"), topic(region, "a-alerts")],
        "ok_actions": [topic(region, "a-alerts")],
        "tags": {"team": "platform"},
    });
    if let (Some(base), Json::Object(more)) = (spec.as_object_mut(), extra) {
        base.extend(more);
    }
    attrs(spec)
}

#[tokio::test(flavor = "multi_thread")]
async fn alarm_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    for region in ["eu-west-1", "us-west-2"] {
        let r = Res::new(&format!("{region}/cloudwatch_metric_alarm.node_cpu"));
        let ctx = r.ctx();
        let desired = node_cpu(region, json!({}));
        let alarm = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(alarm.status, Status::Ready);
        assert_eq!(alarm.id, "eks-node-cpu-high");
        assert_eq!(attr(&alarm.computed, "id"), "eks-node-cpu-high");
        assert!(
            attr(&alarm.computed, "arn").starts_with(&format!("arn:aws:cloudwatch:{region}:")),
            "{:?}",
            alarm.computed
        );
        assert_eq!(alarm.attrs.get("threshold"), Some(&Value::Float(75.0)));
        assert_eq!(
            attr(&alarm.attrs, "treat_missing_data"),
            "missing",
            "AWS default"
        );
        assert_eq!(alarm.attrs.get("actions_enabled"), Some(&Value::Bool(true)));
        assert_eq!(
            alarm.attrs.get("tags"),
            desired.get("tags"),
            "user tags only"
        );
        assert_eq!(alarm.stack_tag(), Some("tests"));
        assert_no_op(&desired, &alarm);
        assert_eq!(
            p.read(&ctx, "eks-node-cpu-high").await.expect("read"),
            Some(alarm.clone())
        );

        // Another stack's alarm the hints name, and one of this stack's no hint names: neither
        // is returned. One DescribeAlarms for the names, tags only of the alarms found.
        let foreign = Res::new(&format!("{region}/cloudwatch_metric_alarm.foreign"));
        other
            .create(
                &foreign.ctx(),
                &node_cpu(region, json!({"name": "foreign"})),
            )
            .await
            .expect("another stack's alarm");
        let unnamed = Res::new(&format!("{region}/cloudwatch_metric_alarm.unnamed"));
        p.create(
            &unnamed.ctx(),
            &node_cpu(region, json!({"name": "unnamed"})),
        )
        .await
        .expect("an alarm no hint names");
        let before = p.clients.requests();
        let hinted = names(&["eks-node-cpu-high", "foreign", "absent"]);
        let listed = p.refresh(KIND, region, &hinted).await.expect("refresh");
        assert_eq!(listed, vec![alarm.clone()]);
        let after = p.clients.requests();
        let delta = |op: &str| after.operation(op) - before.operation(op);
        assert_eq!(delta("DescribeAlarms"), 1);
        assert_eq!(delta("ListTagsForResource"), 2);
        // 150 names: two DescribeAlarms (100 names each at most), still tags only of those found.
        let mut many: Vec<String> = (0..148).map(|i| format!("absent-{i}")).collect();
        many.push("eks-node-cpu-high".into());
        many.push("unnamed".into());
        let many_refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let before = p.clients.requests();
        let listed = p
            .refresh(KIND, region, &names(&many_refs))
            .await
            .expect("refresh");
        assert_eq!(listed.len(), 2);
        let after = p.clients.requests();
        assert_eq!(
            after.operation("DescribeAlarms") - before.operation("DescribeAlarms"),
            2
        );
        assert_eq!(
            after.operation("ListTagsForResource") - before.operation("ListTagsForResource"),
            2
        );

        // Update in place: threshold, actions, description removed, missing data, tags.
        let changed = node_cpu(
            region,
            json!({
                "threshold": 80.5,
                "alarm_actions": [topic(region, "c-alerts")],
                "treat_missing_data": "notBreaching",
                "datapoints_to_alarm": 3,
                "tags": {"team": "sre", "env": "prod"},
            }),
        );
        let mut changed = changed;
        changed.remove("description");
        changed.remove("ok_actions");
        let updated = p
            .update_and_wait(&ctx, &alarm, &changed)
            .await
            .expect("update");
        assert_eq!(updated.attrs.get("threshold"), Some(&Value::Float(80.5)));
        assert_eq!(updated.attrs.get("description"), None);
        assert_eq!(updated.attrs.get("ok_actions"), None);
        assert_eq!(
            updated.attrs.get("datapoints_to_alarm"),
            Some(&Value::Int(3))
        );
        assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
        assert_eq!(updated.address_tag(), alarm.address_tag(), "identity kept");
        assert_eq!(
            updated.attrs.get("actions_enabled"),
            Some(&Value::Bool(true))
        );
        assert_no_op(&changed, &updated);

        // Someone disables the actions during an incident; an update of the threshold with no
        // opinion on actions_enabled keeps them disabled.
        let disabled_spec = {
            let mut d = changed.clone();
            d.insert("actions_enabled".into(), Value::Bool(false));
            d
        };
        let disabled = p
            .update_and_wait(&ctx, &updated, &disabled_spec)
            .await
            .expect("disable");
        assert_eq!(
            disabled.attrs.get("actions_enabled"),
            Some(&Value::Bool(false))
        );
        let mut threshold_only = changed.clone();
        threshold_only.insert("threshold".into(), Value::Int(90));
        let kept = p
            .update_and_wait(&ctx, &disabled, &threshold_only)
            .await
            .expect("update");
        assert_eq!(kept.attrs.get("actions_enabled"), Some(&Value::Bool(false)));
        assert_eq!(kept.attrs.get("threshold"), Some(&Value::Float(90.0)));
        assert_no_op(&threshold_only, &kept);

        p.delete_and_wait(&ctx, &kept, &threshold_only)
            .await
            .expect("delete");
        p.delete(&ctx, &kept, &threshold_only)
            .await
            .expect("delete twice");
        assert!(
            p.read(&ctx, "eks-node-cpu-high")
                .await
                .expect("read")
                .is_none()
        );
        assert!(
            p.refresh(KIND, region, &hinted)
                .await
                .expect("refresh")
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_made_before_a_crash_is_adopted_and_another_is_never_overwritten() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "us-east-1";
    // The primary's health check status, whose metric lives in us-east-1.
    let r = Res::new(&format!("{region}/cloudwatch_metric_alarm.primary_health"));
    let ctx = r.ctx();
    let desired = attrs(json!({
        "name": "primary-health",
        "namespace": "AWS/Route53",
        "metric_name": "HealthCheckStatus",
        "dimensions": {"HealthCheckId": "abcdef01-2345-6789-abcd-ef0123456789"},
        "statistic": "Minimum",
        "period": 60,
        "evaluation_periods": 2,
        "threshold": 1,
        "comparison_operator": "LessThanThreshold",
        "treat_missing_data": "breaching",
        "alarm_actions": [topic(region, "alerts")],
    }));
    let made = p.create(&ctx, &desired).await.expect("create");
    let found = p.find(&ctx, &desired).await.expect("find").expect("found");
    assert_eq!(found, made);
    assert_no_op(&desired, &found);
    let elsewhere = Res::new(&format!("{region}/cloudwatch_metric_alarm.other"));
    assert!(
        p.find(&elsewhere.ctx(), &desired)
            .await
            .expect("find")
            .is_none()
    );

    // A retried create carries on with its own alarm and brings it to the spec.
    let mut retried = desired.clone();
    retried.insert("evaluation_periods".into(), Value::Int(3));
    let adopted = p.create(&ctx, &retried).await.expect("retried create");
    assert_eq!(adopted.id, made.id);
    assert_eq!(
        adopted.attrs.get("evaluation_periods"),
        Some(&Value::Int(3))
    );
    assert_eq!(adopted.stack_tag(), Some("tests"));

    // Another stack's create of the name is refused: PutMetricAlarm would overwrite the alarm.
    let other = emu.provider("other").await;
    let err = other
        .create(&ctx, &desired)
        .await
        .expect_err("not overwritten");
    assert!(matches!(err, ProviderError::Invalid { .. }), "{err}");
    let still = p
        .read(&ctx, "primary-health")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(still.attrs.get("evaluation_periods"), Some(&Value::Int(3)));

    // Periods CloudWatch does not evaluate are refused before any call.
    let before = p.clients.requests().total();
    for (period, evaluations, datapoints) in [(45, 2, None), (60, 2000, None), (60, 2, Some(3))] {
        let mut bad = desired.clone();
        bad.insert("name".into(), Value::Str("bad".into()));
        bad.insert("period".into(), Value::Int(period));
        bad.insert("evaluation_periods".into(), Value::Int(evaluations));
        if let Some(m) = datapoints {
            bad.insert("datapoints_to_alarm".into(), Value::Int(m));
        }
        let bad_res = Res::new(&format!("{region}/cloudwatch_metric_alarm.bad"));
        let err = p.create(&bad_res.ctx(), &bad).await.expect_err("refused");
        assert!(
            matches!(err, ProviderError::Invalid { .. }),
            "{period}: {err}"
        );
    }
    assert_eq!(p.clients.requests().total(), before);
    p.delete(&ctx, &adopted, &retried).await.expect("delete");
}

/// Through the built binary: a topic, a pending email subscription and a node CPU alarm are
/// applied, then plan clean (the pending subscription read by its recorded ARN, the threshold
/// written as a whole number read back as 75.0), a changed threshold is one update in place, and
/// destroy leaves nothing of the stack but the subscription SNS expires itself.
#[test]
fn alarms_and_topics_plan_clean_after_apply_and_destroy() {
    use crate::harness::{fresh_dir, regionctl_env};
    let emu = Emulator::start();
    let dir = fresh_dir("alarms", "plan_clean");
    std::fs::write(
        dir.join("regionctl.yaml"),
        "project: alarms\nbackend:\n  local: {}\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("envs/eu-west-1")).expect("mkdir");
    let spec = |threshold: &str| {
        format!(
            "region: eu-west-1\nresources:\n  sns_topic.alerts:\n    name: alerts\n    \
             kms_master_key_id: alias/platform-sns\n  sns_subscription.oncall:\n    \
             topic_arn: \"${{sns_topic.alerts.arn}}\"\n    protocol: email\n    \
             endpoint: oncall@example.com\n  cloudwatch_metric_alarm.cpu:\n    name: node-cpu\n    \
             namespace: AWS/EC2\n    metric_name: CPUUtilization\n    dimensions: {{ AutoScalingGroupName: eks-nodes }}\n    \
             statistic: Average\n    period: 60\n    evaluation_periods: 5\n    \
             threshold: {threshold}\n    comparison_operator: GreaterThanThreshold\n    \
             alarm_actions: [\"${{sns_topic.alerts.arn}}\"]\noutputs:\n  topic: \"${{sns_topic.alerts.arn}}\"\n"
        )
    };
    std::fs::write(dir.join("envs/eu-west-1/main.yaml"), spec("75")).expect("write");
    let run = |args: &[&str]| regionctl_env(&dir, args, &emu.env());
    let applied = run(&["apply", "--all-regions", "--auto-approve"]);
    assert_eq!(applied.code, Some(0), "{}", applied.describe());
    let plan = run(&["plan", "--all-regions", "--detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "expected no changes: {}",
        plan.describe()
    );

    std::fs::write(dir.join("envs/eu-west-1/main.yaml"), spec("80.5")).expect("write");
    let plan = run(&["plan", "--all-regions", "--json", "--detailed-exitcode"]);
    assert_eq!(plan.code, Some(2), "{}", plan.describe());
    let doc: Json = serde_json::from_str(&plan.stdout).expect("JSON plan");
    let changed: Vec<(String, Json)> = doc["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["change"]["actions"] != json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_owned(),
                c["change"]["actions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [(
            "eu-west-1/cloudwatch_metric_alarm.cpu".to_owned(),
            json!(["update"])
        )],
        "{}",
        plan.stdout
    );
    let applied = run(&["apply", "--all-regions", "--auto-approve"]);
    assert_eq!(applied.code, Some(0), "{}", applied.describe());
    let plan = run(&["plan", "--all-regions", "--detailed-exitcode"]);
    assert_eq!(
        plan.code,
        Some(0),
        "expected no changes: {}",
        plan.describe()
    );

    let destroyed = run(&["destroy", "--all-regions", "--auto-approve"]);
    assert_eq!(destroyed.code, Some(0), "{}", destroyed.describe());
    let left = emu.boto3(
        "sns = client('sns', 'eu-west-1')\ncw = client('cloudwatch', 'eu-west-1')\n\
         print(len(sns.list_topics()['Topics']), len(cw.describe_alarms()['MetricAlarms']))\n",
    );
    assert_eq!(left.trim(), "0 0", "nothing left");
}
