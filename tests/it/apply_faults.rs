//! `regionctl apply` through a faulty network: the built binary reaches the emulator through
//! `support::proxy::FaultProxy`, which answers a share of requests with throttling errors in each
//! service's own shape, 5xx, closed connections and lost responses (executed by the emulator, the
//! answer dropped). The apply may fail on an exhausted retry budget, but re-running it must
//! converge, and the emulator, listed directly with boto3 (never through regionctl's state), must
//! hold exactly one resource per address of the spec.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value as J;

use crate::harness::{Run, project_copy, regionctl_env};
use crate::support::emulator::{ACCESS_KEY, Emulator, SECRET_KEY};
use crate::support::inventory::ADDED_KINDS_PY;
use crate::support::proxy::{Fault, FaultProxy, Faults, RequestInfo};

const STACK: &str = "platform";
const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-1"];
/// Destroys the whole stack without asking.
const DESTROY_ALL: [&str; 5] = [
    "destroy",
    "--all-regions",
    "--auto-approve",
    "--allow-destroy",
    "*",
];
/// Applies allowed before the platform must have converged: each fault sequence that outlasts
/// the SDK's three attempts fails one resource (and what depends on it) for one run.
const MAX_APPLIES: usize = 6;

// ---------------------------------------------------------------------------------------------
// Plumbing

/// The emulator's environment with the endpoint replaced by the proxy's.
fn via(emu: &Emulator, proxy: &FaultProxy) -> Vec<(&'static str, String)> {
    emu.env()
        .into_iter()
        .map(|(k, v)| {
            if k == "AWS_ENDPOINT_URL" {
                (k, proxy.endpoint.clone())
            } else {
                (k, v)
            }
        })
        .collect()
}

/// A fresh project of stack `project` with one environment, us-east-1, holding `resources`
/// (the YAML under `resources:`), its state kept locally.
fn us_east_1_project(name: &str, project: &str, resources: &str) -> std::path::PathBuf {
    let dir = crate::harness::fresh_dir("apply_faults", name);
    std::fs::create_dir_all(dir.join("envs/us-east-1")).expect("mkdir");
    std::fs::write(
        dir.join("regionctl.yaml"),
        format!("project: {project}\nbackend:\n  local: {{}}\n"),
    )
    .expect("write regionctl.yaml");
    std::fs::write(
        dir.join("envs/us-east-1/main.yaml"),
        format!("region: us-east-1\nresources:\n{resources}"),
    )
    .expect("write the environment");
    dir
}

/// What one kind holds: key (the `regionctl:address` tag, or `name type set-id` for records)
/// to the ids found under it.
type Inventory = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Route 53 names compare without the trailing dot, case-insensitively.
fn record_key(name: &str, kind: &str, set_identifier: &str) -> String {
    format!(
        "{} {kind} {set_identifier}",
        name.trim_end_matches('.').to_ascii_lowercase()
    )
}

/// What the spec asks for, per kind, from a plan of the still empty emulator (direct): every
/// address, plus one Elastic IP per NAT gateway (tagged with the gateway's address).
fn expected(dir: &Path, emu: &Emulator) -> BTreeMap<String, BTreeSet<String>> {
    let run = regionctl_env(dir, &["plan", "--all-regions", "--json"], &emu.env());
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let plan: J = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("plan --json printed no JSON ({e}):\n{}", run.describe()));
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for change in plan["resource_changes"]
        .as_array()
        .expect("resource_changes is an array")
    {
        let kind = change["type"].as_str().expect("a change has a type");
        let address = change["address"].as_str().expect("a change has an address");
        let after = &change["change"]["after"];
        let region = change["region"].as_str().unwrap_or("");
        let text = |name: &str| {
            after[name]
                .as_str()
                .unwrap_or_else(|| panic!("{address}: {name}"))
        };
        // Kinds without tags are keyed by what names them (as support::inventory lists them).
        let key = match kind {
            "route53_record" => record_key(
                text("name"),
                text("type"),
                after["set_identifier"].as_str().unwrap_or(""),
            ),
            "kms_alias" => format!("{region} {}", text("name")),
            "sns_subscription" => format!("{region} {} {}", text("protocol"), text("endpoint")),
            "ecr_replication_configuration" => format!("{region} {region}"),
            _ => address.to_owned(),
        };
        if kind == "nat_gateway" {
            out.entry("elastic_ip".to_owned())
                .or_default()
                .insert(address.to_owned());
        }
        out.entry(kind.to_owned()).or_default().insert(key);
    }
    out
}

