//! Every rule against its failing and passing fixture (`tests/fixtures/check/<name>.fail.yaml`
//! and `.pass.yaml`: a whole tiny project in `# --- <path>` sections, `# expect:` lines giving
//! each finding's `path:line:col address`, `# plan:` lines a plan to check with it), and the
//! `checks:` configuration: levels, switching off, skips and their mistakes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Config, Level, RULES, Report, Rule, config};
use crate::addr::InstanceAddr;
use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::Action;
use crate::plan::model::{EnvPlan, PLAN_FORMAT_VERSION, Plan, Reason, ResourceChange};
use crate::source::SourceMap;
use crate::spec::loader::{LoadOptions, MemFs};
use crate::spec::{self, Spec};

struct Fixture {
    header: Vec<(String, String)>,
    files: Vec<(String, String)>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check")
}

fn parse_fixture(text: &str) -> Fixture {
    let mut header = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("# --- ") {
            files.push((path.trim().to_owned(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
            body.push('\n');
        } else if let Some((key, value)) = line.strip_prefix("# ").and_then(|l| l.split_once(": "))
            && ["expect", "plan"].contains(&key)
        {
            header.push((key.to_owned(), value.trim().to_owned()));
        }
    }
    assert!(!files.is_empty(), "a fixture needs `# --- <path>` sections");
    Fixture { header, files }
}

fn values<'f>(f: &'f Fixture, key: &str) -> Vec<&'f str> {
    f.header
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Loads a project from `(path, text)` pairs; panics on spec errors, which would make the
/// fixture test something else than its rule.
fn load(files: &[(String, String)]) -> (Spec, SourceMap) {
    let fs = files
        .iter()
        .fold(MemFs::new(), |fs, (path, text)| fs.with(path, text));
    let mut sources = SourceMap::new();
    let (spec, diags) = spec::load(&fs, &LoadOptions::all("."), &mut sources);
    let errors: Vec<String> = diags
        .into_sorted()
        .into_iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .map(|d| describe_diag(&d, &sources))
        .collect();
    assert!(
        errors.is_empty(),
        "the project has spec errors:\n{}",
        errors.join("\n")
    );
    (spec.expect("a spec without errors"), sources)
}

fn describe_diag(d: &Diagnostic, sources: &SourceMap) -> String {
    let at = d
        .primary_span()
        .map(|s| location(sources, s))
        .unwrap_or_default();
    format!("{at}: {} {}", d.code, d.message)
}

fn location(sources: &SourceMap, span: crate::source::Span) -> String {
    let loc = sources.location(span);
    loc.strip_prefix("./").map(str::to_owned).unwrap_or(loc)
}

/// A plan from `# plan: <action> <address> [attributes forcing replacement...]` lines.
fn plan_of(lines: &[&str]) -> Option<Plan> {
    if lines.is_empty() {
        return None;
    }
    let mut envs: Vec<EnvPlan> = Vec::new();
    for line in lines {
        let mut words = line.split_whitespace();
        let action = match words.next() {
            Some("create") => Action::Create,
            Some("update") => Action::Update,
            Some("replace") => Action::Replace,
            Some("delete") => Action::Delete,
            other => panic!("unknown plan action {other:?}"),
        };
        let addr: InstanceAddr = words
            .next()
            .expect("an address")
            .parse()
            .expect("a valid address");
        let forces: Vec<String> = words.map(str::to_owned).collect();
        let change = ResourceChange {
            kind: addr.block.kind,
            region: addr.env.clone(),
            action,
            replace_order: None,
            reason: match action {
                Action::Delete => Reason::RemovedFromSpec,
                Action::Create => Reason::NotInAws,
                _ => Reason::AttributesDiffer,
            },
            id: Some("id-1".to_owned()),
            before: None,
            after: None,
            changed: forces.clone(),
            forces_replacement: forces,
            sensitive: Vec::new(),
            adopt: false,
            deps: Vec::new(),
            protect: false,
            refusal: None,
            addr,
        };
        match envs.iter_mut().find(|e| e.env == change.addr.env) {
            Some(e) => e.changes.push(change),
            None => envs.push(EnvPlan {
                env: change.addr.env.clone(),
                region: Some(change.addr.env.clone()),
                prior_state: None,
                changes: vec![change],
                drift: Vec::new(),
            }),
        }
    }
    Some(Plan {
        format_version: PLAN_FORMAT_VERSION,
        regionctl_version: "test".to_owned(),
        stack: "t".to_owned(),
        spec_hash: String::new(),
        targets: Vec::new(),
        envs,
        not_refreshed: Vec::new(),
    })
}

/// Runs the checks on a fixture project with its own `checks:` configuration.
fn run_fixture(f: &Fixture) -> (Report, SourceMap) {
    let (spec, sources) = load(&f.files);
    let mut d = Diagnostics::new();
    let config = config::parse(spec.project.checks.as_ref(), &mut d);
    assert!(
        !d.has_errors(),
        "the fixture's checks: configuration is invalid"
    );
    let plan = plan_of(&values(f, "plan"));
    let report = super::run(&spec, plan.as_ref(), &config, &sources);
    (report, sources)
}

fn hits_of(report: &Report, sources: &SourceMap, rule: &Rule) -> BTreeSet<String> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.id == rule.id)
        .map(|f| format!("{} {}", location(sources, f.span), f.addr))
        .collect()
}

