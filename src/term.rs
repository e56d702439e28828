//! The terminal edge: draws the live progress view of apply and destroy with indicatif. What it
//! shows is decided by `render::live` (pure, from the executor's events); this module only turns
//! those updates into bars and spinners, one line per region with a spinner per change in flight
//! beneath it, and finished changes printed above.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::addr::InstanceAddr;
use crate::apply::exec::Event;
use crate::render::live::{Progress, Update};

pub struct LiveView {
    multi: MultiProgress,
    progress: Progress,
    headers: BTreeMap<String, ProgressBar>,
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
        let headers = totals
            .iter()
            .map(|(env, total)| {
                let bar = multi.add(
                    ProgressBar::new(*total as u64)
                        .with_style(header.clone())
                        .with_prefix(env.clone()),
                );
                (env.clone(), bar)
            })
            .collect();
        LiveView {
            multi,
            progress: Progress::new(totals),
            headers,
            running: HashMap::new(),
            spinner,
        }
    }

    pub fn event(&mut self, event: &Event) {
        for update in self.progress.event(event) {
            self.draw(update);
        }
    }

    fn draw(&mut self, update: Update) {
        match update {
            Update::Header { env, done, message } => {
                if let Some(bar) = self.headers.get(&env) {
                    bar.set_position(done);
                    bar.set_message(message);
                }
            }
            Update::Started {
                env,
                addr,
                label,
                message,
            } => {
                let Some(header) = self.headers.get(&env) else {
                    return;
                };
                let bar = self.multi.insert_after(
                    header,
                    ProgressBar::new_spinner()
                        .with_style(self.spinner.clone())
                        .with_prefix(label),
                );
                bar.set_message(message);
                bar.enable_steady_tick(Duration::from_millis(120));
                self.running.insert(addr, bar);
            }
            Update::Message { addr, message } => {
                if let Some(bar) = self.running.get(&addr) {
                    bar.set_message(message);
                }
            }
            Update::Ended { addr } => {
                if let Some(bar) = self.running.remove(&addr) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
            }
            // Printing fails only if the terminal went away; the summary will say the same.
            Update::Line(line) => {
                let _ = self.multi.println(line);
            }
        }
    }

    /// Stops the spinners (anything still listed was abandoned) and leaves the region lines.
    pub fn finish(self) {
        for bar in self.running.values() {
            bar.abandon_with_message("abandoned");
        }
        for bar in self.headers.values() {
            bar.abandon();
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
        assert_eq!(view.headers["eu-west-1"].message(), "1 in flight");
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
        assert_eq!(view.headers["eu-west-1"].position(), 1);
        view.event(&Event::Failed {
            addr: "eu-west-1/subnet.a".parse().expect("valid"),
            action: Action::Create,
            region: "eu-west-1".into(),
            elapsed: Duration::from_secs(1),
            error: "boom".into(),
        });
        assert_eq!(view.headers["eu-west-1"].message(), "1 failed, done");
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
