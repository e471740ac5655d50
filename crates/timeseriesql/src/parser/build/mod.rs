//! pest pairs → AST, plus the semantic checks InfluxDB performs while parsing.
//!
//! Why it exists: the grammar only describes shape; InfluxDB's parser also rejects
//! `fill(foo)`, unknown `tz()` zones, `ORDER BY host`, bad durations, out-of-range
//! integers, invalid regexes, aggregate CQs without `GROUP BY time(...)`, qualified
//! `DROP SERIES` sources, ... with specific messages. Each `build_*`/statement function
//! below corresponds to a grammar rule of the same name.

use super::errors::{at, line_char, unexpected};
use super::lexer;
use super::{Bindings, ParamValue, ParseError, Rule};
use super::{MAX_EXPR_DEPTH, MAX_SUBQUERY_DEPTH};
use crate::ast::*;
use hyperbyte_domain::time::parse_duration;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::borrow::Cow;
use std::cell::Cell;

type R<T> = Result<T, ParseError>;

/// Clauses shared by the SHOW statements (and collected generically).
#[derive(Default)]
struct Clauses {
    database: Option<String>,
    sources: Vec<Measurement>,
    condition: Option<Expr>,
    dimensions: Vec<Expr>,
    sort_fields: Vec<SortField>,
    limit: Option<u64>,
    offset: Option<u64>,
    slimit: Option<u64>,
    soffset: Option<u64>,
    exact: bool,
    key: Option<TagKeyFilter>,
    with_measurement: Option<Measurement>,
}

/// Converts pest pairs into AST nodes for one input text.
pub(crate) struct Builder<'a> {
    input: &'a str,
    bindings: &'a Bindings,
    pratt: PrattParser<Rule>,
    /// Subqueries currently being built around the current position.
    subquery_depth: Cell<usize>,
}

