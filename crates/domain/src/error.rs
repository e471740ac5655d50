//! Errors raised by domain rules (invalid names, bad durations).

/// A violated domain rule; the message is meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A duration literal that could not be parsed.
    #[error("invalid duration {0:?}")]
    InvalidDuration(String),
    /// A name that InfluxDB would refuse.
    #[error("invalid name {0:?}")]
    InvalidName(String),
}
