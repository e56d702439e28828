//! From placed resources to the spec's YAML and the state's records.
//!
//! - Every Terraform resource (all its `count` / `for_each` instances) becomes one regionctl
//!   resource; its name is Terraform's, prefixed with the module's when two would collide.
//! - A literal that the kind's declaration types as a reference (`Ty::RefTo`) and that is the id,
//!   ARN or name of an adopted resource becomes a reference to it (`${vpc.main.id}`,
//!   `${env.global.iam_role.node.arn}`).
//! - Instances become `for_each`: attributes equal in all stay literal, literals that differ go
//!   into the `for_each` value (`${each.value.cidr_block}`), references to the instance of
//!   another repeated resource with the same key become `[each.key]`. Anything else (a differing
//!   reference of another shape) makes separate resources `name_key`, which can make the
//!   resources referring to them separate too, so the choice is repeated until it settles.
//! - The state records each instance with the references resolved, exactly as an apply of the
//!   written spec would have, so the first plan compares like with like.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Map, Value as J};

use super::tfstate::{TfInstance, TfKey};
use super::{Adoption, Origin, Placed, Record};
use crate::addr::InstanceAddr;
use crate::kind::Kind;
use crate::spec::schema::{Field, Ty, schema};
use crate::spec::value::Value;

/// A spec value under construction.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Sv {
    Lit(J),
    /// An attribute of another adopted instance.
    Ref {
        target: usize,
        attr: String,
    },
    /// `${kind.name[each.key].attr}` of a repeated resource (a block).
    EachRef {
        block: usize,
        attr: String,
    },
    /// `${each.value}` or `${each.value.<attr>}`.
    EachValue(Option<String>),
    List(Vec<Sv>),
    Map(Vec<(String, Sv)>),
}

impl Sv {
    fn has_ref(&self) -> bool {
        match self {
            Sv::Ref { .. } | Sv::EachRef { .. } => true,
            Sv::List(l) => l.iter().any(Sv::has_ref),
            Sv::Map(m) => m.iter().any(|(_, v)| v.has_ref()),
            _ => false,
        }
    }
    fn targets(&self, out: &mut BTreeSet<usize>) {
        match self {
            Sv::Ref { target, .. } => {
                out.insert(*target);
            }
            Sv::List(l) => l.iter().for_each(|v| v.targets(out)),
            Sv::Map(m) => m.iter().for_each(|(_, v)| v.targets(out)),
            _ => {}
        }
    }
}

/// One Terraform resource: its instances, as one regionctl resource.
pub(super) struct Block {
    pub(super) env: String,
    pub(super) kind: Kind,
    pub(super) name: String,
    /// The Terraform address without instance key.
    pub(super) tf: String,
    pub(super) source: String,
    pub(super) members: Vec<usize>,
    /// Whether the instances are written as separate resources.
    pub(super) split: bool,
}

/// What goes where in a `for_each` resource.
enum Entry {
    Shared(Sv),
    PerKey,
}

pub(super) struct Ctx<'a> {
    pub(super) origin: &'a Origin,
    pub(super) insts: &'a [TfInstance],
    pub(super) placed: &'a [Placed],
    pub(super) blocks: Vec<Block>,
    pub(super) block_of: Vec<usize>,
    pub(super) svs: Vec<Vec<(String, Sv)>>,
    /// Module calls (see [`super::module`]) and the call each block is in, if any.
    pub(super) calls: Vec<super::module::Call>,
    pub(super) call_of: Vec<Option<usize>>,
    /// Per block, attributes written per key even where its instances agree: a module's
    /// for_each is written one way for all its calls (one zone's NAT gateway agrees with
    /// itself; three zones' do not).
    pub(super) per_key: Vec<BTreeSet<String>>,
}

/// Where a value is written: an environment's file, or the module of a call (whose own
/// resources are addressed without prefix, and everything else is not addressable).
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub(super) env: &'a str,
    pub(super) call: Option<usize>,
}

