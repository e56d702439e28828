//! A request rate limit shared by every client of one (service, region).
//!
//! AWS throttles per account, service and region (Route 53 per account), with token buckets per
//! operation where it documents them: EC2 gives every action its own bucket, refilled at 20 per
//! second for reads and 5 for mutating calls; Route 53 takes every request from an account bucket
//! (10 per second) and some from their action's own as well (CreateHealthCheck 0.5 per second).
//! The figures and their sources are in [`Service::default_rate`] and
//! [`Service::operation_rate`]. A three-region apply with ten changes in flight polls and mutates far faster than that, and
//! being throttled costs more than waiting: the SDK backs off exponentially, and its retry quota
//! runs dry, so later calls fail instead of retrying. So every request first takes a token from
//! its (service, region) bucket; the SDK's retries (throttling, 5xx) still apply behind it.
//!
//! The limit sits in the HTTP client, below the SDK's retry loop, so every attempt counts. It
//! wraps the SDK's own default HTTPS client; all buckets share its connection pool. The HTTP
//! client does not know which operation a request is: the request counter (an interceptor in
//! `clients`) marks every attempt with its [`OperationName`] for it.//!
//! A bucket also slows down when AWS throttles it anyway (another tool sharing the account, a
//! lower quota): every throttling answer of its (service, region) cuts its pace by 30 % (at most
//! once a second, never below [`MIN_PACE`] of the rate), and every successful answer gives back
//! 1 % of the rate: additive increase, multiplicative decrease, as TCP and the SDK's adaptive
//! mode do, so a bucket settles just under what AWS accepts.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Builder, ConnectorBuilder, tls};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

pub use crate::service::Rate;
use crate::service::Service;

/// The default limit of a service by its name (see [`Service::default_rate`]); `None` for a
/// service regionctl does not know or does not limit.
pub fn default_rate(service: &str) -> Option<Rate> {
    Service::from_name(service).and_then(Service::default_rate)
}

/// Reads `REGIONCTL_REQUEST_RATE` (`service=per_second[,service=...]`, `0` for no limit,
/// `off` for no limits at all) over the defaults, for accounts with raised quotas or other tools
/// competing for the same ones. A number replaces the service-wide limit and keeps the
/// operations' own; a service present with `None` (`0`, `off`) has neither. A service absent
/// from the map has no service-wide limit but keeps its operations' (EC2 by default).
pub fn rates_from_env(
    value: Option<&str>,
) -> Result<std::collections::BTreeMap<String, Option<Rate>>, String> {
    let mut out = std::collections::BTreeMap::new();
    for service in Service::ALL
        .into_iter()
        .filter(|s| s.default_rate().is_some())
    {
        out.insert(service.name().to_owned(), service.default_rate());
    }
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(out);
    };
    if value == "off" {
        // Every service present and `None`: no service limit and no operation limits either.
        for service in Service::ALL {
            out.insert(service.name().to_owned(), None);
        }
        return Ok(out);
    }
    for part in value.split(',') {
        let Some((service, rate)) = part.split_once('=') else {
            return Err(format!(
                "REGIONCTL_REQUEST_RATE: `{part}` is not service=requests_per_second"
            ));
        };
        let per_second: f64 = rate.trim().parse().map_err(|_| {
            format!("REGIONCTL_REQUEST_RATE: `{rate}` is not a number of requests per second")
        })?;
        if !per_second.is_finite() || per_second < 0.0 {
            return Err(format!(
                "REGIONCTL_REQUEST_RATE: {per_second} must be 0 (no limit) or more"
            ));
        }
        let rate = (per_second > 0.0).then_some(Rate {
            per_second,
            burst: per_second.max(1.0),
        });
        out.insert(service.trim().to_owned(), rate);
    }
    Ok(out)
}

/// The lowest share of its rate a throttled bucket slows down to.
pub const MIN_PACE: f64 = 0.25;

/// A token bucket. Callers reserve a token and sleep until it is theirs, so waiting callers are
/// served in arrival order and the bucket never needs a background task.
#[derive(Debug)]
pub struct Bucket {
    rate: Rate,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    last: Instant,
    /// The share of `rate` allowed now, from [`MIN_PACE`] to 1.
    pace: f64,
    last_cut: Option<Instant>,
}

