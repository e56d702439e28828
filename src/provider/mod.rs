//! The provider: the only code that knows the AWS SDK.
//!
//! For every resource kind it can refresh (one batched list per kind and region), read one
//! resource by id, create, update in place, delete, and wait until a resource is ready or gone.
//! Everything it returns is in the spec's own vocabulary: an [`Observed`] resource carries its
//! configurable attributes shaped exactly like the spec's (`attrs`), so the planner can diff the
//! two without knowing any SDK type, plus the computed attributes others may reference
//! (`computed`: `id`, `arn`, `endpoint`, ...).
//!
//! There is deliberately no trait per kind or per client (see ARCHITECTURE.md): every kind has a
//! module (`ec2::vpc`, `rds::instance`, ...) with the same five operations, and [`Provider`]
//! dispatches to it with one `match` over [`Kind`] (`per_kind!`), so adding a kind fails to
//! compile until every operation handles it. A service's `mod.rs` holds only what its kinds share.
//!
//! Identity: every taggable resource is created with the tags `regionctl:stack` and
//! `regionctl:address`, and with a deterministic idempotency token where the API takes one, so a
//! resource created by an interrupted apply can be found again instead of created twice.

pub mod attrs;
pub mod clients;
pub mod error;
pub mod ratelimit;
pub mod retry;
pub mod wait;

mod ec2;
mod eks;
mod elasticache;
mod iam;
mod rds;
pub(crate) mod route53;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::addr::InstanceAddr;
use crate::kind::{Kind, Placement};
use crate::spec::value::Value;

pub use attrs::Attrs;
pub use clients::{ClientOptions, Clients, RequestCount};
pub use error::{ProviderError, Subject};
pub use wait::WaitPolicy;

/// The tag naming the project (stack) a resource belongs to.
pub const STACK_TAG: &str = "regionctl:stack";
/// The tag holding the resource's instance address, e.g. `eu-west-1/vpc.main`.
pub const ADDRESS_TAG: &str = "regionctl:address";

/// Global services (IAM, Route 53) are reached through this region in the `aws` partition.
pub const GLOBAL_REGION: &str = "us-east-1";

/// The AWS region a resource of `kind` is managed through: its own, or the global one.
pub fn api_region(kind: Kind, region: Option<&str>) -> &str {
    match (kind.placement(), region) {
        (Placement::Regional, Some(r)) => r,
        _ => GLOBAL_REGION,
    }
}

/// Where a resource is in its lifecycle, as AWS reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Status {
    /// Usable: `available`, `ACTIVE`, `INSYNC` ...
    Ready,
    /// Being created or modified; the AWS status word is kept for progress output.
    Pending(String),
    /// Being deleted.
    Deleting(String),
    /// A terminal failure (`CREATE_FAILED`, `failed`, `incompatible-parameters` ...).
    Failed(String),
}

/// A resource as read from AWS.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub kind: Kind,
    /// The region the resource was read in (the global region for IAM and Route 53).
    pub region: String,
    /// The identifier regionctl uses to read, update and delete it: the VPC id, the cluster name,
    /// the DB identifier, the Route 53 record's `zone/name/type/set_identifier` ...
    pub id: String,
    /// Configurable attributes, in the spec's shape, normalised so that an unchanged resource
    /// compares equal to its spec. Attributes AWS does not report back (a password's environment
    /// variable, `skip_final_snapshot`) are absent.
    #[serde(with = "attrs::serde_attrs")]
    pub attrs: Attrs,
    /// Attributes AWS computed (`id`, `arn`, `endpoint` ...), as the spec's references read them.
    #[serde(with = "attrs::serde_attrs")]
    pub computed: Attrs,
    /// Every tag, including the `regionctl:*` ones (which `attrs["tags"]` leaves out).
    pub tags: BTreeMap<String, String>,
    pub status: Status,
}

