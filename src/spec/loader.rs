//! The I/O edge of the spec stage: finds the project, reads environment and module files into the
//! source map, and parses them into definitions. Everything after this is pure.
//!
//! File access goes through [`Fs`] so tests can describe a project in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::addr::{EnvName, GLOBAL_ENV};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{SourceMap, Span};
use crate::spec::model::{self, EnvDef, ModuleDef, Placement, ProjectDef};
use crate::spec::yaml::{self, Key, Node, NodeValue};

pub const PROJECT_FILE: &str = "regionctl.yaml";
pub const ENVS_DIR: &str = "envs";

/// Read-only file access.
pub trait Fs {
    fn read_to_string(&self, path: &Path) -> io::Result<String>;
    /// Entries of a directory as (path, is_dir), sorted by name.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<(PathBuf, bool)>>;
    fn is_file(&self, path: &Path) -> bool;
    fn is_dir(&self, path: &Path) -> bool;
    /// An absolute, link-free form of `path` for comparing two spellings of one directory
    /// (`.` inside `envs/eu-west-1` and `envs/eu-west-1` from the root).
    fn canonicalize(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
}

pub struct RealFs;

impl Fs for RealFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        use std::io::Read;
        // Only regular files are read: opening a FIFO blocks until someone writes to it, and a
        // device (`/dev/zero`, maybe behind a symlink) never ends. `metadata` follows symlinks,
        // so a link to a regular file is fine.
        let meta = std::fs::metadata(here(path))?;
        if !meta.is_file() {
            return Err(io::Error::other(not_regular(&meta)));
        }
        // The size in the metadata is only a hint (procfs and some FUSE file systems report 0,
        // and the file can grow between the stat and the read): the reader itself is bounded.
        let file = std::fs::File::open(here(path))?;
        let mut bytes = Vec::with_capacity((meta.len() as usize).min(yaml::MAX_FILE_BYTES) + 1);
        file.take(yaml::MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() > yaml::MAX_FILE_BYTES {
            return Err(io::Error::other(format!(
                "it is larger than {} MiB, the limit for spec files",
                yaml::MAX_FILE_BYTES / (1024 * 1024)
            )));
        }
        decode_utf8(bytes)
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<(PathBuf, bool)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(here(dir))? {
            let entry = entry?;
            let path = if dir == Path::new(".") {
                PathBuf::from(entry.file_name())
            } else {
                entry.path()
            };
            // Follow symlinks: a symlinked environment or module directory is a directory.
            // A dangling or looping link is not; it is then read as a file and reported.
            let is_dir = match std::fs::metadata(&path) {
                Ok(m) => m.is_dir(),
                Err(_) => false,
            };
            out.push((path, is_dir));
        }
        out.sort();
        Ok(out)
    }

    fn is_file(&self, path: &Path) -> bool {
        here(path).is_file()
    }

    fn is_dir(&self, path: &Path) -> bool {
        here(path).is_dir()
    }

    fn canonicalize(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(here(path)).unwrap_or_else(|_| normalize(path))
    }
}

/// Why a path that is not a regular file cannot be a spec file.
fn not_regular(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "it is a named pipe (FIFO), not a regular file".to_string();
        }
        if t.is_char_device() || t.is_block_device() {
            return "it is a device, not a regular file".to_string();
        }
        if t.is_socket() {
            return "it is a socket, not a regular file".to_string();
        }
    }
    if meta.is_dir() {
        return "it is a directory, not a regular file".to_string();
    }
    "it is not a regular file".to_string()
}

/// Text that is not UTF-8: where the first bad byte is, so the loader can point at it.
#[derive(Debug)]
pub struct InvalidUtf8 {
    /// The text with invalid sequences replaced by U+FFFD; identical to the file up to `offset`.
    pub lossy: String,
    /// Byte offset of the first invalid sequence (the same in the file and in `lossy`).
    pub offset: usize,
    pub byte: u8,
}

impl std::fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "byte 0x{:02x} is not valid UTF-8", self.byte)
    }
}

impl std::error::Error for InvalidUtf8 {}

