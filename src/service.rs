//! The AWS services regionctl talks to, and the facts each one brings: its name in the SDK's
//! request metadata, its IAM action prefix, and the request rate regionctl keeps under.
//!
//! One enum so that a new service is one variant: every `match` here is exhaustive, so a service
//! without a rate limit or an IAM prefix does not compile, and the tests below tie the enum to
//! the provider's rate table and to the IAM policies documented in `examples/ci/README.md`.

use std::fmt;

/// An AWS service regionctl uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Ec2,
    Eks,
    Rds,
    Elasticache,
    Iam,
    Route53,
    /// CloudWatch Logs.
    Logs,
    /// Key Management Service.
    Kms,
    /// Elastic Container Registry.
    Ecr,
    Sns,
    /// CloudWatch (metrics and alarms).
    Cloudwatch,
    /// The Resource Groups Tagging API: the tags of many resources in one paginated
    /// `GetResources` per region, for the kinds whose own describe calls return none.
    Tagging,
    /// The state backend's bucket, not a resource kind's service.
    S3,
}

/// Requests per second and burst for one (service, region).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Service {
    pub const ALL: [Service; 13] = [
        Service::Ec2,
        Service::Eks,
        Service::Rds,
        Service::Elasticache,
        Service::Kms,
        Service::Ecr,
        Service::Iam,
        Service::Route53,
        Service::Logs,
        Service::Sns,
        Service::Cloudwatch,
        Service::Tagging,
        Service::S3,
    ];

    /// The name used in `--request-rate`, in request counts and in the SDK's operation metadata
    /// (lowercase).
    pub fn name(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Eks => "eks",
            Service::Kms => "kms",
            Service::Ecr => "ecr",
            Service::Rds => "rds",
            Service::Elasticache => "elasticache",
            Service::Iam => "iam",
            Service::Route53 => "route53",
            Service::Logs => "logs",
            Service::Sns => "sns",
            Service::Cloudwatch => "cloudwatch",
            Service::Tagging => "tagging",
            Service::S3 => "s3",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// The prefix of the service's IAM actions (`ec2:DescribeVpcs`): the same word as its name
    /// for every service but the tagging API, whose actions are `tag:GetResources` and so on.
    pub fn iam_prefix(self) -> &'static str {
        match self {
            Service::Tagging => "tag",
            other => other.name(),
        }
    }

    /// The default request limit for one (service, region), all operations together: at or
    /// under AWS's documented default throttles, so one apply never throttles itself (it may
    /// still share the account with other tools). `None` is no service-wide limit; the
    /// operations may still have their own ([`Service::operation_rate`]).
    pub fn default_rate(self) -> Option<Rate> {
        let r = |per_second: f64, burst: f64| Some(Rate { per_second, burst });
        match self {
            // EC2 throttles each API action in its own bucket, per account and region, and has
            // no bucket for the service as a whole: the limits are per operation, below.
            // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
            Service::Ec2 => None,
            // Route 53: every request of the account also takes a token from one account-level
            // bucket (capacity 50, refill 10 per second). Kept at 10/s with a burst of 10.
            // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html
            Service::Route53 => r(10.0, 10.0),
            // CloudWatch Logs: CreateLogGroup, DeleteLogGroup and DescribeLogGroups are each 5
            // transactions per second per account and region ("CloudWatch Logs quotas"), and
            // one bucket covers every operation of the service.
            // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
            Service::Logs => r(5.0, 5.0),
            // CloudWatch: PutMetricAlarm and DeleteAlarms are 3 transactions per second per
            // account and region ("CloudWatch service quotas"), the lowest of the operations one
            // bucket covers; the burst is DescribeAlarms' 9, so a refresh reading the tags of a
            // few alarms does not crawl.
            Service::Cloudwatch => r(3.0, 9.0),
            // SNS: CreateTopic, DeleteTopic, SetTopicAttributes and ListSubscriptions are 10 or
            // more per second per account in every region ("Amazon SNS quotas").
            Service::Sns => r(10.0, 10.0),
            // KMS gives every operation its own quota ("Request quotas for each AWS KMS API
            // operation"), with reads far above writes: the limits are per operation, below.
            // https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
            Service::Kms => None,
            // Resource Groups Tagging API: its quotas page
            // (https://docs.aws.amazon.com/general/latest/gr/arg.html) gives no request rate for
            // GetResources that we could confirm; a refresh sends one paginated GetResources per
            // region, so 5/s (burst 10) costs nothing and stays under any plausible limit.
            Service::Tagging => r(5.0, 10.0),
            // AWS publishes no single figure for these; 10/s stays well under what they take.
            Service::Eks | Service::Rds | Service::Elasticache | Service::Iam | Service::Ecr => {
                r(10.0, 20.0)
            }
            // S3 (the state backend) scales per prefix far beyond what one run sends.
            Service::S3 => None,
        }
    }

    /// The limit of one operation's own bucket (per account and region, like AWS's), where AWS
    /// documents one that can bind before the service's limit; a request takes a token from
    /// both. Bursts stay at or under AWS's bucket capacities.
    pub fn operation_rate(self, operation: &str) -> Option<Rate> {
        let r = |per_second: f64, burst: f64| Some(Rate { per_second, burst });
        match self {
            // "Request token bucket sizes and refill rates": non-mutating actions (Describe*,
            // Get*, List*) 100 tokens refilled at 20 per second per action; mutating actions
            // refill at 5 per second. Kept at 20/s and 5/s, with bursts of 50 and 20.
            // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
            Service::Ec2 => {
                if is_read(operation) {
                    r(20.0, 50.0)
                } else {
                    r(5.0, 20.0)
                }
            }
            // "Request rate limits per API action" (capacity, refill per second):
            // CreateHealthCheck 50, 0.5; DeleteHealthCheck 15, 3; CreateHostedZone 40, 2;
            // DeleteHostedZone 40, 5. Every other action's own bucket (50, 10) equals the
            // account-level one, which the service limit already keeps under.
            // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/throttling-api-requests.html
            Service::Route53 => match operation {
                "CreateHealthCheck" => r(0.5, 10.0),
                "DeleteHealthCheck" => r(3.0, 10.0),
                "CreateHostedZone" => r(2.0, 10.0),
                "DeleteHostedZone" => r(5.0, 10.0),
                _ => None,
            },
            // "Request quotas for each AWS KMS API operation", per account and region: the
            // writes regionctl sends (CreateKey, CreateAlias, UpdateAlias, PutKeyPolicy,
            // EnableKeyRotation, ScheduleKeyDeletion, TagResource) are 5 to 15 per second, kept
            // at 5/s (burst 10); the reads (DescribeKey, GetKeyPolicy, GetKeyRotationStatus,
            // ListKeys, ListAliases, ListResourceTags) are 100 per second or more, kept at half
            // the lowest, 50/s. One bucket for all at the writes' 5/s made a plan of 56 keys
            // wait ten seconds for its reads.
            // https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
            Service::Kms => {
                if is_read(operation) {
                    r(50.0, 50.0)
                } else {
                    r(5.0, 10.0)
                }
            }
            // No per-operation figures published (or one service bucket at the lowest of them).
            Service::Eks
            | Service::Rds
            | Service::Elasticache
            | Service::Iam
            | Service::Logs
            | Service::Sns
            | Service::Cloudwatch
            | Service::Ecr
            | Service::Tagging
            | Service::S3 => None,
        }
    }

    /// Whether any operation of the service has a bucket of its own.
    pub fn has_operation_rates(self) -> bool {
        matches!(self, Service::Ec2 | Service::Route53 | Service::Kms)
    }

    /// Whether requests to the service are limited at all by default (as a whole or per
    /// operation).
    pub fn is_limited(self) -> bool {
        self.default_rate().is_some() || self.has_operation_rates()
    }
}