/// Lists every resource of every managed kind in every region, straight from the emulator.
/// Taggable ones are keyed by their `regionctl:address` tag (`<untagged ID>` when missing);
/// resources of another stack are left out.
const INVENTORY: &str = r#"
out = {}
def add(kind, tags, ident):
    if isinstance(tags, list):
        tags = {t['Key']: t['Value'] for t in tags}
    tags = tags or {}
    if tags.get('regionctl:stack', STACK) != STACK:
        return
    addr = tags.get('regionctl:address', '<untagged ' + ident + '>')
    out.setdefault(kind, {}).setdefault(addr, []).append(ident)
tagf = [{'Name': 'tag:regionctl:stack', 'Values': [STACK]}]
for r in REGIONS:
    ec2 = client('ec2', r)
    for v in ec2.describe_vpcs(Filters=tagf)['Vpcs']:
        add('vpc', v.get('Tags'), v['VpcId'])
    for v in ec2.describe_subnets(Filters=tagf)['Subnets']:
        add('subnet', v.get('Tags'), v['SubnetId'])
    for v in ec2.describe_internet_gateways(Filters=tagf)['InternetGateways']:
        add('internet_gateway', v.get('Tags'), v['InternetGatewayId'])
    for v in ec2.describe_nat_gateways(Filters=tagf)['NatGateways']:
        if v['State'] not in ('deleted', 'deleting', 'failed'):
            add('nat_gateway', v.get('Tags'), v['NatGatewayId'])
    for v in ec2.describe_addresses(Filters=tagf)['Addresses']:
        add('elastic_ip', v.get('Tags'), v['AllocationId'])
    for v in ec2.describe_route_tables(Filters=tagf)['RouteTables']:
        add('route_table', v.get('Tags'), v['RouteTableId'])
    for v in ec2.describe_security_groups(Filters=tagf)['SecurityGroups']:
        add('security_group', v.get('Tags'), v['GroupId'])
    eks = client('eks', r)
    for name in eks.list_clusters()['clusters']:
        c = eks.describe_cluster(name=name)['cluster']
        add('eks_cluster', c.get('tags'), r + ':' + name)
        for ng in eks.list_nodegroups(clusterName=name)['nodegroups']:
            n = eks.describe_nodegroup(clusterName=name, nodegroupName=ng)['nodegroup']
            add('eks_node_group', n.get('tags'), r + ':' + name + '/' + ng)
    rds = client('rds', r)
    for d in rds.describe_db_instances()['DBInstances']:
        tags = rds.list_tags_for_resource(ResourceName=d['DBInstanceArn'])['TagList']
        add('rds_instance', tags, r + ':' + d['DBInstanceIdentifier'])
    for g in rds.describe_db_subnet_groups()['DBSubnetGroups']:
        tags = rds.list_tags_for_resource(ResourceName=g['DBSubnetGroupArn'])['TagList']
        add('db_subnet_group', tags, r + ':' + g['DBSubnetGroupName'])
    ec = client('elasticache', r)
    for g in ec.describe_replication_groups()['ReplicationGroups']:
        tags = ec.list_tags_for_resource(ResourceName=g['ARN'])['TagList']
        add('elasticache_replication_group', tags, r + ':' + g['ReplicationGroupId'])
    for g in ec.describe_cache_subnet_groups()['CacheSubnetGroups']:
        if g['CacheSubnetGroupName'] == 'default':
            continue
        tags = ec.list_tags_for_resource(ResourceName=g['ARN'])['TagList']
        add('cache_subnet_group', tags, r + ':' + g['CacheSubnetGroupName'])
iam = client('iam', 'us-east-1')
for x in iam.list_roles()['Roles']:
    if x['Path'].startswith('/aws-service-role/'):
        continue
    add('iam_role', iam.list_role_tags(RoleName=x['RoleName'])['Tags'], x['RoleName'])
r53 = client('route53', 'us-east-1')
for z in r53.list_hosted_zones()['HostedZones']:
    zid = z['Id'].split('/')[-1]
    tags = r53.list_tags_for_resource(ResourceType='hostedzone', ResourceId=zid)
    add('route53_zone', tags['ResourceTagSet'].get('Tags'), z['Id'])
    for rr in r53.list_resource_record_sets(HostedZoneId=z['Id'])['ResourceRecordSets']:
        if rr['Type'] in ('SOA', 'NS'):
            continue
        key = '%s %s %s' % (rr['Name'].rstrip('.').lower(), rr['Type'], rr.get('SetIdentifier', ''))
        out.setdefault('route53_record', {}).setdefault(key, []).append(z['Id'])
