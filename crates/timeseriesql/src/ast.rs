//! Typed AST of InfluxQL 1.x, produced by [`crate::parser`].
//!
//! Why it exists: every later stage (metadata statements, SELECT translation to ClickHouse
//! SQL, `SHOW CONTINUOUS QUERIES` output) works on these types instead of text.
//!
//! Layout:
//! - [`Query`] → [`Statement`] (one variant per InfluxQL statement);
//! - [`SelectStatement`] with [`Field`], [`Source`], [`Measurement`], [`Target`], [`Fill`],
//!   [`SortField`];
//! - [`Expr`] for every expression (conditions, fields, dimensions, call arguments);
//! - printing: `Display` on every node prints canonical InfluxQL in InfluxDB's `String()`
//!   style, which parses back to an equal AST (see `ast/display.rs`);
//! - helpers used by the translator: [`Expr::walk`], [`SelectStatement::group_by_interval`],
//!   [`SelectStatement::is_raw`], [`SelectStatement::time_range`],
//!   [`SelectStatement::condition_without_time`] (see `ast/time.rs`).
//!
//! Durations are `i64` nanoseconds everywhere (`INF` is `0`, as in InfluxDB).

pub(crate) mod display;
mod time;
mod time_literal;

pub use display::{format_duration, quote_ident, quote_string};
pub use time::{parse_time_string, TimeRange, TimeRangeError};

/// A parsed request: zero or more statements separated by `;`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

