//! The request rate limits follow AWS's per-operation buckets through the real SDK: the limit in
//! the HTTP client learns each request's operation from the request counter's mark, so EC2's
//! mutating calls are paced by their own bucket (5 per second after a burst of 20) while its
//! reads are not held up by them.

use std::time::{Duration, Instant};

use crate::support::emulator::Emulator;

#[tokio::test(flavor = "multi_thread")]
async fn ec2_mutating_calls_are_paced_by_their_own_bucket() {
    let emu = Emulator::start();
    let p = emu.provider("rates").await;
    let ec2 = p.clients.ec2("eu-west-1");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("a VPC id");

    // 30 CreateTags: 20 from the burst, then one every 200 ms: at least 2 s of waiting.
    let started = Instant::now();
    for i in 0..30 {
        ec2.create_tags()
            .resources(&vpc)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("n")
                    .value(i.to_string())
                    .build(),
            )
            .send()
            .await
            .expect("CreateTags");
    }
    let writes = started.elapsed();
    assert!(
        writes >= Duration::from_millis(1900),
        "30 mutating calls took {writes:?}: not paced at 5/s after a burst of 20"
    );
    // Then 30 reads at once: were they paced by the (now empty) mutating bucket, they would
    // take 6 s; their own bucket has a burst of 50.
    let started = Instant::now();
    for _ in 0..30 {
        ec2.describe_vpcs()
            .vpc_ids(&vpc)
            .send()
            .await
            .expect("DescribeVpcs");
    }
    let reads = started.elapsed();
    assert!(
        reads < Duration::from_secs(4),
        "30 reads after the writes took {reads:?}: the reads have a bucket of their own"
    );
    assert_eq!(p.clients.requests().operation("CreateTags"), 30);
}
