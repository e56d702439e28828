//! `plan --refresh changed` (issue 16): reads from AWS only what the spec's changes touch and
//! trusts the state for the rest, says so in the plan, and so does not see drift outside the
//! changes, which a full plan does.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value as J, json};

use crate::harness::{project_copy, regionctl_env};
use crate::support::emulator::Emulator;
use crate::support::{attr, platform, state};
use regionctl::addr::InstanceAddr;

const VPC: &str = "eu-west-1/module.platform.vpc.main";
const NODE_GROUP: &str = "eu-west-1/module.platform.eks_node_group.default";

fn plan_json(dir: &Path, emu: &Emulator, refresh: &str) -> J {
    let run = regionctl_env(
        dir,
        &["plan", "--all-regions", "--json", "--refresh", refresh],
        &emu.env(),
    );
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("plan --json printed no JSON ({e}):\n{}", run.describe()))
}

/// Addresses whose action is not a no-op, with their actions.
fn not_noop(plan: &J) -> BTreeMap<String, J> {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .filter(|c| c["change"]["actions"] != json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().expect("address").to_owned(),
                c["change"]["actions"].clone(),
            )
        })
        .collect()
}

fn not_refreshed(plan: &J) -> Vec<String> {
    plan["not_refreshed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_only_plan_reads_what_changes_and_says_what_it_trusted() {
    let emu = Emulator::start();
    let dir = project_copy("plan_changed", "scope");
    let (spec, graph) = platform::load(&dir);
    let provider = emu.provider("platform").await;
    let created = platform::create_all(&provider, &spec, &graph).await;
    state::record(&dir, &spec, &graph, &created).await;
    let total = spec.resources.len();

    // Nothing changed: nothing to read, and the plan says it read nothing.
    let plan = plan_json(&dir, &emu, "changed");
    assert_eq!(not_noop(&plan), BTreeMap::new());
    assert_eq!(not_refreshed(&plan).len(), total);
    let human = regionctl_env(
        &dir,
        &["plan", "--all-regions", "--refresh", "changed"],
        &emu.env(),
    );
    assert!(
        human
            .stdout
            .contains(&format!("Not read from AWS: {total} of {total} resources")),
        "{}",
        human.describe()
    );

    // Drift behind regionctl's back is not seen by a changed-only plan, but by a full one.
    let vpc: InstanceAddr = VPC.parse().expect("address");
    let vpc_id = attr(&created[&vpc].computed, "id").to_owned();
    emu.boto3(&format!(
        "client('ec2', 'eu-west-1').create_tags(Resources=['{vpc_id}'], \
         Tags=[{{'Key': 'Name', 'Value': 'hand-edited'}}])\n"
    ));
    assert_eq!(not_noop(&plan_json(&dir, &emu, "changed")), BTreeMap::new());
    let full = plan_json(&dir, &emu, "full");
    assert_eq!(
        not_noop(&full).get(VPC),
        Some(&json!(["update"])),
        "a full plan repairs the drift"
    );
    assert!(
        full.get("not_refreshed").is_none(),
        "a full plan reads everything"
    );

    // One resource edited: it is read (and its dependencies and dependents), the rest trusted.
    let file = dir.join("envs/eu-west-1/main.yaml");
    let text = std::fs::read_to_string(&file).expect("read the environment");
    let edited = text.replacen(
        "      name: prod-euw1\n",
        "      name: prod-euw1\n      node_desired: 4\n",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(&file, edited).expect("write the environment");
    let plan = plan_json(&dir, &emu, "changed");
    assert_eq!(
        not_noop(&plan),
        BTreeMap::from([(NODE_GROUP.to_owned(), json!(["update"]))]),
        "only the edited node group changes; the VPC's drift is outside the scope"
    );
    let trusted = not_refreshed(&plan);
    assert!(
        !trusted.contains(&NODE_GROUP.to_owned()),
        "the edited resource is read"
    );
    assert!(
        !trusted
            .iter()
            .any(|a| a.contains("eks_cluster.main") && a.starts_with("eu-west-1")),
        "what it depends on is read"
    );
    assert!(trusted.contains(&VPC.to_owned()), "the rest is trusted");
    assert!(trusted.len() < total);

    // Applying the saved changed-only plan re-reads what it changes (not the drifted VPC, which
    // would make a full re-plan differ and refuse the plan) and changes just that.
    let saved = regionctl_env(
        &dir,
        &[
            "plan",
            "--all-regions",
            "--refresh",
            "changed",
            "--out",
            "changed.plan",
        ],
        &emu.env(),
    );
    assert_eq!(saved.code, Some(0), "{}", saved.describe());
    let applied = regionctl_env(
        &dir,
        &["apply", "changed.plan", "--auto-approve"],
        &emu.env(),
    );
    assert_eq!(applied.code, Some(0), "{}", applied.describe());
    let after = plan_json(&dir, &emu, "full");
    assert_eq!(
        not_noop(&after),
        BTreeMap::from([(VPC.to_owned(), json!(["update"]))]),
        "the node group was updated; only the VPC's drift is left for a full plan"
    );
}

/// A resource the state records as pending (a change to it failed or was abandoned, or it was
/// recorded while AWS still reported it `creating`) is read by a changed-only plan even though
/// the spec did not change it, so what AWS made of it shows; the others stay trusted.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_only_plan_reads_what_the_state_records_as_pending() {
    let emu = Emulator::start();
    let dir = project_copy("plan_changed", "pending");
    let (spec, graph) = platform::load(&dir);
    let provider = emu.provider("platform").await;
    let created = platform::create_all(&provider, &spec, &graph).await;
    state::record(&dir, &spec, &graph, &created).await;

    // Drift on the VPC, which the spec does not change: trusted, so not seen.
    let vpc: InstanceAddr = VPC.parse().expect("address");
    let vpc_id = attr(&created[&vpc].computed, "id").to_owned();
    emu.boto3(&format!(
        "client('ec2', 'eu-west-1').create_tags(Resources=['{vpc_id}'], \
         Tags=[{{'Key': 'Name', 'Value': 'half-done'}}])\n"
    ));
    assert_eq!(not_noop(&plan_json(&dir, &emu, "changed")), BTreeMap::new());

    // The state records the VPC as pending (as an interrupted apply leaves it): now it is read.
    let backend = state::backend(&dir);
    let mut session = backend
        .lock(&spec.project.name, "eu-west-1", "test")
        .await
        .expect("lock");
    session
        .state
        .resources
        .get_mut(&vpc)
        .expect("the VPC is recorded")
        .pending = Some("modifying".to_owned());
    session.save().await.expect("save");
    session.unlock().await.expect("unlock");
    let plan = plan_json(&dir, &emu, "changed");
    assert_eq!(
        not_noop(&plan),
        BTreeMap::from([(VPC.to_owned(), json!(["update"]))]),
        "the pending VPC is read, and its drift shows"
    );
    let trusted = not_refreshed(&plan);
    assert!(!trusted.contains(&VPC.to_owned()), "{trusted:?}");
    assert!(
        trusted.len() < spec.resources.len() && !trusted.is_empty(),
        "the VPC and what depends on it are read, the rest trusted: {trusted:?}"
    );
}