for h in r53.list_health_checks()['HealthChecks']:
    tags = r53.list_tags_for_resource(ResourceType='healthcheck', ResourceId=h['Id'])
    add('route53_health_check', tags['ResourceTagSet'].get('Tags'), h['Id'])
def found(kind, region, tags, ident):
    add(kind, tags, region + ':' + ident)
def unkeyed(kind, region, key, ident, owner):
    if owner in (None, STACK):
        out.setdefault(kind, {}).setdefault(region + ' ' + key, []).append(ident)
list_added_kinds(found, unkeyed, REGIONS)
print(json.dumps(out))
"#;

fn inventory(emu: &Emulator) -> Inventory {
    let script = format!("STACK = {STACK:?}\nREGIONS = {REGIONS:?}\n{ADDED_KINDS_PY}\n{INVENTORY}");
    serde_json::from_str(&emu.boto3(&script)).expect("the inventory script prints JSON")
}

/// Every way reality differs from "exactly one per address": duplicates (with their ids),
/// missing resources, and resources of the stack no address asks for.
fn discrepancies(expected: &BTreeMap<String, BTreeSet<String>>, actual: &Inventory) -> Vec<String> {
    let mut out = Vec::new();
    let kinds: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    let empty = BTreeMap::new();
    let none = BTreeSet::new();
    for kind in kinds {
        let want = expected.get(kind).unwrap_or(&none);
        let have = actual.get(kind).unwrap_or(&empty);
        for key in want {
            match have.get(key).map_or(0, Vec::len) {
                1 => {}
                0 => out.push(format!("{kind} {key}: missing")),
                n => out.push(format!(
                    "{kind} {key}: {n} copies {:?}",
                    have.get(key).expect("counted above")
                )),
            }
        }
        for (key, ids) in have {
            if !want.contains(key) {
                out.push(format!("{kind} {key}: not in the spec {ids:?}"));
            }
        }
    }
    out
}

/// One `regionctl apply` through the proxy.
struct Attempt {
    run: Run,
    took: Duration,
}

impl Attempt {
    /// The summary's first line (`Apply complete: ...` / `Apply incomplete: ...`) and, after a
    /// failure, the failed resources with their errors.
    fn summary(&self) -> String {
        let out = &self.run.stdout;
        // Without a summary the apply stopped before executing (a refresh that failed): show
        // how its output ends.
        let head = match out.lines().find(|l| l.starts_with("Apply ")) {
            Some(line) => line.to_owned(),
            None => {
                let all: Vec<&str> = out
                    .lines()
                    .chain(self.run.stderr.lines())
                    .filter(|l| !l.trim().is_empty())
                    .collect();
                let tail = &all[all.len().saturating_sub(6)..];
                format!("no summary; output ends:\n      {}", tail.join("\n      "))
            }
        };
        let failed: Vec<&str> = out
            .lines()
            .filter(|l| l.trim_start().starts_with("failed "))
            .map(str::trim)
            .collect();
        if failed.is_empty() {
            head
        } else {
            format!("{head}\n      {}", failed.join("\n      "))
        }
    }
}

/// Applies through the proxy until an apply succeeds, at most `MAX_APPLIES` times.
fn converge(dir: &Path, env: &[(&str, String)]) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for _ in 0..MAX_APPLIES {
        let started = Instant::now();
        let run = regionctl_env(dir, &["apply", "--all-regions", "--auto-approve"], env);
        let done = run.code == Some(0);
        attempts.push(Attempt {
            run,
            took: started.elapsed(),
        });
        if done {
            break;
        }
    }
    attempts
}