/// An expression and the depth of its tree ([`Expr::depth`]), computed while building so
/// that a tree deeper than [`MAX_EXPR_DEPTH`] is refused before it exists (dropping such a
/// tree would itself recurse once per level).
type Deep = (Expr, usize);

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn unescape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('/') => out.push('/'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A bound regex in the form a regex literal can spell: `\/` becomes `/` and a raw newline
/// becomes `\n` (the same pattern for the regex engine), so that the bound pattern prints
/// as `/.../` and parses back to itself (stored continuous queries are re-parsed).
fn canonical_bound_regex(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('/') => out.push('/'),
                Some('\n') => out.push_str("\\n"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The span `[start, end)` (in chars of the pattern) that `regex` marks with carets.
fn caret_span(text: &str) -> Option<(usize, usize)> {
    let mut lines = text.lines().skip(1);
    let _pattern_line = lines.next()?;
    let carets = lines.next()?;
    let body = carets.strip_prefix("    ")?;
    let start = body.find('^')?;
    let end = body.rfind('^')? + 1;
    Some((start, end))
}

/// Go's RE2 refuses a repetition operator applied to a repetition (`a**`, `a+*`, `a{2}+`);
/// Rust's `regex` accepts them. Returns the offending text as Go prints it (from the first
/// operator through the second, lazy `?` included).
fn nested_repetition(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let op_len = |i: usize| -> Option<usize> {
        match chars.get(i)? {
            '*' | '+' | '?' => Some(1),
            '{' => {
                let len = chars[i..].iter().position(|&x| x == '}')?;
                let inner = &chars[i + 1..i + len];
                let ok = !inner.is_empty()
                    && inner[0].is_ascii_digit()
                    && inner.iter().all(|x| x.is_ascii_digit() || *x == ',');
                ok.then_some(len + 1)
            }
            _ => None,
        }
    };
    let mut i = 0;
    let mut prev_start: Option<usize> = None;
    while i < chars.len() {
        if let Some(len) = op_len(i) {
            let mut end = i + len;
            if chars.get(end) == Some(&'?') {
                end += 1;
            }
            if let Some(start) = prev_start {
                return Some(chars[start..end].iter().collect());
            }
            prev_start = Some(i);
            i = end;
            continue;
        }
        prev_start = None;
        match chars[i] {
            '\\' => i += 2,
            '[' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'^') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Go-style (`regexp/syntax`) message for an invalid regex.
fn regex_error_message(pattern: &str, err: &regex::Error) -> String {
    let text = err.to_string();
    let chars: Vec<char> = pattern.chars().collect();
    let (start, end) = caret_span(&text).unwrap_or((0, chars.len()));
    let slice = |a: usize, b: usize| -> String {
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect()
    };
    let rest = slice(start, chars.len());
    let marked = slice(start, end);
    let (code, frag) = if text.contains("unclosed group") {
        ("missing closing )", pattern.to_string())
    } else if text.contains("unopened group") {
        ("unexpected )", pattern.to_string())
    } else if text.contains("unclosed character class") {
        ("missing closing ]", rest)
    } else if text.contains("repetition operator missing expression") {
        let prev = start.checked_sub(1).and_then(|i| chars.get(i)).copied();
        if matches!(prev, Some('*' | '+' | '?' | '}')) {
            ("invalid nested repetition operator", slice(start - 1, end))
        } else {
            ("missing argument to repetition operator", marked)
        }
    } else if text.contains("group name") {
        let from = pattern[..]
            .rfind("(?P<")
            .or_else(|| pattern.rfind("(?<"))
            .unwrap_or(0);
        ("invalid named capture", pattern[from..].to_string())
    } else if text.contains("incomplete escape") {
        ("trailing backslash at end of expression", String::new())
    } else if text.contains("escape") {
        ("invalid escape sequence", marked)
    } else if text.contains("class range") {
        ("invalid character class range", marked)
    } else if text.contains("repetition") && text.contains("range") {
        ("invalid repeat count", marked)
    } else {
        ("invalid or unsupported Perl syntax", marked)
    };
    format!("error parsing regexp: {code}: `{frag}`")
}

fn binary_op(r: Rule) -> BinaryOp {
    match r {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_neq => BinaryOp::NotEq,
        Rule::op_eqre => BinaryOp::EqRegex,
        Rule::op_nre => BinaryOp::NotEqRegex,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_lte => BinaryOp::LtEq,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_gte => BinaryOp::GtEq,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_bitor => BinaryOp::BitOr,
        Rule::op_bitxor => BinaryOp::BitXor,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_mod => BinaryOp::Mod,
        _ => BinaryOp::BitAnd,
    }
}

/// Go-style `QuoteIdent(segments...)` used in "too many segments" errors.
fn quote_segments(segs: &[String]) -> String {
    let n = segs.len();
    segs.iter()
        .enumerate()
        .map(|(i, s)| {
            let need = crate::ast::display::ident_needs_quotes(s) && !s.is_empty()
                || (i < n - 1 && !s.is_empty())
                || ((i == 0 || i == n - 1) && s.is_empty());
            if need {
                let mut q = String::from("\"");
                for c in s.chars() {
                    match c {
                        '\n' => q.push_str("\\n"),
                        '\\' => q.push_str("\\\\"),
                        '"' => q.push_str("\\\""),
                        c => q.push(c),
                    }
                }
                q.push('"');
                q
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

impl<'a> Builder<'a> {
    /// A builder over `input`; `bindings` holds the bound parameters' placeholders.
    pub(crate) fn new(input: &'a str, bindings: &'a Bindings) -> Self {
        let pratt = PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_neq, Assoc::Left)
                | Op::infix(Rule::op_eqre, Assoc::Left)
                | Op::infix(Rule::op_nre, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_lte, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_gte, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left)
                | Op::infix(Rule::op_sub, Assoc::Left)
                | Op::infix(Rule::op_bitor, Assoc::Left)
                | Op::infix(Rule::op_bitxor, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_mod, Assoc::Left)
                | Op::infix(Rule::op_bitand, Assoc::Left));
        Builder {
            input,
            bindings,
            pratt,
            subquery_depth: Cell::new(0),
        }
    }

    fn pos(&self, p: &Pair<'_, Rule>) -> usize {
        p.as_span().start()
    }

    // ------------------------------------------------------------------ bound parameters

    /// The bound value whose placeholder is exactly the token `p`; an error when a
    /// placeholder was glued to following text into a longer token (`$n.5`, `$dµ`).
    fn bound(&self, p: &Pair<'_, Rule>) -> R<Option<&'a ParamValue>> {
        let span = p.as_span();
        match self.bindings.at.get(&span.start()) {
            None => Ok(None),
            Some(b) if b.len == span.end() - span.start() => Ok(Some(&b.value)),
            Some(_) => Err(at(
                self.input,
                span.start(),
                "bound parameter followed by unexpected text",
            )),
        }
    }

    /// The text of a numeric token: the bound value's when it is a placeholder.
    fn number_text<'p>(&self, p: &Pair<'p, Rule>) -> R<Cow<'p, str>> {
        Ok(match self.bound(p)? {
            Some(ParamValue::Integer(i)) => Cow::Owned(i.to_string()),
            Some(ParamValue::Float(f)) => Cow::Owned(crate::ast::display::format_float(*f)),
            Some(_) => {
                return Err(at(
                    self.input,
                    self.pos(p),
                    "bound parameter of the wrong type",
                ))
            }
            None => Cow::Borrowed(p.as_str()),
        })
    }

    /// `input[start..end]` with every placeholder replaced by its value in InfluxQL
    /// syntax (the text of a statement as the client meant it).
    fn source_text(&self, start: usize, end: usize) -> String {
        let mut marks: Vec<(usize, &super::Binding)> = self
            .bindings
            .at
            .iter()
            .filter(|(&p, b)| p >= start && p + b.len <= end)
            .map(|(&p, b)| (p, b))
            .collect();
        if marks.is_empty() {
            return self.input[start..end].to_string();
        }
        marks.sort_by_key(|m| m.0);
        let mut out = String::new();
        let mut at = start;
        for (p, b) in marks {
            out.push_str(&self.input[at..p]);
            out.push_str(&match &b.value {
                ParamValue::String(s) => quote_string(s),
                ParamValue::Identifier(s) => quote_ident(s),
                ParamValue::Regex(r) => Regex {
                    pattern: canonical_bound_regex(r),
                }
                .to_string(),
                ParamValue::Duration(d) => d.clone(),
                ParamValue::Integer(i) => i.to_string(),
                ParamValue::Float(f) => crate::ast::display::format_float(*f),
                ParamValue::Boolean(v) => v.to_string(),
                ParamValue::Unsupported(_) => String::new(),
            });
            at = p + b.len;
        }
        out.push_str(&self.input[at..end]);
        out
    }

    /// `depth` when it is within [`MAX_EXPR_DEPTH`], else InfluxDB-shaped error at `pos`.
    fn check_depth(&self, depth: usize, pos: usize) -> R<usize> {
        if depth > MAX_EXPR_DEPTH {
            return Err(at(
                self.input,
                pos,
                format!("expression too deep (more than {MAX_EXPR_DEPTH} levels)"),
            ));
        }
        Ok(depth)
    }

    // ------------------------------------------------------------------ query

    /// `query` → [`Query`].
    pub(crate) fn query(&self, mut pairs: Pairs<'_, Rule>) -> R<Query> {
        let mut statements = Vec::new();
        if let Some(q) = pairs.next() {
            for p in q.into_inner() {
                if p.as_rule() == Rule::statement {
                    statements.push(self.statement(p)?);
                }
            }
        }
        Ok(Query { statements })
    }

    fn statement(&self, p: Pair<'_, Rule>) -> R<Statement> {
        let Some(s) = p.into_inner().next() else {
            return Err(ParseError::Message("empty statement".into()));
        };
        let span = self.source_text(s.as_span().start(), s.as_span().end());
        let span = span.as_str();
        let rule = s.as_rule();
        let mut it = s.into_inner();
        it.next(); // leading keyword
        let next = it.next();
        match (rule, next) {
            (Rule::select_stmt, Some(body)) => {
                Ok(Statement::Select(Box::new(self.select_body(body, false)?)))
            }
            (Rule::delete_stmt, Some(body)) => Ok(Statement::Delete(self.delete_body(body)?)),
            (Rule::explain_stmt, Some(first)) => self.explain(first, it),
            (Rule::kill_stmt, Some(_query_kw)) => self.kill(it),
            (Rule::set_stmt, Some(_password_kw)) => self.set_password(it),
            (Rule::grant_stmt, Some(body)) => self.grant_revoke(body, true),
            (Rule::revoke_stmt, Some(body)) => self.grant_revoke(body, false),
            (Rule::alter_stmt, Some(_retention)) => self.alter_rp(it),
            (Rule::create_stmt, Some(body)) => self.create(body, span),
            (Rule::drop_stmt, Some(body)) => self.drop(body),
            (Rule::show_stmt, Some(body)) => self.show(body),
            _ => Err(ParseError::Message("unsupported statement".into())),
        }
    }

    // ------------------------------------------------------------------ lexical

    fn ident(&self, p: Pair<'_, Rule>) -> String {
        if let Some(ParamValue::Identifier(name)) =
            self.bindings.at.get(&self.pos(&p)).map(|b| &b.value)
        {
            return name.clone();
        }
        let inner = match p.as_rule() {
            Rule::ident => p.into_inner().next(),
            _ => Some(p),
        };
        match inner {
            Some(q) if q.as_rule() == Rule::quoted_ident => {
                let s = q.as_str();
                unescape(&s[1..s.len().saturating_sub(1)])
            }
            Some(b) => b.as_str().to_string(),
            None => String::new(),
        }
    }

    fn string_lit(&self, p: Pair<'_, Rule>) -> String {
        if let Some(ParamValue::String(s)) = self.bindings.at.get(&self.pos(&p)).map(|b| &b.value) {
            return s.clone();
        }
        p.into_inner()
            .next()
            .map(|s| unescape(s.as_str()))
            .unwrap_or_default()
    }

    fn regex(&self, p: Pair<'_, Rule>) -> R<Regex> {
        let pos = self.pos(&p);
        if let Some(v) = self.bound(&p)? {
            let ParamValue::Regex(raw) = v else {
                return Err(at(self.input, pos, "bound parameter of the wrong type"));
            };
            // InfluxDB reports a bound regex at the parameter's own position.
            return self.checked_regex(canonical_bound_regex(raw), pos, 0);
        }
        let mut raw = "";
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::regex_inner => raw = part.as_str(),
                _ => {
                    let (line, char) = line_char(self.input, pos);
                    return Err(ParseError::At {
                        message: "bad regex: ".into(),
                        line,
                        char: char.saturating_sub(1).max(1),
                    });
                }
            }
        }
        // InfluxDB reports a regex literal one character before its opening `/`.
        self.checked_regex(unescape_regex(raw), pos, 1)
    }

    /// `pattern` if Go's RE2 would compile it, else its error at `pos` moved `back` chars.
    fn checked_regex(&self, pattern: String, pos: usize, back: usize) -> R<Regex> {
        let err = |message: String| {
            let (line, char) = line_char(self.input, pos);
            ParseError::At {
                message,
                line,
                char: char.saturating_sub(back).max(1),
            }
        };
        if let Some(op) = nested_repetition(&pattern) {
            return Err(err(format!(
                "error parsing regexp: invalid nested repetition operator: `{op}`"
            )));
        }
        if let Err(e) = regex::Regex::new(&pattern) {
            return Err(err(regex_error_message(&pattern, &e)));
        }
        Ok(Regex { pattern })
    }

    fn duration_lit(&self, p: &Pair<'_, Rule>, positioned: bool) -> R<i64> {
        if let Some(v) = self.bound(p)? {
            let ParamValue::Duration(text) = v else {
                return Err(at(
                    self.input,
                    self.pos(p),
                    "bound parameter of the wrong type",
                ));
            };
            return super::parse_bound_duration(text).map_err(|e| match e {
                ParseError::Message(m) if positioned => at(self.input, self.pos(p), m),
                e => e,
            });
        }
        parse_duration(p.as_str()).map_err(|_| {
            if positioned {
                at(self.input, self.pos(p), "invalid duration")
            } else {
                ParseError::Message("invalid duration".into())
            }
        })
    }

    /// `duration_value` (`duration` or `INF`).
    fn duration_value(&self, p: Pair<'_, Rule>) -> R<i64> {
        match p.into_inner().next() {
            Some(d) if d.as_rule() == Rule::duration => self.duration_lit(&d, true),
            _ => Ok(0),
        }
    }

    fn uint(&self, p: &Pair<'_, Rule>) -> R<u64> {
        let text = self.number_text(p)?;
        text.parse::<u64>().map_err(|_| {
            at(
                self.input,
                self.pos(p),
                format!("strconv.ParseUint: parsing \"{text}\": value out of range"),
            )
        })
    }

    /// `LIMIT`-style integer: InfluxDB treats 0 as "not set".
    fn limit_value(&self, p: Pair<'_, Rule>) -> R<Option<u64>> {
        let mut it = p.into_inner();
        let keyword = it.next().map(|k| k.as_str().to_ascii_uppercase());
        let Some(n) = it.next() else {
            return Ok(None);
        };
        let v = self
            .number_text(&n)?
            .parse::<i64>()
            .map_err(|_| at(self.input, self.pos(&n), "unable to parse integer"))?;
        if v < 0 {
            // Only a bound parameter can be negative here.
            let keyword = keyword.unwrap_or_default();
            return Err(at(
                self.input,
                self.pos(&n),
                format!("{keyword} must be >= 0"),
            ));
        }
        Ok((v > 0).then_some(v as u64))
    }

    /// Replication factor: `1 <= n <= 2147483647`.
    fn replication(&self, p: Pair<'_, Rule>) -> R<u32> {
        let pos = self.pos(&p);
        let text = self.number_text(&p)?;
        match text.parse::<i64>() {
            Ok(n) if (1..=i64::from(i32::MAX)).contains(&n) => Ok(n as u32),
            Ok(n) => Err(at(
                self.input,
                pos,
                format!("invalid value {n}: must be 1 <= n <= 2147483647"),
            )),
            Err(_) => Err(at(
                self.input,
                pos,
                format!("strconv.Atoi: parsing \"{text}\": value out of range"),
            )),
        }
    }

    // ------------------------------------------------------------------ expressions

    fn expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        self.expr_deep(p).map(|(e, _)| e)
    }

    /// An expression and its depth. The chain is folded by the Pratt parser without
    /// recursion; each new node's depth is checked against [`MAX_EXPR_DEPTH`].
    fn expr_deep(&self, p: Pair<'_, Rule>) -> R<Deep> {
        let ops = p
            .clone()
            .into_inner()
            .filter(|x| !matches!(x.as_rule(), Rule::operand | Rule::regex_rhs))
            .count();
        if ops > super::MAX_OPERATORS {
            return Err(at(
                self.input,
                self.pos(&p),
                format!(
                    "expression too long (more than {} operators)",
                    super::MAX_OPERATORS
                ),
            ));
        }
        self.pratt
            .map_primary(|prim| match prim.as_rule() {
                Rule::operand => self.operand(prim),
                Rule::regex_rhs => match prim.into_inner().next() {
                    Some(r) if r.as_rule() == Rule::regex => Ok((Expr::Regex(self.regex(r)?), 1)),
                    Some(b) => self.bound_param(b.as_str()),
                    None => Err(ParseError::Message("empty regex".into())),
                },
                _ => Err(ParseError::Message("unexpected expression".into())),
            })
            .map_infix(|lhs, op, rhs| {
                let ((l, dl), (r, dr)) = (lhs?, rhs?);
                let depth = self.check_depth(1 + dl.max(dr), self.pos(&op))?;
                Ok((Expr::binary(binary_op(op.as_rule()), l, r), depth))
            })
            .parse(p.into_inner())
    }

    fn bound_param(&self, text: &str) -> R<Deep> {
        let name = text.trim_start_matches('$');
        if name.is_empty() {
            return Err(ParseError::Message("empty bound parameter".into()));
        }
        match self.bindings.unsupported.get(name) {
            Some(msg) => Err(ParseError::Message(format!("missing parameter: {msg}"))),
            None => Err(ParseError::Message(format!("missing parameter: {name}"))),
        }
    }

    fn integer(&self, p: &Pair<'_, Rule>, negate: bool) -> R<Expr> {
        let s = self.number_text(p)?;
        if let Ok(v) = s.parse::<i64>() {
            if !negate {
                return Ok(Expr::Integer(v));
            }
            // Only a bound parameter can already be negative (`-$n` with `n = i64::MIN`).
            return v
                .checked_neg()
                .map(Expr::Integer)
                .ok_or_else(|| ParseError::Message(format!("constant -({v}) overflows int64")));
        }
        match s.parse::<u64>() {
            Ok(u) if negate && u == 1u64 << 63 => Ok(Expr::Integer(i64::MIN)),
            Ok(u) if negate => Err(ParseError::Message(format!(
                "constant -{u} underflows int64"
            ))),
            Ok(u) => Ok(Expr::Unsigned(u)),
            Err(_) => Err(at(self.input, self.pos(p), "unable to parse integer")),
        }
    }

    fn float(&self, p: &Pair<'_, Rule>) -> R<f64> {
        self.number_text(p)?
            .parse::<f64>()
            .map_err(|_| at(self.input, self.pos(p), "unable to parse number"))
    }

    fn operand(&self, p: Pair<'_, Rule>) -> R<Deep> {
        let Some(inner) = p.into_inner().next() else {
            return Err(ParseError::Message("empty operand".into()));
        };
        self.operand_inner(inner)
    }

    fn operand_inner(&self, inner: Pair<'_, Rule>) -> R<Deep> {
        let leaf = |e: Expr| Ok((e, 1));
        match inner.as_rule() {
            Rule::paren_expr => {
                let pos = self.pos(&inner);
                let e = inner
                    .into_inner()
                    .next()
                    .ok_or_else(|| ParseError::Message("empty parentheses".into()))?;
                let (e, d) = self.expr_deep(e)?;
                Ok((Expr::Paren(Box::new(e)), self.check_depth(d + 1, pos)?))
            }
            Rule::call => self.call(inner),
            Rule::signed => {
                let pos = self.pos(&inner);
                let mut it = inner.into_inner();
                let negate = it.next().is_some_and(|s| s.as_rule() == Rule::op_sub);
                let target = it
                    .next()
                    .and_then(|so| so.into_inner().next())
                    .ok_or_else(|| ParseError::Message("empty operand".into()))?;
                match target.as_rule() {
                    Rule::integer => leaf(self.integer(&target, negate)?),
                    Rule::float => {
                        let v = self.float(&target)?;
                        leaf(Expr::Float(if negate { -v } else { v }))
                    }
                    Rule::duration => {
                        let d = self.duration_lit(&target, false)?;
                        leaf(Expr::Duration(if negate { -d } else { d }))
                    }
                    _ => {
                        let (e, d) = self.operand_inner(target)?;
                        Ok((
                            Expr::binary(
                                BinaryOp::Mul,
                                Expr::Integer(if negate { -1 } else { 1 }),
                                e,
                            ),
                            self.check_depth(d + 1, pos)?,
                        ))
                    }
                }
            }
            Rule::distinct_expr => {
                let name = inner.into_inner().next().map(|i| self.ident(i));
                Ok((
                    Expr::call("distinct", vec![Expr::var(&name.unwrap_or_default())]),
                    2,
                ))
            }
            Rule::wildcard => {
                let t = inner.into_inner().next().map(|t| {
                    if t.as_str().eq_ignore_ascii_case("tag") {
                        WildcardType::Tag
                    } else {
                        WildcardType::Field
                    }
                });
                leaf(Expr::Wildcard(t))
            }
            Rule::string => leaf(Expr::String(self.string_lit(inner))),
            Rule::duration => leaf(Expr::Duration(self.duration_lit(&inner, false)?)),
            Rule::float => leaf(Expr::Float(self.float(&inner)?)),
            Rule::integer => leaf(self.integer(&inner, false)?),
            Rule::boolean => leaf(Expr::Boolean(inner.as_str().eq_ignore_ascii_case("true"))),
            Rule::bound_param => self.bound_param(inner.as_str()),
            Rule::var_ref => leaf(self.var_ref(inner)?),
            _ => Err(ParseError::Message("unexpected operand".into())),
        }
    }

    fn call(&self, p: Pair<'_, Rule>) -> R<Deep> {
        let pos = self.pos(&p);
        let mut it = p.into_inner();
        let name = match it.next().and_then(|n| n.into_inner().next()) {
            Some(n) if n.as_rule() == Rule::distinct_name => "distinct".to_string(),
            Some(n) => self.ident(n),
            None => String::new(),
        };
        let mut args = Vec::new();
        let mut deepest = 0;
        if let Some(a) = it.next() {
            for arg in a.into_inner() {
                if arg.as_rule() == Rule::call_arg {
                    let (e, d) = self.regex_or_expr_deep(arg)?;
                    deepest = deepest.max(d);
                    args.push(e);
                }
            }
        }
        let depth = self.check_depth(deepest + 1, pos)?;
        Ok((
            Expr::Call {
                name: name.to_ascii_lowercase(),
                args,
            },
            depth,
        ))
    }

    /// `call_arg`, `dimension`: a regex or an expression.
    fn regex_or_expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        self.regex_or_expr_deep(p).map(|(e, _)| e)
    }

    fn regex_or_expr_deep(&self, p: Pair<'_, Rule>) -> R<Deep> {
        match p.into_inner().next() {
            Some(r) if r.as_rule() == Rule::regex => Ok((Expr::Regex(self.regex(r)?), 1)),
            Some(e) => self.expr_deep(e),
            None => Err(ParseError::Message("empty expression".into())),
        }
    }

    fn var_ref(&self, p: Pair<'_, Rule>) -> R<Expr> {
        let mut name = String::new();
        let mut data_type = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::segments => {
                    let segs: Vec<String> = part
                        .into_inner()
                        .map(|s| {
                            if s.as_rule() == Rule::empty_seg {
                                String::new()
                            } else {
                                self.ident(s)
                            }
                        })
                        .collect();
                    if segs.len() > 3 {
                        return Err(self.too_many_segments(&segs));
                    }
                    name = segs.join(".");
                }
                Rule::cast_type => {
                    data_type = Some(match part.as_str().to_ascii_lowercase().as_str() {
                        "float" => VarType::Float,
                        "integer" => VarType::Integer,
                        "unsigned" => VarType::Unsigned,
                        "string" => VarType::String,
                        "boolean" => VarType::Boolean,
                        "tag" => VarType::Tag,
                        _ => VarType::Field,
                    })
                }
                _ => {}
            }
        }
        Ok(Expr::VarRef { name, data_type })
    }

    fn too_many_segments(&self, segs: &[String]) -> ParseError {
        ParseError::At {
            message: format!("too many segments in {}", quote_segments(segs)),
            line: 1,
            char: 1,
        }
    }

    // ------------------------------------------------------------------ SELECT

    fn field(&self, p: Pair<'_, Rule>) -> R<Field> {
        let mut expr = None;
        let mut alias = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::regex => expr = Some(Expr::Regex(self.regex(part)?)),
                Rule::expr => {
                    let start = self.pos(&part);
                    let e = self.expr(part)?;
                    let mut bad = None;
                    e.walk(&mut |n| {
                        if let Expr::Binary { op, .. } = n {
                            if bad.is_none() && op.is_boolean() {
                                bad = Some(*op);
                            }
                        }
                    });
                    if let Some(op) = bad {
                        let (line, char) = line_char(self.input, start);
                        return Err(ParseError::Message(format!(
                            "invalid operator {op} in SELECT clause at line {line}, char {char}; \
                             operator is intended for WHERE clause"
                        )));
                    }
                    expr = Some(e);
                }
                Rule::alias => alias = part.into_inner().nth(1).map(|i| self.ident(i)),
                _ => {}
            }
        }
        Ok(Field {
            expr: expr.ok_or_else(|| ParseError::Message("empty field".into()))?,
            alias,
        })
    }

    /// Splits `measurement`-like segments into (db, rp, name-or-regex).
    fn measurement(&self, p: Pair<'_, Rule>) -> R<Measurement> {
        let mut segs: Vec<String> = Vec::new();
        let mut regex = None;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::empty_seg => segs.push(String::new()),
                Rule::regex => regex = Some(self.regex(part)?),
                _ => segs.push(self.ident(part)),
            }
        }
        let total = segs.len() + usize::from(regex.is_some());
        if total > 3 {
            return Err(self.too_many_segments(&segs));
        }
        let mut segs = segs.into_iter();
        let (database, retention_policy, name) = match regex {
            Some(re) => {
                let (db, rp) = match (segs.next(), segs.next()) {
                    (Some(a), Some(b)) => (non_empty(a), non_empty(b)),
                    (Some(a), None) => (None, non_empty(a)),
                    _ => (None, None),
                };
                (db, rp, MeasurementName::Regex(re))
            }
            None => {
                let v: Vec<String> = segs.collect();
                match v.len() {
                    3 => (
                        non_empty(v[0].clone()),
                        non_empty(v[1].clone()),
                        MeasurementName::Name(v[2].clone()),
                    ),
                    2 => (
                        None,
                        non_empty(v[0].clone()),
                        MeasurementName::Name(v[1].clone()),
                    ),
                    _ => (
                        None,
                        None,
                        MeasurementName::Name(v.first().cloned().unwrap_or_default()),
                    ),
                }
            }
        };
        Ok(Measurement {
            database,
            retention_policy,
            name,
        })
    }

    fn source_nosub(&self, p: Pair<'_, Rule>) -> R<Measurement> {
        match p.into_inner().next() {
            Some(r) if r.as_rule() == Rule::regex => Ok(Measurement {
                database: None,
                retention_policy: None,
                name: MeasurementName::Regex(self.regex(r)?),
            }),
            Some(m) => self.measurement(m),
            None => Err(ParseError::Message("empty source".into())),
        }
    }

    fn sources_nosub(&self, p: Pair<'_, Rule>) -> R<Vec<Measurement>> {
        p.into_inner()
            .filter(|s| s.as_rule() == Rule::source_nosub)
            .map(|s| self.source_nosub(s))
            .collect()
    }

    fn sources(&self, p: Pair<'_, Rule>) -> R<Vec<Source>> {
        let mut out = Vec::new();
        for s in p.into_inner().filter(|s| s.as_rule() == Rule::source) {
            let Some(inner) = s.into_inner().next() else {
                continue;
            };
            out.push(match inner.as_rule() {
                Rule::regex => Source::Measurement(Measurement {
                    database: None,
                    retention_policy: None,
                    name: MeasurementName::Regex(self.regex(inner)?),
                }),
                Rule::subquery => {
                    let depth = self.subquery_depth.get() + 1;
                    if depth > MAX_SUBQUERY_DEPTH {
                        return Err(at(
                            self.input,
                            self.pos(&inner),
                            format!(
                                "subqueries nested too deep (more than {MAX_SUBQUERY_DEPTH} levels)"
                            ),
                        ));
                    }
                    let body = inner
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::sub_select_body)
                        .ok_or_else(|| ParseError::Message("empty subquery".into()))?;
                    self.subquery_depth.set(depth);
                    let built = self.select_body(body, false);
                    self.subquery_depth.set(depth - 1);
                    Source::Subquery(Box::new(built?))
                }
                _ => Source::Measurement(self.measurement(inner)?),
            });
        }
        Ok(out)
    }

    fn target(&self, p: Pair<'_, Rule>) -> R<Target> {
        let mut segs: Vec<String> = Vec::new();
        let mut backref = false;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::empty_seg => segs.push(String::new()),
                Rule::target_backref => backref = true,
                _ => segs.push(self.ident(part)),
            }
        }
        if segs.len() + usize::from(backref) > 3 {
            return Err(self.too_many_segments(&segs));
        }
        let measurement = if backref { None } else { segs.pop() };
        let (database, retention_policy) = match segs.len() {
            2 => (non_empty(segs[0].clone()), non_empty(segs[1].clone())),
            1 => (None, non_empty(segs[0].clone())),
            _ => (None, None),
        };
        Ok(Target {
            database,
            retention_policy,
            measurement,
        })
    }

    fn dimensions(&self, p: Pair<'_, Rule>) -> R<Vec<Expr>> {
        let mut dims = Vec::new();
        for part in p.into_inner() {
            if part.as_rule() == Rule::dimensions {
                for d in part.into_inner().filter(|d| d.as_rule() == Rule::dimension) {
                    dims.push(self.regex_or_expr(d)?);
                }
            }
        }
        Ok(dims)
    }

    fn sort_fields(&self, p: Pair<'_, Rule>) -> R<Vec<SortField>> {
        let order_err = || ParseError::Message("only ORDER BY time supported at this time".into());
        let mut out = Vec::new();
        let Some(list) = p.into_inner().find(|x| x.as_rule() == Rule::sort_fields) else {
            return Ok(out);
        };
        for (i, item) in list.into_inner().enumerate() {
            let field = match item.as_rule() {
                Rule::sort_first => match item.into_inner().next() {
                    Some(k) if k.as_rule() == Rule::okw_asc => SortField {
                        name: String::new(),
                        ascending: true,
                    },
                    Some(k) if k.as_rule() == Rule::okw_desc => SortField {
                        name: String::new(),
                        ascending: false,
                    },
                    Some(sf) => {
                        let f = self.sort_field(sf);
                        if f.name != "time" {
                            return Err(order_err());
                        }
                        f
                    }
                    None => continue,
                },
                Rule::sort_field => self.sort_field(item),
                _ => continue,
            };
            if i > 0 {
                return Err(order_err());
            }
            out.push(field);
        }
        Ok(out)
    }

    fn sort_field(&self, p: Pair<'_, Rule>) -> SortField {
        let mut name = String::new();
        let mut ascending = true;
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => name = self.ident(part),
                Rule::okw_desc => ascending = false,
                _ => {}
            }
        }
        SortField { name, ascending }
    }

    fn fill(&self, p: Pair<'_, Rule>) -> R<Fill> {
        let Some(e) = p.into_inner().next() else {
            return Ok(Fill::Null);
        };
        let Expr::Call { args, .. } = self.expr(e)? else {
            return Err(ParseError::Message("fill must be a function call".into()));
        };
        if args.len() != 1 {
            return Err(ParseError::Message(
                "fill requires an argument, e.g.: 0, null, none, previous, linear".into(),
            ));
        }
        Ok(match &args[0] {
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "null" => Fill::Null,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "none" => Fill::None,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "previous" => Fill::Previous,
            Expr::VarRef {
                name,
                data_type: None,
            } if name == "linear" => Fill::Linear,
            Expr::Integer(i) => Fill::Integer(*i),
            Expr::Float(f) => Fill::Float(*f),
            _ => {
                return Err(ParseError::Message(
                    "expected number argument in fill()".into(),
                ))
            }
        })
    }

    fn tz(&self, p: Pair<'_, Rule>) -> R<String> {
        let Some(e) = p.into_inner().next() else {
            return Err(ParseError::Message("tz must be a function call".into()));
        };
        let Expr::Call { args, .. } = self.expr(e)? else {
            return Err(ParseError::Message("tz must be a function call".into()));
        };
        if args.len() != 1 {
            return Err(ParseError::Message(
                "tz requires exactly one argument".into(),
            ));
        }
        let Expr::String(name) = &args[0] else {
            return Err(ParseError::Message(
                "expected string argument in tz()".into(),
            ));
        };
        if !super::tz::is_known_time_zone(name) {
            return Err(ParseError::Message(format!(
                "unable to find time zone {name}"
            )));
        }
        Ok(name.clone())
    }

    /// `select_body`, `cq_select_body` and `sub_select_body`.
    fn select_body(&self, p: Pair<'_, Rule>, _cq: bool) -> R<SelectStatement> {
        let mut s = SelectStatement::default();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::fields => {
                    for f in part.into_inner().filter(|f| f.as_rule() == Rule::field) {
                        s.fields.push(self.field(f)?);
                    }
                }
                Rule::into_clause | Rule::cq_into => {
                    if let Some(t) = part.into_inner().find(|t| t.as_rule() == Rule::target) {
                        s.target = Some(self.target(t)?);
                    }
                }
                Rule::sources => s.sources = self.sources(part)?,
                Rule::where_clause => s.condition = self.where_clause(part)?,
                Rule::group_by_clause => s.dimensions = self.dimensions(part)?,
                Rule::fill_clause => s.fill = self.fill(part)?,
                Rule::order_by_clause => s.sort_fields = self.sort_fields(part)?,
                Rule::limit_clause => s.limit = self.limit_value(part)?,
                Rule::offset_clause => s.offset = self.limit_value(part)?,
                Rule::slimit_clause => s.slimit = self.limit_value(part)?,
                Rule::soffset_clause => s.soffset = self.limit_value(part)?,
                Rule::tz_clause => s.timezone = Some(self.tz(part)?),
                _ => {}
            }
        }
        Ok(s)
    }

    fn where_clause(&self, p: Pair<'_, Rule>) -> R<Option<Expr>> {
        match p.into_inner().find(|x| x.as_rule() == Rule::expr) {
            Some(e) => Ok(Some(self.expr(e)?)),
            None => Ok(None),
        }
    }

    /// Generic clause collector for SHOW / DELETE bodies.
    fn clauses(&self, pairs: Pairs<'_, Rule>) -> R<Clauses> {
        let mut c = Clauses::default();
        for part in pairs {
            match part.as_rule() {
                Rule::on_db | Rule::show_meas_on => {
                    c.database = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::ident)
                        .map(|i| self.ident(i));
                }
                Rule::from_sources => {
                    if let Some(s) = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::sources_nosub)
                    {
                        c.sources = self.sources_nosub(s)?;
                    }
                }
                Rule::sources_nosub => c.sources = self.sources_nosub(part)?,
                Rule::where_clause => c.condition = self.where_clause(part)?,
                Rule::group_by_clause => c.dimensions = self.dimensions(part)?,
                Rule::order_by_clause => c.sort_fields = self.sort_fields(part)?,
                Rule::limit_clause => c.limit = self.limit_value(part)?,
                Rule::offset_clause => c.offset = self.limit_value(part)?,
                Rule::slimit_clause => c.slimit = self.limit_value(part)?,
                Rule::soffset_clause => c.soffset = self.limit_value(part)?,
                Rule::exact_card | Rule::okw_exact => c.exact = true,
                Rule::card_choice => {
                    c.exact = part.into_inner().any(|x| x.as_rule() == Rule::exact_card);
                }
                Rule::with_key => {
                    if let Some(k) = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::tag_key_expr)
                    {
                        c.key = Some(self.tag_key_expr(k)?);
                    }
                }
                Rule::with_measurement => {
                    if let Some(s) = part
                        .into_inner()
                        .find(|x| x.as_rule() == Rule::source_nosub)
                    {
                        c.with_measurement = Some(self.source_nosub(s)?);
                    }
                }
                _ => {}
            }
        }
        Ok(c)
    }

    fn tag_key_expr(&self, p: Pair<'_, Rule>) -> R<TagKeyFilter> {
        let Some(k) = p.into_inner().next() else {
            return Err(ParseError::Message("empty WITH KEY".into()));
        };
        let rule = k.as_rule();
        let idents: Vec<String> = k
            .clone()
            .into_inner()
            .filter(|x| x.as_rule() == Rule::ident)
            .map(|i| self.ident(i))
            .collect();
        let re = k
            .into_inner()
            .find(|x| x.as_rule() == Rule::key_regex)
            .and_then(|kr| kr.into_inner().next());
        let first = idents.first().cloned().unwrap_or_default();
        Ok(match rule {
            Rule::key_in => TagKeyFilter::In(idents),
            Rule::key_eq => TagKeyFilter::Eq(first),
            Rule::key_neq => TagKeyFilter::NotEq(first),
            Rule::key_eqre | Rule::key_nre => {
                let r = match re {
                    Some(r) => self.regex(r)?,
                    None => Regex {
                        pattern: String::new(),
                    },
                };
                if rule == Rule::key_eqre {
                    TagKeyFilter::Regex(r)
                } else {
                    TagKeyFilter::NotRegex(r)
                }
            }
            _ => return Err(ParseError::Message("bad WITH KEY".into())),
        })
    }

    // ------------------------------------------------------------------ other statements

    fn delete_body(&self, p: Pair<'_, Rule>) -> R<DeleteStatement> {
        let c = self.clauses(p.into_inner())?;
        let mut err = None;
        for m in &c.sources {
            if m.database.is_some() {
                err = Some("database not supported");
            }
            if m.retention_policy.is_some() {
                err = Some("retention policy not supported");
            }
        }
        if let Some(message) = err {
            return Err(ParseError::At {
                message: message.into(),
                line: 1,
                char: 1,
            });
        }
        Ok(DeleteStatement {
            sources: c.sources,
            condition: c.condition,
        })
    }

    fn explain(&self, first: Pair<'_, Rule>, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut analyze = false;
        let mut statement = None;
        for part in std::iter::once(first).chain(rest) {
            match part.as_rule() {
                Rule::okw_analyze => analyze = true,
                Rule::select_body => statement = Some(self.select_body(part, false)?),
                _ => {}
            }
        }
        Ok(Statement::Explain(ExplainStatement {
            analyze,
            statement: Box::new(
                statement.ok_or_else(|| ParseError::Message("missing SELECT".into()))?,
            ),
        }))
    }

    fn kill(&self, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut query_id = 0;
        let mut host = None;
        for part in rest {
            match part.as_rule() {
                Rule::integer => query_id = self.uint(&part)?,
                Rule::ident => host = Some(self.ident(part)),
                _ => {}
            }
        }
        Ok(Statement::KillQuery { query_id, host })
    }

    fn set_password(&self, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut name = String::new();
        let mut password = String::new();
        for part in rest {
            match part.as_rule() {
                Rule::ident => name = self.ident(part),
                Rule::string => password = self.string_lit(part),
                _ => {}
            }
        }
        Ok(Statement::SetPassword { name, password })
    }

    fn privilege(&self, p: Pair<'_, Rule>) -> Privilege {
        let rule = if p.as_rule() == Rule::privilege {
            p.into_inner().next().map(|x| x.as_rule())
        } else {
            Some(p.as_rule())
        };
        match rule {
            Some(Rule::kw_read) => Privilege::Read,
            Some(Rule::kw_write) => Privilege::Write,
            _ => Privilege::All,
        }
    }

    fn grant_revoke(&self, body: Pair<'_, Rule>, grant: bool) -> R<Statement> {
        let admin = matches!(body.as_rule(), Rule::grant_admin | Rule::revoke_admin);
        let mut privilege = Privilege::All;
        let mut idents = Vec::new();
        for part in body.into_inner() {
            match part.as_rule() {
                Rule::privilege | Rule::priv_all => privilege = self.privilege(part),
                Rule::ident => idents.push(self.ident(part)),
                _ => {}
            }
        }
        let (database, user) = if admin {
            (None, idents.pop().unwrap_or_default())
        } else {
            let user = idents.pop().unwrap_or_default();
            (idents.pop(), user)
        };
        Ok(if grant {
            Statement::Grant {
                privilege,
                database,
                user,
            }
        } else {
            Statement::Revoke {
                privilege,
                database,
                user,
            }
        })
    }

    fn alter_rp(&self, rest: Pairs<'_, Rule>) -> R<Statement> {
        let mut s = AlterRetentionPolicyStatement::default();
        let mut seen: Vec<&'static str> = Vec::new();
        for part in rest {
            match part.as_rule() {
                Rule::rp_name => {
                    s.name = match part.into_inner().next() {
                        Some(i) if i.as_rule() == Rule::ident => self.ident(i),
                        _ => "default".to_string(),
                    }
                }
                Rule::ident => s.database = self.ident(part),
                Rule::alter_opt | Rule::alter_more => {
                    let Some(opt) = part.into_inner().next() else {
                        continue;
                    };
                    let kw_pos = self.pos(&opt);
                    let (name, rule) = match opt.as_rule() {
                        Rule::alter_duration => ("DURATION", Rule::alter_duration),
                        Rule::alter_replication => ("REPLICATION", Rule::alter_replication),
                        Rule::alter_shard => ("SHARD", Rule::alter_shard),
                        _ => ("DEFAULT", Rule::alter_default),
                    };
                    if seen.contains(&name) {
                        return Err(at(
                            self.input,
                            kw_pos,
                            format!("found duplicate {name} option"),
                        ));
                    }
                    seen.push(name);
                    let mut inner = opt.into_inner();
                    match rule {
                        Rule::alter_duration => {
                            if let Some(d) = inner.nth(1) {
                                s.duration = Some(self.duration_value(d)?);
                            }
                        }
                        Rule::alter_replication => {
                            if let Some(n) = inner.nth(1) {
                                s.replication = Some(self.replication(n)?);
                            }
                        }
                        Rule::alter_shard => {
                            if let Some(d) = inner.nth(2) {
                                s.shard_duration = Some(self.shard_duration(d)?);
                            }
                        }
                        _ => s.default = true,
                    }
                }
                _ => {}
            }
        }
        Ok(Statement::AlterRetentionPolicy(s))
    }

    /// `SHARD DURATION` of a retention policy: `INF` is refused.
    fn shard_duration(&self, p: Pair<'_, Rule>) -> R<i64> {
        let pos = self.pos(&p);
        if p.as_str().eq_ignore_ascii_case("inf") {
            return Err(at(
                self.input,
                pos,
                "invalid duration INF for shard duration",
            ));
        }
        self.duration_value(p)
    }

    fn create(&self, body: Pair<'_, Rule>, text: &str) -> R<Statement> {
        let Some(inner) = body.into_inner().next() else {
            return Err(ParseError::Message("empty CREATE".into()));
        };
        match inner.as_rule() {
            Rule::create_database => {
                let mut s = CreateDatabaseStatement::default();
                for part in inner.into_inner() {
                    match part.as_rule() {
                        Rule::ident => s.name = self.ident(part),
                        Rule::db_with_opts => {
                            s.retention_policy_create = true;
                            for opt in part.into_inner() {
                                let rule = opt.as_rule();
                                let mut it = opt.into_inner();
                                match rule {
                                    Rule::db_duration => {
                                        if let Some(d) = it.nth(1) {
                                            s.duration = Some(self.duration_value(d)?);
                                        }
                                    }
                                    Rule::db_replication => {
                                        if let Some(n) = it.nth(1) {
                                            s.replication = Some(self.replication(n)?);
                                        }
                                    }
                                    Rule::db_shard => {
                                        if let Some(d) = it.nth(2) {
                                            let v = self.duration_value(d)?;
                                            s.shard_duration = (v > 0).then_some(v);
                                        }
                                    }
                                    Rule::db_name => {
                                        s.rp_name = it.nth(1).map(|i| self.ident(i));
                                    }
                                    _ => {}
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Ok(Statement::CreateDatabase(s))
            }
            Rule::create_rp => {
                let mut s = CreateRetentionPolicyStatement::default();
                let mut idents = 0;
                let mut after_shard = false;
                for part in inner.into_inner() {
                    match part.as_rule() {
                        Rule::ident => {
                            if idents == 0 {
                                s.name = self.ident(part);
                            } else {
                                s.database = self.ident(part);
                            }
                            idents += 1;
                        }
                        Rule::okw_shard => after_shard = true,
                        Rule::duration_value if after_shard => {
                            s.shard_duration = Some(self.shard_duration(part)?);
                        }
                        Rule::duration_value => s.duration = self.duration_value(part)?,
                        Rule::integer => s.replication = self.replication(part)?,
                        Rule::okw_default => s.default = true,
                        _ => {}
                    }
                }
                Ok(Statement::CreateRetentionPolicy(s))
            }
            Rule::create_user => {
                let mut name = String::new();
                let mut password = String::new();
                let mut admin = false;
                for part in inner.into_inner() {
                    match part.as_rule() {
                        Rule::ident => name = self.ident(part),
                        Rule::string => password = self.string_lit(part),
                        Rule::kw_privileges => admin = true,
                        _ => {}
                    }
                }
                Ok(Statement::CreateUser {
                    name,
                    password,
                    admin,
                })
            }
            Rule::create_cq => self.create_cq(inner, text),
            Rule::create_subscription => {
                let mut idents = Vec::new();
                let mut mode = String::new();
                let mut destinations = Vec::new();
                for part in inner.into_inner() {
                    match part.as_rule() {
                        Rule::ident => idents.push(self.ident(part)),
                        Rule::all_or_any => mode = part.as_str().to_ascii_uppercase(),
                        Rule::string => destinations.push(self.string_lit(part)),
                        _ => {}
                    }
                }
                let mut it = idents.into_iter();
                Ok(Statement::CreateSubscription {
                    name: it.next().unwrap_or_default(),
                    database: it.next().unwrap_or_default(),
                    retention_policy: it.next().unwrap_or_default(),
                    mode,
                    destinations,
                })
            }
            _ => Err(ParseError::Message("unsupported CREATE".into())),
        }
    }

    fn create_cq(&self, p: Pair<'_, Rule>, text: &str) -> R<Statement> {
        let mut idents = Vec::new();
        let mut resample_every = None;
        let mut resample_for = None;
        let mut select_start = None;
        let mut source = None;
        let mut select_text = String::new();
        for part in p.into_inner() {
            match part.as_rule() {
                Rule::ident => idents.push(self.ident(part)),
                Rule::resample => {
                    for r in part.into_inner() {
                        let rule = r.as_rule();
                        let Some(d) = r.into_inner().nth(1) else {
                            continue;
                        };
                        let v = self.duration_lit(&d, true)?;
                        if rule == Rule::resample_every {
                            resample_every = Some(v);
                        } else if rule == Rule::resample_for {
                            resample_for = Some(v);
                        }
                    }
                }
                Rule::kw_select => select_start = Some(self.pos(&part)),
                Rule::cq_select_body => {
                    let end = part.as_span().end();
                    if let Some(start) = select_start {
                        select_text = self.source_text(start, end).trim_end().to_string();
                    }
                    let s = self.select_body(part, true)?;
                    if s.has_calls() && s.group_by_interval().is_none() {
                        let tok = lexer::last_token_before(self.input, end)
                            .unwrap_or_else(|| lexer::scan(self.input, end));
                        return Err(unexpected(self.input, &tok, "GROUP BY time(...)"));
                    }
                    source = Some(s);
                }
                _ => {}
            }
        }
        let source = source.ok_or_else(|| ParseError::Message("missing SELECT".into()))?;
        if let Some(for_d) = resample_for {
            let mut interval = source.group_by_interval().map_or(0, |(i, _)| i);
            if let Some(every) = resample_every {
                interval = interval.max(every);
            }
            if interval > for_d {
                return Err(ParseError::Message(format!(
                    "FOR duration must be >= GROUP BY time duration: must be a minimum of {}, got {}",
                    format_duration(interval),
                    format_duration(for_d)
                )));
            }
        }
        let mut it = idents.into_iter();
        Ok(Statement::CreateContinuousQuery(Box::new(
            CreateContinuousQueryStatement {
                name: it.next().unwrap_or_default(),
                database: it.next().unwrap_or_default(),
                resample_every,
                resample_for,
                source,
                text: text.trim().to_string(),
                select_text,
            },
        )))
    }

    fn drop(&self, body: Pair<'_, Rule>) -> R<Statement> {
        let Some(inner) = body.into_inner().next() else {
            return Err(ParseError::Message("empty DROP".into()));
        };
        let rule = inner.as_rule();
        if rule == Rule::drop_series {
            let b = inner
                .into_inner()
                .find(|x| x.as_rule() == Rule::delete_body)
                .ok_or_else(|| ParseError::Message("empty DROP SERIES".into()))?;
            return Ok(Statement::DropSeries(self.delete_body(b)?));
        }
        if rule == Rule::drop_shard {
            let n = inner
                .into_inner()
                .find(|x| x.as_rule() == Rule::integer)
                .ok_or_else(|| ParseError::Message("missing shard id".into()))?;
            return Ok(Statement::DropShard { id: self.uint(&n)? });
        }
        let idents: Vec<String> = inner
            .into_inner()
            .filter(|x| x.as_rule() == Rule::ident)
            .map(|i| self.ident(i))
            .collect();
        let mut it = idents.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(match rule {
            Rule::drop_cq => Statement::DropContinuousQuery {
                name: next(),
                database: next(),
            },
            Rule::drop_database => Statement::DropDatabase { name: next() },
            Rule::drop_measurement => Statement::DropMeasurement { name: next() },
            Rule::drop_rp => Statement::DropRetentionPolicy {
                name: next(),
                database: next(),
            },
            Rule::drop_subscription => Statement::DropSubscription {
                name: next(),
                database: next(),
                retention_policy: next(),
            },
            _ => Statement::DropUser { name: next() },
        })
    }

    fn show(&self, body: Pair<'_, Rule>) -> R<Statement> {
        let Some(inner) = body.into_inner().next() else {
            return Err(ParseError::Message("empty SHOW".into()));
        };
        let rule = inner.as_rule();
        let module = |p: Pair<'_, Rule>| {
            p.into_inner()
                .find(|x| x.as_rule() == Rule::string)
                .map(|s| self.string_lit(s))
        };
        let cardinality = |kind: CardinalityKind, c: Clauses| {
            Statement::ShowCardinality(ShowCardinalityStatement {
                kind,
                exact: c.exact,
                database: c.database,
                sources: c.sources,
                condition: c.condition,
                dimensions: c.dimensions,
                limit: c.limit,
                offset: c.offset,
            })
        };
        Ok(match rule {
            Rule::show_continuous => Statement::ShowContinuousQueries,
            Rule::show_databases => Statement::ShowDatabases,
            Rule::show_diagnostics => Statement::ShowDiagnostics {
                module: module(inner),
            },
            Rule::show_stats => Statement::ShowStats {
                module: module(inner),
            },
            Rule::show_grants => Statement::ShowGrants {
                user: inner
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::ident)
                    .map(|i| self.ident(i))
                    .unwrap_or_default(),
            },
            Rule::show_queries => Statement::ShowQueries,
            Rule::show_retention => Statement::ShowRetentionPolicies {
                database: inner
                    .into_inner()
                    .find(|x| x.as_rule() == Rule::ident)
                    .map(|i| self.ident(i)),
            },
            Rule::show_shard_groups => Statement::ShowShardGroups,
            Rule::show_shards => Statement::ShowShards,
            Rule::show_subscriptions => Statement::ShowSubscriptions,
            Rule::show_users => Statement::ShowUsers,
            Rule::show_measurement_card => cardinality(
                CardinalityKind::Measurement,
                self.clauses(inner.into_inner())?,
            ),
            Rule::show_measurements => {
                let c = self.clauses(inner.into_inner())?;
                Statement::ShowMeasurements(ShowMeasurementsStatement {
                    database: c.database,
                    source: c.with_measurement,
                    condition: c.condition,
                    sort_fields: c.sort_fields,
                    limit: c.limit,
                    offset: c.offset,
                })
            }
            Rule::show_series => {
                let Some(sub) = inner.into_inner().nth(1) else {
                    return Err(ParseError::Message("empty SHOW SERIES".into()));
                };
                let is_card = sub.as_rule() == Rule::series_card;
                let c = self.clauses(sub.into_inner())?;
                if is_card {
                    cardinality(CardinalityKind::Series, c)
                } else {
                    Statement::ShowSeries(ShowSeriesStatement {
                        database: c.database,
                        sources: c.sources,
                        condition: c.condition,
                        sort_fields: c.sort_fields,
                        limit: c.limit,
                        offset: c.offset,
                    })
                }
            }
            Rule::show_field => {
                let Some(sub) = inner.into_inner().nth(1) else {
                    return Err(ParseError::Message("empty SHOW FIELD".into()));
                };
                let is_card = sub.as_rule() == Rule::field_key_card;
                let c = self.clauses(sub.into_inner())?;
                if is_card {
                    cardinality(CardinalityKind::FieldKey, c)
                } else {
                    Statement::ShowFieldKeys(ShowFieldKeysStatement {
                        database: c.database,
                        sources: c.sources,
                        sort_fields: c.sort_fields,
                        limit: c.limit,
                        offset: c.offset,
                    })
                }
            }
            Rule::show_tag => {
                let Some(sub) = inner.into_inner().nth(1) else {
                    return Err(ParseError::Message("empty SHOW TAG".into()));
                };
                match sub.as_rule() {
                    Rule::tag_key_card => {
                        cardinality(CardinalityKind::TagKey, self.clauses(sub.into_inner())?)
                    }
                    Rule::tag_keys => {
                        let c = self.clauses(sub.into_inner())?;
                        Statement::ShowTagKeys(ShowTagKeysStatement {
                            database: c.database,
                            sources: c.sources,
                            condition: c.condition,
                            sort_fields: c.sort_fields,
                            limit: c.limit,
                            offset: c.offset,
                            slimit: c.slimit,
                            soffset: c.soffset,
                        })
                    }
                    _ => {
                        let Some(tv) = sub.into_inner().nth(1) else {
                            return Err(ParseError::Message("empty SHOW TAG VALUES".into()));
                        };
                        let is_card = tv.as_rule() == Rule::tag_values_card;
                        let c = self.clauses(tv.into_inner())?;
                        let key = c
                            .key
                            .clone()
                            .ok_or_else(|| ParseError::Message("missing WITH KEY".into()))?;
                        if is_card {
                            cardinality(CardinalityKind::TagValues(key), c)
                        } else {
                            Statement::ShowTagValues(ShowTagValuesStatement {
                                database: c.database,
                                sources: c.sources,
                                key,
                                condition: c.condition,
                                sort_fields: c.sort_fields,
                                limit: c.limit,
                                offset: c.offset,
                            })
                        }
                    }
                }
            }
            _ => return Err(ParseError::Message("unsupported SHOW".into())),
        })
    }
}
