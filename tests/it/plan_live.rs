//! `regionctl plan` end to end: the built binary, on a scratch copy of the repository's example
//! platform, against the AWS emulator (one per test). The platform is created through the
//! provider and its states recorded as an apply would have written them (there is no `apply`
//! yet); drift is made behind regionctl's back with boto3, the way a user with the AWS CLI would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value as J, json};

use crate::harness::{Run, project_copy, regionctl_env};
use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs, platform, state};
use regionctl::addr::InstanceAddr;
use regionctl::provider::Observed;
use regionctl::spec::Spec;
use regionctl::state::StateResource;

const STACK: &str = "platform";
const VPC: &str = "eu-west-1/module.platform.vpc.main";
const NODE_GROUP: &str = "eu-west-1/module.platform.eks_node_group.default";
const SUBNET: &str = "eu-west-1/module.platform.subnet.public[\"eu-west-1c\"]";
const ROUTE_TABLE: &str = "eu-west-1/module.platform.route_table.public";

// ---------------------------------------------------------------------------------------------
// Plumbing

fn plan(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    regionctl_env(dir, &all, &emu.env())
}

/// `regionctl plan --json <args>`: the run and its parsed output.
fn plan_json(dir: &Path, emu: &Emulator, args: &[&str]) -> (Run, J) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = plan(dir, emu, &all);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("plan --json printed no JSON ({e}):\n{}", run.describe()));
    (run, json)
}

/// `resource_changes` by address.
fn changes(plan: &J) -> BTreeMap<String, J> {
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes is an array")
        .iter()
        .map(|c| {
            (
                c["address"].as_str().expect("address").to_owned(),
                c.clone(),
            )
        })
        .collect()
}

/// `resource_drift` by address.
fn drift(plan: &J) -> BTreeMap<String, J> {
    plan["resource_drift"]
        .as_array()
        .expect("resource_drift is an array")
        .iter()
        .map(|c| {
            (
                c["address"].as_str().expect("address").to_owned(),
                c.clone(),
            )
        })
        .collect()
}

/// Addresses whose action is not a no-op, with their actions.
fn not_noop(plan: &J) -> BTreeMap<String, J> {
    changes(plan)
        .into_iter()
        .filter(|(_, c)| c["change"]["actions"] != json!(["no-op"]))
        .map(|(a, c)| (a, c["change"]["actions"].clone()))
        .collect()
}

/// The lines of one environment's section of the human plan (from its title to its summary).
fn section<'a>(human: &'a str, env: &str) -> Vec<&'a str> {
    let title = format!("{env} (");
    human
        .lines()
        .skip_while(|l| !l.starts_with(&title))
        .take_while(|l| !l.starts_with(&format!("{env}: ")))
        .collect()
}

/// A project whose whole platform exists in the emulator, with the states an apply would have
/// written.
struct Seeded {
    emu: Emulator,
    dir: PathBuf,
    spec: Spec,
    created: BTreeMap<InstanceAddr, Observed>,
}

impl Seeded {
    async fn new(name: &str) -> Seeded {
        let emu = Emulator::start();
        let dir = project_copy("plan", name);
        let (spec, graph) = platform::load(&dir);
        let provider = emu.provider(STACK).await;
        let created = platform::create_all(&provider, &spec, &graph).await;
        assert_eq!(created.len(), spec.resources.len());
        state::record(&dir, &spec, &graph, &created).await;
        Seeded {
            emu,
            dir,
            spec,
            created,
        }
    }

    fn observed(&self, addr: &str) -> &Observed {
        let addr: InstanceAddr = addr.parse().expect("a valid address");
        self.created
            .get(&addr)
            .unwrap_or_else(|| panic!("{addr} was not created"))
    }

