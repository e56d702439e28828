//! `regionctl kubeconfig`: one kubeconfig context per EKS cluster the states record, merged into
//! the user's kubeconfig without touching anything else in it.
//!
//! Each cluster's endpoint and certificate authority come from the state (what the last apply
//! read from EKS), so no AWS call is made. Authentication is the `aws eks get-token` exec plugin
//! (`client.authentication.k8s.io/v1beta1`) with the cluster's region, and with `AWS_PROFILE` in
//! the exec block when a profile is in use, so the token is minted with the same identity that
//! applied. The context is named after the environment (`kubectl --context eu-west-1 get nodes`,
//! `argocd cluster add eu-west-1`); the cluster and user entries are named by the cluster ARN, as
//! `aws eks update-kubeconfig` names them, so running both leaves one entry, not two.
//!
//! The file is read as YAML into a generic tree; only the `clusters`, `users` and `contexts`
//! entries of the same name are replaced (others are kept in their order), `current-context` is
//! set only when there is none, and the result is written atomically (a temporary file in the same
//! directory, fsync, rename; mode 0600 as kubectl writes it). Comments in the file are not kept.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json, json};

use crate::kind::Kind;
use crate::spec::value::Value;
use crate::state::State;

/// One cluster as the state records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The environment, which names the context.
    pub env: String,
    pub name: String,
    pub arn: String,
    pub region: String,
    pub endpoint: String,
    /// Base64 PEM, as EKS reports it and kubeconfig takes it.
    pub certificate_authority: String,
}

/// Why a kubeconfig could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("{path}: not a kubeconfig regionctl can merge into: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the kubeconfig as YAML: {0}")]
    Serialize(String),
}

/// Every EKS cluster of the states, with what a context needs; clusters whose state lacks the
/// endpoint or the CA (an apply that stopped half-way) are left out and named in the second list.
pub fn clusters<'s>(states: impl IntoIterator<Item = &'s State>) -> (Vec<Cluster>, Vec<String>) {
    let mut found = Vec::new();
    let mut incomplete = Vec::new();
    for state in states {
        for (addr, r) in &state.resources {
            if r.kind != Kind::EksCluster {
                continue;
            }
            let text = |k: &str| r.computed.get(k).and_then(Value::as_str).map(str::to_owned);
            match (text("endpoint"), text("certificate_authority")) {
                (Some(endpoint), Some(ca)) if !endpoint.is_empty() && !ca.is_empty() => {
                    found.push(Cluster {
                        env: state.env.clone(),
                        name: r.id.clone(),
                        arn: r
                            .arn
                            .clone()
                            .or_else(|| text("arn"))
                            .unwrap_or_else(|| r.id.clone()),
                        region: r.region.clone(),
                        endpoint,
                        certificate_authority: ca,
                    })
                }
                _ => incomplete.push(addr.to_string()),
            }
        }
    }
    (found, incomplete)
}

/// The context name of a cluster: its environment's, or `<env>-<cluster>` when the environment
/// has several clusters (so none overwrites another).
pub fn context_names(clusters: &[Cluster]) -> Vec<String> {
    let mut per_env: BTreeMap<&str, usize> = BTreeMap::new();
    for c in clusters {
        *per_env.entry(c.env.as_str()).or_default() += 1;
    }
    clusters
        .iter()
        .map(|c| {
            if per_env.get(c.env.as_str()).copied().unwrap_or(0) > 1 {
                format!("{}-{}", c.env, c.name)
            } else {
                c.env.clone()
            }
        })
        .collect()
}

/// The kubeconfig to write: `--file`, else the first file of `$KUBECONFIG`, else
/// `~/.kube/config` (what kubectl reads and writes first).
pub fn default_path(
    file: Option<&Path>,
    kubeconfig_env: Option<&str>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(f) = file {
        return Some(f.to_path_buf());
    }
    let separator = if cfg!(windows) { ';' } else { ':' };
    if let Some(first) = kubeconfig_env.and_then(|v| v.split(separator).find(|p| !p.is_empty())) {
        return Some(PathBuf::from(first));
    }
    home.map(|h| h.join(".kube").join("config"))
}