/// One InfluxQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SELECT ...`
    Select(Box<SelectStatement>),
    /// `DELETE [FROM m] [WHERE ...]`
    Delete(DeleteStatement),
    /// `DROP SERIES [FROM m] [WHERE ...]`
    DropSeries(DeleteStatement),
    /// `EXPLAIN [ANALYZE] SELECT ...`
    Explain(ExplainStatement),
    /// `CREATE DATABASE name [WITH ...]`
    CreateDatabase(CreateDatabaseStatement),
    /// `DROP DATABASE name`
    DropDatabase {
        /// Database name.
        name: String,
    },
    /// `CREATE RETENTION POLICY ...`
    CreateRetentionPolicy(CreateRetentionPolicyStatement),
    /// `ALTER RETENTION POLICY ...`
    AlterRetentionPolicy(AlterRetentionPolicyStatement),
    /// `DROP RETENTION POLICY rp ON db`
    DropRetentionPolicy {
        /// Policy name.
        name: String,
        /// Database name.
        database: String,
    },
    /// `CREATE CONTINUOUS QUERY ...`
    CreateContinuousQuery(Box<CreateContinuousQueryStatement>),
    /// `DROP CONTINUOUS QUERY name ON db`
    DropContinuousQuery {
        /// CQ name.
        name: String,
        /// Database name.
        database: String,
    },
    /// `CREATE USER u WITH PASSWORD 'p' [WITH ALL PRIVILEGES]`
    CreateUser {
        /// User name.
        name: String,
        /// Password (clear text, as sent).
        password: String,
        /// `WITH ALL PRIVILEGES`.
        admin: bool,
    },
    /// `DROP USER u`
    DropUser {
        /// User name.
        name: String,
    },
    /// `SET PASSWORD FOR u = 'p'`
    SetPassword {
        /// User name.
        name: String,
        /// New password.
        password: String,
    },
    /// `GRANT priv ON db TO u` / `GRANT ALL [PRIVILEGES] TO u` (admin when `database` is `None`).
    Grant {
        /// Privilege.
        privilege: Privilege,
        /// Database; `None` for the admin form.
        database: Option<String>,
        /// User name.
        user: String,
    },
    /// `REVOKE priv ON db FROM u` / `REVOKE ALL [PRIVILEGES] FROM u`.
    Revoke {
        /// Privilege.
        privilege: Privilege,
        /// Database; `None` for the admin form.
        database: Option<String>,
        /// User name.
        user: String,
    },
    /// `CREATE SUBSCRIPTION name ON db.rp DESTINATIONS ALL|ANY 'url', ...`
    CreateSubscription {
        /// Subscription name.
        name: String,
        /// Database.
        database: String,
        /// Retention policy.
        retention_policy: String,
        /// `ALL` or `ANY`.
        mode: String,
        /// Destination URLs.
        destinations: Vec<String>,
    },
    /// `DROP SUBSCRIPTION name ON db.rp`
    DropSubscription {
        /// Subscription name.
        name: String,
        /// Database.
        database: String,
        /// Retention policy.
        retention_policy: String,
    },
    /// `DROP MEASUREMENT m`
    DropMeasurement {
        /// Measurement name.
        name: String,
    },
    /// `DROP SHARD n`
    DropShard {
        /// Shard id.
        id: u64,
    },
    /// `KILL QUERY n [ON host]`
    KillQuery {
        /// Query id.
        query_id: u64,
        /// Optional host.
        host: Option<String>,
    },
    /// `SHOW DATABASES`
    ShowDatabases,
    /// `SHOW RETENTION POLICIES [ON db]`
    ShowRetentionPolicies {
        /// Database.
        database: Option<String>,
    },
    /// `SHOW MEASUREMENTS ...`
    ShowMeasurements(ShowMeasurementsStatement),
    /// `SHOW SERIES ...`
    ShowSeries(ShowSeriesStatement),
    /// `SHOW TAG KEYS ...`
    ShowTagKeys(ShowTagKeysStatement),
    /// `SHOW TAG VALUES ... WITH KEY ...`
    ShowTagValues(ShowTagValuesStatement),
    /// `SHOW FIELD KEYS ...`
    ShowFieldKeys(ShowFieldKeysStatement),
    /// `SHOW {SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES} [EXACT] CARDINALITY ...`
    ShowCardinality(ShowCardinalityStatement),
    /// `SHOW CONTINUOUS QUERIES`
    ShowContinuousQueries,
    /// `SHOW SHARDS`
    ShowShards,
    /// `SHOW SHARD GROUPS`
    ShowShardGroups,
    /// `SHOW STATS [FOR 'module']`
    ShowStats {
        /// Module.
        module: Option<String>,
    },
    /// `SHOW DIAGNOSTICS [FOR 'module']`
    ShowDiagnostics {
        /// Module.
        module: Option<String>,
    },
    /// `SHOW USERS`
    ShowUsers,
    /// `SHOW GRANTS FOR u`
    ShowGrants {
        /// User name.
        user: String,
    },
    /// `SHOW QUERIES`
    ShowQueries,
    /// `SHOW SUBSCRIPTIONS`
    ShowSubscriptions,
}

/// A user privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// `READ`
    Read,
    /// `WRITE`
    Write,
    /// `ALL [PRIVILEGES]`
    All,
}

/// `SELECT` statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectStatement {
    /// Projected fields (at least one).
    pub fields: Vec<Field>,
    /// `INTO` target.
    pub target: Option<Target>,
    /// `FROM` sources (at least one).
    pub sources: Vec<Source>,
    /// `WHERE` condition.
    pub condition: Option<Expr>,
    /// `GROUP BY` dimensions (`time(...)` calls, tag refs, `*`, regexes).
    pub dimensions: Vec<Expr>,
    /// `fill(...)`; [`Fill::Null`] when absent.
    pub fill: Fill,
    /// `ORDER BY` fields (InfluxDB only accepts `time`).
    pub sort_fields: Vec<SortField>,
    /// `LIMIT n`.
    pub limit: Option<u64>,
    /// `OFFSET n`.
    pub offset: Option<u64>,
    /// `SLIMIT n`.
    pub slimit: Option<u64>,
    /// `SOFFSET n`.
    pub soffset: Option<u64>,
    /// `tz('Area/City')`, validated against the IANA zone list.
    pub timezone: Option<String>,
}