fn describe_attempts(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "apply #{} exit {:?} in {:.1}s: {}",
                i + 1,
                a.run.code,
                a.took.as_secs_f64(),
                a.summary()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `plan --all-regions --detailed-exitcode` straight against the emulator says "no changes".
fn assert_no_changes(dir: &Path, emu: &Emulator) {
    let plan = regionctl_env(
        dir,
        &["plan", "--all-regions", "--detailed-exitcode"],
        &emu.env(),
    );
    assert_eq!(
        plan.code,
        Some(0),
        "expected no changes: {}",
        plan.describe()
    );
    assert!(plan.stdout.contains("No changes."), "{}", plan.describe());
}

fn count_all(expected: &BTreeMap<String, BTreeSet<String>>) -> usize {
    expected.values().map(BTreeSet::len).sum()
}

// ---------------------------------------------------------------------------------------------
// Tests

/// Every service the platform talks to; each must have been throttled at least once.
const SERVICES: &[&str] = &["ec2", "eks", "rds", "elasticache", "iam", "route53"];
/// The services the grown platform added (`monitoring` is CloudWatch's signing name), also
/// throttled at least once. Not all of them have a `Create*` call (alarms are put), so the
/// lost-create test asks only the six above. ECR is left out: one apply makes a dozen ECR
/// requests, and this seed throttles none of them (its 5xx and lost responses still come).
const ADDED_SERVICES: &[&str] = &["kms", "logs", "sns", "monitoring"];

#[test]
fn apply_converges_through_throttling_5xx_resets_and_lost_responses() {
    let emu = Emulator::start();
    let dir = project_copy("apply_faults", "mixed");
    let expected = expected(&dir, &emu);
    // 121 resources and the three NAT gateways' Elastic IPs.
    assert_eq!(count_all(&expected), 124, "{expected:#?}");

    let faults = Faults {
        throttle: 0.10,
        server_error: 0.05,
        reset: 0.03,
        lost_response: 0.03,
        only: None,
        ..Faults::default()
    };
    // Decisions are drawn per service, so the k-th request of a service always gets the same
    // one. This seed throttles one of the first three requests of every service: all six
    // throttling shapes are served in every run, not only in lucky ones.
    let proxy = FaultProxy::start(emu.port, faults, 0x5eed_02a7);
    let started = Instant::now();
    let attempts = converge(&dir, &via(&emu, &proxy));
    let total = started.elapsed();
    let history = describe_attempts(&attempts);
    let report = format!(
        "{history}\nall applies: {:.1}s\nfault decisions:\n{}lost responses by operation: {:?}",
        total.as_secs_f64(),
        proxy.report(),
        proxy.operations(Fault::LostResponse)
    );
    eprintln!("{report}");

    let last = attempts.last().expect("at least one apply ran");
    assert_eq!(
        last.run.code,
        Some(0),
        "no convergence in {MAX_APPLIES} applies:\n{report}\nlast apply:\n{}",
        last.run.describe()
    );
    // The proxy really injected every fault, and every service's throttling shape was served.
    for fault in Fault::INJECTED {
        assert!(
            proxy.total(fault) > 0,
            "no {} injected:\n{report}",
            fault.name()
        );
    }
    for service in SERVICES.iter().chain(ADDED_SERVICES) {
        assert!(
            proxy.count(service, Fault::Throttle) > 0,
            "{service} was never throttled:\n{report}"
        );
    }

    let problems = discrepancies(&expected, &inventory(&emu));
    assert!(
        problems.is_empty(),
        "the emulator does not hold exactly one resource per address:\n  {}\n{report}",
        problems.join("\n  ")
    );
    assert_no_changes(&dir, &emu);
}

#[test]
fn lost_responses_on_creates_leave_no_duplicates() {
    let emu = Emulator::start();
    let dir = project_copy("apply_faults", "lost_creates");
    let expected = expected(&dir, &emu);
    assert_eq!(count_all(&expected), 124, "{expected:#?}");

    // Half of every create is executed by the emulator and its answer lost.
    let faults = Faults {
        lost_response: 0.5,
        only: Some(RequestInfo::is_create),
        ..Faults::default()
    };
    let proxy = FaultProxy::start(emu.port, faults, 0x10_57);
    let started = Instant::now();
    let attempts = converge(&dir, &via(&emu, &proxy));
    let total = started.elapsed();
    let lost = proxy.operations(Fault::LostResponse);
    let report = format!(
        "{}\nall applies: {:.1}s\nfault decisions:\n{}lost responses by operation: {lost:?}",
        describe_attempts(&attempts),
        total.as_secs_f64(),
        proxy.report(),
    );
    eprintln!("{report}");

    // Every service lost some create answers, EC2's creates without a client token among them.
    for service in SERVICES {
        assert!(
            proxy.count(service, Fault::LostResponse) > 0,
            "no lost create answer for {service}:\n{report}"
        );
    }
    let tokenless = [
        "ec2 CreateVpc",
        "ec2 CreateSubnet",
        "ec2 CreateInternetGateway",
        "ec2 AllocateAddress",
        "ec2 CreateSecurityGroup",
    ];
    assert!(
        tokenless.iter().any(|op| lost.contains_key(*op)),
        "no EC2 create without a client token lost its answer:\n{report}"
    );

    let problems = discrepancies(&expected, &inventory(&emu));
    assert!(
        problems.is_empty(),
        "lost create responses left the emulator with other than one resource per address:\n  {}\n{report}",
        problems.join("\n  ")
    );
    let last = attempts.last().expect("at least one apply ran");
    assert_eq!(
        last.run.code,
        Some(0),
        "no convergence in {MAX_APPLIES} applies:\n{report}\nlast apply:\n{}",
        last.run.describe()
    );
    assert_no_changes(&dir, &emu);
}

/// The proxy's faults are what the SDK expects: for each service, a throttling answer parses to
/// the service's throttling code, and every fault is retried (three attempts, the SDK's default
/// budget, each seen by the proxy) before the call gives up.
#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_reads_each_injected_fault_as_retryable() {
    let emu = Emulator::start();
    for fault in Fault::INJECTED {
        let faults = match fault {
            Fault::Throttle => Faults {
                throttle: 1.0,
                ..Faults::default()
            },
            Fault::ServerError => Faults {
                server_error: 1.0,
                ..Faults::default()
            },
            Fault::Reset => Faults {
                reset: 1.0,
                ..Faults::default()
            },
            Fault::LostResponse | Fault::Pass | Fault::Denied => Faults {
                lost_response: 1.0,
                ..Faults::default()
            },
        };
        let proxy = FaultProxy::start(emu.port, faults, 7);
        let results = call_every_service(&proxy.endpoint).await;
        for (service, result) in &results {
            let (code, display) = match result {
                Ok(()) => {
                    panic!("{service} succeeded through a proxy that always answers {fault:?}")
                }
                Err(e) => e,
            };
            if fault == Fault::Throttle {
                let want: &[&str] = match *service {
                    "ec2" => &["RequestLimitExceeded"],
                    "eks" => &["ThrottlingException"],
                    "s3" => &["SlowDown"],
                    "route53" => &["Throttling", "PriorRequestNotComplete"],
                    _ => &["Throttling"],
                };
                assert!(
                    code.as_deref().is_some_and(|c| want.contains(&c)),
                    "{service}: throttling parsed as {code:?}, want one of {want:?}: {display}"
                );
            }
            assert_eq!(
                proxy.count(service, fault),
                3,
                "{service} under {fault:?}: the SDK did not retry to its budget ({display}):\n{}",
                proxy.report()
            );
        }
        assert_eq!(proxy.total(Fault::Pass), 0, "{}", proxy.report());
    }
}