/// `existing` (the file's text, if any) with one cluster, user and context per cluster set.
pub fn merge(
    existing: Option<&str>,
    path: &str,
    clusters: &[Cluster],
    profile: Option<&str>,
) -> Result<String, KubeconfigError> {
    let mut doc = match existing.map(str::trim) {
        None | Some("") => Json::Object(Map::new()),
        Some(text) => serde_saphyr::from_str::<Json>(text).map_err(|e| KubeconfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?,
    };
    if doc.is_null() {
        doc = Json::Object(Map::new());
    }
    let Json::Object(root) = &mut doc else {
        return Err(KubeconfigError::Parse {
            path: path.to_owned(),
            message: "the document is not a map".to_owned(),
        });
    };
    root.entry("apiVersion").or_insert_with(|| json!("v1"));
    root.entry("kind").or_insert_with(|| json!("Config"));
    root.entry("preferences").or_insert_with(|| json!({}));
    let names = context_names(clusters);
    for (c, context) in clusters.iter().zip(&names) {
        let mut exec = json!({
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["--region", c.region, "eks", "get-token", "--cluster-name", c.name, "--output", "json"],
            "interactiveMode": "IfAvailable",
            "provideClusterInfo": false,
        });
        if let (Some(profile), Some(exec)) = (profile, exec.as_object_mut()) {
            exec.insert(
                "env".to_owned(),
                json!([{"name": "AWS_PROFILE", "value": profile}]),
            );
        }
        upsert(
            root,
            path,
            "clusters",
            &c.arn,
            "cluster",
            json!({
                "server": c.endpoint,
                "certificate-authority-data": c.certificate_authority,
            }),
        )?;
        upsert(root, path, "users", &c.arn, "user", json!({ "exec": exec }))?;
        upsert(
            root,
            path,
            "contexts",
            context,
            "context",
            json!({
                "cluster": c.arn,
                "user": c.arn,
            }),
        )?;
    }
    let has_current = root
        .get("current-context")
        .and_then(Json::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_current && let Some(first) = names.first() {
        root.insert("current-context".to_owned(), json!(first));
    }
    serde_saphyr::to_string(&doc).map_err(|e| KubeconfigError::Serialize(e.to_string()))
}

/// Replaces the entry named `name` of the list `list` (or appends it), keeping the others.
fn upsert(
    root: &mut Map<String, Json>,
    path: &str,
    list: &str,
    name: &str,
    field: &str,
    body: Json,
) -> Result<(), KubeconfigError> {
    let entries = root.entry(list).or_insert_with(|| json!([]));
    if entries.is_null() {
        *entries = json!([]);
    }
    let Json::Array(items) = entries else {
        return Err(KubeconfigError::Parse {
            path: path.to_owned(),
            message: format!("`{list}` is not a list"),
        });
    };
    let mut entry = Map::new();
    entry.insert("name".to_owned(), json!(name));
    entry.insert(field.to_owned(), body);
    let entry = Json::Object(entry);
    match items
        .iter_mut()
        .find(|e| e.get("name").and_then(Json::as_str) == Some(name))
    {
        Some(existing) => *existing = entry,
        None => items.push(entry),
    }
    Ok(())
}

/// Writes `text` to `path` atomically: a temporary file beside it (mode 0600), fsync, rename,
/// fsync of the directory; the directory is created if missing. A reader never sees half a file,
/// and a failure leaves the old file as it was.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), KubeconfigError> {
    let io = |source| KubeconfigError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".to_owned());
    let tmp = dir.join(format!(".{file_name}.regionctl-{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(env: &str, name: &str) -> Cluster {
        Cluster {
            env: env.to_owned(),
            name: name.to_owned(),
            arn: format!("arn:aws:eks:{env}:123456789012:cluster/{name}"),
            region: env.to_owned(),
            endpoint: format!("https://{name}.eks.amazonaws.com"),
            certificate_authority: "LS0tLS1CRUdJTg==".to_owned(),
        }
    }

    const EXISTING: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: QUJD
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
current-context: kind-dev
users:
- name: kind-dev
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
";

    fn parse(text: &str) -> Json {
        serde_saphyr::from_str::<Json>(text).expect("valid YAML")
    }

    fn names(doc: &Json, list: &str) -> Vec<String> {
        doc[list]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn merging_keeps_the_users_contexts_and_is_idempotent() {
        let clusters = [
            cluster("eu-west-1", "prod-euw1"),
            cluster("us-east-1", "prod-use1"),
        ];
        let once = merge(Some(EXISTING), "config", &clusters, Some("platform")).expect("merge");
        let doc = parse(&once);
        assert_eq!(
            names(&doc, "contexts"),
            ["kind-dev", "eu-west-1", "us-east-1"]
        );
        assert_eq!(
            doc["current-context"], "kind-dev",
            "the user's current context stays"
        );
        assert_eq!(
            doc["users"][0]["user"]["client-key-data"], "S0VZ",
            "the user's own kept"
        );
        let user = &doc["users"][1]["user"]["exec"];
        assert_eq!(user["apiVersion"], "client.authentication.k8s.io/v1beta1");
        assert_eq!(user["command"], "aws");
        assert_eq!(
            user["args"],
            json!([
                "--region",
                "eu-west-1",
                "eks",
                "get-token",
                "--cluster-name",
                "prod-euw1",
                "--output",
                "json"
            ])
        );
        assert_eq!(
            user["env"],
            json!([{"name": "AWS_PROFILE", "value": "platform"}])
        );
        let context = &doc["contexts"][1]["context"];
        assert_eq!(
            context["cluster"],
            "arn:aws:eks:eu-west-1:123456789012:cluster/prod-euw1"
        );
        assert_eq!(
            doc["clusters"][1]["cluster"]["server"],
            "https://prod-euw1.eks.amazonaws.com"
        );
        // A second run changes nothing.
        let twice = merge(Some(&once), "config", &clusters, Some("platform")).expect("merge");
        assert_eq!(parse(&twice), doc);
        // A changed endpoint replaces the entry, it does not add one.
        let mut moved = clusters.clone();
        moved[0].endpoint = "https://new.eks.amazonaws.com".to_owned();
        let again = parse(&merge(Some(&twice), "config", &moved, None).expect("merge"));
        assert_eq!(names(&again, "clusters").len(), 3);
        assert_eq!(
            again["clusters"][1]["cluster"]["server"],
            "https://new.eks.amazonaws.com"
        );
        assert!(
            again["users"][1]["user"]["exec"].get("env").is_none(),
            "no profile, no env"
        );
    }

    #[test]
    fn an_empty_or_missing_file_gets_a_whole_config() {
        let doc = parse(&merge(None, "config", &[cluster("eu-west-1", "a")], None).expect("merge"));
        assert_eq!(doc["apiVersion"], "v1");
        assert_eq!(doc["kind"], "Config");
        assert_eq!(doc["current-context"], "eu-west-1");
        assert!(merge(Some("- a list"), "config", &[], None).is_err());
    }

    #[test]
    fn several_clusters_of_one_environment_get_their_own_contexts() {
        let names = context_names(&[
            cluster("eu-west-1", "a"),
            cluster("eu-west-1", "b"),
            cluster("us-east-1", "c"),
        ]);
        assert_eq!(names, ["eu-west-1-a", "eu-west-1-b", "us-east-1"]);
    }

    #[test]
    fn the_path_is_the_flag_then_kubeconfig_then_home() {
        let home = Path::new("/home/u");
        assert_eq!(
            default_path(Some(Path::new("x")), Some("/a:/b"), Some(home)),
            Some(PathBuf::from("x"))
        );
        assert_eq!(
            default_path(None, Some(":/a:/b"), Some(home)),
            Some(PathBuf::from("/a"))
        );
        assert_eq!(
            default_path(None, None, Some(home)),
            Some(PathBuf::from("/home/u/.kube/config"))
        );
        assert_eq!(default_path(None, None, None), None);
    }

    #[test]
    fn writes_are_atomic_and_private() {
        let dir = std::env::temp_dir().join(format!("regionctl-kubeconfig-{}", std::process::id()));
        let path = dir.join("nested").join("config");
        write_atomically(&path, "a: 1\n").expect("write");
        write_atomically(&path, "a: 2\n").expect("overwrite");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "a: 2\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = std::fs::read_dir(path.parent().expect("dir"))
            .expect("list")
            .count();
        assert_eq!(leftovers, 1, "no temporary file left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