/// One projected field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The expression (a [`Expr::Regex`] for `SELECT /re/`).
    pub expr: Expr,
    /// `AS alias`.
    pub alias: Option<String>,
}

/// One `FROM` source.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A measurement name or regex, optionally qualified.
    Measurement(Measurement),
    /// `(SELECT ...)`
    Subquery(Box<SelectStatement>),
}

/// A (possibly qualified) measurement or measurement regex.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Database (`db.rp.m`, `db..m`).
    pub database: Option<String>,
    /// Retention policy (`db.rp.m`, `rp.m`).
    pub retention_policy: Option<String>,
    /// The name or regex.
    pub name: MeasurementName,
}

/// The last segment of a [`Measurement`].
#[derive(Debug, Clone, PartialEq)]
pub enum MeasurementName {
    /// A literal name.
    Name(String),
    /// A regex (`/cpu.*/`).
    Regex(Regex),
}

/// `INTO` target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Database.
    pub database: Option<String>,
    /// Retention policy.
    pub retention_policy: Option<String>,
    /// Measurement; `None` is the `:MEASUREMENT` back-reference.
    pub measurement: Option<String>,
}

/// `fill(...)` option.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fill {
    /// `fill(null)` (the default).
    #[default]
    Null,
    /// `fill(none)`.
    None,
    /// `fill(previous)`.
    Previous,
    /// `fill(linear)`.
    Linear,
    /// `fill(<integer>)`.
    Integer(i64),
    /// `fill(<float>)`.
    Float(f64),
}

/// One `ORDER BY` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortField {
    /// Field name (empty for the bare `ORDER BY DESC` form).
    pub name: String,
    /// Ascending?
    pub ascending: bool,
}

/// A regex literal; `pattern` is the text between the slashes with `\/` unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    /// RE2-syntax pattern.
    pub pattern: String,
}

/// Type hint of a variable reference (`value::float`, `host::tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    /// `::float`
    Float,
    /// `::integer`
    Integer,
    /// `::unsigned`
    Unsigned,
    /// `::string`
    String,
    /// `::boolean`
    Boolean,
    /// `::field`
    Field,
    /// `::tag`
    Tag,
}

/// Type restriction of a wildcard (`*::field`, `*::tag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WildcardType {
    /// `*::field`
    Field,
    /// `*::tag`
    Tag,
}

/// Binary operators, by InfluxQL precedence (low to high): `OR`; `AND`; comparisons;
/// `+ - | ^`; `* / % &`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `OR`
    Or,
    /// `AND`
    And,
    /// `=`
    Eq,
    /// `!=` (also `<>`)
    NotEq,
    /// `=~`
    EqRegex,
    /// `!~`
    NotEqRegex,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `&`
    BitAnd,
}

impl BinaryOp {
    /// InfluxQL precedence (1 = `OR` … 5 = multiplicative).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::EqRegex
            | BinaryOp::NotEqRegex
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => 3,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::BitOr | BinaryOp::BitXor => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::BitAnd => 5,
        }
    }

    /// Whether the operator yields a boolean (comparison or logical); InfluxDB rejects
    /// these in the SELECT clause.
    pub fn is_boolean(self) -> bool {
        self.precedence() <= 3
    }

    /// Whether the operator compares two values (`=`, `!=`, `<`, `<=`, `>`, `>=`, `=~`,
    /// `!~`).
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    /// Whether the operator is `+`, `-`, `*`, `/` or `%`.
    pub fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
        )
    }

    /// Whether the operator is `&`, `|` or `^`.
    pub fn is_bitwise(self) -> bool {
        matches!(self, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor)
    }

    /// The operator's InfluxQL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::EqRegex => "=~",
            BinaryOp::NotEqRegex => "!~",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::BitAnd => "&",
        }
    }
}

