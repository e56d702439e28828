//! Rendering of `regionctl inventory`: the stack's live resources per environment.

use std::fmt::Write;

use super::Style;
use crate::addr::InstanceAddr;
use crate::resource::{Observed, Status};

/// What exists of one environment.
#[derive(Debug, Clone)]
pub struct EnvInventory {
    pub env: String,
    /// The API region the environment was read in.
    pub region: String,
    /// The stack's resources found in AWS (tagged with the stack, or named by the spec).
    pub found: Vec<Observed>,
    /// Addresses of the spec with no resource found.
    pub missing: Vec<InstanceAddr>,
    /// Refreshes that failed, as full messages (address or kind, region, AWS code).
    pub errors: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Inventory {
    pub stack: String,
    pub envs: Vec<EnvInventory>,
}

fn status_word(status: &Status) -> String {
    match status {
        Status::Ready => "ready".to_owned(),
        Status::Pending(s) => format!("pending ({s})"),
        Status::Deleting(s) => format!("deleting ({s})"),
        Status::Failed(s) => format!("failed ({s})"),
    }
}

pub fn human(inv: &Inventory, requests: u64, style: Style) -> String {
    let bold = |s: &str| {
        if style.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    let mut found = 0;
    let mut missing = 0;
    for env in &inv.envs {
        let _ = writeln!(out, "{}", bold(&format!("{} ({})", env.env, env.region)));
        for o in &env.found {
            let addr = o.address_tag().unwrap_or("(no regionctl:address tag)");
            let _ = writeln!(out, "  {addr:<58} {:<30} {}", o.id, status_word(&o.status));
        }
        for a in &env.missing {
            let _ = writeln!(out, "  {:<58} {:<30} not found", a.to_string(), "-");
        }
        for e in &env.errors {
            let _ = writeln!(out, "  error: {e}");
        }
        let _ = writeln!(
            out,
            "  {} found, {} in the spec but not in AWS{}",
            env.found.len(),
            env.missing.len(),
            if env.errors.is_empty() {
                String::new()
            } else {
                format!(", {} refresh errors", env.errors.len())
            }
        );
        found += env.found.len();
        missing += env.missing.len();
    }
    let _ = writeln!(
        out,
        "stack {}: {found} resources found, {missing} missing, in {} environments ({requests} AWS requests)",
        inv.stack,
        inv.envs.len()
    );
    out
}

pub fn json(inv: &Inventory, requests: u64) -> serde_json::Value {
    serde_json::json!({
        "format_version": "1",
        "stack": inv.stack,
        "aws_requests": requests,
        "environments": inv.envs.iter().map(|e| serde_json::json!({
            "name": e.env,
            "region": e.region,
            "found": e.found,
            "missing": e.missing.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "errors": e.errors,
        })).collect::<Vec<_>>(),
    })
}
