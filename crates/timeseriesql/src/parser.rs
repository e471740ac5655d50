//! InfluxQL text → [`crate::ast`], with InfluxDB-compatible error messages.
//!
//! Why it exists: the HTTP API must accept exactly what InfluxDB 1.x accepts and reject the
//! rest with InfluxDB's own words (`found EOF, expected FROM at line 1, char 10`).
//!
//! How it is organised (where to look for a statement):
//! - `src/grammar.pest` — the whole grammar. Statements are dispatched by `statement`;
//!   `select_stmt`/`select_body` (SELECT), `delete_stmt`, `show_stmt` → `show_body` (every
//!   SHOW), `create_stmt` → `create_body` (CREATE DATABASE / RETENTION POLICY / USER /
//!   CONTINUOUS QUERY / SUBSCRIPTION), `drop_stmt` → `drop_body`, `alter_stmt`,
//!   `grant_stmt`, `revoke_stmt`, `set_stmt`, `kill_stmt`, `explain_stmt`. Expressions are
//!   `expr` / `operand` (precedence climbing happens in the builder).
//! - `parser/build/` — turns pest pairs into AST nodes; one function per grammar rule
//!   above, plus the semantic checks InfluxDB makes while parsing (fill(), tz(), ORDER BY
//!   time only, durations, integer ranges, CQ needs GROUP BY time(...), ...). One file per
//!   statement family: `select.rs`, `show.rs`, `ddl.rs`, `users.rs`, `cq.rs`, with
//!   `expr.rs`, `literals.rs`, `regex_lit.rs` and `clauses.rs` for the shared parts.
//! - `parser/errors.rs` — maps pest's "expected rules at position" to InfluxDB's
//!   `found X, expected Y at line L, char C`, reproducing its position quirks.
//! - `parser/lexer.rs` — InfluxDB's token scanner (for `found X` and bound parameters).
//!
//! Entry points: [`parse`], [`parse_with_params`], [`parse_statement`], [`parse_expr`].

mod build;
mod errors;
pub(crate) mod lexer;

use crate::ast::{Expr, Query, Statement};
use pest::Parser as _;
use std::collections::{BTreeMap, HashMap};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct InfluxQlParser;

/// A parse failure, printed exactly as InfluxDB prints it after `error parsing query: `.
///
/// `Display` does **not** include the `error parsing query: ` prefix (InfluxDB's HTTP
/// handler adds it, and so does `hyperbyte-application`); [`ParseError::full_message`]
/// returns the complete text of the HTTP 400 body's `error` field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// An unexpected token.
    #[error("found {found}, expected {expected} at line {line}, char {char}")]
    Unexpected {
        /// The token found (InfluxDB spelling: keywords upper-case, `EOF`, string contents).
        found: String,
        /// Comma-separated expectations.
        expected: String,
        /// 1-based line.
        line: usize,
        /// 1-based character.
        char: usize,
    },
    /// A positioned message (`invalid duration at line 1, char 34`).
    #[error("{message} at line {line}, char {char}")]
    At {
        /// Message.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based character.
        char: usize,
    },
    /// A message without position (`expected number argument in fill()`).
    #[error("{0}")]
    Message(String),
}

impl ParseError {
    /// `error parsing query: <Display>` — the `error` text of InfluxDB's HTTP 400 answer.
    pub fn full_message(&self) -> String {
        format!("error parsing query: {self}")
    }
}

/// A bound-parameter value from the HTTP `params=` JSON object.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// JSON string → string literal.
    String(String),
    /// JSON integer → integer literal.
    Integer(i64),
    /// JSON non-integer number → float literal.
    Float(f64),
    /// JSON boolean → `true`/`false`.
    Boolean(bool),
    /// `{"identifier": "x"}` → identifier.
    Identifier(String),
    /// `{"duration": "1h"}` → duration literal.
    Duration(String),
    /// `{"regex": "a.*"}` → regex literal.
    Regex(String),
    /// A value InfluxDB cannot bind; the payload is the Go type name InfluxDB reports
    /// (`<nil>`, `[]interface {}`, `map[string]interface {}`).
    Unsupported(String),
    /// A value InfluxDB refuses with its own message (an object of an unknown kind:
    /// `unknown bind object type: a`).
    Refused(String),
}

/// Parses one or more `;`-separated statements.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    parse_inner(input, &Bindings::default())
}

/// One bound parameter, attached to the placeholder that stands for it in the text pest
/// parses.
#[derive(Debug)]
pub(crate) struct Binding {
    /// The typed value the builder uses instead of the placeholder's text.
    pub(crate) value: ParamValue,
    /// Byte length of the placeholder (equal to the `$name` it replaces, when possible).
    pub(crate) len: usize,
}

/// Bound parameters keyed by the byte offset of their placeholder.
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    /// Placeholder start → value.
    pub(crate) at: HashMap<usize, Binding>,
    /// Parameter name → bind error (`unable to bind parameter with type <nil>`).
    pub(crate) unsupported: HashMap<String, String>,
}