/// An InfluxQL expression.
///
/// Unary minus follows InfluxDB: `-<literal>` folds into the literal and `-x` becomes
/// `-1 * x` (printed back as `-x`). Parentheses are kept as [`Expr::Paren`].
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field or tag reference; dotted segments are joined with `.`.
    VarRef {
        /// Name.
        name: String,
        /// `::type` hint.
        data_type: Option<VarType>,
    },
    /// A function call; `name` is lower-cased. `time(...)`, `now()`, `fill(...)` are calls too.
    Call {
        /// Function name (lower case).
        name: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// A binary operation.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `( expr )`
    Paren(Box<Expr>),
    /// `*`, `*::field`, `*::tag`
    Wildcard(Option<WildcardType>),
    /// Integer literal.
    Integer(i64),
    /// Unsigned literal (an integer literal above `i64::MAX`).
    Unsigned(u64),
    /// Float literal.
    Float(f64),
    /// String literal (also time literals like `'2000-01-01T00:00:00Z'`).
    String(String),
    /// Boolean literal.
    Boolean(bool),
    /// Duration literal in nanoseconds (`1h`, `1000ms`).
    Duration(i64),
    /// Regex literal (`/re/`).
    Regex(Regex),
}

impl Expr {
    /// Depth of the tree: 1 for a leaf, 1 + the deepest child otherwise.
    ///
    /// Iterative (an explicit stack on the heap), so it is safe on any tree. Every
    /// expression the parser returns has `depth() <= MAX_EXPR_DEPTH`
    /// ([`crate::parser::MAX_EXPR_DEPTH`]); code that recurses over an `Expr` (evaluators,
    /// rewriters) may rely on that bound, and should check trees it builds itself.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            deepest = deepest.max(d);
            match e {
                Expr::Call { args, .. } => stack.extend(args.iter().map(|a| (a, d + 1))),
                Expr::Binary { lhs, rhs, .. } => {
                    stack.push((lhs, d + 1));
                    stack.push((rhs, d + 1));
                }
                Expr::Paren(inner) => stack.push((inner, d + 1)),
                _ => {}
            }
        }
        deepest
    }

    /// Calls `f` on this node and then on every descendant (pre-order).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Call { args, .. } => args.iter().for_each(|a| a.walk(f)),
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            Expr::Paren(e) => e.walk(f),
            _ => {}
        }
    }

    /// Mutable pre-order walk.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Expr)) {
        f(self);
        match self {
            Expr::Call { args, .. } => args.iter_mut().for_each(|a| a.walk_mut(f)),
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk_mut(f);
                rhs.walk_mut(f);
            }
            Expr::Paren(e) => e.walk_mut(f),
            _ => {}
        }
    }

    /// Whether any node satisfies `pred`.
    pub fn any(&self, pred: &mut impl FnMut(&Expr) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if !found && pred(e) {
                found = true;
            }
        });
        found
    }

    /// Strips any number of enclosing parentheses.
    pub fn unparen(&self) -> &Expr {
        let mut e = self;
        while let Expr::Paren(inner) = e {
            e = inner;
        }
        e
    }

    /// A plain variable reference (no type hint), for tests and builders.
    pub fn var(name: &str) -> Expr {
        Expr::VarRef {
            name: name.to_string(),
            data_type: None,
        }
    }

    /// A call, for tests and builders.
    pub fn call(name: &str, args: Vec<Expr>) -> Expr {
        Expr::Call {
            name: name.to_ascii_lowercase(),
            args,
        }
    }

    /// A binary expression, for tests and builders.
    pub fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        Expr::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        }
    }

    /// The Go type of InfluxQL's AST node for this expression, which some of InfluxDB's
    /// errors print ("invalid operation: time and *influxql.VarRef are not compatible").
    pub fn influxql_node_name(&self) -> &'static str {
        match self {
            Expr::VarRef { .. } => "VarRef",
            Expr::Call { .. } => "Call",
            Expr::Binary { .. } => "BinaryExpr",
            Expr::Paren(_) => "ParenExpr",
            Expr::Wildcard(_) => "Wildcard",
            Expr::Integer(_) => "IntegerLiteral",
            Expr::Unsigned(_) => "UnsignedLiteral",
            Expr::Float(_) => "NumberLiteral",
            Expr::String(_) => "StringLiteral",
            Expr::Boolean(_) => "BooleanLiteral",
            Expr::Duration(_) => "DurationLiteral",
            Expr::Regex(_) => "RegexLiteral",
        }
    }

    /// Whether this is a reference to `time`, in any case, as InfluxDB reads one in a
    /// condition (in a field list only `time` itself names the time column).
    pub fn is_time_ref(&self) -> bool {
        matches!(self.unparen(), Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time"))
    }

    /// Removes the parentheses around anything but a binary operation, at any depth, as
    /// InfluxDB reduces a column before it compiles it: `max((v))` is `max(v)`, `(*)` is
    /// `*`, `((v))` is `v`, and `(((v) + 1)) * 2` is `(v + 1) * 2`. The statement's text
    /// (a continuous query's, say) keeps what was written; this is for evaluation.
    pub fn reduce_parens(&mut self) {
        self.walk_mut(&mut |e| {
            if !matches!(e, Expr::Paren(_)) {
                return;
            }
            let mut inner = std::mem::replace(e, Expr::Boolean(false));
            while let Expr::Paren(x) = inner {
                inner = *x;
            }
            *e = if matches!(inner, Expr::Binary { .. }) {
                Expr::Paren(Box::new(inner))
            } else {
                inner
            };
        });
    }
}

