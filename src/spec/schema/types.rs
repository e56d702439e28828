//! The vocabulary for describing a resource kind's schema.
//!
//! Schemas are `static` data so that validation, documentation and (later) planning read one
//! description of each kind. `kinds.rs` holds the data; `check.rs` validates values against it.

use crate::kind::Kind;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Changing this attribute cannot be done in place: the resource is replaced.
    pub force_new: bool,
    /// Never shown in plans or stored in state in clear.
    pub sensitive: bool,
    pub doc: &'static str,
}

impl Field {
    /// An optional attribute that can be updated in place.
    pub const fn opt(name: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: false,
            force_new: false,
            sensitive: false,
            doc,
        }
    }

    /// A required attribute that can be updated in place.
    pub const fn req(name: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: true,
            force_new: false,
            sensitive: false,
            doc,
        }
    }

    /// Marks the attribute as forcing replacement when it changes.
    pub const fn force_new(mut self) -> Field {
        self.force_new = true;
        self
    }

    pub const fn sensitive(mut self) -> Field {
        self.sensitive = true;
        self
    }
}

/// An attribute AWS computes, which other resources may reference (`vpc.main.id`).
#[derive(Debug, Clone, Copy)]
pub struct Computed {
    pub name: &'static str,
    pub doc: &'static str,
}

/// Everything regionctl knows about one kind of resource.
#[derive(Debug, Clone, Copy)]
pub struct KindSchema {
    pub kind: Kind,
    pub doc: &'static str,
    pub fields: &'static [Field],
    pub computed: &'static [Computed],
    /// Whether the kind takes AWS tags (and so gets the `regionctl:*` identity tags).
    pub taggable: bool,
    /// The configured attribute that names the resource in AWS, used to find it again after an
    /// interrupted apply when tags cannot be used (e.g. an RDS DB identifier).
    pub natural_name: Option<&'static str>,
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
