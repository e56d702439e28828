//! Bad specs: every fixture in tests/fixtures/invalid/ must make `regionctl validate` exit 1 with
//! the diagnostic code its `# expect:` line names, and its stderr must match the snapshot.
//!
//! All fixtures run in one test; failures are collected so one bad fixture doesn't hide the
//! others. Regenerate snapshots with `INSTA_UPDATE=always cargo test --test it cli::invalid`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::harness::{self, Fixture};

/// The brief asks for at least this many distinct bad specs.
const MIN_FIXTURES: usize = 30;

/// Checks one fixture; returns what is wrong with it (empty when it passes).
fn check_fixture(name: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !text.starts_with("# expect: ") {
        problems.push("the first line must be `# expect: <diagnostic code>`".to_string());
    }
    let fixture = match Fixture::parse(text) {
        Ok(f) => f,
        Err(e) => return vec![format!("cannot parse fixture: {e}")],
    };
    let expected = fixture.values("expect");
    if expected.is_empty() {
        problems.push("no `# expect:` line".to_string());
    }
    let run = harness::run_fixture("invalid", name, &fixture, &[]);
    if run.code != Some(1) {
        problems.push(format!("expected exit code 1\n{}", run.describe()));
    }
    for code in &expected {
        if !run.stderr.contains(code) {
            problems.push(format!(
                "expected diagnostic `{code}` in stderr\n{}",
                run.describe()
            ));
        }
    }
    // Optional `# want:` / `# unwanted:` lines pin text that matters beyond the code, e.g. that
    // a missing module input is not reported a second time inside the module.
    for want in fixture.values("want") {
        if !run.stderr.contains(want) {
            problems.push(format!("expected {want:?} in stderr\n{}", run.describe()));
        }
    }
    for unwanted in fixture.values("unwanted") {
        if run.stderr.contains(unwanted) {
            problems.push(format!(
                "did not expect {unwanted:?} in stderr\n{}",
                run.describe()
            ));
        }
    }
    if run.stderr.contains("panicked") {
        problems.push(format!("regionctl panicked\n{}", run.describe()));
    }
    let snapshot = catch_unwind(AssertUnwindSafe(|| {
        crate::assert_snapshot!(name, run.stderr);
    }));
    if snapshot.is_err() {
        problems.push("stderr differs from its snapshot (see the diff above)".to_string());
    }
    problems
}

#[test]
fn invalid_fixtures_report_their_diagnostic() {
    let fixtures = harness::fixture_files("invalid");
    assert!(
        fixtures.len() >= MIN_FIXTURES,
        "only {} fixtures in tests/fixtures/invalid, want at least {MIN_FIXTURES}",
        fixtures.len()
    );
    let mut failures = Vec::new();
    for (name, path) in &fixtures {
        let text = std::fs::read_to_string(path).expect("read a fixture file");
        for problem in check_fixture(name, &text) {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n\n")
    );
}

/// The "many errors at once" fixture reports every one of its problems, across both files.
#[test]
fn many_errors_are_all_reported() {
    let text = std::fs::read_to_string(harness::fixtures_dir("invalid").join("many_errors.yaml"))
        .expect("read many_errors.yaml");
    let fixture = Fixture::parse(&text).expect("many_errors.yaml is a well-formed fixture");
    let run = harness::run_fixture("many-errors", "many_errors", &fixture, &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let expected = fixture.values("expect");
    assert!(
        expected.len() >= 5,
        "many_errors.yaml should expect 5+ different codes, has {expected:?}"
    );
    for code in &expected {
        assert!(
            run.stderr.contains(code),
            "missing `{code}`\n{}",
            run.describe()
        );
    }
    for file in ["envs/eu-west-1/main.yaml:", "envs/eu-west-1/cluster.yaml:"] {
        assert!(
            run.stderr.contains(file),
            "no diagnostic in {file}\n{}",
            run.describe()
        );
    }
    assert!(
        run.stderr.trim_end().ends_with("6 errors"),
        "expected a `6 errors` summary\n{}",
        run.describe()
    );
}

/// `--format json` gives tools the location of every label.
#[test]
fn validate_json_diagnostics_have_locations() {
    let text =
        std::fs::read_to_string(harness::fixtures_dir("invalid").join("unknown_attribute.yaml"))
            .expect("read unknown_attribute.yaml");
    let fixture = Fixture::parse(&text).expect("unknown_attribute.yaml is a well-formed fixture");
    let run = harness::run_fixture("json", "unknown_attribute", &fixture, &["--format", "json"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", run.describe()));
    assert_eq!(doc["format_version"], "1");
    let diags = doc["diagnostics"]
        .as_array()
        .expect("`diagnostics` is an array");
    assert_eq!(diags.len(), 1, "{}", run.stdout);
    let d = &diags[0];
    assert_eq!(d["code"], "spec::unknown-field");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["help"], "did you mean `enable_dns_hostnames`?");
    let label = &d["labels"][0];
    assert_eq!(label["file"], "envs/eu-west-1/main.yaml");
    assert_eq!(label["line"], 5);
    assert_eq!(label["column"], 5);
    assert_eq!(label["end_line"], 5);
    assert_eq!(label["end_column"], 5 + "enable_dns_hostname".len());
    for d in diags {
        for l in d["labels"].as_array().expect("`labels` is an array") {
            assert!(
                l["file"].is_string() && l["line"].is_u64() && l["column"].is_u64(),
                "label without a location: {l}"
            );
        }
    }
}
