//! One error type for everything the provider does, keeping what a user needs to act: the
//! resource address (or the kind being refreshed), the region, the AWS operation and the AWS
//! error code.

use std::fmt;
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::addr::InstanceAddr;
use crate::kind::Kind;

/// What an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// One resource instance.
    Resource(InstanceAddr),
    /// Every resource of a kind (a refresh).
    Kind(Kind),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Resource(addr) => write!(f, "{addr}"),
            Subject::Kind(kind) => write!(f, "every {kind}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// AWS answered with an error.
    #[error("{subject} in {region}: {operation} failed: {code}: {message}")]
    Aws {
        subject: Subject,
        region: String,
        /// The SDK operation, e.g. `CreateVpc`.
        operation: &'static str,
        /// The AWS error code, e.g. `InvalidParameterValue`, or `HTTP 500` when the answer had none.
        code: String,
        message: String,
        /// The answer's HTTP status: a 5xx is AWS's own failure, whichever code the service
        /// gives it (`InternalServiceException`, `ServiceFailure` ...), and may be retried.
        status: u16,
    },
    /// The request never got an AWS answer: connection refused, TLS, timeout, credentials.
    #[error("{subject} in {region}: {operation} could not reach AWS: {message}")]
    Transport {
        subject: Subject,
        region: String,
        operation: &'static str,
        message: String,
    },
    /// A wait ran out of time.
    #[error(
        "{subject} in {region}: still {status} after {}s, the limit for a {kind}",
        waited.as_secs()
    )]
    Timeout {
        subject: Subject,
        region: String,
        kind: Kind,
        status: String,
        waited: Duration,
    },
    /// AWS reports the resource in a terminal failure state.
    #[error("{subject} in {region}: AWS reports it {status}")]
    Failed {
        subject: Subject,
        region: String,
        status: String,
    },
    /// The resource disappeared while regionctl waited for it to become ready.
    #[error("{subject} in {region}: {id} no longer exists")]
    Vanished {
        subject: Subject,
        region: String,
        id: String,
    },
    /// The desired attributes cannot be sent (validation should have caught it), or AWS answered
    /// something the provider cannot make sense of.
    #[error("{subject} in {region}: {message}")]
    Invalid {
        subject: Subject,
        region: String,
        message: String,
    },
    /// A deletion AWS refused (`DependencyViolation`) because resources regionctl does not
    /// manage still use the resource: load balancers or network interfaces left by Kubernetes,
    /// stray security groups, instances.
    #[error(
        "{subject} in {region}: cannot delete {id}: {code}; these resources not managed by \
         regionctl still use it: {}. {}",
        blocker_list(.blockers),
        blocker_hint(.blockers)
    )]
    Blocked {
        subject: Subject,
        region: String,
        /// The AWS id of the resource that could not be deleted.
        id: String,
        /// The AWS error code, `DependencyViolation`.
        code: String,
        /// Never empty.
        blockers: Vec<Blocker>,
    },
    /// The run is being cancelled: a wait (or a pause between retries) was abandoned. What was
    /// asked of AWS was asked; the next run finds the resource and carries on.
    #[error("{subject} in {region}: stopped waiting (the run is being cancelled)")]
    Abandoned { subject: Subject, region: String },
}

/// What a blocker is, as AWS names the thing to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BlockerKind {
    Instance,
    NatGateway,
    NetworkInterface,
    SecurityGroup,
    Subnet,
    InternetGateway,
    RouteTable,
}

impl fmt::Display for BlockerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockerKind::Instance => "instance",
            BlockerKind::NatGateway => "NAT gateway",
            BlockerKind::NetworkInterface => "network interface",
            BlockerKind::SecurityGroup => "security group",
            BlockerKind::Subnet => "subnet",
            BlockerKind::InternetGateway => "internet gateway",
            BlockerKind::RouteTable => "route table",
        })
    }
}

/// One resource outside regionctl's stack that keeps a resource from being deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Blocker {
    pub kind: BlockerKind,
    /// The AWS id: `eni-...`, `sg-...`, `i-...`.
    pub id: String,
    /// What it is, for a person: `load balancer net/k8s-default-web-123`, a group's name.
    pub description: String,
}

