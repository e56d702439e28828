//! `regionctl apply` when things go wrong or take long: killed with SIGKILL at several points,
//! interrupted with Ctrl-C (once, and twice), waiting for slow resources while other work goes
//! on, and the DR example's failover switch. The built binary runs against the AWS emulator
//! (one per test); what exists is checked by listing the emulator with boto3, never by trusting
//! regionctl's own account of it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value as J, json};

use crate::harness::{Run, copy_tree, fresh_dir, project_copy, regionctl_env, repo_root};
use crate::support::emulator::Emulator;
use crate::support::inventory::ADDED_KINDS_PY;

const ALL: &[&str] = &["--all-regions", "--auto-approve"];
const PLATFORM_REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-1"];
const PLATFORM_ENVS: &[&str] = &["ap-southeast-1", "eu-west-1", "global", "us-east-1"];
/// Resources of the repository's platform: 36 per region, us-east-1's registry (2) and 11
/// global.
const PLATFORM_RESOURCES: usize = 121;
const DR_REGIONS: &[&str] = &["us-east-1", "us-west-2"];
/// Resources of the DR example: 12 in us-east-1, 10 in us-west-2, 9 global.
const DR_RESOURCES: usize = 31;
/// How long any single read of a running apply may block before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// Running regionctl

/// A scratch copy of one example of examples/.
fn example(example: &str, name: &str) -> PathBuf {
    let dir = fresh_dir("resilience", name);
    copy_tree(&repo_root().join("examples").join(example), &dir);
    dir
}

fn run(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    regionctl_env(dir, args, &emu.env())
}

fn apply(dir: &Path, emu: &Emulator, args: &[&str]) -> Run {
    let mut all = vec!["apply"];
    all.extend_from_slice(args);
    run(dir, emu, &all)
}

fn assert_no_changes(dir: &Path, emu: &Emulator) {
    let p = run(dir, emu, &["plan", "--all-regions", "--detailed-exitcode"]);
    assert_eq!(p.code, Some(0), "expected no changes: {}", p.describe());
    assert!(p.stdout.contains("No changes."), "{}", p.describe());
}

/// `plan --all-regions --json`, parsed: address -> the change object.
fn plan_json(dir: &Path, emu: &Emulator) -> BTreeMap<String, J> {
    let p = run(
        dir,
        emu,
        &["plan", "--all-regions", "--json", "--detailed-exitcode"],
    );
    assert!(matches!(p.code, Some(0 | 2)), "{}", p.describe());
    let plan: J = serde_json::from_str(&p.stdout)
        .unwrap_or_else(|e| panic!("plan --json printed no JSON ({e}):\n{}", p.describe()));
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

/// The addresses a plan proposes to change, with their actions (no-ops left out).
fn planned_changes(dir: &Path, emu: &Emulator) -> BTreeMap<String, J> {
    plan_json(dir, emu)
        .into_iter()
        .filter(|(_, c)| c["change"]["actions"] != json!(["no-op"]))
        .map(|(a, c)| (a, c["change"]["actions"].clone()))
        .collect()
}

/// Replaces exactly one occurrence of `from` in a file of the project.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read a spec file of the copy");
    assert_eq!(
        text.matches(from).count(),
        1,
        "{file} must hold {from:?} exactly once"
    );
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write a spec file of the copy");
}

/// A `regionctl` process whose stdout is read line by line while it runs, so the test can act
/// (kill, interrupt) at a precise point of its event stream.
struct Live {
    child: Child,
    pid: u32,
    lines: mpsc::Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    /// Every stdout line so far, in order.
    seen: Vec<String>,
    /// The JSON events among them (with `--json`, all of them).
    events: Vec<J>,
    eof: bool,
}

impl Live {
    fn spawn(dir: &Path, emu: &Emulator, args: &[&str]) -> Live {
        let mut command = Command::new(crate::harness::bin());
        command
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("RUST_LOG")
            .env_remove("CLICOLOR_FORCE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars() {
            if key.starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command.envs(emu.env());
        let mut child = command.spawn().expect("start regionctl");
        let pid = child.id();
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut err = child.stderr.take().expect("stderr is piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Live {
            child,
            pid,
            lines,
            stderr: Some(stderr),
            seen: Vec::new(),
            events: Vec::new(),
            eof: false,
        }
    }

    /// The next stdout line, or `None` at the end of the stream. Panics if nothing comes for
    /// [`PATIENCE`].
    fn next_line(&mut self) -> Option<String> {
        if self.eof {
            return None;
        }
        match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => {
                if let Ok(event) = serde_json::from_str::<J>(&line) {
                    self.events.push(event);
                }
                self.seen.push(line.clone());
                Some(line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.eof = true;
                None
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // A hung regionctl must not outlive the test; its stderr says where it stopped.
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self
                    .stderr
                    .take()
                    .map(|h| h.join().unwrap_or_default())
                    .unwrap_or_default();
                panic!(
                    "regionctl (pid {}) printed nothing for {PATIENCE:?}; so far:\n{}\n\
                     --- stderr ---\n{stderr}",
                    self.pid,
                    self.seen.join("\n")
                )
            }
        }
    }

    /// Reads events until one satisfies `pred` and returns it; panics if the stream ends first.
    fn until(&mut self, what: &str, pred: impl Fn(&J) -> bool) -> J {
        loop {
            let Some(line) = self.next_line() else {
                let status = self.child.wait().map(|s| s.code());
                panic!(
                    "the apply ended ({status:?}) before {what}; its output:\n{}\nstderr:\n{}",
                    self.seen.join("\n"),
                    self.stderr
                        .take()
                        .map(|h| h.join().unwrap_or_default())
                        .unwrap_or_default()
                );
            };
            if let Ok(event) = serde_json::from_str::<J>(&line)
                && pred(&event)
            {
                return event;
            }
        }
    }

    fn count(&self, kind: &str) -> usize {
        self.events.iter().filter(|e| e["event"] == kind).count()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap.
    fn kill(mut self) -> u32 {
        self.child.kill().expect("SIGKILL regionctl");
        self.child.wait().expect("reap the killed regionctl");
        self.pid
    }

    /// Ctrl-C, as a terminal would send it.
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.pid.to_string()])
            .status()
            .expect("run kill -INT");
        assert!(status.success(), "kill -INT {} failed", self.pid);
    }

    /// Reads the rest of the output and waits for the exit, within `limit`.
    fn finish(mut self, limit: Duration) -> Finished {
        let started = Instant::now();
        while self.next_line().is_some() {
            assert!(
                started.elapsed() < limit,
                "regionctl still printing after {limit:?}:\n{}",
                self.seen.join("\n")
            );
        }
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("poll regionctl") {
                break status.code();
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "regionctl (pid {}) did not exit within {limit:?} after its output ended",
                    self.pid
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let took = started.elapsed();
        let stderr = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        Finished {
            code,
            took,
            stdout: self.seen.join("\n"),
            events: self.events,
            stderr,
        }
    }
}

struct Finished {
    code: Option<i32>,
    /// From the call to `finish` to the exit.
    took: Duration,
    stdout: String,
    events: Vec<J>,
    stderr: String,
}