impl Bindings {
    /// The text InfluxDB's scanner gives the token a parameter becomes (`found X`).
    fn found_text(&self, pos: usize) -> Option<String> {
        self.at.get(&pos).map(|b| match &b.value {
            ParamValue::String(s)
            | ParamValue::Identifier(s)
            | ParamValue::Duration(s)
            | ParamValue::Regex(s)
            | ParamValue::Unsupported(s)
            | ParamValue::Refused(s) => s.clone(),
            ParamValue::Integer(i) => i.to_string(),
            ParamValue::Float(f) => crate::ast::display::format_float(*f),
            ParamValue::Boolean(b) => b.to_string(),
        })
    }
}

/// Parses with bound parameters (`params=` of the HTTP API).
///
/// Why it works this way: a value must bind as a literal of its declared type and never
/// as query text, or `{"d":{"duration":"1h; DROP DATABASE prod"}}` would run a second
/// statement. InfluxDB binds at scan time (the `$name` token *becomes* a STRING, IDENT,
/// REGEX, DURATIONVAL, ... token carrying the value). Here each bound `$name` is replaced
/// by a fixed placeholder of the same token class and, where possible, the same length
/// (`'  '`, `"  "`, `/  /`, `10s`, `00`, `.0`), which contains none of the value's text;
/// the builder then takes the typed value for the token at that position. Positions in
/// error messages are therefore those of the original text (except after a boolean bound
/// to a name shorter than `true`/`false`, which is rendered as that keyword).
///
/// A `$name` without a parameter fails with `missing parameter: name` when it is reached
/// in an expression.
pub fn parse_with_params(
    input: &str,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Query, ParseError> {
    let mut bindings = Bindings::default();
    let mut out = String::with_capacity(input.len());
    for t in lexer::tokenize(input) {
        let raw = &input[t.start.min(input.len())..t.end.min(input.len())];
        if t.tok != lexer::Tok::BoundParam {
            out.push_str(raw);
            continue;
        }
        let name = &t.text[1..];
        let value = match params.get(name) {
            Some(ParamValue::Unsupported(ty)) => {
                bindings.unsupported.insert(
                    name.to_string(),
                    format!("unable to bind parameter with type {ty}"),
                );
                None
            }
            Some(ParamValue::Refused(msg)) => {
                bindings.unsupported.insert(name.to_string(), msg.clone());
                None
            }
            Some(v) if !name.is_empty() => Some(v),
            _ => None,
        };
        let Some(value) = value else {
            out.push_str(raw);
            continue;
        };
        let text = placeholder(value, raw.len());
        bindings.at.insert(
            out.len(),
            Binding {
                value: value.clone(),
                len: text.len(),
            },
        );
        out.push_str(&text);
    }
    parse_inner(&out, &bindings)
}

/// The placeholder text for a bound value replacing a `$name` of `len` bytes (`len >= 2`):
/// one token of the value's class whose content never depends on the value.
fn placeholder(v: &ParamValue, len: usize) -> String {
    let fill = |first: char, pad: char, last: Option<char>| {
        let mut s = String::with_capacity(len);
        s.push(first);
        let inner = len.saturating_sub(1 + usize::from(last.is_some()));
        s.extend(std::iter::repeat_n(pad, inner));
        if let Some(l) = last {
            s.push(l);
        }
        s
    };
    match v {
        ParamValue::String(_) => fill('\'', ' ', Some('\'')),
        ParamValue::Identifier(_) => fill('"', ' ', Some('"')),
        ParamValue::Regex(_) => fill('/', ' ', Some('/')),
        ParamValue::Duration(_) => fill('1', '0', Some('s')),
        ParamValue::Integer(_) => fill('0', '0', None),
        ParamValue::Float(_) => fill('.', '0', None),
        ParamValue::Boolean(b) => format!("{b:<len$}"),
        ParamValue::Unsupported(_) | ParamValue::Refused(_) => String::new(),
    }
}

/// Deepest `(` nesting accepted (parentheses, calls and subqueries together), checked on
/// the tokens before pest runs: pest's own descent recurses once per level, so this is
/// what keeps the grammar match inside a 2 MiB thread stack. InfluxDB has no limit; real
/// queries never come close.
pub const MAX_NESTING: usize = 500;

/// Most binary operators accepted in one flat expression chain (`a = 1 OR b = 2 OR ...`),
/// checked before the chain is built. Large enough for a 4,000-term `OR` of tag
/// conditions (generated dashboards and `DELETE`s do send thousands); longer chains are
/// refused as `expression too long` before any allocation proportional to them.
pub const MAX_OPERATORS: usize = 8_000;

/// Deepest expression tree accepted: the longest path from the root of one expression to
/// a leaf, where every binary operator, parenthesis, call, unary minus and literal counts
/// one level ([`Expr::depth`]).
///
/// Why: the nesting and operator limits each bound one dimension, but together they still
/// allowed trees 450,000 levels deep (150 nested parentheses each holding a 3,000-term
/// `-1-1-...` chain). Every pass over an expression (the builder, `Display`, `Clone`,
/// `Drop`, the translator, and the evaluators of other crates) recurses once per level,
/// so the real depth is what has to be bounded for a 2 MiB (tokio worker) stack. 4,096
/// keeps a flat 4,000-term `OR` chain of conditions legal (depth 4,001) and costs at most
/// a few hundred bytes of stack per level in the passes of this crate (tested on a 2 MiB
/// thread in `tests/deep_nesting.rs`).
pub const MAX_EXPR_DEPTH: usize = 4_096;

/// Deepest subquery nesting accepted (`SELECT ... FROM (SELECT ... FROM (...))`).
///
/// Why: a subquery is planned, translated and run recursively, with far larger frames
/// per level than an expression. InfluxDB has no limit, but real queries use a handful of
/// levels; 32 leaves room for generated queries while bounding that recursion.
pub const MAX_SUBQUERY_DEPTH: usize = 32;

fn check_nesting(input: &str) -> Result<(), ParseError> {
    let mut depth = 0usize;
    for t in lexer::tokenize(input) {
        if t.tok != lexer::Tok::Punct {
            continue;
        }
        match t.text.as_str() {
            "(" => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(errors::at(
                        input,
                        t.start,
                        format!("query nesting too deep (more than {MAX_NESTING} levels)"),
                    ));
                }
            }
            ")" => depth = depth.saturating_sub(1),
            ";" => depth = 0,
            _ => {}
        }
    }
    Ok(())
}

