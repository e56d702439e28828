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
mod memo;
pub mod ratelimit;
pub mod retry;
mod tag_index;
pub mod wait;

/// `sync_tags` of a service whose tag calls are RemoveTagsFromResource / AddTagsToResource on an
/// ARN (RDS, ElastiCache): the same two calls on two SDK clients. Makes the resource's user tags
/// the desired ones, leaving the `regionctl:*` tags alone; the module supplies `to_tags`.
macro_rules! arn_tag_sync {
    ($client:ident) => {
        async fn sync_tags(
            p: &$crate::provider::Provider,
            ctx: &$crate::provider::Ctx<'_>,
            arn: &str,
            prior: &std::collections::BTreeMap<String, String>,
            desired: &$crate::provider::Attrs,
        ) -> Result<(), $crate::provider::ProviderError> {
            use $crate::provider::error::aws;
            let client = p.clients.$client(ctx.region);
            let subject = ctx.subject();
            $crate::provider::attrs::sync_tags_with(
                $crate::provider::attrs::tag_changes_with_identity(p, ctx, prior, desired),
                async |keys| {
                    client
                        .remove_tags_from_resource()
                        .resource_name(arn)
                        .set_tag_keys(Some(keys))
                        .send()
                        .await
                        .map(drop)
                        .map_err(aws(&subject, ctx.region, "RemoveTagsFromResource"))
                },
                async |tags| {
                    client
                        .add_tags_to_resource()
                        .resource_name(arn)
                        .set_tags(Some(to_tags(&tags)))
                        .send()
                        .await
                        .map(drop)
                        .map_err(aws(&subject, ctx.region, "AddTagsToResource"))
                },
            )
            .await
        }
    };
}

mod cloudwatch;
mod ec2;
mod ecr;
mod eks;
mod elasticache;
mod iam;
mod iam_oidc;
mod iam_policy;
mod kms;
mod logs;
mod rds;
pub(crate) mod route53;
mod sns;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::spec::value::Value;

pub use crate::resource::{
    ADDRESS_TAG, Attrs, GLOBAL_REGION, Hints, Observed, STACK_TAG, Status, TOKEN_PREFIX,
    api_region, idempotency_token, natural_id,
};
pub use clients::{ClientOptions, Clients, RequestCount};
pub use error::{ProviderError, Subject};
pub use wait::WaitPolicy;

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

/// One (kind, region) refresh of [`Provider::refresh_many`].
pub type Refreshed = (Kind, String, Result<Vec<Observed>, ProviderError>);

