//! Tokens of the expression language, produced on demand.
//!
//! Owns the character-level rules: what an identifier, number or operator looks like, and how far
//! a `${` reaches. The lexer is a pure function of (text, position, end) rather than an iterator,
//! because quoted strings switch the parser into template mode mid-stream and nested `${` segments
//! narrow the end; the parser simply lexes again from wherever it is. It never slices inside a
//! UTF-8 character: delimiters are ASCII, so byte scans cannot match in the middle of one.

/// One token kind; payloads hold the decoded value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    /// An opening `"`: the parser reads the string itself, since it may contain `${`.
    Quote,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    Colon,
    Assign,
    Question,
    Bang,
    Minus,
    Plus,
    Star,
    Slash,
    Percent,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    /// The end of the current segment (the closing `}` of the interpolation, or the text's end).
    Eof,
    /// Something that is not a token; the message says what and, where possible, what was meant.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offsets into the template text.
    pub start: usize,
    pub end: usize,
    /// A newline separates this token from the previous one; map entries may be separated by
    /// newlines instead of commas.
    pub newline_before: bool,
}

impl Tok {
    /// How the token is named in "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> String {
        let s = match self {
            Tok::Ident(name) => return format!("`{name}`"),
            Tok::Int(i) => return format!("number `{i}`"),
            Tok::Float(f) => return format!("number `{f}`"),
            Tok::Quote => "a string",
            Tok::LParen => "`(`",
            Tok::RParen => "`)`",
            Tok::LBracket => "`[`",
            Tok::RBracket => "`]`",
            Tok::LBrace => "`{`",
            Tok::RBrace => "`}`",
            Tok::Comma => "`,`",
            Tok::Dot => "`.`",
            Tok::Colon => "`:`",
            Tok::Assign => "`=`",
            Tok::Question => "`?`",
            Tok::Bang => "`!`",
            Tok::Minus => "`-`",
            Tok::Plus => "`+`",
            Tok::Star => "`*`",
            Tok::Slash => "`/`",
            Tok::Percent => "`%`",
            Tok::Lt => "`<`",
            Tok::Le => "`<=`",
            Tok::Gt => "`>`",
            Tok::Ge => "`>=`",
            Tok::EqEq => "`==`",
            Tok::Ne => "`!=`",
            Tok::AndAnd => "`&&`",
            Tok::OrOr => "`||`",
            Tok::Eof => "the end of the expression",
            Tok::Invalid(_) => "an invalid character",
        };
        s.to_string()
    }
}

/// Lexes one token starting at `pos`, treating `end` as the end of input.
pub(crate) fn lex(src: &str, pos: usize, end: usize) -> Token {
    let end = end.min(src.len());
    let mut pos = pos.min(end);
    let mut newline_before = false;
    let rest = src.get(pos..end).unwrap_or("");
    for ch in rest.chars() {
        if !ch.is_whitespace() {
            break;
        }
        newline_before |= ch == '\n';
        pos += ch.len_utf8();
    }
    let token = |tok, start, end| Token {
        tok,
        start,
        end,
        newline_before,
    };
    let Some(ch) = src.get(pos..end).and_then(|r| r.chars().next()) else {
        return token(Tok::Eof, end, end);
    };
    let next = src
        .get(pos + ch.len_utf8()..end)
        .and_then(|r| r.chars().next());
    let one = |tok| token(tok, pos, pos + 1);
    let two = |tok| token(tok, pos, pos + 2);
    match ch {
        'a'..='z' | 'A'..='Z' | '_' => {
            let len = src[pos..end]
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
                .count();
            token(Tok::Ident(src[pos..pos + len].to_string()), pos, pos + len)
        }
        '0'..='9' => lex_number(src, pos, end, newline_before),
        '"' => one(Tok::Quote),
        '(' => one(Tok::LParen),
        ')' => one(Tok::RParen),
        '[' => one(Tok::LBracket),
        ']' => one(Tok::RBracket),
        '{' => one(Tok::LBrace),
        '}' => one(Tok::RBrace),
        ',' => one(Tok::Comma),
        '.' => one(Tok::Dot),
        ':' => one(Tok::Colon),
        '?' => one(Tok::Question),
        '+' => one(Tok::Plus),
        '-' => one(Tok::Minus),
        '*' => one(Tok::Star),
        '/' => one(Tok::Slash),
        '%' => one(Tok::Percent),
        '=' if next == Some('=') => two(Tok::EqEq),
        '=' => one(Tok::Assign),
        '!' if next == Some('=') => two(Tok::Ne),
        '!' => one(Tok::Bang),
        '<' if next == Some('=') => two(Tok::Le),
        '<' => one(Tok::Lt),
        '>' if next == Some('=') => two(Tok::Ge),
        '>' => one(Tok::Gt),
        '&' if next == Some('&') => two(Tok::AndAnd),
        '|' if next == Some('|') => two(Tok::OrOr),
        '&' => one(Tok::Invalid(
            "unexpected `&`; the logical AND operator is `&&`".into(),
        )),
        '|' => one(Tok::Invalid(
            "unexpected `|`; the logical OR operator is `||`".into(),
        )),
        '\'' => one(Tok::Invalid("strings are quoted with `\"`, not `'`".into())),
        other => token(
            Tok::Invalid(format!("unexpected character `{}`", other.escape_debug())),
            pos,
            pos + other.len_utf8(),
        ),
    }
}