impl SelectStatement {
    /// `true` when no field contains a function call (InfluxDB's `IsRawQuery`).
    pub fn is_raw(&self) -> bool {
        !self.has_calls()
    }

    /// Whether any field contains a function call (aggregate, selector or transform).
    pub fn has_calls(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.expr.any(&mut |e| matches!(e, Expr::Call { .. })))
    }

    /// The `fill(...)` option.
    pub fn fill(&self) -> &Fill {
        &self.fill
    }

    /// The `time(...)` dimension, if any.
    pub fn group_by_time_call(&self) -> Option<&[Expr]> {
        self.dimensions.iter().find_map(|d| match d {
            Expr::Call { name, args } if name == "time" => Some(args.as_slice()),
            _ => None,
        })
    }

    /// `GROUP BY time(interval[, offset])` as `(interval_ns, offset_ns)`, with the offset
    /// normalised into `[0, interval)`. A `now()` offset needs the query time: see
    /// [`SelectStatement::group_by_interval_at`]; here it counts as `0`.
    pub fn group_by_interval(&self) -> Option<(i64, i64)> {
        self.group_by_interval_at(None)
    }

    /// Like [`SelectStatement::group_by_interval`], resolving a `now()` offset against
    /// `now_nanos` (offset = `now mod interval`, as InfluxDB).
    pub fn group_by_interval_at(&self, now_nanos: Option<i64>) -> Option<(i64, i64)> {
        let args = self.group_by_time_call()?;
        let interval = match args.first()? {
            Expr::Duration(d) if *d > 0 => *d,
            _ => return None,
        };
        let offset = match args.get(1) {
            None => 0,
            Some(Expr::Duration(d)) => *d,
            Some(Expr::Call { name, args }) if name == "now" && args.is_empty() => {
                now_nanos.unwrap_or(0)
            }
            Some(_) => return None,
        };
        Some((interval, offset.rem_euclid(interval)))
    }

    /// Whether results are ordered by time descending.
    pub fn is_descending(&self) -> bool {
        self.sort_fields.first().is_some_and(|s| !s.ascending)
    }

    /// Names of the measurements in `FROM` (not regexes nor subqueries).
    pub fn measurement_names(&self) -> Vec<&str> {
        self.sources
            .iter()
            .filter_map(|s| match s {
                Source::Measurement(Measurement {
                    name: MeasurementName::Name(n),
                    ..
                }) => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// `DELETE` / `DROP SERIES` body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeleteStatement {
    /// `FROM` sources (measurement names or regexes, never qualified).
    pub sources: Vec<Measurement>,
    /// `WHERE` condition.
    pub condition: Option<Expr>,
}

/// `EXPLAIN [ANALYZE] SELECT ...`
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainStatement {
    /// `ANALYZE`.
    pub analyze: bool,
    /// The explained query.
    pub statement: Box<SelectStatement>,
}

/// `CREATE DATABASE name [WITH [DURATION d] [REPLICATION n] [SHARD DURATION d] [NAME rp]]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateDatabaseStatement {
    /// Database name.
    pub name: String,
    /// Whether a `WITH` clause was present.
    pub retention_policy_create: bool,
    /// `DURATION` (0 = INF).
    pub duration: Option<i64>,
    /// `REPLICATION`.
    pub replication: Option<u32>,
    /// `SHARD DURATION` (0 = INF / default).
    pub shard_duration: Option<i64>,
    /// `NAME`.
    pub rp_name: Option<String>,
}

/// `CREATE RETENTION POLICY rp ON db DURATION d REPLICATION n [SHARD DURATION d] [DEFAULT]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateRetentionPolicyStatement {
    /// Policy name.
    pub name: String,
    /// Database.
    pub database: String,
    /// Duration (0 = INF).
    pub duration: i64,
    /// Replication factor.
    pub replication: u32,
    /// Shard group duration (`None` = server default).
    pub shard_duration: Option<i64>,
    /// `DEFAULT`.
    pub default: bool,
}