impl Observed {
    /// The instance address recorded in the `regionctl:address` tag, if any.
    pub fn address_tag(&self) -> Option<&str> {
        self.tags.get(ADDRESS_TAG).map(String::as_str)
    }

    /// The stack recorded in the `regionctl:stack` tag, if any.
    pub fn stack_tag(&self) -> Option<&str> {
        self.tags.get(STACK_TAG).map(String::as_str)
    }
}

/// What a refresh should look for beyond the stack tag: the ids recorded in state and the
/// natural names (role name, cluster name, DB identifier ...) the spec asks for. Kinds whose list
/// call filters or returns tags may ignore them.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub ids: std::collections::BTreeSet<String>,
    pub names: std::collections::BTreeSet<String>,
}

/// What one operation acts on: which resource, where, and with which idempotency token.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub addr: &'a InstanceAddr,
    pub kind: Kind,
    /// The API region (see [`api_region`]).
    pub region: &'a str,
    /// Deterministic idempotency token, derived by the caller from the stack, the address and the
    /// plan, passed to every create call that takes one (EC2 `ClientToken`, EKS
    /// `clientRequestToken`, Route 53 `CallerReference`). At most 64 characters.
    pub token: &'a str,
}

impl Ctx<'_> {
    pub fn subject(&self) -> Subject {
        Subject::Resource(self.addr.clone())
    }
}

/// How every idempotency token starts, so a Route 53 zone or health check whose
/// `CallerReference` starts so is known to be regionctl's even before it is tagged.
pub const TOKEN_PREFIX: &str = "rc-";

/// Derives an idempotency token: the same inputs give the same token, so a retried create is
/// recognised by AWS, while a new plan (a new `generation`) creates anew.
pub fn idempotency_token(stack: &str, addr: &InstanceAddr, generation: &str) -> String {
    let text = addr.to_string();
    format!(
        "{TOKEN_PREFIX}{}",
        crate::hash::stable_hash128(&[stack, text.as_str(), generation])
    )
}

/// The id a resource of `kind` with these desired attributes would have, when its identity is
/// its key rather than a tag (Route 53 records). Pure; `None` for every other kind, or while the
/// key is not known yet.
pub fn natural_id(kind: Kind, desired: &Attrs) -> Option<String> {
    match kind {
        Kind::Route53Record => route53::record::desired_id(desired),
        _ => None,
    }
}

/// One (kind, region) refresh of [`Provider::refresh_many`].
pub type Refreshed = (Kind, String, Result<Vec<Observed>, ProviderError>);

/// Calls operation `$op` of the module that handles `$kind`. One arm per kind, so adding a kind
/// fails to compile here until every operation handles it; every kind module offers the same five
/// operations with the same parameters.
macro_rules! per_kind {
    ($kind:expr, $op:ident($($arg:expr),*)) => {
        match $kind {
            Kind::Vpc => ec2::vpc::$op($($arg),*).await,
            Kind::Subnet => ec2::subnet::$op($($arg),*).await,
            Kind::InternetGateway => ec2::internet_gateway::$op($($arg),*).await,
            Kind::NatGateway => ec2::nat_gateway::$op($($arg),*).await,
            Kind::RouteTable => ec2::route_table::$op($($arg),*).await,
            Kind::SecurityGroup => ec2::security_group::$op($($arg),*).await,
            Kind::IamRole => iam::$op($($arg),*).await,
            Kind::EksCluster => eks::cluster::$op($($arg),*).await,
            Kind::EksNodeGroup => eks::node_group::$op($($arg),*).await,
            Kind::DbSubnetGroup => rds::subnet_group::$op($($arg),*).await,
            Kind::RdsInstance => rds::instance::$op($($arg),*).await,
            Kind::CacheSubnetGroup => elasticache::subnet_group::$op($($arg),*).await,
            Kind::ElasticacheReplicationGroup => elasticache::replication_group::$op($($arg),*).await,
            Kind::Route53Zone => route53::zone::$op($($arg),*).await,
            Kind::Route53HealthCheck => route53::health_check::$op($($arg),*).await,
            Kind::Route53Record => route53::record::$op($($arg),*).await,
        }
    };
}