impl Finished {
    fn describe(&self) -> String {
        format!(
            "exit code {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

// ---------------------------------------------------------------------------------------------
// State on disk

fn state_dir(dir: &Path) -> PathBuf {
    dir.join(".regionctl/state")
}

/// What the state directory holds: every `<env>.json` parsed (a half-written one fails the
/// test), every `<env>.lock` parsed, and any other file name.
struct Disk {
    states: BTreeMap<String, J>,
    locks: BTreeMap<String, J>,
    others: Vec<String>,
}

fn disk(dir: &Path) -> Disk {
    let mut out = Disk {
        states: BTreeMap::new(),
        locks: BTreeMap::new(),
        others: Vec::new(),
    };
    let Ok(entries) = std::fs::read_dir(state_dir(dir)) else {
        return out;
    };
    for entry in entries {
        let entry = entry.expect("read the state directory");
        let name = entry.file_name().to_string_lossy().into_owned();
        let text = || std::fs::read_to_string(entry.path()).expect("read a state file");
        if let Some(env) = name.strip_suffix(".json") {
            let state: J = serde_json::from_str(&text())
                .unwrap_or_else(|e| panic!("{name} is not valid JSON (half-written?): {e}"));
            assert!(
                state["resources"].is_object() && state["serial"].is_u64(),
                "{name} is not a state: {state}"
            );
            assert_eq!(state["env"], env, "{name} names another environment");
            out.states.insert(env.to_owned(), state);
        } else if let Some(env) = name.strip_suffix(".lock") {
            let lock: J = serde_json::from_str(&text())
                .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
            out.locks.insert(env.to_owned(), lock);
        } else {
            out.others.push(name);
        }
    }
    out
}

/// Every recorded resource: address -> (kind, id).
fn recorded(dir: &Path) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for state in disk(dir).states.values() {
        for (addr, r) in state["resources"].as_object().expect("resources") {
            out.insert(
                addr.clone(),
                (
                    r["kind"].as_str().expect("kind").to_owned(),
                    r["id"].as_str().expect("id").to_owned(),
                ),
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// What exists in the emulator

/// Everything of the stack in the emulator, listed kind by kind.
#[derive(Debug)]
struct Inventory {
    /// `regionctl:address` tag -> "<kind> <id>" of every resource carrying it (a NAT gateway's
    /// Elastic IP carries the gateway's address).
    tagged: BTreeMap<String, Vec<String>>,
    /// Non-default resources without any stack tag: a create that lost its tags, or a stray.
    /// (Another stack's resources, tagged with its name, are left out.)
    untagged: Vec<String>,
    /// Route 53 records (not taggable) as `zone/name/type[/set]` -> how many.
    records: BTreeMap<String, u64>,
    /// The other kinds without tags (KMS aliases, SNS subscriptions, ECR replication
    /// configurations): kind -> "<region> <id>" of each (see [`unkeyed_id`]).
    unkeyed: BTreeMap<String, Vec<String>>,
}

/// How a resource of a kind without tags is compared between the emulator and the state:
/// "<region> <id>", except that an SNS subscription is compared by its topic's ARN, since SNS
/// lists a subscription pending confirmation without its own.
fn unkeyed_id(kind: &str, region: &str, id: &str) -> String {
    let id = if kind == "sns_subscription" {
        id.rsplit_once(':').map_or(id, |(topic, _)| topic)
    } else {
        id
    };
    format!("{region} {id}")
}

/// The kinds without tags besides Route 53 records.
const UNKEYED_KINDS: &[&str] = &[
    "kms_alias",
    "sns_subscription",
    "ecr_replication_configuration",
];

fn inventory(emu: &Emulator, stack: &str, regions: &[&str]) -> Inventory {
    let script = format!(
        r#"
STACK = {stack:?}
REGIONS = {regions:?}
tagged = {{}}
untagged = []
def tagmap(tags):
    return {{t['Key']: t['Value'] for t in (tags or [])}}
def add(kind, region, tags, rid):
    stack = tags.get('regionctl:stack')
    if stack == STACK:
        tagged.setdefault(tags.get('regionctl:address', '<no address tag>'), []).append(kind + ' ' + rid)
    elif stack is None:
        untagged.append('%s %s %s %s' % (region, kind, rid, tags))
for r in REGIONS:
    ec2 = client('ec2', r)
    for v in ec2.describe_vpcs()['Vpcs']:
        if not v.get('IsDefault'): add('vpc', r, tagmap(v.get('Tags')), v['VpcId'])
    for v in ec2.describe_subnets()['Subnets']:
        if not v.get('DefaultForAz'): add('subnet', r, tagmap(v.get('Tags')), v['SubnetId'])
    for v in ec2.describe_security_groups()['SecurityGroups']:
        if v['GroupName'] != 'default': add('security_group', r, tagmap(v.get('Tags')), v['GroupId'])
    for v in ec2.describe_route_tables()['RouteTables']:
        if not any(a.get('Main') for a in v.get('Associations', [])):
            add('route_table', r, tagmap(v.get('Tags')), v['RouteTableId'])
    for v in ec2.describe_internet_gateways()['InternetGateways']:
        add('internet_gateway', r, tagmap(v.get('Tags')), v['InternetGatewayId'])
    for v in ec2.describe_addresses()['Addresses']:
        add('elastic_ip', r, tagmap(v.get('Tags')), v['AllocationId'])
    for v in ec2.describe_nat_gateways()['NatGateways']:
        if v['State'] not in ('deleted', 'deleting'):
            add('nat_gateway', r, tagmap(v.get('Tags')), v['NatGatewayId'])
    eks = client('eks', r)
    for c in eks.list_clusters()['clusters']:
        add('eks_cluster', r, eks.describe_cluster(name=c)['cluster'].get('tags') or {{}}, c)
        for n in eks.list_nodegroups(clusterName=c)['nodegroups']:
            ng = eks.describe_nodegroup(clusterName=c, nodegroupName=n)['nodegroup']
            add('eks_node_group', r, ng.get('tags') or {{}}, c + '/' + n)
    rds = client('rds', r)
    for d in rds.describe_db_instances()['DBInstances']:
        tags = rds.list_tags_for_resource(ResourceName=d['DBInstanceArn'])['TagList']
        add('rds_instance', r, tagmap(tags), d['DBInstanceIdentifier'])
    for d in rds.describe_db_subnet_groups()['DBSubnetGroups']:
        tags = rds.list_tags_for_resource(ResourceName=d['DBSubnetGroupArn'])['TagList']
        add('db_subnet_group', r, tagmap(tags), d['DBSubnetGroupName'])
    ec = client('elasticache', r)
    for g in ec.describe_replication_groups()['ReplicationGroups']:
        tags = ec.list_tags_for_resource(ResourceName=g['ARN'])['TagList']
        add('elasticache_replication_group', r, tagmap(tags), g['ReplicationGroupId'])
    for g in ec.describe_cache_subnet_groups()['CacheSubnetGroups']:
        if g['CacheSubnetGroupName'] != 'default':
            tags = ec.list_tags_for_resource(ResourceName=g['ARN'])['TagList']
            add('cache_subnet_group', r, tagmap(tags), g['CacheSubnetGroupName'])
iam = client('iam', 'us-east-1')
for x in iam.list_roles()['Roles']:
    if not x['Path'].startswith('/aws-service-role/'):
        add('iam_role', 'global', tagmap(iam.list_role_tags(RoleName=x['RoleName'])['Tags']), x['RoleName'])
r53 = client('route53', 'us-east-1')
records = {{}}
for z in r53.list_hosted_zones()['HostedZones']:
    zid = z['Id'].split('/')[-1]
    tags = r53.list_tags_for_resource(ResourceType='hostedzone', ResourceId=zid)['ResourceTagSet']['Tags']
    add('route53_zone', 'global', tagmap(tags), zid)
    if tagmap(tags).get('regionctl:stack', STACK) != STACK:
        continue
    for s in r53.list_resource_record_sets(HostedZoneId=zid)['ResourceRecordSets']:
        if s['Type'] in ('NS', 'SOA'):
            continue
        key = '/'.join([zid, s['Name'].rstrip('.').lower(), s['Type']] + ([s['SetIdentifier']] if 'SetIdentifier' in s else []))
        records[key] = records.get(key, 0) + 1
for h in r53.list_health_checks()['HealthChecks']:
    tags = r53.list_tags_for_resource(ResourceType='healthcheck', ResourceId=h['Id'])['ResourceTagSet']['Tags']
    add('route53_health_check', 'global', tagmap(tags), h['Id'])
unkeyed_found = {{}}
def unkeyed(kind, region, key, ident, owner):
    if owner not in (None, STACK):
        return
    if kind == 'sns_subscription' and ident.count(':') == 6:
        ident = ident.rsplit(':', 1)[0]     # compared by topic: a pending one is listed without its ARN
    unkeyed_found.setdefault(kind, []).append(region + ' ' + ident)
list_added_kinds(add, unkeyed, REGIONS)
print(json.dumps({{'tagged': tagged, 'untagged': untagged, 'records': records, 'unkeyed': unkeyed_found}}))
"#
    );
    let script = format!("{ADDED_KINDS_PY}\n{script}");
    let out: J = serde_json::from_str(&emu.boto3(&script)).expect("the inventory prints JSON");
    Inventory {
        tagged: serde_json::from_value(out["tagged"].clone()).expect("tagged"),
        untagged: serde_json::from_value(out["untagged"].clone()).expect("untagged"),
        records: serde_json::from_value(out["records"].clone()).expect("records"),
        unkeyed: serde_json::from_value(out["unkeyed"].clone()).expect("unkeyed"),
    }
}

/// The emulator holds exactly one of each resource of the spec, no stray, and the state and the
/// emulator agree in both directions (every recorded id exists under its address, every tagged
/// resource is recorded with its id).
fn assert_exactly_one_of_each(dir: &Path, emu: &Emulator, stack: &str, regions: &[&str], n: usize) {
    let inv = inventory(emu, stack, regions);
    let state = recorded(dir);
    let untagged: Vec<String> = inv
        .untagged
        .iter()
        .map(|u| {
            let known = state
                .iter()
                .find(|(_, (_, id))| u.split(' ').nth(2) == Some(id.as_str()))
                .map_or("not in state (an orphan)".to_owned(), |(a, _)| {
                    format!("recorded as {a}")
                });
            format!("{u}: {known}")
        })
        .collect();
    assert!(
        untagged.is_empty(),
        "resources without the stack's tags (lost tags or duplicates): {untagged:#?}"
    );
    for (addr, items) in &inv.tagged {
        let main: Vec<&String> = items
            .iter()
            .filter(|i| !i.starts_with("elastic_ip "))
            .collect();
        let eips = items.len() - main.len();
        assert_eq!(
            main.len(),
            1,
            "{addr} exists {} times: {items:?}",
            main.len()
        );
        let is_nat = main[0].starts_with("nat_gateway ");
        assert_eq!(
            eips,
            usize::from(is_nat),
            "{addr}: Elastic IPs carrying its address: {items:?}"
        );
        let (kind, id) = state.get(addr).unwrap_or_else(|| {
            panic!("{addr} exists in the emulator ({items:?}) but not in state")
        });
        assert_eq!(
            main[0],
            &format!("{kind} {id}"),
            "{addr}: state and emulator disagree"
        );
    }
    let mut records_in_state = BTreeSet::new();
    let mut unkeyed_in_state: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (addr, (kind, id)) in &state {
        if kind == "route53_record" {
            records_in_state.insert(id.to_lowercase());
        } else if UNKEYED_KINDS.contains(&kind.as_str()) {
            let region = addr.split('/').next().unwrap_or("");
            unkeyed_in_state
                .entry(kind.clone())
                .or_default()
                .push(unkeyed_id(kind, region, id));
        } else {
            assert!(
                inv.tagged.contains_key(addr),
                "state records {addr} ({kind} {id}), the emulator has no such resource"
            );
        }
    }
    for (record, count) in &inv.records {
        assert_eq!(*count, 1, "record {record} exists {count} times");
    }
    let records_in_aws: BTreeSet<String> = inv.records.keys().map(|k| k.to_lowercase()).collect();
    assert_eq!(
        records_in_aws, records_in_state,
        "Route 53 records: the emulator's vs the state's"
    );
    // Exactly one of each (a duplicate shows twice), and the same ones in both.
    let sorted = |m: &BTreeMap<String, Vec<String>>| -> BTreeMap<String, Vec<String>> {
        m.iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                v.sort();
                (k.clone(), v)
            })
            .collect()
    };
    assert_eq!(
        sorted(&inv.unkeyed),
        sorted(&unkeyed_in_state),
        "KMS aliases, SNS subscriptions, ECR replication: the emulator's vs the state's"
    );
    assert_eq!(state.len(), n, "recorded resources: {:#?}", state.keys());
}

/// Waits (bounded) until `check` (a boto3 expression printing True or False) holds.
fn wait_in_emulator(emu: &Emulator, what: &str, check: &str) {
    let script = format!(
        "import time\n\
         deadline = time.time() + 30\n\
         while not ({check}):\n    \
             if time.time() > deadline:\n        \
                 raise SystemExit('never: {what}')\n    \
             time.sleep(0.02)\n\
         print('ok')"
    );
    assert_eq!(emu.boto3(&script).trim(), "ok", "{what}");
}

// ---------------------------------------------------------------------------------------------
// After a kill -9

/// What must hold after a SIGKILL: states parse, locks are left naming the dead run, and a plan
/// adopts everything the dead run created instead of creating it again. (The next apply takes
/// the locks over without a `force-unlock`: see [`assert_took_over`].)
fn recover_from_kill(dir: &Path, emu: &Emulator, pid: u32, stage: &str) {
    let on_disk = disk(dir);
    for other in &on_disk.others {
        assert!(
            other.contains(".tmp-"),
            "{stage}: unexpected file {other} in the state directory"
        );
    }
    assert_eq!(
        on_disk.locks.keys().map(String::as_str).collect::<Vec<_>>(),
        PLATFORM_ENVS,
        "{stage}: a killed run leaves every lock it took"
    );
    for (env, lock) in &on_disk.locks {
        assert_eq!(
            lock["pid"],
            json!(pid),
            "{stage}: the lock of {env}: {lock}"
        );
        assert_eq!(lock["operation"], "apply", "{stage}: {lock}");
    }

    // A stray temp file (what a kill in the middle of a state write leaves) is never read.
    std::fs::write(
        state_dir(dir).join(format!("us-east-1.json.tmp-{pid}-999")),
        "{\"format_version\": 1, \"resources\": {\"trunc",
    )
    .expect("plant a torn temp file");
    // No force-unlock: the next apply takes the dead run's locks over by itself (checked by
    // the caller on that run's output).

    // Nothing is duplicated yet, and a plan adopts whatever the dead run made but never
    // recorded, instead of creating it again.
    // Resources whose create call takes no tags (Route 53 zones and health checks, tagged by a
    // second call) may be untagged here; the final check requires them tagged and adopted.
    let inv = inventory(emu, "platform", PLATFORM_REGIONS);
    if !inv.untagged.is_empty() {
        eprintln!("{stage}: untagged after the kill: {:#?}", inv.untagged);
    }
    let state = recorded(dir);
    // A plan takes no lock: it runs while the dead run's locks are still there. It runs with
    // the tagging index lagging, as AWS's may just after the dead run tagged what it made: the
    // RDS and ElastiCache groups it made are then found through their own tags.
    emu.set_tagging_lag(true);
    let plan = plan_json(dir, emu);
    emu.set_tagging_lag(false);
    for (addr, items) in &inv.tagged {
        let main = items
            .iter()
            .filter(|i| !i.starts_with("elastic_ip "))
            .count();
        assert!(main <= 1, "{stage}: {addr} exists {main} times: {items:?}");
        if main == 0 {
            // Only a NAT gateway's Elastic IP, allocated just before the kill.
            continue;
        }
        let change = plan
            .get(addr)
            .unwrap_or_else(|| panic!("{stage}: {addr} exists but the plan does not mention it"));
        let actions = &change["change"]["actions"];
        assert!(
            !actions
                .as_array()
                .expect("actions")
                .contains(&json!("create")),
            "{stage}: {addr} exists in AWS ({items:?}) yet the plan creates it: {change}"
        );
        if !state.contains_key(addr) {
            assert!(
                change["change"]["importing"]["id"].is_string(),
                "{stage}: {addr} exists but is not recorded; the plan must adopt it: {change}"
            );
        }
    }
}

/// The run after a kill took every environment's lock over from the killed process, saying
/// who held it, since when and why, and nobody ran `force-unlock`.
fn assert_took_over(stderr: &str, pid: u32, context: &str) {
    for env in PLATFORM_ENVS {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("took over the lock of {env} from ")))
            .unwrap_or_else(|| panic!("no takeover of {env}'s lock reported: {context}"));
        for part in [
            format!("(pid {pid} on "),
            "running `".to_owned(),
            "` since ".to_owned(),
            format!("its process {pid} no longer runs on this host"),
        ] {
            assert!(line.contains(&part), "{part:?} missing from {line:?}");
        }
    }
    assert!(!stderr.contains("force-unlock"), "{context}");
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn kill_9_at_any_point_loses_nothing_and_duplicates_nothing() {
    let emu = Emulator::start();
    let dir = project_copy("resilience", "kill-9");
    // Slow enough that clusters, node groups and databases are in flight when the kills land.
    emu.set_delay("eks_cluster", 120);
    emu.set_delay("eks_node_group", 60);
    emu.set_delay("rds_instance", 40);
    let json_apply = ["apply", "--all-regions", "--auto-approve", "--json"];

    // (a) Just after the first few state writes.
    let mut live = Live::spawn(&dir, &emu, &json_apply);
    for _ in 0..3 {
        live.until("a state_saved event", |e| e["event"] == "state_saved");
    }
    let pid = live.kill();
    assert!(
        !recorded(&dir).is_empty(),
        "three state_saved events were seen, the state must hold something"
    );
    recover_from_kill(&dir, &emu, pid, "after 3 state writes");

    // (b) Half-way: half of what is left has finished.
    let before = recorded(&dir).len();
    let half = (PLATFORM_RESOURCES - before) / 2;
    let mut live = Live::spawn(&dir, &emu, &json_apply);
    while live.count("finished") < half {
        live.until("half of the resources", |e| e["event"] == "finished");
    }
    let pid = live.kill();
    let middle = recorded(&dir).len();
    assert!(
        middle >= before + half,
        "{half} finished events, but the state grew from {before} to {middle}"
    );
    assert!(middle < PLATFORM_RESOURCES, "killed too late: all recorded");
    recover_from_kill(&dir, &emu, pid, "half-way");

    // (c) While a slow resource is being created: AWS has it, the state does not yet.
    let mut live = Live::spawn(&dir, &emu, &json_apply);
    let slow = live.until("a cluster or node group being created", |e| {
        e["event"] == "started"
            && e["action"] == "create"
            && e["addr"]
                .as_str()
                .is_some_and(|a| a.contains(".eks_cluster.") || a.contains(".eks_node_group."))
    });
    let addr = slow["addr"].as_str().expect("addr").to_owned();
    let region = slow["region"].as_str().expect("region").to_owned();
    let name = match region.as_str() {
        "us-east-1" => "prod-use1",
        "eu-west-1" => "prod-euw1",
        _ => "prod-apse1",
    };
    let check = if addr.contains(".eks_cluster.") {
        format!("{name:?} in client('eks', {region:?}).list_clusters()['clusters']")
    } else {
        format!(
            "'{name}-default' in client('eks', {region:?}).list_nodegroups(clusterName={name:?})\
             ['nodegroups']"
        )
    };
    wait_in_emulator(&emu, &format!("{addr} created"), &check);
    let pid = live.kill();
    assert!(
        !recorded(&dir).contains_key(&addr),
        "{addr} was recorded before the kill: the kill did not land while it was in flight"
    );
    recover_from_kill(&dir, &emu, pid, &format!("while {addr} was being created"));

    // The last apply completes: every in-flight leftover adopted (and waited for), nothing twice.
    let last = apply(&dir, &emu, ALL);
    assert_eq!(last.code, Some(0), "{}", last.describe());
    assert_took_over(&last.stderr, pid, &last.describe());
    assert!(
        last.stdout.contains(&format!("{addr}: adopting...")),
        "the resource created by the killed run is adopted: {}",
        last.describe()
    );
    assert!(
        !last.stdout.contains(&format!("{addr}: creating...")),
        "{}",
        last.describe()
    );
    let on_disk = disk(&dir);
    assert!(on_disk.locks.is_empty(), "{:?}", on_disk.locks);
    assert_eq!(
        on_disk
            .states
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        PLATFORM_ENVS
    );
    assert_exactly_one_of_each(&dir, &emu, "platform", PLATFORM_REGIONS, PLATFORM_RESOURCES);
    assert_no_changes(&dir, &emu);
}

/// Delays that keep clusters, databases and caches in flight for a while.
fn slow_platform(emu: &Emulator, cluster: u32) {
    emu.set_delay("eks_cluster", cluster);
    emu.set_delay("eks_node_group", 30);
    emu.set_delay("rds_instance", 60);
    emu.set_delay("elasticache_replication_group", 60);
    emu.set_delay("nat_gateway", 30);
}

/// After an interrupted apply: no lock left, states parse, and every resource the run reported
/// finished is recorded.
fn assert_clean_stop(dir: &Path, done: &Finished) {
    let on_disk = disk(dir);
    assert!(
        on_disk.locks.is_empty(),
        "an interrupted apply leaves its locks: {:?}\n{}",
        on_disk.locks,
        done.describe()
    );
    assert!(
        on_disk.others.is_empty(),
        "left in the state directory: {:?}",
        on_disk.others
    );
    let state = recorded(dir);
    for e in done.events.iter().filter(|e| e["event"] == "finished") {
        let addr = e["addr"].as_str().expect("addr");
        assert_eq!(
            state.get(addr).map(|(_, id)| id.as_str()),
            e["id"].as_str(),
            "{addr} finished but the state does not hold it"
        );
    }
}

#[test]
fn ctrl_c_lets_in_flight_calls_finish_saves_state_and_releases_the_lock() {
    let emu = Emulator::start();
    let dir = project_copy("resilience", "ctrl-c");
    slow_platform(&emu, 100);

    let mut live = Live::spawn(
        &dir,
        &emu,
        &["apply", "--all-regions", "--auto-approve", "--json"],
    );
    let cluster = live.until("a cluster starting", |e| {
        e["event"] == "started"
            && e["addr"]
                .as_str()
                .is_some_and(|a| a.contains(".eks_cluster."))
    });
    let cluster = cluster["addr"].as_str().expect("addr").to_owned();
    live.interrupt();
    let done = live.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(1), "{}", done.describe());

    let events = &done.events;
    let stopping = events
        .iter()
        .position(|e| e["event"] == "stopping")
        .unwrap_or_else(|| panic!("no stopping event: {}", done.describe()));
    assert!(
        !events[stopping..].iter().any(|e| e["event"] == "started"),
        "a change started after the interrupt: {}",
        done.describe()
    );
    // In flight at the interrupt means: finished afterwards, or (waiting for AWS) abandoned
    // with its create call answered, for the next run to adopt. Never dropped silently.
    let started: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["event"] == "started")
        .filter_map(|e| e["addr"].as_str())
        .collect();
    let abandoned = |e: &J| {
        e["event"] == "skipped"
            && e["because"]
                .as_str()
                .is_some_and(|b| b.starts_with("interrupted while waiting"))
    };
    let ended: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["event"] == "finished" || e["event"] == "failed" || abandoned(e))
        .filter_map(|e| e["addr"].as_str())
        .collect();
    assert_eq!(
        started,
        ended,
        "every started change ends: {}",
        done.describe()
    );
    assert!(
        events[stopping..]
            .iter()
            .any(|e| e["addr"] == cluster.as_str() && (e["event"] == "finished" || abandoned(e))),
        "{cluster} was in flight at the interrupt: it finishes or its wait is abandoned: {}",
        done.describe()
    );
    assert!(
        events.iter().all(|e| e["event"] != "failed"),
        "{}",
        done.describe()
    );
    let summary = events.last().expect("some output");
    assert_eq!(summary["event"], "summary", "{}", done.describe());
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["interrupted"], true);
    let applied = summary["applied"].as_array().expect("applied").len();
    let skipped = summary["skipped"].as_array().expect("skipped").len();
    assert!(
        skipped > 0,
        "the interrupt came early; something must be left"
    );
    assert_eq!(applied + skipped, PLATFORM_RESOURCES, "{summary}");
    assert_clean_stop(&dir, &done);
    assert_eq!(recorded(&dir).len(), applied);

    // The lock is free: a plan runs and shows what is left; an apply finishes the job.
    let p = run(
        &dir,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    assert_eq!(p.code, Some(2), "{}", p.describe());
    assert!(!p.stderr.contains("locked"), "{}", p.describe());
    let again = apply(&dir, &emu, ALL);
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert!(
        again
            .stdout
            .contains(&format!("\nApply complete: {skipped} changes in ")),
        "{}",
        again.describe()
    );
    assert_exactly_one_of_each(&dir, &emu, "platform", PLATFORM_REGIONS, PLATFORM_RESOURCES);
    assert_no_changes(&dir, &emu);
}