impl Blocker {
    /// A network interface of an Elastic Load Balancing load balancer ("ELB net/...").
    pub fn is_load_balancer(&self) -> bool {
        self.description.starts_with("load balancer ")
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.description.is_empty() {
            write!(f, "{} ({})", self.id, self.kind)
        } else {
            write!(f, "{} ({})", self.id, self.description)
        }
    }
}

fn blocker_list(blockers: &[Blocker]) -> String {
    blockers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn blocker_hint(blockers: &[Blocker]) -> &'static str {
    if blockers.iter().any(Blocker::is_load_balancer) {
        "Delete them (or let Kubernetes delete its load balancers: remove the LoadBalancer \
         services and ingresses first) and run destroy again."
    } else {
        "Delete them and run destroy again."
    }
}

impl ProviderError {
    /// A resource that was just created, changed or waited for, and cannot be read any more.
    pub fn vanished(ctx: &super::Ctx<'_>, id: &str) -> ProviderError {
        ProviderError::Vanished {
            subject: ctx.subject(),
            region: ctx.region.to_owned(),
            id: id.to_owned(),
        }
    }

    /// The AWS error code, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ProviderError::Aws { code, .. } | ProviderError::Blocked { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn subject(&self) -> &Subject {
        match self {
            ProviderError::Aws { subject, .. }
            | ProviderError::Transport { subject, .. }
            | ProviderError::Timeout { subject, .. }
            | ProviderError::Failed { subject, .. }
            | ProviderError::Vanished { subject, .. }
            | ProviderError::Invalid { subject, .. }
            | ProviderError::Blocked { subject, .. }
            | ProviderError::Abandoned { subject, .. } => subject,
        }
    }

    pub fn region(&self) -> &str {
        match self {
            ProviderError::Aws { region, .. }
            | ProviderError::Transport { region, .. }
            | ProviderError::Timeout { region, .. }
            | ProviderError::Failed { region, .. }
            | ProviderError::Vanished { region, .. }
            | ProviderError::Invalid { region, .. }
            | ProviderError::Blocked { region, .. }
            | ProviderError::Abandoned { region, .. } => region,
        }
    }

    /// Maps an SDK error. Service errors keep their AWS code; answers without one (an HTML page
    /// from a proxy or emulator) are named by their HTTP status; the rest are transport errors.
    pub fn from_sdk<E, R>(
        err: SdkError<E, R>,
        subject: Subject,
        region: &str,
        operation: &'static str,
    ) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + HttpStatus,
    {
        let region = region.to_owned();
        match &err {
            SdkError::ServiceError(service) => {
                let code = match service.err().code() {
                    Some(code) => code.to_owned(),
                    None => format!("HTTP {}", service.raw().status()),
                };
                let message = service
                    .err()
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| DisplayErrorContext(service.err()).to_string());
                ProviderError::Aws {
                    subject,
                    region,
                    operation,
                    code,
                    message,
                    status: service.raw().status(),
                }
            }
            SdkError::ResponseError(response) => ProviderError::Aws {
                subject,
                region,
                operation,
                code: format!("HTTP {}", response.raw().status()),
                message: "AWS answered something that is not a valid response".to_owned(),
                status: response.raw().status(),
            },
            _ => ProviderError::Transport {
                subject,
                region,
                operation,
                message: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    pub fn invalid(ctx: &super::Ctx<'_>, message: impl Into<String>) -> ProviderError {
        ProviderError::Invalid {
            subject: ctx.subject(),
            region: ctx.region.to_owned(),
            message: message.into(),
        }
    }
}

/// The HTTP status of a raw response, for errors that carry no AWS code.
pub trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

/// The codes of a caller its IAM policy does not allow an operation (query, JSON and EC2
/// protocols spell it differently).
pub(in crate::provider) const ACCESS_DENIED: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
];

