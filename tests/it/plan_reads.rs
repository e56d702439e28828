//! What a full plan reads (issue 16): the resources its state records are read by their ids, so
//! a plan with nothing to create lists no cluster's add-ons or access entries and no region's
//! topics, subscriptions, OIDC providers or policies; a declaration the state does not record
//! (one a killed run may have made) is still searched for, and a recorded resource gone from
//! AWS is still seen as gone.

use std::collections::BTreeMap;

use crate::harness::{planned_changes, project_copy, regionctl_env};
use crate::support::emulator::Emulator;
use crate::support::{Res, attrs, platform, state};
use serde_json::json;

const CLUSTER: &str = "prod-euw1";
const COREDNS: &str = "eu-west-1/module.platform.eks_addon.coredns";
const EBS_CSI: &str = "eu-west-1/module.platform.eks_addon.ebs_csi";

/// The AWS requests of one `-vv` run, per operation, from its closing per-operation counts.
fn requests(stderr: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in stderr.lines().filter(|l| l.contains(" requests service=")) {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
        };
        if let (Some(op), Some(n)) = (field("operation="), field("n=")) {
            *out.entry(op).or_default() += n.parse::<u64>().unwrap_or(0);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_plan_reads_what_state_records_by_id_and_searches_only_for_the_rest() {
    let emu = Emulator::start();
    let dir = project_copy("plan_reads", "by_id");
    let (spec, graph) = platform::load(&dir);
    let provider = emu.provider("platform").await;
    let created = platform::create_all(&provider, &spec, &graph).await;
    state::record(&dir, &spec, &graph, &created).await;
    let plan = |args: &[&str]| {
        let mut all = vec!["-vv", "plan", "--all-regions"];
        all.extend_from_slice(args);
        regionctl_env(&dir, &all, &emu.env())
    };

    // Everything recorded, nothing changed: no listing of what can be read by id.
    let run = plan(&["--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let counts = requests(&run.stderr);
    assert!(
        counts.values().sum::<u64>() > 0,
        "the run reported its requests: {}",
        run.describe()
    );
    for listing in [
        "ListAddons",
        "ListAccessEntries",
        "ListTopics",
        "ListSubscriptions",
        "ListOpenIDConnectProviders",
        "ListPolicies",
        "ListKeys",
    ] {
        assert_eq!(counts.get(listing), None, "{listing}: {counts:?}");
    }
    let addons = spec
        .resources
        .values()
        .filter(|r| r.kind == regionctl::kind::Kind::EksAddon)
        .count();
    assert_eq!(
        counts.get("DescribeAddon").copied(),
        Some(addons as u64),
        "one DescribeAddon per recorded add-on: {counts:?}"
    );
    // Clusters and node groups, recorded, are described while the tag index is read, and once
    // each for every EKS kind that needs them.
    for (kind, describe) in [
        (regionctl::kind::Kind::EksCluster, "DescribeCluster"),
        (regionctl::kind::Kind::EksNodeGroup, "DescribeNodegroup"),
    ] {
        let n = spec.resources.values().filter(|r| r.kind == kind).count();
        assert_eq!(
            counts.get(describe).copied(),
            Some(n as u64),
            "one {describe} per recorded {kind:?}: {counts:?}"
        );
    }

    // A recorded add-on deleted behind regionctl's back is read as gone and made again.
    emu.boto3(&format!(
        "client('eks', 'eu-west-1').delete_addon(clusterName='{CLUSTER}', addonName='coredns')\n"
    ));
    let run = plan(&["--json"]);
    let changes = planned_changes(&run);
    assert_eq!(
        changes
            .iter()
            .map(|(a, actions, _)| (a.as_str(), actions.clone()))
            .collect::<Vec<_>>(),
        vec![(COREDNS, serde_json::json!(["create"]))],
        "{}",
        run.describe()
    );

    // An add-on the state lost (as after a run killed before it saved) is searched for on its
    // cluster, found by its identity tags and kept, not made twice: one ListAddons, for the one
    // cluster whose declaration the state does not record.
    let forgot = regionctl_env(&dir, &["state", "rm", EBS_CSI], &emu.env());
    assert_eq!(forgot.code, Some(0), "{}", forgot.describe());
    let run = plan(&["--json"]);
    let changes = planned_changes(&run);
    let ebs = changes.iter().find(|(a, _, _)| a == EBS_CSI);
    assert!(
        ebs.is_none_or(|(_, actions, _)| actions != &serde_json::json!(["create"])),
        "the lost add-on is found, not created again: {}",
        run.describe()
    );
    assert_eq!(
        requests(&run.stderr).get("ListAddons").copied(),
        Some(1),
        "{}",
        run.describe()
    );

    // A KMS key of this stack that neither the spec nor the state knows (a run killed before it
    // saved, whose declaration was then removed) is still seen, through the region's tag index,
    // though the region's keys are not listed: it is deleted, not left behind.
    let stray_key = Res::new("eu-west-1/kms_key.stray");
    let stray = provider
        .create_and_wait(
            &stray_key.ctx(),
            &attrs(json!({"description": "left behind"})),
        )
        .await
        .expect("create the stray key");
    // (A key's deletion needs consent, which is given here, so the plan can be made.)
    let run = plan(&["--json", "--allow-destroy", "eu-west-1/kms_key.stray"]);
    let deleted: Vec<String> = planned_changes(&run)
        .into_iter()
        .filter(|(_, actions, _)| actions == &json!(["delete"]))
        .map(|(a, _, _)| a)
        .collect();
    assert_eq!(deleted, ["eu-west-1/kms_key.stray"], "{}", run.describe());
    assert!(
        run.stdout.contains(&stray.id),
        "the plan names the stray key's id: {}",
        run.describe()
    );
    assert_eq!(
        requests(&run.stderr).get("ListKeys"),
        None,
        "{}",
        run.describe()
    );

    // The same for an SNS topic: the region's topics are not listed, the index shows it.
    let stray_topic = Res::new("eu-west-1/sns_topic.stray");
    provider
        .create_and_wait(&stray_topic.ctx(), &attrs(json!({"name": "stray-topic"})))
        .await
        .expect("create the stray topic");
    let run = plan(&[
        "--json",
        "--allow-destroy",
        "eu-west-1/kms_key.stray",
        "--allow-destroy",
        "eu-west-1/sns_topic.stray",
    ]);
    let deleted: Vec<String> = planned_changes(&run)
        .into_iter()
        .filter(|(_, actions, _)| actions == &json!(["delete"]))
        .map(|(a, _, _)| a)
        .collect();
    assert_eq!(
        deleted,
        ["eu-west-1/kms_key.stray", "eu-west-1/sns_topic.stray"],
        "{}",
        run.describe()
    );
    assert_eq!(
        requests(&run.stderr).get("ListTopics"),
        None,
        "{}",
        run.describe()
    );
}
