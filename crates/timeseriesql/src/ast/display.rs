//! Canonical InfluxQL printing (`Display`) for every AST node.
//!
//! Why it exists: `SHOW CONTINUOUS QUERIES` prints stored statements the way InfluxDB's
//! `String()` does, and a printer that round-trips (print → parse → equal AST) is the
//! parser's main property test. Style follows InfluxDB: upper-case keywords, identifiers
//! quoted only when needed, durations in the largest exact unit (`1h`, `90m`, `1500ms`).
//!
//! Deliberate differences from InfluxDB: passwords are printed (not `[REDACTED]`) so that
//! the text parses back, floats print the shortest exact form instead of three decimals,
//! and `-1 * x` (the parse of `-x`) prints as `-x`.

use super::*;
use std::fmt::{self, Display, Formatter, Write};

/// Formats nanoseconds as an InfluxQL duration literal in the largest exact unit
/// (`0s`, `2w`, `1d`, `90m`, `1500ms`, `7u`, `3ns`), as InfluxDB's `FormatDuration`.
pub fn format_duration(d: i64) -> String {
    const UNITS: [(i64, &str); 8] = [
        (7 * 86_400_000_000_000, "w"),
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "u"),
        (1, "ns"),
    ];
    if d == 0 {
        return "0s".to_string();
    }
    for (n, unit) in UNITS {
        if d % n == 0 {
            return format!("{}{}", d / n, unit);
        }
    }
    format!("{d}ns")
}

/// Whether `s` is an InfluxQL keyword (case-insensitive), i.e. needs quoting as identifier.
pub(crate) fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "all",
        "alter",
        "analyze",
        "and",
        "any",
        "as",
        "asc",
        "begin",
        "by",
        "cardinality",
        "continuous",
        "create",
        "database",
        "databases",
        "default",
        "delete",
        "desc",
        "destinations",
        "diagnostics",
        "distinct",
        "drop",
        "duration",
        "end",
        "every",
        "exact",
        "explain",
        "false",
        "field",
        "for",
        "from",
        "grant",
        "grants",
        "group",
        "groups",
        "in",
        "inf",
        "insert",
        "into",
        "key",
        "keys",
        "kill",
        "limit",
        "measurement",
        "measurements",
        "name",
        "offset",
        "on",
        "or",
        "order",
        "password",
        "policies",
        "policy",
        "privileges",
        "queries",
        "query",
        "read",
        "replication",
        "resample",
        "retention",
        "revoke",
        "select",
        "series",
        "set",
        "shard",
        "shards",
        "show",
        "slimit",
        "soffset",
        "stats",
        "subscription",
        "subscriptions",
        "tag",
        "to",
        "true",
        "user",
        "users",
        "values",
        "where",
        "with",
        "write",
    ];
    let lower = s.to_ascii_lowercase();
    KEYWORDS.binary_search(&lower.as_str()).is_ok()
}

/// Whether an identifier must be double-quoted to parse back.
pub(crate) fn ident_needs_quotes(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_');
    !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || is_keyword(s)
}

fn escape_into(out: &mut String, s: &str, quote: char) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// Quotes an identifier with `"` when needed (keywords, non-identifier characters).
pub fn quote_ident(s: &str) -> String {
    if !ident_needs_quotes(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    escape_into(&mut out, s, '"');
    out.push('"');
    out
}

/// Quotes a string literal with `'`, escaping `\`, `'` and newlines.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    escape_into(&mut out, s, '\'');
    out.push('\'');
    out
}

/// Float text that always re-parses as a float (never exponent notation, always a `.`).
pub(crate) fn format_float(v: f64) -> String {
    let mut s = format!("{v}");
    if !s.contains('.') && !s.contains("inf") && !s.contains("NaN") {
        s.push_str(".0");
    }
    s
}

fn join<T: Display>(items: &[T], sep: &str) -> String {
    let mut out = String::new();
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        let _ = write!(out, "{it}");
    }
    out
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&join(&self.statements, ";\n"))
    }
}

impl Display for Regex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.pattern.replace('/', "\\/"))
    }
}

