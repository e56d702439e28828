//! Templates and expressions from text to syntax tree.
//!
//! Owns the grammar: template splitting (`${`, `$${`), a Pratt parser with HCL precedence, and
//! the mapping of byte offsets to file spans. It must never panic on any input and never recurse
//! without bound: nesting past [`MAX_DEPTH`] is a syntax error, not a stack overflow. It reports
//! one error per bad `${}` segment and keeps going, so a user sees every broken interpolation in a
//! file at once. It knows nothing about values or scopes.

use std::mem;

use super::ast::{BinaryOp, Expr, ExprKind, Step, Template, TemplatePart, Traversal, UnaryOp};
use super::lexer::{Tok, Token, Unclosed, find_interp_end, lex};
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

/// How deeply expressions may nest (brackets, calls, unary operators, operator chains) before
/// parsing stops with an error. Real specs stay in single digits; the limit exists so that hostile
/// or generated input cannot exhaust the stack in the parser, the evaluator or `Drop`.
pub const MAX_DEPTH: usize = 64;

const SYNTAX: &str = "expr::syntax";

/// Where a template's text sits in its file, so every error points at file:line:col.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextOrigin {
    pub file: FileId,
    /// Byte offset in the file of the template text's first byte.
    pub start: usize,
    /// False if the YAML scalar had escapes or folding, so offsets in the text do not map 1:1 onto
    /// the file; then every span is `fallback`.
    pub exact: bool,
    /// The whole scalar.
    pub fallback: Span,
    /// For a scalar that is not exact but whose characters all appear in the file in order (a
    /// `|` or `>` block, where lines lose their indentation): the file offset of every byte of
    /// the text, plus one for its end. Errors inside a block then point at their own line.
    pub map: Option<std::sync::Arc<[usize]>>,
}

impl TextOrigin {
    fn span(&self, start: usize, end: usize) -> Span {
        if self.exact {
            Span::new(self.file, self.start + start, self.start + end)
        } else if let Some(map) = &self.map
            && let (Some(&s), Some(&e)) = (map.get(start), map.get(end))
            && s <= e
        {
            Span::new(self.file, s, e)
        } else {
            self.fallback
        }
    }
}

/// Maps every byte of `text` (a scalar's value) to its offset in `raw` (the scalar as written,
/// starting at file offset `base`) by matching characters in order: indentation and the block
/// header are skipped, folded line breaks match the next space. `None` when some character is
/// not in the file as written (an escape such as `\t`), so the caller keeps the whole-scalar
/// fallback.
pub fn char_map(text: &str, raw: &str, base: usize) -> Option<std::sync::Arc<[usize]>> {
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut rest = raw.char_indices();
    let mut last_end = 0;
    for c in text.chars() {
        let (i, _) = rest
            .by_ref()
            .find(|(_, r)| *r == c || (c == ' ' && *r == '\n'))?;
        for k in 0..c.len_utf8() {
            map.push(base + i + k);
        }
        last_end = i + c.len_utf8();
    }
    map.push(base + last_end);
    Some(map.into())
}

/// Parses a YAML string scalar. Returns every syntax error found (at least one per bad `${}`
/// segment); never panics.
pub fn parse_template(text: &str, origin: &TextOrigin) -> Result<Template, Vec<Diagnostic>> {
    let mut parser = Parser {
        src: text,
        origin,
        pos: 0,
        end: text.len(),
        depth: 0,
        peeked: None,
    };
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while let Some(rest) = text.get(i..).filter(|r| !r.is_empty()) {
        if rest.starts_with("$${") {
            lit.push_str("${");
            i += 3;
        } else if rest.starts_with("${") {
            match find_interp_end(text, i + 2, text.len()) {
                Ok(close) => {
                    if !lit.is_empty() {
                        parts.push(TemplatePart::Lit(mem::take(&mut lit)));
                    }
                    parser.depth = 0;
                    match parser.parse_segment(i + 2, close) {
                        Ok(expr) => parts.push(TemplatePart::Interp(expr)),
                        Err(d) => errors.push(d),
                    }
                    i = close + 1;
                }
                Err(why) => {
                    // Everything after an unclosed `${` belongs to it, so there is nothing more to
                    // parse.
                    errors.push(unterminated(origin.span(i, i + 2), why));
                    break;
                }
            }
        } else {
            let ch = rest.chars().next().expect("rest is non-empty");
            lit.push(ch);
            i += ch.len_utf8();
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Lit(lit));
    }
    // Literal parts are only pushed when non-empty, so a lone `Interp` means the text was exactly
    // one `${...}`.
    Ok(if parts.len() > 1 {
        Template::Parts(parts)
    } else {
        match parts.pop() {
            None => Template::Literal(String::new()),
            Some(TemplatePart::Lit(s)) => Template::Literal(s),
            Some(TemplatePart::Interp(e)) => Template::Single(e),
        }
    })
}

