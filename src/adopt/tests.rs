//! The translation of a whole Terraform state: tests/fixtures/adopt/platform.tfstate is a
//! two-region platform (provider aliases, one module per region, count and for_each instances, a
//! cross-region replica, global IAM and Route 53). The spec it gives must load without errors,
//! its state records must be what an apply of that spec would have recorded, and no secret of
//! the Terraform state may appear anywhere in the output.

use std::collections::BTreeMap;

use super::*;
use crate::diag::Severity;
use crate::source::SourceMap;
use crate::spec::loader::{LoadOptions, MemFs};
use crate::spec::value::Value;

const PLATFORM: &str = include_str!("../../tests/fixtures/adopt/platform.tfstate");

fn adopt_platform() -> Adoption {
    terraform(
        &[("platform.tfstate".to_owned(), PLATFORM.to_owned())],
        &Options::default(),
    )
    .expect("the fixture reads")
}

fn file<'a>(a: &'a Adoption, env: &str) -> &'a str {
    let path = format!("envs/{env}/terraform.yaml");
    a.files
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {path} among {:?}",
                a.files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

fn load(a: &Adoption) -> (Option<crate::spec::Spec>, Vec<String>) {
    let fs = a.files.iter().fold(
        MemFs::new().with("regionctl.yaml", "project: adopted\n"),
        |fs, (p, t)| fs.with(p, t),
    );
    let mut sources = SourceMap::new();
    let (spec, diags) = crate::spec::load(&fs, &LoadOptions::all("."), &mut sources);
    let errors = diags
        .into_sorted()
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let at = d
                .primary_span()
                .map(|s| sources.location(s))
                .unwrap_or_default();
            format!("{at}: {} {}", d.code, d.message)
        })
        .collect();
    (spec, errors)
}

fn record<'a>(a: &'a Adoption, addr: &str) -> &'a Record {
    a.records
        .values()
        .flatten()
        .find(|(x, _)| x.to_string() == addr)
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no record {addr}"))
}

#[test]
fn the_platform_becomes_a_spec_that_loads_without_errors() {
    let a = adopt_platform();
    let (spec, errors) = load(&a);
    let all: String = a
        .files
        .iter()
        .map(|(p, t)| format!("--- {p}\n{t}"))
        .collect();
    assert!(errors.is_empty(), "{}\n{all}", errors.join("\n"));
    let spec = spec.expect("a spec");
    // Every state record is a resource of the spec, and the other way round.
    let recorded: Vec<String> = a
        .records
        .values()
        .flatten()
        .map(|(x, _)| x.to_string())
        .collect();
    let mut declared: Vec<String> = spec.resources.keys().map(|x| x.to_string()).collect();
    declared.sort();
    let mut r = recorded.clone();
    r.sort();
    assert_eq!(r, declared, "{all}");
    assert_eq!(
        a.files.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        [
            "envs/eu-west-1/terraform.yaml",
            "envs/global/terraform.yaml",
            "envs/us-east-1/terraform.yaml"
        ]
    );
}

#[test]
fn records_hold_what_the_spec_evaluates_to() {
    // Where the spec's values are known at load (literals, and references the state resolves),
    // the recorded attributes must be equal, or the first plan would see changes.
    let a = adopt_platform();
    let (spec, _) = load(&a);
    let spec = spec.expect("a spec");
    for (addr, rec) in a.records.values().flatten() {
        let resource = &spec.resources[addr];
        for (name, value) in &resource.attrs {
            if value.has_unknown() {
                continue;
            }
            assert_eq!(
                rec.attrs.get(name),
                Some(value),
                "{addr}.{name}: recorded {:?}, the spec says {value:?}",
                rec.attrs.get(name)
            );
        }
        assert_eq!(rec.deps, resource.deps, "{addr}: dependencies");
    }
}

#[test]
fn ids_become_references_across_environments() {
    let a = adopt_platform();
    let euw1 = file(&a, "eu-west-1");
    for want in [
        "vpc_id: \"${vpc.main.id}\"",
        "replicate_from: \"${env.us-east-1.rds_instance.app.arn}\"",
        "node_role_arn: \"${env.global.iam_role.eks_node.arn}\"",
        "cluster_name: \"${eks_cluster.main.name}\"",
        "db_subnet_group: \"${db_subnet_group.app.name}\"",
        "source_security_group_id: \"${security_group.node.id}\"",
        "nat_gateway_id: \"${nat_gateway.main.id}\"",
    ] {
        assert!(euw1.contains(want), "missing {want}:\n{euw1}");
    }
    let global = file(&a, "global");
    assert!(
        global.contains(
            "health_check_id: \"${route53_health_check.region[each.value.health_check_id].id}\""
        ) || global.contains("zone_id: \"${route53_zone.main.id}\""),
        "{global}"
    );
    let replica = record(&a, "eu-west-1/rds_instance.app_replica");
    assert_eq!(
        replica.attrs.get("replicate_from"),
        Some(&Value::Str(
            "arn:aws:rds:us-east-1:123456789012:db:prod-use1-app".into()
        ))
    );
    assert!(
        replica
            .deps
            .iter()
            .any(|d| d.to_string() == "us-east-1/rds_instance.app")
    );
}