/// Decodes file contents; invalid UTF-8 becomes an [`InvalidUtf8`] error inside the `io::Error`.
pub fn decode_utf8(bytes: Vec<u8>) -> io::Result<String> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let byte = bytes.get(offset).copied().unwrap_or(0);
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                InvalidUtf8 {
                    lossy: String::from_utf8_lossy(&bytes).into_owned(),
                    offset,
                    byte,
                },
            ))
        }
    }
}

/// `normalize` spells the current directory as the empty path (so joins print as `envs/x`, not
/// `./envs/x`); the OS wants `.`.
fn here(path: &Path) -> &Path {
    if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    }
}

/// An in-memory tree of files, for tests.
#[derive(Debug, Default, Clone)]
pub struct MemFs {
    files: BTreeMap<PathBuf, String>,
}

impl MemFs {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files.insert(PathBuf::from(path), text.to_string());
        self
    }
}

impl Fs for MemFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<(PathBuf, bool)>> {
        let dir = normalize(dir);
        let mut out = BTreeSet::new();
        for path in self.files.keys() {
            if let Ok(rest) = path.strip_prefix(&dir) {
                let mut comps = rest.components();
                if let Some(first) = comps.next() {
                    let is_dir = comps.next().is_some();
                    out.insert((dir.join(first), is_dir));
                }
            }
        }
        if out.is_empty() && !self.is_dir(&dir) {
            return Err(io::Error::from(io::ErrorKind::NotFound));
        }
        Ok(out.into_iter().collect())
    }

    fn is_file(&self, path: &Path) -> bool {
        self.files.contains_key(&normalize(path))
    }

    fn is_dir(&self, path: &Path) -> bool {
        let dir = normalize(path);
        dir.as_os_str().is_empty() || self.files.keys().any(|p| p.starts_with(&dir) && p != &dir)
    }
}

/// Lexically resolves `.` and `..` so module paths print as `modules/eks-platform`, not
/// `envs/eu-west-1/../../modules/eks-platform`, and so one module directory is loaded once.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

/// Which environments a command works on.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Every environment under `envs/`.
    All,
    /// Environment directories named on the command line.
    Paths(Vec<PathBuf>),
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Where to start looking for `regionctl.yaml` when no environment path is given.
    pub start_dir: PathBuf,
    pub selection: Selection,
    /// `--var name=value`, in order; later ones win.
    pub vars: Vec<String>,
    pub var_files: Vec<PathBuf>,
}

impl LoadOptions {
    /// Every environment of the project found from `start_dir`, with no overrides.
    pub fn all(start_dir: impl Into<PathBuf>) -> Self {
        LoadOptions {
            start_dir: start_dir.into(),
            selection: Selection::All,
            vars: Vec::new(),
            var_files: Vec::new(),
        }
    }
}

/// Everything read from disk, parsed but not yet expanded.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub root: PathBuf,
    pub project: ProjectDef,
    /// Every environment of the project: references may reach environments that are not selected.
    pub envs: BTreeMap<EnvName, EnvDef>,
    pub selected: BTreeSet<EnvName>,
    pub modules: BTreeMap<PathBuf, ModuleDef>,
    /// Variable values from `--var-file` and `--var`, applied over every environment's defaults.
    pub overrides: Vec<(Key, Node)>,
}

/// Finds the project root: the nearest directory at or above `start` holding `regionctl.yaml`.
/// The root keeps the relative spelling (`../..` from inside an environment), so every path in
/// a diagnostic is relative to where the user runs regionctl.
pub fn find_root(fs: &dyn Fs, start: &Path) -> Option<PathBuf> {
    let mut dir = normalize(start);
    // Deeper than any real checkout; only guarantees termination on odd file systems.
    for _ in 0..128 {
        if fs.is_file(&dir.join(PROJECT_FILE)) {
            return Some(dir);
        }
        let up_is_lexical = matches!(dir.components().next_back(), Some(Component::Normal(_)));
        dir = if up_is_lexical {
            dir.parent().map(Path::to_path_buf).unwrap_or_default()
        } else if dir.is_absolute() {
            return None; // the file system root
        } else {
            // `.` or `..`-only paths have no lexical parent: step up with `..` until that
            // reaches the real file system root.
            let up = dir.join("..");
            if fs.canonicalize(&up) == fs.canonicalize(&dir) {
                return None;
            }
            up
        };
    }
    None
}

