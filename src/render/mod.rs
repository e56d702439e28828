//! Pure functions from data to text: the only place that knows colours, snippets, DOT and the
//! JSON wire formats. Nothing here does I/O; commands decide where the text goes, and `term`
//! draws the live view `live` describes.

pub mod apply;
pub mod check;
pub mod diagnostics;
pub mod graph;
pub mod inventory;
pub mod live;
pub mod plan;
pub mod schema;

/// How output should look; decided once from flags and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// Width to wrap diagnostics at.
    pub width: usize,
}

impl Style {
    /// Plain, stable output for tests and files.
    pub fn plain() -> Self {
        Style {
            color: false,
            width: 100,
        }
    }
}
