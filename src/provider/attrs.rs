//! Reading desired attributes and building observed ones.
//!
//! The spec hands the provider evaluated attributes as [`Value`]s; by then they have passed the
//! schema check, so a wrong type here means a bug or an unresolved value, reported as
//! [`ProviderError::Invalid`] naming the attribute, never a panic.

use std::collections::BTreeMap;

use super::{Ctx, ProviderError};
use crate::spec::value::Value;

pub use crate::resource::Attrs;
use crate::resource::OWN_TAG_PREFIX;

/// Typed access to one resource's desired attributes, with errors that name the resource.
#[derive(Clone, Copy)]
pub struct Desired<'a> {
    ctx: &'a Ctx<'a>,
    attrs: &'a Attrs,
}

impl<'a> Desired<'a> {
    pub fn new(ctx: &'a Ctx<'a>, attrs: &'a Attrs) -> Desired<'a> {
        Desired { ctx, attrs }
    }

    pub fn attrs(&self) -> &'a Attrs {
        self.attrs
    }

    /// The attribute, treating `null` as absent.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        match self.attrs.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn wrong(&self, name: &str, want: &str, got: &Value) -> ProviderError {
        let detail = match got {
            Value::Unknown(_) => "a value not known yet".to_owned(),
            other => format!("a {}", other.type_name()),
        };
        ProviderError::invalid(
            self.ctx,
            format!("attribute {name} should be {want}, but is {detail}"),
        )
    }

    pub fn str(&self, name: &str) -> Result<Option<&'a str>, ProviderError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(name, "a string", other)),
        }
    }

    pub fn req_str(&self, name: &str) -> Result<&'a str, ProviderError> {
        self.str(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ProviderError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a whole number", v)),
        }
    }

    /// An integer that must fit an `i32` (most AWS numeric fields).
    pub fn i32(&self, name: &str) -> Result<Option<i32>, ProviderError> {
        match self.int(name)? {
            None => Ok(None),
            Some(i) => i32::try_from(i).map(Some).map_err(|_| {
                ProviderError::invalid(self.ctx, format!("attribute {name} = {i} is out of range"))
            }),
        }
    }

    pub fn req_i32(&self, name: &str) -> Result<i32, ProviderError> {
        self.i32(name)?.ok_or_else(|| self.missing(name))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ProviderError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(name, "true or false", other)),
        }
    }

    /// A list of strings; absent is empty.
    pub fn strs(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(self.wrong(name, "a list of strings", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(name, "a list of strings", other)),
        }
    }

    /// A list of nested blocks (routes, rules ...); absent is empty.
    pub fn objects(&self, name: &str) -> Result<Vec<Desired<'a>>, ProviderError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Map(m) => Ok(Desired {
                        ctx: self.ctx,
                        attrs: m,
                    }),
                    other => Err(self.wrong(name, "a list of blocks", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(name, "a list of blocks", other)),
        }
    }

    /// A nested block, if set.
    pub fn object(&self, name: &str) -> Result<Option<Desired<'a>>, ProviderError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Map(m)) => Ok(Some(Desired {
                ctx: self.ctx,
                attrs: m,
            })),
            Some(other) => Err(self.wrong(name, "a block", other)),
        }
    }

    /// A map of strings (tags, labels); absent is empty.
    pub fn str_map(&self, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        match self.get(name) {
            None => Ok(BTreeMap::new()),
            Some(Value::Map(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::Str(s) => Ok((k.clone(), s.clone())),
                    other => Err(self.wrong(name, "a map of strings", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(name, "a map of strings", other)),
        }
    }

    /// A document attribute (IAM policy) as a JSON string: maps are serialised, strings are
    /// passed through after checking they are JSON.
    pub fn document(&self, name: &str) -> Result<Option<String>, ProviderError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Str(s)) => serde_json::from_str::<serde_json::Value>(s)
                .map(|_| Some(s.clone()))
                .map_err(|e| {
                    ProviderError::invalid(self.ctx, format!("attribute {name} is not JSON: {e}"))
                }),
            Some(v @ Value::Map(_)) => Ok(Some(v.to_json().to_string())),
            Some(other) => Err(self.wrong(name, "a document", other)),
        }
    }

    fn missing(&self, name: &str) -> ProviderError {
        ProviderError::invalid(self.ctx, format!("required attribute {name} is not set"))
    }
}

/// The user's tags of a desired resource (already merged with the project's default tags).
pub fn tags(desired: &Attrs) -> BTreeMap<String, String> {
    crate::resource::desired_tags(desired)
}