pub fn load(
    fs: &dyn Fs,
    opts: &LoadOptions,
    sources: &mut SourceMap,
    d: &mut Diagnostics,
) -> Option<Loaded> {
    let search_from = match &opts.selection {
        Selection::Paths(paths) if !paths.is_empty() => paths[0].clone(),
        _ => opts.start_dir.clone(),
    };
    let Some(root) = find_root(fs, &search_from).or_else(|| find_root(fs, &opts.start_dir)) else {
        d.push(
            Diagnostic::error("spec::no-project", format!("no {PROJECT_FILE} found in {} or any parent directory", search_from.display()))
                .with_help("run regionctl inside a project (a directory with regionctl.yaml and envs/), or pass -C <dir>"),
        );
        return None;
    };
    let project_path = root.join(PROJECT_FILE);
    let project = read_yaml(fs, &project_path, sources, d)
        .and_then(|(file, node)| model::parse_project(file, &node, d))?;

    let envs_root = root.join(ENVS_DIR);
    let env_dirs: Vec<PathBuf> = match fs.read_dir(&envs_root) {
        Ok(entries) => entries
            .into_iter()
            .filter(|(_, is_dir)| *is_dir)
            .map(|(p, _)| p)
            .collect(),
        Err(e) => {
            d.push(
                Diagnostic::error(
                    "spec::io",
                    format!("cannot read {}: {e}", envs_root.display()),
                )
                .with_help("a project keeps one directory per environment under envs/"),
            );
            return None;
        }
    };

    let selected: BTreeSet<EnvName> = match &opts.selection {
        Selection::All => env_dirs.iter().filter_map(|p| dir_name(p)).collect(),
        Selection::Paths(paths) => {
            let mut names = BTreeSet::new();
            for p in paths {
                let norm = normalize(p);
                let Some(name) = dir_name(&fs.canonicalize(&norm)) else {
                    continue;
                };
                if !fs.is_dir(&norm) {
                    d.push(
                        Diagnostic::error(
                            "spec::no-env",
                            format!("{} is not a directory", p.display()),
                        )
                        .with_help(format!(
                            "environments are directories under {}",
                            envs_root.display()
                        )),
                    );
                    continue;
                }
                if fs.canonicalize(&envs_root.join(&name)) != fs.canonicalize(&norm) {
                    d.push(
                        Diagnostic::error(
                            "spec::no-env",
                            format!(
                                "{} is not an environment of the project at {}",
                                p.display(),
                                display_root(&root)
                            ),
                        )
                        .with_help(format!(
                            "environments live in {}/<name>",
                            envs_root.display()
                        )),
                    );
                    continue;
                }
                names.insert(name);
            }
            names
        }
    };
    if selected.is_empty() && !d.has_errors() {
        d.push(
            Diagnostic::error(
                "spec::no-env",
                format!("no environments found under {}", envs_root.display()),
            )
            .with_help("create envs/<region>/main.yaml with `region: <region>`"),
        );
    }

    let mut envs = BTreeMap::new();
    for dir in &env_dirs {
        if let Some(env) = load_env(fs, dir, sources, d) {
            envs.insert(env.name.clone(), env);
        }
    }

    // Load every module reachable from the environments, each directory once.
    let mut modules = BTreeMap::new();
    let mut pending: Vec<(PathBuf, Span)> = envs
        .values()
        .flat_map(|e| {
            e.body
                .modules
                .iter()
                .map(|c| (normalize(&c.dir), c.source_span))
        })
        .collect();
    // Directories are compared by their real path, not their spelling: through a symlink
    // (`modules/a/self -> .`) one directory has endless spellings, and loading each would never
    // end. Every spelling is mapped to the first one seen, so expansion sees one module (and
    // reports a module that calls itself as such).
    let mut by_real_path: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut spelling: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    while let Some((dir, used_at)) = pending.pop() {
        if modules.contains_key(&dir) || spelling.contains_key(&dir) {
            continue;
        }
        let real = fs.canonicalize(&dir);
        if let Some(first) = by_real_path.get(&real) {
            spelling.insert(dir, first.clone());
            continue;
        }
        by_real_path.insert(real, dir.clone());
        if let Some(m) = load_module(fs, &dir, used_at, sources, d) {
            pending.extend(
                m.body
                    .modules
                    .iter()
                    .map(|c| (normalize(&c.dir), c.source_span)),
            );
            modules.insert(dir, m);
        }
    }

    if !spelling.is_empty() {
        let respell = |calls: &mut Vec<model::ModuleCall>| {
            for c in calls.iter_mut() {
                if let Some(first) = spelling.get(&normalize(&c.dir)) {
                    c.dir = first.clone();
                }
            }
        };
        envs.values_mut().for_each(|e| respell(&mut e.body.modules));
        modules
            .values_mut()
            .for_each(|m| respell(&mut m.body.modules));
    }

    let mut overrides = Vec::new();
    for f in &opts.var_files {
        if let Some((_, node)) = read_yaml(fs, f, sources, d) {
            match &node.value {
                NodeValue::Map(entries) => overrides.extend(entries.iter().cloned()),
                _ => d.push(model::type_error(
                    &node,
                    "a map of variable names to values",
                )),
            }
        }
    }
    for (i, raw) in opts.vars.iter().enumerate() {
        // Each --var becomes a tiny YAML document so `--var 'azs=[a, b]'` gives a list and
        // errors point at the argument.
        let Some((name, value)) = raw.split_once('=') else {
            d.push(
                Diagnostic::error("cli::var", format!("--var {raw:?} is not NAME=VALUE"))
                    .with_help("for example --var cidr=10.20.0.0/16"),
            );
            continue;
        };
        // The name becomes a YAML key below: an empty or odd one (`=x`, `a b=x`, `[x]=1`) would
        // turn into a different key (`null`), so it is refused here in words about the flag.
        if !model::is_identifier(name) {
            let what = if name.is_empty() {
                "has no variable name before `=`".to_string()
            } else {
                format!("names `{name}`, which is not a variable name")
            };
            d.push(
                Diagnostic::error("cli::var", format!("--var {raw:?} {what}"))
                    .with_help("write --var NAME=VALUE, e.g. --var cidr=10.20.0.0/16; names use letters, digits, `_` and `-`"),
            );
            continue;
        }
        let text = format!("{name}: {value}\n");
        let file = sources.add(format!("--var #{}", i + 1), text.clone());
        // A value with a newline could smuggle in a second `key: value`: only a document that
        // is exactly this one entry counts as YAML, anything else is the plain string.
        let parsed = yaml::parse(file, &text).ok().filter(|node| {
            node.as_map()
                .is_some_and(|e| e.len() == 1 && e[0].0.name == name)
        });
        match parsed {
            Some(node) => {
                if let Some(entries) = node.as_map() {
                    overrides.extend(entries.iter().cloned());
                }
            }
            None => {
                // Not valid YAML on its own (e.g. a value with `: `): take it as a plain string.
                let file = sources.add(format!("--var #{}", i + 1), value.to_string());
                let span = Span::new(file, 0, value.len());
                overrides.push((
                    Key {
                        name: name.to_string(),
                        span,
                    },
                    Node {
                        span,
                        value: NodeValue::Str(value.to_string()),
                    },
                ));
            }
        }
    }

    Some(Loaded {
        root,
        project,
        envs,
        selected,
        modules,
        overrides,
    })
}

