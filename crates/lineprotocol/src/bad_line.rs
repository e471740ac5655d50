//! A line the parser rejected.

use crate::error::LineError;
use std::fmt;

/// A rejected line: the line as InfluxDB quotes it and the reason.
/// `Display` gives InfluxDB's text, `unable to parse '<line>': <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine<'a> {
    /// The line without leading whitespace and line ending.
    pub line: &'a [u8],
    /// Why it was rejected.
    pub error: LineError,
}

impl fmt::Display for BadLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to parse '{}': {}",
            String::from_utf8_lossy(self.line),
            self.error
        )
    }
}