/// Whether an SDK error carries one of `codes` (e.g. the kind's "not found" codes).
pub fn has_code<E, R>(err: &SdkError<E, R>, codes: &[&str]) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .is_some_and(|code| codes.contains(&code)),
        _ => false,
    }
}

/// Shorthand used by every service module: `.map_err(aws(ctx_subject, region, "CreateVpc"))`.
pub fn aws<E, R>(
    subject: &Subject,
    region: &str,
    operation: &'static str,
) -> impl FnOnce(SdkError<E, R>) -> ProviderError + use<E, R>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + HttpStatus,
{
    let subject = subject.clone();
    let region = region.to_owned();
    move |err| ProviderError::from_sdk(err, subject, &region, operation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::operation::create_vpc::CreateVpcError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn subject() -> Subject {
        Subject::Resource("eu-west-1/vpc.main".parse().expect("valid"))
    }

    fn response(status: u16) -> Response {
        Response::new(
            StatusCode::try_from(status).expect("valid status"),
            SdkBody::from("<html>Internal Server Error</html>"),
        )
    }

    #[test]
    fn service_errors_keep_code_message_address_and_region() {
        let err = SdkError::service_error(
            CreateVpcError::generic(
                ErrorMetadata::builder()
                    .code("VpcLimitExceeded")
                    .message("The maximum number of VPCs has been reached.")
                    .build(),
            ),
            response(400),
        );
        let e = ProviderError::from_sdk(err, subject(), "eu-west-1", "CreateVpc");
        assert_eq!(e.code(), Some("VpcLimitExceeded"));
        assert_eq!(e.region(), "eu-west-1");
        assert_eq!(
            e.to_string(),
            "eu-west-1/vpc.main in eu-west-1: CreateVpc failed: VpcLimitExceeded: \
             The maximum number of VPCs has been reached."
        );
    }

    #[test]
    fn answers_without_a_code_are_named_by_their_http_status() {
        // What an emulator's unimplemented operation or a proxy's error page looks like.
        let err = SdkError::service_error(
            CreateVpcError::generic(ErrorMetadata::builder().build()),
            response(500),
        );
        let e = ProviderError::from_sdk(err, subject(), "eu-west-1", "CreateVpc");
        assert_eq!(e.code(), Some("HTTP 500"));
    }

    #[test]
    fn codes_are_matched_exactly() {
        let err: SdkError<CreateVpcError, Response> = SdkError::service_error(
            CreateVpcError::generic(
                ErrorMetadata::builder()
                    .code("InvalidVpcID.NotFound")
                    .build(),
            ),
            response(400),
        );
        assert!(has_code(&err, &["InvalidVpcID.NotFound"]));
        assert!(!has_code(&err, &["InvalidVpcID"]));
    }
}

/// Why a request got no AWS answer, in the words a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TransportCause {
    ConnectionRefused,
    Dns,
    Tls,
    Timeout,
    Credentials,
    Other,
}

impl TransportCause {
    /// Sorts an SDK error chain (as text: the SDK's connector errors are opaque types) into a cause.
    pub fn of(message: &str) -> TransportCause {
        let m = message.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
        if has(&[
            "credential",
            "expiredtoken",
            "security token",
            "no providers in chain",
        ]) {
            TransportCause::Credentials
        } else if has(&["connection refused", "os error 111", "os error 61"]) {
            TransportCause::ConnectionRefused
        } else if has(&[
            "dns",
            "failed to lookup address",
            "name or service not known",
            "nodename nor servname",
            "no such host",
        ]) {
            TransportCause::Dns
        } else if has(&["tls", "certificate", "handshake", "ssl"]) {
            TransportCause::Tls
        } else if has(&["timeout", "timed out"]) {
            TransportCause::Timeout
        } else {
            TransportCause::Other
        }
    }

