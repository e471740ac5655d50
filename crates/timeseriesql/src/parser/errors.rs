//! pest failures → InfluxDB's `found X, expected Y at line L, char C`.
//!
//! Why it exists: clients (and the conformance corpus) compare error texts exactly.
//!
//! How: pest reports the furthest position it reached and the rules it tried there. Rules
//! named `okw_*`, `op_*`, `comma`, ... are optional continuations that InfluxDB's
//! recursive-descent parser would have "unscanned" silently, so they are dropped; what is
//! left is what InfluxDB required at that point. Named choice points (`statement`,
//! `show_body`, `operand`, ...) map to InfluxDB's fixed expectation lists; keyword rules
//! (`kw_*`) map to their upper-case spelling. When nothing required is left, the statement
//! was complete and InfluxDB says `expected ;`.
//!
//! Positions reproduce InfluxDB's scanner quirks: strings and quoted identifiers report the
//! character *before* their opening quote; `EOF` is reported one character further when
//! the scanner had already consumed it (after an unquoted identifier or keyword, or where
//! the parser peeks for a regex: select fields, call arguments, sources, dimensions).

use super::lexer::{self, Tok, Token};
use super::{ParseError, Rule};

/// InfluxDB's list of statement-starting keywords.
pub(crate) const STATEMENT_START: &str =
    "SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL";
const OPERAND: &str = "identifier, string, number, bool";

/// 1-based (line, char) of byte offset `pos`, counting characters like InfluxDB.
pub(crate) fn line_char(input: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(input.len());
    let before = &input[..pos];
    let line = before.matches('\n').count() + 1;
    let col = match before.rfind('\n') {
        Some(nl) => before[nl + 1..].chars().count(),
        None => before.chars().count(),
    };
    (line, col + 1)
}

/// A positioned "found/expected" error for the token at `token`.
pub(crate) fn unexpected(input: &str, token: &Token, expected: &str) -> ParseError {
    let (line, char) = token_position(input, token, false);
    ParseError::Unexpected {
        found: token.text.clone(),
        expected: expected.to_string(),
        line,
        char,
    }
}

/// A positioned message at byte offset `pos`.
pub(crate) fn at(input: &str, pos: usize, message: impl Into<String>) -> ParseError {
    let (line, char) = line_char(input, pos);
    ParseError::At {
        message: message.into(),
        line,
        char,
    }
}

/// InfluxDB's reported position of a token (see the module docs).
fn token_position(input: &str, t: &Token, eof_consumed: bool) -> (usize, usize) {
    match t.tok {
        Tok::Eof => {
            // After trailing whitespace InfluxDB's scanner reports EOF one character past
            // the whitespace's start, however long it is (`SELECT  ` → char 8), or at
            // its start where it was reading an operand ([`eof_at_whitespace_start`]).
            let body = input.trim_end_matches(lexer::is_ws);
            if body.len() < input.len() {
                let (line, char) = line_char(input, body.len());
                let past = usize::from(!eof_at_whitespace_start(&input[..body.len()]));
                return (line, char + past);
            }
            let (line, char) = line_char(input, input.len());
            (line, char + usize::from(eof_consumed))
        }
        Tok::BadEscape => line_char(input, t.escape_at),
        Tok::String | Tok::BadString => {
            let (line, char) = line_char(input, t.start);
            (line, char.saturating_sub(1).max(1))
        }
        _ => line_char(input, t.start),
    }
}

/// Whether InfluxDB reports an EOF that follows whitespace at the whitespace's start:
/// where it was reading an operand after a comparison or arithmetic operator, a grouping
/// `(` or a unary `-` (`a = ` → the char after `=`), and after `WITH KEY =` or `IN (`;
/// not after `WITH MEASUREMENT =`, a call's `(`, a `,`, a keyword or `=~` (checked
/// against InfluxDB 1.6, `tests/reference/cases.rs`). `body` is the text before the
/// whitespace.
fn eof_at_whitespace_start(body: &str) -> bool {
    let tokens: Vec<Token> = lexer::tokenize(body)
        .into_iter()
        .filter(|t| t.tok != Tok::Ws && t.tok != Tok::Eof)
        .collect();
    let Some((last, rest)) = tokens.split_last() else {
        return false;
    };
    if last.tok != Tok::Punct {
        return false; // (a string or quoted name reading `=` is no operator)
    }
    let before = rest.last();
    match last.text.as_str() {
        "=" => !before.is_some_and(|b| b.text.eq_ignore_ascii_case("MEASUREMENT")),
        "!=" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%" | "&" | "|" | "^" => true,
        "(" => !before.is_some_and(|b| b.tok == Tok::Ident),
        _ => false,
    }
}