impl Ctx<'_> {
    pub(super) fn key(&self, i: usize) -> Option<&TfKey> {
        self.insts[self.placed[i].draft.inst].key.as_ref()
    }

    /// `kind.name` and key text of an instance, as its environment or module addresses it.
    pub(super) fn local(&self, i: usize) -> String {
        let b = &self.blocks[self.block_of[i]];
        match (self.key(i), b.split) {
            (None, _) => format!("{}.{}", b.kind, b.name),
            (Some(k), true) => format!("{}.{}_{}", b.kind, b.name, key_suffix(k)),
            (Some(k), false) => format!("{}.{}{}", b.kind, b.name, key_text(k)),
        }
    }

    /// The state address: `module.<call>.` in front of the local one for a module's resource.
    pub(super) fn addr(&self, i: usize) -> Option<InstanceAddr> {
        let call = match self.call_of[self.block_of[i]] {
            Some(c) => format!("module.{}.", self.calls[c].name),
            None => String::new(),
        };
        format!("{}/{call}{}", self.placed[i].env, self.local(i))
            .parse()
            .ok()
    }

    /// The name of the module output through which others read `attr` of instance `i`.
    pub(super) fn output_name(&self, i: usize, attr: &str) -> String {
        let b = &self.blocks[self.block_of[i]];
        let key = self
            .key(i)
            .map(|k| format!("_{}", key_suffix(k)))
            .unwrap_or_default();
        sanitize(&format!("{}_{}{key}_{attr}", b.kind, b.name))
    }

    pub(super) fn env_prefix(&self, from: &str, target_env: &str) -> String {
        if from == target_env {
            String::new()
        } else {
            format!("env.{target_env}.")
        }
    }
}

pub(super) fn key_text(k: &TfKey) -> String {
    match k {
        TfKey::Int(n) => format!("[{n}]"),
        TfKey::Str(s) => format!("[{s:?}]"),
    }
}

pub(super) fn key_suffix(k: &TfKey) -> String {
    match k {
        TfKey::Int(n) => n.to_string(),
        TfKey::Str(s) => sanitize(s),
    }
}

/// A resource name: letters, digits, `_` and `-`, starting with a letter or `_`.
pub(super) fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