#[test]
fn a_second_ctrl_c_abandons_in_flight_changes_and_still_saves_and_unlocks() {
    let emu = Emulator::start();
    let dir = project_copy("resilience", "ctrl-c-twice");
    // A cluster that takes far longer to become ready than the test lets the process live.
    slow_platform(&emu, 250);

    let mut live = Live::spawn(
        &dir,
        &emu,
        &["apply", "--all-regions", "--auto-approve", "--json"],
    );
    let cluster = live.until("a cluster starting", |e| {
        e["event"] == "started"
            && e["addr"]
                .as_str()
                .is_some_and(|a| a.contains(".eks_cluster."))
    });
    let cluster = cluster["addr"].as_str().expect("addr").to_owned();
    let region = cluster.split('/').next().expect("env").to_owned();
    let name = match region.as_str() {
        "us-east-1" => "prod-use1",
        "eu-west-1" => "prod-euw1",
        _ => "prod-apse1",
    };
    // Interrupt only once AWS has the cluster, so abandoning it leaves a real orphan to adopt.
    wait_in_emulator(
        &emu,
        &format!("{cluster} created"),
        &format!("{name:?} in client('eks', {region:?}).list_clusters()['clusters']"),
    );
    live.interrupt();
    live.until("the stopping event", |e| e["event"] == "stopping");
    live.interrupt();
    let done = live.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(1), "{}", done.describe());
    assert!(
        done.took < Duration::from_secs(5),
        "a second Ctrl-C abandons what is in flight instead of waiting for it: {}",
        done.describe()
    );
    assert!(
        !done
            .events
            .iter()
            .any(|e| e["event"] == "finished" && e["addr"] == cluster.as_str()),
        "{cluster} cannot have finished within the test's time: {}",
        done.describe()
    );
    let summary = done.events.last().expect("some output");
    assert_eq!(summary["event"], "summary", "{}", done.describe());
    assert_eq!(summary["interrupted"], true);
    assert_clean_stop(&dir, &done);
    assert!(!recorded(&dir).contains_key(&cluster));

    let p = run(&dir, &emu, &["plan", "--all-regions", "--json"]);
    assert_eq!(p.code, Some(0), "{}", p.describe());
    let again = apply(&dir, &emu, ALL);
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert!(
        again.stdout.contains(&format!("{cluster}: adopting...")),
        "the abandoned cluster is adopted, not created again: {}",
        again.describe()
    );
    assert_exactly_one_of_each(&dir, &emu, "platform", PLATFORM_REGIONS, PLATFORM_RESOURCES);
    assert_no_changes(&dir, &emu);
}