#[test]
fn instances_become_for_each() {
    let a = adopt_platform();
    let use1 = file(&a, "us-east-1");
    // for_each over AZs (string keys) and count (positions) both keep Terraform's keys.
    assert!(use1.contains("  subnet.public:\n    for_each:"), "{use1}");
    assert!(
        use1.contains("availability_zone: \"${each.value.availability_zone}\""),
        "{use1}"
    );
    record(&a, "us-east-1/subnet.public[\"us-east-1a\"]");
    record(&a, "us-east-1/subnet.private[1]");
    // The associations of a count resource refer to the subnets' instances.
    let rt = record(&a, "us-east-1/route_table.private");
    assert_eq!(
        rt.attrs.get("subnet_ids"),
        Some(&Value::List(vec![
            Value::Str("subnet-use1prv0".into()),
            Value::Str("subnet-use1prv1".into())
        ]))
    );
    assert!(
        use1.contains("subnet.private[0].id") && use1.contains("subnet.private[1].id"),
        "{use1}"
    );
    // Health checks are count instances in the global environment.
    record(&a, "global/route53_health_check.region[0]");
    // Records keyed by region whose health checks are count instances: no one `for_each` can
    // say which check each uses, so they are written as separate resources.
    record(&a, "global/route53_record.api_eu-west-1");
}

#[test]
fn regions_come_from_arns_zones_and_aliases() {
    let a = adopt_platform();
    // The internet gateways have no ARN in this state: the alias euw1 is learned from its
    // siblings, the default provider from the us-east-1 module's.
    let igw = record(&a, "eu-west-1/internet_gateway.main");
    assert_eq!(igw.region, "eu-west-1");
    record(&a, "us-east-1/internet_gateway.main");
    let role = record(&a, "global/iam_role.eks_node");
    assert_eq!(role.region, "us-east-1");
    assert_eq!(region_in_name("euw1").as_deref(), Some("eu-west-1"));
    assert_eq!(region_in_name("apse2").as_deref(), Some("ap-southeast-2"));
    assert_eq!(region_in_name("us_east_1").as_deref(), Some("us-east-1"));
    assert_eq!(region_in_name("primary"), None);
}

#[test]
fn folded_resources_are_adopted_not_unmapped() {
    let a = adopt_platform();
    let unmapped: Vec<&str> = a.unmapped.iter().map(|u| u.address.as_str()).collect();
    assert_eq!(unmapped, ["aws_s3_bucket.logs"], "{:?}", a.unmapped);
    assert_eq!(a.data_sources, 1);
    let role = record(&a, "global/iam_role.eks_node");
    let Some(Value::List(arns)) = role.attrs.get("managed_policy_arns") else {
        panic!("no managed policies: {role:?}");
    };
    assert_eq!(arns.len(), 3);
    let sg = record(&a, "eu-west-1/security_group.node");
    let Some(Value::List(ingress)) = sg.attrs.get("ingress") else {
        panic!("no ingress: {sg:?}");
    };
    assert_eq!(ingress.len(), 1, "the aws_security_group_rule is folded in");
    for tf in [
        "module.euw1.aws_eip.nat",
        "module.euw1.aws_route.private_nat",
        "module.euw1.aws_vpc_security_group_ingress_rule.db_from_nodes",
        "aws_iam_role_policy_attachment.eks_node[\"AmazonEKS_CNI_Policy\"]",
        "module.use1.aws_route_table_association.public[\"us-east-1b\"]",
    ] {
        assert!(a.adopted.iter().any(|(t, _)| t == tf), "{tf} not adopted");
    }
}

#[test]
fn the_database_password_never_leaves_terraform() {
    let a = adopt_platform();
    let everything = format!("{:?}{:?}", a.files, a.records);
    assert!(!everything.contains("hunter2"), "the password leaked");
    let db = record(&a, "us-east-1/rds_instance.app");
    assert_eq!(
        db.attrs.get("master_password_env"),
        Some(&Value::Str("PROD_USE1_APP_PASSWORD".into()))
    );
    assert_eq!(a.secret_envs, ["PROD_USE1_APP_PASSWORD"]);
    assert!(db.protect);
    assert!(file(&a, "us-east-1").contains("export PROD_USE1_APP_PASSWORD"));
}