impl Display for VarType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VarType::Float => "float",
            VarType::Integer => "integer",
            VarType::Unsigned => "unsigned",
            VarType::String => "string",
            VarType::Boolean => "boolean",
            VarType::Field => "field",
            VarType::Tag => "tag",
        })
    }
}

impl Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `-1 * x` / `1 * x` produced by a unary sign on a non-literal.
fn unary_form(op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Option<char> {
    if op != BinaryOp::Mul
        || !matches!(
            rhs,
            Expr::VarRef { .. } | Expr::Call { .. } | Expr::Paren(_)
        )
    {
        return None;
    }
    match lhs {
        Expr::Integer(-1) => Some('-'),
        Expr::Integer(1) => Some('+'),
        _ => None,
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::VarRef { name, data_type } => {
                f.write_str(&quote_ident(name))?;
                if let Some(t) = data_type {
                    write!(f, "::{t}")?;
                }
                Ok(())
            }
            Expr::Call { name, args } => {
                if name == "distinct" || !ident_needs_quotes(name) {
                    f.write_str(name)?;
                } else {
                    f.write_str(&quote_ident(name))?;
                }
                write!(f, "({})", join(args, ", "))
            }
            Expr::Binary { op, lhs, rhs } => match unary_form(*op, lhs, rhs) {
                Some(sign) => write!(f, "{sign}{rhs}"),
                None => write!(f, "{lhs} {op} {rhs}"),
            },
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Wildcard(None) => f.write_str("*"),
            Expr::Wildcard(Some(WildcardType::Field)) => f.write_str("*::field"),
            Expr::Wildcard(Some(WildcardType::Tag)) => f.write_str("*::tag"),
            Expr::Integer(i) => write!(f, "{i}"),
            Expr::Unsigned(u) => write!(f, "{u}"),
            Expr::Float(v) => f.write_str(&format_float(*v)),
            Expr::String(s) => f.write_str(&quote_string(s)),
            Expr::Boolean(b) => f.write_str(if *b { "true" } else { "false" }),
            Expr::Duration(d) => f.write_str(&format_duration(*d)),
            Expr::Regex(r) => write!(f, "{r}"),
        }
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        if let Some(a) = &self.alias {
            write!(f, " AS {}", quote_ident(a))?;
        }
        Ok(())
    }
}

fn write_qualifier(f: &mut Formatter<'_>, db: &Option<String>, rp: &Option<String>) -> fmt::Result {
    if let Some(db) = db {
        write!(f, "{}.", quote_ident(db))?;
    }
    if let Some(rp) = rp {
        f.write_str(&quote_ident(rp))?;
    }
    if db.is_some() || rp.is_some() {
        f.write_str(".")?;
    }
    Ok(())
}

impl Display for Measurement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_qualifier(f, &self.database, &self.retention_policy)?;
        match &self.name {
            MeasurementName::Name(n) => f.write_str(&quote_ident(n)),
            MeasurementName::Regex(r) => write!(f, "{r}"),
        }
    }
}

impl Display for Target {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_qualifier(f, &self.database, &self.retention_policy)?;
        match &self.measurement {
            Some(m) => f.write_str(&quote_ident(m)),
            None => f.write_str(":MEASUREMENT"),
        }
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Source::Measurement(m) => write!(f, "{m}"),
            Source::Subquery(s) => write!(f, "({s})"),
        }
    }
}

impl Display for SortField {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.name.is_empty() {
            write!(f, "{} ", quote_ident(&self.name))?;
        }
        f.write_str(if self.ascending { "ASC" } else { "DESC" })
    }
}

impl Display for Fill {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Fill::Null => f.write_str("fill(null)"),
            Fill::None => f.write_str("fill(none)"),
            Fill::Previous => f.write_str("fill(previous)"),
            Fill::Linear => f.write_str("fill(linear)"),
            Fill::Integer(i) => write!(f, "fill({i})"),
            Fill::Float(v) => write!(f, "fill({})", format_float(*v)),
        }
    }
}

