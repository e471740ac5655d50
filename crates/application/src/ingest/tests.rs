//! Unit tests of the ingestion rules against port fakes.