/// Position of the first event matching `kind` and `addr`.
fn at(events: &[J], kind: &str, addr: &str) -> usize {
    events
        .iter()
        .position(|e| e["event"] == kind && e["addr"] == addr)
        .unwrap_or_else(|| panic!("no {kind} event for {addr}"))
}

/// The AWS status words a resource still being created reports.
fn shows_pending(step: &str) -> bool {
    let s = step.to_lowercase();
    s.contains("creating") || s.contains("pending")
}

#[test]
fn apply_waits_for_slow_resources_while_independent_work_goes_on() {
    let emu = Emulator::start();
    let dir = project_copy("resilience", "waiting");
    emu.set_delay("eks_cluster", 60);
    emu.set_delay("eks_node_group", 20);
    emu.set_delay("rds_instance", 20);
    emu.set_delay("elasticache_replication_group", 20);
    emu.set_delay("nat_gateway", 20);

    let first = apply(&dir, &emu, &["--all-regions", "--auto-approve", "--json"]);
    assert_eq!(first.code, Some(0), "{}", first.describe());
    let events: Vec<J> = first
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect();
    let delayed = [
        "module.platform.eks_cluster.main",
        "module.platform.eks_node_group.default",
        "module.platform.rds_instance.app",
        "module.platform.elasticache_replication_group.app",
        "module.platform.nat_gateway.main",
    ];

    // (a) Each slow resource reports its pending status while it is waited for.
    for region in PLATFORM_REGIONS {
        for local in delayed {
            let addr = format!("{region}/{local}");
            let (s, f) = (
                at(&events, "started", &addr),
                at(&events, "finished", &addr),
            );
            // A `waiting` event carries the AWS status of the latest poll; a `step` may say it
            // in words.
            let progress: Vec<&J> = events[s..f]
                .iter()
                .filter(|e| e["addr"] == addr.as_str())
                .filter(|e| e["event"] == "waiting" || e["event"] == "step")
                .collect();
            assert!(
                progress.iter().any(|e| {
                    e["status"]
                        .as_str()
                        .or_else(|| e["step"].as_str())
                        .is_some_and(shows_pending)
                }),
                "{addr}: no progress event showing a pending status between its start and \
                 finish (steps seen: {progress:?})"
            );
        }
    }

    // (b) While a cluster is being waited for, unrelated work in its region starts and ends.
    let state = disk(&dir).states;
    let deps = |addr: &str| -> BTreeSet<String> {
        let env = addr.split('/').next().expect("env");
        state[env]["resources"][addr]["deps"]
            .as_array()
            .unwrap_or_else(|| panic!("{addr} has no deps in state"))
            .iter()
            .map(|d| d.as_str().expect("dep").to_owned())
            .collect()
    };
    for region in PLATFORM_REGIONS {
        let cluster = format!("{region}/module.platform.eks_cluster.main");
        let (s, f) = (
            at(&events, "started", &cluster),
            at(&events, "finished", &cluster),
        );
        let meanwhile: Vec<&str> = events[s..f]
            .iter()
            .filter(|e| e["event"] == "finished")
            .filter_map(|e| e["addr"].as_str())
            .filter(|a| a.starts_with(&format!("{region}/")))
            .filter(|a| at(&events, "started", a) > s)
            .filter(|a| !deps(a).contains(&cluster))
            .collect();
        assert!(
            !meanwhile.is_empty(),
            "nothing else in {region} started and finished while {cluster} was pending"
        );
    }

    // (c) Nothing starts before everything it depends on (within this apply) has finished.
    let finished_at: BTreeMap<&str, usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["event"] == "finished")
        .map(|(i, e)| (e["addr"].as_str().expect("addr"), i))
        .collect();
    assert_eq!(finished_at.len(), PLATFORM_RESOURCES);
    for (i, e) in events.iter().enumerate() {
        if e["event"] != "started" {
            continue;
        }
        let addr = e["addr"].as_str().expect("addr");
        for dep in deps(addr) {
            let done = finished_at
                .get(dep.as_str())
                .unwrap_or_else(|| panic!("{addr} depends on {dep}, which never finished"));
            assert!(
                *done < i,
                "{addr} started before its dependency {dep} finished"
            );
        }
    }
    for region in PLATFORM_REGIONS {
        let cluster = format!("{region}/module.platform.eks_cluster.main");
        let nodes = format!("{region}/module.platform.eks_node_group.default");
        assert!(at(&events, "finished", &cluster) < at(&events, "started", &nodes));
    }
    assert_exactly_one_of_each(&dir, &emu, "platform", PLATFORM_REGIONS, PLATFORM_RESOURCES);

    // Without a terminal and without --json: one plain line per event, the waits included. The
    // DR example (another stack in the same emulator) adds a replica that waits for its source
    // in another region.
    let dr = example("active-passive-dr", "waiting-dr");
    let plain = apply(&dr, &emu, ALL);
    assert_eq!(plain.code, Some(0), "{}", plain.describe());
    let lines: Vec<&str> = plain.stdout.lines().collect();
    let line = |text: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(text))
            .unwrap_or_else(|| panic!("no line {text:?}: {}", plain.describe()))
    };
    for addr in [
        "us-east-1/rds_instance.app",
        "us-west-2/rds_instance.app_replica",
    ] {
        let (s, f) = (
            line(&format!("{addr}: creating...")),
            line(&format!("{addr}: created (")),
        );
        let progress: Vec<&&str> = lines[s + 1..f]
            .iter()
            .filter(|l| l.starts_with(&format!("{addr}: ")))
            .collect();
        assert!(
            progress.iter().any(|l| shows_pending(l)),
            "{addr}: no in-progress line between its start and finish: {}",
            plain.describe()
        );
    }
    assert!(
        line("us-east-1/rds_instance.app: created (")
            < line("us-west-2/rds_instance.app_replica: creating..."),
        "the replica starts only once its source is ready: {}",
        plain.describe()
    );
    assert_exactly_one_of_each(&dr, &emu, "dr", DR_REGIONS, DR_RESOURCES);
}

