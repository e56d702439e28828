//! The vocabulary for describing a resource kind's schema.
//!
//! Schemas are `static` data so that validation, documentation and (later) planning read one
//! description of each kind. `kinds.rs` holds the data; `check.rs` validates values against it.

use std::time::Duration;

use crate::kind::{Kind, Placement};
use crate::service::Service;

/// The type of a configurable attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    /// One of a fixed set of strings (case-sensitive, as AWS expects them).
    Enum(&'static [&'static str]),
    /// A whole number, optionally bounded (inclusive).
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Bool,
    /// Any number, whole or decimal (an alarm threshold).
    Number,
    /// An IPv4 CIDR block such as `10.0.0.0/16`.
    Cidr,
    List(&'static Ty),
    Map(&'static Ty),
    /// A nested block with its own fields; unknown fields are rejected.
    Object(&'static [Field]),
    /// An attribute of another resource of `kind` (normally its `id`, `arn` or `name`): either a
    /// reference to such a resource, or a literal string naming one that regionctl does not manage.
    /// A reference to a resource of another kind is an error.
    RefTo {
        kind: Kind,
        attr: &'static str,
    },
    /// A JSON-like document (IAM policies): a map, or a string holding JSON.
    Document,
    /// A string whose length, characters or shape AWS constrains (names, identifiers, time
    /// windows, addresses); the rules live in `names.rs`.
    Format(super::names::Format),
}

/// One configurable attribute.
///
/// Every field says how it compares with what AWS reports ([`Cmp`]), because a wrong answer is
/// either a perpetual diff or a hidden change. Fields are built as a [`Draft`] (`Field::opt`,
/// `Field::req`) that only becomes a `Field` once its comparison is said, so a field without one
/// does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Changing this attribute cannot be done in place: the resource is replaced.
    pub force_new: bool,
    /// Setting it where AWS has none is an update in place, but changing or removing a value AWS
    /// has replaces the resource (an EKS cluster's secrets encryption: AssociateEncryptionConfig
    /// adds one, nothing changes or removes it). Only with `force_new` false.
    pub force_new_once_set: bool,
    /// Never shown in plans or stored in state in clear.
    pub sensitive: bool,
    /// AWS never reports it back (a password's source, how a modification is applied): the
    /// planner compares the desired value with the one last applied, recorded in state.
    pub write_only: bool,
    /// How the spec's value compares with AWS's.
    pub cmp: Cmp,
    pub doc: &'static str,
}

/// A field whose comparison is not said yet; see [`Field`].
#[derive(Debug, Clone, Copy)]
pub struct Draft {
    name: &'static str,
    ty: Ty,
    required: bool,
    force_new: bool,
    force_new_once_set: bool,
    sensitive: bool,
    doc: &'static str,
}

impl Field {
    /// An optional attribute that can be updated in place.
    pub const fn opt(name: &'static str, ty: Ty, doc: &'static str) -> Draft {
        Draft {
            name,
            ty,
            required: false,
            force_new: false,
            force_new_once_set: false,
            sensitive: false,
            doc,
        }
    }

    /// A required attribute that can be updated in place.
    pub const fn req(name: &'static str, ty: Ty, doc: &'static str) -> Draft {
        Draft {
            name,
            ty,
            required: true,
            force_new: false,
            force_new_once_set: false,
            sensitive: false,
            doc,
        }
    }
}

impl Draft {
    /// Marks the attribute as forcing replacement when it changes.
    pub const fn force_new(mut self) -> Draft {
        self.force_new = true;
        self
    }

    /// Marks the attribute as set in place when AWS has no value, and replacing the resource
    /// when a value AWS has changes or is removed (see [`Field::force_new_once_set`]).
    pub const fn force_new_once_set(mut self) -> Draft {
        self.force_new_once_set = true;
        self
    }

    pub const fn sensitive(mut self) -> Draft {
        self.sensitive = true;
        self
    }

    const fn with(self, cmp: Cmp, write_only: bool) -> Field {
        Field {
            name: self.name,
            ty: self.ty,
            required: self.required,
            force_new: self.force_new,
            force_new_once_set: self.force_new_once_set,
            sensitive: self.sensitive,
            write_only,
            cmp,
            doc: self.doc,
        }
    }

    /// Left out of the spec, AWS's value is kept: the spec has no opinion, any live value is the
    /// same. Given, it is compared under `norm`.
    pub const fn keep(self, norm: Norm) -> Field {
        self.with(
            Cmp {
                absent: Absent::Keep,
                norm,
                empty_is_absent: false,
            },
            false,
        )
    }

    /// As [`Draft::keep`], and an empty list also leaves AWS's value alone.
    pub const fn keep_unless_empty(self, norm: Norm) -> Field {
        self.with(
            Cmp {
                absent: Absent::Keep,
                norm,
                empty_is_absent: true,
            },
            false,
        )
    }

    /// Left out of the spec, the update makes it empty (removes tags, detaches policies ...): a
    /// live value then differs.
    pub const fn clear(self, norm: Norm) -> Field {
        self.with(
            Cmp {
                absent: Absent::Clear,
                norm,
                empty_is_absent: false,
            },
            false,
        )
    }

    /// Left out of the spec, the update writes `text` (a description AWS requires).
    pub const fn defaults_to(self, text: &'static str, norm: Norm) -> Field {
        self.with(
            Cmp {
                absent: Absent::Default(text),
                norm,
                empty_is_absent: false,
            },
            false,
        )
    }

    /// AWS never reports the attribute back; see [`Field::write_only`].
    pub const fn write_only(self) -> Field {
        self.with(
            Cmp {
                absent: Absent::Keep,
                norm: Norm::Plain,
                empty_is_absent: false,
            },
            true,
        )
    }

    /// A field of a nested block: compared as part of the enclosing attribute, whose [`Norm`]
    /// knows the block's shape.
    pub const fn part(self) -> Field {
        self.with(
            Cmp {
                absent: Absent::Keep,
                norm: Norm::Plain,
                empty_is_absent: false,
            },
            false,
        )
    }
}

/// How one attribute compares between the spec and AWS. Two things decide it, and both follow
/// what the provider's `update` does: what happens to an attribute the spec leaves out
/// ([`Absent`]), and how values are normalised before they are compared ([`Norm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cmp {
    pub absent: Absent,
    pub norm: Norm,
    /// An empty desired list means "leave alone", as an absent one.
    pub empty_is_absent: bool,
}