/// What to change to make a resource's user tags the desired ones. regionctl's own identity tags
/// (`regionctl:*`) are never removed or overwritten, whatever the spec says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TagChanges {
    /// Keys to remove.
    pub remove: Vec<String>,
    /// Keys to add or change, with their values.
    pub set: BTreeMap<String, String>,
}

pub fn tag_changes(prior: &BTreeMap<String, String>, desired: &Attrs) -> TagChanges {
    let want = tags(desired);
    let own = |k: &str| k.starts_with(OWN_TAG_PREFIX);
    TagChanges {
        remove: prior
            .keys()
            .filter(|k| !own(k) && !want.contains_key(*k))
            .cloned()
            .collect(),
        set: want
            .into_iter()
            .filter(|(k, v)| !own(k) && prior.get(k) != Some(v))
            .collect(),
    }
}

/// [`tag_changes`], plus regionctl's identity tags where the resource lacks them: a resource
/// imported or adopted from Terraform was not created by regionctl, and gets them on its first
/// update (in place, like any tag). Every taggable kind's update syncs its tags through this:
/// the plan proposes that update for any resource without them, so a kind that synced only the
/// user's tags would propose it again on every plan.
pub fn tag_changes_with_identity(
    p: &super::Provider,
    ctx: &Ctx<'_>,
    prior: &BTreeMap<String, String>,
    desired: &Attrs,
) -> TagChanges {
    let mut changes = tag_changes(prior, desired);
    let address = ctx.addr.to_string();
    for (key, value) in [
        (crate::resource::STACK_TAG, &p.stack),
        (crate::resource::ADDRESS_TAG, &address),
    ] {
        if prior.get(key) != Some(value) {
            changes.set.insert(key.to_owned(), value.clone());
        }
    }
    changes
}

/// Makes a resource's user tags the desired ones through the service's own two calls: `untag`
/// with the keys no longer wanted, then `tag` with the new or changed values, each only when it
/// has something to do. Every service's tag sync is this with its own calls plugged in.
pub async fn sync_tags_with(
    changes: TagChanges,
    untag: impl AsyncFnOnce(Vec<String>) -> Result<(), ProviderError>,
    tag: impl AsyncFnOnce(BTreeMap<String, String>) -> Result<(), ProviderError>,
) -> Result<(), ProviderError> {
    if !changes.remove.is_empty() {
        untag(changes.remove).await?;
    }
    if !changes.set.is_empty() {
        tag(changes.set).await?;
    }
    Ok(())
}

/// The `tags` attribute of an observed resource: every tag except regionctl's own, which are
/// identity, not configuration. Absent when there are none, as in a spec without tags.
pub fn user_tags(all: &BTreeMap<String, String>) -> Option<Value> {
    let user: BTreeMap<String, Value> = all
        .iter()
        .filter(|(k, _)| !k.starts_with(OWN_TAG_PREFIX))
        .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
        .collect();
    (!user.is_empty()).then_some(Value::Map(user))
}

/// A string value.
pub fn s(text: impl Into<String>) -> Value {
    Value::Str(text.into())
}

/// An optional string value.
pub fn opt_s(text: Option<impl Into<String>>) -> Option<Value> {
    text.map(|t| Value::Str(t.into()))
}

/// A list of strings, sorted where AWS order carries no meaning (`sorted`).
pub fn str_list<I, S>(items: I, sorted: bool) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut v: Vec<String> = items.into_iter().map(Into::into).collect();
    if sorted {
        v.sort();
    }
    Value::List(v.into_iter().map(Value::Str).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_never_touch_regionctl_tags() {
        let prior: BTreeMap<String, String> = [
            ("Name", "a"),
            ("team", "x"),
            ("regionctl:stack", "s"),
            ("regionctl:address", "eu-west-1/vpc.main"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let desired: Attrs = [(
            "tags".to_owned(),
            Value::Map(
                [("Name", "b"), ("regionctl:stack", "hijack")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), s(v)))
                    .collect(),
            ),
        )]
        .into_iter()
        .collect();
        let changes = tag_changes(&prior, &desired);
        assert_eq!(changes.remove, ["team"]);
        assert_eq!(
            changes.set.into_iter().collect::<Vec<_>>(),
            [("Name".to_owned(), "b".to_owned())]
        );
        assert_eq!(
            tag_changes(&prior, &prior_as_desired(&prior)),
            TagChanges::default()
        );
    }

    fn prior_as_desired(prior: &BTreeMap<String, String>) -> Attrs {
        let tags = prior.iter().map(|(k, v)| (k.clone(), s(v))).collect();
        [("tags".to_owned(), Value::Map(tags))]
            .into_iter()
            .collect()
    }
}