fn read_fixture(name: &str) -> Fixture {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("every rule needs {}: {e}", path.display()));
    parse_fixture(&text)
}

// ---------------------------------------------------------------------------------- the rules

#[test]
fn every_rule_flags_its_failing_fixture_exactly() {
    let mut problems = Vec::new();
    for rule in RULES {
        let f = read_fixture(&format!("{}.fail.yaml", rule.name));
        let expected: BTreeSet<String> = values(&f, "expect")
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert!(
            !expected.is_empty(),
            "{}.fail.yaml has no `# expect:` line",
            rule.name
        );
        let (report, sources) = run_fixture(&f);
        let found = hits_of(&report, &sources, rule);
        if found != expected {
            problems.push(format!(
                "{} {}:\n  expected {expected:#?}\n  found {found:#?}",
                rule.id, rule.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rule_passes_its_passing_fixture() {
    let mut problems = Vec::new();
    for rule in RULES {
        let f = read_fixture(&format!("{}.pass.yaml", rule.name));
        let (report, sources) = run_fixture(&f);
        let found = hits_of(&report, &sources, rule);
        if !found.is_empty() {
            problems.push(format!("{} {}: {found:#?}", rule.id, rule.name));
        }
    }
    assert!(
        problems.is_empty(),
        "passing fixtures with findings:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_fixture_belongs_to_a_rule() {
    let names: BTreeSet<String> = RULES
        .iter()
        .flat_map(|r| {
            [
                format!("{}.fail.yaml", r.name),
                format!("{}.pass.yaml", r.name),
            ]
        })
        .collect();
    for entry in std::fs::read_dir(fixtures_dir()).expect("the fixture directory") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            names.contains(&name) || !name.ends_with(".yaml"),
            "{name} names no rule"
        );
    }
}

#[test]
fn ids_and_names_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for r in RULES {
        assert!(
            seen.insert(r.id) && seen.insert(r.name),
            "{} is not unique",
            r.id
        );
        assert!(
            r.id.len() == 5
                && r.id.starts_with("RC")
                && r.id[2..].chars().all(|c| c.is_ascii_digit()),
            "{} is not RC + three digits",
            r.id
        );
        let first = match r.category {
            super::Category::Security => '1',
            super::Category::Resilience => '2',
            super::Category::Tags => '3',
            super::Category::Change => '4',
        };
        assert!(
            r.id[2..].starts_with(first),
            "{}: the first digit is the category",
            r.id
        );
        assert!(
            r.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} is not kebab-case",
            r.name
        );
        for text in [r.summary, r.rationale, r.fix] {
            assert!(
                !text.contains('\n') && text.ends_with('.'),
                "{}: one sentence per field",
                r.id
            );
        }
    }
    let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "RULES are in id order");
}

#[test]
fn docs_list_every_rule_with_its_default_level() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md"))
            .expect("docs/checks.md");
    for r in RULES {
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| {} ", r.id)))
            .unwrap_or_else(|| panic!("docs/checks.md has no table row for {}", r.id));
        assert!(
            row.contains(&format!("`{}`", r.name)),
            "{}: the row names {}",
            r.id,
            r.name
        );
        assert!(
            row.contains(r.level.as_str()),
            "{}: the row gives level {}",
            r.id,
            r.level.as_str()
        );
    }
}