#[test]
fn unmappable_instances_say_why() {
    let doc = serde_json::json!({
        "version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "l", "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_route_table", "name": "tgw",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {
                "id": "rtb-1", "vpc_id": "vpc-1",
                "arn": "arn:aws:ec2:us-west-2:1:route-table/rtb-1",
                "route": [{"cidr_block": "10.9.0.0/16", "transit_gateway_id": "tgw-1"}]}}]},
            {"mode": "managed", "type": "aws_security_group", "name": "self",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 1, "attributes": {
                "id": "sg-1", "name": "x", "vpc_id": "vpc-1",
                "arn": "arn:aws:ec2:us-west-2:1:security-group/sg-1",
                "ingress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "self": true,
                             "cidr_blocks": [], "security_groups": []}], "egress": []}}]},
            {"mode": "managed", "type": "random_password", "name": "db",
             "provider": "provider[\"registry.terraform.io/hashicorp/random\"]",
             "instances": [{"schema_version": 3, "attributes": {"id": "none", "result": "s3cret"}}]},
            {"mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "orphan",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {
                "id": "r-1", "role": "not-adopted", "policy_arn": "arn:aws:iam::aws:policy/X"}}]},
            {"mode": "managed", "type": "aws_vpc", "name": "nowhere",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"].primary",
             "instances": [{"schema_version": 1, "attributes": {
                "id": "vpc-9", "cidr_block": "10.0.0.0/16"}}]}
        ]
    });
    let a = terraform(
        &[("x.tfstate".into(), doc.to_string())],
        &Options::default(),
    )
    .expect("reads");
    let reasons: BTreeMap<&str, &str> = a
        .unmapped
        .iter()
        .map(|u| (u.address.as_str(), u.reason.as_str()))
        .collect();
    assert!(
        reasons["aws_route_table.tgw"].contains("transit gateway"),
        "{reasons:?}"
    );
    assert!(
        reasons["aws_security_group.self"].contains("itself"),
        "{reasons:?}"
    );
    assert!(reasons["random_password.db"].contains("not an AWS resource"));
    assert!(reasons["aws_iam_role_policy_attachment.orphan"].contains("not-adopted"));
    assert!(reasons["aws_vpc.nowhere"].contains("--provider-region primary=REGION"));
    assert!(a.records.is_empty() && a.files.is_empty());
    // With the alias given, the VPC is placed.
    let options = Options {
        provider_regions: [("primary".to_owned(), "us-west-2".to_owned())].into(),
        ..Options::default()
    };
    let a = terraform(&[("x.tfstate".into(), doc.to_string())], &options).expect("reads");
    record(&a, "us-west-2/vpc.nowhere");
}

#[test]
fn show_json_reads_like_the_state() {
    // The same VPC and subnet in `terraform show -json` form: no provider alias, so the module's
    // region is learned from the subnet's zone.
    let doc = serde_json::json!({
        "format_version": "1.0", "terraform_version": "1.9.5",
        "values": {"root_module": {"child_modules": [{"address": "module.net", "resources": [
            {"address": "module.net.aws_vpc.main", "mode": "managed", "type": "aws_vpc",
             "name": "main", "provider_name": "registry.terraform.io/hashicorp/aws",
             "schema_version": 1, "values": {"id": "vpc-1", "cidr_block": "10.0.0.0/16",
             "enable_dns_support": true, "enable_dns_hostnames": true,
             "instance_tenancy": "default", "tags_all": {}}, "sensitive_values": {}},
            {"address": "module.net.aws_subnet.a[0]", "mode": "managed", "type": "aws_subnet",
             "name": "a", "index": 0, "provider_name": "registry.terraform.io/hashicorp/aws",
             "schema_version": 1, "values": {"id": "subnet-1", "vpc_id": "vpc-1",
             "cidr_block": "10.0.1.0/24", "availability_zone": "ca-central-1a",
             "map_public_ip_on_launch": false}, "sensitive_values": {}}
        ]}]}}
    });
    let a = terraform(
        &[("show.json".into(), doc.to_string())],
        &Options::default(),
    )
    .expect("reads");
    assert!(a.unmapped.is_empty(), "{:?}", a.unmapped);
    record(&a, "ca-central-1/vpc.main");
    let (_, errors) = load(&a);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(file(&a, "ca-central-1").contains("vpc_id: \"${vpc.main.id}\""));
}

// ---------------------------------------------------------------------------------------------
// The kinds of the production-platform round: tests/fixtures/adopt/more-kinds.tfstate holds one
// resource of each Terraform type (attribute names as terraform-provider-aws writes them), plus
// instances regionctl must refuse.

