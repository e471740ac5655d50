//! InfluxQL ("TimeseriesQL"): parser, AST and translation to ClickHouse SQL.
//!
//! Architecture invariant: pure. The translator produces SQL text and never executes it.
//!
//! - [`parser`]: InfluxQL text → [`ast`] (pest grammar in `src/grammar.pest`), with
//!   InfluxDB-identical error messages and bound parameters;
//! - [`ast`]: typed statements and expressions, canonical printing, and helpers for the
//!   translator (time ranges, `GROUP BY time` interval, raw vs aggregate);
//! - [`translate`]: `WHERE` conditions in ClickHouse SQL;
//! - [`sql`]: every statement the read path sends to storage, described as data (built by
//!   the application: what to read) and rendered here (how to say it in SQL).

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod ast;
pub mod parser;
pub mod sql;
pub mod translate;

pub use parser::{parse, ParseError};
