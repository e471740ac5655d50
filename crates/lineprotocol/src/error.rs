//! Why a single line was rejected, worded exactly as InfluxDB 1.6 words it.
//!
//! The `Display` text of every variant is the `<reason>` part of InfluxDB's
//! `unable to parse '<line>': <reason>` message; [`crate::parse`] adds the prefix.

/// The reason a line of line protocol was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line starts with a comma (no measurement name).
    #[error("missing measurement")]
    MissingMeasurement,
    /// The line ends before any field (`cpu`, `cpu,host=a`).
    #[error("missing fields")]
    MissingFields,
    /// An empty tag key (`cpu,=a`, `cpu, v=1`, `cpu,a=1, v=1`).
    #[error("missing tag key")]
    MissingTagKey,
    /// A tag without `=` or with an empty value (`cpu,host v=1`, `cpu,host= v=1`).
    #[error("missing tag value")]
    MissingTagValue,
    /// An unescaped `=` inside a tag value (`cpu,host=a=b v=1`).
    #[error("invalid tag format")]
    InvalidTagFormat,
    /// The same tag key twice in one line.
    #[error("duplicate tags")]
    DuplicateTags,
    /// The series key (or series key plus field key) is longer than 65535 bytes.
    #[error("max key length exceeded: {0} > 65535")]
    MaxKeyLength(usize),
    /// A field with an empty key (`cpu =1`, `cpu v=1,=2`).
    #[error("missing field key")]
    MissingFieldKey,
    /// A field with nothing after `=` (`cpu v=`, `cpu v=,w=1`).
    #[error("missing field value")]
    MissingFieldValue,
    /// The field section is not a list of `key=value` pairs (`cpu v`, `cpu v=1,w`).
    #[error("invalid field format")]
    InvalidFieldFormat,
    /// A string field value that is never closed.
    #[error("unbalanced quotes")]
    UnbalancedQuotes,
    /// A malformed number (`12x3i`, `1.5i`, `NaN`, `-`).
    #[error("invalid number")]
    InvalidNumber,
    /// A float that does not fit a 64-bit float (`1e400`) or a malformed exponent (`1e`).
    #[error("invalid float")]
    InvalidFloat,
    /// A value that is neither a number, a string nor one of InfluxDB's boolean spellings.
    #[error("invalid boolean")]
    InvalidBoolean,
    /// An `i` integer outside the signed 64-bit range; holds the digits as written.
    #[error("unable to parse integer {0}: strconv.ParseInt: parsing \"{0}\": value out of range")]
    IntegerOutOfRange(String),
    /// A `u` integer outside the unsigned 64-bit range; holds the digits as written.
    #[error(
        "unable to parse unsigned {0}: strconv.ParseUint: parsing \"{0}\": value out of range"
    )]
    UnsignedOutOfRange(String),
    /// A field key whose `=` is escaped by a preceding backslash, as InfluxDB sees it
    /// (`a\\=1`); holds the raw key.
    #[error("invalid value: field-key={0}")]
    InvalidFieldKey(String),
    /// A timestamp containing something other than an optional leading `-` and digits.
    #[error("bad timestamp")]
    BadTimestamp,
    /// A timestamp of digits that does not fit a signed 64-bit integer; holds the text.
    #[error("strconv.ParseInt: parsing \"{0}\": value out of range")]
    TimestampOutOfRange(String),
    /// A timestamp that is only `-`.
    #[error("strconv.ParseInt: parsing \"{0}\": invalid syntax")]
    TimestampSyntax(String),
    /// A timestamp outside `[MIN_NANOS, MAX_NANOS]` once scaled to nanoseconds.
    #[error(
        "time outside range {} - {}",
        hyperbyte_domain::time::MIN_NANOS,
        hyperbyte_domain::time::MAX_NANOS
    )]
    TimeOutsideRange,
    /// Something other than spaces after the timestamp.
    #[error("point is invalid")]
    PointIsInvalid,
}