    fn state_file(&self, env: &str) -> J {
        let path = self
            .dir
            .join(".regionctl/state")
            .join(format!("{env}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_str(&text).expect("a state file is JSON")
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn an_empty_account_plans_every_resource_as_a_create() {
    let emu = Emulator::start();
    let dir = project_copy("plan", "empty-account");
    let (spec, _) = platform::load(&dir);
    let graph = regionctl_env(&dir, &["graph", "--all-regions", "--format", "json"], &[]);
    assert_eq!(graph.code, Some(0), "{}", graph.describe());
    let graph: J = serde_json::from_str(&graph.stdout).expect("graph JSON");
    let nodes = graph["nodes"].as_array().expect("nodes").len();
    assert_eq!(nodes, spec.resources.len());
    assert_eq!(spec.resources.len(), 121, "the example platform's size");

    let human = plan(&dir, &emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(human.code, Some(2), "{}", human.describe());
    // 36 per module call, and us-east-1's registry (a repository and its replication).
    for (region, n) in [("us-east-1", 38), ("eu-west-1", 36), ("ap-southeast-1", 36)] {
        assert!(
            human.stdout.contains(&format!(
                "\n{region}: {n} to add, 0 to change, 0 to replace, 0 to destroy\n"
            )),
            "{region}: {}",
            human.describe()
        );
    }
    assert!(
        human.stdout.contains(
            "Plan: 121 to add, 0 to change, 0 to replace, 0 to destroy in 3 regions and global."
        ),
        "{}",
        human.describe()
    );
    // An id a create will make is not known until apply.
    let unknown = human
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("+ vpc_id:"))
        .filter(|l| l.trim_end().ends_with(" (known after apply)"))
        .count();
    // Per region: 6 subnets, the internet gateway, 2 route tables and 3 security groups.
    assert_eq!(
        unknown,
        12 * 3,
        "every VPC member's vpc_id: {}",
        human.describe()
    );
    assert!(
        !human.stdout.contains("Changed outside regionctl"),
        "{}",
        human.describe()
    );
    // Nothing was written: plan is read-only.
    assert!(!dir.join(".regionctl").exists());

    let (run, out) = plan_json(&dir, &emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    assert_eq!(out["format_version"], "1.2");
    assert_eq!(out["applyable"], true);
    let all = changes(&out);
    assert_eq!(
        all.len(),
        out["resource_changes"].as_array().map_or(0, Vec::len)
    );
    let spec_addrs: BTreeSet<String> = spec.resources.keys().map(ToString::to_string).collect();
    let planned: BTreeSet<String> = all.keys().cloned().collect();
    assert_eq!(planned, spec_addrs);
    for (addr, c) in &all {
        assert_eq!(c["change"]["actions"], json!(["create"]), "{addr}");
        assert_eq!(c["change"]["before"], J::Null, "{addr}");
        assert_eq!(c["reason"], "not_in_aws", "{addr}");
    }
    assert_eq!(out["resource_drift"], json!([]));
    assert_eq!(out["summary"]["total"]["create"], 121);
    let subnet = &all[SUBNET];
    assert_eq!(subnet["type"], "subnet");
    assert_eq!(subnet["region"], "eu-west-1");
    assert_eq!(subnet["change"]["after"]["cidr_block"], "10.20.32.0/20");
    assert_eq!(subnet["change"]["after_unknown"]["vpc_id"], true);
    assert!(subnet["change"]["after"].get("vpc_id").is_none());
    // The global IAM roles are known by name; the role ARN the cluster uses is not, until apply.
    let cluster = &all["eu-west-1/module.platform.eks_cluster.main"];
    assert_eq!(cluster["protect"], true);
    assert_eq!(cluster["change"]["after_unknown"]["role_arn"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_platform_with_its_state_plans_no_changes() {
    let s = Seeded::new("no-changes").await;

    let human = plan(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(human.code, Some(0), "{}", human.describe());
    assert!(
        human
            .stdout
            .contains("No changes. The platform matches the spec in 3 regions and global."),
        "{}",
        human.describe()
    );
    for (env, n) in [
        ("us-east-1", 38),
        ("eu-west-1", 36),
        ("ap-southeast-1", 36),
        ("global", 11),
    ] {
        let line = format!("\n{env}: no changes ({n} resources up to date)\n");
        assert!(human.stdout.contains(&line), "{env}: {}", human.describe());
    }
    assert!(
        !human.stdout.contains("Changed outside regionctl"),
        "{}",
        human.describe()
    );

    let (run, out) = plan_json(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert_eq!(not_noop(&out), BTreeMap::new(), "{}", run.stdout);
    assert_eq!(out["resource_drift"], json!([]), "{}", run.stdout);
    assert_eq!(out["applyable"], false);
    let all = changes(&out);
    assert_eq!(all.len(), s.spec.resources.len());
    // Every no-op carries the live id and the same values before and after.
    let vpc = &all[VPC];
    assert_eq!(vpc["id"], attr(&s.observed(VPC).computed, "id"));
    // Live shows what the spec sets, plus what AWS defaults (instance_tenancy) and the spec
    // leaves out.
    let after = vpc["change"]["after"].as_object().expect("after");
    assert_eq!(after.len(), 4, "{vpc}");
    for (name, value) in after {
        assert_eq!(&vpc["change"]["before"][name], value, "{name}");
    }
    assert_eq!(vpc["reason"], "unchanged");

    // Without --detailed-exitcode no changes and changes both exit 0.
    let plain = plan(&s.dir, &s.emu, &["--all-regions"]);
    assert_eq!(plain.code, Some(0), "{}", plain.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_and_a_node_group_size_changed_with_boto3_show_as_drift_and_repairs() {
    let s = Seeded::new("drift").await;
    let vpc_id = attr(&s.observed(VPC).computed, "id").to_owned();
    let ng = s.observed(NODE_GROUP);
    let cluster = attr(&ng.attrs, "cluster_name").to_owned();
    let group = attr(&ng.attrs, "name").to_owned();
    s.emu.boto3(&format!(
            "ec2 = client('ec2', 'eu-west-1')\n\
             ec2.create_tags(Resources=['{vpc_id}'], Tags=[{{'Key': 'Name', 'Value': 'hand-edited'}}])\n\
             eks = client('eks', 'eu-west-1')\n\
             eks.update_nodegroup_config(clusterName='{cluster}', nodegroupName='{group}',\n\
                 scalingConfig={{'minSize': 2, 'maxSize': 6, 'desiredSize': 5}})\n"
        ),
    );

    let human = plan(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(human.code, Some(2), "{}", human.describe());
    let eu = section(&human.stdout, "eu-west-1");
    let drift_start = eu
        .iter()
        .position(|l| l.trim() == "Changed outside regionctl:")
        .unwrap_or_else(|| panic!("no drift section in eu-west-1:\n{}", human.stdout));
    let changes_start = eu
        .iter()
        .position(|l| l.trim() == "Planned changes:")
        .unwrap_or_else(|| panic!("no planned changes in eu-west-1:\n{}", human.stdout));
    assert!(drift_start < changes_start, "{}", human.stdout);
    let drift_text = eu[drift_start..changes_start].join("\n");
    let changes_text = eu[changes_start..].join("\n");
    for needle in [
        format!("~ {VPC} ({vpc_id})"),
        "~ tags".to_owned(),
        "\"hand-edited\"".to_owned(),
        format!("~ {NODE_GROUP} ({cluster}/{group})"),
        "~ scaling".to_owned(),
        "~ desired: 3 → 5".to_owned(),
    ] {
        assert!(
            drift_text.contains(&needle),
            "drift section lacks {needle:?}:\n{drift_text}"
        );
    }
    for needle in [
        format!("~ {VPC} ({vpc_id}) will be updated in place"),
        format!("~ {NODE_GROUP} ({cluster}/{group}) will be updated in place"),
        "~ desired: 5 → 3".to_owned(),
    ] {
        assert!(
            changes_text.contains(&needle),
            "planned changes lack {needle:?}:\n{changes_text}"
        );
    }
    assert!(
        human.stdout.contains(
            "\neu-west-1: 0 to add, 2 to change, 0 to replace, 0 to destroy, 2 drifted\n"
        ),
        "{}",
        human.describe()
    );
    assert!(
        human
            .stdout
            .contains("\nus-east-1: no changes (38 resources up to date)\n"),
        "{}",
        human.describe()
    );

    let (run, out) = plan_json(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    let drifted = drift(&out);
    assert_eq!(
        drifted.keys().cloned().collect::<Vec<_>>(),
        [NODE_GROUP, VPC],
        "{}",
        run.stdout
    );
    let vpc = &drifted[VPC]["change"];
    assert_eq!(vpc["actions"], json!(["update"]));
    assert_eq!(vpc["before"]["tags"]["Name"], "prod-euw1");
    assert_eq!(vpc["after"]["tags"]["Name"], "hand-edited");
    assert_eq!(
        vpc["before"]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["tags"]),
        "only the tags drifted: {vpc}"
    );
    let ng_drift = &drifted[NODE_GROUP]["change"];
    assert_eq!(ng_drift["before"]["scaling"]["desired"], 3);
    assert_eq!(ng_drift["after"]["scaling"]["desired"], 5);
    assert_eq!(drifted[NODE_GROUP]["id"], format!("{cluster}/{group}"));

    assert_eq!(
        not_noop(&out),
        BTreeMap::from([
            (NODE_GROUP.to_owned(), json!(["update"])),
            (VPC.to_owned(), json!(["update"])),
        ])
    );
    let all = changes(&out);
    let vpc = &all[VPC]["change"];
    assert_eq!(vpc["before"]["tags"]["Name"], "hand-edited");
    assert_eq!(vpc["after"]["tags"]["Name"], "prod-euw1");
    assert_eq!(all[VPC]["reason"], "attributes_differ");
    let ng = &all[NODE_GROUP]["change"];
    assert_eq!(ng["before"]["scaling"]["desired"], 5);
    assert_eq!(
        ng["after"]["scaling"],
        json!({"min": 2, "desired": 3, "max": 6})
    );
    assert_eq!(out["summary"]["total"]["drifted"], 2);
    assert_eq!(out["summary"]["total"]["update"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subnet_deleted_with_boto3_is_drift_and_plans_a_create() {
    let s = Seeded::new("deleted-subnet").await;
    let subnet_id = attr(&s.observed(SUBNET).computed, "id").to_owned();
    // Nothing runs in this subnet: no NAT gateway (that is in eu-west-1a), no cluster, database
    // or cache (those use the private subnets); only the public route table is associated,
    // which does not keep AWS from deleting a subnet.
    for (addr, o) in &s.created {
        if addr.to_string() == ROUTE_TABLE {
            continue;
        }
        let text = format!("{:?}", o.attrs);
        assert!(!text.contains(&subnet_id), "{addr} uses the subnet: {text}");
    }
    let left = s.emu.boto3(&format!(
            "ec2 = client('ec2', 'eu-west-1')\n\
             ec2.delete_subnet(SubnetId='{subnet_id}')\n\
             left = ec2.describe_subnets(Filters=[{{'Name': 'subnet-id', 'Values': ['{subnet_id}']}}])\n\
             print(len(left['Subnets']))\n"
        ),
    );
    assert_eq!(left.trim(), "0", "the subnet is gone from the emulator");

    let human = plan(
        &s.dir,
        &s.emu,
        &["--region", "eu-west-1", "--detailed-exitcode"],
    );
    assert_eq!(human.code, Some(2), "{}", human.describe());
    assert!(
        human.stdout.contains(&format!(
            "- {SUBNET} (deleted outside regionctl, was {subnet_id})"
        )),
        "{}",
        human.describe()
    );
    assert!(
        human.stdout.contains(&format!(
            "+ {SUBNET} will be created (deleted outside regionctl)"
        )),
        "{}",
        human.describe()
    );

    let (run, out) = plan_json(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    let drifted = drift(&out);
    assert_eq!(drifted.keys().collect::<Vec<_>>(), [SUBNET]);
    assert_eq!(drifted[SUBNET]["change"]["actions"], json!(["delete"]));
    assert_eq!(drifted[SUBNET]["id"], subnet_id.as_str());
    let all = changes(&out);
    let subnet = &all[SUBNET];
    assert_eq!(subnet["change"]["actions"], json!(["create"]));
    assert_eq!(subnet["reason"], "deleted_outside");
    assert_eq!(subnet["change"]["after"]["cidr_block"], "10.20.32.0/20");
    // The VPC is still there, so the new subnet's VPC id is known now.
    assert_eq!(
        subnet["change"]["after"]["vpc_id"],
        attr(&s.observed(VPC).computed, "id")
    );
    // Its route table association has to be made again: the table's subnet list changes.
    assert_eq!(all[ROUTE_TABLE]["change"]["actions"], json!(["update"]));
    assert_eq!(
        all[ROUTE_TABLE]["change"]["after_unknown"]["subnet_ids"],
        json!([false, false, true]),
        "the new subnet's id (the third, eu-west-1c) is known after apply"
    );
    let others: BTreeMap<String, J> = not_noop(&out)
        .into_iter()
        .filter(|(a, _)| a != SUBNET && a != ROUTE_TABLE)
        .collect();
    assert_eq!(others, BTreeMap::new(), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_records_the_spec_hash_and_state_serials() {
    let s = Seeded::new("saved-plan").await;
    let human = plan(&s.dir, &s.emu, &["--all-regions", "--out", "plan.json"]);
    assert_eq!(human.code, Some(0), "{}", human.describe());
    let saved = s.dir.join("plan.json");
    assert!(
        human.stdout.contains("Saved the plan to ")
            && human
                .stdout
                .contains("plan.json. Apply exactly this plan with `regionctl apply "),
        "{}",
        human.describe()
    );
    let read = |path: &Path| -> J {
        let text = std::fs::read_to_string(path).expect("the plan file is written");
        serde_json::from_str(&text).expect("the plan file is JSON")
    };
    let first = read(&saved);
    assert_eq!(first["format_version"], 1);
    assert_eq!(first["stack"], STACK);
    let hash = first["spec_hash"].as_str().expect("spec_hash").to_owned();
    assert!(hash.len() >= 16, "{hash}");
    let envs = first["envs"].as_array().expect("envs");
    assert_eq!(
        envs.iter()
            .map(|e| e["env"].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["ap-southeast-1", "eu-west-1", "global", "us-east-1"]
    );
    for e in envs {
        let name = e["env"].as_str().expect("env");
        let on_disk = s.state_file(name);
        assert_eq!(e["prior_state"]["lineage"], on_disk["lineage"], "{name}");
        assert_eq!(e["prior_state"]["serial"], on_disk["serial"], "{name}");
        assert_eq!(e["prior_state"]["serial"], 1, "{name}: one write so far");
    }

    // Another state write moves the serial, which the next saved plan records.
    let extra = platform::resolved(&s.spec, &VPC.parse().expect("address"), &s.created);
    let serial = state::add(
        &s.dir,
        STACK,
        &VPC.parse().expect("address"),
        StateResource::applied(s.observed(VPC), extra, BTreeSet::new(), false),
    )
    .await;
    assert_eq!(serial, 2);

    // The same spec gives the same hash; changing a file changes it.
    let again = plan(
        &s.dir,
        &s.emu,
        &["--all-regions", "--json", "--out", "again.json"],
    );
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert!(
        !again.stdout.contains("Saved the plan"),
        "JSON output stays pure JSON"
    );
    let again = read(&s.dir.join("again.json"));
    assert_eq!(again["spec_hash"], hash.as_str());
    let eu = |p: &J| -> J {
        p["envs"]
            .as_array()
            .and_then(|e| e.iter().find(|e| e["env"] == "eu-west-1"))
            .map(|e| e["prior_state"].clone())
            .expect("eu-west-1 is planned")
    };
    assert_eq!(eu(&again)["serial"], 2);
    assert_eq!(eu(&again)["lineage"], eu(&first)["lineage"]);

    let main = s.dir.join("envs/eu-west-1/main.yaml");
    let text = std::fs::read_to_string(&main).expect("read main.yaml");
    let edited = text.replace(
        "kubernetes_version: \"1.31\"",
        "kubernetes_version: \"1.31\"\n      node_desired: 4",
    );
    assert_ne!(edited, text, "the edit applies to {}", main.display());
    std::fs::write(&main, edited).expect("write main.yaml");
    let changed = plan(
        &s.dir,
        &s.emu,
        &[
            "--all-regions",
            "--detailed-exitcode",
            "--out",
            "changed.json",
        ],
    );
    assert_eq!(changed.code, Some(2), "{}", changed.describe());
    let changed = read(&s.dir.join("changed.json"));
    assert_ne!(changed["spec_hash"], hash.as_str());
    let ng = changed["envs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
        .find(|c| c["addr"] == NODE_GROUP)
        .expect("the node group is in the saved plan");
    assert_eq!(ng["action"], "update");
    assert_eq!(ng["changed"], json!(["scaling"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn target_and_region_limit_the_plan_and_a_tagged_orphan_is_deleted() {
    let emu = Emulator::start();
    let dir = project_copy("plan", "target-region-orphan");
    // A VPC an interrupted apply left behind: tagged with this stack and an address of
    // eu-west-1 that is in neither the spec nor a state.
    let provider = emu.provider(STACK).await;
    let stray = Res::new("eu-west-1/vpc.stray");
    let orphan = provider
        .create_and_wait(&stray.ctx(), &attrs(json!({"cidr_block": "10.99.0.0/16"})))
        .await
        .expect("create the stray VPC");

    let (run, out) = plan_json(
        &dir,
        &emu,
        &["--region", "eu-west-1", "--detailed-exitcode"],
    );
    assert_eq!(run.code, Some(2), "{}", run.describe());
    let all = changes(&out);
    assert_eq!(all.len(), 37, "36 creates and the orphan: {}", run.stdout);
    assert!(
        all.values().all(|c| c["env"] == "eu-west-1"),
        "{}",
        run.stdout
    );
    let envs: Vec<&J> = out["summary"]["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| &e["env"])
        .collect();
    assert_eq!(envs, [&json!("eu-west-1")]);
    let o = &all["eu-west-1/vpc.stray"];
    assert_eq!(o["change"]["actions"], json!(["delete"]));
    assert_eq!(o["reason"], "orphan");
    assert_eq!(o["id"], orphan.id.as_str());
    assert_eq!(o["action_reason"], "delete_because_no_resource_config");
    assert_eq!(o["change"]["before"]["cidr_block"], "10.99.0.0/16");
    assert_eq!(out["summary"]["total"]["create"], 36);
    assert_eq!(out["summary"]["total"]["delete"], 1);

    let human = plan(&dir, &emu, &["--region", "eu-west-1"]);
    assert_eq!(human.code, Some(0), "{}", human.describe());
    assert!(
        human.stdout.contains(&format!(
            "- eu-west-1/vpc.stray ({}) will be destroyed (orphan: tagged with this stack but in \
             neither spec nor state)",
            orphan.id
        )),
        "{}",
        human.describe()
    );
    assert!(!human.stdout.contains("us-east-1"), "{}", human.describe());

    // An environment directory selects the same as its region.
    let (run, by_path) = plan_json(&dir, &emu, &["envs/eu-west-1"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert_eq!(
        changes(&by_path).keys().collect::<Vec<_>>(),
        all.keys().collect::<Vec<_>>()
    );

    // A target and what it depends on, nothing else (not even the orphan).
    let target = "eu-west-1/module.platform.subnet.private[\"eu-west-1b\"]";
    let (run, out) = plan_json(&dir, &emu, &["--target", target, "--detailed-exitcode"]);
    assert_eq!(run.code, Some(2), "{}", run.describe());
    assert_eq!(
        changes(&out).keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([target.to_owned(), VPC.to_owned()]),
        "{}",
        run.stdout
    );
    assert_eq!(out["targets"], json!([target]));

    // A target with its dependencies across regions: the node group needs the global roles.
    let (run, out) = plan_json(&dir, &emu, &["--all-regions", "--target", NODE_GROUP]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let planned = changes(&out);
    for needed in [
        NODE_GROUP,
        "eu-west-1/module.platform.eks_cluster.main",
        "global/iam_role.eks_node",
        "global/iam_role.eks_cluster",
        VPC,
    ] {
        assert!(planned.contains_key(needed), "{needed}: {}", run.stdout);
    }
    assert!(
        !planned.contains_key("eu-west-1/module.platform.rds_instance.app"),
        "{}",
        run.stdout
    );
    assert!(
        planned
            .keys()
            .all(|a| a.starts_with("eu-west-1/") || a.starts_with("global/")),
        "{}",
        run.stdout
    );

    // Mistakes are errors that say what is wrong.
    let run = plan(&dir, &emu, &["--region", "mars-north-1"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr
            .contains("no environment is in region \"mars-north-1\""),
        "{}",
        run.describe()
    );
    let run = plan(&dir, &emu, &["--region", "us-east-1", "--target", VPC]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr
            .contains("environment \"eu-west-1\" is not selected"),
        "{}",
        run.describe()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destroying_a_cluster_that_left_the_spec_is_refused_unless_allowed() {
    let s = Seeded::new("refused-destroy").await;
    // A second cluster that an earlier version of the spec had: still in AWS and in state.
    let legacy_addr = "eu-west-1/eks_cluster.legacy";
    let legacy = Res::new(legacy_addr);
    let main = s.observed("eu-west-1/module.platform.eks_cluster.main");
    let provider = s.emu.provider(STACK).await;
    let mut desired = platform::resolved(
        &s.spec,
        &"eu-west-1/module.platform.eks_cluster.main"
            .parse()
            .expect("address"),
        &s.created,
    );
    desired.insert(
        "name".to_owned(),
        regionctl::spec::value::Value::Str("prod-euw1-legacy".to_owned()),
    );
    let observed = provider
        .create_and_wait(&legacy.ctx(), &desired)
        .await
        .expect("create the legacy cluster");
    assert_ne!(observed.id, main.id);
    let serial = state::add(
        &s.dir,
        STACK,
        &legacy.addr,
        StateResource::applied(&observed, desired, BTreeSet::new(), false),
    )
    .await;
    assert_eq!(serial, 2);

    let refused = plan(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(refused.code, Some(1), "{}", refused.describe());
    let fix = format!("--allow-destroy {legacy_addr}");
    assert!(
        refused
            .stderr
            .contains(&format!("refusing to destroy {legacy_addr}")),
        "{}",
        refused.describe()
    );
    assert!(refused.stderr.contains(&fix), "{}", refused.describe());
    assert!(
        refused.stderr.contains("the plan has 1 refused change"),
        "{}",
        refused.describe()
    );
    assert!(
        refused.stdout.contains(&format!(
            "- {legacy_addr} ({}) will be destroyed (removed from the spec)",
            observed.id
        )),
        "{}",
        refused.describe()
    );
    assert!(
        refused.stdout.contains("refused:"),
        "{}",
        refused.describe()
    );

    let (run, out) = plan_json(&s.dir, &s.emu, &["--all-regions", "--detailed-exitcode"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert_eq!(out["applyable"], false);
    let refusals = out["refusals"].as_array().expect("refusals");
    assert_eq!(refusals.len(), 1, "{}", run.stdout);
    assert_eq!(refusals[0]["address"], legacy_addr);
    assert_eq!(refusals[0]["actions"], json!(["delete"]));

    // Allowing another address does not help; allowing this one does.
    let other = plan(
        &s.dir,
        &s.emu,
        &[
            "--all-regions",
            "--allow-destroy",
            "eu-west-1/module.platform.eks_cluster.main",
        ],
    );
    assert_eq!(other.code, Some(1), "{}", other.describe());
    let (run, out) = plan_json(
        &s.dir,
        &s.emu,
        &[
            "--all-regions",
            "--detailed-exitcode",
            "--allow-destroy",
            legacy_addr,
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.describe());
    assert_eq!(out["refusals"], json!([]));
    assert_eq!(out["applyable"], true);
    assert_eq!(
        not_noop(&out),
        BTreeMap::from([(legacy_addr.to_owned(), json!(["delete"]))]),
        "{}",
        run.stdout
    );
    let c = &changes(&out)[legacy_addr];
    assert_eq!(c["reason"], "removed_from_spec");
    assert_eq!(c["id"], observed.id.as_str());
    assert!(c.get("refusal").is_none(), "{c}");
}
