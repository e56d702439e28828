//! Reading Terraform's two JSON shapes of a state into one flat list of resource instances.
//!
//! - The state file itself, format version 4 (what `terraform state pull` prints and what lies in
//!   `terraform.tfstate`): `resources[]` with `mode`, `type`, `name`, `module`, `provider` (the
//!   provider configuration, alias included: `provider["registry.terraform.io/hashicorp/aws"].euw1`)
//!   and `instances[]` with `index_key` and `attributes`.
//! - The JSON of `terraform show -json`: `values.root_module` with `resources[]` (`address`,
//!   `mode`, `type`, `name`, `index`, `values`) and nested `child_modules[]`. It names the provider
//!   but not its alias, so regions come from the resources themselves (or their module).
//!
//! Both become [`TfInstance`]s; nothing else of Terraform's formats leaks past this file.

use serde_json::{Map, Value as J};

/// A `count` index or a `for_each` key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum TfKey {
    Int(usize),
    Str(String),
}

impl std::fmt::Display for TfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TfKey::Int(i) => write!(f, "[{i}]"),
            TfKey::Str(s) => write!(f, "[{s:?}]"),
        }
    }
}

/// One resource instance of a Terraform state.
#[derive(Debug, Clone)]
pub struct TfInstance {
    /// Which input document it came from (a file name).
    pub source: String,
    /// The module path, e.g. `module.euw1` (empty for the root module).
    pub module: String,
    pub tf_type: String,
    pub name: String,
    pub key: Option<TfKey>,
    /// `managed` or `data`.
    pub managed: bool,
    /// The provider configuration (state v4 only), e.g.
    /// `provider["registry.terraform.io/hashicorp/aws"].euw1`.
    pub provider: Option<String>,
    pub attrs: Map<String, J>,
}

impl TfInstance {
    /// The Terraform address: `module.euw1.aws_subnet.private["a"]`.
    pub fn address(&self) -> String {
        let mut out = String::new();
        if !self.module.is_empty() {
            out.push_str(&self.module);
            out.push('.');
        }
        if !self.managed {
            out.push_str("data.");
        }
        out.push_str(&self.tf_type);
        out.push('.');
        out.push_str(&self.name);
        if let Some(k) = &self.key {
            out.push_str(&k.to_string());
        }
        out
    }