/// `ALTER RETENTION POLICY rp ON db [DURATION d] [REPLICATION n] [SHARD DURATION d] [DEFAULT]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlterRetentionPolicyStatement {
    /// Policy name (`default` for `ALTER RETENTION POLICY DEFAULT`).
    pub name: String,
    /// Database.
    pub database: String,
    /// New duration.
    pub duration: Option<i64>,
    /// New replication.
    pub replication: Option<u32>,
    /// New shard group duration.
    pub shard_duration: Option<i64>,
    /// `DEFAULT`.
    pub default: bool,
}

/// `CREATE CONTINUOUS QUERY name ON db [RESAMPLE [EVERY d] [FOR d]] BEGIN select END`
///
/// Equality ignores the two original-text fields.
#[derive(Debug, Clone)]
pub struct CreateContinuousQueryStatement {
    /// CQ name.
    pub name: String,
    /// Database.
    pub database: String,
    /// `RESAMPLE EVERY`.
    pub resample_every: Option<i64>,
    /// `RESAMPLE FOR`.
    pub resample_for: Option<i64>,
    /// The inner select (always has `INTO`).
    pub source: SelectStatement,
    /// Original text of the whole statement.
    pub text: String,
    /// Original text of the inner `SELECT ...` (from `SELECT` to before `END`).
    pub select_text: String,
}

impl PartialEq for CreateContinuousQueryStatement {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.database == other.database
            && self.resample_every == other.resample_every
            && self.resample_for == other.resample_for
            && self.source == other.source
    }
}

