//! `ecr_repository` and `ecr_replication_configuration` against the emulator, through the real
//! SDK: a repository with scan on push, immutable tags, a lifecycle policy (compared as JSON)
//! and KMS encryption, read back as the spec; refresh by hints in one DescribeRepositories;
//! update in place; adoption after a crash; the registry replicating from the primary region to
//! the two others; values AWS refuses refused before any call; and the emulator answering as ECR
//! does where moto did not.

use std::collections::BTreeSet;

use crate::support::emulator::Emulator;
use crate::support::{Res, attr, attrs};
use regionctl::kind::Kind;
use regionctl::provider::{Attrs, Hints, Observed, ProviderError, Status};
use regionctl::spec::schema::compare::{AttrCmp, compare, compare_all};
use regionctl::spec::value::Value;
use serde_json::json;

fn assert_no_op(kind: Kind, desired: &Attrs, live: &Observed) {
    let out = compare_all(kind, desired, &live.attrs);
    assert!(
        out.values()
            .all(|c| matches!(c, AttrCmp::Same | AttrCmp::NotObservable)),
        "{out:?}\ndesired {desired:?}\nlive {:?}",
        live.attrs
    );
}

fn keep_last(count: u32) -> serde_json::Value {
    json!({"rules": [{
        "rulePriority": 1,
        "description": "keep the last images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count},
        "action": {"type": "expire"},
    }]})
}

