//! The resource dependency graph across every selected environment.
//!
//! Nodes are resource instances; an edge `a → b` means `b` depends on `a` (so `a` is created
//! first and destroyed last). Edges cross environments where a spec references another one (a
//! us-west-2 replica waits for its us-east-1 source; clusters wait for global IAM roles).
//! Resources of unselected environments that a selected one references are kept as *external*
//! nodes: they order nothing but show what the selection relies on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::addr::{EnvName, InstanceAddr};
use crate::diag::Diagnostic;
use crate::kind::Kind;
use crate::spec::Spec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// An attribute reference such as `${vpc.main.id}`.
    Reference,
    /// Listed in `depends_on`.
    DependsOn,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub addr: InstanceAddr,
    pub kind: Kind,
    /// In an environment the command did not select.
    pub external: bool,
}

#[derive(Debug, Clone)]
pub struct ResourceGraph {
    graph: DiGraph<Node, EdgeKind>,
    index: HashMap<InstanceAddr, NodeIndex>,
}

impl ResourceGraph {
    /// Builds the graph of the selected environments. Fails with one diagnostic per dependency
    /// cycle, naming every resource on it.
    pub fn build(spec: &Spec) -> Result<ResourceGraph, Vec<Diagnostic>> {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        let selected: Vec<_> = spec.selected_resources().collect();
        for r in &selected {
            let i = graph.add_node(Node {
                addr: r.addr.clone(),
                kind: r.kind,
                external: false,
            });
            index.insert(r.addr.clone(), i);
        }
        for r in &selected {
            let to = index[&r.addr];
            for dep in &r.deps {
                let from = match index.get(dep) {
                    Some(i) => *i,
                    None => {
                        // Only resources that exist in the spec become external nodes; an unknown
                        // address was already reported by expansion.
                        let Some(ext) = spec.resources.get(dep) else {
                            continue;
                        };
                        let i = graph.add_node(Node {
                            addr: dep.clone(),
                            kind: ext.kind,
                            external: true,
                        });
                        index.insert(dep.clone(), i);
                        i
                    }
                };
                let kind = if r.explicit_deps.contains(dep) {
                    EdgeKind::DependsOn
                } else {
                    EdgeKind::Reference
                };
                graph.update_edge(from, to, kind);
            }
        }
        let g = ResourceGraph { graph, index };
        let cycles = g.cycles(spec);
        if cycles.is_empty() {
            Ok(g)
        } else {
            Err(cycles)
        }
    }

    fn cycles(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for scc in tarjan_scc(&self.graph) {
            let is_cycle = scc.len() > 1 || self.graph.contains_edge(scc[0], scc[0]);
            if !is_cycle {
                continue;
            }
            let cycle = self.cycle_path(&scc);
            let names: Vec<String> = cycle
                .iter()
                .map(|i| self.graph[*i].addr.to_string())
                .collect();
            let mut text = names.join(" → ");
            text.push_str(&format!(" → {}", names[0]));
            let mut diag = Diagnostic::error("graph::cycle", format!("dependency cycle: {text}"));
            for (pos, i) in cycle.iter().enumerate() {
                let addr = &self.graph[*i].addr;
                if let Some(r) = spec.resources.get(addr) {
                    let next = &self.graph[cycle[(pos + 1) % cycle.len()]].addr;
                    diag = diag.with_label(
                        r.span,
                        format!("{} is needed by {}", addr.local(), next.local()),
                    );
                }
            }
            out.push(diag.with_help("remove one of these references or depends_on entries; nothing on a cycle can be created first"));
        }
        out
    }