fn write_opt_on(f: &mut Formatter<'_>, db: &Option<String>) -> fmt::Result {
    if let Some(db) = db {
        write!(f, " ON {}", quote_ident(db))?;
    }
    Ok(())
}

fn write_from(f: &mut Formatter<'_>, sources: &[Measurement]) -> fmt::Result {
    if !sources.is_empty() {
        write!(f, " FROM {}", join(sources, ", "))?;
    }
    Ok(())
}

fn write_where(f: &mut Formatter<'_>, cond: &Option<Expr>) -> fmt::Result {
    if let Some(c) = cond {
        write!(f, " WHERE {c}")?;
    }
    Ok(())
}

fn write_group_by(f: &mut Formatter<'_>, dims: &[Expr]) -> fmt::Result {
    if !dims.is_empty() {
        write!(f, " GROUP BY {}", join(dims, ", "))?;
    }
    Ok(())
}

fn write_order(f: &mut Formatter<'_>, sort: &[SortField]) -> fmt::Result {
    if !sort.is_empty() {
        write!(f, " ORDER BY {}", join(sort, ", "))?;
    }
    Ok(())
}

fn write_num(f: &mut Formatter<'_>, kw: &str, n: Option<u64>) -> fmt::Result {
    if let Some(n) = n {
        write!(f, " {kw} {n}")?;
    }
    Ok(())
}

impl Display for SelectStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "SELECT {}", join(&self.fields, ", "))?;
        if let Some(t) = &self.target {
            write!(f, " INTO {t}")?;
        }
        write!(f, " FROM {}", join(&self.sources, ", "))?;
        write_where(f, &self.condition)?;
        write_group_by(f, &self.dimensions)?;
        if self.fill != Fill::Null {
            write!(f, " {}", self.fill)?;
        }
        write_order(f, &self.sort_fields)?;
        write_num(f, "LIMIT", self.limit)?;
        write_num(f, "OFFSET", self.offset)?;
        write_num(f, "SLIMIT", self.slimit)?;
        write_num(f, "SOFFSET", self.soffset)?;
        if let Some(tz) = &self.timezone {
            write!(f, " TZ({})", quote_string(tz))?;
        }
        Ok(())
    }
}

impl Display for Privilege {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Privilege::Read => "READ",
            Privilege::Write => "WRITE",
            Privilege::All => "ALL PRIVILEGES",
        })
    }
}

impl Display for TagKeyFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TagKeyFilter::Eq(k) => write!(f, "= {}", quote_ident(k)),
            TagKeyFilter::NotEq(k) => write!(f, "!= {}", quote_ident(k)),
            TagKeyFilter::In(keys) => {
                let quoted: Vec<String> = keys.iter().map(|k| quote_ident(k)).collect();
                write!(f, "IN ({})", quoted.join(", "))
            }
            TagKeyFilter::Regex(r) => write!(f, "=~ {r}"),
            TagKeyFilter::NotRegex(r) => write!(f, "!~ {r}"),
        }
    }
}

