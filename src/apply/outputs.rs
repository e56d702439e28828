//! Evaluating an environment's `outputs:` once its resources exist, for the state to record:
//! `regionctl output` and `regionctl kubeconfig` then read them without AWS and without the spec's
//! references (which need the state to resolve anyway).

use std::collections::BTreeMap;

use crate::spec::expr::resolve;
use crate::spec::value::{Reference, Value};

/// Every output of `declared` whose value is fully known with `lookup`, as JSON. An output that
/// still depends on something not made (a failed create, a destroyed resource) is left out rather
/// than recorded half-evaluated.
pub fn evaluate(
    declared: &BTreeMap<String, Value>,
    lookup: &dyn Fn(&Reference) -> Option<Value>,
) -> BTreeMap<String, serde_json::Value> {
    declared
        .iter()
        .filter_map(|(name, value)| {
            let v = resolve(value, lookup).ok()?;
            (!v.has_unknown()).then(|| (name.clone(), v.to_json()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_outputs_are_recorded_and_unknown_ones_left_out() {
        let declared: BTreeMap<String, Value> = [
            ("region".to_owned(), Value::Str("eu-west-1".into())),
            ("count".to_owned(), Value::Int(3)),
        ]
        .into_iter()
        .collect();
        let out = evaluate(&declared, &|_| None);
        assert_eq!(out["region"], serde_json::json!("eu-west-1"));
        assert_eq!(out["count"], serde_json::json!(3));
    }
}