#[test]
fn unknown_values_pass() {
    // The CIDRs and the encryption flag come from an input known only at apply (a reference to a
    // computed attribute): nothing can be said before, so nothing is reported.
    let f = parse_fixture(
        r#"
# --- regionctl.yaml
project: t
# --- envs/eu-west-1/main.yaml
region: eu-west-1
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  security_group.db:
    name: db
    vpc_id: "${vpc.main.id}"
    ingress:
      - protocol: tcp
        from_port: 5432
        to_port: 5432
        cidr_blocks: ["${vpc.main.arn}"]
"#,
    );
    let (report, _) = run_fixture(&f);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule.name != "sg-db-port-open"),
        "{:?}",
        report.findings
    );
}

#[test]
fn plan_rules_need_a_plan() {
    let f = read_fixture("stateful-replace-or-delete.fail.yaml");
    let (spec, sources) = load(&f.files);
    let report = super::run(&spec, None, &Config::default(), &sources);
    assert!(report.findings.iter().all(|f| f.rule.id != "RC401"));
    assert!(!report.with_plan);
}

// ------------------------------------------------------------------------------ configuration

const UNENCRYPTED: &str = r#"
# --- envs/eu-west-1/main.yaml
region: eu-west-1
resources:
  rds_instance.a:
    identifier: a
    engine: postgres
    instance_class: db.t4g.micro
    allocated_storage: 20
    master_username: app
    manage_master_user_password: true
    storage_encrypted: false
  rds_instance.b:
    identifier: b
    engine: postgres
    instance_class: db.t4g.micro
    allocated_storage: 20
    master_username: app
    manage_master_user_password: true
    storage_encrypted: false
"#;

/// The unencrypted project with this regionctl.yaml; the config's diagnostics come back too.
fn with_project(project: &str) -> (Option<Report>, Vec<String>) {
    let mut f = parse_fixture(UNENCRYPTED);
    f.files
        .push(("regionctl.yaml".to_owned(), project.to_owned()));
    let (spec, sources) = load(&f.files);
    let mut d = Diagnostics::new();
    let config = config::parse(spec.project.checks.as_ref(), &mut d);
    let diags: Vec<String> = d
        .into_sorted()
        .iter()
        .map(|d| describe_diag(d, &sources))
        .collect();
    if !diags.is_empty() {
        return (None, diags);
    }
    (Some(super::run(&spec, None, &config, &sources)), diags)
}

fn of_rule<'r>(report: &'r Report, id: &str) -> Vec<&'r super::Finding> {
    report.findings.iter().filter(|f| f.rule.id == id).collect()
}

#[test]
fn defaults_apply_without_a_checks_section() {
    let (report, _) = with_project("project: t\n");
    let report = report.expect("a report");
    let found = of_rule(&report, "RC101");
    assert_eq!(found.len(), 2);
    assert!(
        found
            .iter()
            .all(|f| f.level == Level::Error && f.suppressed.is_none())
    );
    assert!(report.fails(Some(Level::Error)));
    assert!(!report.fails(None));
}

#[test]
fn a_rule_can_be_switched_off_by_id_or_name() {
    for key in ["RC101", "rds-storage-unencrypted"] {
        let (report, diags) =
            with_project(&format!("project: t\nchecks:\n  rules:\n    {key}: off\n"));
        let report = report.unwrap_or_else(|| panic!("{diags:?}"));
        assert!(of_rule(&report, "RC101").is_empty(), "{key}");
        let state = report
            .rules
            .iter()
            .find(|s| s.rule.id == "RC101")
            .expect("listed");
        assert_eq!(state.level, None);
    }
}

#[test]
fn a_rule_can_be_relevelled() {
    let (report, _) =
        with_project("project: t\nchecks:\n  rules:\n    RC101: note\n    RC201: error\n");
    let report = report.expect("a report");
    assert!(
        of_rule(&report, "RC101")
            .iter()
            .all(|f| f.level == Level::Note)
    );
    assert!(
        of_rule(&report, "RC201")
            .iter()
            .all(|f| f.level == Level::Error)
    );
    assert_eq!(of_rule(&report, "RC201").len(), 2);
    // Notes do not fail the default threshold, errors do.
    assert_eq!(
        report.count(Level::Note),
        2 + of_rule(&report, "RC203").len()
    );
}

