//! The layer rules of ARCHITECTURE.md, enforced: each module (a top-level file or folder of
//! `src/`) names what it must never reach, and this test reads every `crate::` path in its files
//! (use lines and inline paths alike) and every external crate it names. A rule broken here is a
//! cycle or a leak of I/O into the pure core, so it fails the build's tests instead of drifting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Modules of `src/` and what each must not use: other modules of the crate, and crates.
struct Rule {
    module: &'static str,
    not_modules: &'static [&'static str],
    not_crates: &'static [&'static str],
}

const SDK: &[&str] = &[
    "aws_sdk_",
    "aws_config",
    "aws_smithy_",
    "tokio",
    "indicatif",
];

const RULES: &[Rule] = &[
    // The vocabulary at the bottom: nothing above it. (`Kind` is generated from the
    // declarations in `spec::schema::kinds` and re-exported by `kind`.)
    Rule {
        module: "kind",
        not_modules: &[
            "graph", "plan", "provider", "state", "apply", "ops", "cmd", "render", "check",
            "resource",
        ],
        not_crates: SDK,
    },
    Rule {
        module: "service",
        not_modules: &[
            "spec", "graph", "plan", "provider", "state", "apply", "ops", "cmd", "render", "check",
            "resource",
        ],
        not_crates: SDK,
    },
    Rule {
        module: "resource",
        not_modules: &[
            "graph", "plan", "provider", "state", "apply", "ops", "cmd", "render", "check",
        ],
        not_crates: SDK,
    },
    // The pure core.
    Rule {
        module: "spec",
        not_modules: &[
            "plan", "provider", "state", "apply", "ops", "cmd", "check", "resource",
        ],
        not_crates: SDK,
    },
    Rule {
        module: "graph",
        not_modules: &[
            "plan", "provider", "state", "apply", "ops", "cmd", "render", "check",
        ],
        not_crates: SDK,
    },
    Rule {
        module: "plan",
        not_modules: &["provider", "apply", "ops", "cmd", "render", "check"],
        not_crates: SDK,
    },
    Rule {
        module: "check",
        not_modules: &["provider", "state", "apply", "ops", "cmd"],
        not_crates: SDK,
    },
    // Adopting from Terraform: documents in, spec text and state records out.
    Rule {
        module: "adopt",
        not_modules: &[
            "plan", "provider", "state", "apply", "ops", "cmd", "render", "check", "graph",
        ],
        not_crates: SDK,
    },
    // Pure functions to text (the terminal drawing is `term`'s).
    Rule {
        module: "render",
        not_modules: &["provider", "state", "ops", "cmd", "term"],
        not_crates: SDK,
    },
    // The SDK side: it never reaches up into the planner, the state or the use cases.
    Rule {
        module: "provider",
        not_modules: &[
            "plan", "state", "apply", "ops", "cmd", "render", "check", "graph",
        ],
        not_crates: &["indicatif"],
    },
    Rule {
        module: "state",
        not_modules: &["plan", "apply", "ops", "cmd", "render", "check", "graph"],
        not_crates: &["indicatif"],
    },
    Rule {
        module: "apply",
        not_modules: &["ops", "cmd", "render", "check"],
        not_crates: &["indicatif"],
    },
    Rule {
        module: "ops",
        not_modules: &["cmd", "render", "cli"],
        not_crates: &["indicatif", "clap"],
    },
];

/// `crate::<module>` paths and `<crate>::` names used in one file (comments left out).
fn uses(text: &str) -> (Vec<String>, Vec<String>) {
    let mut modules = Vec::new();
    let mut crates = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `crate::` inside a longer path such as `regionctl_crate::` is not ours.
            let before = rest[..at].chars().last();
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                modules.push(name);
            }
            rest = after;
        }
        let trimmed = code.trim_start();
        if let Some(path) = trimmed
            .strip_prefix("use ")
            .or_else(|| trimmed.strip_prefix("pub use "))
        {
            crates.push(path.trim().to_owned());
        }
        crates.extend(
            code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .filter(|w| w.contains("::"))
                .map(str::to_owned),
        );
    }
    (modules, crates)
}

fn files_of(module: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = src.join(format!("{module}.rs"));
    let mut out = Vec::new();
    if file.is_file() {
        out.push(file);
    }
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn layers_point_one_way() {
    let mut broken: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in RULES {
        let files = files_of(rule.module);
        assert!(
            !files.is_empty(),
            "no source files for module {}",
            rule.module
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("source files are readable");
            let (modules, crates) = uses(&text);
            let name = file
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&file)
                .display()
                .to_string();
            for m in modules
                .iter()
                .filter(|m| rule.not_modules.contains(&m.as_str()))
            {
                broken
                    .entry(name.clone())
                    .or_default()
                    .push(format!("crate::{m}"));
            }
            for c in &crates {
                if let Some(bad) = rule.not_crates.iter().find(|p| c.starts_with(*p)) {
                    broken
                        .entry(name.clone())
                        .or_default()
                        .push(bad.to_string());
                }
            }
        }
    }
    for found in broken.values_mut() {
        found.sort();
        found.dedup();
    }
    assert!(
        broken.is_empty(),
        "layer rules broken (see ARCHITECTURE.md, Invariants):\n{broken:#?}"
    );
}

/// No subcommand reaches into another: shared wiring lives in `cmd/mod.rs`, shared work in `ops`.
#[test]
fn subcommands_do_not_import_each_other() {
    let mut broken = Vec::new();
    for file in files_of("cmd") {
        if file.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source files are readable");
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            let siblings = files_of("cmd");
            let sideways = code.contains("crate::cmd::")
                || code.split("super::").skip(1).any(|after| {
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    siblings
                        .iter()
                        .any(|f| f.file_stem().is_some_and(|s| s == name.as_str()))
                });
            if sideways {
                broken.push(format!("{}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "subcommands import each other:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_scanner_sees_paths() {
    let (modules, crates) = uses(
        "use crate::plan::Plan;\nlet x = crate::provider::route53::dns_name(n); // crate::ops\nuse tokio::sync;\n",
    );
    assert_eq!(modules, ["plan", "provider"]);
    assert!(crates.iter().any(|c| c.starts_with("tokio")));
}
