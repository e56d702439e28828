//! Saved plans (`plan --out FILE`, `apply FILE`, `check FILE`): written atomically, read back
//! only in the format this regionctl writes, and held against the spec they were made from.

use std::io::Write;
use std::path::Path;

use crate::plan::Plan;
use crate::plan::model::PLAN_FORMAT_VERSION;

/// Writes the plan file atomically (temp file, fsync, rename), so a crash never leaves half a
/// plan for `apply` to read.
pub fn save(path: &Path, plan: &Plan) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(plan).map_err(std::io::Error::other)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reads a saved plan; the error says why it is not one this regionctl can apply.
pub fn read(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let plan: Plan =
        serde_json::from_str(&text).map_err(|e| format!("not a regionctl plan: {e}"))?;
    if plan.format_version != PLAN_FORMAT_VERSION {
        return Err(format!(
            "plan format {} is not supported by this regionctl (reads {PLAN_FORMAT_VERSION})",
            plan.format_version,
        ));
    }
    Ok(plan)
}

/// The spec changed since the plan was made: its files or variables differ, so the plan's
/// changes and locations are not this spec's.
#[derive(Debug, thiserror::Error)]
#[error("the spec changed since the plan was made (its files or variables differ)")]
pub struct SpecChanged;

/// Narrows the prepared spec to the environments the saved plan covers, as apply applies them,
/// after checking the plan was made from this very spec.
pub fn pin(plan: &Plan, prepared: &mut super::Prepared) -> Result<(), SpecChanged> {
    if plan.spec_hash != prepared.spec_hash {
        return Err(SpecChanged);
    }
    for env in prepared.spec.envs.values_mut() {
        env.selected = plan.envs.iter().any(|e| e.env == env.name);
    }
    Ok(())
}