type CallResult = Result<(), (Option<String>, String)>;

fn outcome<T, E: ProvideErrorMetadata + std::error::Error + 'static>(
    r: Result<T, E>,
) -> CallResult {
    r.map(|_| ()).map_err(|e| {
        (
            e.code().map(str::to_owned),
            DisplayErrorContext(&e).to_string(),
        )
    })
}

/// One read-only call to each service through `endpoint`, with the SDK's standard retry (three
/// attempts) and millisecond backoffs.
async fn call_every_service(endpoint: &str) -> Vec<(&'static str, CallResult)> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            ACCESS_KEY,
            SECRET_KEY,
            None,
            None,
            "regionctl-tests",
        ))
        .retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .load()
        .await;
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    let (ec2, eks, rds, elasticache, iam, route53, s3) = tokio::join!(
        async {
            outcome(
                aws_sdk_ec2::Client::new(&config)
                    .describe_vpcs()
                    .send()
                    .await,
            )
        },
        async {
            outcome(
                aws_sdk_eks::Client::new(&config)
                    .list_clusters()
                    .send()
                    .await,
            )
        },
        async {
            outcome(
                aws_sdk_rds::Client::new(&config)
                    .describe_db_instances()
                    .send()
                    .await,
            )
        },
        async {
            outcome(
                aws_sdk_elasticache::Client::new(&config)
                    .describe_replication_groups()
                    .send()
                    .await,
            )
        },
        async { outcome(aws_sdk_iam::Client::new(&config).list_roles().send().await) },
        async {
            outcome(
                aws_sdk_route53::Client::new(&config)
                    .list_hosted_zones()
                    .send()
                    .await,
            )
        },
        async {
            outcome(
                aws_sdk_s3::Client::from_conf(s3_config)
                    .list_buckets()
                    .send()
                    .await,
            )
        },
    );
    vec![
        ("ec2", ec2),
        ("eks", eks),
        ("rds", rds),
        ("elasticache", elasticache),
        ("iam", iam),
        ("route53", route53),
        ("s3", s3),
    ]
}

