//! Which failures are worth another try, and for how long.
//!
//! The SDK already retries throttling, 5xx answers and broken connections a few times per
//! request. What it cannot know is the meaning of an error in the middle of a multi-step change:
//!
//! - AWS is eventually consistent. Right after a create, another call naming the new resource may
//!   answer `InvalidVpcID.NotFound`, and a new IAM role may not be assumable by EKS yet.
//! - Deleting a subnet answers `DependencyViolation` while the ENIs of a cluster or NAT gateway
//!   that was just deleted drain, which takes minutes.
//! - A call retried after its answer was lost finds its own effect: `AlreadyExists`,
//!   `InvalidPermission.Duplicate`, `Resource.AlreadyAssociated`.
//!
//! [`classify`] sorts an error into those cases; the executor retries a change accordingly,
//! after finding again what an earlier attempt made. Every retry is bounded by [`Backoff`].
//!
//! Reads are another matter: a describe or list changes nothing, so throttling, a 5xx or a
//! broken connection on one is retried by [`patiently`] for a bounded *time*
//! ([`READ_PATIENCE`]) rather than a bounded number of attempts, with exponential backoff and
//! jitter. That is as patient as Terraform's AWS provider (25 attempts), never unbounded, and
//! a refresh no longer gives up on the third throttled describe of a busy account.

use std::time::{Duration, Instant};

use super::error::ProviderError;
use super::wait::WaitPolicy;

/// Why another attempt may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// AWS refused the request for its rate; nothing was done.
    Throttled,
    /// The answer was lost or was a server error: the request may or may not have taken effect.
    Ambiguous,
    /// Something just created is not visible to this call yet.
    NotYetVisible,
    /// The effect is already there (a retried request found its own earlier success, or an
    /// interrupted run made it).
    AlreadyDone,
    /// A delete is blocked by dependents that are still going away, or by a change in progress.
    InUse,
}

pub(crate) const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "SlowDown",
    "EC2ThrottledException",
    "BandwidthLimitExceeded",
    "ProvisionedThroughputExceededException",
];

