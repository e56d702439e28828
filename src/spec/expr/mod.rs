//! The expression language: templates in YAML strings, parsed and evaluated.
//!
//! Owns everything between a YAML string scalar and a [`Value`](crate::spec::value::Value):
//! lexing and parsing (`lexer`, `parser`), the syntax tree (`ast`), evaluation with unknown
//! propagation and apply-time resolution (`eval`), operators (`ops`) and built-in functions
//! (`functions`). It never reads files or talks to AWS, and it does not know what `var`, `each`
//! or a resource reference means: the caller supplies a [`Scope`].

mod ast;
mod eval;
mod functions;
mod lexer;
mod ops;
mod parser;
#[cfg(test)]
mod test_support;

pub use ast::{BinaryOp, Expr, ExprKind, Step, Template, TemplatePart, Traversal, UnaryOp};
pub use eval::{EvalStep, Scope, apply_steps, eval, eval_template, resolve};
pub use functions::{call_function, function_names};
pub use parser::{MAX_DEPTH, TextOrigin, char_map, parse_template};
