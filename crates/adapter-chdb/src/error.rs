//! Errors of the chDB adapter, and the parsing of the engine's textual errors
//! (`Code: N. DB::Exception: ...`) into typed errors that carry the code, so callers can
//! branch on it (e.g. 60/81: unknown table/database) without matching on text.

use hyperbyte_ports::{QueryError, SinkError};
use std::path::PathBuf;

/// Engine error code: unknown table.
pub const CODE_UNKNOWN_TABLE: i32 = 60;
/// `MEMORY_LIMIT_EXCEEDED`: a statement, or the engine as a whole, reached its memory
/// limit.
pub(crate) const CODE_MEMORY_LIMIT_EXCEEDED: i32 = 241;
/// `TOO_MANY_PARTS`: inserts outran background merges.
pub(crate) const CODE_TOO_MANY_PARTS: i32 = 252;
/// Engine error code: unknown database.
pub const CODE_UNKNOWN_DATABASE: i32 = 81;

/// A failure of the chDB adapter.
#[derive(Debug, thiserror::Error)]
pub enum ChdbError {
    /// The engine rejected or failed a statement.
    #[error("engine error (code {code}): {message}")]
    Engine {
        /// ClickHouse error code (`Code: N`), 0 when the message carried none.
        code: i32,
        /// The engine's message (without the `Code: N. DB::Exception: ` prefix).
        message: String,
    },
    /// The process already runs the engine on another storage path (chDB serves one
    /// path per process).
    #[error(
        "chDB is already open on {active}; one storage path per process, cannot open {requested}"
    )]
    PathInUse {
        /// The path the engine is open on.
        active: PathBuf,
        /// The path that was asked for.
        requested: PathBuf,
    },
    /// Connecting to the engine failed (the engine prints the reason on stderr only,
    /// e.g. another process holds the path's lock).
    #[error("cannot open chDB on {path}: {reason}")]
    Connect {
        /// Storage path.
        path: PathBuf,
        /// What is known about the failure.
        reason: String,
    },
    /// A result could not be decoded.
    #[error("result decode error: {0}")]
    Decode(String),
    /// The engine's output buffer disagrees with the engine's own count of result rows
    /// (seen twice right after an overload: one buffer held a second header and row).
    /// Reads are retried once on this error.
    #[error("result decode error: {0}")]
    Garbled(String),
    /// The request cannot be served (bad batch, type conflict, invalid argument).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A file-system operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The engine was shut down ([`crate::ChdbEngine::shutdown`]).
    #[error("chDB engine is shut down")]
    ShutDown,
    /// A blocking task failed (panicked or was cancelled).
    #[error("engine task failed: {0}")]
    Task(String),
}

impl ChdbError {
    /// The engine error code, if this is an engine error.
    pub fn code(&self) -> Option<i32> {
        match self {
            ChdbError::Engine { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the error means that a table or database does not exist.
    pub fn is_missing_table(&self) -> bool {
        matches!(
            self,
            ChdbError::Engine {
                code: CODE_UNKNOWN_TABLE | CODE_UNKNOWN_DATABASE,
                ..
            }
        )
    }

    /// Builds an engine error from the engine's message text.
    pub fn from_engine_message(text: &str) -> Self {
        let (code, message) = parse_engine_error(text);
        ChdbError::Engine { code, message }
    }
}

impl From<chdb_rust::error::Error> for ChdbError {
    fn from(e: chdb_rust::error::Error) -> Self {
        use chdb_rust::error::Error as E;
        match e {
            E::QueryError(text) => ChdbError::from_engine_message(&text),
            E::EngineShutDown => ChdbError::ShutDown,
            E::PathConflict { active, requested } => ChdbError::PathInUse {
                active: active.into(),
                requested: requested.into(),
            },
            other => ChdbError::Engine {
                code: 0,
                message: other.to_string(),
            },
        }
    }
}

impl From<ChdbError> for QueryError {
    fn from(e: ChdbError) -> Self {
        match e {
            ChdbError::Engine { code, message } => QueryError::Engine { code, message },
            ChdbError::Decode(m) | ChdbError::Garbled(m) => QueryError::Decode(m),
            other => QueryError::Engine {
                code: 0,
                message: other.to_string(),
            },
        }
    }
}

impl From<ChdbError> for SinkError {
    fn from(e: ChdbError) -> Self {
        match e {
            // The per-block partition limit (also 252) is off on the writer sessions:
            // 252 means merges lag behind inserts.
            ChdbError::Engine {
                code: CODE_MEMORY_LIMIT_EXCEEDED | CODE_TOO_MANY_PARTS,
                message,
            } if !message.contains("partitions for single INSERT") => SinkError::Busy(message),
            ChdbError::Engine { code, message } => SinkError::Engine { code, message },
            ChdbError::Invalid(m) => SinkError::Invalid(m),
            other => SinkError::Other(other.to_string()),
        }
    }
}

/// Splits an engine error text into its code and message.
///
/// Accepts `Code: 60. DB::Exception: Table x doesn't exist. (UNKNOWN_TABLE)` (possibly
/// with leading text or a trailing version note) and returns `(60, "Table x doesn't
/// exist. (UNKNOWN_TABLE)")`. Text without a code yields code 0 and the trimmed text.
pub fn parse_engine_error(text: &str) -> (i32, String) {
    let text = text.trim();
    let Some(at) = text.find("Code: ") else {
        return (0, text.to_string());
    };
    let rest = &text[at + "Code: ".len()..];
    let digits: usize = rest
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
        .map(|(_, c)| c.len_utf8())
        .sum();
    let Ok(code) = rest[..digits].parse::<i32>() else {
        return (0, text.to_string());
    };
    let mut message = rest[digits..].trim_start_matches('.').trim_start();
    if let Some(m) = message.strip_prefix("DB::Exception:") {
        message = m.trim_start();
    }
    // Drop the engine's version suffix, which carries no information for users.
    let message = match message.rfind(" (version ") {
        Some(i) if message.ends_with(')') => &message[..i],
        _ => message,
    };
    (code, message.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_code_and_message() {
        let (c, m) = parse_engine_error(
            "Code: 60. DB::Exception: Unknown table expression identifier 'x' in scope SELECT * FROM x. (UNKNOWN_TABLE)",
        );
        assert_eq!(c, 60);
        assert_eq!(
            m,
            "Unknown table expression identifier 'x' in scope SELECT * FROM x. (UNKNOWN_TABLE)"
        );
    }

    #[test]
    fn parses_with_prefix_and_version() {
        let (c, m) = parse_engine_error(
            "Received exception:\nCode: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR) (version 26.7.2.1)\n",
        );
        assert_eq!(c, 62);
        assert_eq!(m, "Syntax error: failed at position 1. (SYNTAX_ERROR)");
    }

    #[test]
    fn text_without_code() {
        assert_eq!(parse_engine_error(" boom "), (0, "boom".to_string()));
        assert_eq!(parse_engine_error("Code: x"), (0, "Code: x".to_string()));
    }

    #[test]
    fn missing_table_codes() {
        assert!(ChdbError::from_engine_message(
            "Code: 81. DB::Exception: Database a does not exist"
        )
        .is_missing_table());
        assert!(!ChdbError::from_engine_message("Code: 62. DB::Exception: x").is_missing_table());
    }
}
