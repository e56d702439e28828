//! The order of an apply, as data: which changes wait for which, what may start now, and what a
//! failure skips. Pure, so the rules are tested without AWS; the executor only asks it.
//!
//! - A create, update or replace waits for the changes of the resources it depends on, in any
//!   region (the us-west-2 replica waits for its us-east-1 source; clusters wait for the global
//!   IAM roles).
//! - A delete waits for the deletes of everything that depended on it (by the dependencies state
//!   recorded), and for every other change of its environment, since a resource being replaced
//!   may still use what is about to go.
//! - There are no waves: a change starts as soon as what it waits for is done.
//! - A failure skips exactly the changes that wait for it, directly or not.

use std::collections::BTreeMap;

use crate::addr::InstanceAddr;
use crate::plan::{Action, Plan, ResourceChange};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    Waiting,
    Running,
    Done,
    Failed,
    /// Not attempted because something it waits for failed (or the run was interrupted).
    Skipped,
}

#[derive(Debug)]
struct Node {
    waits_for: Vec<usize>,
    dependents: Vec<usize>,
    state: NodeState,
}

#[derive(Debug)]
pub struct Schedule {
    nodes: Vec<Node>,
}

/// Whether a change needs any work from apply (AWS calls or a state write).
pub fn needs_work(c: &ResourceChange) -> bool {
    c.action.is_change() || c.adopt
}