/// The failover records of the DR example as Route 53 holds them: set id -> (role, health check).
fn failover_records(emu: &Emulator) -> BTreeMap<String, (String, String)> {
    let out = emu.boto3(
        "r53 = client('route53', 'us-east-1')\n\
         zone = [z['Id'] for z in r53.list_hosted_zones()['HostedZones'] \
         if z['Name'] == 'dr.example.com.'][0]\n\
         sets = r53.list_resource_record_sets(HostedZoneId=zone)['ResourceRecordSets']\n\
         print(json.dumps({s['SetIdentifier']: [s.get('Failover'), s.get('HealthCheckId')] \
         for s in sets if s['Name'] == 'app.dr.example.com.'}))",
    );
    serde_json::from_str(&out).expect("JSON")
}

/// Health check id by its Name tag.
fn health_checks(emu: &Emulator) -> BTreeMap<String, String> {
    let out = emu.boto3(
        "r53 = client('route53', 'us-east-1')\n\
         out = {}\n\
         for h in r53.list_health_checks()['HealthChecks']:\n    \
             tags = r53.list_tags_for_resource(ResourceType='healthcheck', \
             ResourceId=h['Id'])['ResourceTagSet']['Tags']\n    \
             out[[t['Value'] for t in tags if t['Key'] == 'Name'][0]] = h['Id']\n\
         print(json.dumps(out))",
    );
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn the_dr_example_fails_over_as_the_runbook_says() {
    let emu = Emulator::start();
    let dir = example("active-passive-dr", "failover");
    let first = apply(&dir, &emu, ALL);
    assert_eq!(first.code, Some(0), "{}", first.describe());
    let checks = health_checks(&emu);
    let (primary_hc, standby_hc) = (checks["dr-primary"].clone(), checks["dr-standby"].clone());
    let pair = |role: &str, hc: &str| (role.to_owned(), hc.to_owned());
    assert_eq!(
        failover_records(&emu),
        [
            ("primary".to_owned(), pair("PRIMARY", &primary_hc)),
            ("standby".to_owned(), pair("SECONDARY", &standby_hc)),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>()
    );
    let ids_before = recorded(&dir);

    // RUNBOOK section 2, steps 1-3: promote the replica with a plan of it alone, saved and
    // applied.
    edit(
        &dir,
        "envs/us-west-2/main.yaml",
        "    replicate_from: \"${env.us-east-1.rds_instance.app.arn}\"\n",
        "    engine: mysql\n    master_username: admin\n    manage_master_user_password: true\n    \
         allocated_storage: 100\n    storage_encrypted: true\n",
    );
    let valid = run(&dir, &emu, &["validate", "envs/us-west-2"]);
    assert_eq!(valid.code, Some(0), "{}", valid.describe());
    let promote = run(
        &dir,
        &emu,
        &[
            "plan",
            "envs/us-west-2",
            "--target",
            "us-west-2/rds_instance.app_replica",
            "--detailed-exitcode",
            "--out",
            "promote.plan",
        ],
    );
    assert_eq!(promote.code, Some(2), "{}", promote.describe());
    for needle in [
        "~ us-west-2/rds_instance.app_replica (dr-app-replica) will be updated in place",
        "- replicate_from:",
        "Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy",
    ] {
        assert!(
            promote.stdout.contains(needle),
            "{needle}: {}",
            promote.describe()
        );
    }
    let promoted = apply(&dir, &emu, &["promote.plan", "--auto-approve"]);
    assert_eq!(promoted.code, Some(0), "{}", promoted.describe());
    let source = emu.boto3(
        "db = client('rds', 'us-west-2').describe_db_instances(\
         DBInstanceIdentifier='dr-app-replica')['DBInstances'][0]\n\
         print(repr(db.get('ReadReplicaSourceDBInstanceIdentifier')))",
    );
    assert_eq!(source.trim(), "None", "the replica was promoted");

    // Step 4: pin traffic to us-west-2 (invert the primary's health check) and swap the
    // failover roles in envs/global/routing.yaml.
    edit(
        &dir,
        "envs/global/routing.yaml",
        "    tags:\n      Name: dr-primary\n",
        "    tags:\n      Name: dr-primary\n    inverted: true\n",
    );
    edit(
        &dir,
        "envs/global/routing.yaml",
        "      failover: PRIMARY\n",
        "      failover: @PRIMARY@\n",
    );
    edit(
        &dir,
        "envs/global/routing.yaml",
        "      failover: SECONDARY\n",
        "      failover: PRIMARY\n",
    );
    edit(
        &dir,
        "envs/global/routing.yaml",
        "      failover: @PRIMARY@\n",
        "      failover: SECONDARY\n",
    );
    let expected: BTreeMap<String, J> = [
        ("global/route53_health_check.primary", json!(["update"])),
        ("global/route53_record.app_primary", json!(["update"])),
        ("global/route53_record.app_standby", json!(["update"])),
    ]
    .into_iter()
    .map(|(a, j)| (a.to_owned(), j))
    .collect();
    assert_eq!(planned_changes(&dir, &emu), expected);
    let switch = run(
        &dir,
        &emu,
        &[
            "plan",
            "envs/global",
            "--detailed-exitcode",
            "--out",
            "failover.plan",
        ],
    );
    assert_eq!(switch.code, Some(2), "{}", switch.describe());
    assert!(
        switch
            .stdout
            .contains("Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy in global."),
        "{}",
        switch.describe()
    );
    let switched = apply(&dir, &emu, &["failover.plan", "--auto-approve"]);
    assert_eq!(switched.code, Some(0), "{}", switched.describe());
    assert!(
        switched.stdout.contains("\nApply complete: 3 changes in "),
        "{}",
        switched.describe()
    );

    assert_eq!(
        failover_records(&emu),
        [
            ("primary".to_owned(), pair("SECONDARY", &primary_hc)),
            ("standby".to_owned(), pair("PRIMARY", &standby_hc)),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>(),
        "the roles switched, each record kept its health check"
    );
    assert_eq!(
        health_checks(&emu),
        checks,
        "health checks were not replaced"
    );
    let inverted = emu.boto3(&format!(
        "print(client('route53', 'us-east-1').get_health_check(HealthCheckId={primary_hc:?})\
         ['HealthCheck']['HealthCheckConfig'].get('Inverted'))"
    ));
    assert_eq!(inverted.trim(), "True", "the primary's check is inverted");
    assert_eq!(
        recorded(&dir),
        ids_before,
        "nothing was replaced: every resource keeps its id"
    );
    assert_no_changes(&dir, &emu);
    assert_exactly_one_of_each(&dir, &emu, "dr", DR_REGIONS, DR_RESOURCES);
}

// ---------------------------------------------------------------------------------------------
// Kills at random instants, and a CI runner's cancel sequence

/// splitmix64: random instants that a failure can replay from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration uniformly between `low` and `high`.
    fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let span = (high - low).as_millis() as u64;
        low + Duration::from_millis(self.next() % span.max(1))
    }
}

/// How one run ended: killed at an instant, or it finished first.
enum Ended {
    Killed { pid: u32, stderr: String },
    Finished(Finished),
}

/// Runs `args` and SIGKILLs it `after` its start, unless it ends first.
fn kill_after(dir: &Path, emu: &Emulator, args: &[&str], after: Duration) -> Ended {
    let mut live = Live::spawn(dir, emu, args);
    let started = Instant::now();
    while started.elapsed() < after {
        if live.child.try_wait().expect("poll regionctl").is_some() {
            return Ended::Finished(live.finish(PATIENCE));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    live.child.kill().expect("SIGKILL regionctl");
    live.child.wait().expect("reap the killed regionctl");
    let stderr = live
        .stderr
        .take()
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    Ended::Killed {
        pid: live.pid,
        stderr,
    }
}

/// A run after a kill must never be refused a lock (the killed run's locks are taken over);
/// it may only report one it took over.
fn assert_not_refused(stderr: &str, what: &str) {
    assert!(
        !stderr.contains("is locked by") && !stderr.contains("force-unlock"),
        "{what}: a run after a kill needed a force-unlock:\n{stderr}"
    );
}

/// Nothing exists twice (checked with boto3, not through regionctl).
fn assert_no_duplicates(emu: &Emulator, what: &str) -> usize {
    let inv = inventory(emu, "platform", PLATFORM_REGIONS);
    let mut duplicates = 0;
    for (addr, items) in &inv.tagged {
        let main = items
            .iter()
            .filter(|i| !i.starts_with("elastic_ip "))
            .count();
        if main > 1 {
            duplicates += 1;
            eprintln!("{what}: {addr} exists {main} times: {items:?}");
        }
    }
    for (record, count) in &inv.records {
        if *count > 1 {
            duplicates += 1;
            eprintln!("{what}: record {record} exists {count} times");
        }
    }
    duplicates
}

#[test]
fn kills_at_random_instants_of_apply_and_destroy_need_no_force_unlock() {
    const APPLY_KILLS: usize = 10;
    const DESTROY_KILLS: usize = 6;
    let seed = std::env::var("REGIONCTL_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0013_5eed_u64);
    eprintln!("kill instants from seed {seed} (REGIONCTL_KILL_SEED replays them)");
    let mut rng = Rng(seed);
    let emu = Emulator::start();
    let dir = project_copy("resilience", "random-kills");
    // Several polls before clusters, node groups, databases, caches and NAT gateways are ready
    // (or gone), so kills land in waits as well as in calls, refreshes and state writes.
    emu.set_delay("eks_cluster", 40);
    emu.set_delay("eks_node_group", 25);
    emu.set_delay("rds_instance", 25);
    emu.set_delay("elasticache_replication_group", 25);
    emu.set_delay("nat_gateway", 10);
    let started = Instant::now();
    let mut kills = Vec::new();
    let mut duplicates = 0;

    // First a small apply (one VPC), killed as soon as it reported its summary: its state is
    // written, its locks may or may not be released yet.
    let mut live = Live::spawn(
        &dir,
        &emu,
        &[
            "apply",
            "--all-regions",
            "--auto-approve",
            "--json",
            "--target",
            "eu-west-1/module.platform.vpc.main",
        ],
    );
    live.until("the summary", |e| e["event"] == "summary");
    let pid = live.kill();
    kills.push(format!("apply right after its summary (pid {pid})"));

    let apply_args = ["apply", "--all-regions", "--auto-approve", "--json"];
    for n in 0..APPLY_KILLS {
        let at = rng.between(Duration::from_millis(100), Duration::from_millis(1_800));
        match kill_after(&dir, &emu, &apply_args, at) {
            Ended::Killed { pid, stderr } => {
                assert_not_refused(&stderr, &format!("apply #{n}"));
                eprintln!("killed apply #{n} at {:.2}s", at.as_secs_f64());
                kills.push(format!("apply at {:.2}s (pid {pid})", at.as_secs_f64()));
            }
            Ended::Finished(done) => {
                assert_eq!(done.code, Some(0), "apply #{n}: {}", done.describe());
                assert_not_refused(&done.stderr, &format!("apply #{n}"));
            }
        }
        duplicates += assert_no_duplicates(&emu, &format!("after apply #{n}"));
    }
    // Through `Live`, so that a run that hangs is killed and shown instead of blocking the test.
    let last = Live::spawn(
        &dir,
        &emu,
        &["apply", "--all-regions", "--auto-approve", "--json"],
    )
    .finish(Duration::from_secs(600));
    assert_eq!(last.code, Some(0), "{}", last.describe());
    assert_not_refused(&last.stderr, "the last apply");
    duplicates += assert_no_duplicates(&emu, "after the applies");
    assert_exactly_one_of_each(&dir, &emu, "platform", PLATFORM_REGIONS, PLATFORM_RESOURCES);
    let plan = run(
        &dir,
        &emu,
        &["plan", "--all-regions", "--detailed-exitcode"],
    );
    let plan_code = plan.code;
    assert_eq!(plan_code, Some(0), "{}", plan.describe());

    // Protected clusters and databases need --allow-destroy.
    let destroy_args = [
        "destroy",
        "--all-regions",
        "--auto-approve",
        "--allow-destroy",
        "*",
        "--json",
    ];
    for n in 0..DESTROY_KILLS {
        let at = rng.between(Duration::from_millis(100), Duration::from_millis(1_500));
        match kill_after(&dir, &emu, &destroy_args, at) {
            Ended::Killed { pid, stderr } => {
                assert_not_refused(&stderr, &format!("destroy #{n}"));
                eprintln!("killed destroy #{n} at {:.2}s", at.as_secs_f64());
                kills.push(format!("destroy at {:.2}s (pid {pid})", at.as_secs_f64()));
            }
            Ended::Finished(done) => {
                assert_eq!(done.code, Some(0), "destroy #{n}: {}", done.describe());
                assert_not_refused(&done.stderr, &format!("destroy #{n}"));
            }
        }
        duplicates += assert_no_duplicates(&emu, &format!("after destroy #{n}"));
    }
    let last = run(&dir, &emu, &destroy_args[..5]);
    assert_eq!(last.code, Some(0), "{}", last.describe());
    assert_not_refused(&last.stderr, "the last destroy");
    let inv = inventory(&emu, "platform", PLATFORM_REGIONS);
    assert!(
        inv.tagged.is_empty(),
        "left after destroy: {:#?}",
        inv.tagged
    );
    assert!(
        inv.untagged.is_empty(),
        "left after destroy: {:#?}",
        inv.untagged
    );
    assert!(
        inv.records.is_empty(),
        "left after destroy: {:#?}",
        inv.records
    );
    assert!(recorded(&dir).is_empty(), "{:#?}", recorded(&dir));
    assert!(disk(&dir).locks.is_empty(), "{:?}", disk(&dir).locks);
    assert_eq!(duplicates, 0);
    eprintln!(
        "kill figures: {} kills ({}), manual steps 0, duplicates {duplicates}, plan exit code \
         after recovery {plan_code:?}, {:.0}s in all",
        kills.len(),
        kills.join(", "),
        started.elapsed().as_secs_f64()
    );
}

/// What a GitHub Actions runner does to a cancelled job: SIGINT; SIGTERM 7.5 s later; SIGKILL
/// 2.5 s after that. Returns the signals sent and when the process exited after the first.
fn cancel_like_a_runner(live: &mut Live) -> (Vec<&'static str>, Duration) {
    let signal = |name: &str| {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &live.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {} failed", live.pid);
    };
    let t0 = Instant::now();
    signal("INT");
    let mut sent = vec!["SIGINT"];
    loop {
        if live.child.try_wait().expect("poll regionctl").is_some() {
            return (sent, t0.elapsed());
        }
        let now = t0.elapsed();
        if now >= Duration::from_millis(7_500) && sent.len() == 1 {
            signal("TERM");
            sent.push("SIGTERM");
        }
        if now >= Duration::from_secs(10) && sent.len() == 2 {
            live.child.kill().expect("SIGKILL");
            sent.push("SIGKILL");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_ci_cancel_sequence_saves_state_and_releases_locks_within_seconds() {
    let emu = Emulator::start();
    let dir = project_copy("resilience", "cancel-sequence");
    // A cluster that needs 400 polls (over 10 s at the 20 ms poll interval): longer than the
    // few seconds the run may take to stop.
    slow_platform(&emu, 400);

    let mut live = Live::spawn(
        &dir,
        &emu,
        &["apply", "--all-regions", "--auto-approve", "--json"],
    );
    let cluster = live.until("a cluster starting", |e| {
        e["event"] == "started"
            && e["addr"]
                .as_str()
                .is_some_and(|a| a.contains(".eks_cluster."))
    });
    let cluster = cluster["addr"].as_str().expect("addr").to_owned();
    let region = cluster.split('/').next().expect("env").to_owned();
    let name = match region.as_str() {
        "us-east-1" => "prod-use1",
        "eu-west-1" => "prod-euw1",
        _ => "prod-apse1",
    };
    wait_in_emulator(
        &emu,
        &format!("{cluster} created"),
        &format!("{name:?} in client('eks', {region:?}).list_clusters()['clusters']"),
    );
    // Let the apply get into its wait for the cluster.
    live.until("a wait for the cluster", |e| {
        e["event"] == "waiting" && e["addr"] == cluster.as_str()
    });
    let (sent, exited_after) = cancel_like_a_runner(&mut live);
    let done = live.finish(Duration::from_secs(30));
    eprintln!(
        "cancel sequence: signals {sent:?}, exited {:.2}s after SIGINT",
        exited_after.as_secs_f64()
    );
    assert_eq!(
        sent,
        ["SIGINT"],
        "the first signal alone must end the run: {}",
        done.describe()
    );
    assert!(
        exited_after < Duration::from_secs(4),
        "state saved and locks released within seconds of SIGINT, not {exited_after:?}: {}",
        done.describe()
    );
    assert_eq!(done.code, Some(1), "{}", done.describe());
    let summary = done.events.last().expect("some output");
    assert_eq!(summary["event"], "summary", "{}", done.describe());
    assert_eq!(summary["interrupted"], true);
    assert!(
        done.events.iter().any(|e| e["event"] == "skipped"
            && e["addr"] == cluster.as_str()
            && e["because"]
                .as_str()
                .is_some_and(|b| b.starts_with("interrupted while waiting"))),
        "the wait for {cluster} is abandoned, not the cluster: {}",
        done.describe()
    );
    assert_clean_stop(&dir, &done);

    // The next run resumes: the cluster is adopted (waited for, not created again), and
    // nothing is unlocked by hand.
    let again = apply(&dir, &emu, ALL);
    assert_eq!(again.code, Some(0), "{}", again.describe());
    assert_not_refused(&again.stderr, "the run after the cancel");
    assert!(
        again.stdout.contains(&format!("{cluster}: adopting...")),
        "{}",
        again.describe()
    );
    assert_exactly_one_of_each(&dir, &emu, "platform", PLATFORM_REGIONS, PLATFORM_RESOURCES);
    assert_no_changes(&dir, &emu);
}
