//! The syntax tree of templates and expressions.
//!
//! Owns the shapes the parser produces and the evaluator consumes, plus the walks that later stages
//! need without evaluating (which traversals a template mentions). Every node carries the span of
//! its text so that any error, found at any stage, points back at what the user wrote. Nothing here
//! knows what `var`, `each` or a resource reference means.

use crate::source::Span;

/// A YAML string scalar, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// No `${`: the string as written (with `$${` already turned into `${`).
    Literal(String),
    /// Exactly one `${expr}` and nothing else: the value keeps the expression's own type.
    Single(Expr),
    /// Interpolation: the parts are converted to strings and concatenated.
    Parts(Vec<TemplatePart>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Lit(String),
    Interp(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A quoted string inside an expression; it always evaluates to a string.
    Template(Vec<TemplatePart>),
    List(Vec<Expr>),
    /// Entries in source order; the parser rejects duplicate keys. The span is the key's.
    Map(Vec<(String, Span, Expr)>),
    Traversal(Traversal),
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    /// Steps applied to something that is not a plain name, e.g. `split(",", x)[0]`.
    Postfix {
        base: Box<Expr>,
        steps: Vec<Step>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Cond {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
}

/// A name followed by steps: `var.cidr`, `subnet.private[*].id`. The meaning of the root is
/// decided by the caller's [`Scope`](super::Scope).
#[derive(Debug, Clone, PartialEq)]
pub struct Traversal {
    pub root: String,
    pub root_span: Span,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `.name`
    Attr { name: String, span: Span },
    /// `[key]`; the span covers the brackets.
    Index { key: Expr, span: Span },
    /// `[*]` or `.*`
    Splat { span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl UnaryOp {
    /// The operator as written; also the `op` of a deferred operation, so `resolve` can replay it.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Not => "!",
            UnaryOp::Neg => "-",
        }
    }
}

impl BinaryOp {
    /// The operator as written; also the `op` of a deferred operation, so `resolve` can replay it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }

    /// Binding power, HCL's order: `||` < `&&` < equality < comparison < additive < multiplicative.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
        }
    }
}

impl Template {
    /// Every traversal anywhere inside, in source order: how later stages discover dependencies
    /// and check that `each` is only used where it is defined.
    pub fn traversals(&self) -> Vec<&Traversal> {
        let mut out = Vec::new();
        match self {
            Template::Literal(_) => {}
            Template::Single(e) => e.collect_traversals(&mut out),
            Template::Parts(parts) => collect_parts(parts, &mut out),
        }
        out
    }

    pub fn is_literal(&self) -> bool {
        matches!(self, Template::Literal(_))
    }
}

impl Expr {
    /// Every traversal inside this expression, in source order.
    pub fn traversals(&self) -> Vec<&Traversal> {
        let mut out = Vec::new();
        self.collect_traversals(&mut out);
        out
    }

    fn collect_traversals<'a>(&'a self, out: &mut Vec<&'a Traversal>) {
        match &self.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Int(_) | ExprKind::Float(_) => {}
            ExprKind::Template(parts) => collect_parts(parts, out),
            ExprKind::List(items) => items.iter().for_each(|e| e.collect_traversals(out)),
            ExprKind::Map(entries) => entries
                .iter()
                .for_each(|(_, _, e)| e.collect_traversals(out)),
            ExprKind::Traversal(t) => {
                out.push(t);
                collect_steps(&t.steps, out);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.collect_traversals(out)),
            ExprKind::Postfix { base, steps } => {
                base.collect_traversals(out);
                collect_steps(steps, out);
            }
            ExprKind::Unary { expr, .. } => expr.collect_traversals(out),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.collect_traversals(out);
                rhs.collect_traversals(out);
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => {
                cond.collect_traversals(out);
                then.collect_traversals(out);
                otherwise.collect_traversals(out);
            }
        }
    }
}

fn collect_parts<'a>(parts: &'a [TemplatePart], out: &mut Vec<&'a Traversal>) {
    for part in parts {
        if let TemplatePart::Interp(e) = part {
            e.collect_traversals(out);
        }
    }
}

fn collect_steps<'a>(steps: &'a [Step], out: &mut Vec<&'a Traversal>) {
    for step in steps {
        if let Step::Index { key, .. } = step {
            key.collect_traversals(out);
        }
    }
}