/// The provider: one loaded AWS configuration, clients per (service, region), and how long to
/// wait for what.
#[derive(Debug, Clone)]
pub struct Provider {
    pub clients: Clients,
    /// The project name, written to the `regionctl:stack` tag and used to filter refreshes.
    pub stack: String,
    pub wait: WaitPolicy,
    /// Where waits report each poll (the apply's progress view); nowhere by default.
    pub progress: wait::Progress,
}

impl Provider {
    pub fn new(clients: Clients, stack: impl Into<String>) -> Provider {
        Provider {
            clients,
            stack: stack.into(),
            wait: WaitPolicy::default(),
            progress: wait::Progress::default(),
        }
    }

    /// The tags every taggable resource is created with: the user's, then regionctl's own.
    pub fn identity_tags(&self, addr: &InstanceAddr, desired: &Attrs) -> BTreeMap<String, String> {
        let mut tags = attrs::tags(desired);
        tags.insert(STACK_TAG.to_owned(), self.stack.clone());
        tags.insert(ADDRESS_TAG.to_owned(), addr.to_string());
        tags
    }

    /// Every resource of `kind` in `region` that belongs to this stack, in as few list calls as
    /// the API allows (filtered by the stack tag where the API can filter). Where an API can
    /// neither filter nor return tags in its list call (IAM roles), the `hints` say which
    /// resources to read. Resources of kinds that cannot be tagged (Route 53 records) are listed
    /// within the stack's zones.
    pub async fn refresh(
        &self,
        kind: Kind,
        region: &str,
        hints: &Hints,
    ) -> Result<Vec<Observed>, ProviderError> {
        // A list changes nothing: throttling and server errors are retried for a while.
        retry::patiently(&self.wait, || async {
            per_kind!(kind, refresh(self, region, hints))
        })
        .await
    }

