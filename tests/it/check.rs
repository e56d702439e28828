//! `regionctl check` end to end: the built binary on the repository's platform and examples, on
//! fixture projects (tests/fixtures/check/), with `--fail-on`, `--json` and `--sarif` (validated
//! against the vendored SARIF 2.1.0 JSON schema), with configuration mistakes, and with plans:
//! a saved plan file made by `regionctl plan --out` against the emulator, and `--plan`.

use std::path::{Path, PathBuf};

use serde_json::Value as J;

use crate::harness::{self, Fixture, Run, fresh_dir, regionctl, regionctl_env, repo_root};
use crate::support::emulator::Emulator;

fn check(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    regionctl(dir, &all)
}

fn json_of(run: &Run) -> J {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.describe()))
}

/// A fixture of tests/fixtures/check/ written to a scratch directory.
fn fixture_project(name: &str) -> PathBuf {
    let path = harness::fixtures_dir("check").join(format!("{name}.yaml"));
    let text = std::fs::read_to_string(&path).expect("read the fixture");
    let fixture = Fixture::parse(&text).expect("a well-formed fixture");
    let dir = fresh_dir("check", name);
    fixture.write_to(&dir);
    dir
}

/// A project from inline `# --- <path>` sections.
fn project(name: &str, text: &str) -> PathBuf {
    let fixture = Fixture::parse(text).expect("a well-formed inline project");
    let dir = fresh_dir("check-inline", name);
    fixture.write_to(&dir);
    dir
}

/// Only warnings (no deletion protection), only notes (no snapshots) and an error, in one
/// environment each, so `--fail-on` can be tried at every level.
const LEVELS: &str = r#"
# --- regionctl.yaml
project: levels
# --- envs/eu-west-1/main.yaml
region: eu-west-1
resources:
  elasticache_replication_group.cache:
    replication_group_id: cache
    node_type: cache.t4g.micro
    cache_subnet_group: cache
    at_rest_encryption: true
    transit_encryption: true
# --- envs/us-east-1/main.yaml
region: us-east-1
resources:
  rds_instance.db:
    identifier: db
    engine: postgres
    instance_class: db.t4g.micro
    allocated_storage: 20
    master_username: app
    manage_master_user_password: true
    storage_encrypted: true
    db_subnet_group: db
# --- envs/us-west-2/main.yaml
region: us-west-2
resources:
  rds_instance.db:
    identifier: db
    engine: postgres
    instance_class: db.t4g.micro
    allocated_storage: 20
    master_username: app
    manage_master_user_password: true
    storage_encrypted: true
    deletion_protection: true
    db_subnet_group: db
    publicly_accessible: true
"#;

// -------------------------------------------------------------------------------- the examples

