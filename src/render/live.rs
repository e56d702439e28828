//! What the live progress view of apply and destroy shows, as data: per region its progress and
//! a header message, beneath it a line per change in flight with its latest message, and the
//! finished changes' lines scrolling above (the same lines as without a terminal). Pure: it
//! follows [`Event`]s and says what changed; `crate::term` draws it.

use std::collections::{BTreeMap, HashMap};

use crate::addr::InstanceAddr;
use crate::apply::exec::Event;
use crate::render::apply::event_line;

/// One change to what the view shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A region's header: changes done of its total, and its message.
    Header {
        env: String,
        done: u64,
        message: String,
    },
    /// A change started: a line for it under its region's header.
    Started {
        env: String,
        addr: InstanceAddr,
        label: String,
        message: String,
    },
    /// The message of a change in flight.
    Message { addr: InstanceAddr, message: String },
    /// A change is no longer in flight.
    Ended { addr: InstanceAddr },
    /// A line to print above the view.
    Line(String),
}

/// Per region: how many changes it has, how many are done, failed and in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionProgress {
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    pub running: u64,
}

impl RegionProgress {
    /// `2 in flight, 1 failed, done`.
    pub fn message(&self) -> String {
        let mut parts = Vec::new();
        if self.running > 0 {
            parts.push(format!("{} in flight", self.running));
        }
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        if self.done >= self.total {
            parts.push("done".to_owned());
        }
        parts.join(", ")
    }
}

/// The state of the view, changed by events.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub regions: BTreeMap<String, RegionProgress>,
    /// The changes in flight with their region.
    pub running: HashMap<InstanceAddr, String>,
}

impl Progress {
    /// A view of `totals` changes per environment.
    pub fn new(totals: &BTreeMap<String, usize>) -> Progress {
        let regions = totals
            .iter()
            .map(|(env, total)| {
                let region = RegionProgress {
                    total: *total as u64,
                    ..RegionProgress::default()
                };
                (env.clone(), region)
            })
            .collect();
        Progress {
            regions,
            running: HashMap::new(),
        }
    }

    /// Follows one event; returns what the view must change, in order.
    pub fn event(&mut self, event: &Event) -> Vec<Update> {
        let mut out = Vec::new();
        match event {
            Event::Started { addr, .. } => {
                let Some(region) = self.regions.get_mut(&addr.env) else {
                    return out;
                };
                region.running += 1;
                self.running.insert(addr.clone(), addr.env.clone());
                out.push(Update::Started {
                    env: addr.env.clone(),
                    addr: addr.clone(),
                    label: addr.block.to_string(),
                    message: event_line(event)
                        .and_then(|l| l.rsplit_once(": ").map(|(_, v)| v.to_owned()))
                        .unwrap_or_default(),
                });
                out.extend(self.header(&addr.env));
            }
            Event::Waiting { addr, status, .. } => {
                if self.running.contains_key(addr) {
                    out.push(Update::Message {
                        addr: addr.clone(),
                        message: format!("AWS: {status}"),
                    });
                }
            }
            Event::Step { addr, step } => {
                if self.running.contains_key(addr) {
                    out.push(Update::Message {
                        addr: addr.clone(),
                        message: step.clone(),
                    });
                }
            }
            Event::Finished { addr, .. }
            | Event::Failed { addr, .. }
            | Event::Skipped { addr, .. } => {
                if self.running.remove(addr).is_some() {
                    out.push(Update::Ended { addr: addr.clone() });
                }
                if let Some(region) = self.regions.get_mut(&addr.env) {
                    if !matches!(event, Event::Skipped { .. }) {
                        region.running = region.running.saturating_sub(1);
                    }
                    if matches!(event, Event::Failed { .. }) {
                        region.failed += 1;
                    }
                    region.done += 1;
                }
                out.extend(self.header(&addr.env));
                out.extend(event_line(event).map(Update::Line));
            }
            Event::Stopping => out.extend(event_line(event).map(Update::Line)),
            Event::StateSaved { .. } => {}
        }
        out
    }

    fn header(&self, env: &str) -> Option<Update> {
        let region = self.regions.get(env)?;
        Some(Update::Header {
            env: env.to_owned(),
            done: region.done,
            message: region.message(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plan::Action;

    #[test]
    fn progress_follows_a_change_through_its_events() {
        let addr: InstanceAddr = "eu-west-1/vpc.main".parse().expect("valid");
        let mut progress = Progress::new(&BTreeMap::from([("eu-west-1".to_owned(), 2usize)]));
        let started = progress.event(&Event::Started {
            addr: addr.clone(),
            action: Action::Create,
            region: "eu-west-1".into(),
        });
        assert!(matches!(&started[0], Update::Started { label, .. } if label == "vpc.main"));
        assert_eq!(progress.regions["eu-west-1"].message(), "1 in flight");
        let waiting = progress.event(&Event::Waiting {
            addr: addr.clone(),
            status: "pending".into(),
            waited: Duration::from_secs(3),
        });
        assert_eq!(
            waiting,
            [Update::Message {
                addr: addr.clone(),
                message: "AWS: pending".into()
            }]
        );
        let finished = progress.event(&Event::Finished {
            addr: addr.clone(),
            action: Action::Create,
            region: "eu-west-1".into(),
            elapsed: Duration::from_secs(4),
            id: Some("vpc-1".into()),
        });
        assert_eq!(finished[0], Update::Ended { addr });
        assert!(matches!(finished.last(), Some(Update::Line(_))));
        assert!(progress.running.is_empty());
        progress.event(&Event::Failed {
            addr: "eu-west-1/subnet.a".parse().expect("valid"),
            action: Action::Create,
            region: "eu-west-1".into(),
            elapsed: Duration::from_secs(1),
            error: "boom".into(),
        });
        assert_eq!(progress.regions["eu-west-1"].message(), "1 failed, done");
    }
}
