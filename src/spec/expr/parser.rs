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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOrigin {
    pub file: FileId,
    /// Byte offset in the file of the template text's first byte.
    pub start: usize,
    /// False if the YAML scalar had escapes or folding, so offsets in the text do not map 1:1 onto
    /// the file; then every span is `fallback`.
    pub exact: bool,
    /// The whole scalar.
    pub fallback: Span,
}

impl TextOrigin {
    fn span(&self, start: usize, end: usize) -> Span {
        if self.exact {
            Span::new(self.file, self.start + start, self.start + end)
        } else {
            self.fallback
        }
    }
}

/// Parses a YAML string scalar. Returns every syntax error found (at least one per bad `${}`
/// segment); never panics.
pub fn parse_template(text: &str, origin: &TextOrigin) -> Result<Template, Vec<Diagnostic>> {
    let mut parser = Parser { src: text, origin, pos: 0, end: text.len(), depth: 0, peeked: None };
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
    let d = Diagnostic::error(SYNTAX, "unterminated `${`: the interpolation has no closing `}`")
        .with_label(span, "this interpolation is never closed");
    match why {
        Unclosed::String => d.with_help("a quoted string inside this interpolation is missing its closing `\"`"),
        Unclosed::Brace => d.with_help("add `}` to end the interpolation, or write `$${` for a literal `${`"),
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
            return Diagnostic::error(SYNTAX, msg.clone()).with_label(span, format!("expected {expected}"));
        }
        Diagnostic::error(SYNTAX, format!("expected {expected}, found {}", self.describe(token)))
            .with_label(span, format!("expected {expected} here"))
    }

    fn expect(&mut self, want: Tok, expected: &str) -> PResult<Token> {
        if *self.peek_tok() == want { Ok(self.bump()) } else { Err(self.unexpected(expected)) }
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
            kind: ExprKind::Cond { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise) },
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
            lhs = Expr { kind: ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span };
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
        Ok(Expr { kind: ExprKind::Unary { op, expr: Box::new(operand) }, span })
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let base = self.parse_primary()?;
        let steps = self.parse_steps()?;
        if steps.is_empty() {
            return Ok(base);
        }
        let span = base.span.to(step_span(steps.last().expect("steps is non-empty")));
        Ok(match base.kind {
            ExprKind::Traversal(mut t) => {
                t.steps.extend(steps);
                Expr { kind: ExprKind::Traversal(t), span }
            }
            kind => Expr { kind: ExprKind::Postfix { base: Box::new(Expr { kind, span: base.span }), steps }, span },
        })
    }

    fn parse_steps(&mut self) -> PResult<Vec<Step>> {
        let mut steps = Vec::new();
        loop {
            match self.peek_tok() {
                Tok::Dot => {
                    let dot = self.bump();
                    let token = self.bump();
                    match token.tok {
                        Tok::Ident(name) => {
                            steps.push(Step::Attr { name, span: self.span(dot.start, token.end) });
                        }
                        Tok::Star => steps.push(Step::Splat { span: self.span(dot.start, token.end) }),
                        Tok::Int(i) => {
                            return Err(self
                                .unexpected_token(&token, "an attribute name after `.`")
                                .with_help(format!("to index a list, write `[{i}]`")));
                        }
                        _ => return Err(self.unexpected_token(&token, "an attribute name after `.`")),
                    }
                }
                Tok::LBracket => {
                    let open = self.bump();
                    if *self.peek_tok() == Tok::Star {
                        self.bump();
                        let close = self.expect(Tok::RBracket, "`]` after `[*`")?;
                        steps.push(Step::Splat { span: self.span(open.start, close.end) });
                    } else {
                        let key = self.parse_expr()?;
                        let close = self.expect(Tok::RBracket, "`]` to close the index")?;
                        steps.push(Step::Index { key, span: self.span(open.start, close.end) });
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
                _ if *self.peek_tok() == Tok::LParen => return self.parse_call(name, &token),
                _ => ExprKind::Traversal(Traversal { root: name, root_span: span, steps: Vec::new() }),
            },
            Tok::Quote => {
                let (parts, span) = self.parse_string(token.start)?;
                return Ok(Expr { kind: ExprKind::Template(parts), span });
            }
            Tok::LParen => {
                let inner = self.parse_expr()?;
                let close = self.expect(Tok::RParen, "`)` to close the parenthesis")?;
                return Ok(Expr { kind: inner.kind, span: self.span(token.start, close.end) });
            }
            Tok::LBracket => return self.parse_list(token.start),
            Tok::LBrace => return self.parse_map(token.start),
            _ => return Err(self.unexpected_token(&token, "an expression")),
        };
        Ok(Expr { kind, span })
    }

    fn parse_call(&mut self, name: String, name_token: &Token) -> PResult<Expr> {
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
                _ => return Err(self.unexpected(&format!("`,` or `)` in the arguments of `{name}`"))),
            }
        };
        let name_span = self.span(name_token.start, name_token.end);
        let span = self.span(name_token.start, close.end);
        Ok(Expr { kind: ExprKind::Call { name, name_span, args }, span })
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
        Ok(Expr { kind: ExprKind::List(items), span: self.span(open, close.end) })
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
                _ => return Err(self.unexpected_token(&key_token, "a map key (a name or a quoted string)")),
            };
            if !matches!(self.peek_tok(), Tok::Assign | Tok::Colon) {
                return Err(self.unexpected(&format!("`=` or `:` after the map key `{key}`")));
            }
            self.bump();
            let value = self.parse_expr()?;
            if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == key) {
                return Err(Diagnostic::error(SYNTAX, format!("duplicate map key `{key}`"))
                    .with_label(key_span, "this key is already set")
                    .with_label(*first, "first set here"));
            }
            entries.push((key, key_span, value));
            let next = self.peek().clone();
            match next.tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {}
                _ if next.newline_before => {}
                _ => return Err(self.unexpected_token(&next, "`,`, a newline or `}` after the map entry")),
            }
        };
        Ok(Expr { kind: ExprKind::Map(entries), span: self.span(open, close.end) })
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