/// What the provider's update does with an attribute the spec leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    /// Leaves AWS's value alone: the spec has no opinion, whatever AWS has is the same.
    Keep,
    /// Makes it empty (removes tags, detaches policies, deletes routes ...): a live value differs.
    Clear,
    /// Writes this value (a description AWS requires): the same only if AWS has it.
    Default(&'static str),
}

/// How two present values are compared (`spec::schema::compare` implements each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// Structural equality; whole numbers equal whatever their type, `null` and empty
    /// collections in maps are left out.
    Plain,
    /// Lists compared as sets (order and duplicates carry no meaning).
    Set,
    /// Strings compared case-insensitively (AWS stores the name lowercase).
    Lower,
    /// Domain names: lowercase, without the final dot, `\ooo` escapes decoded.
    Dns,
    /// Route 53 hosted zone ids, with or without the `/hostedzone/` prefix.
    ZoneId,
    /// RDS engine versions: "16" is any 16.x (RDS picks the minor version).
    RdsVersion,
    /// ElastiCache engine versions: "7.1" is "7.1.0" (Redis OSS 6+ and Valkey).
    CacheVersion,
    /// KMS keys: an alias is the same as any key (it cannot be resolved offline), a key id is
    /// the same as its ARN.
    KmsKey,
    /// User tags: string values, `regionctl:*` keys left out.
    Tags,
    /// A map of strings (node group labels).
    StrMap,
    /// An IAM policy document, given as a map or as JSON text.
    Document,
    /// A map of IAM policy documents (inline policies).
    Documents,
    /// Security group rules, as one grant per (protocol, ports, peer).
    SgRules,
    /// Route table routes, by destination.
    Routes,
    /// Node group taints, by (key, effect).
    Taints,
    /// A Route 53 alias target.
    Alias,
    /// An RDS replication source: an ARN, or an identifier RDS reports as its ARN.
    RdsSource,
    /// EKS access policy associations, by policy ARN, with their scope (namespaces as a set).
    AccessPolicies,
    /// An EKS cluster's secrets encryption: the key (as [`Norm::KmsKey`]) and the resources.
    EncryptionConfig,
}