/// Expectation text of a named choice point, in priority order.
fn choice_text(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::statement | Rule::query => STATEMENT_START,
        Rule::card_choice => "EXACT, CARDINALITY",
        Rule::tag_values_list => "WITH",
        Rule::show_body => {
            "CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, \
             QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS"
        }
        Rule::create_body => "CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION",
        Rule::drop_body => {
            "CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER"
        }
        Rule::delete_body => "FROM, WHERE",
        Rule::tag_key_expr => "IN, =, =~",
        Rule::eq_or_eqre => "=, =~",
        Rule::alter_opt => "DURATION, REPLICATION, SHARD, DEFAULT",
        Rule::db_with_start => "DURATION, NAME, REPLICATION, SHARD",
        Rule::privilege => "READ, WRITE, ALL [PRIVILEGES]",
        Rule::sort_first => "identifier, ASC, DESC",
        Rule::all_or_any => "ALL, ANY",
        Rule::signed_operand => "identifier, number, duration, (",
        Rule::wildcard_type => "field, tag",
        Rule::field
        | Rule::operand
        | Rule::call_arg
        | Rule::call_args
        | Rule::dimension
        | Rule::expr => OPERAND,
        Rule::regex_rhs | Rule::key_regex => "regex",
        Rule::source
        | Rule::source_nosub
        | Rule::measurement
        | Rule::target
        | Rule::rp_name
        | Rule::segments => "identifier",
        Rule::duration_value => "duration",
        _ => return None,
    })
}

const CHOICE_PRIORITY: &[Rule] = &[
    Rule::statement,
    Rule::query,
    Rule::card_choice,
    Rule::tag_values_list,
    Rule::show_body,
    Rule::create_body,
    Rule::drop_body,
    Rule::delete_body,
    Rule::tag_key_expr,
    Rule::eq_or_eqre,
    Rule::alter_opt,
    Rule::db_with_start,
    Rule::privilege,
    Rule::sort_first,
    Rule::all_or_any,
    Rule::signed_operand,
    Rule::wildcard_type,
    Rule::field,
    Rule::call_arg,
    Rule::call_args,
    Rule::dimension,
    Rule::operand,
    Rule::expr,
    Rule::regex_rhs,
    Rule::key_regex,
    Rule::source,
    Rule::source_nosub,
    Rule::measurement,
    Rule::target,
    Rule::rp_name,
    Rule::segments,
    Rule::duration_value,
];

/// Rules after which InfluxDB peeks one more rune (for a regex) before failing at EOF.
fn peeks_for_regex(r: Rule) -> bool {
    matches!(
        r,
        Rule::field
            | Rule::call_arg
            | Rule::call_args
            | Rule::regex
            | Rule::dimension
            | Rule::source
            | Rule::source_nosub
            | Rule::regex_rhs
            | Rule::key_regex
    )
}

fn is_optional(r: Rule) -> bool {
    let name = format!("{r:?}");
    name.starts_with("okw_")
        || name.starts_with("op_")
        || matches!(
            r,
            Rule::comma
                | Rule::semicolon
                | Rule::EOI
                | Rule::fill_clause
                | Rule::tz_clause
                | Rule::where_clause
                | Rule::group_by_clause
                | Rule::order_by_clause
                | Rule::limit_clause
                | Rule::offset_clause
                | Rule::slimit_clause
                | Rule::soffset_clause
                | Rule::into_clause
                | Rule::alias
                | Rule::empty_seg
                | Rule::on_db
                | Rule::from_sources
                | Rule::alter_more
                | Rule::resample
                | Rule::with_measurement
                | Rule::show_meas_on
                | Rule::tag_values_card
        )
}