fn lex_number(src: &str, start: usize, end: usize, newline_before: bool) -> Token {
    let bytes = &src.as_bytes()[..end];
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut pos = start + digits(start);
    let mut is_float = false;
    // `1.` followed by a non-digit is an integer and a `.` (e.g. the start of an attribute step
    // on a parenthesised expression); only `1.5` is a fraction.
    if bytes.get(pos) == Some(&b'.') && bytes.get(pos + 1).is_some_and(u8::is_ascii_digit) {
        pos += 1 + digits(pos + 1);
        is_float = true;
    }
    if matches!(bytes.get(pos), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(pos + 1), Some(b'+' | b'-')));
        if bytes.get(pos + 1 + sign).is_some_and(u8::is_ascii_digit) {
            pos += 1 + sign + digits(pos + 1 + sign);
            is_float = true;
        }
    }
    let text = &src[start..pos];
    let tok = if is_float {
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Tok::Float(f),
            _ => Tok::Invalid(format!("number `{text}` is out of range")),
        }
    } else {
        match text.parse::<i64>() {
            Ok(i) => Tok::Int(i),
            Err(_) => Tok::Invalid(format!(
                "integer `{text}` is too large (the limit is {})",
                i64::MAX
            )),
        }
    };
    Token {
        tok,
        start,
        end: pos,
        newline_before,
    }
}

/// Why a `${` has no matching `}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unclosed {
    /// Ran out of text with braces still open.
    Brace,
    /// Ran out of text inside a quoted string, which is the likelier mistake to report.
    String,
}

/// Finds the `}` that closes an interpolation whose contents start at `from`, looking no further
/// than `limit`. It understands quoted strings (a `}` inside `"..."` does not close anything) and
/// nested `${` inside them. The scan uses an explicit stack, so hostile nesting cannot overflow.
pub(crate) fn find_interp_end(src: &str, from: usize, limit: usize) -> Result<usize, Unclosed> {
    enum Mode {
        Expr { braces: usize },
        Str,
    }
    let bytes = &src.as_bytes()[..limit.min(src.len())];
    let mut stack = vec![Mode::Expr { braces: 0 }];
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match stack.last_mut() {
            Some(Mode::Expr { braces }) => match b {
                b'"' => stack.push(Mode::Str),
                b'{' => *braces += 1,
                b'}' if *braces > 0 => *braces -= 1,
                b'}' => {
                    stack.pop();
                    if stack.is_empty() {
                        return Ok(i);
                    }
                }
                _ => {}
            },
            Some(Mode::Str) => match b {
                // Skipping one byte after `\` is safe even before a multi-byte character: its
                // continuation bytes are never ASCII delimiters.
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if bytes[i..].starts_with(b"$${") => i += 2,
                b'$' if bytes[i..].starts_with(b"${") => {
                    i += 1;
                    stack.push(Mode::Expr { braces: 0 });
                }
                _ => {}
            },
            None => break,
        }
        i += 1;
    }
    match stack.last() {
        Some(Mode::Str) => Err(Unclosed::String),
        _ => Err(Unclosed::Brace),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let t = lex(src, pos, src.len());
            if t.tok == Tok::Eof {
                return out;
            }
            assert!(t.end > pos, "lexer made progress at {pos} in {src:?}");
            pos = t.end;
            out.push(t.tok);
        }
    }

    fn ident(s: &str) -> Tok {
        Tok::Ident(s.into())
    }

    #[test]
    fn identifiers_may_contain_dashes() {
        assert_eq!(
            toks("env.us-east-1.rds_instance"),
            vec![
                ident("env"),
                Tok::Dot,
                ident("us-east-1"),
                Tok::Dot,
                ident("rds_instance")
            ]
        );
        assert_eq!(toks("a-b"), vec![ident("a-b")]);
        assert_eq!(toks("a - b"), vec![ident("a"), Tok::Minus, ident("b")]);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("42 1.5 2e3 7.x"),
            vec![
                Tok::Int(42),
                Tok::Float(1.5),
                Tok::Float(2000.0),
                Tok::Int(7),
                Tok::Dot,
                ident("x")
            ]
        );
        assert!(matches!(toks("99999999999999999999")[0], Tok::Invalid(_)));
        assert!(matches!(toks("1e999")[0], Tok::Invalid(_)));
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("<= < >= > == != && || ! = ? :"),
            vec![
                Tok::Le,
                Tok::Lt,
                Tok::Ge,
                Tok::Gt,
                Tok::EqEq,
                Tok::Ne,
                Tok::AndAnd,
                Tok::OrOr,
                Tok::Bang,
                Tok::Assign,
                Tok::Question,
                Tok::Colon
            ]
        );
        assert!(matches!(&toks("&")[0], Tok::Invalid(m) if m.contains("&&")));
        assert!(matches!(&toks("é")[0], Tok::Invalid(m) if m.contains('é')));
    }

    #[test]
    fn newline_flag() {
        let t = lex("a\n b", 1, 4);
        assert!(t.newline_before);
        assert_eq!((t.start, t.end), (3, 4));
        assert!(!lex("a b", 1, 3).newline_before);
    }

    #[test]
    fn respects_end() {
        assert_eq!(lex("abc}", 0, 3).tok, ident("abc"));
        assert_eq!(lex("abc}", 3, 3).tok, Tok::Eof);
    }

    #[test]
    fn interp_end_skips_strings_and_nesting() {
        let src = "${ {a = \"}\"} }";
        assert_eq!(find_interp_end(src, 2, src.len()), Ok(src.len() - 1));
        let src = "${ \"x ${y} \\\" }\" } tail";
        assert_eq!(find_interp_end(src, 2, src.len()), Ok(17));
        assert_eq!(find_interp_end("${ a", 2, 4), Err(Unclosed::Brace));
        assert_eq!(find_interp_end("${ \"a }", 2, 7), Err(Unclosed::String));
        assert_eq!(find_interp_end("${ a } }", 2, 5), Err(Unclosed::Brace));
    }
}