fn display_root(root: &Path) -> String {
    if root.as_os_str().is_empty() {
        ".".to_string()
    } else {
        root.display().to_string()
    }
}

fn dir_name(p: &Path) -> Option<String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn read_yaml(
    fs: &dyn Fs,
    path: &Path,
    sources: &mut SourceMap,
    d: &mut Diagnostics,
) -> Option<(crate::source::FileId, Node)> {
    let text = match fs.read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            if let Some(bad) = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<InvalidUtf8>())
            {
                let file = sources.add(path, bad.lossy.clone());
                let end = (bad.offset + 3).min(bad.lossy.len());
                d.push(
                    Diagnostic::error(
                        "spec::encoding",
                        format!("{} is not UTF-8: {bad}", path.display()),
                    )
                    .with_label(Span::new(file, bad.offset, end), "this byte")
                    .with_help("spec files are UTF-8 text; re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"),
                );
                return None;
            }
            d.push(
                Diagnostic::error("spec::io", format!("cannot read {}: {e}", path.display()))
                    .with_help("spec files are regular files of YAML text"),
            );
            return None;
        }
    };
    let file = sources.add(path, lone_cr_to_lf(text));
    match yaml::parse(file, sources.text(file)) {
        Ok(node) => Some((file, node)),
        Err(diag) => {
            d.push(diag);
            None
        }
    }
}

