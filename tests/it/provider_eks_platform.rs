//! The kinds that make an EKS cluster a platform, against the emulator through the real SDK:
//! `launch_template` (IMDSv2, root volume, instance tags; a change is a new default version; a
//! node group rolls to it in place), with create, read back as the spec under the declared
//! comparison, refresh in a fixed number of calls, update, adoption after a crash, delete.

use crate::provider_eks::{roles, subnets, with};
use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

const REGIONS: [&str; 2] = ["eu-west-1", "us-west-2"];

/// Asserts that `live` plans clean against `desired`: every attribute the same under the kind's
/// declared comparison.
fn assert_no_op(kind: Kind, desired: &Attrs, live: &Observed) {
    let out = compare_all(kind, desired, &live.attrs);
    assert!(
        out.values().all(|c| *c == AttrCmp::Same),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

fn template_spec(name: &str) -> Attrs {
    attrs(json!({
        "name": name,
        "http_tokens": "required",
        "http_put_response_hop_limit": 2,
        "http_endpoint": "enabled",
        "root_volume_size": 50,
        "root_volume_type": "gp3",
        "root_volume_encrypted": true,
        "instance_tags": {"team": "platform", "Name": "eks-node"},
        "tags": {"team": "platform"},
    }))
}

#[tokio::test(flavor = "multi_thread")]
async fn launch_template_lifecycle_in_two_regions() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    for region in REGIONS {
        let r = Res::new(&format!("{region}/launch_template.nodes"));
        let ctx = r.ctx();
        let desired = template_spec("eks-nodes");
        let created = p.create_and_wait(&ctx, &desired).await.expect("create");
        assert_eq!(created.status, Status::Ready);
        assert!(created.id.starts_with("lt-"), "{}", created.id);
        assert_eq!(attr(&created.computed, "id"), created.id);
        assert_eq!(attr(&created.computed, "latest_version"), "1");
        assert_eq!(attr(&created.computed, "default_version"), "1");
        let arn = attr(&created.computed, "arn");
        assert!(
            arn.starts_with(&format!("arn:aws:ec2:{region}:"))
                && arn.ends_with(&format!(":launch-template/{}", created.id)),
            "{arn}"
        );
        assert_eq!(attr(&created.attrs, "http_tokens"), "required");
        assert_eq!(
            created.attrs.get("http_put_response_hop_limit"),
            Some(&Value::Int(2))
        );
        assert_eq!(created.attrs.get("root_volume_size"), Some(&Value::Int(50)));
        assert_eq!(attr(&created.attrs, "root_volume_type"), "gp3");
        assert_eq!(
            created.attrs.get("root_volume_encrypted"),
            Some(&Value::Bool(true))
        );
        assert_eq!(attr(&created.attrs, "root_device_name"), "/dev/xvda");
        assert_eq!(
            created.attrs.get("instance_tags"),
            desired.get("instance_tags")
        );
        assert_eq!(
            created.attrs.get("tags"),
            desired.get("tags"),
            "user tags only"
        );
        assert_eq!(created.stack_tag(), Some("tests"));
        assert_no_op(Kind::LaunchTemplate, &desired, &created);
        assert_eq!(
            p.read(&ctx, &created.id)
                .await
                .expect("read")
                .expect("exists"),
            created
        );

        // Another stack's template is not listed, and the listing costs two calls whatever the
        // number of templates.
        let foreign = Res::new(&format!("{region}/launch_template.foreign"));
        other
            .create(&foreign.ctx(), &template_spec("foreign"))
            .await
            .expect("foreign template");
        let second = Res::new(&format!("{region}/launch_template.second"));
        let second = p
            .create(
                &second.ctx(),
                &attrs(json!({"name": "second", "http_tokens": "required"})),
            )
            .await
            .expect("second template");
        let before = p.clients.requests();
        let mut listed = p
            .refresh(Kind::LaunchTemplate, region, &Hints::default())
            .await
            .expect("refresh");
        listed.sort_by(|a, b| attr(&a.attrs, "name").cmp(attr(&b.attrs, "name")));
        assert_eq!(listed, vec![created.clone(), second.clone()]);
        let after = p.clients.requests();
        assert_eq!(after.total() - before.total(), 2, "{after:?}");

        // Adoption after a crash: the template an interrupted create made is found by its token.
        let found = p.find(&ctx, &desired).await.expect("find").expect("found");
        assert_eq!(found, created);

        // A data change is a new version, made the default; the template's own tags change in
        // place; a tags-only change makes no version.
        let changed = with(
            &desired,
            json!({"http_put_response_hop_limit": 1, "root_volume_size": 80, "instance_tags": null}),
        );
        assert_eq!(
            compare(
                Kind::LaunchTemplate,
                "instance_tags",
                None,
                created.attrs.get("instance_tags")
            ),
            AttrCmp::Differs,
            "instance tags removed from the spec are a change"
        );
        let updated = p
            .update_and_wait(&ctx, &created, &changed)
            .await
            .expect("update");
        assert_eq!(attr(&updated.computed, "latest_version"), "2");
        assert_eq!(attr(&updated.computed, "default_version"), "2");
        assert_eq!(updated.attrs.get("instance_tags"), None);
        assert_eq!(updated.attrs.get("root_volume_size"), Some(&Value::Int(80)));
        assert_no_op(Kind::LaunchTemplate, &changed, &updated);
        let retagged = with(&changed, json!({"tags": {"team": "sre"}}));
        let retagged_live = p
            .update_and_wait(&ctx, &updated, &retagged)
            .await
            .expect("retag");
        assert_eq!(attr(&retagged_live.computed, "latest_version"), "2");
        assert_no_op(Kind::LaunchTemplate, &retagged, &retagged_live);

        // Delete, and delete again.
        p.delete_and_wait(&ctx, &retagged_live, &retagged)
            .await
            .expect("delete");
        assert!(p.read(&ctx, &created.id).await.expect("read").is_none());
        p.delete(&ctx, &retagged_live, &retagged)
            .await
            .expect("deleting again succeeds");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_launch_template_version_rolls_the_node_group_in_place() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let (cluster_role, node_role) = roles(&p).await;
    let region = "eu-west-1";
    let subnet_ids = subnets(&p, region).await;
    let c = Res::new(&format!("{region}/eks_cluster.main"));
    p.create_and_wait(
        &c.ctx(),
        &attrs(json!({
            "name": "prod",
            "version": "1.31",
            "role_arn": cluster_role,
            "subnet_ids": subnet_ids,
        })),
    )
    .await
    .expect("cluster");
    let t = Res::new(&format!("{region}/launch_template.nodes"));
    let template_desired = template_spec("eks-nodes");
    let template = p
        .create_and_wait(&t.ctx(), &template_desired)
        .await
        .expect("template");

    let r = Res::new(&format!("{region}/eks_node_group.default"));
    let ctx = r.ctx();
    let desired = attrs(json!({
        "cluster_name": "prod",
        "name": "default",
        "node_role_arn": node_role,
        "subnet_ids": subnet_ids,
        "instance_types": ["m6i.large"],
        "launch_template_id": template.id,
        "launch_template_version": attr(&template.computed, "latest_version"),
        "scaling": {"min": 1, "desired": 2, "max": 3},
    }));
    let group = p.create_and_wait(&ctx, &desired).await.expect("node group");
    assert_eq!(attr(&group.attrs, "launch_template_id"), template.id);
    assert_eq!(attr(&group.attrs, "launch_template_version"), "1");
    assert_no_op(Kind::EksNodeGroup, &desired, &group);

    let template = p
        .update_and_wait(
            &t.ctx(),
            &template,
            &with(&template_desired, json!({"http_put_response_hop_limit": 1})),
        )
        .await
        .expect("new template version");
    let version = attr(&template.computed, "latest_version");
    assert_eq!(version, "2");
    let rolled = with(&desired, json!({"launch_template_version": version}));
    assert_eq!(
        compare(
            Kind::EksNodeGroup,
            "launch_template_version",
            rolled.get("launch_template_version"),
            group.attrs.get("launch_template_version")
        ),
        AttrCmp::Differs
    );
    let before = p.clients.requests();
    let group = p
        .update_and_wait(&ctx, &group, &rolled)
        .await
        .expect("roll");
    let after = p.clients.requests();
    assert_eq!(
        after.operation("UpdateNodegroupVersion") - before.operation("UpdateNodegroupVersion"),
        1
    );
    assert_eq!(
        after.operation("UpdateNodegroupConfig") - before.operation("UpdateNodegroupConfig"),
        0
    );
    assert_eq!(attr(&group.attrs, "launch_template_version"), "2");
    assert_eq!(attr(&group.attrs, "launch_template_id"), template.id);
    assert_no_op(Kind::EksNodeGroup, &rolled, &group);
}

fn issuer_url(region: &str, id: &str) -> String {
    format!("https://oidc.eks.{region}.amazonaws.com/id/{id}")
}

#[tokio::test(flavor = "multi_thread")]
async fn oidc_provider_lifecycle() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    let region = "eu-west-1";
    let url = issuer_url(region, "EXAMPLED539D4633E53DE1B71EXAMPLE");
    let r = Res::new(&format!("{region}/iam_oidc_provider.main"));
    let ctx = r.ctx();
    let desired = attrs(json!({"url": url, "tags": {"team": "platform"}}));
    let created = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(created.status, Status::Ready);
    let host = url.trim_start_matches("https://");
    assert!(
        created.id.starts_with("arn:aws:iam::")
            && created.id.ends_with(&format!(":oidc-provider/{host}")),
        "{}",
        created.id
    );
    assert_eq!(attr(&created.computed, "arn"), created.id);
    assert_eq!(attr(&created.computed, "issuer"), host);
    assert_eq!(attr(&created.attrs, "url"), url);
    // The audience IRSA tokens carry, and a thumbprint IAM worked out itself.
    assert_eq!(
        created.attrs.get("client_id_list"),
        Some(&Value::from_json(&json!(["sts.amazonaws.com"])))
    );
    assert!(created.attrs.contains_key("thumbprint_list"));
    assert_eq!(created.attrs.get("tags"), desired.get("tags"));
    assert_eq!(created.stack_tag(), Some("tests"));
    assert_no_op(Kind::IamOidcProvider, &desired, &created);
    assert_eq!(
        p.read(&ctx, &created.id)
            .await
            .expect("read")
            .expect("exists"),
        created
    );

    // Another stack's provider, named by the hints too, and one nobody names: one listing, and
    // one read per named provider.
    let foreign_url = issuer_url(region, "FOREIGN");
    let foreign = Res::new(&format!("{region}/iam_oidc_provider.foreign"));
    other
        .create(&foreign.ctx(), &attrs(json!({"url": foreign_url})))
        .await
        .expect("foreign provider");
    let unnamed = Res::new("us-west-2/iam_oidc_provider.main");
    p.create(
        &unnamed.ctx(),
        &attrs(json!({"url": issuer_url("us-west-2", "UNNAMED")})),
    )
    .await
    .expect("a provider the hints do not name");
    let hints = Hints {
        names: [url.clone(), foreign_url.clone()].into_iter().collect(),
        ..Hints::default()
    };
    let before = p.clients.requests();
    let listed = p
        .refresh(Kind::IamOidcProvider, region, &hints)
        .await
        .expect("refresh");
    assert_eq!(listed, vec![created.clone()]);
    let after = p.clients.requests();
    assert_eq!(
        after.operation("ListOpenIDConnectProviders")
            - before.operation("ListOpenIDConnectProviders"),
        1
    );
    assert_eq!(
        after.operation("GetOpenIDConnectProvider") - before.operation("GetOpenIDConnectProvider"),
        2
    );
    assert!(
        p.refresh(Kind::IamOidcProvider, region, &Hints::default())
            .await
            .expect("refresh")
            .is_empty()
    );

    // Adoption after a crash: found again by its URL and identity tags; creating it again takes
    // it over instead of failing.
    assert_eq!(
        p.find(&ctx, &desired).await.expect("find"),
        Some(created.clone())
    );
    assert_eq!(
        p.create(&ctx, &desired).await.expect("create again"),
        created
    );

    // Audiences and thumbprints managed exactly when given; tags in place.
    let thumbprint = "a".repeat(40);
    let changed = with(
        &desired,
        json!({
            "client_id_list": ["sts.amazonaws.com", "ci.example.com"],
            "thumbprint_list": [thumbprint],
            "tags": {"team": "sre"},
        }),
    );
    let updated = p
        .update_and_wait(&ctx, &created, &changed)
        .await
        .expect("update");
    assert_no_op(Kind::IamOidcProvider, &changed, &updated);
    assert_eq!(updated.id, created.id);
    let narrowed = with(&changed, json!({"client_id_list": ["sts.amazonaws.com"]}));
    assert_eq!(
        compare(
            Kind::IamOidcProvider,
            "client_id_list",
            narrowed.get("client_id_list"),
            updated.attrs.get("client_id_list")
        ),
        AttrCmp::Differs
    );
    let narrowed_live = p
        .update_and_wait(&ctx, &updated, &narrowed)
        .await
        .expect("remove an audience");
    assert_no_op(Kind::IamOidcProvider, &narrowed, &narrowed_live);

    p.delete_and_wait(&ctx, &narrowed_live, &narrowed)
        .await
        .expect("delete");
    assert!(p.read(&ctx, &created.id).await.expect("read").is_none());
    p.delete(&ctx, &narrowed_live, &narrowed)
        .await
        .expect("deleting again succeeds");
}

#[tokio::test(flavor = "multi_thread")]
async fn eks_addon_lifecycle() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let other = emu.provider("other").await;
    let (cluster_role, _) = roles(&p).await;
    let region = "eu-west-1";
    let subnet_ids = subnets(&p, region).await;
    let c = Res::new(&format!("{region}/eks_cluster.main"));
    p.create_and_wait(
        &c.ctx(),
        &attrs(json!({
            "name": "prod",
            "version": "1.31",
            "role_arn": cluster_role,
            "subnet_ids": subnet_ids,
        })),
    )
    .await
    .expect("cluster");

    // Without a version: the default for Kubernetes 1.31, waited for until ACTIVE.
    emu.set_delay("eks_addon", 2);
    let r = Res::new(&format!("{region}/eks_addon.coredns"));
    let ctx = r.ctx();
    let desired = attrs(json!({
        "cluster_name": "prod",
        "addon_name": "coredns",
        "resolve_conflicts": "OVERWRITE",
        "tags": {"team": "platform"},
    }));
    let created = p.create(&ctx, &desired).await.expect("create");
    assert_eq!(created.status, Status::Pending("CREATING".into()));
    assert_eq!(created.id, "prod/coredns");
    let addon = p.wait_ready(&ctx, &created.id).await.expect("ready");
    assert_eq!(addon.status, Status::Ready);
    assert_eq!(attr(&addon.attrs, "addon_version"), "v1.31.2-eksbuild.1");
    assert_eq!(attr(&addon.computed, "status"), "ACTIVE");
    assert!(attr(&addon.computed, "arn").starts_with(&format!("arn:aws:eks:{region}:")));
    assert_eq!(addon.attrs.get("tags"), desired.get("tags"));
    // resolve_conflicts is write-only: compared with the state, not AWS.
    let out = compare_all(Kind::EksAddon, &desired, &addon.attrs);
    assert_eq!(out.get("resolve_conflicts"), Some(&AttrCmp::NotObservable));
    assert!(
        out.iter()
            .all(|(k, v)| k == "resolve_conflicts" || *v == AttrCmp::Same),
        "{out:?}"
    );

    // Another stack's add-on in the same cluster is not the stack's; a refresh reads no cluster.
    let foreign = Res::new(&format!("{region}/eks_addon.foreign"));
    other
        .create_and_wait(
            &foreign.ctx(),
            &attrs(json!({"cluster_name": "prod", "addon_name": "kube-proxy"})),
        )
        .await
        .expect("foreign add-on");
    let hints = Hints {
        names: ["prod".to_owned(), "absent".to_owned()]
            .into_iter()
            .collect(),
        ..Hints::default()
    };
    let before = p.clients.requests();
    let listed = p
        .refresh(Kind::EksAddon, region, &hints)
        .await
        .expect("refresh");
    assert_eq!(listed, vec![addon.clone()]);
    let after = p.clients.requests();
    assert_eq!(
        after.operation("ListClusters"),
        before.operation("ListClusters")
    );
    assert_eq!(
        after.operation("DescribeCluster"),
        before.operation("DescribeCluster")
    );
    assert_eq!(
        after.operation("ListAddons") - before.operation("ListAddons"),
        2
    );
    assert_eq!(
        after.operation("DescribeAddon") - before.operation("DescribeAddon"),
        2
    );

    // Adoption after a crash, and a create retried finds its own add-on.
    assert_eq!(
        p.find(&ctx, &desired).await.expect("find"),
        Some(addon.clone())
    );
    assert_eq!(
        p.create(&ctx, &desired).await.expect("create again").id,
        addon.id
    );

    // Pin a version and give the service account a role: one UpdateAddon, waited for.
    let irsa = format!("arn:aws:iam::123456789012:role/{}", "coredns-irsa");
    let pinned = with(
        &desired,
        json!({"addon_version": "v1.31.1-eksbuild.1", "service_account_role_arn": irsa, "resolve_conflicts": "PRESERVE"}),
    );
    assert_eq!(
        compare(
            Kind::EksAddon,
            "addon_version",
            pinned.get("addon_version"),
            addon.attrs.get("addon_version")
        ),
        AttrCmp::Differs
    );
    let before = p.clients.requests();
    let updated = p
        .update_and_wait(&ctx, &addon, &pinned)
        .await
        .expect("update");
    assert_eq!(
        p.clients.requests().operation("UpdateAddon") - before.operation("UpdateAddon"),
        1
    );
    assert_eq!(updated.status, Status::Ready);
    assert_eq!(attr(&updated.attrs, "addon_version"), "v1.31.1-eksbuild.1");
    assert_eq!(attr(&updated.attrs, "service_account_role_arn"), irsa);

    // A version EKS does not offer for the cluster is refused by EKS, named in the error.
    let bad = with(&pinned, json!({"addon_version": "v9.9.9-eksbuild.1"}));
    let err = p.update(&ctx, &updated, &bad).await.expect_err("refused");
    assert!(err.to_string().contains("UpdateAddon"), "{err}");

    p.delete_and_wait(&ctx, &updated, &pinned)
        .await
        .expect("delete");
    assert!(p.read(&ctx, &addon.id).await.expect("read").is_none());
    p.delete(&ctx, &updated, &pinned)
        .await
        .expect("deleting again succeeds");
}

/// EKS gives every cluster its own OIDC issuer, and an IAM OIDC provider (what IRSA trusts) is
/// per issuer: two clusters of one region must not share one (moto drew one id per region; the
/// emulator extension fixes it).
#[test]
fn every_cluster_has_its_own_oidc_issuer() {
    let emu = Emulator::start();
    let out = emu.boto3(
        "eks = client('eks', 'eu-west-1')\n\
         issuers = []\n\
         for name in ['first', 'second']:\n    \
             c = eks.create_cluster(name=name, roleArn='arn:aws:iam::123456789012:role/eks', \
             resourcesVpcConfig={'subnetIds': []})['cluster']\n    \
             issuers.append(c['identity']['oidc']['issuer'])\n\
         print(json.dumps(issuers))\n",
    );
    let issuers: Vec<String> = serde_json::from_str(&out).expect("the issuers");
    assert_eq!(issuers.len(), 2);
    assert_ne!(issuers[0], issuers[1], "{issuers:?}");
    for issuer in &issuers {
        let id = issuer
            .strip_prefix("https://oidc.eks.eu-west-1.amazonaws.com/id/")
            .unwrap_or_else(|| panic!("{issuer}"));
        assert_eq!(id.len(), 32, "{issuer}");
    }
}