const SERVER: &[&str] = &[
    "InternalError",
    "InternalFailure",
    // KMS's own 500 and its 503 for a dependency that did not answer in time.
    "KMSInternalException",
    "DependencyTimeoutException",
    "InternalServerError",
    "InternalServerException",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

const NOT_YET_VISIBLE: &[&str] = &[
    "DBSubnetGroupNotFoundFault",
    "CacheSubnetGroupNotFoundFault",
    "InvalidSubnet",
    "NoSuchEntity",
];

const ALREADY_DONE: &[&str] = &[
    "InvalidPermission.Duplicate",
    "Resource.AlreadyAssociated",
    "RouteAlreadyExists",
    "EntityAlreadyExists",
    "InvalidGroup.Duplicate",
    "DBInstanceAlreadyExists",
    "DBSubnetGroupAlreadyExists",
    "CacheSubnetGroupAlreadyExists",
    "ReplicationGroupAlreadyExists",
    "HostedZoneAlreadyExists",
    "HealthCheckAlreadyExists",
];

const IN_USE: &[&str] = &[
    "DependencyViolation",
    "InvalidIPAddress.InUse",
    "DeleteConflict",
    "InvalidDBSubnetGroupStateFault",
    "InvalidDBInstanceState",
    "InvalidDBInstanceStateFault",
    "CacheSubnetGroupInUse",
    "InvalidReplicationGroupState",
    "InvalidReplicationGroupStateFault",
    "HostedZoneNotEmpty",
    "HealthCheckInUse",
    "ConcurrentModification",
    "IncorrectState",
];

/// Sorts an error into a [`RetryClass`], or `None` when trying again cannot help (bad input,
/// a limit, permissions, a resource AWS reports failed).
pub fn classify(err: &ProviderError) -> Option<RetryClass> {
    let (code, message) = match err {
        // A refused connection, an unknown host, a failed TLS handshake or missing credentials
        // is the configuration, not a passing fault: the SDK has already tried again, and
        // waiting minutes more would only hide it. Resets and timeouts may pass.
        ProviderError::Transport { message, .. } => {
            return match super::error::TransportCause::of(message) {
                super::error::TransportCause::ConnectionRefused
                | super::error::TransportCause::Dns
                | super::error::TransportCause::Tls
                | super::error::TransportCause::Credentials => None,
                super::error::TransportCause::Timeout | super::error::TransportCause::Other => {
                    Some(RetryClass::Ambiguous)
                }
            };
        }
        ProviderError::Aws {
            code,
            message,
            status,
            ..
        } => {
            // A 5xx (but 501, "not implemented") is AWS's side failing, whatever the service
            // calls it; throttling codes that come as 503 are classified as throttling below.
            if *status >= 500 && *status != 501 && !THROTTLING.contains(&code.as_str()) {
                return Some(RetryClass::Ambiguous);
            }
            (code.as_str(), message.as_str())
        }
        // Foreign resources listed as blockers may still be draining (a load balancer Kubernetes
        // is deleting); the executor keeps the latest listing for its final error.
        ProviderError::Blocked { code, .. } => (code.as_str(), ""),
        _ => return None,
    };
    if THROTTLING.contains(&code) {
        return Some(RetryClass::Throttled);
    }
    if SERVER.contains(&code) || code.strip_prefix("HTTP 5").is_some() {
        return Some(RetryClass::Ambiguous);
    }
    if ALREADY_DONE.contains(&code) {
        return Some(RetryClass::AlreadyDone);
    }
    if IN_USE.contains(&code) {
        return Some(RetryClass::InUse);
    }
    if NOT_YET_VISIBLE.contains(&code)
        || (code.starts_with("Invalid") && code.ends_with(".NotFound"))
    {
        return Some(RetryClass::NotYetVisible);
    }
    // Messages, where AWS reuses a broad code for these cases.
    let lower = message.to_ascii_lowercase();
    match code {
        // EKS: "Role with arn: ... could not be assumed because it does not exist or the trusted
        // entity is not correct" just after the role was made.
        "InvalidParameterException" if lower.contains("could not be assumed") => {
            Some(RetryClass::NotYetVisible)
        }
        // EKS: a node group or add-on still being deleted, an update already running.
        "ResourceInUseException" if lower.contains("already exists") => {
            Some(RetryClass::AlreadyDone)
        }
        "ResourceInUseException" => Some(RetryClass::InUse),
        // Route 53: a CREATE retried after its answer was lost.
        "InvalidChangeBatch" if lower.contains("already exists") => Some(RetryClass::AlreadyDone),
        _ => None,
    }
}

/// How long a read keeps retrying throttling, server errors and broken connections: about what
/// Terraform's 25 attempts add up to against a throttling API.
pub const READ_PATIENCE: Duration = Duration::from_secs(300);

/// Runs the read `attempt` until it succeeds, fails in a way that is not throttling, a server
/// error or a broken connection, or [`READ_PATIENCE`] (times the policy's limit factor) has
/// passed. Delays double from one second (from the poll interval against an emulator) up to
/// 20 s (50 poll intervals), each drawn between half and all of that ("equal jitter"), so many
/// reads throttled together do not come back together. A cancelled run's pause ends at once
/// ([`super::wait::pause`]) and the last error is returned.
pub async fn patiently<T, F, Fut>(policy: &WaitPolicy, mut attempt: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let (first, longest) = match policy.fixed_delay {
        Some(d) => (
            d.max(Duration::from_millis(1)),
            d.max(Duration::from_millis(1)) * 50,
        ),
        None => (Duration::from_secs(1), Duration::from_secs(20)),
    };
    let deadline = Instant::now() + READ_PATIENCE.mul_f64(policy.limit_factor.max(0.0));
    let mut ceiling = first;
    let mut attempts = 0u32;
    loop {
        let err = match attempt().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        attempts += 1;
        if !matches!(
            classify(&err),
            Some(RetryClass::Throttled | RetryClass::Ambiguous)
        ) {
            return Err(err);
        }
        let delay = ceiling.mul_f64(0.5 + 0.5 * jitter());
        if Instant::now() + delay > deadline {
            return Err(err);
        }
        tracing::debug!(attempts, delay_ms = delay.as_millis() as u64, error = %err, "retrying a read");
        if super::wait::pause(delay).await.is_err() {
            return Err(err);
        }
        ceiling = (ceiling * 2).min(longest);
    }
}

/// A number in [0, 1), different on every call (no need for a good generator: it only spreads
/// retries apart).
fn jitter() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut z = STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(u64::from(seed));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Delays between attempts: doubling from `first` up to `longest`, until `limit` has passed
/// since the first failure.
#[derive(Debug, Clone)]
pub struct Backoff {
    delay: Duration,
    longest: Duration,
    deadline: Instant,
    attempts: u32,
    max_attempts: u32,
}

impl Backoff {
    /// For a change that failed with `class`. Creates and updates get a few attempts (an
    /// eventually consistent read settles in seconds); deletes blocked by draining dependents
    /// get minutes, as Terraform's AWS provider gives them.
    pub fn for_class(class: RetryClass, policy: &WaitPolicy) -> Backoff {
        let s = Duration::from_secs;
        let (first, longest, limit, max_attempts) = match class {
            RetryClass::AlreadyDone => (Duration::ZERO, Duration::ZERO, s(0), 2),
            RetryClass::Throttled | RetryClass::Ambiguous => (s(2), s(20), s(120), 6),
            RetryClass::NotYetVisible => (s(2), s(15), s(120), 8),
            RetryClass::InUse => (s(5), s(30), s(600), 60),
        };
        // Against an emulator (a fixed poll interval) the same number of attempts, faster. The
        // time limit of throttling and lost answers is not shortened: it must never be what
        // ends their attempts (each attempt's wait is short anyway), or a burst of throttling
        // fails a change that the next attempt would have made.
        let (first, longest, limit) = match policy.fixed_delay {
            Some(d) if class != RetryClass::AlreadyDone => {
                let scale = |x: Duration| d.mul_f64(x.as_secs_f64() / 2.0);
                let keep = matches!(class, RetryClass::Throttled | RetryClass::Ambiguous);
                (
                    scale(first),
                    scale(longest),
                    if keep { limit } else { scale(limit) },
                )
            }
            _ => (first, longest, limit),
        };
        Backoff {
            delay: first,
            longest,
            deadline: Instant::now() + limit.mul_f64(policy.limit_factor.max(0.0)),
            attempts: 1,
            max_attempts,
        }
    }

    /// How long to wait before the next attempt, or `None` when the retries are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self.attempts >= self.max_attempts {
            return None;
        }
        let now = Instant::now();
        if self.attempts > 1 && now + self.delay > self.deadline {
            return None;
        }
        self.attempts += 1;
        let delay = self.delay;
        self.delay = (self.delay * 2).min(self.longest);
        Some(delay)
    }

    /// Attempts made so far, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Subject;

    fn aws(code: &str, message: &str) -> ProviderError {
        with_status(code, message, 400)
    }

    fn with_status(code: &str, message: &str, status: u16) -> ProviderError {
        ProviderError::Aws {
            subject: Subject::Resource("eu-west-1/vpc.main".parse().expect("valid")),
            region: "eu-west-1".into(),
            operation: "CreateSubnet",
            code: code.into(),
            message: message.into(),
            status,
        }
    }

    /// Every service names its 500 in its own way (the tagging API `InternalServiceException`,
    /// IAM `ServiceFailure`, CloudWatch `InternalServiceFault`): the status says it, and a
    /// throttling code sent as a 503 stays throttling.
    #[test]
    fn any_5xx_is_aws_failing_whatever_its_code() {
        use RetryClass::*;
        for code in [
            "InternalServiceException",
            "ServiceFailure",
            "InternalServiceFault",
        ] {
            assert_eq!(
                classify(&with_status(code, "", 500)),
                Some(Ambiguous),
                "{code}"
            );
            assert_eq!(
                classify(&with_status(code, "", 400)),
                None,
                "{code} as a 400"
            );
        }
        assert_eq!(
            classify(&with_status("RequestLimitExceeded", "", 503)),
            Some(Throttled)
        );
        assert_eq!(classify(&with_status("SlowDown", "", 503)), Some(Throttled));
        assert_eq!(classify(&with_status("NotImplemented", "", 501)), None);
    }

    #[test]
    fn errors_are_sorted_by_what_another_attempt_can_do() {
        use RetryClass::*;
        let cases = [
            ("RequestLimitExceeded", "", Some(Throttled)),
            ("Throttling", "Rate exceeded", Some(Throttled)),
            ("HTTP 503", "", Some(Ambiguous)),
            ("InternalError", "", Some(Ambiguous)),
            ("KMSInternalException", "", Some(Ambiguous)),
            ("InvalidVpcID.NotFound", "", Some(NotYetVisible)),
            ("InvalidAllocationID.NotFound", "", Some(NotYetVisible)),
            ("DBSubnetGroupNotFoundFault", "", Some(NotYetVisible)),
            (
                "InvalidParameterException",
                "Role with arn: x could not be assumed because it does not exist",
                Some(NotYetVisible),
            ),
            ("InvalidParameterException", "bad version", None),
            ("InvalidPermission.Duplicate", "", Some(AlreadyDone)),
            (
                "InvalidChangeBatch",
                "Tried to create resource record set but it already exists",
                Some(AlreadyDone),
            ),
            ("InvalidChangeBatch", "bad name", None),
            ("DependencyViolation", "", Some(InUse)),
            (
                "ResourceInUseException",
                "Cluster has nodegroups attached",
                Some(InUse),
            ),
            ("VpcLimitExceeded", "", None),
            ("UnauthorizedOperation", "", None),
            ("InvalidParameterValue", "", None),
        ];
        for (code, message, want) in cases {
            assert_eq!(classify(&aws(code, message)), want, "{code}: {message}");
        }
        let transport = ProviderError::Transport {
            subject: Subject::Resource("eu-west-1/vpc.main".parse().expect("valid")),
            region: "eu-west-1".into(),
            operation: "CreateVpc",
            message: "connection reset".into(),
        };
        assert_eq!(classify(&transport), Some(Ambiguous));
        // Nothing listening is configuration: no patient retrying of it.
        let refused = ProviderError::Transport {
            subject: Subject::Resource("eu-west-1/vpc.main".parse().expect("valid")),
            region: "eu-west-1".into(),
            operation: "DescribeVpcs",
            message: "dispatch failure: io error: Connection refused (os error 111)".into(),
        };
        assert_eq!(classify(&refused), None);
    }

    #[test]
    fn every_backoff_ends() {
        let policy = WaitPolicy {
            fixed_delay: Some(Duration::from_millis(1)),
            limit_factor: 1.0,
        };
        for class in [
            RetryClass::Throttled,
            RetryClass::Ambiguous,
            RetryClass::NotYetVisible,
            RetryClass::AlreadyDone,
            RetryClass::InUse,
        ] {
            let mut b = Backoff::for_class(class, &policy);
            let mut n = 0;
            while b.next_delay().is_some() {
                n += 1;
                assert!(n < 100, "{class:?} never ends");
            }
            assert!(
                b.attempts() >= 2,
                "{class:?} gives at least one more attempt"
            );
        }
    }

    #[tokio::test]
    async fn reads_retry_throttling_for_a_bounded_time_not_a_number_of_attempts() {
        // 1 ms polls and a limit factor that makes READ_PATIENCE 300 ms.
        let policy = WaitPolicy {
            fixed_delay: Some(Duration::from_millis(1)),
            limit_factor: 0.001,
        };
        let started = Instant::now();
        let mut calls = 0u32;
        let result: Result<(), ProviderError> = patiently(&policy, || {
            calls += 1;
            async { Err(aws("RequestLimitExceeded", "")) }
        })
        .await;
        assert!(result.is_err());
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(240) && took <= Duration::from_millis(700),
            "gives up when the time is used up: {took:?}"
        );
        // Delays double from 1 ms to 50 ms: the time, not a count, ends it.
        assert!(calls >= 8, "{calls} attempts");

        let mut left = 5;
        let ok = patiently(&policy, || {
            left -= 1;
            let fail = left > 0;
            async move {
                if fail {
                    Err(aws("HTTP 503", ""))
                } else {
                    Ok(7)
                }
            }
        })
        .await;
        assert_eq!(ok.ok(), Some(7));
        let mut calls = 0;
        let bad: Result<(), _> = patiently(&policy, || {
            calls += 1;
            async { Err(aws("UnauthorizedOperation", "")) }
        })
        .await;
        assert!(bad.is_err());
        assert_eq!(calls, 1, "only throttling, 5xx and resets are retried");
    }

    #[test]
    fn jitter_spreads_between_zero_and_one() {
        let draws: Vec<f64> = (0..1000).map(|_| jitter()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.5).count();
        assert!((350..650).contains(&low), "{low}");
    }

    #[test]
    fn delays_double_up_to_the_longest() {
        let mut b = Backoff::for_class(RetryClass::Throttled, &WaitPolicy::default());
        let delays: Vec<u64> = std::iter::from_fn(|| b.next_delay())
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(delays, vec![2, 4, 8, 16, 20]);
    }
}
