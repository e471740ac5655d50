//! InfluxQL ("TimeseriesQL"): parser, AST and translation to ClickHouse SQL.
//!
//! Architecture invariant: pure. The translator produces SQL text and never executes it.