impl Bucket {
    pub fn new(rate: Rate) -> Bucket {
        Bucket {
            rate,
            state: Mutex::new(BucketState {
                tokens: rate.burst,
                last: Instant::now(),
                pace: 1.0,
                last_cut: None,
            }),
        }
    }

    /// Takes one token at `now`; returns how long the caller must wait before sending.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let per_second = self.rate.per_second * state.pace;
        let refill = now.saturating_duration_since(state.last).as_secs_f64() * per_second;
        state.tokens = (state.tokens + refill).min(self.rate.burst) - 1.0;
        state.last = now.max(state.last);
        if state.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-state.tokens / per_second)
        }
    }

    /// AWS throttled a request sent through this bucket: slow down.
    pub fn throttled(&self, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Requests in flight together are throttled together; that is one signal, not many.
        if state
            .last_cut
            .is_some_and(|t| now.saturating_duration_since(t) < Duration::from_secs(1))
        {
            return;
        }
        state.pace = (state.pace * 0.7).max(MIN_PACE);
        state.last_cut = Some(now);
        tracing::debug!(pace = state.pace, "throttled: slowing down");
    }

    /// AWS answered a request sent through this bucket: speed back up a little.
    pub fn succeeded(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.pace = (state.pace + 0.01).min(1.0);
    }

    /// The share of the rate allowed now.
    pub fn pace(&self) -> f64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pace
    }
}

/// Whether an HTTP answer is AWS throttling: 429, or a 400 or 503 whose error type header or
/// body names a throttling code (EC2 answers `RequestLimitExceeded` with 503, the query APIs
/// `Throttling` with 400, S3 `SlowDown` with 503).
pub fn is_throttling(status: u16, error_type: Option<&str>, body: Option<&[u8]>) -> bool {
    if status == 429 {
        return true;
    }
    if status != 400 && status != 503 {
        return false;
    }
    let named = |text: &str| super::retry::THROTTLING.iter().any(|c| text.contains(c));
    error_type.is_some_and(named) || body.is_some_and(|b| named(&String::from_utf8_lossy(b)))
}

/// The operation a request is for (`DescribeVpcs`), put in the request's extensions on every
/// attempt by the request counter so the limit can take the operation's own token.
#[derive(Debug, Clone)]
pub struct OperationName(pub String);

/// The buckets one (service, region) sends through: the service's, if it has a limit, and one
/// per operation that has a limit of its own, created on first use.
#[derive(Debug)]
pub struct Limiter {
    service: Option<Bucket>,
    operations: Option<Service>,
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
}

impl Limiter {
    /// `operations`: whose [`Service::operation_rate`] to follow, `None` for no operation limits.
    pub fn new(service: Option<Rate>, operations: Option<Service>) -> Limiter {
        Limiter {
            service: service.map(Bucket::new),
            operations,
            buckets: Mutex::default(),
        }
    }

    /// Whether it limits anything at all.
    pub fn limits(&self) -> bool {
        self.service.is_some() || self.operations.is_some_and(Service::has_operation_rates)
    }

    /// The bucket of `operation`, if it has a limit of its own.
    fn operation_bucket(&self, operation: Option<&str>) -> Option<Arc<Bucket>> {
        let (service, op) = self.operations.zip(operation)?;
        let rate = service.operation_rate(op)?;
        Some(
            self.buckets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(op.to_owned())
                .or_insert_with(|| Arc::new(Bucket::new(rate)))
                .clone(),
        )
    }

    /// AWS throttled a request of `operation`: the service's bucket and the operation's slow
    /// down (AWS does not say which quota it hit).
    pub fn throttled(&self, operation: Option<&str>, now: Instant) {
        if let Some(b) = &self.service {
            b.throttled(now);
        }
        if let Some(b) = self.operation_bucket(operation) {
            b.throttled(now);
        }
    }

    /// AWS answered a request of `operation`: both buckets speed back up a little.
    pub fn succeeded(&self, operation: Option<&str>) {
        if let Some(b) = &self.service {
            b.succeeded();
        }
        if let Some(b) = self.operation_bucket(operation) {
            b.succeeded();
        }
    }