    /// Refreshes many (kind, region) pairs at once: every pair is its own task, so a
    /// multi-region refresh takes as long as its slowest list, not the sum. Results come back in
    /// the order asked.
    pub async fn refresh_many(&self, jobs: Vec<(Kind, String, Hints)>) -> Vec<Refreshed> {
        let mut set = tokio::task::JoinSet::new();
        let count = jobs.len();
        for (i, (kind, region, hints)) in jobs.into_iter().enumerate() {
            let provider = self.clone();
            set.spawn(async move {
                let result = provider.refresh(kind, &region, &hints).await;
                (i, kind, region, result)
            });
        }
        let mut out: Vec<Option<Refreshed>> = (0..count).map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, kind, region, result)) => out[i] = Some((kind, region, result)),
                // A panicking refresh is a bug; re-raise it rather than report a partial view.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }
        out.into_iter().flatten().collect()
    }

    /// The resource an earlier attempt of this very create made (same address, and the same
    /// idempotency token where the kind records one), if any: after a lost answer, a timeout or
    /// an `AlreadyExists`, the executor carries on with it instead of creating a second one.
    ///
    /// EC2 resources are found by their token tag (their address tag alone would also match the
    /// resource a create-before-destroy replacement is replacing). Named kinds are found by the
    /// name the spec gives and must carry this stack's and address's tags; Route 53 records,
    /// which cannot be tagged, by their key (the plan made sure no one else's record had it).
    pub async fn find(
        &self,
        ctx: &Ctx<'_>,
        desired: &Attrs,
    ) -> Result<Option<Observed>, ProviderError> {
        if let Some(prefix) = ec2::id_prefix(ctx.kind) {
            return match ec2::find_by_token(self, ctx, prefix).await? {
                Some(id) => self.read(ctx, &id).await,
                None => Ok(None),
            };
        }
        if let Some(id) = natural_id(ctx.kind, desired) {
            return self.read(ctx, &id).await;
        }
        let mut hints = Hints::default();
        // Zone names are not unique, so they only help the refresh find an untagged zone.
        let hint_attr = match ctx.kind {
            Kind::Route53Zone => Some("name"),
            kind => crate::spec::schema::schema(kind).natural_name,
        };
        if let Some(hint) = hint_attr
            .and_then(|a| desired.get(a))
            .and_then(Value::as_str)
        {
            hints.names.insert(hint.to_owned());
        }
        let name_attr = crate::spec::schema::schema(ctx.kind).natural_name;
        let name = name_attr
            .and_then(|a| desired.get(a))
            .and_then(Value::as_str);
        let addr = ctx.addr.to_string();
        let found = self.refresh(ctx.kind, ctx.region, &hints).await?;
        Ok(found.into_iter().find(|o| {
            o.stack_tag() == Some(self.stack.as_str())
                && o.address_tag() == Some(addr.as_str())
                && name.is_none_or(|n| {
                    name_attr
                        .and_then(|a| o.attrs.get(a))
                        .and_then(Value::as_str)
                        == Some(n)
                        || o.id == n
                })
        }))
    }

    /// One resource by its id, or `None` if it does not exist (or is fully deleted).
    pub async fn read(&self, ctx: &Ctx<'_>, id: &str) -> Result<Option<Observed>, ProviderError> {
        // A describe changes nothing: throttling and server errors are retried for a while.
        retry::patiently(&self.wait, || async {
            per_kind!(ctx.kind, read(self, ctx, id))
        })
        .await
    }

    /// Starts creating the resource and returns it as AWS first reports it (possibly still
    /// pending; see [`Provider::wait_ready`]). `desired` must be fully known.
    pub async fn create(&self, ctx: &Ctx<'_>, desired: &Attrs) -> Result<Observed, ProviderError> {
        per_kind!(ctx.kind, create(self, ctx, desired))
    }

    /// Changes the attributes that differ between `prior` and `desired` and that AWS can change
    /// in place (the planner replaces the resource for the others). Asynchronous modifications
    /// are started, not awaited; [`Provider::wait_ready`] waits for them.
    pub async fn update(
        &self,
        ctx: &Ctx<'_>,
        prior: &Observed,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        per_kind!(ctx.kind, update(self, ctx, prior, desired))
    }

    /// Starts deleting the resource (and what regionctl created with it, such as a NAT gateway's
    /// Elastic IP once the gateway is gone). `config` is the configuration last applied, for the
    /// attributes AWS does not report (`skip_final_snapshot`, `final_snapshot_identifier`).
    /// Deleting something already gone succeeds.
    pub async fn delete(
        &self,
        ctx: &Ctx<'_>,
        prior: &Observed,
        config: &Attrs,
    ) -> Result<(), ProviderError> {
        per_kind!(ctx.kind, delete(self, ctx, prior, config))
    }

    /// Cleans up what a deletion makes besides the resource, once the resource itself is gone:
    /// a NAT gateway's Elastic IP, which a run killed during the gateway's deletion never
    /// released. `computed` is what state recorded of the resource.
    pub async fn delete_leftovers(
        &self,
        ctx: &Ctx<'_>,
        computed: &Attrs,
    ) -> Result<(), ProviderError> {
        match ctx.kind {
            Kind::NatGateway => ec2::nat_gateway::release_leftover(self, ctx, computed).await,
            _ => Ok(()),
        }
    }

    /// Polls the resource until AWS reports it ready, failing on a terminal failure status, on
    /// its disappearance, or when the kind's time limit passes.
    pub async fn wait_ready(&self, ctx: &Ctx<'_>, id: &str) -> Result<Observed, ProviderError> {
        wait::until_ready(self, ctx, id).await
    }

    /// Polls until the resource no longer exists, or the kind's time limit passes.
    pub async fn wait_gone(&self, ctx: &Ctx<'_>, id: &str) -> Result<(), ProviderError> {
        wait::until_gone(self, ctx, id).await
    }

    /// Create, then wait until ready: what apply does for a new resource.
    pub async fn create_and_wait(
        &self,
        ctx: &Ctx<'_>,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let created = self.create(ctx, desired).await?;
        if created.status == Status::Ready {
            return Ok(created);
        }
        self.wait_ready(ctx, &created.id).await
    }

    /// Update, then wait until the modification is done.
    pub async fn update_and_wait(
        &self,
        ctx: &Ctx<'_>,
        prior: &Observed,
        desired: &Attrs,
    ) -> Result<Observed, ProviderError> {
        let updated = self.update(ctx, prior, desired).await?;
        self.wait_ready(ctx, &updated.id).await
    }

    /// Delete, then wait until gone.
    pub async fn delete_and_wait(
        &self,
        ctx: &Ctx<'_>,
        prior: &Observed,
        config: &Attrs,
    ) -> Result<(), ProviderError> {
        self.delete(ctx, prior, config).await?;
        self.wait_gone(ctx, &prior.id).await
    }
}

