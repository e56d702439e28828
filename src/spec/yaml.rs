//! YAML text to a tree of nodes that remember where they came from.
//!
//! serde-saphyr parses; we keep only a generic tree with a byte span on every node and key, and
//! check shapes ourselves afterwards. Typed serde structs would stop at the first mismatch,
//! whereas we want every unknown field, wrong type and missing attribute reported at once.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

/// Spec files larger than this are refused: no real platform needs them, and it bounds memory
/// and keeps offsets well inside `u32`.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: NodeValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; duplicate keys are rejected by the parser.
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

impl Node {
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "bool",
            NodeValue::Int(_) | NodeValue::Float(_) => "number",
            NodeValue::Str(_) => "string",
            NodeValue::Seq(_) => "list",
            NodeValue::Map(_) => "map",
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
}

/// Parses one YAML document. An empty file is an empty map, so an environment can start as a
/// blank file.
pub fn parse(file: FileId, text: &str) -> Result<Node, Diagnostic> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            "spec::file-too-large",
            format!(
                "file is {} bytes; spec files are limited to {MAX_FILE_BYTES} bytes",
                text.len()
            ),
        ));
    }
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Node {
            span: Span::new(file, 0, 0),
            value: NodeValue::Map(Vec::new()),
        });
    }
    let options = serde_saphyr::options! {
        // `yes`/`no`/`on` as booleans surprise people (the "Norway problem").
        strict_booleans: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        // We render snippets ourselves, pointing into our own source map.
        with_snippet: false,
        budget: Some(budget()),
    };
    match serde_saphyr::from_str_with_options::<RawNode>(text, options) {
        Ok(raw) => Ok(raw.into_node(file, text)),
        Err(e) => Err(syntax_error(file, text, &e)),
    }
}

/// Nodes a file of [`MAX_FILE_BYTES`] can hold: the densest YAML (`[1,1,1,...]`) spends two
/// bytes per node. The library's own defaults (250,000 nodes, 1,000,000 events) are far below
/// what the documented file-size limit allows and rejected valid 4 MB specs.
pub const MAX_NODES: usize = MAX_FILE_BYTES / 2;
/// Nesting deeper than this is no spec; the bound keeps the recursive tree walks off the
/// stack's edge.
pub const MAX_DEPTH: usize = 64;
/// Aliases (`*name`) can multiply a small file into a huge tree ("billion laughs"); real specs
/// use a handful.
pub const MAX_ALIASES: usize = 10_000;

/// Limits that follow from [`MAX_FILE_BYTES`], so everything a file of that size can hold parses
/// and nothing smaller can blow up.
fn budget() -> serde_saphyr::Budget {
    // `Budget` is non-exhaustive: start from the defaults and set what we decide.
    let mut b = serde_saphyr::Budget::default();
    b.max_reader_input_bytes = Some(MAX_FILE_BYTES);
    // Every node is at most a start and an end event, plus stream/document events.
    b.max_events = 2 * MAX_NODES + 16;
    b.max_nodes = MAX_NODES;
    b.max_depth = MAX_DEPTH;
    b.max_aliases = MAX_ALIASES;
    b.max_anchors = MAX_ALIASES;
    b.max_total_scalar_bytes = MAX_FILE_BYTES;
    // Alias expansion copies events; bound it like the nodes of a full-size file.
    b.max_recorded_anchor_events = MAX_NODES;
    b.max_recorded_anchor_bytes = MAX_FILE_BYTES;
    b
}

