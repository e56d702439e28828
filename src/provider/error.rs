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
                }
            }
            SdkError::ResponseError(response) => ProviderError::Aws {
                subject,
                region,
                operation,
                code: format!("HTTP {}", response.raw().status()),
                message: "AWS answered something that is not a valid response".to_owned(),
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
