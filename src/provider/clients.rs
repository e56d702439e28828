//! AWS clients: one loaded configuration, one client per (service, region), and a count of every
//! request sent.
//!
//! The configuration comes from the standard chain (environment, shared config and credentials
//! files, SSO, web identity, IMDS), so `AWS_PROFILE`, `AWS_ENDPOINT_URL` and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>` variables work as in every AWS tool; `--endpoint-url` is the same
//! as `AWS_ENDPOINT_URL`. Clients are built lazily from that one configuration with the region
//! overridden, because a multi-region apply talks to every region at once.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;

use super::ratelimit::{
    Limited, Limiter, OperationName, Rate, default_https_client, is_throttling, rates_from_env,
};
use crate::service::Service;

/// How to load the AWS configuration; everything else comes from the standard chain.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Overrides `AWS_ENDPOINT_URL` (every service).
    pub endpoint_url: Option<String>,
    /// Overrides `AWS_PROFILE`.
    pub profile: Option<String>,
    /// Use the SDK's adaptive retry mode (client-side rate limiting) instead of standard.
    pub adaptive_retry: bool,
    /// Attempts per request, including the first (SDK default 3).
    pub max_attempts: Option<u32>,
    /// Request rate limits per service over the defaults (see [`super::ratelimit`]):
    /// `ec2=50,route53=5`, `0` for no limit on a service, `off` for none at all.
    pub request_rate: Option<String>,
}

/// One request counted: which service, operation and region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey {
    pub service: String,
    pub operation: String,
    pub region: String,
}

/// Counts of requests sent (every attempt, retries included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCount {
    pub by_key: BTreeMap<RequestKey, u64>,
}

impl RequestCount {
    pub fn total(&self) -> u64 {
        self.by_key.values().sum()
    }

    /// Requests of one operation (e.g. `DescribeVpcs`) in every region.
    pub fn operation(&self, operation: &str) -> u64 {
        self.by_key
            .iter()
            .filter(|(k, _)| k.operation == operation)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The interceptor that counts requests, shared by every client.
#[derive(Debug, Default)]
struct Counter {
    counts: Mutex<BTreeMap<RequestKey, u64>>,
}

impl Intercept for SharedCounter {
    fn name(&self) -> &'static str {
        "regionctl::RequestCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_default();
        let region = cfg
            .load::<Region>()
            .map(|r| r.as_ref().to_owned())
            .unwrap_or_default();
        tracing::debug!(%service, %operation, %region, "AWS request");
        let key = RequestKey {
            service,
            operation,
            region,
        };
        // A poisoned lock only means another thread panicked while counting; the counts are
        // still usable.
        let mut counts = self.0.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.entry(key).or_insert(0) += 1;
        Ok(())
    }

    /// Marks every attempt with its operation, for the operation's own rate limit bucket (the
    /// limit sits in the HTTP client, which cannot tell one operation from another). Per
    /// attempt, since a retried request is a copy without the original's extensions.
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            context
                .request_mut()
                .add_extension(OperationName(metadata.name().to_owned()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
struct SharedCounter(Arc<Counter>);

#[derive(Default)]
struct Cache {
    ec2: HashMap<String, aws_sdk_ec2::Client>,
    eks: HashMap<String, aws_sdk_eks::Client>,
    rds: HashMap<String, aws_sdk_rds::Client>,
    elasticache: HashMap<String, aws_sdk_elasticache::Client>,
    route53: HashMap<String, aws_sdk_route53::Client>,
    iam: HashMap<String, aws_sdk_iam::Client>,
    logs: HashMap<String, aws_sdk_cloudwatchlogs::Client>,
    sns: HashMap<String, aws_sdk_sns::Client>,
    cloudwatch: HashMap<String, aws_sdk_cloudwatch::Client>,
    kms: HashMap<String, aws_sdk_kms::Client>,
    ecr: HashMap<String, aws_sdk_ecr::Client>,
    tagging: HashMap<String, aws_sdk_resourcegroupstagging::Client>,
    s3: HashMap<String, aws_sdk_s3::Client>,
}

/// The loaded configuration and the clients built from it. Cheap to clone.
#[derive(Clone)]
pub struct Clients {
    config: SdkConfig,
    counter: SharedCounter,
    cache: Arc<Mutex<Cache>>,
    limits: Arc<Limits>,
}

/// The request rate limits: one [`Limiter`] per (service, region) (the service's bucket and its
/// operations'), created on first use, all in front of one HTTP client (one connection pool).
struct Limits {
    rates: BTreeMap<String, Option<Rate>>,
    http: SharedHttpClient,
    limiters: Mutex<HashMap<(Service, String), Arc<Limiter>>>,
}

impl Limits {
    /// The limiter of one (service, region): its service bucket and its operations' buckets.
    fn limiter(&self, service: Service, region: &str) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        limiters
            .entry((service, region.to_owned()))
            .or_insert_with(|| {
                let configured = self.rates.get(service.name());
                // Present with no rate: the user lifted every limit of the service.
                let lifted = configured == Some(&None);
                Arc::new(Limiter::new(
                    configured.copied().flatten(),
                    (!lifted).then_some(service),
                ))
            })
            .clone()
    }

    /// The HTTP client for one (service, region): the shared one, behind its limiter if the
    /// service or its operations have a limit.
    fn client(&self, service: Service, region: &str) -> SharedHttpClient {
        let limiter = self.limiter(service, region);
        if !limiter.limits() {
            return self.http.clone();
        }
        Limited::new(self.http.clone(), limiter).into_shared()
    }

    /// The interceptor telling the (service, region) limiter about throttling answers.
    fn feedback(&self, service: Service, region: &str) -> Feedback {
        let limiter = self.limiter(service, region);
        Feedback(limiter.limits().then_some(limiter))
    }
}

/// Tells a limiter how AWS answered every attempt sent through it (the SDK's own retries
/// included), so a throttled (service, region) slows down ([`super::ratelimit::Bucket::throttled`]).
#[derive(Debug)]
struct Feedback(Option<Arc<Limiter>>);

impl Intercept for Feedback {
    fn name(&self) -> &'static str {
        "regionctl::ThrottleFeedback"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (Some(limiter), Some(response)) = (&self.0, context.response()) else {
            return Ok(());
        };
        let operation = cfg.load::<Metadata>().map(|m| m.name());
        let status = response.status().as_u16();
        if status < 400 {
            limiter.succeeded(operation);
        } else if is_throttling(
            status,
            response.headers().get("x-amzn-errortype"),
            response.body().bytes(),
        ) {
            limiter.throttled(operation, std::time::Instant::now());
        }
        Ok(())
    }
}

impl fmt::Debug for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clients")
            .field("endpoint_url", &self.config.endpoint_url())
            .finish_non_exhaustive()
    }
}

