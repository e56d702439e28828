//! Narrows a finding from an attribute to the element inside it (`ingress[1].cidr_blocks[0]`).
//!
//! The expanded spec keeps one span per attribute, not per nested value, so the YAML of the file
//! is parsed again (once per file, and only when a finding needs it) and the attribute's node
//! is found by its span. When the value was written as an expression (`"${input.cidrs}"`) there
//! is nothing inside to point at, and the attribute's span is the answer.

use std::cell::RefCell;
use std::collections::HashMap;

use super::Seg;
use crate::source::{FileId, SourceMap, Span};
use crate::spec::yaml::{self, Node, NodeValue};

pub(crate) struct Locator<'s> {
    sources: &'s SourceMap,
    parsed: RefCell<HashMap<FileId, Option<Node>>>,
}

impl<'s> Locator<'s> {
    pub fn new(sources: &'s SourceMap) -> Self {
        Locator {
            sources,
            parsed: RefCell::new(HashMap::new()),
        }
    }

    /// The span of `path` inside the attribute value at `attr`, as far as the YAML goes.
    pub fn narrow(&self, attr: Span, path: &[Seg]) -> Span {
        if path.is_empty() {
            return attr;
        }
        let mut parsed = self.parsed.borrow_mut();
        let root = parsed
            .entry(attr.file)
            .or_insert_with(|| yaml::parse(attr.file, self.sources.text(attr.file)).ok());
        let Some(node) = root.as_ref().and_then(|r| find(r, attr)) else {
            return attr;
        };
        let mut node = node;
        for seg in path {
            let next = match (seg, &node.value) {
                (Seg::Key(k), NodeValue::Map(entries)) => entries
                    .iter()
                    .find(|(key, _)| key.name == *k)
                    .map(|(_, v)| v),
                (Seg::Index(i), NodeValue::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.span
    }
}

/// The node whose span is exactly `span` (attribute values are never nested in one another
/// with the same span, except a scalar and itself).
fn find(node: &Node, span: Span) -> Option<&Node> {
    if node.span == span {
        return Some(node);
    }
    match &node.value {
        NodeValue::Map(entries) => entries.iter().find_map(|(_, v)| find(v, span)),
        NodeValue::Seq(items) => items.iter().find_map(|v| find(v, span)),
        _ => None,
    }
}
