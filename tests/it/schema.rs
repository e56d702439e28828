//! `regionctl schema`: the language reference in docs/spec.md is the generator's output, and the
//! editor JSON Schema accepts every spec file of the repository and rejects the bad fixtures whose
//! mistake is in the shape of a file (unknown fields, kinds and keys, wrong types).
//!
//! No emulator and no network: the schema is checked with the `jsonschema` crate offline.

use std::path::{Path, PathBuf};
use std::process::Command;

use regionctl::render::schema::{self, Block, SpecFile};
use regionctl::source::FileId;
use regionctl::spec::yaml::{self, Node, NodeValue};
use serde_json::{Value, json};

use crate::harness;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built binary; returns (exit code, stdout, stderr).
fn regionctl(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(crate::harness::bin())
        .args(args)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the regionctl binary built by cargo can be started");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// The Markdown reference.

const REGENERATE: &str =
    "run `cargo run -- schema --markdown --update docs/spec.md` and commit the result";

#[test]
fn docs_spec_md_holds_the_generated_reference() {
    let path = repo_root().join("docs").join("spec.md");
    let doc = std::fs::read_to_string(&path).expect("read docs/spec.md");
    let blocks = schema::generated_blocks(&doc);
    let names: Vec<String> = blocks.iter().map(|(n, _)| n.clone()).collect();
    let expected: Vec<String> = Block::all().map(Block::name).collect();
    assert_eq!(
        names, expected,
        "docs/spec.md must hold one generated block per kind, in Kind::ALL order; {REGENERATE}"
    );
    let stale: Vec<&str> = blocks
        .iter()
        .zip(Block::all())
        .filter(|((_, written), block)| *written != block.markdown())
        .map(|((name, _), _)| name.as_str())
        .collect();
    assert!(
        stale.is_empty(),
        "the generated blocks {stale:?} of docs/spec.md differ from `regionctl schema --markdown` \
         (the kind declarations changed); {REGENERATE}"
    );
    assert_eq!(
        schema::update_markdown(&doc).as_deref(),
        Ok(doc.as_str()),
        "docs/spec.md is not what the updater writes; {REGENERATE}"
    );
}

#[test]
fn the_command_prints_what_docs_spec_md_holds() {
    let doc = std::fs::read_to_string(repo_root().join("docs").join("spec.md"))
        .expect("read docs/spec.md");
    let blocks = schema::generated_blocks(&doc);
    let (code, out, err) = regionctl(&["schema", "--markdown"]);
    assert_eq!(code, Some(0), "{err}");
    let held: String = blocks.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(out, held, "{REGENERATE}");

    let (code, out, err) = regionctl(&["schema", "--markdown", "--kind", "rds_instance"]);
    assert_eq!(code, Some(0), "{err}");
    let rds = blocks
        .iter()
        .find(|(n, _)| n == "kind rds_instance")
        .expect("an rds_instance block");
    assert_eq!(out, rds.1);
    assert!(out.contains("| `master_password_env` | string |  |  |"));
    assert!(out.contains("*Sensitive.*"));

    let (code, _, err) = regionctl(&["schema", "--markdown", "--kind", "s3_bucket"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("unknown kind `s3_bucket`"), "{err}");
    let (code, _, _) = regionctl(&["schema"]);
    // A usage error exits 1: 2 is reserved for "the plan has changes".
    assert_eq!(code, Some(1), "a format flag is required");
}

#[test]
fn update_rewrites_a_stale_copy_in_place() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("regionctl-schema-update");
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    let file = dir.join("spec.md");
    let doc = std::fs::read_to_string(repo_root().join("docs").join("spec.md"))
        .expect("read docs/spec.md");
    let stale = doc.replacen(
        "| `cidr_block` | cidr | yes | yes |",
        "| `cidr_block` | old |",
        1,
    );
    assert_ne!(stale, doc);
    std::fs::write(&file, &stale).expect("write the stale copy");
    let path = file.to_string_lossy().into_owned();
    let (code, _, err) = regionctl(&["schema", "--markdown", "--update", &path]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("updated"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read back"), doc);
    let (code, _, err) = regionctl(&["schema", "--markdown", "--update", &path]);
    assert_eq!(code, Some(0));
    assert!(err.contains("up to date"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The JSON Schema.

/// YAML text to JSON with regionctl's own parser (YAML 1.2 booleans, duplicate keys refused), so
/// the schema sees the values `validate` sees. `None` when the YAML itself is invalid.
fn yaml_to_json(text: &str) -> Option<Value> {
    yaml::parse(FileId(0), text).ok().map(|n| node_json(&n))
}

fn node_json(node: &Node) -> Value {
    match &node.value {
        NodeValue::Null => Value::Null,
        NodeValue::Bool(b) => Value::Bool(*b),
        NodeValue::Int(i) => json!(i),
        NodeValue::Float(f) => json!(f),
        NodeValue::Str(s) => Value::String(s.clone()),
        NodeValue::Seq(items) => Value::Array(items.iter().map(node_json).collect()),
        NodeValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.name.clone(), node_json(v)))
                .collect(),
        ),
    }
}

/// Which schema a project-relative path gets: the project file, an environment file
/// (`envs/<env>/*.yaml`) or a module file (`modules/<module>/*.yaml`).
fn file_type(rel: &Path) -> Option<SpecFile> {
    let ext = rel.extension()?.to_str()?;
    if ext != "yaml" && ext != "yml" {
        return None;
    }
    if rel.file_name()? == "regionctl.yaml" {
        return Some(SpecFile::Project);
    }
    match rel.parent()?.parent()?.file_name()?.to_str()? {
        "envs" => Some(SpecFile::Environment),
        "modules" => Some(SpecFile::Module),
        _ => None,
    }
}

struct Validators {
    any: jsonschema::Validator,
    project: jsonschema::Validator,
    environment: jsonschema::Validator,
    module: jsonschema::Validator,
}

impl Validators {
    fn new() -> Validators {
        let compile = |file| {
            jsonschema::draft7::new(&schema::json_schema(file))
                .expect("the generated schema compiles offline")
        };
        Validators {
            any: compile(SpecFile::Any),
            project: compile(SpecFile::Project),
            environment: compile(SpecFile::Environment),
            module: compile(SpecFile::Module),
        }
    }

    fn get(&self, file: SpecFile) -> &jsonschema::Validator {
        match file {
            SpecFile::Any => &self.any,
            SpecFile::Project => &self.project,
            SpecFile::Environment => &self.environment,
            SpecFile::Module => &self.module,
        }
    }

    /// The errors of `doc` against the schema for `file`, one line each.
    fn errors(&self, file: SpecFile, doc: &Value) -> Vec<String> {
        self.get(file)
            .iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

#[test]
fn the_schemas_are_valid_draft_07() {
    for file in [
        SpecFile::Any,
        SpecFile::Project,
        SpecFile::Environment,
        SpecFile::Module,
    ] {
        let doc = schema::json_schema(file);
        if let Err(e) = jsonschema::draft7::meta::validate(&doc) {
            panic!(
                "{file:?}: not a valid draft-07 schema: {e} at {}",
                e.instance_path()
            );
        }
        assert_eq!(doc["$schema"], "http://json-schema.org/draft-07/schema#");
    }
}

#[test]
fn the_command_prints_the_schemas() {
    for (args, file) in [
        (&["schema", "--json-schema"][..], SpecFile::Any),
        (
            &["schema", "--json-schema", "--file", "environment"][..],
            SpecFile::Environment,
        ),
        (
            &["schema", "--json-schema", "--file", "module"][..],
            SpecFile::Module,
        ),
        (
            &["schema", "--json-schema", "--file", "project"][..],
            SpecFile::Project,
        ),
    ] {
        let (code, out, err) = regionctl(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        let printed: Value = serde_json::from_str(&out).expect("the command prints JSON");
        assert_eq!(printed, schema::json_schema(file), "{args:?}");
    }
}

/// Every spec file under `dir` (recursively) with its path relative to `dir`.
fn spec_files(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, SpecFile)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            spec_files(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root)
            && let Some(file) = file_type(rel)
        {
            out.push((path.clone(), file));
        }
    }
}

#[test]
fn every_spec_file_of_the_repository_passes() {
    let root = repo_root();
    let mut files = Vec::new();
    spec_files(&root, &root.join("envs"), &mut files);
    spec_files(&root, &root.join("modules"), &mut files);
    files.push((root.join("regionctl.yaml"), SpecFile::Project));
    // Each example is a project of its own.
    let examples = std::fs::read_dir(root.join("examples")).expect("read examples/");
    for example in examples.filter_map(|e| e.ok().map(|e| e.path())) {
        if example.join("regionctl.yaml").is_file() {
            spec_files(&example, &example, &mut files);
        }
    }
    let validators = Validators::new();
    let mut failures = Vec::new();
    for (path, file) in &files {
        let text = std::fs::read_to_string(path).expect("read a spec file");
        let doc = yaml_to_json(&text).expect("the repository's spec files are valid YAML");
        for schema in [*file, SpecFile::Any] {
            for e in validators.errors(schema, &doc) {
                failures.push(format!("{} ({schema:?}): {e}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for kind in [SpecFile::Project, SpecFile::Environment, SpecFile::Module] {
        let n = files.iter().filter(|(_, f)| *f == kind).count();
        assert!(n >= 2, "only {n} {kind:?} files found: is the walk broken?");
    }
    assert!(files.len() >= 14, "only {} spec files found", files.len());
}

/// Codes of `validate` diagnostics about the shape of one file, which the schema must also
/// report: unknown keys, attributes, kinds and fields, wrong types, out-of-range numbers.
const SHAPE_CODES: &[&str] = &[
    "spec::unknown-field",
    "spec::unknown-kind",
    "spec::computed-attr",
    "spec::resource-key",
    "spec::module-placement",
    "spec::missing-field",
    "spec::type",
    "spec::enum",
    "spec::range",
    "spec::project-name",
    "spec::backend",
    "spec::region",
];

/// The subset the file-type-agnostic schema must report too (the others may look like a valid
/// file of another type, e.g. a module file that sets `region` is a valid environment file).
const UNKNOWN_NAME_CODES: &[&str] = &[
    "spec::unknown-field",
    "spec::unknown-kind",
    "spec::computed-attr",
];

/// Fixtures (test projects in one file) whose files `validate` accepts one by one, though the
/// project fails: policy rules, expression and reference errors. The schema must accept them all.
fn fixture_dirs() -> Vec<PathBuf> {
    vec![
        harness::fixtures_dir("invalid"),
        harness::fixtures_dir("check"),
    ]
}

#[test]
fn fixtures_pass_or_fail_as_validate_says() {
    let validators = Validators::new();
    let mut failures = Vec::new();
    let mut shape_fixtures = 0;
    let mut checked_files = 0;
    for dir in fixture_dirs() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("read a fixture directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let text = std::fs::read_to_string(&path).expect("read a fixture");
            let fixture = harness::Fixture::parse(&text).expect("a well-formed fixture");
            let codes = fixture.values("expect");
            if codes.contains(&"spec::yaml") || codes.contains(&"spec::yaml-limit") {
                continue; // not YAML at all, or past its limits: nothing for a schema to say
            }
            // A value known only once expressions are folded (`${...}`) is an expression to a
            // schema, which cannot evaluate it; `validate` checks it after folding.
            if name.starts_with("folded_") {
                continue;
            }
            let shape = codes.iter().any(|c| SHAPE_CODES.contains(c));
            let unknown_name = codes.iter().any(|c| UNKNOWN_NAME_CODES.contains(c));
            shape_fixtures += usize::from(shape);
            let mut rejected = Vec::new();
            let mut rejected_by_any = false;
            for (rel, contents) in &fixture.files {
                let Some(file) = file_type(Path::new(rel)) else {
                    continue;
                };
                checked_files += 1;
                let Some(doc) = yaml_to_json(contents) else {
                    failures.push(format!("{name}: {rel} is not valid YAML"));
                    continue;
                };
                let errors = validators.errors(file, &doc);
                if !errors.is_empty() {
                    rejected.push(format!("{rel}: {}", errors.join("; ")));
                }
                rejected_by_any |= !validators.get(SpecFile::Any).is_valid(&doc);
                if !shape && rejected_by_any {
                    failures.push(format!(
                        "{name}: {rel} is rejected by the any-file schema, but `validate` finds no shape error in it"
                    ));
                }
            }
            match (shape, rejected.is_empty()) {
                (true, true) => failures.push(format!(
                    "{name}: `validate` reports {codes:?}, but the schema accepts every file"
                )),
                (false, false) => failures.push(format!(
                    "{name}: the schema rejects a file `validate` finds no shape error in:\n  {}",
                    rejected.join("\n  ")
                )),
                _ => {}
            }
            if unknown_name && !rejected_by_any {
                failures.push(format!(
                    "{name}: the any-file schema accepts an unknown name ({codes:?})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(shape_fixtures >= 15, "only {shape_fixtures} shape fixtures");
    assert!(checked_files >= 100, "only {checked_files} fixture files");
}

/// The schema at work on one environment file, for the cases the fixtures don't pin.
#[test]
fn expressions_nulls_and_nested_blocks() {
    let validators = Validators::new();
    let env = |resources: Value| json!({ "region": "eu-west-1", "resources": resources });
    let accepts = |resources: Value| {
        let doc = env(resources);
        let errors = validators.errors(SpecFile::Environment, &doc);
        assert!(errors.is_empty(), "{doc}: {errors:?}");
    };
    let rejects = |resources: Value| {
        let doc = env(resources);
        assert!(
            !validators.get(SpecFile::Environment).is_valid(&doc),
            "{doc} should be rejected"
        );
    };
    let node_group = |scaling: Value| {
        json!({ "eks_node_group.default": {
            "cluster_name": "${eks_cluster.main.name}",
            "name": "default",
            "node_role_arn": "arn:aws:iam::123456789012:role/node",
            "subnet_ids": "${subnet.private[*].id}",
            "scaling": scaling,
        }})
    };
    // Any typed value may be an expression, evaluated later.
    accepts(node_group(json!("${var.scaling}")));
    accepts(node_group(
        json!({ "min": "${var.min}", "desired": 2, "max": 4 }),
    ));
    accepts(json!({ "rds_instance.db": {
        "identifier": "db", "instance_class": "db.t4g.micro",
        "port": "${var.port}", "multi_az": "${var.ha}", "engine": "${var.engine}",
        "allocated_storage": 20, "tags": "${var.tags}",
        "vpc_security_group_ids": ["${security_group.db.id}", "sg-0123456789abcdef0"],
        "publicly_accessible": null,
        "for_each": "${var.dbs}", "protect": true, "depends_on": ["vpc.main"],
        "ignore_changes": ["tags", "allocated_storage"],
    }}));
    // Literals of the wrong type, unknown nested fields, bad meta-attributes.
    rejects(node_group(json!({ "min": 1, "desired": 1 })));
    rejects(node_group(
        json!({ "min": 1, "desired": 1, "max": 1, "maxx": 2 }),
    ));
    rejects(node_group(json!({ "min": -1, "desired": 1, "max": 1 })));
    rejects(json!({ "rds_instance.db": {
        "identifier": "db", "instance_class": "db.t4g.micro", "port": "5432",
    }}));
    rejects(json!({ "vpc.main": { "cidr_block": "10.0.0.0/33" } }));
    rejects(json!({ "vpc.main": { "cidr_block": "10.0.0.0/16", "enable_dns_support": "yes" } }));
    rejects(json!({ "vpc.main": { "cidr_block": "10.0.0.0/16", "id": "vpc-1" } }));
    rejects(json!({ "vpc.main": { "cidr_block": "10.0.0.0/16", "protect": "${var.p}" } }));
    rejects(json!({ "vpc.main": { "cidr_block": "10.0.0.0/16", "ignore_changes": ["cidr"] } }));
    rejects(json!({ "vpc.main": { "cidr_block": null } }));
    rejects(json!({ "vpc.1main": { "cidr_block": "10.0.0.0/16" } }));
    // A literal that does not look like an expression is checked as a literal.
    rejects(json!({ "vpc.main": { "cidr_block": "10.0.0.0/16", "instance_tenancy": "shared" } }));
    accepts(json!({ "vpc.main": { "cidr_block": "10.0.0.0/16", "instance_tenancy": "${var.t}" } }));
}
