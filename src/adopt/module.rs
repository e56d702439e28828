//! Instances of one Terraform module called in several regions become one regionctl module with
//! one call per region, as `modules/eks-platform` is called by `envs/*/`.
//!
//! State v4 does not record a module's source, so "the same module" means the same shape: the
//! same Terraform resources (type and name) and, after mapping, the same regionctl resources
//! written the same way (for_each or separate, and with the same keys where separate). The
//! module holds each resource once:
//! - a value written the same in every call stays literal in the module;
//! - a value that differs, or that refers to something outside the module (a global IAM role, a
//!   resource of the region's flat file, another call's resource), becomes an input of the
//!   module, which each call passes as written today (literals, or references);
//! - references between the module's own resources stay references inside the module;
//! - what others read of the module's resources is a module output.
//!
//! A value that differs between the calls *and* refers to the module's own resources cannot be
//! passed in, so such a module is given up and its resources are written flat, with the reason
//! in the summary; the decision is repeated until every remaining module can be written.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::emit::{
    Ctx, Item, Scope, Sv, Y, block_items, comment, has_keys, name_blocks, per_key_names, quote,
    sanitize, scalar, write_items, write_map,
};
use crate::kind::Kind;

/// A call of an adopted module: the Terraform module instance it was (`module.use1`) and the
/// environment it is called from.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(super) name: String,
    pub(super) env: String,
    /// The Terraform module path, `module.use1`.
    pub(super) path: String,
}

/// A module written: its file, and each call as `(env, call name, value under modules:)`.
pub(super) struct Built {
    pub(super) file: (String, String),
    pub(super) calls: Vec<(String, String, Y)>,
}

/// A module being decided on: its Terraform module paths and its directory name.
struct Cand {
    paths: Vec<String>,
    dir: String,
}

/// How one Terraform module instance looks after mapping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shape {
    /// (Terraform type, name) of every managed resource, adopted or not.
    tf: BTreeSet<(String, String)>,
    /// (address in the module, kind, written as separate resources, the keys of those).
    blocks: BTreeSet<(String, Kind, bool, Vec<String>)>,
}

/// Decides which Terraform module instances become calls of one module, sets `cx.calls`,
/// `cx.call_of` and the names of every block, and returns the modules to write.
pub(super) fn plan(cx: &mut Ctx, notes: &mut Vec<String>) -> Vec<Built> {
    let mut cands = candidates(cx, notes);
    loop {
        assign(cx, &cands);
        let mut built = Vec::new();
        let mut failed = None;
        for (mi, cand) in cands.iter().enumerate() {
            match build(cx, cand) {
                Ok(b) => built.push(b),
                Err(reason) => {
                    failed = Some((mi, reason));
                    break;
                }
            }
        }
        match failed {
            None => {
                for cand in &cands {
                    let calls: Vec<String> = cx
                        .calls
                        .iter()
                        .filter(|c| cand.paths.contains(&c.path))
                        .map(|c| format!("{} ({})", c.path, c.env))
                        .collect();
                    notes.push(format!(
                        "{}: one module, modules/{}, called once per instance",
                        calls.join(", "),
                        cand.dir
                    ));
                }
                return built;
            }
            Some((mi, reason)) => {
                let cand = cands.remove(mi);
                notes.push(format!(
                    "{}: written flat, not as one module: {reason}",
                    cand.paths.join(", ")
                ));
            }
        }
    }
}

/// The Terraform module instance of a block, if it is a module called once (not nested, no
/// `count`/`for_each` on the module itself): its path, `module.use1`, followed by the state it
/// was read from when there are several (one root module per region has `module.platform` in
/// each: `module.platform (euw1.tfstate)`).
fn module_path(cx: &Ctx, b: usize) -> Option<String> {
    inst_module(cx, &cx.insts[cx.placed[cx.blocks[b].members[0]].draft.inst])
}

fn inst_module(cx: &Ctx, inst: &super::tfstate::TfInstance) -> Option<String> {
    let name = inst.module.strip_prefix("module.")?;
    if name.is_empty() || name.contains(['.', '[']) {
        return None;
    }
    let one_source = cx.insts.iter().all(|i| i.source == inst.source);
    Some(if one_source {
        inst.module.clone()
    } else {
        format!("{} ({})", inst.module, inst.source)
    })
}

