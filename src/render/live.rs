//! The live progress view of apply and destroy on a terminal: one line per region with its
//! progress, beneath it a spinner for each change in flight with the AWS status and the time it
//! has taken, and finished changes scrolling above (the same lines as without a terminal).
//!
//! It only consumes [`Event`]s, like the plain and JSON outputs, so what it shows is exactly
//! what the executor reported.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::addr::InstanceAddr;
use crate::apply::exec::Event;
use crate::render::apply::event_line;

/// Per region: its header bar and how many of its changes failed.
struct Region {
    bar: ProgressBar,
    failed: usize,
    running: usize,
}

pub struct LiveView {
    multi: MultiProgress,
    regions: BTreeMap<String, Region>,
    running: HashMap<InstanceAddr, ProgressBar>,
    spinner: ProgressStyle,
}

impl LiveView {
    /// A view of `totals` changes per environment, drawn on standard output.
    pub fn new(totals: &BTreeMap<String, usize>, color: bool) -> LiveView {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout_with_hz(10));
        let (header, spin) = if color {
            (
                "{prefix:<16.bold} [{bar:24.cyan/blue}] {pos:>3}/{len:<3} {msg}",
                "  {spinner:.cyan} {prefix:<44} {msg} {elapsed:>4}",
            )
        } else {
            (
                "{prefix:<16} [{bar:24}] {pos:>3}/{len:<3} {msg}",
                "  {spinner} {prefix:<44} {msg} {elapsed:>4}",
            )
        };
        // The templates are constants; a broken one is a bug caught by the tests below.
        let header = ProgressStyle::with_template(header)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let spinner =
            ProgressStyle::with_template(spin).unwrap_or_else(|_| ProgressStyle::default_spinner());
        let regions = totals
            .iter()
            .map(|(env, total)| {
                let bar = multi.add(
                    ProgressBar::new(*total as u64)
                        .with_style(header.clone())
                        .with_prefix(env.clone()),
                );
                let region = Region {
                    bar,
                    failed: 0,
                    running: 0,
                };
                (env.clone(), region)
            })
            .collect();
        LiveView {
            multi,
            regions,
            running: HashMap::new(),
            spinner,
        }
    }

    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Started { addr, .. } => {
                let Some(region) = self.regions.get_mut(&addr.env) else {
                    return;
                };
                region.running += 1;
                let bar = self.multi.insert_after(
                    &region.bar,
                    ProgressBar::new_spinner()
                        .with_style(self.spinner.clone())
                        .with_prefix(format!("{}", addr.block)),
                );
                bar.set_message(
                    event_line(event)
                        .and_then(|l| l.rsplit_once(": ").map(|(_, v)| v.to_owned()))
                        .unwrap_or_default(),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                self.running.insert(addr.clone(), bar);
                self.update_header(&addr.env);
            }
            Event::Waiting { addr, status, .. } => {
                if let Some(bar) = self.running.get(addr) {
                    bar.set_message(format!("AWS: {status}"));
                }
            }
            Event::Step { addr, step } => {
                if let Some(bar) = self.running.get(addr) {
                    bar.set_message(step.clone());
                }
            }
            Event::Finished { addr, .. }
            | Event::Failed { addr, .. }
            | Event::Skipped { addr, .. } => {
                if let Some(bar) = self.running.remove(addr) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                if let Some(region) = self.regions.get_mut(&addr.env) {
                    if !matches!(event, Event::Skipped { .. }) {
                        region.running = region.running.saturating_sub(1);
                    }
                    if matches!(event, Event::Failed { .. }) {
                        region.failed += 1;
                    }
                    region.bar.inc(1);
                }
                self.update_header(&addr.env);
                self.println(event);
            }
            Event::Stopping => self.println(event),
            Event::StateSaved { .. } => {}
        }
    }

    fn update_header(&self, env: &str) {
        if let Some(region) = self.regions.get(env) {
            let mut parts = Vec::new();
            if region.running > 0 {
                parts.push(format!("{} in flight", region.running));
            }
            if region.failed > 0 {
                parts.push(format!("{} failed", region.failed));
            }
            if region.bar.position() >= region.bar.length().unwrap_or(0) {
                parts.push("done".to_owned());
            }
            region.bar.set_message(parts.join(", "));
        }
    }

    fn println(&self, event: &Event) {
        if let Some(line) = event_line(event) {
            // Printing fails only if the terminal went away; the summary will say the same.
            let _ = self.multi.println(line);
        }
    }

    /// Stops the spinners (anything still listed was abandoned) and leaves the region lines.
    pub fn finish(self) {
        for bar in self.running.values() {
            bar.abandon_with_message("abandoned");
        }
        for region in self.regions.values() {
            region.bar.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    #[test]
    fn the_view_follows_a_change_through_its_events() {
        let addr: InstanceAddr = "eu-west-1/vpc.main".parse().expect("valid");
        let totals = BTreeMap::from([("eu-west-1".to_owned(), 2usize)]);
        let mut view = LiveView::new(&totals, false);
        view.multi.set_draw_target(ProgressDrawTarget::hidden());
        view.event(&Event::Started {
            addr: addr.clone(),
            action: Action::Create,
            region: "eu-west-1".into(),
        });
        assert_eq!(view.running.len(), 1);
        assert_eq!(view.regions["eu-west-1"].bar.message(), "1 in flight");
        view.event(&Event::Waiting {
            addr: addr.clone(),
            status: "pending".into(),
            waited: Duration::from_secs(3),
        });
        assert_eq!(view.running[&addr].message(), "AWS: pending");
        view.event(&Event::Finished {
            addr: addr.clone(),
            action: Action::Create,
            region: "eu-west-1".into(),
            elapsed: Duration::from_secs(4),
            id: Some("vpc-1".into()),
        });
        assert!(view.running.is_empty());
        assert_eq!(view.regions["eu-west-1"].bar.position(), 1);
        view.event(&Event::Failed {
            addr: "eu-west-1/subnet.a".parse().expect("valid"),
            action: Action::Create,
            region: "eu-west-1".into(),
            elapsed: Duration::from_secs(1),
            error: "boom".into(),
        });
        assert_eq!(view.regions["eu-west-1"].bar.message(), "1 failed, done");
        view.finish();
    }

    #[test]
    fn the_templates_parse() {
        for t in [
            "{prefix:<16.bold} [{bar:24.cyan/blue}] {pos:>3}/{len:<3} {msg}",
            "  {spinner:.cyan} {prefix:<44} {msg} {elapsed:>4}",
            "{prefix:<16} [{bar:24}] {pos:>3}/{len:<3} {msg}",
            "  {spinner} {prefix:<44} {msg} {elapsed:>4}",
        ] {
            assert!(ProgressStyle::with_template(t).is_ok(), "{t}");
        }
    }
}