/// The rates of issue 13: 20 % throttling, 5 % 5xx, 2 % connection resets, 3 % lost responses on
/// creates, 20 ms on every answer. A single plan and a single apply must succeed: reads are
/// retried for a bounded time, throttled buckets slow down, creates find what a lost answer
/// made. No re-run, no duplicate, and once the faults stop the plan is empty. Then one destroy
/// through the same faults (any answer lost) leaves nothing.
#[test]
fn one_apply_converges_through_heavy_faults_without_a_rerun() {
    let emu = Emulator::start();
    let dir = project_copy("apply_faults", "heavy");
    let expected = expected(&dir, &emu);
    assert_eq!(count_all(&expected), 124, "{expected:#?}");
    let faults = Faults {
        throttle: 0.20,
        server_error: 0.05,
        reset: 0.02,
        lost_response: 0.03,
        // `FAULT_LOST_ANY=1` loses answers of every call, not only creates (exploration).
        lost_only_creates: std::env::var_os("FAULT_LOST_ANY").is_none(),
        latency: Duration::from_millis(20),
        only: None,
        deny: None,
        fail_first: None,
    };
    // `FAULT_SEED=<n>` draws other faults (exploration; docs/testing.md).
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0013_fa17);
    let proxy = FaultProxy::start(emu.port, faults, seed);
    let env = via(&emu, &proxy);
    let started = Instant::now();
    let plan = regionctl_env(
        &dir,
        &["plan", "--all-regions", "--detailed-exitcode"],
        &env,
    );
    assert_eq!(
        plan.code,
        Some(2),
        "a plan under faults: {}",
        plan.describe()
    );
    let run = regionctl_env(&dir, &["apply", "--all-regions", "--auto-approve"], &env);
    let took = started.elapsed();
    let report = format!(
        "plan and apply in {:.1}s\nfault decisions:\n{}lost responses by operation: {:?}",
        took.as_secs_f64(),
        proxy.report(),
        proxy.operations(Fault::LostResponse)
    );
    eprintln!("{report}");
    assert_eq!(
        run.code,
        Some(0),
        "one apply must converge by itself:\n{report}\n{}",
        run.describe()
    );
    for fault in Fault::INJECTED {
        assert!(
            proxy.total(fault) > 0,
            "no {} injected:\n{report}",
            fault.name()
        );
    }
    for (op, _) in proxy
        .operations(Fault::LostResponse)
        .into_iter()
        .filter(|_| std::env::var_os("FAULT_LOST_ANY").is_none())
    {
        // Keys are `<service> <Operation>`.
        let name = op.rsplit(' ').next().unwrap_or_default();
        assert!(
            ["Create", "Allocate", "Run"]
                .iter()
                .any(|p| name.starts_with(p)),
            "a lost response on {op}, not a create:\n{report}"
        );
    }
    let problems = discrepancies(&expected, &inventory(&emu));
    assert!(
        problems.is_empty(),
        "the emulator does not hold exactly one resource per address:\n  {}\n{report}",
        problems.join("\n  ")
    );
    drop(proxy);
    assert_no_changes(&dir, &emu);
    eprintln!("fault figures: 1 apply, 0 re-runs, 0 duplicates, plan exit code 0 after");

    // One destroy through the same faults, with the answers of any call lost now (a lost
    // delete's retry finds the resource gone), leaves nothing of the stack.
    let proxy = FaultProxy::start(
        emu.port,
        Faults {
            lost_only_creates: false,
            ..faults
        },
        seed ^ 0xde57,
    );
    let destroy = regionctl_env(&dir, &DESTROY_ALL, &via(&emu, &proxy));
    let report = proxy.report();
    assert_eq!(
        destroy.code,
        Some(0),
        "one destroy must finish by itself:\n{report}\n{}",
        destroy.describe()
    );
    drop(proxy);
    let left = discrepancies(&BTreeMap::new(), &inventory(&emu));
    assert!(
        left.is_empty(),
        "the destroy left resources of the stack:\n  {}\n{report}",
        left.join("\n  ")
    );
}