/// `module.use1` of `module.use1 (euw1.tfstate)`.
fn raw_path(id: &str) -> &str {
    id.split(' ').next().unwrap_or(id)
}

fn candidates(cx: &Ctx, notes: &mut Vec<String>) -> Vec<Cand> {
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for b in 0..cx.blocks.len() {
        if let Some(p) = module_path(cx, b) {
            by_path.entry(p).or_default().push(b);
        }
    }
    let mut shapes: BTreeMap<String, Shape> = BTreeMap::new();
    for (path, blocks) in &by_path {
        let envs: BTreeSet<&str> = blocks.iter().map(|b| cx.blocks[*b].env.as_str()).collect();
        if envs.len() > 1 {
            if by_path.len() > 1 {
                notes.push(format!(
                    "{path}: written flat: its resources go to several environments ({})",
                    envs.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            continue;
        }
        shapes.insert(path.clone(), shape_of(cx, path, blocks));
    }
    let mut groups: BTreeMap<&Shape, Vec<&String>> = BTreeMap::new();
    for (path, shape) in &shapes {
        groups.entry(shape).or_default().push(path);
    }
    let mut out = Vec::new();
    let mut used_dirs = BTreeSet::new();
    for paths in groups.values() {
        let envs: BTreeSet<&str> = paths
            .iter()
            .filter_map(|p| by_path.get(*p).and_then(|b| b.first()))
            .map(|b| cx.blocks[*b].env.as_str())
            .collect();
        if envs.len() >= 2 {
            let names: Vec<String> = paths.iter().map(|p| call_name(p)).collect();
            let base = common_name(&names);
            let mut dir = base.clone();
            let mut n = 2;
            while !used_dirs.insert(dir.clone()) {
                dir = format!("{base}_{n}");
                n += 1;
            }
            out.push(Cand {
                paths: paths.iter().map(|p| (*p).clone()).collect(),
                dir,
            });
            continue;
        }
        // Alone (or only in one environment): say how it differs from another instance.
        let Some(other) = shapes.keys().find(|o| !paths.contains(o)) else {
            continue;
        };
        let mine = &shapes[paths[0]];
        let theirs = &shapes[other];
        let reason = if envs.len() < 2 && paths.len() > 1 {
            "its instances are all in one environment".to_owned()
        } else if mine.tf != theirs.tf {
            let only = |a: &Shape, b: &Shape| -> String {
                let d: Vec<String> =
                    a.tf.difference(&b.tf)
                        .take(4)
                        .map(|(t, n)| format!("{t}.{n}"))
                        .collect();
                if d.is_empty() {
                    "nothing".to_owned()
                } else {
                    d.join(", ")
                }
            };
            format!(
                "its shape differs from {other}'s (only {} has {}; only {other} has {})",
                paths[0],
                only(mine, theirs),
                only(theirs, mine)
            )
        } else {
            let d: Vec<String> = mine
                .blocks
                .symmetric_difference(&theirs.blocks)
                .map(|(a, ..)| a.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .take(4)
                .collect();
            format!(
                "its resources are written differently from {other}'s ({}: instances differ)",
                d.join(", ")
            )
        };
        for p in paths {
            notes.push(format!("{p}: written flat, not as one module: {reason}"));
        }
    }
    out
}

fn shape_of(cx: &Ctx, path: &str, blocks: &[usize]) -> Shape {
    let tf = cx
        .insts
        .iter()
        .filter(|i| i.managed && inst_module(cx, i).as_deref() == Some(path))
        .map(|i| (i.tf_type.clone(), i.name.clone()))
        .collect();
    let blocks = blocks
        .iter()
        .map(|b| {
            let block = &cx.blocks[*b];
            let keys = if block.split || !has_keys(cx, *b) {
                block
                    .members
                    .iter()
                    .map(|m| cx.key(*m).map(super::emit::key_text).unwrap_or_default())
                    .collect()
            } else {
                // A for_each's keys may differ (one per zone): they become an input.
                vec!["*".to_owned()]
            };
            (suffix(&block.tf, path), block.kind, block.split, keys)
        })
        .collect();
    Shape { tf, blocks }
}

fn suffix(tf: &str, path: &str) -> String {
    tf.strip_prefix(raw_path(path))
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(tf)
        .to_owned()
}

fn call_name(path: &str) -> String {
    let path = raw_path(path);
    sanitize(path.strip_prefix("module.").unwrap_or(path))
}

/// The module's directory: the words (between `_` and `-`) the call names share at their
/// start or end (`platform` of `platform_use1` and `platform_euw1`), else `adopted`.
fn common_name(names: &[String]) -> String {
    let words: Vec<Vec<&str>> = names
        .iter()
        .map(|n| n.split(['_', '-']).collect())
        .collect();
    let Some(first) = words.first() else {
        return "adopted".to_owned();
    };
    let mut head = first.len();
    let mut tail = first.len();
    for w in &words[1..] {
        head = head.min(first.iter().zip(w).take_while(|(a, b)| a == b).count());
        tail = tail.min(
            first
                .iter()
                .rev()
                .zip(w.iter().rev())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    let head = first[..head].join("_");
    let tail = first[first.len() - tail..].join("_");
    let best = if tail.len() > head.len() { tail } else { head };
    if best.chars().filter(char::is_ascii_alphabetic).count() >= 3 {
        sanitize(&best)
    } else {
        "adopted".to_owned()
    }
}

/// Makes the calls of the candidates, and names every block.
fn assign(cx: &mut Ctx, cands: &[Cand]) {
    cx.calls.clear();
    cx.call_of = vec![None; cx.blocks.len()];
    for cand in cands {
        for path in &cand.paths {
            let c = cx.calls.len();
            let mut env = None;
            for b in 0..cx.blocks.len() {
                if module_path(cx, b).as_deref() == Some(path.as_str()) {
                    cx.call_of[b] = Some(c);
                    env = Some(cx.blocks[b].env.clone());
                }
            }
            let env = env.unwrap_or_default();
            // Two states may each call a module of the same name in one region.
            let base = call_name(path);
            let mut name = base.clone();
            let mut n = 2;
            while cx.calls.iter().any(|c| c.env == env && c.name == name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            cx.calls.push(Call {
                name,
                env,
                path: path.clone(),
            });
        }
    }
    name_blocks(cx.insts, cx.placed, &mut cx.blocks, &cx.call_of);
    // A for_each writes per key what differs in any call, in every call.
    cx.per_key = vec![BTreeSet::new(); cx.blocks.len()];
    for cand in cands {
        let per_call: Vec<Vec<usize>> = (0..cx.calls.len())
            .filter(|c| cand.paths.contains(&cx.calls[*c].path))
            .map(|c| blocks_of(cx, c))
            .collect();
        let Some(first) = per_call.first() else {
            continue;
        };
        for pos in 0..first.len() {
            let bs: Vec<usize> = per_call
                .iter()
                .filter_map(|bs| bs.get(pos).copied())
                .collect();
            if bs.iter().any(|b| cx.blocks[*b].split || !has_keys(cx, *b)) {
                continue;
            }
            let union: BTreeSet<String> = bs.iter().flat_map(|b| per_key_names(cx, *b)).collect();
            for b in bs {
                cx.per_key[b] = union.clone();
            }
        }
    }
}

/// A call's blocks, in the order of their address in the module.
fn blocks_of(cx: &Ctx, c: usize) -> Vec<usize> {
    let mut bs: Vec<usize> = (0..cx.blocks.len())
        .filter(|b| cx.call_of[*b] == Some(c))
        .collect();
    bs.sort_by_key(|b| {
        (
            suffix(&cx.blocks[*b].tf, &cx.calls[c].path),
            cx.blocks[*b].kind,
        )
    });
    bs
}

/// `${kind.name[*].attr}` for a list of references to every instance of one of the module's
/// own for_each resources: the list each call has is then written the same way in the module
/// (one zone's keys are not another's).
pub(super) fn every_instance(cx: &Ctx, sc: Scope, l: &[Sv]) -> Option<String> {
    let call = sc.call?;
    let mut targets = BTreeSet::new();
    let mut shared: Option<(usize, &str)> = None;
    for v in l {
        let Sv::Ref { target, attr } = v else {
            return None;
        };
        let b = cx.block_of[*target];
        match shared {
            None => shared = Some((b, attr)),
            Some((sb, sa)) if sb == b && sa == attr => {}
            Some(_) => return None,
        }
        targets.insert(*target);
    }
    let (b, attr) = shared?;
    let block = &cx.blocks[b];
    let all: BTreeSet<usize> = block.members.iter().copied().collect();
    (cx.call_of[b] == Some(call)
        && !block.split
        && has_keys(cx, b)
        && targets == all
        && l.len() == all.len())
    .then(|| format!("${{{}.{}[*].{attr}}}", block.kind, block.name))
}

/// Whether a value refers outside call `c`, and whether it depends on the module's own
/// resources or on `each`.
fn flags(cx: &Ctx, c: usize, sv: &Sv, out: &mut (bool, bool)) {
    match sv {
        Sv::Ref { target, .. } => {
            if cx.call_of[cx.block_of[*target]] == Some(c) {
                out.1 = true;
            } else {
                out.0 = true;
            }
        }
        Sv::EachRef { block, .. } => {
            out.1 = true;
            if cx.call_of[*block] != Some(c) {
                out.0 = true;
            }
        }
        Sv::EachValue(_) => out.1 = true,
        Sv::List(l) => l.iter().for_each(|v| flags(cx, c, v, out)),
        Sv::Map(m) => m.iter().for_each(|(_, v)| flags(cx, c, v, out)),
        Sv::Lit(_) => {}
    }
}

fn y_has(y: &Y, needle: &str) -> bool {
    match y {
        Y::S(s) => s.contains(needle),
        Y::L(l) => l.iter().any(|v| y_has(v, needle)),
        Y::M(m) => m.iter().any(|(_, v)| y_has(v, needle)),
    }
}

fn build(cx: &Ctx, cand: &Cand) -> Result<Built, String> {
    let calls: Vec<usize> = (0..cx.calls.len())
        .filter(|c| cand.paths.contains(&cx.calls[*c].path))
        .collect();
    let per_call: Vec<Vec<usize>> = calls.iter().map(|c| blocks_of(cx, *c)).collect();
    let first = &per_call[0];
    let mut names = BTreeSet::new();
    for b in first {
        let block = &cx.blocks[*b];
        if !names.insert((block.kind, block.name.clone())) {
            return Err(format!(
                "two of its resources would both be {}.{}",
                block.kind, block.name
            ));
        }
    }
    if per_call.iter().any(|bs| bs.len() != first.len()) {
        return Err("its instances do not have the same resources".to_owned());
    }

    let mut inputs: Vec<(String, Vec<Y>)> = Vec::new();
    let mut input_names = BTreeSet::new();
    let mut module_items: Vec<Item> = Vec::new();
    for pos in 0..first.len() {
        let inside: Vec<Vec<Item>> = calls
            .iter()
            .zip(&per_call)
            .map(|(c, bs)| {
                let scope = Scope {
                    env: &cx.calls[*c].env,
                    call: Some(*c),
                };
                block_items(cx, bs[pos], scope)
            })
            .collect();
        let outside: Vec<Vec<Item>> = calls
            .iter()
            .zip(&per_call)
            .map(|(c, bs)| {
                let scope = Scope {
                    env: &cx.calls[*c].env,
                    call: None,
                };
                block_items(cx, bs[pos], scope)
            })
            .collect();
        let items0 = &inside[0];
        for items in &inside {
            if items.len() != items0.len() || items.iter().zip(items0).any(|(a, b)| a.key != b.key)
            {
                return Err(format!(
                    "{} is written differently in each instance",
                    cx.blocks[first[pos]].tf
                ));
            }
        }
        for (n, item0) in items0.iter().enumerate() {
            let mut entry_names: Vec<String> = Vec::new();
            for items in &inside {
                for (k, _) in &items[n].entries {
                    if !entry_names.contains(k) {
                        entry_names.push(k.clone());
                    }
                }
            }
            let mut entries = Vec::new();
            for name in &entry_names {
                let mut vals = Vec::new();
                let mut any_outside = false;
                let mut any_inside = false;
                for (ci, c) in calls.iter().enumerate() {
                    let b = per_call[ci][pos];
                    let block = &cx.blocks[b];
                    // The instances this item is written from.
                    let members: Vec<usize> = if block.split || !has_keys(cx, b) {
                        block.members.get(n).copied().into_iter().collect()
                    } else {
                        block.members.clone()
                    };
                    let mut f = (false, false);
                    for m in members {
                        if let Some((_, sv)) = cx.svs[m].iter().find(|(k, _)| k == name) {
                            flags(cx, *c, sv, &mut f);
                        }
                    }
                    let y = inside[ci][n]
                        .entries
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, y)| y.clone());
                    if y.as_ref().is_some_and(|y| y_has(y, "${each.")) {
                        f.1 = true;
                    }
                    any_outside |= f.0;
                    any_inside |= f.1;
                    vals.push(y);
                }
                let same = vals.iter().all(|v| v.is_some() && *v == vals[0]);
                if same && !any_outside {
                    if let Some(y) = vals[0].clone() {
                        entries.push((name.clone(), y));
                    }
                    continue;
                }
                if any_inside {
                    // One instance of the module's own for_each resource, whose key differs per
                    // call (the NAT gateway in the first zone's subnet): the key is the input.
                    if let Some((expr, keys)) = keyed_ref(cx, &calls, &per_call, pos, n, name) {
                        let input = fresh(
                            &mut input_names,
                            &format!("{}_{name}_key", item0.key.replace('.', "_")),
                        );
                        entries.push((
                            name.clone(),
                            Y::S(quote(&expr.replace("{KEY}", &format!("input.{input}")))),
                        ));
                        inputs.push((input, keys.iter().map(|k| Y::S(scalar(k))).collect()));
                        continue;
                    }
                    return Err(format!(
                        "{}'s {name} differs between the instances (or refers outside the \
                         module) and depends on the module's own resources, so no input can \
                         pass it",
                        item0.key
                    ));
                }
                let input = fresh(
                    &mut input_names,
                    &format!("{}_{name}", item0.key.replace('.', "_")),
                );
                let passed: Vec<Y> = outside
                    .iter()
                    .map(|items| {
                        items[n]
                            .entries
                            .iter()
                            .find(|(k, _)| k == name)
                            .map_or(Y::S("null".into()), |(_, y)| y.clone())
                    })
                    .collect();
                entries.push((name.clone(), Y::S(quote(&format!("${{input.{input}}}")))));
                inputs.push((input, passed));
            }
            // Every instance's comment: each names its Terraform address and its own notes
            // (the password variable of each region's database, for one).
            let heads: Vec<&str> = inside.iter().map(|items| items[n].head.as_str()).collect();
            module_items.push(Item {
                head: heads.join("; "),
                key: item0.key.clone(),
                entries,
                protect: item0.protect,
            });
        }
    }

    // What the rest of the spec reads of the module's resources: outputs.
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    for b in 0..cx.blocks.len() {
        for m in &cx.blocks[b].members {
            for (_, sv) in &cx.svs[*m] {
                need_outputs(cx, &calls, &per_call, cx.call_of[b], sv, &mut outputs)?;
            }
        }
    }

    let mut text = String::new();
    let mut sources: Vec<&str> = cx.insts.iter().map(|i| i.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let paths: Vec<&str> = calls.iter().map(|c| cx.calls[*c].path.as_str()).collect();
    // The comment wraps as the resources' do; at column 0, not 2.
    let mut head = String::new();
    comment(
        &mut head,
        &format!(
            "Adopted from Terraform by `regionctl adopt terraform` ({}): the resources of {}, \
             instances of one Terraform module with the same shape. What differs between them \
             is an input, passed by each call (envs/<region>/terraform.yaml).",
            sources.join(", "),
            paths.join(", ")
        ),
    );
    for line in head.lines() {
        let _ = writeln!(text, "{}", line.trim_start());
    }
    if !inputs.is_empty() {
        text.push_str("\ninputs:\n");
        for (name, _) in &inputs {
            let _ = writeln!(text, "  {name}: any");
        }
    }
    text.push_str("\nresources:\n");
    write_items(&module_items, &mut text);
    if !outputs.is_empty() {
        text.push_str("\noutputs:\n");
        let entries: Vec<(String, Y)> = outputs
            .into_iter()
            .map(|(k, v)| (k, Y::S(quote(&v))))
            .collect();
        write_map(&mut text, 2, &entries);
    }

    let built_calls = calls
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let call = &cx.calls[*c];
            let passed: Vec<(String, Y)> = inputs
                .iter()
                .map(|(name, vals)| (name.clone(), vals[ci].clone()))
                .collect();
            let y = Y::M(vec![
                (
                    "source".to_owned(),
                    Y::S(format!("../../modules/{}", cand.dir)),
                ),
                ("inputs".to_owned(), Y::M(passed)),
            ]);
            (call.env.clone(), call.name.clone(), y)
        })
        .collect();
    Ok(Built {
        file: (format!("modules/{}/module.yaml", cand.dir), text),
        calls: built_calls,
    })
}

/// Adds the outputs that a value written outside call `from` needs to read this module's
/// resources; an instance's key must be in every call, since the outputs are the module's.
fn need_outputs(
    cx: &Ctx,
    calls: &[usize],
    per_call: &[Vec<usize>],
    from: Option<usize>,
    sv: &Sv,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    match sv {
        Sv::Ref { target, attr } => {
            let tb = cx.block_of[*target];
            let Some(tc) = cx.call_of[tb].filter(|c| calls.contains(c) && from != Some(*c)) else {
                return Ok(());
            };
            if let Some(key) = cx.key(*target) {
                let ci = calls.iter().position(|c| *c == tc).unwrap_or(0);
                let pos = per_call[ci].iter().position(|b| *b == tb).unwrap_or(0);
                for bs in per_call {
                    let has = bs.get(pos).is_some_and(|b| {
                        cx.blocks[*b]
                            .members
                            .iter()
                            .any(|m| cx.key(*m) == Some(key))
                    });
                    if !has {
                        return Err(format!(
                            "{} is referred to from outside the module, and not every instance \
                             has the key {}",
                            cx.addr(*target).map(|a| a.to_string()).unwrap_or_default(),
                            super::emit::key_text(key)
                        ));
                    }
                }
            }
            out.insert(
                cx.output_name(*target, attr),
                format!("${{{}.{attr}}}", cx.local(*target)),
            );
            Ok(())
        }
        Sv::EachRef { block, .. } => match cx.call_of[*block] {
            Some(c) if calls.contains(&c) && from != Some(c) => Err(format!(
                "a resource outside it refers to each instance of its {}.{}",
                cx.blocks[*block].kind, cx.blocks[*block].name
            )),
            _ => Ok(()),
        },
        Sv::List(l) => l
            .iter()
            .try_for_each(|v| need_outputs(cx, calls, per_call, from, v, out)),
        Sv::Map(m) => m
            .iter()
            .try_for_each(|(_, v)| need_outputs(cx, calls, per_call, from, v, out)),
        _ => Ok(()),
    }
}

/// An input name not taken yet.
fn fresh(taken: &mut BTreeSet<String>, base: &str) -> String {
    let base = sanitize(base);
    let mut name = base.clone();
    let mut k = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{k}");
        k += 1;
    }
    name
}

/// When entry `name` of item `n` of the block at `pos` is, in every call, a reference to one
/// instance (string key) of the same for_each resource of the module: the reference with
/// `{KEY}` where the key goes, and each call's key.
fn keyed_ref(
    cx: &Ctx,
    calls: &[usize],
    per_call: &[Vec<usize>],
    pos: usize,
    n: usize,
    name: &str,
) -> Option<(String, Vec<String>)> {
    let mut expr: Option<String> = None;
    let mut keys = Vec::new();
    for (ci, c) in calls.iter().enumerate() {
        let block = &cx.blocks[per_call[ci][pos]];
        if !block.split && has_keys(cx, per_call[ci][pos]) {
            return None;
        }
        let m = *block.members.get(n)?;
        let (_, Sv::Ref { target, attr }) = cx.svs[m].iter().find(|(k, _)| k == name)? else {
            return None;
        };
        let tb = cx.block_of[*target];
        let target_block = &cx.blocks[tb];
        if cx.call_of[tb] != Some(*c) || target_block.split {
            return None;
        }
        let Some(super::tfstate::TfKey::Str(key)) = cx.key(*target) else {
            return None;
        };
        let e = format!(
            "${{{}.{}[{{KEY}}].{attr}}}",
            target_block.kind, target_block.name
        );
        if expr.as_ref().is_some_and(|x| *x != e) {
            return None;
        }
        expr = Some(e);
        keys.push(key.clone());
    }
    expr.map(|e| (e, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_is_named_after_what_the_calls_share() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            common_name(&names(&["platform_use1", "platform_euw1"])),
            "platform"
        );
        assert_eq!(
            common_name(&names(&["use1_network", "euw1_network"])),
            "network"
        );
        assert_eq!(common_name(&names(&["use1", "euw1"])), "adopted");
        assert_eq!(common_name(&names(&["net_use1", "net_euw1"])), "net");
        assert_eq!(common_name(&names(&["app", "app"])), "app");
        assert_eq!(call_name("module.eu-west-1"), "eu-west-1");
    }
}