/// Old-Mac line endings (a CR alone) become LF. YAML reads both as line breaks, but line
/// numbers in diagnostics (the headline, `--format json`, snippets) count LFs; one byte for
/// one byte keeps every offset valid. CRLF stays as it is.
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    // Replacing one ASCII byte by another keeps the text UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// A name defined in two files of one environment or module: the files are merged, and
/// silently keeping one definition would make the result depend on file names.
fn report_twice<'n>(
    d: &mut Diagnostics,
    owner: &str,
    what: &str,
    names: impl Iterator<Item = (&'n String, Span)>,
) {
    let mut first: BTreeMap<&String, Span> = BTreeMap::new();
    for (name, span) in names {
        match first.get(name) {
            Some(prev) => d.push(
                Diagnostic::error(
                    "spec::duplicate",
                    format!("{owner} defines {what} `{name}` twice"),
                )
                .with_label(span, "defined again here")
                .with_label(*prev, "first defined here")
                .with_help(format!(
                    "the files of one directory are merged, so every {what} name must be unique across them; rename or remove one"
                )),
            ),
            None => {
                first.insert(name, span);
            }
        }
    }
}

fn yaml_files(fs: &dyn Fs, dir: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(fs
        .read_dir(dir)?
        .into_iter()
        .filter(|(p, is_dir)| {
            !is_dir && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .map(|(p, _)| p)
        .collect())
}

fn load_env(
    fs: &dyn Fs,
    dir: &Path,
    sources: &mut SourceMap,
    d: &mut Diagnostics,
) -> Option<EnvDef> {
    let name = dir_name(dir)?;
    let files = match yaml_files(fs, dir) {
        Ok(f) => f,
        Err(e) => {
            d.push(Diagnostic::error(
                "spec::io",
                format!("cannot read {}: {e}", dir.display()),
            ));
            return None;
        }
    };
    let mut env = EnvDef {
        name: name.clone(),
        dir: dir.to_path_buf(),
        placement: Placement::Global,
        placement_span: None,
        variables: Vec::new(),
        body: Default::default(),
        outputs: Vec::new(),
    };
    let mut placement: Option<(Placement, Span)> = None;
    let mut any_file = false;
    for path in files {
        let Some((_, node)) = read_yaml(fs, &path, sources, d) else {
            continue;
        };
        any_file = true;
        let f = model::parse_env_file(&node, dir, d);
        if let Some((p, span)) = f.placement {
            match &placement {
                Some((prev, prev_span)) if *prev != p => d.push(
                    Diagnostic::error(
                        "spec::placement",
                        format!("environment `{name}` declares two placements"),
                    )
                    .with_label(span, "this one")
                    .with_label(*prev_span, "conflicts with this one")
                    .with_help(
                        "every file of an environment must agree on `region:` (or `global: true`)",
                    ),
                ),
                _ => placement = Some((p, span)),
            }
        }
        env.variables.extend(f.variables);
        env.body.modules.extend(f.body.modules);
        env.body.resources.extend(f.body.resources);
        env.outputs.extend(f.outputs);
    }
    let what = format!("environment `{name}`");
    report_twice(
        d,
        &what,
        "variable",
        env.variables.iter().map(|(k, _)| (&k.name, k.span)),
    );
    report_twice(
        d,
        &what,
        "output",
        env.outputs.iter().map(|(k, _)| (&k.name, k.span)),
    );
    report_twice(
        d,
        &what,
        "module call",
        env.body.modules.iter().map(|c| (&c.name, c.name_span)),
    );
    if !any_file {
        return None;
    }
    match placement {
        Some((p, span)) => {
            if let Placement::Region(r) = &p {
                if !crate::spec::aws_facts::is_known_region(r) {
                    let known: Vec<&str> = crate::spec::aws_facts::known_regions().collect();
                    let mut diag =
                        Diagnostic::error("spec::region", format!("unknown AWS region `{r}`"))
                            .with_label(span, "not a region");
                    if let Some(s) = crate::diag::did_you_mean(r, known.iter().copied()) {
                        diag = diag.with_help(format!("did you mean `{s}`?"));
                    }
                    d.push(diag);
                } else if *r != name {
                    d.push(Diagnostic::warning("spec::region-name", format!("environment `{name}` is in region `{r}`"))
                        .with_label(span, "region differs from the directory name")
                        .with_help("naming the directory after its region keeps plans and addresses unambiguous"));
                }
            }
            if p == Placement::Global && name != GLOBAL_ENV {
                d.push(
                    Diagnostic::error(
                        "spec::placement",
                        format!(
                            "the global environment must be named `{GLOBAL_ENV}`, not `{name}`"
                        ),
                    )
                    .with_label(span, "declared global here"),
                );
            }
            env.placement = p;
            env.placement_span = Some(span);
        }
        None => {
            d.push(
                Diagnostic::error(
                    "spec::placement",
                    format!("environment `{name}` has no `region:`"),
                )
                .with_help(format!(
                    "add `region: {name}` (or `global: true` for IAM and Route 53) to a file in {}",
                    dir.display()
                )),
            );
            return None;
        }
    }
    Some(env)
}

fn load_module(
    fs: &dyn Fs,
    dir: &Path,
    used_at: Span,
    sources: &mut SourceMap,
    d: &mut Diagnostics,
) -> Option<ModuleDef> {
    let files = match yaml_files(fs, dir) {
        Ok(f) if !f.is_empty() => f,
        _ => {
            d.push(
                Diagnostic::error(
                    "spec::module-source",
                    format!("module directory {} has no YAML files", dir.display()),
                )
                .with_label(used_at, "module source used here")
                .with_help("`source` is a path relative to the file that calls the module"),
            );
            return None;
        }
    };
    let mut def = ModuleDef {
        dir: dir.to_path_buf(),
        inputs: Vec::new(),
        body: Default::default(),
        outputs: Vec::new(),
        incomplete: false,
    };
    for path in files {
        let errors_before = d.error_count();
        let Some((_, node)) = read_yaml(fs, &path, sources, d) else {
            def.incomplete = true;
            continue;
        };
        let (inputs, body, outputs) = model::parse_module_file(&node, dir, d);
        if d.error_count() > errors_before {
            def.incomplete = true;
        }
        def.inputs.extend(inputs);
        def.body.modules.extend(body.modules);
        def.body.resources.extend(body.resources);
        def.outputs.extend(outputs);
    }
    let what = format!("module {}", dir.display());
    report_twice(
        d,
        &what,
        "input",
        def.inputs.iter().map(|i| (&i.name, i.span)),
    );
    report_twice(
        d,
        &what,
        "output",
        def.outputs.iter().map(|(k, _)| (&k.name, k.span)),
    );
    report_twice(
        d,
        &what,
        "module call",
        def.body.modules.iter().map(|c| (&c.name, c.name_span)),
    );
    Some(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_parent_dirs() {
        assert_eq!(
            normalize(Path::new("envs/eu-west-1/../../modules/x")),
            PathBuf::from("modules/x")
        );
        assert_eq!(normalize(Path::new("./envs/a")), PathBuf::from("envs/a"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }

    #[test]
    fn memfs_lists_dirs() {
        let fs = MemFs::new()
            .with("envs/a/main.yaml", "")
            .with("envs/b/x.yaml", "")
            .with("regionctl.yaml", "");
        let entries = fs.read_dir(Path::new("envs")).expect("dir");
        assert_eq!(
            entries,
            vec![
                (PathBuf::from("envs/a"), true),
                (PathBuf::from("envs/b"), true)
            ]
        );
        assert_eq!(find_root(&fs, Path::new("envs/a")), Some(PathBuf::new()));
    }
}
