//! InfluxDB 1.x line protocol: parsing (pure, no I/O) and formatting.
//!
//! Architecture invariant: depends only on `hyperbyte-domain`; never panics on any input.
//!
//! The parser is a port of InfluxDB 1.6's own scanner, so that the same bodies are accepted
//! and rejected with the same texts. Everything below was checked against a real
//! InfluxDB 1.6.7 (`/work/shared/conformance/reference-influxd.sh`), including a
//! differential fuzz run of a few thousand random bodies (`examples/lp_dump.rs`).
//!
//! # API
//!
//! * [`parse`]: a body → [`Parsed`] (owned [`Point`]s plus InfluxDB's error strings).
//! * [`parse_each`]: the same rules without any allocation per line: a callback receives
//!   each line as a [`PointRef`] borrowing from the body (or a [`BadLine`]). Use it where
//!   points are copied into another representation anyway (WAL encoding, columnar
//!   batches): the ~33 small allocations [`Point`] needs per TSBS line cost more than the
//!   parsing itself.
//! * [`parse_refs`]: [`PointRef`]s collected (two allocations per line): what ingestion
//!   validates and encodes into the WAL without copying names.
//! * [`parse_line`]: one line.
//! * [`format_point`]: a [`Point`] → one line (`\n`-terminated, nanosecond timestamp) that
//!   parses back to the same point when [`is_representable`] holds.
//!
//! Plain lines (no `"` and no `\`, the common case) take a fused single-pass fast path;
//! anything else, including every error, goes through the exact port. Property tests
//! check that both paths agree.
//!
//! # Syntax, as InfluxDB 1.6 reads it
//!
//! `measurement[,tag=value...] field=value[,field=value...] [timestamp]`
//!
//! * **Lines** end at `\n`, except inside a quoted string field value or after a
//!   backslash. Blank lines, lines of only spaces/tabs/NUL and lines whose first
//!   non-blank byte is `#` are skipped; leading spaces/tabs/NUL are ignored. A trailing
//!   `\r` is removed (InfluxDB 1.6 rejects CRLF bodies with `bad timestamp` / `invalid
//!   number`; we accept them).
//! * **Measurement**: a byte after a backslash is never a separator; `\,` `\ ` `\=` `\"`
//!   unescape to the character, any other backslash is kept (`a\b` stays `a\b`,
//!   `a\\b` stays `a\\b`). An unescaped `=` is allowed (`a=b,t=1 v=1` is measurement
//!   `a=b`).
//! * **Tags**: keys and values end at an unescaped `=` / `,` / space (escaped = preceded by
//!   a backslash); `\,` `\ ` `\=` unescape, other backslashes (including `\"`) are kept.
//!   An unescaped `=` inside a value is an error, but a value may *start* with `=`
//!   (`t==x` is value `=x`). Tags are sorted by key; a repeated key is an error.
//! * **Field keys**: `\,` `\ ` `\=` `\"` unescape, other backslashes are kept.
//! * **Field values**, typed by their first byte: `"..."` string (`\\` → `\`, `\"` → `"`,
//!   other backslashes kept, newlines allowed); digits/`-`/`.` a number — float (`1`,
//!   `-1.5`, `1e3`, `1.`, `.5`), `i` suffix integer, `u` suffix unsigned (InfluxDB 1.6
//!   rejects `u` with `invalid number`; we accept it as [`FieldValue::Unsigned`]);
//!   otherwise a boolean: `t T true True TRUE f F false False FALSE`. NaN and Inf are not
//!   numbers (`NaN` → `invalid number`, `Inf` → `invalid boolean`). A float below the
//!   smallest subnormal is accepted as 0. A repeated field key keeps the last value.
//! * **Timestamp**: optional `-?digits` in `precision` units (n, u, ms, s, m, h), scaled
//!   to nanoseconds and checked against `[MIN_NANOS, MAX_NANOS]`
//!   (`-9223372036854775806 ..= 9223372036854775806`). Without one, the point gets the
//!   server time rounded down to the precision unit (`precision=s` → whole seconds).
//!   Spaces may follow the timestamp; anything else is `point is invalid`.
//! * Invalid UTF-8 in names or strings becomes U+FFFD (InfluxDB prints it that way).
//!
//! Known deviations (all for inputs InfluxDB itself mishandles): tags whose keys contain
//! escapes are ordered by their unescaped key (InfluxDB orders by the escaped bytes);
//! measurement names such as `a\\ b` (a backslash-escaped backslash before a separator)
//! are unescaped once (InfluxDB stores them inconsistently); `s="a"\r` (CR right after a
//! closing quote at the end of a line) loses the CR.
//!
//! # Error texts (`unable to parse '<line>': <reason>`)
//!
//! `<line>` is the line without leading whitespace and without its line ending.
//!
//! | input | reason |
//! |---|---|
//! | `,t=a v=1` | `missing measurement` |
//! | `m` / `m,t=a` | `missing fields` |
//! | `m,=a v=1` / `m, v=1` / `m,t=1, v=1` | `missing tag key` |
//! | `m,t v=1` / `m,t= v=1` / `m,t=1,u v=1` | `missing tag value` |
//! | `m,t=a=b v=1` / `m,t=x\ v=1` | `invalid tag format` |
//! | `m,a=1,a=2 v=1` | `duplicate tags` |
//! | key longer than 65535 bytes | `max key length exceeded: 65536 > 65535` |
//! | `m =1` / `m v=1,=2` | `missing field key` |
//! | `m v=` / `m v= 1` | `missing field value` |
//! | `m ` / `m v` / `m v=1,w` / `m\ v=1 1` / `m v=1,w=2, 1` | `invalid field format` |
//! | `m s="open 1` | `unbalanced quotes` |
//! | `m v=12x3i` / `m v=1.5i` / `m v=NaN` / `m v=-` / `m v=.` / `m v=-5u` | `invalid number` |
//! | `m v=1e400` / `m v=1e` | `invalid float` |
//! | `m v=yes` / `m v=Inf` / `m v=+5` / `m v=tru` | `invalid boolean` |
//! | `m i=9223372036854775808i` | `unable to parse integer 9223372036854775808: strconv.ParseInt: parsing "9223372036854775808": value out of range` |
//! | `m u=18446744073709551616u` | `unable to parse unsigned 18446744073709551616: strconv.ParseUint: parsing "18446744073709551616": value out of range` |
//! | `m a\\=1` | `invalid value: field-key=a\\=1` |
//! | `m v=1 1.5` / `m v=1 12abc` / `m v=1 +5` | `bad timestamp` |
//! | `m v=1 99999999999999999999` | `strconv.ParseInt: parsing "99999999999999999999": value out of range` |
//! | `m v=1 -` | `strconv.ParseInt: parsing "-": invalid syntax` |
//! | `m v=1 9223372036854775807` | `time outside range -9223372036854775806 - 9223372036854775806` |
//! | `m v=1 123 456` | `point is invalid` |
//!
//! # How `/write` answers (InfluxDB 1.6, for the HTTP layer)
//!
//! | body | status | body / effect |
//! |---|---|---|
//! | all lines good | 204 | all points written |
//! | empty, only blank lines, only whitespace, only `#` comments | 204 | nothing written |
//! | every non-blank line bad | 400 | `{"error":"<e1>\n<e2>..."}` (the `Parsed::errors` joined with `\n`, no prefix); nothing written |
//! | some lines bad, some good | 400 | `{"error":"partial write: <e1>\n<e2> dropped=0"}`; the good points are written |
//! | good points hit a storage/schema rejection | 400 | only that error is reported (`partial write: field type conflict: ... dropped=N`, `partial write: invalid tag key: input tag "time" on measurement "m" is invalid dropped=N`); parse errors of the same body are not mentioned; other good points are written |
//! | two points of the body disagree on a new field's type (also within one line: `m v=1,v=2i`, see [`PointRef::repeated_field`]) | 400 | in a request that creates the shard group: `{"error":"field type conflict"}`, nothing written (the series and the fields met before the conflict are created); once the group exists: a partial write dropping the later point. The ingestion layer's job |
//!
//! `precision` values other than `u`, `ms`, `s`, `m`, `h` (including `n`, `ns`, `us`,
//! `µ` and garbage) are nanoseconds on `/write` in InfluxDB 1.6 (no error).
//! A field named `time` is silently dropped from a point that has other fields; a point
//! whose only field is `time` fails with `partial write: invalid field name: input field
//! "time" on measurement "m" is invalid dropped=1`. Both are the ingestion layer's job.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod bad_line;
mod error;
mod format;
mod number;
mod parse;

pub use bad_line::BadLine;
pub use error::LineError;
pub use format::{format_point, is_representable};
pub use hyperbyte_domain::{FieldRef, PointRef};
pub use parse::{parse, parse_each, parse_line, parse_refs, ParsedRefs};

#[cfg(doc)]
use hyperbyte_domain::FieldValue;
use hyperbyte_domain::Point;

/// The outcome of parsing a request body: every valid point, and one error text per
/// invalid line in InfluxDB's wording (`unable to parse '<line>': <reason>`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    /// Points parsed successfully, in input order.
    pub points: Vec<Point>,
    /// Errors, one per rejected line.
    pub errors: Vec<String>,
    /// Some point repeated a field key with values of different types (`m v=1,v=2i`).
    /// The point keeps the last value; its view carries the types InfluxDB checks
    /// ([`PointRef::repeated_field`]).
    pub duplicate_field_type_conflict: bool,
}

#[cfg(test)]
mod tests;