impl Display for CreateContinuousQueryStatement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CREATE CONTINUOUS QUERY {} ON {}",
            quote_ident(&self.name),
            quote_ident(&self.database)
        )?;
        if self.resample_every.is_some() || self.resample_for.is_some() {
            f.write_str(" RESAMPLE")?;
            if let Some(e) = self.resample_every {
                write!(f, " EVERY {}", format_duration(e))?;
            }
            if let Some(d) = self.resample_for {
                write!(f, " FOR {}", format_duration(d))?;
            }
        }
        write!(f, " BEGIN {} END", self.source)
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Select(s) => write!(f, "{s}"),
            Statement::Delete(d) => write_delete(f, "DELETE", d),
            Statement::DropSeries(d) => write_delete(f, "DROP SERIES", d),
            Statement::Explain(e) => write_explain(f, e),
            Statement::CreateDatabase(s) => write_create_database(f, s),
            Statement::DropDatabase { name } => write!(f, "DROP DATABASE {}", quote_ident(name)),
            Statement::CreateRetentionPolicy(s) => write_create_retention_policy(f, s),
            Statement::AlterRetentionPolicy(s) => write_alter_retention_policy(f, s),
            Statement::DropRetentionPolicy { name, database } => write!(
                f,
                "DROP RETENTION POLICY {} ON {}",
                quote_ident(name),
                quote_ident(database)
            ),
            Statement::CreateContinuousQuery(cq) => write!(f, "{cq}"),
            Statement::DropContinuousQuery { name, database } => write!(
                f,
                "DROP CONTINUOUS QUERY {} ON {}",
                quote_ident(name),
                quote_ident(database)
            ),
            Statement::CreateUser {
                name,
                password,
                admin,
            } => write_create_user(f, name, password, *admin),
            Statement::DropUser { name } => write!(f, "DROP USER {}", quote_ident(name)),
            Statement::SetPassword { name, password } => write!(
                f,
                "SET PASSWORD FOR {} = {}",
                quote_ident(name),
                quote_string(password)
            ),
            Statement::Grant {
                privilege,
                database,
                user,
            } => write_grant_revoke(f, "GRANT", "TO", *privilege, database, user),
            Statement::Revoke {
                privilege,
                database,
                user,
            } => write_grant_revoke(f, "REVOKE", "FROM", *privilege, database, user),
            Statement::CreateSubscription {
                name,
                database,
                retention_policy,
                mode,
                destinations,
            } => write_create_subscription(f, name, database, retention_policy, mode, destinations),
            Statement::DropSubscription {
                name,
                database,
                retention_policy,
            } => write!(
                f,
                "DROP SUBSCRIPTION {} ON {}.{}",
                quote_ident(name),
                quote_ident(database),
                quote_ident(retention_policy)
            ),
            Statement::DropMeasurement { name } => {
                write!(f, "DROP MEASUREMENT {}", quote_ident(name))
            }
            Statement::DropShard { id } => write!(f, "DROP SHARD {id}"),
            Statement::KillQuery { query_id, host } => write_kill_query(f, *query_id, host),
            Statement::ShowDatabases => f.write_str("SHOW DATABASES"),
            Statement::ShowRetentionPolicies { database } => {
                f.write_str("SHOW RETENTION POLICIES")?;
                write_opt_on(f, database)
            }
            Statement::ShowMeasurements(s) => write_show_measurements(f, s),
            Statement::ShowSeries(s) => write_show_series(f, s),
            Statement::ShowTagKeys(s) => write_show_tag_keys(f, s),
            Statement::ShowTagValues(s) => write_show_tag_values(f, s),
            Statement::ShowFieldKeys(s) => write_show_field_keys(f, s),
            Statement::ShowCardinality(s) => write_show_cardinality(f, s),
            Statement::ShowContinuousQueries => f.write_str("SHOW CONTINUOUS QUERIES"),
            Statement::ShowShards => f.write_str("SHOW SHARDS"),
            Statement::ShowShardGroups => f.write_str("SHOW SHARD GROUPS"),
            Statement::ShowStats { module } => write_show_module(f, "SHOW STATS", module),
            Statement::ShowDiagnostics { module } => {
                write_show_module(f, "SHOW DIAGNOSTICS", module)
            }
            Statement::ShowUsers => f.write_str("SHOW USERS"),
            Statement::ShowGrants { user } => write!(f, "SHOW GRANTS FOR {}", quote_ident(user)),
            Statement::ShowQueries => f.write_str("SHOW QUERIES"),
            Statement::ShowSubscriptions => f.write_str("SHOW SUBSCRIPTIONS"),
        }
    }
}

// ---------------------------------------------------------------- data and EXPLAIN

/// `DELETE` / `DROP SERIES` (`keyword`) with their FROM and WHERE.
fn write_delete(f: &mut Formatter<'_>, keyword: &str, d: &DeleteStatement) -> fmt::Result {
    f.write_str(keyword)?;
    write_from(f, &d.sources)?;
    write_where(f, &d.condition)
}

fn write_explain(f: &mut Formatter<'_>, e: &ExplainStatement) -> fmt::Result {
    f.write_str("EXPLAIN ")?;
    if e.analyze {
        f.write_str("ANALYZE ")?;
    }
    write!(f, "{}", e.statement)
}

