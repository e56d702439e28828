//! Snapshots of the human, JSON and markdown plan of the repository's example platform
//! (`envs/`, `modules/`) planned against an empty account: no state, nothing live. Planning and
//! rendering are pure, so this needs no emulator; the emulator plan tests show the same
//! platform against real API answers.

use regionctl::graph::ResourceGraph;
use regionctl::plan::{Inputs, Plan, diff};
use regionctl::render::{Style, plan as render};
use regionctl::source::SourceMap;
use regionctl::spec;
use regionctl::spec::loader::{LoadOptions, RealFs};

fn example_plan() -> Plan {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut sources = SourceMap::new();
    let (spec, diags) = spec::load(&RealFs, &LoadOptions::all(root), &mut sources);
    assert!(
        !diags.has_errors(),
        "the example platform does not load: {:?}",
        diags.into_sorted()
    );
    let spec = spec.expect("the example platform loads");
    let graph = ResourceGraph::build(&spec).expect("the example platform is acyclic");
    let inputs = Inputs {
        spec_hash: "sha256:example".to_owned(),
        ..Inputs::default()
    };
    let mut plan = diff(&spec, &graph, &inputs);
    // The version changes with every release; the snapshots are about the plan.
    plan.regionctl_version = "VERSION".to_owned();
    plan
}

#[test]
fn empty_account_plans_every_resource_as_a_create() {
    let plan = example_plan();
    let total = plan.summary();
    assert!(total.create > 50, "{total:?}");
    assert_eq!(
        (
            total.update,
            total.replace,
            total.delete,
            total.adopt,
            total.refused
        ),
        (0, 0, 0, 0, 0)
    );
    assert_eq!(total.create, plan.changes().count());
}

#[test]
fn human() {
    crate::assert_snapshot!("human", render::human(&example_plan(), Style::plain()));
}

#[test]
fn json() {
    let json = render::json(&example_plan());
    assert_eq!(json["format_version"], "1.2");
    crate::assert_snapshot!(
        "json",
        serde_json::to_string_pretty(&json).expect("JSON serializes")
    );
}

#[test]
fn markdown() {
    let md = render::markdown(&example_plan(), render::MARKDOWN_LIMIT);
    assert!(md.chars().count() <= render::MARKDOWN_LIMIT);
    crate::assert_snapshot!("markdown", md);
}
