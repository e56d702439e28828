//! Property ("fuzz") tests of the spec front end: arbitrary bytes, arbitrary YAML trees and
//! arbitrary expression text go through the loader and the expression parser. Nothing may
//! panic, and every input must finish within a bounded time and a bounded amount of memory.
//!
//! Memory is the process's peak resident set on Linux, reset before each case. Cases are
//! serialised by a lock so the peak of one case is not mixed with another's.
//!
//! `cargo test --test fuzz` runs a short pass with a fixed seed (the same inputs every run).
//! Run it longer with `FUZZ_CASES=20000 cargo test --release --test fuzz`, and with another seed
//! with `FUZZ_SEED=<number>` (docs/testing.md).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use regionctl::source::{FileId, SourceMap, Span};
use regionctl::spec::expr::{TextOrigin, parse_template};
use regionctl::spec::loader::{self, LoadOptions, MemFs, Selection};

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`); `None` off Linux.
fn status_kib(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS (Linux: `5` to clear_refs).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// One case at a time, so the peak belongs to it.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Far above what any of these small inputs needs; a hang or a blow-up is far above this.
const MAX_TIME: Duration = Duration::from_secs(10);
const MAX_EXTRA_BYTES: usize = 64 * 1024 * 1024;

/// Runs `f` and fails if it takes too long or raises the process's peak memory by too much.
/// Memory is the resident set (Linux's peak RSS, reset before each case); `unsafe` is forbidden
/// in this crate, so there is no counting allocator.
fn bounded(what: &str, f: impl FnOnce()) {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let measured = reset_peak();
    let base = status_kib("VmRSS:").unwrap_or(0);
    let start = Instant::now();
    f();
    let took = start.elapsed();
    assert!(took < MAX_TIME, "{what} took {took:?}");
    if measured && let Some(peak) = status_kib("VmHWM:") {
        let extra = peak.saturating_sub(base) * 1024;
        assert!(
            extra < MAX_EXTRA_BYTES,
            "{what} raised the peak memory by {} MiB",
            extra / (1024 * 1024)
        );
    }
}

fn config() -> Config {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0014);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Loads a project whose environment file is `env` (and whose module file is `module`).
fn load_project(env: &str, module: &str) {
    let fs = MemFs::new()
        .with("regionctl.yaml", "project: t\n")
        .with("envs/eu-west-1/main.yaml", env)
        .with("envs/global/main.yaml", "global: true\n")
        .with("modules/m/module.yaml", module);
    let opts = LoadOptions {
        start_dir: PathBuf::new(),
        selection: Selection::All,
        vars: Vec::new(),
        var_files: Vec::new(),
    };
    let mut sources = SourceMap::new();
    let (spec, diags) = regionctl::spec::load(&fs, &opts, &mut sources);
    if let Some(spec) = &spec {
        let _ = regionctl::graph::ResourceGraph::build(spec);
    }
    // Rendering walks every label: spans must be inside their files.
    let diags = diags.into_sorted();
    let _ =
        regionctl::render::diagnostics::human(&diags, &sources, regionctl::render::Style::plain());
}

/// An arbitrary YAML tree, written out as text, with keys and scalars drawn from the spec's
/// vocabulary so the loader goes past the first shape check.
#[derive(Debug, Clone)]
enum Tree {
    Scalar(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "eu-west-1",
            "true",
            "false",
            "null",
            "0",
            "-1",
            "65536",
            "1.30",
            "10.0.0.0/16",
            "../../modules/m",
            "${var.x}",
            "${vpc.main.id}",
            "${input.a}",
            "${each.key}",
            "${cidrsubnet(\"10.0.0.0/16\", 4, 1)}",
            "${module.m.o}",
            "${env.global.x}",
            "${[for x in [1,2]: x]}",
            "${",
            "}",
            "tcp",
            "*",
            "&a",
            "*a",
            "|",
            ">",
            "'q'",
            "\"q\"",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,12}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "region",
            "global",
            "variables",
            "modules",
            "resources",
            "outputs",
            "inputs",
            "source",
            "vpc.main",
            "subnet.a",
            "security_group.s",
            "rds_instance.db",
            "route53_record.r",
            "cidr_block",
            "vpc_id",
            "for_each",
            "depends_on",
            "ignore_changes",
            "ingress",
            "protocol",
            "from_port",
            "name",
            "tags",
            "x",
        ])
        .prop_map(str::to_string),
        "[a-z_.]{1,8}",
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar()
        .prop_map(Tree::Scalar)
        .prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Tree::Seq),
                proptest::collection::vec((key(), inner), 0..6).prop_map(Tree::Map),
            ]
        })
}

fn quote(s: &str) -> String {
    format!("{:?}", s)
}

fn render(t: &Tree, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Scalar(s) => {
            out.push_str(&quote(s));
            out.push('\n');
        }
        Tree::Seq(items) if items.is_empty() => out.push_str("[]\n"),
        Tree::Map(entries) if entries.is_empty() => out.push_str("{}\n"),
        Tree::Seq(items) => {
            out.push('\n');
            for i in items {
                out.push_str(&format!("{pad}- "));
                render(i, indent + 2, out);
            }
        }
        Tree::Map(entries) => {
            out.push('\n');
            // Duplicate keys are a (reported) error; keep some, as the generator makes them.
            for (k, v) in entries {
                out.push_str(&format!("{pad}{}: ", quote(k)));
                render(v, indent + 2, out);
            }
        }
    }
}

fn document(t: &Tree) -> String {
    let mut s = String::from("region: eu-west-1\n");
    if let Tree::Map(entries) = t {
        for (k, v) in entries {
            s.push_str(&format!("{}: ", quote(k)));
            render(v, 2, &mut s);
        }
    }
    s
}

/// Expression-like text: tokens of the language in any order.
fn exprish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(vec![
            "${",
            "}",
            "var.x",
            "vpc.main.id",
            "[",
            "]",
            "(",
            ")",
            "{",
            ":",
            ",",
            "?",
            "+",
            "-",
            "*",
            "/",
            "%",
            "==",
            "&&",
            "||",
            "!",
            "\"s\"",
            "1",
            "2.5",
            "for",
            "in",
            "if",
            "=>",
            "cidrsubnet",
            "length",
            "each.key",
            ".",
            "[*]",
            " ",
            "\\",
            "$${",
            "\n",
        ]),
        0..40,
    )
    .prop_map(|v| v.concat())
}

fn origin() -> TextOrigin {
    TextOrigin {
        file: FileId(0),
        start: 0,
        exact: true,
        fallback: Span::new(FileId(0), 0, 0),
        map: None,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        bounded("bytes", || match loader::decode_utf8(bytes.clone()) {
            Ok(text) => load_project(&text, ""),
            Err(e) => {
                let bad = e.get_ref().and_then(|i| i.downcast_ref::<loader::InvalidUtf8>());
                assert!(bad.is_some_and(|b| b.offset < bytes.len()), "{e}");
            }
        });
    }

    #[test]
    fn arbitrary_yaml_trees_never_panic_and_stay_bounded(env in tree(), module in tree()) {
        let (env, module) = (document(&env), document(&module).replacen("region: eu-west-1\n", "", 1));
        bounded("yaml tree", || load_project(&env, &module));
    }

    #[test]
    fn arbitrary_expressions_never_panic_and_stay_bounded(text in exprish(), raw in "\\PC{0,64}") {
        bounded("expression", || {
            let _ = parse_template(&text, &origin());
            let _ = parse_template(&raw, &origin());
            let env = format!(
                "region: eu-west-1\nvariables:\n  x: 1\nresources:\n  vpc.main:\n    cidr_block: {}\n    tags: {{ a: {} }}\n",
                quote(&text), quote(&raw)
            );
            load_project(&env, "");
        });
    }
}