#[test]
fn the_example_platform_passes_without_findings() {
    let run = check(&repo_root(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("✓ no findings"), "{}", run.describe());
    let json = json_of(&check(&repo_root(), &["--json", "--all-regions"]));
    assert_eq!(json["summary"]["error"], 0, "{json:#}");
    assert_eq!(json["findings"], J::Array(Vec::new()), "{json:#}");
    assert!(
        json["summary"]["resources"]
            .as_u64()
            .is_some_and(|n| n > 50),
        "{json:#}"
    );
}

#[test]
fn the_examples_pass_without_findings() {
    for example in ["minimal", "active-passive-dr"] {
        let dir = repo_root().join("examples").join(example);
        let run = check(&dir, &["--fail-on", "note"]);
        assert_eq!(run.code, Some(0), "{example}: {}", run.describe());
    }
}

// ----------------------------------------------------------------------------- human output

#[test]
fn human_output_shows_the_location_rule_snippet_and_fix() {
    let dir = fixture_project("sg-db-port-open.fail");
    let run = check(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let out = &run.stdout;
    assert!(out.contains("RC108 sg-db-port-open"), "{out}");
    assert!(
        out.contains(
            "envs/eu-west-1/main.yaml:12:36: ingress rule 1 opens 5432 (PostgreSQL) to 0.0.0.0/0"
        ),
        "{out}"
    );
    assert!(
        out.contains("help: Allow the port from the application's security group"),
        "{out}"
    );
    assert!(
        out.contains("resource: eu-west-1/security_group.db"),
        "{out}"
    );
    // The caret under the offending list element.
    assert!(
        out.contains("cidr_blocks: [10.0.0.0/16, 0.0.0.0/0]"),
        "{out}"
    );
    assert!(
        out.lines().last().is_some_and(|l| l.contains(" errors, ")),
        "{out}"
    );
}

#[test]
fn a_module_used_in_several_regions_is_one_report_listing_every_address() {
    let dir = project(
        "module-regions",
        r#"
# --- regionctl.yaml
project: t
# --- modules/db/module.yaml
inputs:
  name: { type: string }
resources:
  rds_instance.db:
    identifier: "${input.name}"
    engine: postgres
    instance_class: db.t4g.micro
    allocated_storage: 20
    master_username: app
    manage_master_user_password: true
    storage_encrypted: false
    deletion_protection: true
    db_subnet_group: db
# --- envs/eu-west-1/main.yaml
region: eu-west-1
modules:
  db: { source: ../../modules/db, inputs: { name: euw1 } }
# --- envs/us-east-1/main.yaml
region: us-east-1
modules:
  db: { source: ../../modules/db, inputs: { name: use1 } }
"#,
    );
    let run = check(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert_eq!(
        run.stdout.matches("RC101 rds-storage-unencrypted").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "resources: eu-west-1/module.db.rds_instance.db, us-east-1/module.db.rds_instance.db"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("modules/db/module.yaml:11:24:"),
        "{}",
        run.stdout
    );
    // JSON and SARIF keep one finding per resource.
    assert_eq!(
        json_of(&check(&dir, &["--json"]))["findings"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

// ---------------------------------------------------------------------------------- --fail-on

#[test]
fn fail_on_sets_the_threshold() {
    let dir = project("levels", LEVELS);
    let code = |args: &[&str]| {
        let run = check(&dir, args);
        assert!(run.stderr.is_empty(), "{}", run.describe());
        run.code
    };
    // eu-west-1 has a note (no snapshots), us-east-1 a warning (no deletion protection),
    // us-west-2 an error (publicly accessible).
    assert_eq!(code(&["envs/eu-west-1"]), Some(0));
    assert_eq!(code(&["envs/eu-west-1", "--fail-on", "warning"]), Some(0));
    assert_eq!(code(&["envs/eu-west-1", "--fail-on", "note"]), Some(1));
    assert_eq!(code(&["envs/us-east-1"]), Some(0));
    assert_eq!(code(&["envs/us-east-1", "--fail-on", "warning"]), Some(1));
    assert_eq!(code(&["envs/us-west-2"]), Some(1));
    assert_eq!(code(&["envs/us-west-2", "--fail-on", "never"]), Some(0));
    assert_eq!(code(&["--all-regions", "--fail-on", "never"]), Some(0));
}

#[test]
fn an_invalid_spec_fails_like_validate_even_with_fail_on_never() {
    let dir = project(
        "invalid",
        "# --- regionctl.yaml\nproject: t\n# --- envs/eu-west-1/main.yaml\nregion: eu-west-1\nresources:\n  vpc.main:\n    cidr_blok: 10.0.0.0/16\n",
    );
    let run = check(&dir, &["--fail-on", "never", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(
        run.stderr
            .contains("envs/eu-west-1/main.yaml:4:5: vpc has no attribute `cidr_blok`"),
        "{}",
        run.describe()
    );
}

// -------------------------------------------------------------------------------------- --json

#[test]
fn json_has_the_documented_shape() {
    let dir = project("levels-json", LEVELS);
    let run = check(&dir, &["--json"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let doc = json_of(&run);
    assert_eq!(doc["format_version"], "1");
    assert_eq!(doc["tool"]["name"], "regionctl");
    assert_eq!(doc["fail_on"], "error");
    assert_eq!(doc["failed"], true);
    assert_eq!(doc["summary"]["error"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["warning"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["note"], 1, "{doc:#}");
    assert_eq!(doc["summary"]["suppressed"], 0);
    assert_eq!(doc["summary"]["plan"], false);
    let rules = doc["rules"].as_array().expect("rules");
    assert!(rules.len() >= 16);
    for key in [
        "id",
        "name",
        "level",
        "category",
        "scope",
        "summary",
        "rationale",
        "fix",
    ] {
        assert!(
            rules.iter().all(|r| r[key].is_string()),
            "every rule has {key}"
        );
    }
    let findings = doc["findings"].as_array().expect("findings");
    let public = findings
        .iter()
        .find(|f| f["rule"] == "RC102")
        .expect("the public database");
    assert_eq!(public["name"], "rds-publicly-accessible");
    assert_eq!(public["level"], "error");
    assert_eq!(public["category"], "security");
    assert_eq!(public["address"], "us-west-2/rds_instance.db");
    assert_eq!(public["location"]["file"], "envs/us-west-2/main.yaml");
    assert_eq!(public["location"]["line"], 13);
    assert_eq!(public["location"]["column"], 26);
    assert!(
        public["message"]
            .as_str()
            .is_some_and(|m| m.contains("publicly accessible"))
    );
    assert!(public["fix"].is_string());
    assert!(public.get("suppressed").is_none());
}

// ----------------------------------------------------------------------------- configuration

fn with_checks(name: &str, checks: &str) -> PathBuf {
    let dir = project(name, LEVELS);
    std::fs::write(
        dir.join("regionctl.yaml"),
        format!("project: levels\nchecks:\n{checks}"),
    )
    .expect("write regionctl.yaml");
    dir
}

#[test]
fn suppressions_are_counted_and_carried_in_json_and_sarif() {
    let dir = with_checks(
        "skip",
        "  skip:\n    - rule: rds-publicly-accessible\n      resource: us-west-2/rds_instance.db\n      reason: \"demo database, no data\"\n",
    );
    let run = check(&dir, &[]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("(1 suppressed)"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "RC102 rds-publicly-accessible us-west-2/rds_instance.db: demo database, no data"
        ),
        "{}",
        run.stdout
    );
    let doc = json_of(&check(&dir, &["--json"]));
    let f = doc["findings"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["rule"] == "RC102"))
        .expect("still listed");
    assert_eq!(f["suppressed"]["reason"], "demo database, no data");
    assert_eq!(f["suppressed"]["location"]["file"], "regionctl.yaml");
    assert_eq!(doc["failed"], false);
    let sarif = json_of(&check(&dir, &["--sarif"]));
    let result = sarif["runs"][0]["results"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["ruleId"] == "RC102"))
        .expect("a result");
    assert_eq!(result["suppressions"][0]["kind"], "external");
    assert_eq!(
        result["suppressions"][0]["justification"],
        "demo database, no data"
    );
    validate_sarif(&sarif);
}

#[test]
fn rules_can_be_switched_off_and_relevelled() {
    let dir = with_checks(
        "levels-config",
        "  rules:\n    RC102: warning\n    cache-no-snapshots: off\n",
    );
    let doc = json_of(&check(&dir, &["--json"]));
    assert_eq!(doc["summary"]["error"], 0, "{doc:#}");
    assert_eq!(doc["summary"]["warning"], 2, "{doc:#}");
    assert_eq!(doc["summary"]["note"], 0, "{doc:#}");
    let off = doc["rules"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["id"] == "RC203"))
        .expect("RC203 listed");
    assert_eq!(off["level"], "off");
    assert_eq!(check(&dir, &[]).code, Some(0));
}

#[test]
fn configuration_mistakes_are_errors_with_locations() {
    let dir = with_checks(
        "bad-config",
        "  rules:\n    RC102: loud\n  skip:\n    - rule: RC101\n      resource: \"*\"\n",
    );
    let run = check(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stdout.is_empty(), "{}", run.describe());
    assert!(
        run.stderr
            .contains("regionctl.yaml:4:12: `loud` is not a check level"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("regionctl.yaml:6:7: a skip needs a reason"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("check::skip-reason"), "{}", run.stderr);
}

// ------------------------------------------------------------------------------------- SARIF

fn validate_sarif(doc: &J) {
    let schema_path = repo_root().join("tests/fixtures/sarif-schema-2.1.0.json");
    let schema: J = serde_json::from_str(
        &std::fs::read_to_string(&schema_path).expect("the vendored SARIF schema"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles offline");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

#[test]
fn the_schema_check_rejects_invalid_sarif() {
    // The validation above is only worth something if it can fail: a level SARIF does not know
    // and a region starting at line 0 must both be caught.
    let dir = fixture_project("rds-no-backups.fail");
    let mut doc = json_of(&check(&dir, &["--sarif"]));
    let schema: J = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/sarif-schema-2.1.0.json"))
            .expect("the vendored SARIF schema"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles offline");
    assert!(validator.is_valid(&doc));
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&doc));
    doc["runs"][0]["results"][0]["level"] = "error".into();
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!validator.is_valid(&doc));
}

#[test]
fn sarif_is_valid_and_points_at_project_relative_files() {
    let dir = fixture_project("data-store-in-public-subnet.fail");
    // Run from outside the project (-C), so relative URIs must be made relative to its root.
    let run = regionctl(
        dir.parent().expect("a parent"),
        &[
            "-C",
            dir.file_name().and_then(|n| n.to_str()).expect("a name"),
            "check",
            "--sarif",
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let doc = json_of(&run);
    validate_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    let run0 = &doc["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "regionctl");
    assert!(driver["informationUri"].is_string());
    let rules = driver["rules"].as_array().expect("rules");
    for rule in rules {
        for key in ["id", "name"] {
            assert!(rule[key].is_string(), "{rule:#}");
        }
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["fullDescription"]["text"].is_string());
        assert!(rule["help"]["text"].is_string());
        assert!(rule["defaultConfiguration"]["level"].is_string());
        assert!(rule["properties"]["tags"].is_array());
    }
    let all = run0["results"].as_array().expect("results");
    // The fixture's databases also lack encryption and deletion protection; look at RC109.
    for r in all {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
    }
    let results: Vec<&J> = all.iter().filter(|r| r["ruleId"] == "RC109").collect();
    assert_eq!(results.len(), 3, "{results:#?}");
    for r in &results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
        assert_eq!(r["level"], "warning");
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "envs/eu-west-1/main.yaml");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l > 1));
        assert!(loc["region"]["startColumn"].as_u64().is_some());
        assert!(r["partialFingerprints"]["regionctl/v1"].is_string());
    }
    let rds = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("eu-west-1/rds_instance.app:"))
        })
        .expect("the database");
    assert_eq!(
        rds["locations"][0]["physicalLocation"]["region"]["startLine"],
        35
    );
    assert_eq!(
        rds["locations"][0]["physicalLocation"]["region"]["startColumn"],
        22
    );
    assert!(
        run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .is_some_and(
                |u| u.starts_with("file:///") && u.ends_with("/data-store-in-public-subnet.fail/")
            ),
        "{run0:#}"
    );
}

#[test]
fn sarif_fingerprints_are_stable_per_rule_and_address() {
    let dir = fixture_project("eks-logging-off.fail");
    let prints = |doc: &J| -> Vec<String> {
        doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                r["partialFingerprints"]["regionctl/v1"]
                    .as_str()
                    .expect("print")
                    .to_owned()
            })
            .collect()
    };
    let first = prints(&json_of(&check(&dir, &["--sarif"])));
    // Moving the resources down a line changes locations, not fingerprints.
    let main = dir.join("envs/eu-west-1/main.yaml");
    let text = std::fs::read_to_string(&main).expect("read");
    std::fs::write(
        &main,
        text.replace("resources:\n", "resources:\n  # moved\n"),
    )
    .expect("write");
    let second = prints(&json_of(&check(&dir, &["--sarif"])));
    assert!(first.len() >= 3, "{first:?}");
    assert_eq!(first, second);
    let unique: std::collections::BTreeSet<&String> = first.iter().collect();
    assert_eq!(
        unique.len(),
        first.len(),
        "one fingerprint per rule and address"
    );
}

#[test]
fn the_example_platform_sarif_is_valid() {
    let doc = json_of(&check(&repo_root(), &["--sarif"]));
    validate_sarif(&doc);
    assert_eq!(doc["runs"][0]["results"], J::Array(Vec::new()));
}

// -------------------------------------------------------------------------------------- plans

const PLANNED: &str = r#"
# --- regionctl.yaml
project: planned
# --- envs/eu-west-1/main.yaml
region: eu-west-1
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: "${vpc.main.id}"
    availability_zone: eu-west-1a
    cidr_block: 10.0.0.0/20
  subnet.b:
    vpc_id: "${vpc.main.id}"
    availability_zone: eu-west-1b
    cidr_block: 10.0.16.0/20
  db_subnet_group.db:
    name: db
    subnet_ids: ["${subnet.a.id}", "${subnet.b.id}"]
  rds_instance.db:
    identifier: db
    engine: postgres
    engine_version: "16.4"
    instance_class: db.t4g.micro
    allocated_storage: 20
    master_username: app
    manage_master_user_password: true
    storage_encrypted: true
    deletion_protection: true
    db_subnet_group: "${db_subnet_group.db.name}"
"#;

#[test]
fn a_saved_plan_is_checked_with_the_spec() {
    let emu = Emulator::start();
    let dir = project("saved-plan", PLANNED);
    let made = regionctl_env(&dir, &["plan", "--out", "plan.json"], &emu.env());
    assert_eq!(made.code, Some(0), "{}", made.describe());

    // As made (everything created), the plan has no finding and the spec none either.
    let run = check(&dir, &["plan.json"]);
    assert_eq!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("and the plan"), "{}", run.stdout);

    // The same plan, but replacing the database (as a change of storage_encrypted would) and
    // deleting a cluster that is no longer in the spec.
    let mut plan: J = serde_json::from_str(
        &std::fs::read_to_string(dir.join("plan.json")).expect("read the plan"),
    )
    .expect("the plan is JSON");
    let changes = plan["envs"][0]["changes"].as_array_mut().expect("changes");
    let db = changes
        .iter_mut()
        .find(|c| c["addr"] == "eu-west-1/rds_instance.db")
        .expect("the database is planned");
    db["action"] = "replace".into();
    db["reason"] = serde_json::json!({ "reason": "attributes_differ" });
    db["id"] = "db".into();
    db["changed"] = serde_json::json!(["storage_encrypted"]);
    db["forces_replacement"] = serde_json::json!(["storage_encrypted"]);
    let mut gone = db.clone();
    gone["addr"] = "eu-west-1/eks_cluster.old".into();
    gone["kind"] = "eks_cluster".into();
    gone["action"] = "delete".into();
    gone["reason"] = serde_json::json!({ "reason": "removed_from_spec" });
    gone["after"] = J::Null;
    changes.push(gone);
    std::fs::write(
        dir.join("risky.json"),
        serde_json::to_string_pretty(&plan).expect("json"),
    )
    .expect("write the edited plan");

    let run = check(&dir, &["risky.json", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    let doc = json_of(&run);
    assert_eq!(doc["summary"]["plan"], true);
    let planned: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "RC401")
        .map(|f| {
            (
                f["address"].as_str().unwrap_or_default().to_owned(),
                f["location"]["file"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                f["location"]["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        vec![
            // A deleted resource the spec no longer has: the environment's file.
            (
                "eu-west-1/eks_cluster.old".to_owned(),
                "envs/eu-west-1/main.yaml".to_owned(),
                1
            ),
            // The replaced one: the attribute forcing the replacement.
            (
                "eu-west-1/rds_instance.db".to_owned(),
                "envs/eu-west-1/main.yaml".to_owned(),
                24
            ),
        ],
        "{doc:#}"
    );
    validate_sarif(&json_of(&check(&dir, &["risky.json", "--sarif"])));

    // A spec changed since the plan was made is refused.
    let main = dir.join("envs/eu-west-1/main.yaml");
    let text = std::fs::read_to_string(&main).expect("read");
    std::fs::write(&main, format!("{text}# edited\n")).expect("write");
    let run = check(&dir, &["plan.json"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("the spec changed since the plan"),
        "{}",
        run.describe()
    );

    // Not a plan at all.
    std::fs::write(dir.join("notes.txt"), "hello").expect("write");
    let run = check(&dir, &["notes.txt"]);
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("not a regionctl plan"),
        "{}",
        run.describe()
    );
}

#[test]
fn plan_makes_a_fresh_plan_and_checks_it() {
    let emu = Emulator::start();
    let dir = project("fresh-plan", PLANNED);
    let run = regionctl_env(&dir, &["check", "--plan", "--json"], &emu.env());
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let doc = json_of(&run);
    assert_eq!(doc["summary"]["plan"], true, "{doc:#}");
    assert_eq!(doc["summary"]["error"], 0, "{doc:#}");

    // --plan with a saved plan is a contradiction.
    std::fs::write(dir.join("plan.json"), "{}").expect("write");
    let run = regionctl_env(&dir, &["check", "--plan", "plan.json"], &emu.env());
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("cannot be combined"),
        "{}",
        run.describe()
    );
}
