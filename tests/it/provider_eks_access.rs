//! `eks_access_entry` and `eks_cluster.encryption_config` against the emulator, through the real
//! SDK: an access entry with its access policies (created, read back as the spec, listed only
//! for this stack, sharing the cluster reads of a refresh batch, adopted after a crash, groups and
//! policies updated exactly, deleted), a cluster in CONFIG_MAP mode listed without error, and
//! secrets encryption added to an existing cluster in place.

use crate::provider_eks::{roles, subnets, with};
use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";

fn assert_no_op(kind: Kind, desired: &Attrs, live: &Observed) {
    let out = compare_all(kind, desired, &live.attrs);
    assert!(
        out.values().all(|c| *c == AttrCmp::Same),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

/// The policy ARNs of an observed entry, each with its scope type and namespaces.
fn policies(o: &Observed) -> Vec<(String, String, Vec<String>)> {
    let Some(Value::List(items)) = o.attrs.get("access_policies") else {
        panic!("no access_policies in {:?}", o.attrs)
    };
    items
        .iter()
        .map(|i| {
            let j = i.to_json();
            let ns = j["access_scope"]["namespaces"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (
                j["policy_arn"].as_str().unwrap_or_default().to_owned(),
                j["access_scope"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                ns,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn access_entry_lifecycle_with_policies_managed_exactly() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    let (cluster_role, _) = roles(&p).await;
    let region = "eu-west-1";
    let subnet_ids = subnets(&p, region).await;
    let cluster = |name: &str, mode: Option<&str>| {
        let mut spec = json!({
            "name": name,
            "version": "1.31",
            "role_arn": cluster_role,
            "subnet_ids": subnet_ids,
        });
        if let Some(mode) = mode {
            spec["authentication_mode"] = json!(mode);
        }
        attrs(spec)
    };
    let c = Res::new(&format!("{region}/eks_cluster.main"));
    p.create_and_wait(&c.ctx(), &cluster("prod", Some("API_AND_CONFIG_MAP")))
        .await
        .expect("cluster");
    // A cluster of the stack still in CONFIG_MAP mode has no entries to list; EKS would refuse.
    let legacy = Res::new(&format!("{region}/eks_cluster.legacy"));
    p.create_and_wait(&legacy.ctx(), &cluster("legacy", None))
        .await
        .expect("legacy cluster");

    let ci = "arn:aws:iam::123456789012:role/ci/deployer";
    let r = Res::new(&format!("{region}/eks_access_entry.ci"));
    let ctx = r.ctx();
    let desired = attrs(json!({
        "cluster_name": "prod",
        "principal_arn": ci,
        "access_policies": [
            {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["team-b", "team-a"]}},
            {"policy_arn": ADMIN, "access_scope": {"type": "cluster"}},
        ],
        "tags": {"team": "platform"},
    }));
    let created = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(created.status, Status::Ready);
    assert_eq!(created.id, format!("prod:{ci}"));
    assert_eq!(attr(&created.computed, "id"), created.id);
    assert!(
        attr(&created.computed, "arn").starts_with(&format!("arn:aws:eks:{region}:")),
        "{:?}",
        created.computed
    );
    assert_eq!(attr(&created.attrs, "type"), "STANDARD");
    // EKS's generated username (role path dropped); the spec leaves it to EKS.
    assert_eq!(
        attr(&created.attrs, "username"),
        "arn:aws:sts::123456789012:assumed-role/deployer/{{SessionName}}"
    );
    assert_eq!(
        policies(&created),
        vec![
            (ADMIN.to_owned(), "cluster".to_owned(), vec![]),
            (
                VIEW.to_owned(),
                "namespace".to_owned(),
                vec!["team-a".to_owned(), "team-b".to_owned()]
            ),
        ]
    );
    assert_eq!(created.attrs.get("tags"), desired.get("tags"));
    assert_eq!(created.stack_tag(), Some("tests"));
    assert_no_op(Kind::EksAccessEntry, &desired, &created);
    assert_eq!(
        p.read(&ctx, &created.id).await.expect("read"),
        Some(created.clone())
    );

    // Another stack's entry on the same cluster is not listed.
    let foreign = Res::new(&format!("{region}/eks_access_entry.foreign"));
    other
        .create_and_wait(
            &foreign.ctx(),
            &attrs(json!({"cluster_name": "prod", "principal_arn": "arn:aws:iam::123456789012:role/other"})),
        )
        .await
        .expect("foreign entry");
    let hints = Hints {
        names: ["prod".to_owned()].into_iter().collect(),
        ..Hints::default()
    };
    let listed = p
        .refresh(Kind::EksAccessEntry, region, &hints)
        .await
        .expect("refresh");
    assert_eq!(listed, vec![created.clone()]);
    // Without hints (a region whose spec and state have no access entry): not a single call.
    let before = p.clients.requests();
    assert!(
        p.refresh(Kind::EksAccessEntry, region, &Hints::default())
            .await
            .expect("refresh")
            .is_empty()
    );
    assert_eq!(p.clients.requests().total(), before.total());
    // By the ids in state alone.
    let by_id = Hints {
        ids: [created.id.clone()].into_iter().collect(),
        ..Hints::default()
    };
    assert_eq!(
        p.refresh(Kind::EksAccessEntry, region, &by_id)
            .await
            .expect("refresh"),
        vec![created.clone()]
    );

    // In one refresh batch the cluster kind (which finds the stack's clusters in the tag index,
    // so no ListClusters) and the access entries share one DescribeCluster per cluster; entries
    // are listed only on the API-mode cluster.
    let both = Hints {
        names: ["prod".to_owned(), "legacy".to_owned()]
            .into_iter()
            .collect(),
        ..Hints::default()
    };
    let before = p.clients.requests();
    let results = p
        .refresh_many(vec![
            (Kind::EksCluster, region.to_owned(), Hints::default()),
            (Kind::EksAccessEntry, region.to_owned(), both),
        ])
        .await;
    let after = p.clients.requests();
    let found: Vec<Observed> = results
        .into_iter()
        .flat_map(|(_, _, r)| r.expect("refresh"))
        .filter(|o| o.kind == Kind::EksAccessEntry)
        .collect();
    assert_eq!(found, vec![created.clone()]);
    assert_eq!(
        after.operation("ListClusters") - before.operation("ListClusters"),
        0
    );
    assert_eq!(
        after.operation("DescribeCluster") - before.operation("DescribeCluster"),
        2,
        "one per cluster"
    );
    assert_eq!(
        after.operation("ListAccessEntries") - before.operation("ListAccessEntries"),
        1,
        "not on the CONFIG_MAP cluster"
    );
    assert_eq!(
        after.operation("ListAssociatedAccessPolicies")
            - before.operation("ListAssociatedAccessPolicies"),
        1,
        "only for the stack's entry"
    );

    // Adoption after a crash, and a create retried takes over its own entry.
    assert_eq!(
        p.find(&ctx, &desired).await.expect("find"),
        Some(created.clone())
    );
    assert_eq!(
        p.create(&ctx, &desired).await.expect("create again"),
        created
    );
    // Someone else's entry for the same principal is a conflict, not adopted.
    let taken = Res::new(&format!("{region}/eks_access_entry.taken"));
    let err = p
        .create(
            &taken.ctx(),
            &attrs(json!({"cluster_name": "prod", "principal_arn": "arn:aws:iam::123456789012:role/other"})),
        )
        .await
        .expect_err("another stack's entry");
    assert!(err.to_string().contains("CreateAccessEntry"), "{err}");

    // Groups set, the admin policy dropped, the view policy re-scoped, edit added.
    let changed = with(
        &desired,
        json!({
            "kubernetes_groups": ["deployers"],
            "access_policies": [
                {"policy_arn": VIEW, "access_scope": {"type": "cluster"}},
                {"policy_arn": EDIT, "access_scope": {"type": "namespace", "namespaces": ["apps"]}},
            ],
        }),
    );
    for name in ["kubernetes_groups", "access_policies"] {
        assert_eq!(
            compare(
                Kind::EksAccessEntry,
                name,
                changed.get(name),
                created.attrs.get(name)
            ),
            AttrCmp::Differs,
            "{name}"
        );
    }
    let before = p.clients.requests();
    let updated = p
        .update_and_wait(&ctx, &created, &changed)
        .await
        .expect("update");
    let after = p.clients.requests();
    assert_eq!(
        after.operation("AssociateAccessPolicy") - before.operation("AssociateAccessPolicy"),
        2
    );
    assert_eq!(
        after.operation("DisassociateAccessPolicy") - before.operation("DisassociateAccessPolicy"),
        1
    );
    assert_eq!(
        after.operation("UpdateAccessEntry") - before.operation("UpdateAccessEntry"),
        1
    );
    assert_eq!(
        policies(&updated),
        vec![
            (
                EDIT.to_owned(),
                "namespace".to_owned(),
                vec!["apps".to_owned()]
            ),
            (VIEW.to_owned(), "cluster".to_owned(), vec![]),
        ]
    );
    assert_eq!(
        updated.attrs.get("kubernetes_groups"),
        Some(&Value::from_json(&json!(["deployers"])))
    );
    assert_no_op(Kind::EksAccessEntry, &changed, &updated);

    // No policies in the spec: every association goes.
    let bare = with(&changed, json!({"access_policies": null}));
    let bare_live = p
        .update_and_wait(&ctx, &updated, &bare)
        .await
        .expect("update to none");
    assert!(policies(&bare_live).is_empty());
    assert_no_op(Kind::EksAccessEntry, &bare, &bare_live);

    p.delete_and_wait(&ctx, &bare_live, &bare)
        .await
        .expect("delete");
    assert!(p.read(&ctx, &created.id).await.expect("read").is_none());
    p.delete(&ctx, &bare_live, &bare)
        .await
        .expect("deleting again succeeds");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_entry_on_a_config_map_cluster_is_refused_by_eks() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let (cluster_role, _) = roles(&p).await;
    let region = "eu-west-1";
    let subnet_ids = subnets(&p, region).await;
    let c = Res::new(&format!("{region}/eks_cluster.main"));
    p.create_and_wait(
        &c.ctx(),
        &attrs(json!({"name": "prod", "role_arn": cluster_role, "subnet_ids": subnet_ids})),
    )
    .await
    .expect("cluster");
    let r = Res::new(&format!("{region}/eks_access_entry.ci"));
    let err = p
        .create(
            &r.ctx(),
            &attrs(json!({"cluster_name": "prod", "principal_arn": "arn:aws:iam::123456789012:role/ci"})),
        )
        .await
        .expect_err("CONFIG_MAP");
    assert!(err.to_string().contains("InvalidRequestException"), "{err}");
    // A refresh naming the cluster finds nothing rather than failing.
    let hints = Hints {
        names: ["prod".to_owned()].into_iter().collect(),
        ..Hints::default()
    };
    assert!(
        p.refresh(Kind::EksAccessEntry, region, &hints)
            .await
            .expect("refresh")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_encryption_is_added_to_an_existing_cluster_in_place() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let (cluster_role, _) = roles(&p).await;
    let region = "eu-west-1";
    let subnet_ids = subnets(&p, region).await;
    let key = |id: &str| format!("arn:aws:kms:{region}:123456789012:key/{id}");

    // Given at creation: read back as the spec.
    let a = Res::new(&format!("{region}/eks_cluster.a"));
    let with_key = attrs(json!({
        "name": "a", "role_arn": cluster_role, "subnet_ids": subnet_ids,
        "encryption_config": {"key_arn": key("1111")},
    }));
    let created = p
        .create_and_wait(&a.ctx(), &with_key)
        .await
        .expect("create");
    assert_eq!(
        created.attrs.get("encryption_config"),
        with_key.get("encryption_config")
    );
    assert_no_op(Kind::EksCluster, &with_key, &created);

    // Added later: one AssociateEncryptionConfig, waited for like any cluster update.
    let b = Res::new(&format!("{region}/eks_cluster.b"));
    let plain = attrs(json!({"name": "b", "role_arn": cluster_role, "subnet_ids": subnet_ids}));
    let bare = p.create_and_wait(&b.ctx(), &plain).await.expect("create");
    assert_eq!(bare.attrs.get("encryption_config"), None);
    assert_no_op(Kind::EksCluster, &plain, &bare);
    let wanted = with(
        &plain,
        json!({"encryption_config": {"key_arn": key("2222")}}),
    );
    assert_eq!(
        compare(
            Kind::EksCluster,
            "encryption_config",
            wanted.get("encryption_config"),
            bare.attrs.get("encryption_config")
        ),
        AttrCmp::Differs
    );
    emu.set_delay("eks_cluster", 2);
    let before = p.clients.requests();
    let updated = p
        .update_and_wait(&b.ctx(), &bare, &wanted)
        .await
        .expect("associate");
    assert_eq!(
        p.clients.requests().operation("AssociateEncryptionConfig")
            - before.operation("AssociateEncryptionConfig"),
        1
    );
    assert_eq!(updated.status, Status::Ready);
    assert_no_op(Kind::EksCluster, &wanted, &updated);

    // EKS never changes one: the emulator refuses a second association, as EKS does, and the
    // planner replaces instead (see the plan tests).
    let err = p
        .clients
        .eks(region)
        .associate_encryption_config()
        .cluster_name("b")
        .encryption_config(
            aws_sdk_eks::types::EncryptionConfig::builder()
                .provider(
                    aws_sdk_eks::types::Provider::builder()
                        .key_arn(key("3333"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("already encrypted");
    assert!(format!("{err:?}").contains("InvalidParameterException"));
}