#[test]
fn a_skip_with_a_reason_suppresses_matching_resources_only() {
    let (report, diags) = with_project(
        "project: t\nchecks:\n  skip:\n    - rule: rds-storage-unencrypted\n      resource: eu-west-1/rds_instance.a\n      reason: migrated next sprint\n",
    );
    let report = report.unwrap_or_else(|| panic!("{diags:?}"));
    let found = of_rule(&report, "RC101");
    let a = found
        .iter()
        .find(|f| f.addr.to_string() == "eu-west-1/rds_instance.a")
        .expect("a");
    let b = found
        .iter()
        .find(|f| f.addr.to_string() == "eu-west-1/rds_instance.b")
        .expect("b");
    assert_eq!(
        a.suppressed.as_ref().map(|s| s.reason.as_str()),
        Some("migrated next sprint")
    );
    assert!(b.suppressed.is_none());
    assert_eq!(report.suppressed(), 1);
    assert_eq!(report.active().filter(|f| f.rule.id == "RC101").count(), 1);
}

#[test]
fn skip_patterns_match_in_every_environment_without_a_region() {
    let skip = |resource: &str| {
        let (report, diags) = with_project(&format!(
            "project: t\nchecks:\n  skip:\n    - rule: RC101\n      resource: \"{resource}\"\n      reason: test data only\n"
        ));
        let report = report.unwrap_or_else(|| panic!("{diags:?}"));
        of_rule(&report, "RC101")
            .iter()
            .filter(|f| f.suppressed.is_some())
            .count()
    };
    assert_eq!(skip("rds_instance.*"), 2, "no region: every environment");
    assert_eq!(skip("*"), 2);
    assert_eq!(skip("eu-west-1/rds_instance.b"), 1);
    assert_eq!(skip("us-east-1/rds_instance.*"), 0, "another environment");
    assert_eq!(skip("rds_instance.c"), 0);
}

#[test]
fn a_skip_without_a_reason_is_an_error_at_the_entry() {
    let (report, diags) = with_project(
        "project: t\nchecks:\n  skip:\n    - rule: RC101\n      resource: eu-west-1/rds_instance.a\n",
    );
    assert!(report.is_none());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(
        diags[0].starts_with("regionctl.yaml:4:7: check::skip-reason"),
        "{diags:?}"
    );

    let (_, diags) = with_project(
        "project: t\nchecks:\n  skip:\n    - rule: RC101\n      resource: x\n      reason: \"  \"\n",
    );
    assert!(
        diags[0].starts_with("regionctl.yaml:6:15: check::skip-reason"),
        "{diags:?}"
    );
}

#[test]
fn unknown_rules_and_bad_levels_are_errors_with_a_location() {
    let (report, diags) = with_project(
        "project: t\nchecks:\n  rules:\n    rds-storage-unencryptd: off\n    RC102: fatal\n  skip:\n    - rule: RC999\n      resource: x\n      reason: y\n  requird_tags: [a]\n",
    );
    assert!(report.is_none());
    let text = diags.join("\n");
    assert!(
        text.contains(
            "regionctl.yaml:4:5: check::unknown-rule no check rule `rds-storage-unencryptd`"
        ),
        "{text}"
    );
    assert!(
        text.contains("regionctl.yaml:5:12: check::level `fatal` is not a check level"),
        "{text}"
    );
    assert!(
        text.contains("regionctl.yaml:7:13: check::unknown-rule no check rule `RC999`"),
        "{text}"
    );
    assert!(
        text.contains("regionctl.yaml:10:3: check::config unknown checks setting `requird_tags`"),
        "{text}"
    );
    assert_eq!(diags.len(), 4, "{text}");
}

#[test]
fn the_did_you_mean_names_the_rule() {
    let mut d = Diagnostics::new();
    let mut sources = SourceMap::new();
    let file = sources.add("regionctl.yaml", "rules:\n  rds-storage-unencryptd: off\n");
    let node = crate::spec::yaml::parse(file, sources.text(file)).expect("yaml");
    config::parse(Some(&node), &mut d);
    let diags = d.into_sorted();
    assert_eq!(
        diags[0]
            .help
            .as_deref()
            .map(|h| h.starts_with("did you mean `rds-storage-unencrypted`?")),
        Some(true),
        "{diags:?}"
    );
}
