//! InfluxQL functions computed in Rust over result streams: the transformations and
//! technical-analysis functions that ClickHouse cannot express directly, with InfluxDB's
//! exact semantics.