/// `SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT (=|=~) m] [WHERE] [ORDER BY] [LIMIT] [OFFSET]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowMeasurementsStatement {
    /// `ON db`.
    pub database: Option<String>,
    /// `WITH MEASUREMENT = m` / `=~ /re/`.
    pub source: Option<Measurement>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY`.
    pub sort_fields: Vec<SortField>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// `SHOW SERIES [ON db] [FROM ...] [WHERE] [ORDER BY] [LIMIT] [OFFSET]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowSeriesStatement {
    /// `ON db`.
    pub database: Option<String>,
    /// `FROM`.
    pub sources: Vec<Measurement>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY`.
    pub sort_fields: Vec<SortField>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// `SHOW TAG KEYS [ON db] [FROM] [WHERE] [ORDER BY] [LIMIT] [OFFSET] [SLIMIT] [SOFFSET]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowTagKeysStatement {
    /// `ON db`.
    pub database: Option<String>,
    /// `FROM`.
    pub sources: Vec<Measurement>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY`.
    pub sort_fields: Vec<SortField>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
    /// `SLIMIT`.
    pub slimit: Option<u64>,
    /// `SOFFSET`.
    pub soffset: Option<u64>,
}

/// The `WITH KEY ...` part of `SHOW TAG VALUES`.
#[derive(Debug, Clone, PartialEq)]
pub enum TagKeyFilter {
    /// `= k`
    Eq(String),
    /// `!= k`
    NotEq(String),
    /// `IN (k1, k2)`
    In(Vec<String>),
    /// `=~ /re/`
    Regex(Regex),
    /// `!~ /re/`
    NotRegex(Regex),
}

/// `SHOW TAG VALUES [ON db] [FROM] WITH KEY ... [WHERE] [ORDER BY] [LIMIT] [OFFSET]`
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTagValuesStatement {
    /// `ON db`.
    pub database: Option<String>,
    /// `FROM`.
    pub sources: Vec<Measurement>,
    /// `WITH KEY ...`.
    pub key: TagKeyFilter,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `ORDER BY`.
    pub sort_fields: Vec<SortField>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// `SHOW FIELD KEYS [ON db] [FROM] [ORDER BY] [LIMIT] [OFFSET]`
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShowFieldKeysStatement {
    /// `ON db`.
    pub database: Option<String>,
    /// `FROM`.
    pub sources: Vec<Measurement>,
    /// `ORDER BY`.
    pub sort_fields: Vec<SortField>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

/// What a `SHOW ... CARDINALITY` statement counts.
#[derive(Debug, Clone, PartialEq)]
pub enum CardinalityKind {
    /// `SHOW SERIES [EXACT] CARDINALITY`
    Series,
    /// `SHOW MEASUREMENT [EXACT] CARDINALITY`
    Measurement,
    /// `SHOW TAG KEY [EXACT] CARDINALITY`
    TagKey,
    /// `SHOW FIELD KEY [EXACT] CARDINALITY`
    FieldKey,
    /// `SHOW TAG VALUES [EXACT] CARDINALITY WITH KEY ...`
    TagValues(TagKeyFilter),
}

/// `SHOW {SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES} [EXACT] CARDINALITY ...`
#[derive(Debug, Clone, PartialEq)]
pub struct ShowCardinalityStatement {
    /// What is counted.
    pub kind: CardinalityKind,
    /// `EXACT`.
    pub exact: bool,
    /// `ON db`.
    pub database: Option<String>,
    /// `FROM`.
    pub sources: Vec<Measurement>,
    /// `WHERE`.
    pub condition: Option<Expr>,
    /// `GROUP BY`.
    pub dimensions: Vec<Expr>,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: Option<u64>,
}

#[cfg(test)]
mod reduce_tests {
    use crate::ast::Statement;
    use crate::parser::parse;

    fn reduced(field: &str) -> String {
        let q = parse(&format!("SELECT {field} FROM m")).expect("parses");
        let Some(Statement::Select(stmt)) = q.statements.into_iter().next() else {
            panic!("not a select");
        };
        let mut e = stmt.fields[0].expr.clone();
        e.reduce_parens();
        e.to_string()
    }

    #[test]
    fn parentheses_stay_only_around_binary_operations() {
        assert_eq!(reduced("max((v))"), "max(v)");
        assert_eq!(reduced("max(((v::integer)))"), "max(v::integer)");
        assert_eq!(reduced("((v))"), "v");
        assert_eq!(reduced("(*)"), "*");
        assert_eq!(reduced("top((v), (h), 1)"), "top(v, h, 1)");
        assert_eq!(reduced("(((v) + 1)) * 2"), "(v + 1) * 2");
        assert_eq!(reduced("(max((w))) * 2"), "max(w) * 2");
        assert_eq!(reduced("v + (1)"), "v + 1");
    }
}