fn token_text(r: Rule) -> Option<String> {
    let name = format!("{r:?}");
    if let Some(kw) = name.strip_prefix("kw_") {
        return Some(kw.to_ascii_uppercase());
    }
    Some(
        match r {
            Rule::ident | Rule::bare_ident | Rule::quoted_ident => "identifier",
            Rule::integer => "integer",
            Rule::string => "string",
            Rule::duration => "duration",
            Rule::regex => "regex",
            Rule::lparen => "(",
            Rule::rparen => ")",
            Rule::eq_sign => "=",
            Rule::dot => ".",
            _ => return None,
        }
        .to_string(),
    )
}

/// The expectation list for a set of attempted rules; `(text, peeked)`.
fn expectation(positives: &[Rule], found: &Token) -> (String, bool) {
    let required: Vec<Rule> = positives
        .iter()
        .copied()
        .filter(|r| !is_optional(*r))
        .collect();
    let peeked = required.iter().any(|r| peeks_for_regex(*r));
    if required.contains(&Rule::regex_unterminated) {
        return ("regex".to_string(), peeked);
    }
    if required.contains(&Rule::cast_type) {
        let text = if found.tok == Tok::Ident {
            "float, integer, unsigned, string, boolean, field, tag"
        } else {
            "float, integer, string, boolean, field, tag"
        };
        return (text.to_string(), false);
    }
    for r in CHOICE_PRIORITY {
        if required.contains(r) {
            return (choice_text(*r).unwrap_or(OPERAND).to_string(), peeked);
        }
    }
    let mut kws: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for r in &required {
        if let Some(t) = token_text(*r) {
            let list = if format!("{r:?}").starts_with("kw_") {
                &mut kws
            } else {
                &mut others
            };
            if !list.contains(&t) {
                list.push(t);
            }
        }
    }
    if kws.len() == 2 && kws.contains(&"ON".to_string()) && kws.contains(&"FROM".to_string()) {
        return ("ON, FROM".to_string(), peeked);
    }
    if others.iter().any(|o| o == "identifier") {
        others.retain(|o| o != "regex");
    }
    kws.sort();
    kws.extend(others);
    if kws.is_empty() {
        return (";".to_string(), peeked);
    }
    (kws.join(", "), peeked)
}

/// Converts a pest failure into InfluxDB's error.
///
/// `bound_text` names the bound parameter whose placeholder starts at a byte offset, if
/// any: InfluxDB reports such a token by its bound value, at the parameter's own position.
pub(crate) fn from_pest(
    input: &str,
    err: &pest::error::Error<Rule>,
    bound_text: &dyn Fn(usize) -> Option<String>,
) -> ParseError {
    let pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((p, _)) => p,
    };
    let positives: Vec<Rule> = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let no_ws = positives.contains(&Rule::cast_type) || positives.contains(&Rule::wildcard_type);
    let found = if no_ws {
        lexer::scan(input, pos)
    } else {
        lexer::scan_skip_ws(input, pos)
    };
    let (expected, peeked) = expectation(&positives, &found);
    if let Some(text) = bound_text(found.start) {
        let (line, char) = line_char(input, found.start);
        return ParseError::Unexpected {
            found: text,
            expected,
            line,
            char,
        };
    }
    let eof_consumed = found.tok == Tok::Eof && (peeked || ends_with_scanned_word(input));
    let (line, char) = token_position(input, &found, eof_consumed);
    ParseError::Unexpected {
        found: found.text,
        expected,
        line,
        char,
    }
}

/// Whether the input ends right after an unquoted identifier / keyword or a `.` (InfluxDB's
/// scanner then reads EOF twice and reports it one character late).
fn ends_with_scanned_word(input: &str) -> bool {
    if input.ends_with('.') {
        return true;
    }
    match lexer::last_token_before(input, input.len()) {
        Some(t) => t.end == input.len() && matches!(t.tok, Tok::Ident | Tok::Keyword) && !t.quoted,
        None => false,
    }
}
