//! Timestamps: the optional last element of a line, and the default for lines without one.
//!
//! Why it exists: both parsing paths read the timestamp the same way (InfluxDB's
//! `scanTime`), the fast path with a quicker integer conversion; the default timestamp is
//! the server clock rounded down to the precision unit, as InfluxDB does.

use super::lines::skip_ws;
use crate::error::LineError;
use crate::number::parse_i64;
use hyperbyte_domain::Precision;

/// Rounds `nanos` down to a multiple of the precision unit (Go's `Time.Truncate`). Near
/// `i64::MIN`, where the multiple below is not representable, the one above is returned
/// (the subtraction used to overflow there).
pub(crate) fn truncate(nanos: i64, precision: Precision) -> i64 {
    let unit = precision.nanos();
    let rem = nanos.rem_euclid(unit);
    nanos
        .checked_sub(rem)
        .unwrap_or_else(|| nanos + (unit - rem))
}

/// A timestamp `-?digits`: a quick conversion for up to 18 digits, else [`parse_i64`].
#[inline]
pub(super) fn parse_timestamp(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return parse_i64(b);
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if neg { -v } else { v })
}

/// InfluxDB's `scanTime`: the optional timestamp after the fields. Returns its range
/// (empty when absent).
pub(super) fn scan_time(buf: &[u8], i: usize) -> Result<(usize, usize), LineError> {
    let start = skip_ws(buf, i);
    let mut i = start;
    while i < buf.len() {
        let c = buf[i];
        if c == b'\n' || c == b' ' {
            break;
        }
        if i == start && c == b'-' {
            i += 1;
            continue;
        }
        if !c.is_ascii_digit() {
            return Err(LineError::BadTimestamp);
        }
        i += 1;
    }
    Ok((start, i))
}