pub(super) fn emit(insts: &[TfInstance], placed: Vec<Placed>, out: &mut Adoption, origin: &Origin) {
    // Blocks: one per Terraform resource and environment.
    let mut by_tf: BTreeMap<(String, String, Kind), Vec<usize>> = BTreeMap::new();
    for (i, p) in placed.iter().enumerate() {
        let inst = &insts[p.draft.inst];
        let mut tf = inst.address();
        if let Some(k) = &inst.key {
            tf.truncate(tf.len() - key_text(k).len());
        }
        by_tf
            .entry((p.env.clone(), tf, p.draft.kind))
            .or_default()
            .push(i);
    }
    let mut blocks = Vec::new();
    let mut block_of = vec![0; placed.len()];
    for ((env, tf, kind), mut members) in by_tf {
        members.sort_by(|a, b| {
            insts[placed[*a].draft.inst]
                .key
                .cmp(&insts[placed[*b].draft.inst].key)
        });
        for m in &members {
            block_of[*m] = blocks.len();
        }
        let first = &insts[placed[members[0]].draft.inst];
        blocks.push(Block {
            env,
            kind,
            name: sanitize(&first.name),
            tf,
            source: first.source.clone(),
            members,
            split: false,
        });
    }

    // References.
    let mut index: BTreeMap<(Kind, String, String), usize> = BTreeMap::new();
    for (i, p) in placed.iter().enumerate() {
        for (name, v) in p.draft.computed.iter().chain(p.draft.attrs.iter()) {
            if let Some(s) = v.as_str() {
                index
                    .entry((p.draft.kind, name.clone(), s.to_owned()))
                    .or_insert(i);
            }
        }
    }
    let svs: Vec<Vec<(String, Sv)>> = placed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let s = schema(p.draft.kind);
            s.fields
                .iter()
                .filter_map(|f| {
                    let v = p.draft.attrs.get(f.name)?;
                    Some((f.name.to_owned(), to_sv(&f.ty, v, &index, &placed, i)))
                })
                .collect()
        })
        .collect();
    let mut cx = Ctx {
        origin,
        insts,
        placed: &placed,
        blocks,
        block_of,
        svs,
        calls: Vec::new(),
        call_of: Vec::new(),
        per_key: Vec::new(),
    };

    cx.per_key = vec![BTreeSet::new(); cx.blocks.len()];
    // Shapes, until no block needs to be split any more.
    loop {
        let mut changed = false;
        for b in 0..cx.blocks.len() {
            if !cx.blocks[b].split && has_keys(&cx, b) && shape(&cx, b).is_none() {
                cx.blocks[b].split = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    // Instances of one Terraform module in several regions: one module, one call per region.
    cx.call_of = vec![None; cx.blocks.len()];
    let modules = super::module::plan(&mut cx, &mut out.notes);

    // YAML per environment.
    let mut envs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (b, block) in cx.blocks.iter().enumerate() {
        let entry = envs.entry(block.env.clone()).or_default();
        if cx.call_of[b].is_none() {
            entry.push(b);
        }
    }
    let mut env_calls: BTreeMap<String, Vec<(String, Y)>> = BTreeMap::new();
    for m in modules {
        out.files.push(m.file);
        for (env, call, y) in m.calls {
            env_calls.entry(env).or_default().push((call, y));
        }
    }
    let mut sources: Vec<&str> = insts.iter().map(|i| i.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    for (env, mut bs) in envs {
        bs.sort_by_key(|b| {
            let k = cx.blocks[*b].kind;
            (
                Kind::ALL.iter().position(|x| *x == k),
                cx.blocks[*b].name.clone(),
            )
        });
        let mut text = String::new();
        match origin {
            Origin::Terraform => {
                let _ = writeln!(
                    text,
                    "# Adopted from Terraform by `regionctl adopt terraform` ({}).\n\
                     # Each resource names the Terraform address it came from. Review, then plan; see\n\
                     # docs/migrate-from-terraform.md for handing the resources over.",
                    sources.join(", ")
                );
            }
            Origin::Aws { region, filters } => {
                let filters = if filters.is_empty() {
                    String::new()
                } else {
                    format!(" {filters}")
                };
                let _ = writeln!(
                    text,
                    "# Adopted from live AWS by `regionctl adopt aws --region {region}{filters}`.\n\
                     # Each resource names the AWS resource it was read from. Review, then plan; see\n\
                     # docs/migrate-from-terraform.md (\"Adopting what exists in AWS\")."
                );
            }
        }
        if env == crate::addr::GLOBAL_ENV {
            text.push_str("global: true\n");
        } else {
            let _ = writeln!(text, "region: {env}");
        }
        if let Some(calls) = env_calls.get(&env) {
            text.push_str("\nmodules:\n");
            write_map(&mut text, 2, calls);
        }
        if !bs.is_empty() {
            text.push_str("\nresources:\n");
        }
        for (n, b) in bs.iter().enumerate() {
            if n > 0 {
                text.push('\n');
            }
            let scope = Scope {
                env: &env,
                call: None,
            };
            write_items(&block_items(&cx, *b, scope), &mut text);
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let stem = match origin {
            Origin::Terraform => "terraform",
            Origin::Aws { .. } => "adopted",
        };
        out.files.push((format!("envs/{env}/{stem}.yaml"), text));
    }

    // State records.
    for (i, p) in placed.iter().enumerate() {
        let Some(addr) = cx.addr(i) else { continue };
        let mut deps = BTreeSet::new();
        let mut attrs = crate::resource::Attrs::new();
        for (name, sv) in &cx.svs[i] {
            sv.targets(&mut deps);
            attrs.insert(name.clone(), Value::from_json(&resolve(sv, &placed)));
        }
        let computed = p
            .draft
            .computed
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect();
        let region = if p.draft.kind.placement().is_global_api() {
            crate::resource::GLOBAL_REGION.to_owned()
        } else {
            p.env.clone()
        };
        let record = Record {
            kind: p.draft.kind,
            region,
            id: p.draft.id.clone(),
            arn: p
                .draft
                .computed
                .get("arn")
                .and_then(J::as_str)
                .map(str::to_owned),
            attrs,
            computed,
            deps: deps.into_iter().filter_map(|t| cx.addr(t)).collect(),
            protect: p.draft.kind.needs_consent(),
        };
        out.adopted
            .push((insts[p.draft.inst].address(), addr.clone()));
        for f in &p.draft.folded {
            out.adopted.push((f.clone(), addr.clone()));
        }
        if let Some(var) = &p.draft.secret_env {
            out.secret_envs.push(var.clone());
        }
        out.records
            .entry(p.env.clone())
            .or_default()
            .push((addr, record));
    }
}

/// Makes names unique per environment and kind: the module's name goes in front when two
/// Terraform resources of one name meet (`euw1_main`), a number after when that is not enough.
///
/// A block in a module call keeps its Terraform name: the module is a namespace of its own.
pub(super) fn name_blocks(
    insts: &[TfInstance],
    placed: &[Placed],
    blocks: &mut [Block],
    call_of: &[Option<usize>],
) {
    for b in blocks.iter_mut() {
        b.name = sanitize(&insts[placed[b.members[0]].draft.inst].name);
    }
    let mut count: BTreeMap<(String, Kind, String), usize> = BTreeMap::new();
    for b in blocks
        .iter()
        .zip(call_of)
        .filter(|(_, c)| c.is_none())
        .map(|(b, _)| b)
    {
        *count
            .entry((b.env.clone(), b.kind, b.name.clone()))
            .or_default() += 1;
    }
    for b in blocks
        .iter_mut()
        .zip(call_of)
        .filter(|(_, c)| c.is_none())
        .map(|(b, _)| b)
    {
        if count[&(b.env.clone(), b.kind, b.name.clone())] > 1 {
            let module = &insts[placed[b.members[0]].draft.inst].module;
            if let Some(last) = module.rsplit('.').next().filter(|m| !m.is_empty()) {
                b.name = sanitize(&format!("{}_{}", last.trim_end_matches(']'), b.name));
            }
        }
    }
    let mut used: BTreeSet<(String, Kind, String)> = BTreeSet::new();
    for b in blocks
        .iter_mut()
        .zip(call_of)
        .filter(|(_, c)| c.is_none())
        .map(|(b, _)| b)
    {
        let base = b.name.clone();
        let mut n = 2;
        while !used.insert((b.env.clone(), b.kind, b.name.clone())) {
            b.name = format!("{base}_{n}");
            n += 1;
        }
    }
}

/// A Terraform value in the shape of field type `ty`, with references where the type refers to
/// another kind and an adopted resource has the value.
fn to_sv(
    ty: &Ty,
    v: &J,
    index: &BTreeMap<(Kind, String, String), usize>,
    placed: &[Placed],
    me: usize,
) -> Sv {
    match (ty, v) {
        (Ty::RefTo { kind, attr }, J::String(s)) => {
            let mut hit = index.get(&(*kind, (*attr).to_owned(), s.clone())).copied();
            // A same-region replica names its source by identifier, not ARN.
            if hit.is_none() && *kind == Kind::RdsInstance && !s.starts_with("arn:") {
                hit = index
                    .get(&(*kind, "identifier".to_owned(), s.clone()))
                    .copied()
                    .filter(|t| placed[*t].env == placed[me].env);
            }
            match hit.filter(|t| *t != me) {
                Some(target) => Sv::Ref {
                    target,
                    attr: (*attr).to_owned(),
                },
                None => Sv::Lit(v.clone()),
            }
        }
        // The provider keeps some flags and numbers as strings (ElastiCache's
        // auto_minor_version_upgrade is "true"); the spec takes them typed.
        (Ty::Bool, J::String(s)) if s == "true" || s == "false" => Sv::Lit(J::Bool(s == "true")),
        (Ty::Int { .. }, J::String(s)) if s.parse::<i64>().is_ok() => {
            Sv::Lit(s.parse::<i64>().map(J::from).unwrap_or(J::Null))
        }
        (Ty::List(inner), J::Array(items)) => Sv::List(
            items
                .iter()
                .map(|x| to_sv(inner, x, index, placed, me))
                .collect(),
        ),
        (Ty::Object(fields), J::Object(m)) => Sv::Map(object(fields, m, index, placed, me)),
        _ => Sv::Lit(v.clone()),
    }
}

fn object(
    fields: &[Field],
    m: &Map<String, J>,
    index: &BTreeMap<(Kind, String, String), usize>,
    placed: &[Placed],
    me: usize,
) -> Vec<(String, Sv)> {
    fields
        .iter()
        .filter_map(|f| {
            let v = m.get(f.name).filter(|v| !v.is_null())?;
            Some((f.name.to_owned(), to_sv(&f.ty, v, index, placed, me)))
        })
        .collect()
}

/// The value a reference reads: the target's computed attribute, else its configured one.
fn resolve(sv: &Sv, placed: &[Placed]) -> J {
    match sv {
        Sv::Lit(j) => j.clone(),
        Sv::Ref { target, attr } => {
            let d = &placed[*target].draft;
            d.computed
                .get(attr)
                .or_else(|| d.attrs.get(attr))
                .cloned()
                .unwrap_or(J::Null)
        }
        Sv::List(l) => J::Array(l.iter().map(|v| resolve(v, placed)).collect()),
        Sv::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), resolve(v, placed)))
                .collect(),
        ),
        Sv::EachRef { .. } | Sv::EachValue(_) => J::Null,
    }
}