const MORE_KINDS: &str = include_str!("../../tests/fixtures/adopt/more-kinds.tfstate");

fn adopt_more_kinds() -> Adoption {
    terraform(
        &[("more-kinds.tfstate".to_owned(), MORE_KINDS.to_owned())],
        &Options::default(),
    )
    .expect("the fixture reads")
}

#[test]
fn the_new_kinds_map_with_references_and_load_without_errors() {
    let a = adopt_more_kinds();
    let (spec, errors) = load(&a);
    let all: String = a
        .files
        .iter()
        .map(|(p, t)| format!("--- {p}\n{t}"))
        .collect();
    assert!(errors.is_empty(), "{}\n{all}", errors.join("\n"));
    // The records hold what the spec evaluates to, or the first plan would see changes.
    let spec = spec.expect("a spec");
    for (addr, rec) in a.records.values().flatten() {
        for (name, value) in &spec.resources[addr].attrs {
            if !value.has_unknown() {
                assert_eq!(rec.attrs.get(name), Some(value), "{addr}.{name}\n{all}");
            }
        }
    }
    let use1 = file(&a, "us-east-1");
    for want in [
        // kms_key: description, rotation, the policy as a map
        "kms_key.main:",
        "enable_key_rotation: true",
        "rotation_period_in_days: 365",
        "deletion_window_in_days: 30",
        "Sid: Enable IAM User Permissions",
        // the alias and the ECR key refer to the key
        "target_key_id: \"${kms_key.main.id}\"",
        "kms_key: \"${kms_key.main.arn}\"",
        // SNS
        "display_name: Platform alerts",
        "topic_arn: \"${sns_topic.alerts.arn}\"",
        "endpoint: oncall@example.com",
        // the alarm, with Terraform's names turned into the kind's
        "name: platform-cpu",
        "description: CPU high",
        "dimensions: { AutoScalingGroupName: nodes }",
        "datapoints_to_alarm: 2",
        "treat_missing_data: notBreaching",
        // ECR: nested blocks flattened, the lifecycle policy folded in
        "scan_on_push: true",
        "image_tag_mutability: IMMUTABLE",
        "encryption_type: KMS",
        "countNumber: 30",
        // replication: one rule
        "region: eu-west-1",
        "repository_filters: [platform/]",
        // launch template: metadata options and the root volume
        "http_tokens: required",
        "http_put_response_hop_limit: 2",
        "root_device_name: /dev/xvda",
        "root_volume_size: 50",
        "root_volume_type: gp3",
        "root_volume_encrypted: true",
        "instance_tags: { Name: platform-node }",
        // the add-on: its role trusts this region's OIDC provider (IRSA), so it is declared
        // here, not in global (issue 17: global would refer to the region's provider while the
        // region refers to the role)
        "addon_name: aws-ebs-csi-driver",
        "service_account_role_arn: \"${iam_role.ebs_csi.arn}\"",
        "resolve_conflicts: PRESERVE",
    ] {
        assert!(use1.contains(want), "missing {want:?}:\n{use1}");
    }
    // The OIDC provider lives next to its cluster, in the region its issuer names.
    for want in [
        "url: \"https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE\"",
        "client_id_list: [sts.amazonaws.com]",
    ] {
        assert!(use1.contains(want), "missing {want:?}:\n{use1}");
    }
    // The IRSA role's policy, attached only by it, follows it into the region.
    for want in [
        "iam_policy.ecr_pull:",
        "path: /platform/",
        "\"ecr:GetAuthorizationToken\"",
        // the role's managed policy is the adopted policy
        "\"${iam_policy.ecr_pull.arn}\"",
    ] {
        assert!(use1.contains(want), "missing {want:?}:\n{use1}");
    }
    // Ids as regionctl reads them.
    for (addr, id) in [
        (
            "us-east-1/kms_key.main",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        ("us-east-1/kms_alias.main", "alias/platform"),
        (
            "us-east-1/sns_topic.alerts",
            "arn:aws:sns:us-east-1:123456789012:alerts",
        ),
        ("us-east-1/cloudwatch_metric_alarm.cpu", "platform-cpu"),
        ("us-east-1/ecr_repository.api", "platform/api"),
        (
            "us-east-1/ecr_replication_configuration.main",
            "123456789012",
        ),
        ("us-east-1/launch_template.nodes", "lt-0abc1234"),
        ("us-east-1/eks_addon.ebs_csi", "platform/aws-ebs-csi-driver"),
        (
            "us-east-1/iam_policy.ecr_pull",
            "arn:aws:iam::123456789012:policy/platform/ecr-pull",
        ),
    ] {
        assert_eq!(record(&a, addr).id, id, "{addr}");
    }
    let oidc = record(&a, "us-east-1/iam_oidc_provider.eks");
    assert_eq!(
        oidc.computed.get("issuer"),
        Some(&Value::Str(
            "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE".into()
        ))
    );
    let lt = record(&a, "us-east-1/launch_template.nodes");
    assert_eq!(
        lt.computed.get("latest_version"),
        Some(&Value::Str("3".into()))
    );
    assert!(
        a.adopted
            .iter()
            .any(|(tf, addr)| tf == "aws_ecr_lifecycle_policy.api"
                && addr.to_string() == "us-east-1/ecr_repository.api"),
        "the lifecycle policy is folded into its repository"
    );
}

#[test]
fn what_the_new_kinds_cannot_express_is_unmapped_with_the_reason() {
    let a = adopt_more_kinds();
    let reasons: BTreeMap<&str, &str> = a
        .unmapped
        .iter()
        .map(|u| (u.address.as_str(), u.reason.as_str()))
        .collect();
    assert!(
        reasons["aws_kms_key.signing"].contains("SIGN_VERIFY"),
        "{reasons:?}"
    );
    assert!(reasons["aws_sns_topic_subscription.queue"].contains("\"sqs\""));
    assert!(reasons["aws_cloudwatch_metric_alarm.errors_ratio"].contains("metric_query"));
    assert!(reasons["aws_launch_template.bastion"].contains("user_data"));
    assert_eq!(a.unmapped.len(), 4, "{reasons:?}");
}

// ---------------------------------------------------------------------------------------------
// EKS access entries and IAM placement: tests/fixtures/adopt/eks-access.tfstate (attribute names
// as terraform-provider-aws writes them; tests/fixtures/adopt/gen_eks_access.py).

const EKS_ACCESS: &str = include_str!("../../tests/fixtures/adopt/eks-access.tfstate");

fn adopt_eks_access() -> Adoption {
    terraform(
        &[("eks-access.tfstate".to_owned(), EKS_ACCESS.to_owned())],
        &Options::default(),
    )
    .expect("the fixture reads")
}

fn all_files(a: &Adoption) -> String {
    a.files
        .iter()
        .map(|(p, t)| format!("--- {p}\n{t}"))
        .collect()
}

#[test]
fn access_entries_take_their_policy_associations() {
    let a = adopt_eks_access();
    let all = all_files(&a);
    let (spec, errors) = load(&a);
    assert!(errors.is_empty(), "{}\n{all}", errors.join("\n"));
    let spec = spec.expect("a spec");
    for (addr, rec) in a.records.values().flatten() {
        for (name, value) in &spec.resources[addr].attrs {
            if !value.has_unknown() {
                assert_eq!(rec.attrs.get(name), Some(value), "{addr}.{name}\n{all}");
            }
        }
    }
    let use1 = file(&a, "us-east-1");
    for want in [
        "eks_access_entry.admin:",
        // references: the adopted cluster, the adopted role (global)
        "cluster_name: \"${eks_cluster.main.name}\"",
        "principal_arn: \"${env.global.iam_role.platform_admin.arn}\"",
        "kubernetes_groups: [platform-admins]",
        "policy_arn: \"arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy\"",
        "namespaces: [team-a, team-b]",
        "eks_access_entry.nodes:",
        "type: EC2_LINUX",
        "principal_arn: \"${env.global.iam_role.platform_nodes.arn}\"",
    ] {
        assert!(use1.contains(want), "missing {want:?}:\n{use1}");
    }
    // EKS's own values stay out of the spec: generated usernames, a node entry's groups.
    for unwanted in ["{{SessionName}}", "system:node", "system:nodes"] {
        assert!(!use1.contains(unwanted), "{unwanted:?} in:\n{use1}");
    }
    let admin = record(&a, "us-east-1/eks_access_entry.admin");
    assert_eq!(
        admin.id,
        "platform:arn:aws:iam::123456789012:role/platform-admin"
    );
    assert_eq!(
        admin.arn.as_deref(),
        Some(
            "arn:aws:eks:us-east-1:123456789012:access-entry/platform/role/123456789012/platform-admin/1ac9"
        )
    );
    // The associations in the provider's order (by policy ARN), a cluster scope without
    // namespaces, as the provider reads them.
    let Some(Value::List(policies)) = admin.attrs.get("access_policies") else {
        panic!("no access_policies: {:?}", admin.attrs)
    };
    let json: Vec<serde_json::Value> = policies.iter().map(Value::to_json).collect();
    assert_eq!(
        json,
        vec![
            serde_json::json!({
                "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                "access_scope": {"type": "cluster"}
            }),
            serde_json::json!({
                "policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                "access_scope": {"type": "namespace", "namespaces": ["team-a", "team-b"]}
            }),
        ]
    );
    assert!(
        !record(&a, "us-east-1/eks_access_entry.nodes")
            .attrs
            .contains_key("access_policies")
    );
    for tf in [
        "aws_eks_access_policy_association.admin_view",
        "aws_eks_access_policy_association.admin_cluster",
    ] {
        assert!(
            a.adopted
                .iter()
                .any(|(t, addr)| t == tf && addr.to_string() == "us-east-1/eks_access_entry.admin"),
            "{tf} is folded into its entry"
        );
    }
    // An association without its entry is listed, not dropped.
    let orphan = a
        .unmapped
        .iter()
        .find(|u| u.address == "aws_eks_access_policy_association.ci")
        .expect("the orphan association is unmapped");
    assert!(orphan.reason.contains("not adopted"), "{}", orphan.reason);
    assert_eq!(a.unmapped.len(), 1, "{:?}", a.unmapped);
}

#[test]
fn irsa_roles_and_their_own_policies_go_to_their_region() {
    let a = adopt_eks_access();
    let all = all_files(&a);
    let (_, errors) = load(&a);
    assert!(errors.is_empty(), "{}\n{all}", errors.join("\n"));
    // Trusting us-east-1's adopted provider: us-east-1, and the policy only it attaches follows.
    record(&a, "us-east-1/iam_role.app");
    record(&a, "us-east-1/iam_policy.app_read");
    let use1 = file(&a, "us-east-1");
    assert!(use1.contains("\"${iam_policy.app_read.arn}\""), "{use1}");
    // Shared with a global role: the policy stays global.
    record(&a, "global/iam_policy.shared_read");
    assert!(
        use1.contains("\"${env.global.iam_policy.shared_read.arn}\""),
        "{use1}"
    );
    // Trusting eu-west-1's provider (not adopted): its issuer names the region.
    record(&a, "eu-west-1/iam_role.euw1_app");
    // Trusting two regions, or none: global.
    for addr in [
        "global/iam_role.both_regions",
        "global/iam_role.platform_admin",
        "global/iam_role.platform_cluster",
    ] {
        record(&a, addr);
    }
    // The API is global wherever the role is declared.
    assert_eq!(record(&a, "us-east-1/iam_role.app").region, "us-east-1");
    assert_eq!(
        record(&a, "eu-west-1/iam_role.euw1_app").region,
        "us-east-1"
    );
    // (comments wrap: compare words)
    let words = file(&a, "global")
        .split_whitespace()
        .filter(|w| *w != "#")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("kept in global: it trusts the OIDC providers of eu-west-1, us-east-1"),
        "{all}"
    );
}

