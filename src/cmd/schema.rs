//! `regionctl schema`: prints the generated language reference or the editor JSON Schema, or
//! rewrites the generated blocks of a Markdown file (docs/spec.md). Needs no project.

use std::path::Path;

use crate::cli::{SchemaArgs, SchemaFile};
use crate::exit::ExitStatus;
use crate::kind::Kind;
use crate::render::schema::{self, SpecFile};
use crate::spec::schema as kinds;

use super::Output;

pub fn run(start: &Path, args: &SchemaArgs, io: &mut Output) -> std::io::Result<ExitStatus> {
    if args.json_schema {
        let file = match args.file_type {
            None => SpecFile::Any,
            Some(SchemaFile::Project) => SpecFile::Project,
            Some(SchemaFile::Environment) => SpecFile::Environment,
            Some(SchemaFile::Module) => SpecFile::Module,
        };
        let text = serde_json::to_string_pretty(&schema::json_schema(file))
            .map_err(std::io::Error::other)?;
        writeln!(io.out, "{text}")?;
        return Ok(ExitStatus::Success);
    }
    if let Some(path) = &args.update {
        let path = super::resolve_path(start, path);
        let doc = std::fs::read_to_string(&path)?;
        return match schema::update_markdown(&doc) {
            Ok(updated) if updated == doc => {
                writeln!(io.err, "{} is up to date", path.display())?;
                Ok(ExitStatus::Success)
            }
            Ok(updated) => {
                std::fs::write(&path, updated)?;
                writeln!(io.err, "updated {}", path.display())?;
                Ok(ExitStatus::Success)
            }
            Err(e) => {
                writeln!(io.err, "error: {}: {e}", path.display())?;
                Ok(ExitStatus::Failure)
            }
        };
    }
    match &args.kind {
        None => io.out.write_all(schema::markdown().as_bytes())?,
        Some(name) => {
            let Some(kind) = Kind::from_name(name) else {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                writeln!(
                    io.err,
                    "error: unknown kind `{name}`; kinds: {}",
                    names.join(", ")
                )?;
                return Ok(ExitStatus::Failure);
            };
            io.out
                .write_all(schema::markdown_kind(kinds::schema(kind)).as_bytes())?;
        }
    }
    Ok(ExitStatus::Success)
}