/// How long a kind may take to become ready or gone, and how often to look: the SDK waiters'
/// delays, with limits from the AWS documentation's typical durations plus a wide margin.
pub fn kind_timing(kind: Kind) -> (Duration, Duration, Duration) {
    let s = Duration::from_secs;
    let m = |n: u64| Duration::from_secs(n * 60);
    // (first delay, longest delay, limit)
    match kind {
        Kind::EksCluster => (s(30), s(60), m(40)),
        Kind::EksNodeGroup => (s(30), s(60), m(60)),
        Kind::RdsInstance => (s(30), s(60), m(120)),
        Kind::ElasticacheReplicationGroup => (s(15), s(60), m(90)),
        Kind::NatGateway => (s(15), s(30), m(20)),
        Kind::Route53Record | Kind::Route53Zone | Kind::Route53HealthCheck => (s(2), s(30), m(10)),
        _ => (s(2), s(15), m(10)),
    }
}

/// Builds a map value from pairs, dropping `None`s: the shape of `Observed::attrs`.
pub(crate) fn attr_map<I>(pairs: I) -> Attrs
where
    I: IntoIterator<Item = (&'static str, Option<Value>)>,
{
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_tokens_are_stable_and_distinct() {
        let a: InstanceAddr = "eu-west-1/vpc.main".parse().expect("valid");
        let b: InstanceAddr = "eu-west-1/vpc.other".parse().expect("valid");
        let t = idempotency_token("platform", &a, "plan-1");
        assert_eq!(t, idempotency_token("platform", &a, "plan-1"));
        assert_ne!(t, idempotency_token("platform", &b, "plan-1"));
        assert_ne!(t, idempotency_token("platform", &a, "plan-2"));
        assert_ne!(t, idempotency_token("other", &a, "plan-1"));
        assert!(t.len() <= 64 && t.is_ascii());
        // Pinned: a token must not change between regionctl versions, or a resumed apply would
        // create a duplicate.
        // (The expected value was computed independently, with a Python FNV-1a.)
        assert_eq!(
            idempotency_token("s", &"global/iam_role.r".parse().expect("valid"), "g"),
            "rc-9e7c7b89815e55472f772123ecbf6a0a"
        );
    }

    #[test]
    fn global_kinds_use_the_global_region() {
        assert_eq!(api_region(Kind::IamRole, None), GLOBAL_REGION);
        assert_eq!(
            api_region(Kind::Route53Record, Some("eu-west-1")),
            GLOBAL_REGION
        );
        assert_eq!(api_region(Kind::Vpc, Some("eu-west-1")), "eu-west-1");
    }
}