// ---------------------------------------------------------------------------------------------
// One Terraform module per region: tests/fixtures/adopt/modules.tfstate is the platform above
// without its databases (the primary in module.use1 and the replica in module.euw1 are what
// made the two instances differ), so module.use1 and module.euw1 have the same shape.

const MODULES: &str = include_str!("../../tests/fixtures/adopt/modules.tfstate");

fn adopt_modules() -> Adoption {
    terraform(
        &[("modules.tfstate".to_owned(), MODULES.to_owned())],
        &Options::default(),
    )
    .expect("the fixture reads")
}

fn any_file<'a>(a: &'a Adoption, path: &str) -> &'a str {
    a.files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {path} among {:?}",
                a.files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

/// Every state record is a resource of the spec and the other way round, and where the spec's
/// values are known at load the recorded ones are equal, as are the dependencies.
fn assert_records_are_the_spec(a: &Adoption) {
    let all: String = a
        .files
        .iter()
        .map(|(p, t)| format!("--- {p}\n{t}"))
        .collect();
    let (spec, errors) = load(a);
    assert!(errors.is_empty(), "{}\n{all}", errors.join("\n"));
    let spec = spec.expect("a spec");
    let mut recorded: Vec<String> = a
        .records
        .values()
        .flatten()
        .map(|(x, _)| x.to_string())
        .collect();
    recorded.sort();
    let mut declared: Vec<String> = spec.resources.keys().map(|x| x.to_string()).collect();
    declared.sort();
    assert_eq!(recorded, declared, "{all}");
    for (addr, rec) in a.records.values().flatten() {
        let resource = &spec.resources[addr];
        for (name, value) in &resource.attrs {
            if value.has_unknown() {
                continue;
            }
            assert_eq!(
                rec.attrs.get(name),
                Some(value),
                "{addr}.{name}: recorded {:?}, the spec says {value:?}\n{all}",
                rec.attrs.get(name)
            );
        }
        assert_eq!(rec.deps, resource.deps, "{addr}: dependencies\n{all}");
    }
}