#[tokio::test(flavor = "multi_thread")]
async fn repository_lifecycle() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let region = "eu-west-1";
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let r = Res::new(&format!("{region}/ecr_repository.api"));
    let ctx = r.ctx();
    let desired = attrs(json!({
        "name": "platform/api",
        "scan_on_push": true,
        "image_tag_mutability": "IMMUTABLE",
        "lifecycle_policy": keep_last(30),
        "encryption_type": "KMS",
        "kms_key": key,
        "tags": {"team": "platform"},
    }));
    let repo = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(repo.status, Status::Ready);
    assert_eq!(repo.id, "platform/api");
    assert_eq!(repo.attrs.get("scan_on_push"), Some(&Value::Bool(true)));
    assert_eq!(attr(&repo.attrs, "image_tag_mutability"), "IMMUTABLE");
    assert_eq!(attr(&repo.attrs, "encryption_type"), "KMS");
    assert_eq!(attr(&repo.attrs, "kms_key"), key);
    assert_eq!(repo.attrs.get("tags"), desired.get("tags"));
    assert_eq!(repo.stack_tag(), Some("tests"));
    assert_eq!(
        attr(&repo.computed, "repository_url"),
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/platform/api"
    );
    assert_no_op(Kind::EcrRepository, &desired, &repo);
    // The lifecycle policy as reformatted JSON text is the same.
    let text = serde_json::to_string_pretty(&keep_last(30)).expect("json");
    assert_eq!(
        compare(
            Kind::EcrRepository,
            "lifecycle_policy",
            Some(&Value::Str(text)),
            repo.attrs.get("lifecycle_policy")
        ),
        AttrCmp::Same
    );
    assert_eq!(
        p.read(&ctx, "platform/api").await.expect("read"),
        Some(repo.clone())
    );

    // Refresh: one DescribeRepositories; another stack's repository and one not named are not
    // the stack's.
    let other = emu.provider("other").await;
    other
        .create(
            &Res::new(&format!("{region}/ecr_repository.web")).ctx(),
            &attrs(json!({"name": "platform/web"})),
        )
        .await
        .expect("another stack's repository");
    let before = p.clients.requests();
    let hints = Hints {
        names: BTreeSet::from(["platform/api".to_owned(), "platform/web".to_owned()]),
        ..Hints::default()
    };
    let listed = p
        .refresh(Kind::EcrRepository, region, &hints)
        .await
        .expect("refresh");
    assert_eq!(listed, vec![repo.clone()]);
    let after = p.clients.requests();
    assert_eq!(
        after.operation("DescribeRepositories") - before.operation("DescribeRepositories"),
        1
    );

    // Update in place: scanning off, tags mutable, lifecycle policy removed, tags changed.
    let changed = attrs(json!({
        "name": "platform/api",
        "scan_on_push": false,
        "image_tag_mutability": "MUTABLE",
        "encryption_type": "KMS",
        "kms_key": key,
        "tags": {"team": "sre"},
    }));
    assert_eq!(
        compare(
            Kind::EcrRepository,
            "lifecycle_policy",
            None,
            repo.attrs.get("lifecycle_policy")
        ),
        AttrCmp::Differs,
        "a lifecycle policy removed from the spec is a change"
    );
    let updated = p
        .update_and_wait(&ctx, &repo, &changed)
        .await
        .expect("update");
    assert_eq!(updated.attrs.get("scan_on_push"), Some(&Value::Bool(false)));
    assert_eq!(attr(&updated.attrs, "image_tag_mutability"), "MUTABLE");
    assert_eq!(updated.attrs.get("lifecycle_policy"), None);
    assert_eq!(updated.attrs.get("tags"), changed.get("tags"));
    assert_eq!(updated.stack_tag(), Some("tests"));
    assert_no_op(Kind::EcrRepository, &changed, &updated);

    // Adoption: the create went through but its answer was lost.
    let found = p.find(&ctx, &changed).await.expect("find").expect("found");
    assert_eq!(found, updated);
    let retried = p.create(&ctx, &desired).await.expect("retried create");
    assert_eq!(retried.attrs.get("scan_on_push"), Some(&Value::Bool(true)));
    let err = other
        .create(&ctx, &desired)
        .await
        .expect_err("another stack's create of the name");
    assert!(err.to_string().contains("RepositoryAlreadyExists"), "{err}");

    // A repository with an image is deleted only with force_delete.
    emu.boto3(&format!(
        "client('ecr', '{region}').put_image(repositoryName='platform/api', imageTag='v1', \
         imageManifest=json.dumps({{'schemaVersion': 2, 'mediaType': 'application/vnd.docker.distribution.manifest.v2+json', 'config': {{}}, 'layers': []}}))"
    ));
    let err = p
        .delete(&ctx, &retried, &desired)
        .await
        .expect_err("not empty");
    assert!(err.to_string().contains("RepositoryNotEmpty"), "{err}");
    let mut forced = desired.clone();
    forced.insert("force_delete".to_owned(), Value::Bool(true));
    p.delete_and_wait(&ctx, &retried, &forced)
        .await
        .expect("forced delete");
    p.delete(&ctx, &retried, &forced)
        .await
        .expect("delete twice");
    assert!(p.read(&ctx, "platform/api").await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_registry_replicates_from_the_primary_region_to_the_others() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/ecr_replication_configuration.registry");
    let ctx = r.ctx();
    assert!(
        p.refresh(
            Kind::EcrReplicationConfiguration,
            "eu-west-1",
            &Hints::default()
        )
        .await
        .expect("refresh")
        .is_empty(),
        "no configuration yet"
    );
    let desired = attrs(json!({
        "destinations": [{"region": "us-east-1"}, {"region": "ap-southeast-1"}],
        "repository_filters": ["platform/"],
    }));
    let made = p.create_and_wait(&ctx, &desired).await.expect("create");
    assert_eq!(made.id, "123456789012");
    assert_no_op(Kind::EcrReplicationConfiguration, &desired, &made);
    let before = p.clients.requests();
    let listed = p
        .refresh(
            Kind::EcrReplicationConfiguration,
            "eu-west-1",
            &Hints::default(),
        )
        .await
        .expect("refresh");
    assert_eq!(listed, vec![made.clone()]);
    assert_eq!(
        p.clients.requests().total() - before.total(),
        1,
        "one DescribeRegistry"
    );
    // A destination order change is a change (ECR keeps the order given); dropping the filter
    // replicates every repository.
    let every =
        attrs(json!({"destinations": [{"region": "us-east-1"}, {"region": "ap-southeast-1"}]}));
    assert_eq!(
        compare(
            Kind::EcrReplicationConfiguration,
            "repository_filters",
            None,
            made.attrs.get("repository_filters")
        ),
        AttrCmp::Differs
    );
    let updated = p
        .update_and_wait(&ctx, &made, &every)
        .await
        .expect("update");
    assert_eq!(updated.attrs.get("repository_filters"), None);
    assert_no_op(Kind::EcrReplicationConfiguration, &every, &updated);
    // Replicating to its own region is refused before any call.
    let before = p.clients.requests().total();
    let err = p
        .update(
            &ctx,
            &updated,
            &attrs(json!({"destinations": [{"region": "eu-west-1"}]})),
        )
        .await
        .expect_err("own region");
    assert!(matches!(err, ProviderError::Invalid { .. }), "{err}");
    assert_eq!(p.clients.requests().total(), before);
    p.delete_and_wait(&ctx, &updated, &every)
        .await
        .expect("delete");
    assert!(
        p.refresh(
            Kind::EcrReplicationConfiguration,
            "eu-west-1",
            &Hints::default()
        )
        .await
        .expect("refresh")
        .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn values_ecr_refuses_are_refused_before_any_call() {
    let emu = Emulator::start();
    let p = emu.provider("tests").await;
    let r = Res::new("eu-west-1/ecr_repository.bad");
    for bad in [
        json!({"name": "Platform/API"}),
        json!({"name": "a"}),
        json!({"name": "ok/name", "encryption_type": "AES256", "kms_key": "arn:aws:kms:eu-west-1:1:key/k"}),
    ] {
        let before = p.clients.requests().total();
        let err = p
            .create(&r.ctx(), &attrs(bad.clone()))
            .await
            .expect_err("refused");
        assert!(matches!(err, ProviderError::Invalid { .. }), "{bad}: {err}");
        assert_eq!(p.clients.requests().total(), before, "{bad}: no request");
    }
}

/// The emulator answers as ECR does where moto did not (tests/emulator/regionctl_moto/ecr.py).
#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_answers_replication_as_ecr_does() {
    let emu = Emulator::start();
    let out = emu.boto3(
        "e = client('ecr', 'eu-west-1')\n\
         def put(rules):\n\
         \x20   try:\n\
         \x20       e.put_replication_configuration(replicationConfiguration={'rules': rules})\n\
         \x20       print('accepted', len(rules))\n\
         \x20   except Exception as x:\n\
         \x20       print('refused', len(rules), x.response['Error']['Code'])\n\
         dest = lambda r: {'region': r, 'registryId': '123456789012'}\n\
         put([{'destinations': [dest('us-east-1')]}, {'destinations': [dest('us-west-2')]}])\n\
         put([{'destinations': [dest('us-east-1')]}] * 11)\n\
         put([{'destinations': [dest('us-east-1')]}, {'destinations': [dest('eu-west-1')]}])\n",
    );
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "accepted 2",
            "refused 11 ValidationException",
            "refused 2 InvalidParameterException",
        ],
        "{out}"
    );
}