fn unterminated(span: Span, why: Unclosed) -> Diagnostic {
    let d = Diagnostic::error(
        SYNTAX,
        "unterminated `${`: the interpolation has no closing `}`",
    )
    .with_label(span, "this interpolation is never closed");
    match why {
        Unclosed::String => {
            d.with_help("a quoted string inside this interpolation is missing its closing `\"`")
        }
        Unclosed::Brace => {
            d.with_help("add `}` to end the interpolation, or write `$${` for a literal `${`")
        }
    }
}

type PResult<T> = Result<T, Diagnostic>;

struct Parser<'a> {
    src: &'a str,
    origin: &'a TextOrigin,
    pos: usize,
    /// The end of the segment being parsed: the offset of its closing `}`.
    end: usize,
    depth: usize,
    peeked: Option<Token>,
}

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        self.origin.span(start, end)
    }

    fn peek(&mut self) -> &Token {
        let (src, pos, end) = (self.src, self.pos, self.end);
        self.peeked.get_or_insert_with(|| lex(src, pos, end))
    }

    fn peek_tok(&mut self) -> &Tok {
        &self.peek().tok
    }

    fn bump(&mut self) -> Token {
        let token = match self.peeked.take() {
            Some(t) => t,
            None => lex(self.src, self.pos, self.end),
        };
        self.pos = token.end;
        token
    }

    /// The span to blame for a token; the end of a segment is its closing `}`.
    fn token_span(&self, token: &Token) -> Span {
        if token.tok == Tok::Eof && token.start < self.src.len() {
            self.span(token.start, token.start + 1)
        } else {
            self.span(token.start, token.end)
        }
    }

    fn describe(&self, token: &Token) -> String {
        if token.tok == Tok::Eof && self.src.as_bytes().get(token.start) == Some(&b'}') {
            "the closing `}`".to_string()
        } else {
            token.tok.describe()
        }
    }

    /// "expected X, found Y" at the next token, consuming nothing.
    fn unexpected(&mut self, expected: &str) -> Diagnostic {
        let token = self.peek().clone();
        self.unexpected_token(&token, expected)
    }

    fn unexpected_token(&self, token: &Token, expected: &str) -> Diagnostic {
        let span = self.token_span(token);
        if let Tok::Invalid(msg) = &token.tok {
            return Diagnostic::error(SYNTAX, msg.clone())
                .with_label(span, format!("expected {expected}"));
        }
        Diagnostic::error(
            SYNTAX,
            format!("expected {expected}, found {}", self.describe(token)),
        )
        .with_label(span, format!("expected {expected} here"))
    }

    fn expect(&mut self, want: Tok, expected: &str) -> PResult<Token> {
        if *self.peek_tok() == want {
            Ok(self.bump())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.span(at, at + 1);
            return Err(Diagnostic::error(
                SYNTAX,
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
            )
            .with_label(span, "nesting limit reached here")
            .with_help("split the expression into variables or simplify it"));
        }
        Ok(())
    }

    /// Parses the expression between a `${` and its `}` (at `close`), restoring the outer
    /// position afterwards so quoted strings can nest segments.
    fn parse_segment(&mut self, start: usize, close: usize) -> PResult<Expr> {
        let saved = (self.pos, self.end, self.peeked.take());
        self.pos = start;
        self.end = close;
        let result = self.parse_expr().and_then(|expr| match self.peek_tok() {
            Tok::Eof => Ok(expr),
            _ => Err(self.unexpected("an operator or the closing `}`")),
        });
        (self.pos, self.end, self.peeked) = saved;
        result
    }

    fn parse_expr(&mut self) -> PResult<Expr> {
        let at = self.peek().start;
        self.enter(at)?;
        let result = self.parse_cond();
        self.depth -= 1;
        result
    }

    fn parse_cond(&mut self) -> PResult<Expr> {
        let cond = self.parse_binary(1)?;
        if *self.peek_tok() != Tok::Question {
            return Ok(cond);
        }
        self.bump();
        let then = self.parse_expr()?;
        self.expect(Tok::Colon, "`:` between the branches of the conditional")?;
        let otherwise = self.parse_expr()?;
        let span = cond.span.to(otherwise.span);
        Ok(Expr {
            kind: ExprKind::Cond {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
            span,
        })
    }

    fn parse_binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let saved_depth = self.depth;
        let mut lhs = self.parse_unary()?;
        while let Some(op) = binary_op(self.peek_tok()).filter(|op| op.precedence() >= min_prec) {
            let op_token = self.bump();
            // Each operator deepens the tree even in a flat chain, and the evaluator recurses
            // over the tree, so chains count towards the nesting limit too.
            self.enter(op_token.start)?;
            let rhs = self.parse_binary(op.precedence() + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        self.depth = saved_depth;
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek_tok() {
            Tok::Bang => UnaryOp::Not,
            Tok::Minus => UnaryOp::Neg,
            _ => return self.parse_postfix(),
        };
        let op_token = self.bump();
        self.enter(op_token.start)?;
        let operand = self.parse_unary();
        self.depth -= 1;
        let operand = operand?;
        let span = self.span(op_token.start, op_token.end).to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op,
                expr: Box::new(operand),
            },
            span,
        })
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let base = self.parse_primary()?;
        let saved_depth = self.depth;
        let steps = self.parse_steps();
        self.depth = saved_depth;
        let steps = steps?;
        if steps.is_empty() {
            return Ok(base);
        }
        let span = base
            .span
            .to(step_span(steps.last().expect("steps is non-empty")));
        Ok(match base.kind {
            ExprKind::Traversal(mut t) => {
                t.steps.extend(steps);
                Expr {
                    kind: ExprKind::Traversal(t),
                    span,
                }
            }
            kind => Expr {
                kind: ExprKind::Postfix {
                    base: Box::new(Expr {
                        kind,
                        span: base.span,
                    }),
                    steps,
                },
                span,
            },
        })
    }

    fn parse_steps(&mut self) -> PResult<Vec<Step>> {
        let mut steps = Vec::new();
        loop {
            if matches!(self.peek_tok(), Tok::Dot | Tok::LBracket) {
                // Every step can wrap a deferred value one level deeper, so steps count towards
                // the nesting limit like brackets do.
                let at = self.peek().start;
                self.enter(at)?;
            }
            match self.peek_tok() {
                Tok::Dot => {
                    let dot = self.bump();
                    let token = self.bump();
                    match token.tok {
                        Tok::Ident(name) => {
                            steps.push(Step::Attr {
                                name,
                                span: self.span(dot.start, token.end),
                            });
                        }
                        Tok::Star => steps.push(Step::Splat {
                            span: self.span(dot.start, token.end),
                        }),
                        Tok::Int(i) => {
                            return Err(self
                                .unexpected_token(&token, "an attribute name after `.`")
                                .with_help(format!("to index a list, write `[{i}]`")));
                        }
                        _ => {
                            return Err(
                                self.unexpected_token(&token, "an attribute name after `.`")
                            );
                        }
                    }
                }
                Tok::LBracket => {
                    let open = self.bump();
                    if *self.peek_tok() == Tok::Star {
                        self.bump();
                        let close = self.expect(Tok::RBracket, "`]` after `[*`")?;
                        steps.push(Step::Splat {
                            span: self.span(open.start, close.end),
                        });
                    } else {
                        let key = self.parse_expr()?;
                        let close = self.expect(Tok::RBracket, "`]` to close the index")?;
                        steps.push(Step::Index {
                            key,
                            span: self.span(open.start, close.end),
                        });
                    }
                }
                _ => return Ok(steps),
            }
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let token = self.bump();
        let span = self.span(token.start, token.end);
        let kind = match token.tok {
            Tok::Int(i) => ExprKind::Int(i),
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Ident(name) => match name.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                _ if *self.peek_tok() == Tok::LParen => {
                    return self.parse_call(name, token.start, token.end);
                }
                _ => ExprKind::Traversal(Traversal {
                    root: name,
                    root_span: span,
                    steps: Vec::new(),
                }),
            },
            Tok::Quote => {
                let (parts, span) = self.parse_string(token.start)?;
                return Ok(Expr {
                    kind: ExprKind::Template(parts),
                    span,
                });
            }
            Tok::LParen => {
                let inner = self.parse_expr()?;
                let close = self.expect(Tok::RParen, "`)` to close the parenthesis")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: self.span(token.start, close.end),
                });
            }
            Tok::LBracket => return self.parse_list(token.start),
            Tok::LBrace => return self.parse_map(token.start),
            _ => return Err(self.unexpected_token(&token, "an expression")),
        };
        Ok(Expr { kind, span })
    }

    fn parse_call(&mut self, name: String, name_start: usize, name_end: usize) -> PResult<Expr> {
        self.bump();
        let mut args = Vec::new();
        let close = loop {
            if *self.peek_tok() == Tok::RParen {
                break self.bump();
            }
            args.push(self.parse_expr()?);
            match self.peek_tok() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {}
                _ => {
                    return Err(
                        self.unexpected(&format!("`,` or `)` in the arguments of `{name}`"))
                    );
                }
            }
        };
        let name_span = self.span(name_start, name_end);
        let span = self.span(name_start, close.end);
        Ok(Expr {
            kind: ExprKind::Call {
                name,
                name_span,
                args,
            },
            span,
        })
    }

    fn parse_list(&mut self, open: usize) -> PResult<Expr> {
        let mut items = Vec::new();
        let close = loop {
            if *self.peek_tok() == Tok::RBracket {
                break self.bump();
            }
            items.push(self.parse_expr()?);
            match self.peek_tok() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBracket => {}
                _ => return Err(self.unexpected("`,` or `]` in the list")),
            }
        };
        Ok(Expr {
            kind: ExprKind::List(items),
            span: self.span(open, close.end),
        })
    }

    fn parse_map(&mut self, open: usize) -> PResult<Expr> {
        let mut entries: Vec<(String, Span, Expr)> = Vec::new();
        let close = loop {
            if *self.peek_tok() == Tok::RBrace {
                break self.bump();
            }
            let key_token = self.bump();
            let (key, key_span) = match key_token.tok {
                Tok::Ident(name) => (name, self.span(key_token.start, key_token.end)),
                Tok::Quote => {
                    let (parts, span) = self.parse_string(key_token.start)?;
                    (literal_key(parts, span)?, span)
                }
                _ => {
                    return Err(
                        self.unexpected_token(&key_token, "a map key (a name or a quoted string)")
                    );
                }
            };
            if !matches!(self.peek_tok(), Tok::Assign | Tok::Colon) {
                return Err(self.unexpected(&format!("`=` or `:` after the map key `{key}`")));
            }
            self.bump();
            let value = self.parse_expr()?;
            if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == key) {
                return Err(
                    Diagnostic::error(SYNTAX, format!("duplicate map key `{key}`"))
                        .with_label(key_span, "this key is already set")
                        .with_label(*first, "first set here"),
                );
            }
            entries.push((key, key_span, value));
            let next = self.peek().clone();
            match next.tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {}
                _ if next.newline_before => {}
                _ => {
                    return Err(
                        self.unexpected_token(&next, "`,`, a newline or `}` after the map entry")
                    );
                }
            }
        };
        Ok(Expr {
            kind: ExprKind::Map(entries),
            span: self.span(open, close.end),
        })
    }

    /// Reads a quoted string whose opening `"` is at `open`; `self.pos` is just after it.
    fn parse_string(&mut self, open: usize) -> PResult<(Vec<TemplatePart>, Span)> {
        self.peeked = None;
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut i = self.pos;
        loop {
            let unterminated_string = || {
                Diagnostic::error(SYNTAX, "unterminated string")
                    .with_label(self.span(open, open + 1), "this string is never closed")
                    .with_help("add a closing `\"`")
            };
            let Some(rest) = self.src.get(i..self.end).filter(|r| !r.is_empty()) else {
                return Err(unterminated_string());
            };
            let ch = rest.chars().next().expect("rest is non-empty");
            if ch == '"' {
                i += 1;
                break;
            } else if ch == '\\' {
                let Some(escaped) = rest[1..].chars().next() else {
                    return Err(unterminated_string());
                };
                match escaped {
                    'n' => lit.push('\n'),
                    't' => lit.push('\t'),
                    'r' => lit.push('\r'),
                    '"' => lit.push('"'),
                    '\\' => lit.push('\\'),
                    other => {
                        let span = self.span(i, i + 1 + other.len_utf8());
                        return Err(Diagnostic::error(
                            SYNTAX,
                            format!("unknown escape sequence `\\{}`", other.escape_debug()),
                        )
                        .with_label(span, "not a valid escape")
                        .with_help("valid escapes are \\\" \\\\ \\n \\r \\t; write `$${` for a literal `${`"));
                    }
                }
                i += 1 + escaped.len_utf8();
            } else if rest.starts_with("$${") {
                lit.push_str("${");
                i += 3;
            } else if rest.starts_with("${") {
                let close = find_interp_end(self.src, i + 2, self.end)
                    .map_err(|why| unterminated(self.span(i, i + 2), why))?;
                if !lit.is_empty() {
                    parts.push(TemplatePart::Lit(mem::take(&mut lit)));
                }
                let expr = self.parse_segment(i + 2, close)?;
                parts.push(TemplatePart::Interp(expr));
                i = close + 1;
            } else {
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
        if !lit.is_empty() {
            parts.push(TemplatePart::Lit(lit));
        }
        self.pos = i;
        self.peeked = None;
        Ok((parts, self.span(open, i)))
    }
}

fn literal_key(parts: Vec<TemplatePart>, span: Span) -> PResult<String> {
    let mut key = String::new();
    for part in parts {
        match part {
            TemplatePart::Lit(s) => key.push_str(&s),
            TemplatePart::Interp(_) => {
                return Err(Diagnostic::error(SYNTAX, "a map key cannot contain `${`")
                    .with_label(span, "this key is interpolated")
                    .with_help("map keys must be names or plain quoted strings"));
            }
        }
    }
    Ok(key)
}

fn binary_op(tok: &Tok) -> Option<BinaryOp> {
    Some(match tok {
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        Tok::Percent => BinaryOp::Mod,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Lt => BinaryOp::Lt,
        Tok::Le => BinaryOp::Le,
        Tok::Gt => BinaryOp::Gt,
        Tok::Ge => BinaryOp::Ge,
        Tok::EqEq => BinaryOp::Eq,
        Tok::Ne => BinaryOp::Ne,
        Tok::AndAnd => BinaryOp::And,
        Tok::OrOr => BinaryOp::Or,
        _ => return None,
    })
}

fn step_span(step: &Step) -> Span {
    match step {
        Step::Attr { span, .. } | Step::Index { span, .. } | Step::Splat { span } => *span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::expr::eval_template;
    use crate::spec::expr::test_support::{TestScope, origin, parse, parse_err};

    /// S-expression form of an expression, so precedence tests read like the tree.
    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Null => "null".into(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Float(f) => format!("{f:?}"),
            ExprKind::Template(parts) => format!("(str {})", show_parts(parts)),
            ExprKind::List(items) => {
                format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(" "))
            }
            ExprKind::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, _, v)| format!("{k}={}", show(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            ExprKind::Traversal(t) => format!("{}{}", t.root, show_steps(&t.steps)),
            ExprKind::Call { name, args, .. } => {
                format!(
                    "({name} {})",
                    args.iter().map(show).collect::<Vec<_>>().join(" ")
                )
            }
            ExprKind::Postfix { base, steps } => {
                format!("(postfix {}{})", show(base), show_steps(steps))
            }
            ExprKind::Unary { op, expr } => format!("({} {})", op.symbol(), show(expr)),
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", op.symbol(), show(lhs), show(rhs))
            }
            ExprKind::Cond {
                cond,
                then,
                otherwise,
            } => {
                format!("(? {} {} {})", show(cond), show(then), show(otherwise))
            }
        }
    }

    fn show_steps(steps: &[Step]) -> String {
        steps
            .iter()
            .map(|s| match s {
                Step::Attr { name, .. } => format!(".{name}"),
                Step::Index { key, .. } => format!("[{}]", show(key)),
                Step::Splat { .. } => "[*]".into(),
            })
            .collect()
    }

    fn show_parts(parts: &[TemplatePart]) -> String {
        parts
            .iter()
            .map(|p| match p {
                TemplatePart::Lit(s) => format!("{s:?}"),
                TemplatePart::Interp(e) => show(e),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn expr(src: &str) -> String {
        match parse(&format!("${{{src}}}")) {
            Template::Single(e) => show(&e),
            other => panic!("{src:?} is not a single expression: {other:?}"),
        }
    }

    fn span_of(d: &Diagnostic) -> (u32, u32) {
        let s = d.primary_span().expect("diagnostic has a label");
        (s.start, s.end)
    }

    #[test]
    fn literal_templates() {
        assert_eq!(parse("hello"), Template::Literal("hello".into()));
        assert_eq!(parse(""), Template::Literal(String::new()));
        assert_eq!(parse("a $${x} b"), Template::Literal("a ${x} b".into()));
        assert_eq!(
            parse("cost $5 and $$ and $"),
            Template::Literal("cost $5 and $$ and $".into())
        );
        assert_eq!(
            parse("{ not: an interpolation }"),
            Template::Literal("{ not: an interpolation }".into())
        );
        assert!(parse("plain").is_literal());
        assert!(!parse("${x}").is_literal());
    }

    #[test]
    fn single_and_parts() {
        assert!(matches!(parse("${var.cidr}"), Template::Single(_)));
        assert!(matches!(parse("${  var.cidr \n }"), Template::Single(_)));
        match parse(" ${x}") {
            Template::Parts(parts) => assert_eq!(show_parts(&parts), "\" \" x"),
            other => panic!("{other:?}"),
        }
        match parse("a-${x}-b${y}") {
            Template::Parts(parts) => assert_eq!(show_parts(&parts), "\"a-\" x \"-b\" y"),
            other => panic!("{other:?}"),
        }
        match parse("${a}${b}") {
            Template::Parts(parts) => assert_eq!(parts.len(), 2),
            other => panic!("{other:?}"),
        }
        match parse("$${a}${b}") {
            Template::Parts(parts) => assert_eq!(show_parts(&parts), "\"${a}\" b"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn traversals_from_the_spec() {
        for (src, shown) in [
            ("var.cidr", "var.cidr"),
            ("each.value", "each.value"),
            ("vpc.main.id", "vpc.main.id"),
            ("subnet.private[*].id", "subnet.private[*].id"),
            ("subnet.private.*.id", "subnet.private[*].id"),
            (
                "subnet.private[\"eu-west-1a\"].id",
                "subnet.private[(str \"eu-west-1a\")].id",
            ),
            (
                "module.platform.cluster_endpoint",
                "module.platform.cluster_endpoint",
            ),
            (
                "env.us-east-1.rds_instance.app.arn",
                "env.us-east-1.rds_instance.app.arn",
            ),
            (
                "env.global.iam_role.eks_node.arn",
                "env.global.iam_role.eks_node.arn",
            ),
            ("var.ingress.eu-west-1", "var.ingress.eu-west-1"),
            ("input.azs[each.index]", "input.azs[each.index]"),
        ] {
            assert_eq!(expr(src), shown, "{src}");
        }
    }

    #[test]
    fn postfix_on_any_primary() {
        assert_eq!(
            expr("split(\",\", x)[0]"),
            "(postfix (split (str \",\") x)[0])"
        );
        assert_eq!(expr("(a)[1]"), "a[1]");
        assert_eq!(expr("(a + b).c"), "(postfix (+ a b).c)");
        assert_eq!(expr("[1, 2][0]"), "(postfix [1 2][0])");
        assert_eq!(expr("f()"), "(f )");
    }

    #[test]
    fn precedence_follows_hcl() {
        for (src, tree) in [
            ("1 + 2 * 3", "(+ 1 (* 2 3))"),
            ("1 * 2 + 3", "(+ (* 1 2) 3)"),
            ("1 - 2 - 3", "(- (- 1 2) 3)"),
            ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
            ("a || b && c", "(|| a (&& b c))"),
            ("a && b || c", "(|| (&& a b) c)"),
            ("!a == b", "(== (! a) b)"),
            ("-x * y", "(* (- x) y)"),
            ("a < b == c >= d", "(== (< a b) (>= c d))"),
            ("a + 1 > b % 2", "(> (+ a 1) (% b 2))"),
            ("a == b != c", "(!= (== a b) c)"),
            ("a ? b : c ? d : e", "(? a b (? c d e))"),
            ("a || b ? 1 + 2 : 3", "(? (|| a b) (+ 1 2) 3)"),
            ("!!a", "(! (! a))"),
            ("- -1", "(- (- 1))"),
            ("a-b", "a-b"),
            ("a - b", "(- a b)"),
            ("a -b", "(- a b)"),
            ("1.5 / 2", "(/ 1.5 2)"),
        ] {
            assert_eq!(expr(src), tree, "{src}");
        }
    }

    #[test]
    fn literals() {
        assert_eq!(expr("42"), "42");
        assert_eq!(expr("2.5e1"), "25.0");
        assert_eq!(expr("true"), "true");
        assert_eq!(expr("null"), "null");
        assert_eq!(expr("[1, 2, 3,]"), "[1 2 3]");
        assert_eq!(expr("[]"), "[]");
        assert_eq!(expr("{ a = 1, \"b c\" = 2 }"), "{a=1 b c=2}");
        assert_eq!(expr("{ a: 1, b: [x] }"), "{a=1 b=[x]}");
        assert_eq!(expr("{\n  a = 1\n  b = 2\n}"), "{a=1 b=2}");
        assert_eq!(expr("{ a = 1, }"), "{a=1}");
        assert_eq!(expr("{}"), "{}");
        assert_eq!(expr("{ a = c ? 1 : 2 }"), "{a=(? c 1 2)}");
        assert_eq!(expr("{ eu-west-1 = \"x\" }"), "{eu-west-1=(str \"x\")}");
    }

    #[test]
    fn strings_escape_and_nest() {
        assert_eq!(expr(r#""a\"b\\c\nd\te""#), "(str \"a\\\"b\\\\c\\nd\\te\")");
        assert_eq!(expr(r#""x-${var.name}-y""#), "(str \"x-\" var.name \"-y\")");
        assert_eq!(expr(r#""$${lit}""#), "(str \"${lit}\")");
        assert_eq!(expr(r#""${ "${a}" }""#), "(str (str a))");
        assert_eq!(expr(r#""}{""#), "(str \"}{\")");
        assert_eq!(expr(r#""""#), "(str )");
        assert_eq!(expr(r#""é🙂""#), "(str \"é🙂\")");
    }

    #[test]
    fn error_in_segment_points_at_token() {
        let errors = parse_err("a ${ 1 + } b");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "expr::syntax");
        assert_eq!(span_of(&errors[0]), (9, 10));
        assert!(
            errors[0].message.contains("expected an expression"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[0].message.contains("closing `}`"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn unexpected_token_says_what_was_expected() {
        let e = &parse_err("${ a b }")[0];
        assert_eq!(span_of(e), (5, 6));
        assert_eq!(
            e.message,
            "expected an operator or the closing `}`, found `b`"
        );
        let e = &parse_err("${ f(a b) }")[0];
        assert!(
            e.message.contains("`,` or `)` in the arguments of `f`"),
            "{}",
            e.message
        );
        let e = &parse_err("${ [1 2] }")[0];
        assert!(e.message.contains("`,` or `]`"), "{}", e.message);
        let e = &parse_err("${ a ? b }")[0];
        assert!(e.message.contains("`:`"), "{}", e.message);
        let e = &parse_err("${ a.0 }")[0];
        assert_eq!(e.help.as_deref(), Some("to index a list, write `[0]`"));
        let e = &parse_err("${ { a 1 } }")[0];
        assert!(
            e.message.contains("`=` or `:` after the map key `a`"),
            "{}",
            e.message
        );
        let e = &parse_err("${ { a = 1 b = 2 } }")[0];
        assert!(e.message.contains("a newline"), "{}", e.message);
        let e = &parse_err("${}")[0];
        assert_eq!(span_of(e), (2, 3));
        let e = &parse_err("${ a & b }")[0];
        assert!(e.message.contains("`&&`"), "{}", e.message);
        assert_eq!(span_of(e), (5, 6));
    }

    #[test]
    fn unterminated_interpolation_points_at_dollar_brace() {
        let errors = parse_err("abc ${ var.x");
        assert_eq!(errors.len(), 1);
        assert_eq!(span_of(&errors[0]), (4, 6));
        assert!(errors[0].message.contains("unterminated `${`"));
        let errors = parse_err("${ \"abc }");
        assert!(
            errors[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("string")),
            "{errors:?}"
        );
    }

    #[test]
    fn reports_every_bad_segment() {
        let errors = parse_err("${ 1 + } and ${ ) } and ${ fine } and ${ nope");
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert_eq!(span_of(&errors[0]), (7, 8));
        assert_eq!(span_of(&errors[1]), (16, 17));
        assert!(errors[2].message.contains("unterminated"));
    }

    #[test]
    fn string_errors() {
        let e = &parse_err(r#"${ "abc\q" }"#)[0];
        assert!(e.message.contains("unknown escape"), "{}", e.message);
        assert_eq!(span_of(e), (7, 9));
        let e = &parse_err(r#"${ "a ${ 1 + } b" }"#)[0];
        assert_eq!(span_of(e), (13, 14));
        let e = &parse_err(r#"${ { "k${x}" = 1 } }"#)[0];
        assert!(e.message.contains("map key"), "{}", e.message);
        let e = &parse_err(r#"${ {a = 1, a = 2} }"#)[0];
        assert!(e.message.contains("duplicate map key `a`"), "{}", e.message);
        assert_eq!(e.labels.len(), 2);
    }

    #[test]
    fn spans_are_offset_by_origin() {
        let origin = TextOrigin {
            start: 100,
            ..origin()
        };
        let Template::Single(e) = parse_template("${ var.x + 1 }", &origin).expect("parses") else {
            panic!("expected single");
        };
        assert_eq!((e.span.start, e.span.end), (103, 112));
        let errors = parse_template("a ${ 1 + } b", &origin).expect_err("syntax error");
        assert_eq!(span_of(&errors[0]), (109, 110));
    }

    #[test]
    fn inexact_origin_uses_fallback() {
        let fallback = Span::new(FileId(3), 40, 60);
        let origin = TextOrigin {
            file: FileId(3),
            start: 41,
            exact: false,
            fallback,
            map: None,
        };
        let errors = parse_template("a ${ 1 + } b", &origin).expect_err("syntax error");
        assert_eq!(errors[0].primary_span(), Some(fallback));
        let Template::Single(e) = parse_template("${x.y}", &origin).expect("parses") else {
            panic!("expected single");
        };
        assert_eq!(e.span, fallback);
    }

    #[test]
    fn call_and_traversal_spans() {
        let Template::Single(e) = parse("${ cidrsubnet(var.cidr, 4, 2) }") else {
            panic!("single")
        };
        assert_eq!((e.span.start, e.span.end), (3, 29));
        let ExprKind::Call {
            name_span, args, ..
        } = &e.kind
        else {
            panic!("call")
        };
        assert_eq!((name_span.start, name_span.end), (3, 13));
        assert_eq!((args[0].span.start, args[0].span.end), (14, 22));
        let ExprKind::Traversal(t) = &args[0].kind else {
            panic!("traversal")
        };
        assert_eq!((t.root_span.start, t.root_span.end), (14, 17));
    }

    #[test]
    fn traversals_are_found_everywhere() {
        let t = parse(r#"${a.b} ${f(c.d[e.f])} ${"${g}"} ${h ? [i] : {k = j}} ${(l)[m]}"#);
        let roots: Vec<&str> = t.traversals().iter().map(|t| t.root.as_str()).collect();
        assert_eq!(roots, ["a", "c", "e", "g", "h", "i", "j", "l", "m"]);
        assert!(parse("literal").traversals().is_empty());
    }

    #[test]
    fn nesting_limit_is_an_error_not_a_crash() {
        let deep = |open: &str, close: &str, n: usize| {
            format!("${{{}1{}}}", open.repeat(n), close.repeat(n))
        };
        for src in [
            deep("(", ")", 10_000),
            deep("[", "]", 10_000),
            deep("!", "", 10_000),
            deep("-", "", 10_000),
            deep("f(", ")", 10_000),
            deep("1 + ", "", 10_000),
            deep("a ? b : ", "", 10_000),
            format!("${{a{}}}", "[*]".repeat(10_000)),
            format!("${{a{}}}", ".b".repeat(10_000)),
            format!("${{{}}}", "\"${".repeat(5_000) + &"}\"".repeat(5_000)),
        ] {
            let errors = parse_err(&src);
            assert!(
                errors[0].message.contains("nested too deeply"),
                "{}",
                errors[0].message
            );
        }
        // Well within the limit is fine.
        assert_eq!(expr(&format!("{}1{}", "(".repeat(30), ")".repeat(30))), "1");
        assert!(matches!(
            parse(&format!("${{a{}}}", ".b".repeat(20))),
            Template::Single(_)
        ));
    }

    /// A tiny deterministic generator (xorshift), so the fuzz loop needs no extra crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FRAGMENTS: &[&str] = &[
        "${",
        "}",
        "$${",
        "\"",
        "\\",
        "\\n",
        "(",
        ")",
        "[",
        "]",
        "{",
        "[*]",
        ".",
        ".*",
        "a",
        "var",
        "-",
        "+",
        "1",
        "1.5",
        "0",
        "é",
        "?",
        ":",
        ",",
        "=",
        " ",
        "\n",
        "!",
        "&&",
        "||",
        "==",
        "<",
        ">=",
        "f(",
        "*",
        "%",
        "/",
        "null",
        "true",
        "🙂",
        "'",
        "&",
        "$",
        "cidrsubnet(",
        "var.azs",
        "var.tags",
        "[0]",
        "\"x\"",
        "length(",
        "format(\"%s\", ",
        "1e400",
        "99999999999999999999",
        "\t",
        "#",
    ];

    fn check_no_panic(src: &str) {
        let scope = TestScope::new();
        match parse_template(src, &origin()) {
            Ok(t) => {
                let _ = t.traversals();
                // Evaluation must not panic either, whatever it returns.
                let _ = eval_template(&t, &scope);
            }
            Err(errors) => {
                assert!(!errors.is_empty(), "{src:?}");
                for d in &errors {
                    let span = d.primary_span().expect("syntax errors are labelled");
                    assert!(span.end as usize <= src.len(), "{src:?}: {d:?}");
                    assert!(src.is_char_boundary(span.start as usize), "{src:?}: {d:?}");
                    assert!(src.is_char_boundary(span.end as usize), "{src:?}: {d:?}");
                }
            }
        }
    }

    #[test]
    fn never_panics_on_generated_input() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let len = rng.below(25);
            let src: String = (0..len)
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect();
            check_no_panic(&src);
            check_no_panic(&format!("${{{src}}}"));
        }
    }

    #[test]
    fn never_panics_on_garbled_valid_input() {
        let samples = [
            "${cidrsubnet(var.cidr, 4, 2)}",
            "prefix-${var.name}-${format(\"%s-%d\", var.name, 3)}",
            "${var.enabled ? { a = [1, 2.5, \"x\"] } : null}",
            "${subnet.private[*].id} $${lit} ${\"nested ${var.azs[0]} é\"}",
            "${ {\n a: 1\n b = \"🙂\"\n} }",
        ];
        let mut rng = Rng(42);
        for _ in 0..300 {
            let mut chars: Vec<char> = samples[rng.below(samples.len())].chars().collect();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    1 => chars.insert(at, ['$', '{', '}', '"', '\\', '[', 'é', ' '][rng.below(8)]),
                    _ if at < chars.len() => chars.truncate(at),
                    _ => {}
                }
            }
            check_no_panic(&chars.into_iter().collect::<String>());
        }
    }
}
