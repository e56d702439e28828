//! `adopt aws` translation on hand-made observations: which resources the skips and filters keep,
//! that references replace literal ids, and that the written spec loads without errors.

use std::collections::BTreeMap;

use super::*;
use crate::diag::Severity;
use crate::resource::{Attrs, Status};
use crate::source::SourceMap;
use crate::spec::loader::{LoadOptions, MemFs};
use crate::spec::value::Value;

fn obs(kind: Kind, id: &str, attrs: &[(&str, Value)], tags: &[(&str, &str)]) -> Observed {
    let tags: BTreeMap<String, String> = tags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut a: Attrs = attrs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let user: BTreeMap<String, Value> = tags
        .iter()
        .filter(|(k, _)| !k.starts_with("regionctl:"))
        .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
        .collect();
    if !user.is_empty() {
        a.insert("tags".into(), Value::Map(user));
    }
    Observed {
        kind,
        region: "us-east-1".into(),
        id: id.into(),
        attrs: a,
        computed: [("id".to_owned(), Value::Str(id.into()))].into(),
        tags,
        status: Status::Ready,
    }
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn l(v: &[&str]) -> Value {
    Value::List(v.iter().map(|x| s(x)).collect())
}

/// Two VPCs (one the default), their subnets, an internet gateway and route table, security
/// groups, a DB subnet group and database, a KMS key, and a subnet of another stack.
fn region() -> Vec<Observed> {
    vec![
        obs(
            Kind::Vpc,
            "vpc-1",
            &[("cidr_block", s("10.0.0.0/16"))],
            &[("Name", "main"), ("team", "core")],
        ),
        obs(
            Kind::Vpc,
            "vpc-default",
            &[("cidr_block", s("172.31.0.0/16"))],
            &[],
        ),
        obs(
            Kind::Vpc,
            "vpc-2",
            &[("cidr_block", s("10.9.0.0/16"))],
            &[("Name", "other")],
        ),
        obs(
            Kind::Subnet,
            "subnet-a",
            &[
                ("vpc_id", s("vpc-1")),
                ("cidr_block", s("10.0.1.0/24")),
                ("availability_zone", s("us-east-1a")),
            ],
            &[("Name", "private-a"), ("team", "core")],
        ),
        obs(
            Kind::Subnet,
            "subnet-b",
            &[
                ("vpc_id", s("vpc-1")),
                ("cidr_block", s("10.0.2.0/24")),
                ("availability_zone", s("us-east-1b")),
            ],
            &[("Name", "private-b")],
        ),
        obs(
            Kind::Subnet,
            "subnet-d",
            &[
                ("vpc_id", s("vpc-default")),
                ("cidr_block", s("172.31.0.0/20")),
                ("availability_zone", s("us-east-1a")),
            ],
            &[],
        ),
        obs(
            Kind::Subnet,
            "subnet-x",
            &[
                ("vpc_id", s("vpc-2")),
                ("cidr_block", s("10.9.1.0/24")),
                ("availability_zone", s("us-east-1a")),
            ],
            &[],
        ),
        obs(
            Kind::Subnet,
            "subnet-theirs",
            &[
                ("vpc_id", s("vpc-1")),
                ("cidr_block", s("10.0.9.0/24")),
                ("availability_zone", s("us-east-1a")),
            ],
            &[("regionctl:stack", "payments")],
        ),
        obs(
            Kind::InternetGateway,
            "igw-1",
            &[("vpc_id", s("vpc-1"))],
            &[],
        ),
        obs(Kind::RouteTable, "rtb-main", &[("vpc_id", s("vpc-1"))], &[]),
        obs(
            Kind::RouteTable,
            "rtb-1",
            &[
                ("vpc_id", s("vpc-1")),
                (
                    "routes",
                    Value::List(vec![Value::Map(
                        [
                            ("destination_cidr_block".to_owned(), s("0.0.0.0/0")),
                            ("gateway_id".to_owned(), s("igw-1")),
                        ]
                        .into(),
                    )]),
                ),
                ("subnet_ids", l(&["subnet-a", "subnet-b"])),
            ],
            &[("Name", "public")],
        ),
        obs(
            Kind::SecurityGroup,
            "sg-default",
            &[
                ("name", s("default")),
                ("description", s("default VPC security group")),
                ("vpc_id", s("vpc-1")),
            ],
            &[],
        ),
        obs(
            Kind::SecurityGroup,
            "sg-db",
            &[
                ("name", s("db")),
                ("description", s("database")),
                ("vpc_id", s("vpc-1")),
            ],
            &[],
        ),
        obs(
            Kind::DbSubnetGroup,
            "app",
            &[
                ("name", s("app")),
                ("description", s("app databases")),
                ("subnet_ids", l(&["subnet-a", "subnet-b"])),
            ],
            &[],
        ),
        obs(
            Kind::RdsInstance,
            "app-db",
            &[
                ("identifier", s("app-db")),
                ("engine", s("postgres")),
                ("engine_version", s("16.3")),
                ("instance_class", s("db.t4g.micro")),
                ("allocated_storage", Value::Int(20)),
                ("master_username", s("app")),
                ("db_subnet_group", s("app")),
                ("vpc_security_group_ids", l(&["sg-db"])),
                ("skip_final_snapshot", Value::Bool(true)),
            ],
            &[],
        ),
        obs(
            Kind::KmsKey,
            "key-1",
            &[("description", s("unrelated"))],
            &[],
        ),
    ]
}

fn file(a: &Adoption) -> &str {
    a.files
        .iter()
        .find(|(p, _)| p == "envs/us-east-1/adopted.yaml")
        .map(|(_, t)| t.as_str())
        .expect("the region's file is written")
}

fn adopted(live: &LiveAdoption) -> Vec<String> {
    let mut out: Vec<String> = live
        .adoption
        .records
        .values()
        .flatten()
        .map(|(_, r)| r.id.clone())
        .collect();
    out.sort();
    out
}

fn load_errors(a: &Adoption) -> Vec<String> {
    let fs = a.files.iter().fold(
        MemFs::new().with("regionctl.yaml", "project: adopted\n"),
        |fs, (p, t)| fs.with(p, t),
    );
    let mut sources = SourceMap::new();
    let (spec, diags) = crate::spec::load(&fs, &LoadOptions::all("."), &mut sources);
    assert!(spec.is_some(), "the written spec loads");
    diags
        .into_sorted()
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {}", d.code, d.message))
        .collect()
}

#[test]
fn a_vpc_brings_what_refers_to_it_and_leaves_the_rest() {
    let live = translate(
        "us-east-1",
        &region(),
        &Filters {
            vpc: Some("vpc-1".into()),
            ..Filters::default()
        },
    );
    assert_eq!(
        adopted(&live),
        [
            "app", "app-db", "igw-1", "rtb-1", "sg-db", "subnet-a", "subnet-b", "vpc-1"
        ],
        "{:#?}",
        live.skipped
    );
    // vpc-2 and its subnet, the KMS key nothing kept refers to; the default VPC is skipped (and
    // its subnet with it), not left out.
    assert_eq!(live.left_out, 3);
    let text = file(&live.adoption);
    assert!(text.contains("vpc_id: \"${vpc.main.id}\""), "{text}");
    // Named after its VPC, having no name of its own.
    assert!(
        text.contains("gateway_id: \"${internet_gateway.main.id}\""),
        "{text}"
    );
    // The subnets differ only by zone: one resource, one instance per zone, referred to by key.
    assert!(text.contains("subnet.private:\n    for_each:"), "{text}");
    assert!(
        text.contains(
            "subnet_ids: ['${subnet.private[\"us-east-1a\"].id}', '${subnet.private[\"us-east-1b\"].id}']"
        ),
        "{text}"
    );
    assert!(
        text.contains("db_subnet_group: \"${db_subnet_group.app.name}\""),
        "{text}"
    );
    assert!(text.contains("# from vpc vpc-1 (AWS us-east-1)"), "{text}");
    assert!(text.contains("--vpc vpc-1"), "{text}");
    assert_eq!(load_errors(&live.adoption), Vec::<String>::new(), "{text}");
}

#[test]
fn managed_and_aws_made_resources_are_skipped_with_the_reason() {
    let live = translate("us-east-1", &region(), &Filters::default());
    let reasons: BTreeMap<&str, &str> = live
        .skipped
        .iter()
        .map(|u| (u.address.as_str(), u.reason.as_str()))
        .collect();
    assert!(reasons["subnet subnet-theirs"].contains("regionctl stack payments"));
    assert!(reasons["security_group sg-default"].contains("default security group"));
    assert!(reasons["route_table rtb-main"].contains("main route table"));
    assert!(reasons["vpc vpc-default"].contains("default VPC"));
    assert!(reasons["subnet subnet-d"].contains("vpc-default"));
    assert_eq!(live.skipped.len(), 5);
    assert_eq!(live.left_out, 0);
    // Without filters the other VPC and the key are adopted too.
    assert!(adopted(&live).contains(&"vpc-2".to_owned()));
    assert!(adopted(&live).contains(&"key-1".to_owned()));
}

#[test]
fn a_tag_keeps_only_resources_carrying_it() {
    let live = translate(
        "us-east-1",
        &region(),
        &Filters {
            tags: vec![("team".into(), "core".into())],
            vpc: None,
        },
    );
    assert_eq!(adopted(&live), ["subnet-a", "vpc-1"]);
}

#[test]
fn a_database_password_never_reaches_spec_or_state() {
    let live = translate(
        "us-east-1",
        &region(),
        &Filters {
            vpc: Some("vpc-1".into()),
            ..Filters::default()
        },
    );
    let text = file(&live.adoption);
    assert!(
        text.contains("master_password_env: APP_DB_PASSWORD"),
        "{text}"
    );
    assert_eq!(live.adoption.secret_envs, ["APP_DB_PASSWORD"]);
    let record = live
        .adoption
        .records
        .values()
        .flatten()
        .find(|(_, r)| r.id == "app-db")
        .map(|(_, r)| r)
        .expect("the database is recorded");
    assert!(!record.attrs.contains_key("master_password"));
    // The protect flag follows the kind, as for Terraform.
    assert!(record.protect);
    // State records the references resolved, as an apply of the spec would.
    assert_eq!(record.attrs.get("db_subnet_group"), Some(&s("app")));
}

#[test]
fn vpc_bound_kinds_follow_the_declarations() {
    for k in [
        Kind::Vpc,
        Kind::Subnet,
        Kind::SecurityGroup,
        Kind::DbSubnetGroup,
        Kind::RdsInstance,
        Kind::EksCluster,
    ] {
        assert!(vpc_bound(k), "{k}");
    }
    for k in [
        Kind::KmsKey,
        Kind::IamRole,
        Kind::CloudwatchLogGroup,
        Kind::SnsTopic,
    ] {
        assert!(!vpc_bound(k), "{k}");
    }
}

#[test]
fn a_kept_cluster_brings_its_global_role_into_the_global_environment() {
    let role_arn = "arn:aws:iam::123456789012:role/eks-cluster";
    let mut role = obs(
        Kind::IamRole,
        "eks-cluster",
        &[
            ("name", s("eks-cluster")),
            (
                "assume_role_policy",
                Value::Map(
                    [
                        ("Version".to_owned(), s("2012-10-17")),
                        ("Statement".to_owned(), Value::List(Vec::new())),
                    ]
                    .into(),
                ),
            ),
        ],
        &[],
    );
    role.computed.insert("arn".into(), s(role_arn));
    let unrelated = obs(
        Kind::IamRole,
        "someone-else",
        &[("name", s("someone-else"))],
        &[],
    );
    let cluster = obs(
        Kind::EksCluster,
        "platform",
        &[
            ("name", s("platform")),
            ("role_arn", s(role_arn)),
            ("subnet_ids", l(&["subnet-a", "subnet-b"])),
        ],
        &[],
    );
    let mut all = region();
    all.extend([role, unrelated, cluster]);
    let live = translate(
        "us-east-1",
        &all,
        &Filters {
            vpc: Some("vpc-1".into()),
            ..Filters::default()
        },
    );
    let ids = adopted(&live);
    assert!(ids.contains(&"platform".to_owned()), "{ids:?}");
    assert!(ids.contains(&"eks-cluster".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"someone-else".to_owned()), "{ids:?}");
    let global = live
        .adoption
        .files
        .iter()
        .find(|(p, _)| p == "envs/global/adopted.yaml")
        .map(|(_, t)| t.as_str())
        .expect("the global file is written");
    assert!(global.contains("iam_role.eks-cluster:"), "{global}");
    assert!(
        file(&live.adoption).contains("role_arn: \"${env.global.iam_role.eks-cluster.arn}\""),
        "{}",
        file(&live.adoption)
    );
    let record = live.adoption.records["global"]
        .iter()
        .find(|(_, r)| r.id == "eks-cluster")
        .map(|(_, r)| r)
        .expect("the role is recorded in global");
    assert_eq!(
        record.region, "us-east-1",
        "global kinds go through us-east-1"
    );
    assert_eq!(load_errors(&live.adoption), Vec::<String>::new());
}

/// A trust policy allowing web identities of the OIDC provider `provider_arn`.
fn web_identity(provider_arn: &str) -> Value {
    Value::from_json(&serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity"
        }]
    }))
}