#[test]
fn module_instances_become_one_module_with_a_call_per_region() {
    let a = adopt_modules();
    assert_records_are_the_spec(&a);
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("module.use1 (us-east-1)") && n.contains("modules/adopted")),
        "{:?}",
        a.notes
    );
    let module = any_file(&a, "modules/adopted/module.yaml");
    let use1 = file(&a, "us-east-1");
    let euw1 = file(&a, "eu-west-1");
    // One call per region, named after the Terraform module instance.
    assert!(
        use1.contains("modules:\n  use1:\n    source: ../../modules/adopted\n"),
        "{use1}"
    );
    assert!(
        euw1.contains("  euw1:\n    source: ../../modules/adopted\n"),
        "{euw1}"
    );
    // The resources are in the module once; none is left in the regions' files.
    assert!(module.contains("  vpc.main:\n"), "{module}");
    assert!(!euw1.contains("vpc.main:"), "{euw1}");
    // Equal everywhere: literal in the module. Different: an input, passed literally.
    assert!(module.contains("description: EKS nodes"), "{module}");
    assert!(
        module.contains("cidr_block: \"${input.vpc_main_cidr_block}\""),
        "{module}"
    );
    assert!(euw1.contains("vpc_main_cidr_block: 10.20.0.0/16"), "{euw1}");
    assert!(use1.contains("vpc_main_cidr_block: 10.10.0.0/16"), "{use1}");
    // References inside the module stay references; outside ones are inputs passed as
    // references by the call.
    assert!(module.contains("vpc_id: \"${vpc.main.id}\""), "{module}");
    assert!(
        module.contains("node_role_arn: \"${input.eks_node_group_default_node_role_arn}\""),
        "{module}"
    );
    assert!(
        euw1.contains(
            "eks_node_group_default_node_role_arn: \"${env.global.iam_role.eks_node.arn}\""
        ),
        "{euw1}"
    );
    // count and for_each instances: the for_each value is an input (zones differ), the
    // instances' own values stay `each.value`, a list of every instance is `[*]`, and one
    // instance of a for_each whose key differs per region takes the key as an input.
    assert!(
        module.contains("for_each: \"${input.subnet_public_for_each}\""),
        "{module}"
    );
    assert!(
        module.contains("cidr_block: \"${each.value.cidr_block}\""),
        "{module}"
    );
    assert!(
        module.contains("subnet_ids: \"${subnet.private[*].id}\""),
        "{module}"
    );
    assert!(
        module.contains("subnet_id: \"${subnet.public[input.nat_gateway_main_subnet_id_key].id}\""),
        "{module}"
    );
    assert!(
        euw1.contains("nat_gateway_main_subnet_id_key: eu-west-1a"),
        "{euw1}"
    );
    // The state addresses the module's resources through their call.
    record(&a, "us-east-1/module.use1.subnet.private[1]");
    record(&a, "eu-west-1/module.euw1.subnet.public[\"eu-west-1a\"]");
    let vpc = record(&a, "eu-west-1/module.euw1.vpc.main");
    assert_eq!(
        vpc.attrs.get("cidr_block"),
        Some(&Value::Str("10.20.0.0/16".into()))
    );
    let nodes = record(&a, "eu-west-1/module.euw1.eks_node_group.default");
    assert!(
        nodes
            .deps
            .iter()
            .any(|d| d.to_string() == "eu-west-1/module.euw1.eks_cluster.main"),
        "{:?}",
        nodes.deps
    );
    assert!(
        a.adopted
            .iter()
            .any(|(tf, x)| tf == "module.use1.aws_vpc.main"
                && x.to_string() == "us-east-1/module.use1.vpc.main")
    );
    // A flat resource of the region reads the module's VPC through an output.
    assert!(
        use1.contains("vpc_id: \"${module.use1.vpc_main_id}\""),
        "{use1}"
    );
    assert!(
        module.contains("vpc_main_id: \"${vpc.main.id}\""),
        "{module}"
    );
    let bastion = record(&a, "us-east-1/security_group.bastion");
    assert_eq!(
        bastion.attrs.get("vpc_id"),
        Some(&Value::Str("vpc-use10001".into()))
    );
    assert!(
        bastion
            .deps
            .iter()
            .any(|d| d.to_string() == "us-east-1/module.use1.vpc.main"),
        "{:?}",
        bastion.deps
    );
}