    /// Takes a token from the service's bucket and from the operation's (an unknown operation
    /// takes only the service's); returns how long the caller must wait before sending, the
    /// longer of the two waits.
    pub fn reserve(&self, operation: Option<&str>, now: Instant) -> Duration {
        let mut wait = self
            .service
            .as_ref()
            .map_or(Duration::ZERO, |b| b.reserve(now));
        if let Some(bucket) = self.operation_bucket(operation) {
            wait = wait.max(bucket.reserve(now));
        }
        wait
    }
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxy settings from the environment),
/// built the way the SDK builds it when none is configured.
pub fn default_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

/// An HTTP client that takes its tokens from `limiter` before each request it sends through
/// `inner`.
#[derive(Clone)]
pub struct Limited {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
}

impl Limited {
    pub fn new(inner: SharedHttpClient, limiter: Arc<Limiter>) -> Limited {
        Limited { inner, limiter }
    }
}

impl fmt::Debug for Limited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limited")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request.extension::<OperationName>().map(|o| o.0.clone());
        let wait = self.limiter.reserve(operation.as_deref(), Instant::now());
        let inner = self.inner.clone();
        if wait.is_zero() {
            return inner.call(request);
        }
        tracing::debug!(
            operation = operation.as_deref().unwrap_or("unknown"),
            wait_ms = wait.as_millis() as u64,
            "request rate limit"
        );
        HttpConnectorFuture::new(async move {
            tokio::time::sleep(wait).await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_free_then_requests_are_spaced_by_the_rate() {
        let bucket = Bucket::new(Rate {
            per_second: 5.0,
            burst: 5.0,
        });
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(bucket.reserve(t0), Duration::ZERO);
        }
        // The sixth waits one interval, the seventh two: reservations queue up.
        assert_eq!(bucket.reserve(t0), Duration::from_millis(200));
        assert_eq!(bucket.reserve(t0), Duration::from_millis(400));
        // A second later five tokens came back, two of them already promised.
        let later = t0 + Duration::from_secs(1);
        for _ in 0..3 {
            assert_eq!(bucket.reserve(later), Duration::ZERO);
        }
        assert!(bucket.reserve(later) > Duration::ZERO);
    }

    #[test]
    fn an_idle_bucket_refills_only_to_its_burst() {
        let bucket = Bucket::new(Rate {
            per_second: 10.0,
            burst: 2.0,
        });
        let later = Instant::now() + Duration::from_secs(60);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::from_millis(100));
    }

    #[test]
    fn an_operation_with_its_own_bucket_waits_for_it_and_the_service() {
        // Route 53 as documented: 10/s for the account, CreateHealthCheck refilled at 0.5/s.
        let limiter = Limiter::new(Service::Route53.default_rate(), Some(Service::Route53));
        let t0 = Instant::now();
        for _ in 0..10 {
            assert_eq!(
                limiter.reserve(Some("CreateHealthCheck"), t0),
                Duration::ZERO
            );
        }
        // The account bucket is empty too, but the health check bucket sets the pace: 2 s.
        assert_eq!(
            limiter.reserve(Some("CreateHealthCheck"), t0),
            Duration::from_secs(2)
        );
        // Another operation waits only for the account bucket (two tokens promised: 0.1 s and
        // now 0.2 s).
        assert_eq!(
            limiter.reserve(Some("ListHostedZones"), t0),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn ec2_operations_have_separate_buckets_and_no_service_bucket() {
        let limiter = Limiter::new(None, Some(Service::Ec2));
        let t0 = Instant::now();
        for _ in 0..20 {
            assert_eq!(limiter.reserve(Some("CreateSubnet"), t0), Duration::ZERO);
        }
        // The 21st mutating call waits for a refill at 5/s ...
        assert_eq!(
            limiter.reserve(Some("CreateSubnet"), t0),
            Duration::from_millis(200)
        );
        // ... while another action, and the reads, are not held up by it.
        assert_eq!(limiter.reserve(Some("CreateVpc"), t0), Duration::ZERO);
        for _ in 0..50 {
            assert_eq!(limiter.reserve(Some("DescribeVpcs"), t0), Duration::ZERO);
        }
        assert_eq!(
            limiter.reserve(Some("DescribeVpcs"), t0),
            Duration::from_millis(50)
        );
        // A request whose operation is unknown is not limited (EC2 has no service bucket).
        assert_eq!(limiter.reserve(None, t0), Duration::ZERO);
        assert!(limiter.limits());
        assert!(!Limiter::new(None, None).limits());
    }

    #[test]
    fn kms_reads_are_not_held_to_the_writes_rate() {
        let limiter = Limiter::new(default_rate("kms"), Some(Service::Kms));
        let t0 = Instant::now();
        // A plan reading 50 keys' policies goes at once ...
        for _ in 0..50 {
            assert_eq!(limiter.reserve(Some("GetKeyPolicy"), t0), Duration::ZERO);
        }
        assert_eq!(
            limiter.reserve(Some("GetKeyPolicy"), t0),
            Duration::from_millis(20)
        );
        // ... and the writes keep their own 5/s after a burst of 10.
        for _ in 0..10 {
            assert_eq!(limiter.reserve(Some("CreateKey"), t0), Duration::ZERO);
        }
        assert_eq!(
            limiter.reserve(Some("CreateKey"), t0),
            Duration::from_millis(200)
        );
        assert!(limiter.limits());
    }

    #[test]
    fn off_lifts_operation_limits_too() {
        let rates = rates_from_env(Some("off")).expect("valid");
        assert_eq!(rates.get("ec2"), Some(&None), "EC2 explicitly unlimited");
        let rates = rates_from_env(None).expect("defaults");
        assert_eq!(rates.get("ec2"), None, "EC2: operation limits only");
    }

    #[test]
    fn rates_come_from_defaults_and_the_environment() {
        let rates = rates_from_env(None).expect("defaults");
        assert_eq!(rates["route53"], default_rate("route53"));
        let rates = rates_from_env(Some("ec2=100, route53=0")).expect("valid");
        assert_eq!(
            rates["ec2"],
            Some(Rate {
                per_second: 100.0,
                burst: 100.0
            })
        );
        assert_eq!(rates["route53"], None);
        assert_eq!(rates["eks"], default_rate("eks"));
        assert!(
            rates_from_env(Some("off"))
                .expect("valid")
                .values()
                .all(Option::is_none)
        );
        let err = rates_from_env(Some("ec2")).expect_err("no rate");
        assert!(err.contains("service=requests_per_second"), "{err}");
        assert!(rates_from_env(Some("ec2=fast")).is_err());
        assert!(rates_from_env(Some("ec2=-1")).is_err());
    }

    #[test]
    fn a_throttled_bucket_slows_down_then_recovers() {
        let bucket = Bucket::new(Rate {
            per_second: 10.0,
            burst: 1.0,
        });
        let t0 = Instant::now();
        assert_eq!(bucket.reserve(t0), Duration::ZERO);
        assert_eq!(bucket.reserve(t0), Duration::from_millis(100));
        bucket.throttled(t0);
        // A burst of throttling answers is one signal.
        bucket.throttled(t0 + Duration::from_millis(10));
        assert!((bucket.pace() - 0.7).abs() < 1e-9, "{}", bucket.pace());
        for s in 1..20 {
            bucket.throttled(t0 + Duration::from_secs(s));
        }
        assert_eq!(bucket.pace(), MIN_PACE, "never slower than the floor");
        // At a quarter of the pace a token takes 400 ms instead of 100.
        let later = t0 + Duration::from_secs(100);
        bucket.reserve(later);
        let wait = bucket.reserve(later);
        assert!(wait > Duration::from_millis(350), "{wait:?}");
        for _ in 0..200 {
            bucket.succeeded();
        }
        assert_eq!(bucket.pace(), 1.0);
    }

    #[test]
    fn throttling_answers_are_recognised_in_every_service_shape() {
        let ec2 = b"<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>";
        assert!(is_throttling(503, None, Some(ec2)));
        assert!(is_throttling(400, None, Some(b"<Code>Throttling</Code>")));
        assert!(is_throttling(400, Some("TooManyRequestsException"), None));
        assert!(is_throttling(429, None, None));
        assert!(!is_throttling(
            400,
            None,
            Some(b"<Code>InvalidParameterValue</Code>")
        ));
        assert!(!is_throttling(
            500,
            None,
            Some(b"<Code>InternalError</Code>")
        ));
        assert!(!is_throttling(200, None, Some(b"Throttling")));
    }
}