    /// The region group a resource falls back on when nothing of its own names its region: its
    /// provider configuration (state files) or its module (`show -json`).
    pub fn region_group(&self) -> String {
        match &self.provider {
            Some(p) => p.clone(),
            None => format!("module:{}", self.module),
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.attrs
            .get(name)
            .and_then(J::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{source_name} is not JSON: {message}")]
    NotJson {
        source_name: String,
        message: String,
    },
    #[error(
        "{source_name} is neither a Terraform state (format version 4, as `terraform state pull` \
         prints it) nor the JSON of `terraform show -json`{detail}"
    )]
    Unknown { source_name: String, detail: String },
}

/// Reads one document, telling the two formats apart by their keys.
pub fn read(source_name: &str, text: &str) -> Result<Vec<TfInstance>, ReadError> {
    let doc: J = serde_json::from_str(text).map_err(|e| ReadError::NotJson {
        source_name: source_name.to_owned(),
        message: e.to_string(),
    })?;
    if let Some(version) = doc.get("version").and_then(J::as_u64) {
        if version != 4 {
            return Err(ReadError::Unknown {
                source_name: source_name.to_owned(),
                detail: format!(
                    " (it is state format version {version}; run `terraform state pull` with \
                     Terraform 0.12 or later to get version 4)"
                ),
            });
        }
        return Ok(read_v4(source_name, &doc));
    }
    if doc.get("format_version").is_some() {
        let mut out = Vec::new();
        if let Some(root) = doc.get("values").and_then(|v| v.get("root_module")) {
            read_show_module(source_name, root, &mut out);
        }
        return Ok(out);
    }
    Err(ReadError::Unknown {
        source_name: source_name.to_owned(),
        detail: String::new(),
    })
}

fn read_v4(source_name: &str, doc: &J) -> Vec<TfInstance> {
    let mut out = Vec::new();
    let resources = doc.get("resources").and_then(J::as_array);
    for r in resources.into_iter().flatten() {
        let text = |k: &str| r.get(k).and_then(J::as_str).unwrap_or_default().to_owned();
        let instances = r.get("instances").and_then(J::as_array);
        for i in instances.into_iter().flatten() {
            let key = match i.get("index_key") {
                Some(J::Number(n)) => n.as_u64().map(|n| TfKey::Int(n as usize)),
                Some(J::String(s)) => Some(TfKey::Str(s.clone())),
                _ => None,
            };
            out.push(TfInstance {
                source: source_name.to_owned(),
                module: text("module"),
                tf_type: text("type"),
                name: text("name"),
                key,
                managed: text("mode") != "data",
                provider: Some(text("provider")).filter(|p| !p.is_empty()),
                attrs: i
                    .get("attributes")
                    .and_then(J::as_object)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    out
}

fn read_show_module(source_name: &str, module: &J, out: &mut Vec<TfInstance>) {
    let path = module
        .get("address")
        .and_then(J::as_str)
        .unwrap_or_default()
        .to_owned();
    let resources = module.get("resources").and_then(J::as_array);
    for r in resources.into_iter().flatten() {
        let text = |k: &str| r.get(k).and_then(J::as_str).unwrap_or_default().to_owned();
        let key = match r.get("index") {
            Some(J::Number(n)) => n.as_u64().map(|n| TfKey::Int(n as usize)),
            Some(J::String(s)) => Some(TfKey::Str(s.clone())),
            _ => None,
        };
        out.push(TfInstance {
            source: source_name.to_owned(),
            module: path.clone(),
            tf_type: text("type"),
            name: text("name"),
            key,
            managed: text("mode") != "data",
            provider: None,
            attrs: r
                .get("values")
                .and_then(J::as_object)
                .cloned()
                .unwrap_or_default(),
        });
    }
    let children = module.get("child_modules").and_then(J::as_array);
    for child in children.into_iter().flatten() {
        read_show_module(source_name, child, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_v4_state_with_modules_keys_and_aliases() {
        let doc = serde_json::json!({
            "version": 4, "terraform_version": "1.9.5", "serial": 3, "lineage": "x", "outputs": {},
            "resources": [
                {"module": "module.euw1", "mode": "managed", "type": "aws_subnet", "name": "private",
                 "provider": "provider[\"registry.terraform.io/hashicorp/aws\"].euw1",
                 "instances": [
                    {"index_key": "eu-west-1a", "schema_version": 1, "attributes": {"id": "subnet-1"}},
                    {"index_key": "eu-west-1b", "schema_version": 1, "attributes": {"id": "subnet-2"}}]},
                {"mode": "data", "type": "aws_caller_identity", "name": "me",
                 "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                 "instances": [{"schema_version": 0, "attributes": {"id": "1"}}]},
                {"mode": "managed", "type": "aws_eip", "name": "nat",
                 "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                 "instances": [{"index_key": 0, "schema_version": 0, "attributes": {"id": "eipalloc-1"}}]}
            ]
        });
        let got = read("a.tfstate", &doc.to_string()).expect("reads");
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[1].address(),
            "module.euw1.aws_subnet.private[\"eu-west-1b\"]"
        );
        assert!(
            got[1]
                .provider
                .as_deref()
                .is_some_and(|p| p.ends_with(".euw1"))
        );
        assert_eq!(got[2].address(), "data.aws_caller_identity.me");
        assert!(!got[2].managed);
        assert_eq!(got[3].key, Some(TfKey::Int(0)));
    }

    #[test]
    fn reads_show_json_with_child_modules() {
        let doc = serde_json::json!({
            "format_version": "1.0", "terraform_version": "1.9.5",
            "values": {"root_module": {
                "resources": [{"address": "aws_vpc.main", "mode": "managed", "type": "aws_vpc",
                    "name": "main", "provider_name": "registry.terraform.io/hashicorp/aws",
                    "schema_version": 1, "values": {"id": "vpc-1"}, "sensitive_values": {}}],
                "child_modules": [{"address": "module.use1", "resources": [
                    {"address": "module.use1.aws_subnet.a[1]", "mode": "managed", "type": "aws_subnet",
                     "name": "a", "index": 1, "provider_name": "registry.terraform.io/hashicorp/aws",
                     "values": {"id": "subnet-9"}}]}]
            }}
        });
        let got = read("show.json", &doc.to_string()).expect("reads");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].address(), "module.use1.aws_subnet.a[1]");
        assert_eq!(got[1].region_group(), "module:module.use1");
    }

    #[test]
    fn refuses_other_documents_with_a_reason() {
        let e = read("x.json", "{\"version\": 3}").expect_err("v3 is refused");
        assert!(e.to_string().contains("version 3"), "{e}");
        assert!(read("x.json", "{}").is_err());
        assert!(read("x.json", "not json").is_err());
    }
}