/// A client getter per service: built once per region from the one loaded configuration, with
/// the request counter and the [`Service`]'s rate limit.
macro_rules! client_getter {
    ($(#[$doc:meta])* $name:ident, $krate:ident, $service:expr) => {
        $(#[$doc])*
        pub fn $name(&self, region: &str) -> $krate::Client {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache
                .$name
                .entry(region.to_owned())
                .or_insert_with(|| {
                    let conf = $krate::config::Builder::from(&self.config)
                        .region(Region::new(region.to_owned()))
                        .interceptor(self.counter.clone())
                        .interceptor(self.limits.feedback($service, region))
                        .http_client(self.limits.client($service, region))
                        .build();
                    $krate::Client::from_conf(conf)
                })
                .clone()
        }
    };
}

impl Clients {
    /// Loads the configuration from the standard chain. No request is made here: credentials are
    /// resolved on first use.
    pub async fn load(opts: &ClientOptions) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = &opts.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(profile) = &opts.profile {
            loader = loader.profile_name(profile);
        }
        // Only override the retry settings when asked: otherwise AWS_RETRY_MODE,
        // AWS_MAX_ATTEMPTS and the profile's settings apply, as in every AWS tool.
        if opts.adaptive_retry || opts.max_attempts.is_some() {
            let mut retry = if opts.adaptive_retry {
                RetryConfig::adaptive()
            } else {
                RetryConfig::standard()
            };
            if let Some(n) = opts.max_attempts {
                retry = retry.with_max_attempts(n);
            }
            loader = loader.retry_config(retry);
        }
        let rates = rates_from_env(opts.request_rate.as_deref()).unwrap_or_else(|e| {
            // The command line validates the value; a library caller gets the defaults.
            tracing::warn!("{e}; using the default request rates");
            rates_from_env(None).unwrap_or_default()
        });
        Clients::with_rates(loader.load().await, rates)
    }

    /// Clients with the default request rate limits.
    pub fn from_config(config: SdkConfig) -> Clients {
        Clients::with_rates(config, rates_from_env(None).unwrap_or_default())
    }

    fn with_rates(config: SdkConfig, rates: BTreeMap<String, Option<Rate>>) -> Clients {
        // A configured HTTP client (tests, custom TLS) is kept; otherwise the SDK's default.
        let http = config.http_client().unwrap_or_else(default_https_client);
        Clients {
            config,
            counter: SharedCounter::default(),
            cache: Arc::default(),
            limits: Arc::new(Limits {
                rates,
                http,
                limiters: Mutex::default(),
            }),
        }
    }

    /// The endpoint every service is sent to, when one is configured (an emulator).
    pub fn endpoint_url(&self) -> Option<&str> {
        self.config.endpoint_url()
    }

    /// Requests sent so far by every client built here.
    pub fn requests(&self) -> RequestCount {
        let counts = self
            .counter
            .0
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        RequestCount {
            by_key: counts.clone(),
        }
    }

    client_getter!(ec2, aws_sdk_ec2, Service::Ec2);
    client_getter!(eks, aws_sdk_eks, Service::Eks);
    client_getter!(rds, aws_sdk_rds, Service::Rds);
    client_getter!(elasticache, aws_sdk_elasticache, Service::Elasticache);
    client_getter!(route53, aws_sdk_route53, Service::Route53);
    client_getter!(iam, aws_sdk_iam, Service::Iam);
    client_getter!(logs, aws_sdk_cloudwatchlogs, Service::Logs);
    client_getter!(sns, aws_sdk_sns, Service::Sns);
    client_getter!(cloudwatch, aws_sdk_cloudwatch, Service::Cloudwatch);
    client_getter!(kms, aws_sdk_kms, Service::Kms);
    client_getter!(ecr, aws_sdk_ecr, Service::Ecr);
    client_getter!(
        /// The Resource Groups Tagging API (`provider::tag_index`).
        tagging,
        aws_sdk_resourcegroupstagging,
        Service::Tagging
    );

    /// S3 (the state backend). Path-style addressing when an endpoint is set, since emulators and
    /// S3-compatible stores rarely serve virtual-hosted buckets.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .s3
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_s3::config::Builder::from(&self.config)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.config.endpoint_url().is_some())
                    .interceptor(self.counter.clone())
                    .http_client(self.limits.client(Service::S3, region))
                    .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .clone()
    }
}
