//! The example platform and the DR example, every resource created through the provider against
//! the emulator with the values the real specs produce, found again by one batched refresh per
//! kind and region, and deleted.

use std::collections::BTreeSet;
use std::path::PathBuf;

use regionctl::kind::Kind;

use crate::support::emulator::Emulator;
use crate::support::platform;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

async fn lifecycle(project: PathBuf, stack: &str, expected: usize) {
    let emu = Emulator::start();
    let p = emu.provider(stack).await;
    let (spec, graph) = platform::load(&project);
    assert_eq!(spec.resources.len(), expected);

    let created = platform::create_all(&p, &spec, &graph).await;
    assert_eq!(created.len(), expected);
    for (addr, o) in &created {
        // Every kind that takes tags carries its identity tags (Route 53 records, KMS aliases,
        // SNS subscriptions and ECR replication configurations take none).
        if addr.block.kind.schema().taggable {
            assert_eq!(o.address_tag(), Some(addr.to_string().as_str()), "{addr}");
            assert_eq!(o.stack_tag(), Some(stack), "{addr}");
        }
    }

    // The alert addresses follow their confirmation links: SNS lists a subscription pending
    // confirmation without its ARN (a plan reads those by the ARN its state records).
    confirm_subscriptions(&emu, &created);

    // One refresh finds every resource, and nothing else (no default VPCs, no AWS-made groups).
    let counts_before = p.clients.requests();
    let before = counts_before.total();
    let mut jobs = regionctl::ops::refresh::jobs(&spec);
    // A plan adds the ids its state records to the spec's hints (ops::refresh::run). Two kinds
    // need them: an SNS subscription takes no tags and is found only by the ARN state records,
    // and an OIDC provider's url is the cluster's issuer, which this spec (loaded without
    // state) does not know. Every other kind is found by its tags or the names the spec gives.
    for job in &mut jobs {
        if matches!(job.kind, Kind::SnsSubscription | Kind::IamOidcProvider) {
            job.hints.ids.extend(
                created
                    .values()
                    .filter(|o| o.kind == job.kind && o.region == job.region)
                    .map(|o| o.id.clone()),
            );
        }
    }
    let job_count = jobs.len();
    let results = p
        .refresh_many(
            jobs.into_iter()
                .map(|j| (j.kind, j.region, j.hints))
                .collect(),
        )
        .await;
    let requests = p.clients.requests().total() - before;
    let mut found = BTreeSet::new();
    for (kind, region, result) in results {
        let observed = result.unwrap_or_else(|e| panic!("refresh {kind} in {region}: {e}"));
        for o in observed {
            let id = (o.kind, o.region.clone(), o.id.clone());
            assert!(found.insert(id), "{kind} {} listed twice", o.id);
        }
    }
    let expected_ids: BTreeSet<_> = created
        .values()
        .map(|o| (o.kind, o.region.clone(), o.id.clone()))
        .collect();
    let missing: Vec<_> = expected_ids.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected_ids).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not found again: {missing:?}; found but not created: {extra:?}"
    );
    read_once(&counts_before, &p.clients.requests(), &created);
    eprintln!("{stack}: refresh of {expected} resources: {requests} requests in {job_count} jobs");

    platform::delete_all(&p, &spec, &graph, &created).await;
    for (kind, region, result) in p
        .refresh_many(
            regionctl::ops::refresh::jobs(&spec)
                .into_iter()
                .map(|j| (j.kind, j.region, j.hints))
                .collect(),
        )
        .await
    {
        let left = result.unwrap_or_else(|e| panic!("refresh {kind} in {region}: {e}"));
        assert!(left.is_empty(), "{kind} in {region} left behind: {left:?}");
    }
}

/// Confirms every created SNS subscription as its endpoint would (the emulator's confirmation
/// token is the last part of the subscription ARN; AWS sends the real one to the endpoint).
fn confirm_subscriptions(
    emu: &Emulator,
    created: &std::collections::BTreeMap<
        regionctl::addr::InstanceAddr,
        regionctl::provider::Observed,
    >,
) {
    for o in created.values().filter(|o| o.kind == Kind::SnsSubscription) {
        let (topic, token) = o.id.rsplit_once(':').expect("a subscription ARN");
        let confirmed = emu.boto3(&format!(
            "print(client('sns', {region:?}).confirm_subscription(TopicArn={topic:?}, \
             Token={token:?})['SubscriptionArn'])",
            region = o.region
        ));
        assert_eq!(confirmed.trim(), o.id);
    }
}

/// What several kinds start from is read once per refresh (issue 16): one ListClusters per
/// region and one DescribeCluster per cluster for every EKS kind together, one ListHostedZones
/// for zones and records, one DescribeCacheClusters per region.
fn read_once(
    before: &regionctl::provider::RequestCount,
    after: &regionctl::provider::RequestCount,
    created: &std::collections::BTreeMap<
        regionctl::addr::InstanceAddr,
        regionctl::provider::Observed,
    >,
) {
    let made = |op: &str, region: &str| -> u64 {
        let count = |c: &regionctl::provider::RequestCount| -> u64 {
            c.by_key
                .iter()
                .filter(|(k, _)| k.operation == op && k.region == region)
                .map(|(_, n)| n)
                .sum()
        };
        count(after) - count(before)
    };
    let regions: BTreeSet<&str> = created.values().map(|o| o.region.as_str()).collect();
    for region in regions {
        let clusters = created
            .values()
            .filter(|o| o.kind == Kind::EksCluster && o.region == region)
            .count() as u64;
        assert_eq!(made("DescribeCluster", region), clusters, "{region}");
        assert!(made("ListClusters", region) <= 1, "{region}");
        assert!(made("ListHostedZones", region) <= 1, "{region}");
        assert!(made("DescribeCacheClusters", region) <= 1, "{region}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_platform_is_created_found_and_deleted() {
    lifecycle(root(), "platform", 121).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dr_example_with_its_cross_region_replica() {
    lifecycle(root().join("examples/active-passive-dr"), "dr", 31).await;
}