/// Our wording of a budget breach: what the limit protects against and the number, never the
/// library's internal names.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> (String, String) {
    use serde_saphyr::budget::BudgetBreach as B;
    let size = format!(
        "spec files may be up to {} MiB",
        MAX_FILE_BYTES / (1024 * 1024)
    );
    match breach {
        B::Depth { .. } | B::InclusionDepth { .. } => (
            format!("the file nests more than {MAX_DEPTH} levels deep"),
            "flatten the structure; no spec needs this depth".to_string(),
        ),
        B::Aliases { .. } | B::Anchors { .. } | B::AliasAnchorRatio { .. } => (
            "the file uses too many YAML aliases (`*name`)".to_string(),
            format!(
                "at most {MAX_ALIASES} aliases per file; repeated structure belongs in a module or a `for_each`"
            ),
        ),
        B::Documents { .. } => (
            "the file holds more than one YAML document".to_string(),
            "remove the `---` separators: each spec file is one document".to_string(),
        ),
        _ => (
            format!("the file is too large: more than {MAX_NODES} YAML values"),
            format!("{size}; split the environment into several files"),
        ),
    }
}

fn syntax_error(file: FileId, text: &str, e: &serde_saphyr::Error) -> Diagnostic {
    if let serde_saphyr::Error::Budget { breach, location } = e {
        let (message, help) = budget_message(breach);
        let offset = offset_of(text, location.line() as usize, location.column() as usize);
        return Diagnostic::error("spec::yaml-limit", message)
            .with_label(
                Span::new(file, offset, next_char_end(text, offset)),
                "limit reached here",
            )
            .with_help(help);
    }
    let mut message = e.to_string();
    // The library's message ends with its own "at line X column Y"; we show a labelled snippet.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    let mut first_line = message.lines().next().unwrap_or("invalid YAML").to_string();
    // The library suggests changing its own options; that advice is not for our users.
    if let Some(i) = first_line.find(", set DuplicateKeyPolicy") {
        first_line.truncate(i);
    }
    let mut d = Diagnostic::error("spec::yaml", format!("invalid YAML: {first_line}"));
    if let Some(loc) = e.location() {
        let offset = offset_of(text, loc.line() as usize, loc.column() as usize);
        let end = next_char_end(text, offset);
        d = d.with_label(Span::new(file, offset, end), "here");
    } else {
        d = d.with_label(Span::new(file, 0, 0), "somewhere in this file");
    }
    if text.contains('\t') {
        d = d.with_help("YAML does not allow tabs for indentation; use spaces");
    }
    d
}

/// Byte offset of a 1-based line and character column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.saturating_sub(1);
            return offset
                + l.char_indices()
                    .nth(col)
                    .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

fn next_char_end(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|s| s.chars().next())
        .map_or(offset, |c| offset + c.len_utf8())
}

/// What serde-saphyr hands us: values with character-based locations, before we know the file.
struct RawNode {
    start: Option<usize>,
    len: usize,
    value: RawValue,
}

enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<RawNode>),
    Map(Vec<(Spanned<String>, RawNode)>),
}

impl RawNode {
    fn into_node(self, file: FileId, text: &str) -> Node {
        let value = match self.value {
            RawValue::Null => NodeValue::Null,
            RawValue::Bool(b) => NodeValue::Bool(b),
            RawValue::Int(i) => NodeValue::Int(i),
            RawValue::Float(f) => NodeValue::Float(f),
            RawValue::Str(s) => NodeValue::Str(s),
            RawValue::Seq(items) => {
                NodeValue::Seq(items.into_iter().map(|n| n.into_node(file, text)).collect())
            }
            RawValue::Map(entries) => NodeValue::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let (start, len) = location_bytes(&k.referenced);
                        let start = start.unwrap_or(0);
                        let key = Key {
                            span: Span::new(file, start, start + len.max(k.value.len())),
                            name: k.value,
                        };
                        (key, v.into_node(file, text))
                    })
                    .collect(),
            ),
        };
        let start = self.start.unwrap_or(0);
        let mut end = (start + self.len).min(text.len());
        // A container's own location covers only its first token; widen it to its last child so
        // a label on a whole block underlines the block.
        let child_end = match &value {
            NodeValue::Seq(items) => items.iter().map(|n| n.span.end as usize).max(),
            NodeValue::Map(entries) => entries.iter().map(|(_, n)| n.span.end as usize).max(),
            _ => None,
        };
        if let Some(e) = child_end {
            end = end.max(e);
        }
        Node {
            span: Span::new(file, start, end),
            value,
        }
    }
}

