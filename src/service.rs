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
    pub const ALL: [Service; 12] = [
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
            Service::S3 => "s3",
        }
    }

    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// The prefix of the service's IAM actions (`ec2:DescribeVpcs`): the same word as its name
    /// for every service regionctl uses.
    pub fn iam_prefix(self) -> &'static str {
        self.name()
    }

    /// The default request limit for one (service, region): at or under AWS's documented default
    /// throttles, so one apply never throttles itself (it may still share the account with other
    /// tools). `None` is no limit.
    pub fn default_rate(self) -> Option<Rate> {
        let r = |per_second: f64, burst: f64| Some(Rate { per_second, burst });
        match self {
            // EC2: non-mutating calls refill at 20/s, mutating ones at 5/s (bucket 200).
            Service::Ec2 => r(20.0, 50.0),
            // Route 53: 5 requests per second per account, all regions together.
            Service::Route53 => r(5.0, 5.0),
            // CloudWatch Logs: CreateLogGroup, DeleteLogGroup and DescribeLogGroups are each 5
            // transactions per second per account and region ("CloudWatch Logs quotas"), and
            // one bucket covers every operation of the service.
            Service::Logs => r(5.0, 5.0),
            // CloudWatch: PutMetricAlarm and DeleteAlarms are 3 transactions per second per
            // account and region ("CloudWatch service quotas"), the lowest of the operations one
            // bucket covers; the burst is DescribeAlarms' 9, so a refresh reading the tags of a
            // few alarms does not crawl.
            Service::Cloudwatch => r(3.0, 9.0),
            // SNS: CreateTopic, DeleteTopic, SetTopicAttributes and ListSubscriptions are 10 or
            // more per second per account in every region ("Amazon SNS quotas").
            Service::Sns => r(10.0, 10.0),
            // KMS: CreateKey, CreateAlias, UpdateAlias, PutKeyPolicy, EnableKeyRotation,
            // ScheduleKeyDeletion and TagResource are 5 requests per second per account and
            // region ("AWS KMS request quotas"); the reads are far higher, but one bucket covers
            // every operation of the service, so it keeps the writes under theirs.
            Service::Kms => r(5.0, 10.0),
            // AWS publishes no single figure for these; 10/s stays well under what they take.
            Service::Eks | Service::Rds | Service::Elasticache | Service::Iam | Service::Ecr => {
                r(10.0, 20.0)
            }
            // S3 (the state backend) scales per prefix far beyond what one run sends.
            Service::S3 => None,
        }
    }
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
    }
}