#[test]
fn module_instances_of_different_shapes_stay_flat_and_say_why() {
    // The platform's module.use1 has the primary database, module.euw1 its replica.
    let a = adopt_platform();
    assert!(
        !a.files.iter().any(|(p, _)| p.starts_with("modules/")),
        "{:?}",
        a.files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let note = a
        .notes
        .iter()
        .find(|n| n.starts_with("module.euw1:"))
        .unwrap_or_else(|| panic!("no note on module.euw1: {:?}", a.notes));
    assert!(note.contains("written flat"), "{note}");
    assert!(
        note.contains("aws_db_instance.app_replica") && note.contains("aws_db_instance.app"),
        "{note}"
    );
    record(&a, "eu-west-1/vpc.main");
}

#[test]
fn one_root_module_per_region_with_the_same_module_call_becomes_one_module() {
    // The same platform as two states, one root per region, each calling `module.platform`.
    let doc: serde_json::Value = serde_json::from_str(MODULES).expect("the fixture is JSON");
    let split = |region_module: &str, with_root: bool| -> String {
        let mut d = doc.clone();
        let resources: Vec<serde_json::Value> = d["resources"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| match r["module"].as_str() {
                        Some(m) => m == region_module,
                        None => with_root,
                    })
                    .cloned()
                    .map(|mut r| {
                        if r["module"].is_string() {
                            r["module"] = "module.platform".into();
                        }
                        r
                    })
                    .collect()
            })
            .unwrap_or_default();
        d["resources"] = resources.into();
        d.to_string()
    };
    let a = terraform(
        &[
            ("use1.tfstate".to_owned(), split("module.use1", true)),
            ("euw1.tfstate".to_owned(), split("module.euw1", false)),
        ],
        &Options::default(),
    )
    .expect("the states read");
    assert_records_are_the_spec(&a);
    let module = any_file(&a, "modules/platform/module.yaml");
    assert!(module.contains("  vpc.main:\n"), "{module}");
    for env in ["us-east-1", "eu-west-1"] {
        assert!(
            file(&a, env).contains("  platform:\n    source: ../../modules/platform\n"),
            "{}",
            file(&a, env)
        );
    }
    record(&a, "eu-west-1/module.platform.vpc.main");
    record(&a, "us-east-1/module.platform.subnet.private[0]");
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("module.platform (euw1.tfstate) (eu-west-1)")),
        "{:?}",
        a.notes
    );
}