fn location_bytes(loc: &serde_saphyr::Location) -> (Option<usize>, usize) {
    let span = loc.span();
    let start = span.byte_offset().map(|o| o as usize);
    let len = span.byte_len().unwrap_or(span.len()) as usize;
    (start, len)
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<RawValue>::deserialize(deserializer)?;
        let (start, len) = location_bytes(&spanned.referenced);
        Ok(RawNode {
            start,
            len,
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .map_err(|_| E::custom("integer is too large"))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .map_err(|_| E::custom("integer is too large"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .map_err(|_| E::custom("integer is too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawValue, E> {
        String::from_utf8(v.to_vec())
            .map(RawValue::Str)
            .map_err(|_| E::custom("binary data is not supported"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawNode>()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyString>>()? {
            let value = map.next_value::<RawNode>()?;
            let key = Spanned {
                value: key.value.0,
                referenced: key.referenced,
                defined: key.defined,
            };
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

/// Map keys: strings, or scalars written without quotes (`80: x`) taken as their text.
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<KeyString, E> {
                Ok(KeyString(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyString, E> {
                Ok(KeyString("null".to_string()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn parse_text(text: &str) -> (SourceMap, Result<Node, Diagnostic>) {
        let mut map = SourceMap::new();
        let f = map.add("t.yaml", text);
        let r = parse(f, text);
        (map, r)
    }

    #[test]
    fn spans_point_at_keys_and_scalars() {
        let text = "region: eu-west-1\nresources:\n  vpc.main:\n    cidr_block: \"10.0.0.0/16\"\n    n: 3\n";
        let (map, node) = parse_text(text);
        let node = node.expect("valid yaml");
        let (k, v) = &node.as_map().expect("map")[0];
        assert_eq!(map.snippet(k.span), "region");
        assert_eq!(map.snippet(v.span), "eu-west-1");
        let vpc = node
            .get("resources")
            .and_then(|r| r.get("vpc.main"))
            .expect("vpc");
        let cidr = vpc.get("cidr_block").expect("cidr");
        assert_eq!(map.snippet(cidr.span), "\"10.0.0.0/16\"");
        assert_eq!(cidr.as_str(), Some("10.0.0.0/16"));
        assert_eq!(vpc.get("n").map(|n| &n.value), Some(&NodeValue::Int(3)));
        assert_eq!(map.location(vpc.get("n").expect("n").span), "t.yaml:5:8");
    }

    #[test]
    fn flow_collections_and_nested() {
        let (map, node) = parse_text("a: [1, \"two\", {b: c}]\n");
        let node = node.expect("valid");
        let a = node.get("a").expect("a");
        let NodeValue::Seq(items) = &a.value else {
            panic!("seq")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(map.snippet(items[1].span), "\"two\"");
        assert_eq!(items[2].get("b").and_then(Node::as_str), Some("c"));
    }

    #[test]
    fn syntax_errors_have_locations() {
        let (map, node) = parse_text("a: 1\nb: [1, 2\nc: 3\n");
        let d = node.expect_err("unclosed list");
        assert_eq!(d.code, "spec::yaml");
        assert!(
            map.location(d.primary_span().expect("span"))
                .starts_with("t.yaml:")
        );
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let (_, node) = parse_text("a: 1\na: 2\n");
        assert!(node.is_err());
    }

    #[test]
    fn strict_booleans_keep_yes_a_string() {
        let (_, node) = parse_text("a: yes\nb: true\n");
        let node = node.expect("valid");
        assert_eq!(node.get("a").and_then(Node::as_str), Some("yes"));
        assert_eq!(
            node.get("b").map(|n| &n.value),
            Some(&NodeValue::Bool(true))
        );
    }

    #[test]
    fn empty_file_is_empty_map() {
        let (_, node) = parse_text("# nothing yet\n");
        assert_eq!(node.expect("ok").value, NodeValue::Map(Vec::new()));
    }
}