    fn what(self) -> &'static str {
        match self {
            TransportCause::ConnectionRefused => {
                "the connection was refused (nothing listens there)"
            }
            TransportCause::Dns => "its host name does not resolve (DNS)",
            TransportCause::Tls => "the TLS handshake failed",
            TransportCause::Timeout => "the requests timed out",
            TransportCause::Credentials => {
                "no valid AWS credentials were found, or they have expired"
            }
            TransportCause::Other => "the requests failed before AWS answered",
        }
    }

    fn check(self) -> &'static str {
        match self {
            TransportCause::ConnectionRefused => {
                "check AWS_ENDPOINT_URL (host and port) and that the service or emulator is running"
            }
            TransportCause::Dns => {
                "check the endpoint's host name, your DNS and any proxy settings"
            }
            TransportCause::Tls => {
                "check the endpoint's scheme (http or https), its certificate and any intercepting proxy"
            }
            TransportCause::Timeout => {
                "check your network, firewall and proxy, and that the endpoint is reachable"
            }
            TransportCause::Credentials => {
                "check AWS_PROFILE / AWS_ACCESS_KEY_ID, and run `aws sso login` if your session expired"
            }
            TransportCause::Other => "run with -v to see each failed request",
        }
    }
}

/// The endpoint requests went to, for messages: `AWS_ENDPOINT_URL` when set, else AWS itself.
fn endpoint_for_message(regions: &[&str]) -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => match regions {
            [one] => format!("AWS in {one}"),
            _ => format!("AWS ({})", regions.join(", ")),
        },
    }
}

/// Turns many provider errors into what a user reads. When AWS cannot be reached every request
/// fails the same way; that is said once, in a sentence (where, what failed, what to check),
/// and each failed request goes to the `-v` log instead of the screen. Other errors are kept.
pub fn summarize(errors: Vec<ProviderError>) -> Vec<String> {
    let mut out = Vec::new();
    let mut unreachable: std::collections::BTreeMap<TransportCause, Vec<ProviderError>> =
        std::collections::BTreeMap::new();
    for e in errors {
        match &e {
            ProviderError::Transport { message, .. } => {
                unreachable
                    .entry(TransportCause::of(message))
                    .or_default()
                    .push(e);
            }
            _ => out.push(e.to_string()),
        }
    }
    for (cause, errs) in unreachable {
        for e in &errs {
            tracing::info!("{e}");
        }
        let mut regions: Vec<&str> = errs.iter().map(ProviderError::region).collect();
        regions.sort_unstable();
        regions.dedup();
        out.push(format!(
            "cannot reach {}: {} ({} request{} failed); {}",
            endpoint_for_message(&regions),
            cause.what(),
            errs.len(),
            if errs.len() == 1 { "" } else { "s" },
            cause.check()
        ));
    }
    out
}

#[cfg(test)]
mod summarize_tests {
    use super::*;

    fn transport(region: &str, message: &str) -> ProviderError {
        ProviderError::Transport {
            subject: Subject::Kind(Kind::Vpc),
            region: region.to_owned(),
            operation: "DescribeVpcs",
            message: message.to_owned(),
        }
    }

    #[test]
    fn many_unreachable_requests_become_one_sentence() {
        let msg = "dispatch failure: io error: error trying to connect: tcp connect error: Connection refused (os error 111)";
        let errors = (0..12)
            .map(|i| transport(if i % 2 == 0 { "eu-west-1" } else { "us-east-1" }, msg))
            .collect();
        let out = summarize(errors);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].contains("connection was refused"), "{}", out[0]);
        assert!(out[0].contains("12 requests failed"), "{}", out[0]);
        assert!(!out[0].contains("DispatchFailure"), "{}", out[0]);
    }

    #[test]
    fn causes_are_told_apart() {
        assert_eq!(
            TransportCause::of("dns error: failed to lookup address information"),
            TransportCause::Dns
        );
        assert_eq!(
            TransportCause::of("invalid peer certificate: UnknownIssuer"),
            TransportCause::Tls
        );
        assert_eq!(
            TransportCause::of("timeout: operation timed out"),
            TransportCause::Timeout
        );
        assert_eq!(
            TransportCause::of("the credentials provider was not enabled"),
            TransportCause::Credentials
        );
        assert_eq!(
            TransportCause::of("Connection refused (os error 111)"),
            TransportCause::ConnectionRefused
        );
    }
}