/// Calls operation `$op` of the module that handles `$kind`. One arm per kind, so adding a kind
/// fails to compile here until every operation handles it; every kind module offers the same five
/// operations with the same parameters. Each call is boxed: without it every caller's future is as
/// large as the largest kind's, and with 28 kinds a debug build overflowed a thread's stack.
macro_rules! per_kind {
    ($kind:expr, $op:ident($($arg:expr),*)) => {
        match $kind {
            Kind::Vpc => Box::pin(ec2::vpc::$op($($arg),*)).await,
            Kind::Subnet => Box::pin(ec2::subnet::$op($($arg),*)).await,
            Kind::InternetGateway => Box::pin(ec2::internet_gateway::$op($($arg),*)).await,
            Kind::NatGateway => Box::pin(ec2::nat_gateway::$op($($arg),*)).await,
            Kind::RouteTable => Box::pin(ec2::route_table::$op($($arg),*)).await,
            Kind::SecurityGroup => Box::pin(ec2::security_group::$op($($arg),*)).await,
            Kind::IamRole => Box::pin(iam::$op($($arg),*)).await,
            Kind::EksCluster => Box::pin(eks::cluster::$op($($arg),*)).await,
            Kind::EksNodeGroup => Box::pin(eks::node_group::$op($($arg),*)).await,
            Kind::DbSubnetGroup => Box::pin(rds::subnet_group::$op($($arg),*)).await,
            Kind::RdsInstance => Box::pin(rds::instance::$op($($arg),*)).await,
            Kind::CacheSubnetGroup => Box::pin(elasticache::subnet_group::$op($($arg),*)).await,
            Kind::IamOidcProvider => Box::pin(iam_oidc::$op($($arg),*)).await,
            Kind::EksAddon => Box::pin(eks::addon::$op($($arg),*)).await,
            Kind::EksAccessEntry => Box::pin(eks::access_entry::$op($($arg),*)).await,
            Kind::ElasticacheReplicationGroup => Box::pin(elasticache::replication_group::$op($($arg),*)).await,
            Kind::LaunchTemplate => Box::pin(ec2::launch_template::$op($($arg),*)).await,
            Kind::Route53Zone => Box::pin(route53::zone::$op($($arg),*)).await,
            Kind::Route53HealthCheck => Box::pin(route53::health_check::$op($($arg),*)).await,
            Kind::Route53Record => Box::pin(route53::record::$op($($arg),*)).await,
            Kind::KmsKey => Box::pin(kms::key::$op($($arg),*)).await,
            Kind::KmsAlias => Box::pin(kms::alias::$op($($arg),*)).await,
            Kind::EcrRepository => Box::pin(ecr::repository::$op($($arg),*)).await,
            Kind::EcrReplicationConfiguration => Box::pin(ecr::replication::$op($($arg),*)).await,
            Kind::IamPolicy => Box::pin(iam_policy::$op($($arg),*)).await,
            Kind::CloudwatchLogGroup => Box::pin(logs::$op($($arg),*)).await,
            Kind::SnsTopic => Box::pin(sns::topic::$op($($arg),*)).await,
            Kind::SnsSubscription => Box::pin(sns::subscription::$op($($arg),*)).await,
            Kind::CloudwatchMetricAlarm => Box::pin(cloudwatch::$op($($arg),*)).await,
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
    /// Reads the kinds of one [`Provider::refresh_many`] share; off otherwise.
    pub(crate) memo: memo::Memo,
    /// Whether a refresh lists every resource of a kind, whatever its tags (`adopt aws`),
    /// instead of this stack's. Off except through [`Provider::listing_everything`].
    everything: bool,
}

impl Provider {
    pub fn new(clients: Clients, stack: impl Into<String>) -> Provider {
        Provider {
            clients,
            stack: stack.into(),
            wait: WaitPolicy::default(),
            progress: wait::Progress::default(),
            memo: memo::Memo::default(),
            everything: false,
        }
    }

    /// This provider, with refreshes that return every resource of a kind in a region, whatever
    /// its tags and without hints: what `regionctl adopt aws` reads. Only refresh changes;
    /// `find`, `read` and the writes stay as they are.
    pub fn listing_everything(self) -> Provider {
        Provider {
            everything: true,
            ..self
        }
    }

    /// Whether a refresh keeps a resource with this `regionctl:stack` tag: this stack's only, or
    /// any (untagged and other stacks' too) when listing everything.
    pub(crate) fn keeps(&self, stack_tag: Option<&String>) -> bool {
        self.everything || stack_tag == Some(&self.stack)
    }

    /// Whether a refresh lists every resource (see [`Provider::listing_everything`]).
    pub(crate) fn everything(&self) -> bool {
        self.everything
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
    /// the order asked. The tasks share one [`memo::Memo`], so what several kinds start from (a
    /// region's EKS clusters, the stack's hosted zones) is read once.
    pub async fn refresh_many(&self, jobs: Vec<(Kind, String, Hints)>) -> Vec<Refreshed> {
        let mut set = tokio::task::JoinSet::new();
        let count = jobs.len();
        let shared = Provider {
            memo: memo::Memo::on(),
            ..self.clone()
        };
        for (i, (kind, region, hints)) in jobs.into_iter().enumerate() {
            let provider = shared.clone();
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
        if let Some(hint) = crate::spec::schema::schema(ctx.kind)
            .refresh_hint
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

    /// Reads back a resource this run has just created or changed: patiently, as [`Self::read`]
    /// (a lost or throttled answer to a read must not fail a change AWS has made), and gone is
    /// an error, since it was there a moment ago.
    pub async fn reread(&self, ctx: &Ctx<'_>, id: &str) -> Result<Observed, ProviderError> {
        self.read(ctx, id)
            .await?
            .ok_or_else(|| ProviderError::vanished(ctx, id))
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
        // SNS cannot delete a subscription pending confirmation and removes it itself within 48
        // hours: there is nothing to wait for.
        if sns::subscription::left_to_expire(prior) {
            return Ok(());
        }
        self.wait_gone(ctx, &prior.id).await
    }
}

/// How long a kind may take to become ready or gone, and how often to look: `(first delay,
/// longest delay, limit)`, from the kind's declaration.
pub fn kind_timing(kind: Kind) -> (Duration, Duration, Duration) {
    let t = crate::spec::schema::schema(kind).timing;
    (t.first, t.longest, t.limit)
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