fn parse_inner(input: &str, bindings: &Bindings) -> Result<Query, ParseError> {
    check_nesting(input)?;
    let pairs = InfluxQlParser::parse(Rule::query, input).map_err(|e| {
        let at = match e.location {
            pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p,
        };
        missing_param_before(input, at, bindings)
            .unwrap_or_else(|| errors::from_pest(input, &e, &|pos| bindings.found_text(pos)))
    })?;
    build::Builder::new(input, bindings).query(pairs)
}

/// The error of a `$name` without a value that the text reaches before `at`, where pest
/// stopped: InfluxDB's parser reads left to right and fails at such a parameter when it
/// reaches it (`SELECT $p ( v ) FROM m` is `missing parameter: p`, not the syntax error
/// after it). The builder gives the same error when the whole text parses.
fn missing_param_before(input: &str, at: usize, bindings: &Bindings) -> Option<ParseError> {
    let t = lexer::tokenize(input)
        .into_iter()
        .take_while(|t| t.end <= at)
        .find(|t| t.tok == lexer::Tok::BoundParam)?;
    Some(unbound_param(input, &t, bindings))
}

/// The error of `$name` token `t` that has no value: the bind error of a value of a type
/// InfluxDB cannot bind, `found $p, expected regex` right after `=~` or `!~` (InfluxDB
/// scans a regex there, and a parameter only stands in for one it has), `empty bound
/// parameter` for a bare `$`, else `missing parameter: name`.
pub(crate) fn unbound_param(input: &str, t: &lexer::Token, bindings: &Bindings) -> ParseError {
    let name = t.text.trim_start_matches('$');
    if let Some(msg) = bindings.unsupported.get(name) {
        return ParseError::Message(format!("missing parameter: {msg}"));
    }
    let after_regex_operator = lexer::last_token_before(input, t.start)
        .is_some_and(|prev| prev.tok == lexer::Tok::Punct && matches!(&*prev.text, "=~" | "!~"));
    if after_regex_operator {
        return errors::unexpected(input, t, "regex");
    }
    if name.is_empty() {
        return ParseError::Message("empty bound parameter".into());
    }
    ParseError::Message(format!("missing parameter: {name}"))
}

/// Parses exactly one statement (a trailing `;` is allowed).
pub fn parse_statement(input: &str) -> Result<Statement, ParseError> {
    let mut q = parse(input)?;
    match q.statements.len() {
        1 => Ok(q.statements.remove(0)),
        0 => Err(ParseError::Unexpected {
            found: "EOF".to_string(),
            expected: errors::STATEMENT_START.to_string(),
            line: 1,
            char: 1,
        }),
        _ => Err(ParseError::Message(
            "expected exactly one statement".to_string(),
        )),
    }
}

/// Parses a standalone expression (handy for tests and for the translator).
pub fn parse_expr(input: &str) -> Result<Expr, ParseError> {
    let q = parse(&format!("SELECT x FROM m WHERE {input}"))?;
    match q.statements.into_iter().next() {
        Some(Statement::Select(s)) => s
            .condition
            .ok_or_else(|| ParseError::Message("empty expression".to_string())),
        _ => Err(ParseError::Message("not an expression".to_string())),
    }
}
