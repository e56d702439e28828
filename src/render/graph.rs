//! The resource graph as Graphviz DOT (clustered by environment) or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::graph::ResourceGraph;

/// DOT with one cluster per environment; cross-environment edges are drawn bold, and resources
/// of unselected environments dashed.
pub fn dot(g: &ResourceGraph) -> String {
    let mut by_env: BTreeMap<&str, Vec<&crate::graph::Node>> = BTreeMap::new();
    for n in g.nodes() {
        by_env.entry(n.addr.env.as_str()).or_default().push(n);
    }
    let mut out = String::new();
    out.push_str("digraph regionctl {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n  edge [color=\"#555555\"];\n");
    for (i, (env, nodes)) in by_env.iter_mut().enumerate() {
        nodes.sort_by(|a, b| a.addr.cmp(&b.addr));
        let _ = writeln!(
            out,
            "  subgraph cluster_{i} {{\n    label={};\n    style=rounded;\n    color=\"#888888\";",
            quote(env)
        );
        for n in nodes.iter() {
            let style = if n.external {
                ", style=\"rounded,dashed\""
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {} [label={}{style}];",
                quote(&n.addr.to_string()),
                quote(&n.addr.local())
            );
        }
        out.push_str("  }\n");
    }
    let mut edges: Vec<_> = g.edges().collect();
    edges.sort();
    for (from, to, kind) in edges {
        let mut attrs = Vec::new();
        if from.env != to.env {
            attrs.push("penwidth=2, color=\"#1f77b4\"");
        }
        if kind == crate::graph::EdgeKind::DependsOn {
            attrs.push("style=dashed");
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} -> {}{attrs};",
            quote(&from.to_string()),
            quote(&to.to_string())
        );
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A versioned JSON document: nodes, edges and the creation order.
pub fn json(g: &ResourceGraph) -> serde_json::Value {
    let mut nodes: Vec<_> = g.nodes().collect();
    nodes.sort_by(|a, b| a.addr.cmp(&b.addr));
    let mut edges: Vec<_> = g.edges().collect();
    edges.sort();
    serde_json::json!({
        "format_version": "1",
        "nodes": nodes.iter().map(|n| serde_json::json!({
            "address": n.addr.to_string(),
            "env": n.addr.env,
            "kind": n.kind,
            "external": n.external,
        })).collect::<Vec<_>>(),
        "edges": edges.iter().map(|(a, b, k)| serde_json::json!({
            "from": a.to_string(), "to": b.to_string(), "kind": k,
        })).collect::<Vec<_>>(),
        "order": g.topo_order().iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    })
}