impl Schedule {
    /// Builds the schedule of `changes` (the plan's changes that need work, in plan order; the
    /// node index is the position in this list).
    pub fn new(changes: &[&ResourceChange]) -> Schedule {
        let mut builders: Vec<Vec<usize>> = vec![Vec::new(); changes.len()];
        let upserts: BTreeMap<&InstanceAddr, usize> = changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.action != Action::Delete)
            .map(|(i, c)| (&c.addr, i))
            .collect();
        for (i, c) in changes.iter().enumerate() {
            if c.action == Action::Delete {
                for (j, other) in changes.iter().enumerate() {
                    let dependent_delete =
                        other.action == Action::Delete && j != i && other.deps.contains(&c.addr);
                    let same_env_upsert =
                        other.action != Action::Delete && other.addr.env == c.addr.env;
                    if dependent_delete || same_env_upsert {
                        builders[i].push(j);
                    }
                }
            } else {
                for d in &c.deps {
                    if let Some(&j) = upserts.get(d)
                        && j != i
                    {
                        builders[i].push(j);
                    }
                }
            }
        }
        let mut nodes: Vec<Node> = builders
            .into_iter()
            .map(|mut waits_for| {
                waits_for.sort_unstable();
                waits_for.dedup();
                Node {
                    waits_for,
                    dependents: Vec::new(),
                    state: NodeState::Waiting,
                }
            })
            .collect();
        for i in 0..nodes.len() {
            for k in 0..nodes[i].waits_for.len() {
                let j = nodes[i].waits_for[k];
                nodes[j].dependents.push(i);
            }
        }
        Schedule { nodes }
    }

    /// Every node of `plan` that needs work, in plan order, with its schedule.
    pub fn of(plan: &Plan) -> (Vec<&ResourceChange>, Schedule) {
        let changes: Vec<&ResourceChange> = plan.changes().filter(|c| needs_work(c)).collect();
        let schedule = Schedule::new(&changes);
        (changes, schedule)
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn state(&self, i: usize) -> NodeState {
        self.nodes[i].state
    }

    /// Nodes that may start now, in plan order.
    pub fn ready(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| {
                self.nodes[i].state == NodeState::Waiting
                    && self.nodes[i]
                        .waits_for
                        .iter()
                        .all(|&j| self.nodes[j].state == NodeState::Done)
            })
            .collect()
    }

    pub fn start(&mut self, i: usize) {
        self.nodes[i].state = NodeState::Running;
    }

    pub fn succeed(&mut self, i: usize) {
        self.nodes[i].state = NodeState::Done;
    }

    /// Marks `i` failed and returns the nodes skipped because of it (transitively).
    pub fn fail(&mut self, i: usize) -> Vec<usize> {
        self.nodes[i].state = NodeState::Failed;
        let mut skipped = Vec::new();
        let mut todo = self.nodes[i].dependents.clone();
        while let Some(j) = todo.pop() {
            if self.nodes[j].state == NodeState::Waiting {
                self.nodes[j].state = NodeState::Skipped;
                skipped.push(j);
                todo.extend(self.nodes[j].dependents.iter().copied());
            }
        }
        skipped.sort_unstable();
        skipped
    }

    /// Marks everything not started as skipped (an interrupted run); returns them.
    pub fn skip_waiting(&mut self) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if n.state == NodeState::Waiting {
                n.state = NodeState::Skipped;
                out.push(i);
            }
        }
        out
    }

    /// True when nothing is waiting or running.
    pub fn finished(&self) -> bool {
        self.nodes
            .iter()
            .all(|n| !matches!(n.state, NodeState::Waiting | NodeState::Running))
    }

    pub fn running(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.state == NodeState::Running)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::Kind;
    use crate::plan::Reason;

    fn change(addr: &str, action: Action, deps: &[&str]) -> ResourceChange {
        ResourceChange {
            addr: addr.parse().expect("valid"),
            kind: Kind::Vpc,
            region: "eu-west-1".into(),
            action,
            replace_order: None,
            reason: Reason::NotInAws,
            id: None,
            before: None,
            after: None,
            changed: Vec::new(),
            forces_replacement: Vec::new(),
            sensitive: Vec::new(),
            adopt: false,
            deps: deps.iter().map(|d| d.parse().expect("valid")).collect(),
            protect: false,
            refusal: None,
        }
    }

    #[test]
    fn starts_each_change_as_soon_as_its_own_dependencies_are_done() {
        let cs = [
            change("g/iam_role.r", Action::Create, &[]),
            change("a/vpc.v", Action::Create, &[]),
            change("a/subnet.s", Action::Create, &["a/vpc.v"]),
            change(
                "a/eks_cluster.c",
                Action::Create,
                &["a/subnet.s", "g/iam_role.r"],
            ),
            change("b/vpc.v", Action::Create, &[]),
        ];
        let refs: Vec<&ResourceChange> = cs.iter().collect();
        let mut s = Schedule::new(&refs);
        assert_eq!(s.ready(), [0, 1, 4]);
        s.start(0);
        s.start(1);
        s.start(4);
        assert!(s.ready().is_empty());
        s.succeed(1);
        // The subnet starts while the role is still running: no waves.
        assert_eq!(s.ready(), [2]);
        s.start(2);
        s.succeed(2);
        assert!(
            s.ready().is_empty(),
            "the cluster also waits for the global role"
        );
        s.succeed(0);
        assert_eq!(s.ready(), [3]);
    }

    #[test]
    fn a_failure_skips_only_what_depends_on_it() {
        let cs = [
            change("a/vpc.v", Action::Create, &[]),
            change("a/subnet.s", Action::Create, &["a/vpc.v"]),
            change("a/eks_cluster.c", Action::Create, &["a/subnet.s"]),
            change("b/vpc.v", Action::Create, &[]),
            change("b/subnet.s", Action::Create, &["b/vpc.v"]),
        ];
        let refs: Vec<&ResourceChange> = cs.iter().collect();
        let mut s = Schedule::new(&refs);
        for i in s.ready() {
            s.start(i);
        }
        assert_eq!(s.fail(0), [1, 2]);
        s.succeed(3);
        assert_eq!(s.ready(), [4]);
        s.start(4);
        s.succeed(4);
        assert!(s.finished());
        assert_eq!(s.state(2), NodeState::Skipped);
    }

    #[test]
    fn deletes_go_dependents_first_and_after_the_other_changes_of_their_env() {
        let cs = [
            change("a/subnet.new", Action::Create, &[]),
            change("a/eks_cluster.c", Action::Delete, &["a/subnet.old"]),
            change("a/subnet.old", Action::Delete, &["a/vpc.v"]),
            change("b/vpc.v", Action::Delete, &[]),
        ];
        let refs: Vec<&ResourceChange> = cs.iter().collect();
        let mut s = Schedule::new(&refs);
        assert_eq!(s.ready(), [0, 3], "another env's delete does not wait");
        s.start(0);
        s.succeed(0);
        assert_eq!(s.ready(), [1, 3]);
        s.start(1);
        assert!(
            !s.ready().contains(&2),
            "the subnet waits for the cluster's delete"
        );
        s.succeed(1);
        assert!(s.ready().contains(&2));
    }

    #[test]
    fn interrupting_skips_everything_not_started() {
        let cs = [
            change("a/vpc.v", Action::Create, &[]),
            change("a/subnet.s", Action::Create, &["a/vpc.v"]),
        ];
        let refs: Vec<&ResourceChange> = cs.iter().collect();
        let mut s = Schedule::new(&refs);
        s.start(0);
        assert_eq!(s.skip_waiting(), [1]);
        assert!(!s.finished(), "the running one still has to end");
        s.succeed(0);
        assert!(s.finished());
    }
}
