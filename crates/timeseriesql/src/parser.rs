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
//! - `parser/build.rs` — turns pest pairs into AST nodes; one `build_*` function per grammar
//!   rule above, plus the semantic checks InfluxDB makes while parsing (fill(), tz(),
//!   ORDER BY time only, durations, integer ranges, CQ needs GROUP BY time(...), ...).
//! - `parser/errors.rs` — maps pest's "expected rules at position" to InfluxDB's
//!   `found X, expected Y at line L, char C`, reproducing its position quirks.
//! - `parser/lexer.rs` — InfluxDB's token scanner (for `found X` and bound parameters).
//! - `parser/tz.rs` — IANA time-zone names accepted by `tz()`.
//!
//! Entry points: [`parse`], [`parse_with_params`], [`parse_statement`], [`parse_expr`].

mod build;
mod errors;
pub(crate) mod lexer;
mod tz;

use crate::ast::{quote_ident, quote_string, Expr, Query, Statement};
use pest::Parser as _;
use std::collections::{BTreeMap, HashMap};

pub use tz::is_known_time_zone;

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
}

/// Parses one or more `;`-separated statements.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    parse_inner(input, &HashMap::new())
}

/// Parses with bound parameters: each `$name` is replaced by a literal of the parameter's
/// type before parsing. A `$name` without a parameter fails with
/// `missing parameter: name` when it is reached in an expression.
pub fn parse_with_params(
    input: &str,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Query, ParseError> {
    let mut unsupported = HashMap::new();
    let mut out = String::with_capacity(input.len());
    let mut changed = false;
    for t in lexer::tokenize(input) {
        let raw = &input[t.start.min(input.len())..t.end.min(input.len())];
        if t.tok != lexer::Tok::BoundParam {
            out.push_str(raw);
            continue;
        }
        let name = &t.text[1..];
        match params.get(name) {
            Some(ParamValue::Unsupported(ty)) => {
                unsupported.insert(
                    name.to_string(),
                    format!("unable to bind parameter with type {ty}"),
                );
                out.push_str(raw);
            }
            Some(v) => {
                changed = true;
                out.push_str(&render_param(v));
            }
            None => out.push_str(raw),
        }
    }
    let text = if changed { out.as_str() } else { input };
    parse_inner(text, &unsupported)
}

fn render_param(v: &ParamValue) -> String {
    match v {
        ParamValue::String(s) => quote_string(s),
        ParamValue::Integer(i) => i.to_string(),
        ParamValue::Float(f) => crate::ast::display::format_float(*f),
        ParamValue::Boolean(b) => b.to_string(),
        ParamValue::Identifier(s) => {
            let q = quote_ident(s);
            if q.starts_with('"') {
                q
            } else {
                format!("\"{q}\"")
            }
        }
        ParamValue::Duration(s) => s.clone(),
        ParamValue::Regex(r) => format!("/{}/", r.replace('/', "\\/")),
        ParamValue::Unsupported(_) => String::new(),
    }
}

/// Deepest `(` nesting accepted: keeps the recursive parser, printer and translator well
/// inside a 2 MiB thread stack (InfluxDB has no limit; real queries never come close).
pub const MAX_NESTING: usize = 500;

/// Most binary operators accepted in one flat expression chain (`a OR b OR ...`), for the
/// same reason as [`MAX_NESTING`].
pub const MAX_OPERATORS: usize = 3000;

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

fn parse_inner(input: &str, unsupported: &HashMap<String, String>) -> Result<Query, ParseError> {
    check_nesting(input)?;
    let pairs =
        InfluxQlParser::parse(Rule::query, input).map_err(|e| errors::from_pest(input, &e))?;
    build::Builder::new(input, unsupported).query(pairs)
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