fn write_kill_query(f: &mut Formatter<'_>, query_id: u64, host: &Option<String>) -> fmt::Result {
    write!(f, "KILL QUERY {query_id}")?;
    if let Some(h) = host {
        write!(f, " ON {}", quote_ident(h))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- databases and policies

fn write_create_database(f: &mut Formatter<'_>, s: &CreateDatabaseStatement) -> fmt::Result {
    write!(f, "CREATE DATABASE {}", quote_ident(&s.name))?;
    if s.retention_policy_create {
        f.write_str(" WITH")?;
        if let Some(d) = s.duration {
            write!(f, " DURATION {}", format_duration(d))?;
        }
        if let Some(r) = s.replication {
            write!(f, " REPLICATION {r}")?;
        }
        if let Some(d) = s.shard_duration {
            write!(f, " SHARD DURATION {}", format_duration(d))?;
        }
        if let Some(n) = &s.rp_name {
            write!(f, " NAME {}", quote_ident(n))?;
        }
    }
    Ok(())
}

fn write_create_retention_policy(
    f: &mut Formatter<'_>,
    s: &CreateRetentionPolicyStatement,
) -> fmt::Result {
    write!(
        f,
        "CREATE RETENTION POLICY {} ON {} DURATION {} REPLICATION {}",
        quote_ident(&s.name),
        quote_ident(&s.database),
        format_duration(s.duration),
        s.replication
    )?;
    if let Some(d) = s.shard_duration {
        write!(f, " SHARD DURATION {}", format_duration(d))?;
    }
    if s.default {
        f.write_str(" DEFAULT")?;
    }
    Ok(())
}

fn write_alter_retention_policy(
    f: &mut Formatter<'_>,
    s: &AlterRetentionPolicyStatement,
) -> fmt::Result {
    write!(
        f,
        "ALTER RETENTION POLICY {} ON {}",
        quote_ident(&s.name),
        quote_ident(&s.database)
    )?;
    if let Some(d) = s.duration {
        write!(f, " DURATION {}", format_duration(d))?;
    }
    if let Some(r) = s.replication {
        write!(f, " REPLICATION {r}")?;
    }
    if let Some(d) = s.shard_duration {
        write!(f, " SHARD DURATION {}", format_duration(d))?;
    }
    if s.default {
        f.write_str(" DEFAULT")?;
    }
    Ok(())
}

fn write_create_subscription(
    f: &mut Formatter<'_>,
    name: &str,
    database: &str,
    retention_policy: &str,
    mode: &str,
    destinations: &[String],
) -> fmt::Result {
    let dests: Vec<String> = destinations.iter().map(|d| quote_string(d)).collect();
    write!(
        f,
        "CREATE SUBSCRIPTION {} ON {}.{} DESTINATIONS {} {}",
        quote_ident(name),
        quote_ident(database),
        quote_ident(retention_policy),
        mode,
        dests.join(", ")
    )
}

// ---------------------------------------------------------------- users

fn write_create_user(
    f: &mut Formatter<'_>,
    name: &str,
    password: &str,
    admin: bool,
) -> fmt::Result {
    write!(
        f,
        "CREATE USER {} WITH PASSWORD {}",
        quote_ident(name),
        quote_string(password)
    )?;
    if admin {
        f.write_str(" WITH ALL PRIVILEGES")?;
    }
    Ok(())
}

/// `GRANT ... TO` / `REVOKE ... FROM` (`verb`, `preposition`): on a database, or all
/// privileges (admin) without one.
fn write_grant_revoke(
    f: &mut Formatter<'_>,
    verb: &str,
    preposition: &str,
    privilege: Privilege,
    database: &Option<String>,
    user: &str,
) -> fmt::Result {
    match database {
        Some(db) => write!(
            f,
            "{verb} {privilege} ON {} {preposition} {}",
            quote_ident(db),
            quote_ident(user)
        ),
        None => write!(
            f,
            "{verb} ALL PRIVILEGES {preposition} {}",
            quote_ident(user)
        ),
    }
}

// ---------------------------------------------------------------- SHOW

fn write_show_measurements(f: &mut Formatter<'_>, s: &ShowMeasurementsStatement) -> fmt::Result {
    f.write_str("SHOW MEASUREMENTS")?;
    write_opt_on(f, &s.database)?;
    if let Some(m) = &s.source {
        let op = if matches!(m.name, MeasurementName::Regex(_)) {
            "=~"
        } else {
            "="
        };
        write!(f, " WITH MEASUREMENT {op} {m}")?;
    }
    write_where(f, &s.condition)?;
    write_order(f, &s.sort_fields)?;
    write_num(f, "LIMIT", s.limit)?;
    write_num(f, "OFFSET", s.offset)
}

fn write_show_series(f: &mut Formatter<'_>, s: &ShowSeriesStatement) -> fmt::Result {
    f.write_str("SHOW SERIES")?;
    write_opt_on(f, &s.database)?;
    write_from(f, &s.sources)?;
    write_where(f, &s.condition)?;
    write_order(f, &s.sort_fields)?;
    write_num(f, "LIMIT", s.limit)?;
    write_num(f, "OFFSET", s.offset)
}

fn write_show_tag_keys(f: &mut Formatter<'_>, s: &ShowTagKeysStatement) -> fmt::Result {
    f.write_str("SHOW TAG KEYS")?;
    write_opt_on(f, &s.database)?;
    write_from(f, &s.sources)?;
    write_where(f, &s.condition)?;
    write_order(f, &s.sort_fields)?;
    write_num(f, "LIMIT", s.limit)?;
    write_num(f, "OFFSET", s.offset)?;
    write_num(f, "SLIMIT", s.slimit)?;
    write_num(f, "SOFFSET", s.soffset)
}

fn write_show_tag_values(f: &mut Formatter<'_>, s: &ShowTagValuesStatement) -> fmt::Result {
    f.write_str("SHOW TAG VALUES")?;
    write_opt_on(f, &s.database)?;
    write_from(f, &s.sources)?;
    write!(f, " WITH KEY {}", s.key)?;
    write_where(f, &s.condition)?;
    write_order(f, &s.sort_fields)?;
    write_num(f, "LIMIT", s.limit)?;
    write_num(f, "OFFSET", s.offset)
}

fn write_show_field_keys(f: &mut Formatter<'_>, s: &ShowFieldKeysStatement) -> fmt::Result {
    f.write_str("SHOW FIELD KEYS")?;
    write_opt_on(f, &s.database)?;
    write_from(f, &s.sources)?;
    write_order(f, &s.sort_fields)?;
    write_num(f, "LIMIT", s.limit)?;
    write_num(f, "OFFSET", s.offset)
}

fn write_show_cardinality(f: &mut Formatter<'_>, s: &ShowCardinalityStatement) -> fmt::Result {
    let exact = if s.exact { " EXACT" } else { "" };
    let what = match &s.kind {
        CardinalityKind::Series => "SERIES",
        CardinalityKind::Measurement => "MEASUREMENT",
        CardinalityKind::TagKey => "TAG KEY",
        CardinalityKind::FieldKey => "FIELD KEY",
        CardinalityKind::TagValues(_) => "TAG VALUES",
    };
    write!(f, "SHOW {what}{exact} CARDINALITY")?;
    write_opt_on(f, &s.database)?;
    write_from(f, &s.sources)?;
    if let CardinalityKind::TagValues(k) = &s.kind {
        write!(f, " WITH KEY {k}")?;
    }
    write_where(f, &s.condition)?;
    write_group_by(f, &s.dimensions)?;
    write_num(f, "LIMIT", s.limit)?;
    write_num(f, "OFFSET", s.offset)
}

/// `SHOW STATS` / `SHOW DIAGNOSTICS` (`keyword`) with an optional `FOR 'module'`.
fn write_show_module(f: &mut Formatter<'_>, keyword: &str, module: &Option<String>) -> fmt::Result {
    f.write_str(keyword)?;
    if let Some(m) = module {
        write!(f, " FOR {}", quote_string(m))?;
    }
    Ok(())
}