/// An attribute AWS computes, which other resources may reference (`vpc.main.id`).
#[derive(Debug, Clone, Copy)]
pub struct Computed {
    pub name: &'static str,
    pub doc: &'static str,
    /// An update in place changes it (a launch template's latest version): the plan leaves
    /// references to it unknown until the update is applied, so what depends on it is updated
    /// in the same apply rather than the next one.
    pub changes_on_update: bool,
}

/// Everything regionctl knows about one kind of resource: the one declaration the planner,
/// refresh, import, check, the docs and the provider read. Every member must be given (there is
/// no `Default`), so a new kind cannot leave a fact unsaid.
#[derive(Debug, Clone, Copy)]
pub struct KindSchema {
    pub kind: Kind,
    pub doc: &'static str,
    pub fields: &'static [Field],
    pub computed: &'static [Computed],
    /// Regional, or global (declared in the `global` environment, reached through us-east-1).
    pub placement: Placement,
    /// The AWS service that manages it.
    pub service: Service,
    /// Whether the kind takes AWS tags (and so gets the `regionctl:*` identity tags).
    pub taggable: bool,
    /// The configured attribute that names the resource in AWS, used to find it again after an
    /// interrupted apply when tags cannot be used (e.g. an RDS DB identifier). Being unique, it
    /// also decides the replacement order: a replacement that keeps it must delete first.
    pub natural_name: Option<&'static str>,
    /// The configured attribute a refresh is told about (`Hints::names`) so it can find a
    /// resource its list call cannot filter by tag: the natural name, or for a hosted zone (whose
    /// name is not unique) the name an untagged zone is recognised by.
    pub refresh_hint: Option<&'static str>,
    /// Replacing or deleting it is refused unless `--allow-replace` / `--allow-destroy` names it:
    /// losing it loses data or takes long to rebuild.
    pub needs_consent: bool,
    /// It holds data or state that a replacement loses (`check` warns about planned
    /// replacements and deletions of these, consent or not).
    pub stateful: bool,
    /// What `regionctl import ADDR ID` takes as the id, for help and errors.
    pub import_id: &'static str,
    /// How long it may take to become ready or gone, and how often to look.
    pub timing: Timing,
}

/// How a wait polls one kind: the first delay, the longest delay between polls (delays double up
/// to it), and the limit after which the wait fails. The delays follow the AWS SDK waiters; the
/// limits the AWS documentation's typical durations with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub first: Duration,
    pub longest: Duration,
    pub limit: Duration,
}

impl Timing {
    /// `first` and `longest` in seconds, `limit` in minutes.
    pub const fn secs_mins(first: u64, longest: u64, limit_minutes: u64) -> Timing {
        Timing {
            first: Duration::from_secs(first),
            longest: Duration::from_secs(longest),
            limit: Duration::from_secs(limit_minutes * 60),
        }
    }
}

impl KindSchema {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn computed(&self, name: &str) -> Option<&'static Computed> {
        self.computed.iter().find(|c| c.name == name)
    }

    /// Whether `name` can be read by a reference: every computed attribute and every field.
    pub fn has_attr(&self, name: &str) -> bool {
        self.computed(name).is_some() || self.field(name).is_some()
    }

    pub fn attr_names(&self) -> impl Iterator<Item = &'static str> {
        self.fields
            .iter()
            .map(|f| f.name)
            .chain(self.computed.iter().map(|c| c.name))
    }
}

/// What the provider writes where AWS requires a description the spec leaves out.
pub const DEFAULT_DESCRIPTION: &str = "Managed by regionctl";

/// Shorthands that keep the schema tables readable.
pub const STRING: Ty = Ty::String;
pub const BOOL: Ty = Ty::Bool;
pub const INT: Ty = Ty::Int {
    min: None,
    max: None,
};
pub const CIDR: Ty = Ty::Cidr;
pub const STRINGS: Ty = Ty::List(&Ty::String);
pub const TAGS: Ty = Ty::Map(&Ty::String);