#[test]
fn a_value_only_some_instances_have_is_an_input_the_others_leave_out() {
    // module.euw1's log group has no retention: unset there, 90 days in module.use1.
    let mut doc: serde_json::Value = serde_json::from_str(MODULES).expect("the fixture is JSON");
    if let Some(rs) = doc["resources"].as_array_mut() {
        for r in rs {
            if r["module"] == "module.euw1" && r["type"] == "aws_cloudwatch_log_group" {
                r["instances"][0]["attributes"]["retention_in_days"] = serde_json::Value::Null;
            }
        }
    }
    let a = terraform(
        &[("modules.tfstate".to_owned(), doc.to_string())],
        &Options::default(),
    )
    .expect("reads");
    assert_records_are_the_spec(&a);
    let module = any_file(&a, "modules/adopted/module.yaml");
    assert!(
        module
            .contains("retention_in_days: \"${input.cloudwatch_log_group_eks_retention_in_days}\""),
        "{module}"
    );
    assert!(file(&a, "us-east-1").contains("cloudwatch_log_group_eks_retention_in_days: 90"));
    let rec = record(&a, "eu-west-1/module.euw1.cloudwatch_log_group.eks");
    assert_eq!(rec.attrs.get("retention_in_days"), None, "{rec:?}");
}

#[test]
fn a_for_each_with_one_instance_in_one_region_is_written_like_the_others() {
    // module.euw1 has its public subnet (and its association) in one zone only: alone, its
    // values agree with themselves, but the module writes them per key as module.use1 needs.
    let mut doc: serde_json::Value = serde_json::from_str(MODULES).expect("the fixture is JSON");
    if let Some(rs) = doc["resources"].as_array_mut() {
        for r in rs {
            let public = r["name"] == "public"
                && (r["type"] == "aws_subnet" || r["type"] == "aws_route_table_association");
            if r["module"] == "module.euw1"
                && public
                && let Some(insts) = r["instances"].as_array_mut()
            {
                insts.retain(|i| i["index_key"] != "eu-west-1b");
            }
        }
    }
    let a = terraform(
        &[("modules.tfstate".to_owned(), doc.to_string())],
        &Options::default(),
    )
    .expect("reads");
    assert_records_are_the_spec(&a);
    let module = any_file(&a, "modules/adopted/module.yaml");
    assert!(
        module.contains("cidr_block: \"${each.value.cidr_block}\""),
        "{module}"
    );
    record(&a, "eu-west-1/module.euw1.subnet.public[\"eu-west-1a\"]");
    record(&a, "us-east-1/module.use1.subnet.public[\"us-east-1b\"]");
}