    /// A shortest real cycle through the SCC's smallest address (breadth-first search inside
    /// the SCC), so every step the message names is an actual edge.
    fn cycle_path(&self, scc: &[NodeIndex]) -> Vec<NodeIndex> {
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let start = *scc
            .iter()
            .min_by_key(|i| &self.graph[**i].addr)
            .expect("an SCC is never empty");
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(cur) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .edges(cur)
                .map(|e| e.target())
                .filter(|t| members.contains(t))
                .collect();
            next.sort_by(|a, b| self.graph[*a].addr.cmp(&self.graph[*b].addr));
            for n in next {
                if n == start {
                    let mut path = vec![cur];
                    while let Some(p) = parent.get(path.last().expect("path starts non-empty")) {
                        path.push(*p);
                    }
                    path.reverse();
                    return path;
                }
                if n != start && !parent.contains_key(&n) {
                    parent.insert(n, cur);
                    queue.push_back(n);
                }
            }
        }
        // Unreachable for a real SCC; fall back to listing its members.
        scc.to_vec()
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.graph.node_weights()
    }

    pub fn node(&self, addr: &InstanceAddr) -> Option<&Node> {
        self.index.get(addr).map(|i| &self.graph[*i])
    }

    /// Every edge as (dependency, dependent, kind).
    pub fn edges(&self) -> impl Iterator<Item = (&InstanceAddr, &InstanceAddr, EdgeKind)> {
        self.graph.edge_references().map(|e| {
            (
                &self.graph[e.source()].addr,
                &self.graph[e.target()].addr,
                *e.weight(),
            )
        })
    }

    /// What `addr` waits for.
    pub fn dependencies(&self, addr: &InstanceAddr) -> Vec<&InstanceAddr> {
        let Some(i) = self.index.get(addr) else {
            return Vec::new();
        };
        let mut v: Vec<_> = self
            .graph
            .neighbors_directed(*i, petgraph::Direction::Incoming)
            .map(|n| &self.graph[n].addr)
            .collect();
        v.sort();
        v
    }

    /// What waits for `addr`.
    pub fn dependents(&self, addr: &InstanceAddr) -> Vec<&InstanceAddr> {
        let Some(i) = self.index.get(addr) else {
            return Vec::new();
        };
        let mut v: Vec<_> = self
            .graph
            .neighbors_directed(*i, petgraph::Direction::Outgoing)
            .map(|n| &self.graph[n].addr)
            .collect();
        v.sort();
        v
    }

    /// Creation order: every resource after all it depends on. Among ready resources the order
    /// is by address, so the output is deterministic. External nodes are left out.
    pub fn topo_order(&self) -> Vec<&InstanceAddr> {
        let mut indegree: HashMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|i| {
                (
                    i,
                    self.graph
                        .neighbors_directed(i, petgraph::Direction::Incoming)
                        .count(),
                )
            })
            .collect();
        let mut ready: BTreeMap<&InstanceAddr, NodeIndex> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(i, _)| (&self.graph[*i].addr, *i))
            .collect();
        let mut out = Vec::with_capacity(self.graph.node_count());
        while let Some((addr, i)) = ready.pop_first() {
            if !self.graph[i].external {
                out.push(addr);
            }
            for n in self
                .graph
                .neighbors_directed(i, petgraph::Direction::Outgoing)
            {
                let d = indegree.get_mut(&n).expect("every node has an in-degree");
                *d -= 1;
                if *d == 0 {
                    ready.insert(&self.graph[n].addr, n);
                }
            }
        }
        out
    }

    /// Destroy order: dependents before what they depend on.
    pub fn destroy_order(&self) -> Vec<&InstanceAddr> {
        let mut v = self.topo_order();
        v.reverse();
        v
    }

    /// Creation order split per environment (each list respects edges inside it).
    pub fn by_env(&self) -> BTreeMap<&EnvName, Vec<&InstanceAddr>> {
        let mut out: BTreeMap<&EnvName, Vec<&InstanceAddr>> = BTreeMap::new();
        for a in self.topo_order() {
            out.entry(&a.env).or_default().push(a);
        }
        out
    }

    /// Edges whose ends are in different environments.
    pub fn cross_env_edges(&self) -> Vec<(&InstanceAddr, &InstanceAddr)> {
        self.edges()
            .filter(|(a, b, _)| a.env != b.env)
            .map(|(a, b, _)| (a, b))
            .collect()
    }
}

#[cfg(test)]
mod tests;