pub(super) fn has_keys(cx: &Ctx, b: usize) -> bool {
    cx.blocks[b].members.iter().any(|m| cx.key(*m).is_some())
}

/// The value with references to the instance of another repeated resource that has this key
/// replaced by `[each.key]`.
fn templatize(cx: &Ctx, sv: &Sv, key: &TfKey) -> Sv {
    match sv {
        Sv::Ref { target, attr } => {
            let tb = cx.block_of[*target];
            if cx.key(*target) == Some(key) && !cx.blocks[tb].split {
                Sv::EachRef {
                    block: tb,
                    attr: attr.clone(),
                }
            } else {
                sv.clone()
            }
        }
        Sv::List(l) => Sv::List(l.iter().map(|v| templatize(cx, v, key)).collect()),
        Sv::Map(m) => Sv::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), templatize(cx, v, key)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The attributes a repeated resource writes per key (`${each.value...}`).
pub(super) fn per_key_names(cx: &Ctx, b: usize) -> BTreeSet<String> {
    shape(cx, b)
        .into_iter()
        .flatten()
        .filter(|(_, e)| matches!(e, Entry::PerKey))
        .map(|(n, _)| n)
        .collect()
}

/// How a repeated resource is written as one `for_each`, or `None` when it cannot be.
fn shape(cx: &Ctx, b: usize) -> Option<Vec<(String, Entry)>> {
    let block = &cx.blocks[b];
    let keys: Vec<&TfKey> = block.members.iter().filter_map(|m| cx.key(*m)).collect();
    if keys.len() != block.members.len() {
        return None;
    }
    // Positions of a list must be 0, 1, 2 ... to keep the addresses of `count`.
    let ints: Vec<usize> = keys
        .iter()
        .filter_map(|k| match k {
            TfKey::Int(n) => Some(*n),
            TfKey::Str(_) => None,
        })
        .collect();
    if !ints.is_empty()
        && (ints.len() != keys.len() || ints.iter().enumerate().any(|(i, n)| i != *n))
    {
        return None;
    }
    let mut out = Vec::new();
    for f in schema(block.kind).fields {
        let vals: Vec<Option<&Sv>> = block
            .members
            .iter()
            .map(|m| cx.svs[*m].iter().find(|(n, _)| n == f.name).map(|(_, v)| v))
            .collect();
        if vals.iter().all(Option::is_none) {
            continue;
        }
        if let Some(Some(first)) = vals.first()
            && vals.iter().all(|v| *v == Some(*first))
            && !cx.per_key[b].contains(f.name)
        {
            out.push((f.name.to_owned(), Entry::Shared((*first).clone())));
            continue;
        }
        if vals.iter().all(|v| v.is_none_or(|v| !v.has_ref())) {
            out.push((f.name.to_owned(), Entry::PerKey));
            continue;
        }
        let templates: Vec<Option<Sv>> = vals
            .iter()
            .zip(&keys)
            .map(|(v, k)| v.map(|v| templatize(cx, v, k)))
            .collect();
        match templates.first() {
            Some(Some(t)) if templates.iter().all(|x| x.as_ref() == Some(t)) => {
                out.push((f.name.to_owned(), Entry::Shared(t.clone())));
            }
            _ => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// YAML

/// A value ready to print: scalars already in their YAML spelling.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Y {
    S(String),
    L(Vec<Y>),
    M(Vec<(String, Y)>),
}

/// The resources a block is written as: its comment, its key, its entries.
pub(super) fn block_items(cx: &Ctx, b: usize, sc: Scope) -> Vec<Item> {
    let block = &cx.blocks[b];
    let protect = block.kind.needs_consent();
    if block.split || !has_keys(cx, b) {
        let mut items = Vec::new();
        for m in &block.members {
            let d = &cx.placed[*m].draft;
            let mut head = match cx.origin {
                Origin::Terraform => {
                    format!("from {} ({})", cx.insts[d.inst].address(), block.source)
                }
                Origin::Aws { .. } => format!("from {} {} ({})", d.kind, d.id, block.source),
            };
            comment_tail(&mut head, d);
            let entries: Vec<(String, Y)> = cx.svs[*m]
                .iter()
                .map(|(k, v)| (k.clone(), to_y(cx, sc, v)))
                .collect();
            items.push(Item {
                head,
                key: cx.local(*m),
                entries,
                protect,
            });
        }
        return items;
    }
    let Some(shape) = shape(cx, b) else {
        return Vec::new();
    };
    let first = &cx.placed[block.members[0]].draft;
    let mut head = match cx.origin {
        Origin::Terraform => format!(
            "from {}, {} instance{} ({})",
            block.tf,
            block.members.len(),
            if block.members.len() == 1 { "" } else { "s" },
            block.source
        ),
        Origin::Aws { .. } => format!(
            "from {} {} ({}), one per zone",
            block.kind,
            block
                .members
                .iter()
                .map(|m| cx.placed[*m].draft.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            block.source
        ),
    };
    for m in &block.members {
        comment_tail(&mut head, &cx.placed[*m].draft);
    }
    let _ = first;
    let per_key: Vec<&str> = shape
        .iter()
        .filter(|(_, e)| matches!(e, Entry::PerKey))
        .map(|(n, _)| n.as_str())
        .collect();
    let string_keys = matches!(cx.key(block.members[0]), Some(TfKey::Str(_)));
    let value_of = |m: usize, attr: &str| -> Y {
        cx.svs[m]
            .iter()
            .find(|(n, _)| n == attr)
            .map_or(Y::S("null".into()), |(_, v)| to_y(cx, sc, v))
    };
    let for_each = if string_keys && per_key.len() <= 1 {
        let entries: Vec<(String, Y)> = block
            .members
            .iter()
            .filter_map(|m| match cx.key(*m) {
                Some(TfKey::Str(k)) => Some((k.clone(), m)),
                _ => None,
            })
            .map(|(k, m)| match per_key.first() {
                Some(attr) => (k, value_of(*m, attr)),
                None => (k, Y::S(String::new())),
            })
            .collect();
        if per_key.is_empty() {
            Y::L(entries.into_iter().map(|(k, _)| Y::S(scalar(&k))).collect())
        } else {
            Y::M(entries.into_iter().map(|(k, v)| (scalar(&k), v)).collect())
        }
    } else {
        let rows = |m: usize| -> Y {
            Y::M(
                per_key
                    .iter()
                    .map(|a| ((*a).to_owned(), value_of(m, a)))
                    .collect(),
            )
        };
        if string_keys {
            Y::M(
                block
                    .members
                    .iter()
                    .filter_map(|m| match cx.key(*m) {
                        Some(TfKey::Str(k)) => Some((scalar(k), rows(*m))),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            Y::L(block.members.iter().map(|m| rows(*m)).collect())
        }
    };
    let single = string_keys && per_key.len() == 1;
    let mut entries = vec![("for_each".to_owned(), for_each)];
    for (name, e) in &shape {
        let y = match e {
            Entry::Shared(sv) => to_y(cx, sc, sv),
            Entry::PerKey if single => to_y(cx, sc, &Sv::EachValue(None)),
            Entry::PerKey => to_y(cx, sc, &Sv::EachValue(Some(name.clone()))),
        };
        entries.push((name.clone(), y));
    }
    vec![Item {
        head,
        key: format!("{}.{}", block.kind, block.name),
        entries,
        protect,
    }]
}

/// One resource as written.
pub(super) struct Item {
    pub(super) head: String,
    pub(super) key: String,
    pub(super) entries: Vec<(String, Y)>,
    pub(super) protect: bool,
}

pub(super) fn write_items(items: &[Item], out: &mut String) {
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        comment(out, &item.head);
        let _ = writeln!(out, "  {}:", item.key);
        write_map(out, 4, &item.entries);
        if item.protect {
            out.push_str("    protect: true\n");
        }
    }
}

/// Adds what was folded in, and the notes, to a resource's comment.
fn comment_tail(head: &mut String, d: &super::map::Draft) {
    if !d.folded.is_empty() {
        let shown: Vec<&str> = d.folded.iter().take(4).map(String::as_str).collect();
        let _ = write!(head, "; with {}", shown.join(", "));
        if d.folded.len() > 4 {
            let _ = write!(head, " and {} more", d.folded.len() - 4);
        }
    }
    for n in &d.notes {
        let _ = write!(head, "; {n}");
    }
}

/// A comment, wrapped at about 100 columns.
pub(super) fn comment(out: &mut String, text: &str) {
    let mut line = String::from("  #");
    for word in text.split(' ') {
        if line.len() + word.len() > 98 && line.len() > 3 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("  #");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

pub(super) fn to_y(cx: &Ctx, sc: Scope, sv: &Sv) -> Y {
    match sv {
        Sv::Lit(j) => lit_y(j),
        Sv::Ref { target, attr } => {
            let p = &cx.placed[*target];
            let tc = cx.call_of[cx.block_of[*target]];
            let text = match tc {
                // The module's own resource, from inside it.
                Some(c) if sc.call == Some(c) => format!("${{{}.{attr}}}", cx.local(*target)),
                // A module's resource from outside: through the output the module declares.
                Some(c) => format!(
                    "${{{}module.{}.{}}}",
                    cx.env_prefix(sc.env, &cx.calls[c].env),
                    cx.calls[c].name,
                    cx.output_name(*target, attr)
                ),
                None => format!(
                    "${{{}{}.{attr}}}",
                    cx.env_prefix(sc.env, &p.env),
                    cx.local(*target)
                ),
            };
            Y::S(quote(&text))
        }
        Sv::EachRef { block, attr } => {
            let b = &cx.blocks[*block];
            let prefix = if sc.call.is_some() && cx.call_of[*block] == sc.call {
                String::new()
            } else {
                cx.env_prefix(sc.env, &b.env)
            };
            Y::S(quote(&format!(
                "${{{prefix}{}.{}[each.key].{attr}}}",
                b.kind, b.name
            )))
        }
        Sv::EachValue(None) => Y::S(quote("${each.value}")),
        Sv::EachValue(Some(a)) => Y::S(quote(&format!("${{each.value.{a}}}"))),
        Sv::List(l) => {
            if let Some(all) = super::module::every_instance(cx, sc, l) {
                return Y::S(quote(&all));
            }
            let mut items: Vec<Y> = l.iter().map(|v| to_y(cx, sc, v)).collect();
            // A list of references is a set in every kind that has one (subnets, security
            // groups, policies, alarm actions) and compares as one; in a stable order, the
            // written spec does not depend on the order AWS listed the ids in.
            if l.iter().all(|v| matches!(v, Sv::Ref { .. })) {
                items.sort_by(|a, b| match (a, b) {
                    (Y::S(a), Y::S(b)) => a.cmp(b),
                    _ => std::cmp::Ordering::Equal,
                });
            }
            Y::L(items)
        }
        Sv::Map(m) => Y::M(
            m.iter()
                .map(|(k, v)| (scalar(k), to_y(cx, sc, v)))
                .collect(),
        ),
    }
}

fn lit_y(j: &J) -> Y {
    match j {
        J::Null => Y::S("null".into()),
        J::Bool(b) => Y::S(b.to_string()),
        J::Number(n) => Y::S(n.to_string()),
        J::String(s) => Y::S(scalar(s)),
        J::Array(a) => Y::L(a.iter().map(lit_y).collect()),
        J::Object(m) => Y::M(m.iter().map(|(k, v)| (scalar(k), lit_y(v))).collect()),
    }
}

/// A literal string: `${` is escaped so it stays text, then quoted as needed.
pub(super) fn scalar(s: &str) -> String {
    quote(&s.replace("${", "$${"))
}

/// Plain when YAML reads it back as the same string, else single or double quoted.
pub(super) fn quote(s: &str) -> String {
    let plain_char = |c: char| c.is_ascii_alphanumeric() || "_./-@+=".contains(c);
    let looks_other = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
    ) || s.parse::<f64>().is_ok();
    let starts_ok = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/')
        || (s.starts_with(|c: char| c.is_ascii_digit()) && s.contains('/') && !s.contains('-'));
    // Inner spaces are plain too ("EKS nodes"), but not around the text or before a `#`.
    let spaces_ok = !s.ends_with(' ') && !s.contains(" #") && !s.contains("  ");
    if !s.is_empty()
        && starts_ok
        && !looks_other
        && spaces_ok
        && s.chars().all(|c| plain_char(c) || c == ' ')
    {
        return s.to_owned();
    }
    if s.contains('"') && !s.contains('\'') && !s.chars().any(char::is_control) {
        return format!("'{s}'");
    }
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// The one-line flow form of a value, if it has one short enough.
fn flow(y: &Y) -> Option<String> {
    match y {
        Y::S(s) => Some(s.clone()),
        Y::L(items) => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|i| match i {
                    Y::S(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            Some(format!("[{}]", parts?.join(", ")))
        }
        Y::M(m) if m.is_empty() => Some("{}".into()),
        Y::M(m) => {
            let parts: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| match v {
                    Y::S(s) => Some(format!("{k}: {s}")),
                    _ => None,
                })
                .collect();
            Some(format!("{{ {} }}", parts?.join(", ")))
        }
    }
}

pub(super) fn write_map(out: &mut String, indent: usize, entries: &[(String, Y)]) {
    let pad = " ".repeat(indent);
    for (k, v) in entries {
        if let Some(f) = flow(v).filter(|f| indent + k.len() + f.len() < 96) {
            let _ = writeln!(out, "{pad}{k}: {f}");
            continue;
        }
        let _ = writeln!(out, "{pad}{k}:");
        match v {
            Y::M(m) => write_map(out, indent + 2, m),
            Y::L(l) => write_list(out, indent + 2, l),
            Y::S(s) => {
                let _ = writeln!(out, "{pad}  {s}");
            }
        }
    }
}

fn write_list(out: &mut String, indent: usize, items: &[Y]) {
    let pad = " ".repeat(indent);
    for item in items {
        if let Some(f) = flow(item).filter(|f| indent + f.len() < 96) {
            let _ = writeln!(out, "{pad}- {f}");
            continue;
        }
        match item {
            Y::M(m) => {
                let mut inner = String::new();
                write_map(&mut inner, indent + 2, m);
                let inner = inner.replacen(&" ".repeat(indent + 2), &format!("{pad}- "), 1);
                out.push_str(&inner);
            }
            Y::L(l) => {
                let _ = writeln!(out, "{pad}-");
                write_list(out, indent + 2, l);
            }
            Y::S(s) => {
                let _ = writeln!(out, "{pad}- {s}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_strings_strings() {
        assert_eq!(quote("10.0.0.0/16"), "10.0.0.0/16");
        assert_eq!(quote("eu-west-1a"), "eu-west-1a");
        assert_eq!(quote("1.31"), "\"1.31\"");
        assert_eq!(quote("true"), "\"true\"");
        assert_eq!(quote("2012-10-17"), "\"2012-10-17\"");
        assert_eq!(quote("/aws/eks/x/cluster"), "/aws/eks/x/cluster");
        assert_eq!(quote("${vpc.main.id}"), "\"${vpc.main.id}\"");
        assert_eq!(quote("${subnet.a[\"x\"].id}"), "'${subnet.a[\"x\"].id}'");
        assert_eq!(scalar("a ${b}"), "\"a $${b}\"");
        assert_eq!(quote("*.example.com"), "\"*.example.com\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("EKS nodes"), "EKS nodes");
        assert_eq!(quote("a #b"), "\"a #b\"");
        assert_eq!(quote("a: b"), "\"a: b\"");
    }

    #[test]
    fn names_are_spec_names() {
        assert_eq!(sanitize("eu-west-1a"), "eu-west-1a");
        assert_eq!(sanitize("1st"), "_1st");
        assert_eq!(sanitize("a.b"), "a_b");
    }
}