/// CreateKey takes no idempotency token and a key has no name, so only its identity tags tell a
/// key an unanswered CreateKey made. With every CreateKey answer lost (the key made each time),
/// one apply still ends with exactly one key: the SDK must not resend the call itself, and the
/// executor looks for the tagged key before sending it again.
#[test]
fn a_lost_create_key_answer_makes_no_second_key() {
    let emu = Emulator::start();
    let dir = us_east_1_project(
        "lost_create_key",
        "keys",
        "  kms_key.data:\n    description: data at rest\n    enable_key_rotation: true\n",
    );
    let faults = Faults {
        lost_response: 1.0,
        only: Some(|r: &RequestInfo| r.operation == "CreateKey"),
        ..Faults::default()
    };
    let proxy = FaultProxy::start(emu.port, faults, 0x4b_e7);
    let run = regionctl_env(
        &dir,
        &["apply", "--all-regions", "--auto-approve"],
        &via(&emu, &proxy),
    );
    let lost = proxy.count("kms", Fault::LostResponse);
    assert!(
        lost >= 1,
        "no CreateKey answer was lost:\n{}",
        proxy.report()
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let keys: J = serde_json::from_str(&emu.boto3(
        "kms = client('kms', 'us-east-1')\n\
         ids = [k['KeyId'] for k in kms.list_keys()['Keys'] \
         if kms.describe_key(KeyId=k['KeyId'])['KeyMetadata']['KeyManager'] == 'CUSTOMER']\n\
         print(json.dumps(ids))\n",
    ))
    .expect("the key list");
    assert_eq!(
        keys.as_array().map(Vec::len),
        Some(1),
        "{lost} lost answers: {keys}\n{}",
        run.describe()
    );
}

/// A NAT gateway's deletion ends by releasing the Elastic IP regionctl allocated for it. When
/// that release fails more often than the SDK retries (three 5xx answers), the executor tries
/// the deletion again and finds the gateway already gone: it must still release the address,
/// not call the deletion done and leave the address allocated and billed (found by the
/// heavy-faults test's destroy, seed 136).
#[test]
fn a_release_that_outlasts_the_sdk_retries_still_frees_the_nat_gateways_address() {
    let emu = Emulator::start();
    let dir = us_east_1_project(
        "nat_release",
        "natrelease",
        "  vpc.main:\n    cidr_block: 10.7.0.0/16\n  \
         subnet.public:\n    vpc_id: \"${vpc.main.id}\"\n    availability_zone: us-east-1a\n    \
         cidr_block: 10.7.0.0/20\n  internet_gateway.main:\n    vpc_id: \"${vpc.main.id}\"\n  \
         nat_gateway.main:\n    subnet_id: \"${subnet.public.id}\"\n    \
         connectivity_type: public\n    depends_on: [\"internet_gateway.main\"]\n",
    );
    let applied = regionctl_env(
        &dir,
        &["apply", "--all-regions", "--auto-approve"],
        &emu.env(),
    );
    assert_eq!(applied.code, Some(0), "{}", applied.describe());
    let addresses = "ec2 = client('ec2', 'us-east-1')\n\
                     print(json.dumps([a['AllocationId'] for a in ec2.describe_addresses()['Addresses']]))\n";
    let before: J = serde_json::from_str(&emu.boto3(addresses)).expect("the addresses");
    assert_eq!(before.as_array().map(Vec::len), Some(1), "{before}");

    let faults = Faults {
        only: Some(|r: &RequestInfo| r.operation == "ReleaseAddress"),
        fail_first: Some(3),
        ..Faults::default()
    };
    let proxy = FaultProxy::start(emu.port, faults, 0);
    let destroyed = regionctl_env(&dir, &DESTROY_ALL, &via(&emu, &proxy));
    let report = proxy.report();
    assert_eq!(
        proxy.count("ec2", Fault::ServerError),
        3,
        "the first three releases fail:\n{report}"
    );
    assert_eq!(
        destroyed.code,
        Some(0),
        "{report}\n{}",
        destroyed.describe()
    );
    drop(proxy);
    let after: J = serde_json::from_str(&emu.boto3(addresses)).expect("the addresses");
    assert_eq!(
        after.as_array().map(Vec::len),
        Some(0),
        "the gateway's address is still allocated: {after}\n{report}\n{}",
        destroyed.describe()
    );
}