fn with_arn(mut o: Observed, arn: &str) -> Observed {
    o.computed.insert("arn".into(), s(arn));
    o
}

#[test]
fn an_irsa_role_is_declared_in_its_region_and_another_regions_is_left_to_it() {
    let acct = "arn:aws:iam::123456789012";
    let use1 = format!("{acct}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AAA");
    let euw1 = format!("{acct}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BBB");
    let provider = |arn: &str, url: &str| {
        let o = obs(
            Kind::IamOidcProvider,
            arn,
            &[
                ("url", s(url)),
                ("client_id_list", l(&["sts.amazonaws.com"])),
            ],
            &[],
        );
        with_arn(o, arn)
    };
    let role = |name: &str, trust: Value, policies: &[&str]| {
        let o = obs(
            Kind::IamRole,
            name,
            &[
                ("name", s(name)),
                ("assume_role_policy", trust),
                ("managed_policy_arns", l(policies)),
            ],
            &[],
        );
        with_arn(o, &format!("{acct}:role/{name}"))
    };
    let policy = |name: &str| {
        let arn = format!("{acct}:policy/{name}");
        let o = obs(
            Kind::IamPolicy,
            &arn,
            &[
                ("name", s(name)),
                (
                    "policy",
                    Value::from_json(
                        &serde_json::json!({"Version": "2012-10-17", "Statement": []}),
                    ),
                ),
            ],
            &[],
        );
        with_arn(o, &arn)
    };
    let own = format!("{acct}:policy/app-own");
    let shared = format!("{acct}:policy/shared");
    let node_entry = obs(
        Kind::EksAccessEntry,
        "platform:arn:aws:iam::123456789012:role/nodes",
        &[
            ("cluster_name", s("platform")),
            ("principal_arn", s(&format!("{acct}:role/nodes"))),
            ("type", s("EC2_LINUX")),
            ("kubernetes_groups", l(&["system:nodes"])),
            ("username", s("system:node:{{EC2PrivateDNSName}}")),
        ],
        &[],
    );
    let mut cluster = obs(
        Kind::EksCluster,
        "platform",
        &[
            ("name", s("platform")),
            ("role_arn", s(&format!("{acct}:role/nodes"))),
            ("subnet_ids", l(&["subnet-0a", "subnet-0b"])),
            ("authentication_mode", s("API")),
        ],
        &[],
    );
    cluster.computed.insert(
        "oidc_issuer".into(),
        s("https://oidc.eks.us-east-1.amazonaws.com/id/AAA"),
    );
    let observed = vec![
        obs(
            Kind::KmsKey,
            "1234abcd-0000",
            &[("description", s("data"))],
            &[],
        ),
        obs(
            Kind::KmsAlias,
            "alias/platform-data",
            &[
                ("name", s("alias/platform-data")),
                ("target_key_id", s("1234abcd-0000")),
            ],
            &[],
        ),
        provider(&use1, "https://oidc.eks.us-east-1.amazonaws.com/id/AAA"),
        provider(&euw1, "https://oidc.eks.eu-west-1.amazonaws.com/id/BBB"),
        role("app", web_identity(&use1), &[&own, &shared]),
        role("euw1-app", web_identity(&euw1), &[]),
        role(
            "nodes",
            Value::from_json(&serde_json::json!({"Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})),
            &[&shared],
        ),
        policy("app-own"),
        policy("shared"),
        cluster,
        node_entry,
    ];
    let live = translate("us-east-1", &observed, &Filters::default());
    let env_of = |id: &str| {
        live.adoption
            .records
            .iter()
            .find(|(_, rs)| rs.iter().any(|(_, r)| r.id == id))
            .map(|(env, _)| env.clone())
    };
    // The IRSA role trusting us-east-1's provider, and the policy only it attaches: us-east-1.
    assert_eq!(env_of("app").as_deref(), Some("us-east-1"));
    assert_eq!(env_of(&own).as_deref(), Some("us-east-1"));
    // Shared with a global role, the policy stays global; so does the node role.
    assert_eq!(env_of(&shared).as_deref(), Some("global"));
    assert_eq!(env_of("nodes").as_deref(), Some("global"));
    // eu-west-1's role is listed for eu-west-1's adoption, not declared twice.
    assert_eq!(env_of("euw1-app"), None);
    let skipped = live
        .skipped
        .iter()
        .find(|u| u.address == "iam_role euw1-app")
        .expect("eu-west-1's IRSA role is listed");
    assert!(
        skipped.reason.contains("--region eu-west-1"),
        "{}",
        skipped.reason
    );
    let text = file(&live.adoption);
    assert!(text.contains("\"${iam_policy.app-own.arn}\""), "{text}");
    // Named after what they belong to: the alias, the cluster, the principal.
    for want in [
        "kms_key.platform-data:",
        "target_key_id: \"${kms_key.platform-data.id}\"",
        "iam_oidc_provider.platform:",
        "eks_access_entry.nodes:",
    ] {
        assert!(text.contains(want), "missing {want:?}:\n{text}");
    }
    // A node entry's EKS-made username and group stay out of the spec.
    assert!(!text.contains("system:node"), "{text}");
    assert_eq!(load_errors(&live.adoption), Vec::<String>::new());
}