/// Whether an operation only reads (`Describe*`, `Get*`, `List*`): EC2 and KMS give reads
/// and writes buckets of their own.
fn is_read(operation: &str) -> bool {
    ["Describe", "Get", "List"]
        .iter()
        .any(|p| operation.starts_with(p))
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Service::ALL {
            assert_eq!(Service::from_name(s.name()), Some(s));
        }
        assert_eq!(Service::from_name("sqs"), None);
    }

    #[test]
    fn route53_limits_follow_its_documented_buckets() {
        let account = Service::Route53
            .default_rate()
            .expect("account-level limit");
        assert_eq!(account.per_second, 10.0);
        let create = Service::Route53
            .operation_rate("CreateHealthCheck")
            .expect("CreateHealthCheck has its own bucket");
        assert_eq!(create.per_second, 0.5);
        let delete = Service::Route53
            .operation_rate("DeleteHealthCheck")
            .expect("DeleteHealthCheck has its own bucket");
        assert_eq!(delete.per_second, 3.0);
        // AWS's per-action bucket capacities: a burst never exceeds them.
        for (op, capacity) in [
            ("CreateHealthCheck", 50.0),
            ("DeleteHealthCheck", 15.0),
            ("CreateHostedZone", 40.0),
            ("DeleteHostedZone", 40.0),
        ] {
            let rate = Service::Route53.operation_rate(op).expect("documented");
            assert!(
                rate.burst <= capacity && rate.burst <= account.burst,
                "{op}"
            );
        }
        assert_eq!(Service::Route53.operation_rate("ListHostedZones"), None);
    }

    #[test]
    fn ec2_reads_and_writes_take_separate_buckets() {
        assert_eq!(Service::Ec2.default_rate(), None);
        let read = Service::Ec2
            .operation_rate("DescribeVpcs")
            .expect("limited");
        let write = Service::Ec2.operation_rate("CreateVpc").expect("limited");
        assert_eq!((read.per_second, write.per_second), (20.0, 5.0));
        assert_eq!(
            Service::Ec2.operation_rate("DescribeVpcAttribute"),
            Some(read)
        );
        assert_eq!(
            Service::Ec2.operation_rate("ModifyVpcAttribute"),
            Some(write)
        );
    }

    #[test]
    fn every_service_but_s3_is_limited() {
        for s in Service::ALL {
            assert_eq!(s.is_limited(), s != Service::S3, "{s}");
        }
    }

    /// The read-only and apply policies in examples/ci/README.md must grant actions of every
    /// service a resource kind uses, or a CI run fails on its first call to it.
    #[test]
    fn ci_iam_policies_name_every_kind_service() {
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/README.md"),
        )
        .expect("examples/ci/README.md is readable");
        for kind in crate::kind::Kind::ALL {
            let service = kind.service();
            let action = format!("\"{}:", service.iam_prefix());
            assert!(
                readme.contains(&action),
                "examples/ci/README.md grants no {service} action, which {kind} needs"
            );
        }
        assert!(
            readme.contains("\"s3:"),
            "the S3 state backend needs s3 actions"
        );
        // The tagging API serves no kind of its own: a refresh reads RDS and ElastiCache tags
        // through it.
        assert!(
            readme.matches("\"tag:GetResources\"").count() >= 2,
            "both read policies need tag:GetResources, which every refresh of RDS or ElastiCache uses"
        );
    }
}
