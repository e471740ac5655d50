//! Field values: typing and converting `1.5`, `-3i`, `7u`, `true`, `"text"`.
//!
//! Why it exists: InfluxDB validates a value while scanning the field section
//! (`scanNumber`, `scanBoolean`) and converts it later by its first byte; the fast path
//! does both at once for the common forms ([`plain_value`]). Keeping them side by side
//! makes it easy to check that the two agree.

use super::lines::Line;
use crate::error::LineError;
use crate::number::{parse_f64, parse_i64, parse_u64};
use hyperbyte_domain::FieldRef;

/// The value of the eight ASCII digits at `buf[j..j + 8]`, or `None` when there are
/// fewer than eight bytes or any is not a digit (SWAR: one load, three multiplications).
#[inline]
pub(crate) fn eight_digits(buf: &[u8], j: usize) -> Option<u64> {
    let bytes = buf.get(j..j.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(bytes);
    let w = u64::from_le_bytes(a);
    let high = 0xF0F0_F0F0_F0F0_F0F0u64;
    let t = w.wrapping_add(0x0606_0606_0606_0606);
    if (w & high) | ((t & high) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    let mut v = w.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some(lo.wrapping_add(hi) >> 32)
}

/// Fast path for one unquoted field value at `i`: common numbers (`-?digits[.digits]`
/// with optional `i`/`u`) and booleans, converted while scanning. `None` for anything else
/// (exponents, errors, out-of-range integers), which the exact path then handles.
#[inline]
pub(super) fn plain_value<'a>(buf: &[u8], i: usize) -> Option<(usize, FieldRef<'a>)> {
    let n = buf.len();
    let first = *buf.get(i)?;
    if matches!(first, b't' | b'T' | b'f' | b'F') {
        let mut j = i + 1;
        while j < n && buf[j] != b',' && buf[j] != b' ' {
            j += 1;
        }
        let v = match &buf[i..j] {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
            _ => return None,
        };
        return Some((j, FieldRef::Boolean(v)));
    }
    let neg = first == b'-';
    let int_start = if neg { i + 1 } else { i };
    // Integer digits, then optional fraction digits, accumulated in tight loops (the
    // accumulator wraps harmlessly when there are more than 19 digits: it is then unused).
    let mut mantissa: u64 = 0;
    let mut j = int_start;
    while let Some(v) = eight_digits(buf, j) {
        mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(v);
        j += 8;
    }
    while j < n {
        let d = buf[j].wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        j += 1;
    }
    let int_digits = j - int_start;
    let mut frac = 0usize;
    let mut dot = false;
    if j < n && buf[j] == b'.' {
        dot = true;
        j += 1;
        let frac_start = j;
        while let Some(v) = eight_digits(buf, j) {
            mantissa = mantissa.wrapping_mul(100_000_000).wrapping_add(v);
            j += 8;
        }
        while j < n {
            let d = buf[j].wrapping_sub(b'0');
            if d >= 10 {
                break;
            }
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
            j += 1;
        }
        frac = j - frac_start;
    }
    let digits = int_digits + frac;
    if digits == 0 {
        return None;
    }
    let at_end = |k: usize| k >= n || buf[k] == b',' || buf[k] == b' ';
    if at_end(j) {
        let v = if digits <= 19 && mantissa < (1u64 << 53) && frac < 23 {
            #[allow(clippy::cast_precision_loss)]
            let v = mantissa as f64 / crate::number::POW10[frac];
            if neg {
                -v
            } else {
                v
            }
        } else {
            parse_f64(&buf[i..j])?
        };
        return Some((j, FieldRef::Float(v)));
    }
    if dot || !at_end(j + 1) {
        return None;
    }
    match buf[j] {
        b'i' => {
            let v = if digits <= 18 {
                // Below 10^18: fits.
                let m = i64::try_from(mantissa).ok()?;
                if neg {
                    -m
                } else {
                    m
                }
            } else {
                parse_i64(&buf[i..j])?
            };
            Some((j + 1, FieldRef::Integer(v)))
        }
        b'u' if !neg => {
            let v = if digits <= 19 {
                mantissa
            } else {
                parse_u64(&buf[int_start..j])?
            };
            Some((j + 1, FieldRef::Unsigned(v)))
        }
        _ => None,
    }
}

/// Converts a validated raw field value by its first byte, as InfluxDB's `FieldIterator`
/// types it. `None` for an empty value (InfluxDB ignores such fields).
#[inline]
pub(super) fn convert_value<'a>(
    line: Line<'a>,
    v0: usize,
    v1: usize,
) -> Result<Option<FieldRef<'a>>, LineError> {
    let raw = &line.bytes[v0..v1];
    let (Some(&first), Some(&last)) = (raw.first(), raw.last()) else {
        return Ok(None);
    };
    let v = match first {
        b'"' => {
            let inner_end = if raw.len() >= 2 { v1 - 1 } else { v1 };
            FieldRef::String(line.string_value((v0 + 1).min(inner_end), inner_end))
        }
        b'0'..=b'9' | b'-' | b'.' | b'n' | b'N' | b'i' | b'I' | b'u' => match last {
            b'i' => {
                FieldRef::Integer(parse_i64(&raw[..raw.len() - 1]).ok_or(LineError::InvalidNumber)?)
            }
            b'u' => FieldRef::Unsigned(
                parse_u64(&raw[..raw.len() - 1]).ok_or(LineError::InvalidNumber)?,
            ),
            _ => FieldRef::Float(parse_f64(raw).ok_or(LineError::InvalidFloat)?),
        },
        _ => FieldRef::Boolean(match raw {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
            _ => return Err(LineError::InvalidBoolean),
        }),
    };
    Ok(Some(v))
}

#[inline]
fn is_numeric(c: u8) -> bool {
    c.is_ascii_digit() || c == b'.'
}

/// InfluxDB's `scanNumber` (with unsigned integers enabled): validates the number
/// starting at `i` and returns its end.
#[inline]
pub(super) fn scan_number(buf: &[u8], mut i: usize) -> Result<usize, LineError> {
    let start = i;
    let mut is_int = false;
    let mut is_unsigned = false;
    if i < buf.len() && buf[i] == b'-' {
        i += 1;
        if i == buf.len() {
            return Err(LineError::InvalidNumber);
        }
    }
    let mut decimal = false;
    let mut scientific = false;
    while i < buf.len() {
        let c = buf[i];
        if c == b',' || c == b' ' {
            break;
        }
        if c == b'i' && i > start && !(is_int || is_unsigned) {
            is_int = true;
            i += 1;
            continue;
        }
        if c == b'u' && i > start && !(is_int || is_unsigned) {
            is_unsigned = true;
            i += 1;
            continue;
        }
        if c == b'.' {
            if decimal {
                return Err(LineError::InvalidNumber);
            }
            decimal = true;
        }
        if i > start && (c == b'e' || c == b'E') {
            scientific = true;
            i += 1;
            continue;
        }
        if (c == b'+' || c == b'-') && i > 0 && matches!(buf[i - 1], b'e' | b'E') {
            i += 1;
            continue;
        }
        if i + 2 < buf.len() && (c == b'N' || c == b'n') {
            return Err(LineError::InvalidNumber);
        }
        if !is_numeric(c) {
            return Err(LineError::InvalidNumber);
        }
        i += 1;
    }
    if (is_int || is_unsigned) && (decimal || scientific) {
        return Err(LineError::InvalidNumber);
    }
    let mut digits = i - start;
    for flag in [is_int, decimal, buf[start] == b'-'] {
        if flag {
            digits = digits.saturating_sub(1);
        }
    }
    if digits == 0 {
        return Err(LineError::InvalidNumber);
    }
    if is_int {
        if buf[i - 1] != b'i' {
            return Err(LineError::InvalidNumber);
        }
        let d = &buf[start..i - 1];
        if d.len() >= 19 && parse_i64(d).is_none() {
            return Err(LineError::IntegerOutOfRange(
                String::from_utf8_lossy(d).into_owned(),
            ));
        }
    } else if is_unsigned {
        if buf[i - 1] != b'u' || buf[start] == b'-' {
            return Err(LineError::InvalidNumber);
        }
        let d = &buf[start..i - 1];
        if d.len() >= 20 && parse_u64(d).is_none() {
            return Err(LineError::UnsignedOutOfRange(
                String::from_utf8_lossy(d).into_owned(),
            ));
        }
    } else if (scientific || i - start >= 25) && parse_f64(&buf[start..i]).is_none() {
        return Err(LineError::InvalidFloat);
    }
    Ok(i)
}

/// InfluxDB's `scanBoolean`: accepts `t T true True TRUE f F false False FALSE`.
#[inline]
pub(super) fn scan_boolean(buf: &[u8], mut i: usize) -> Result<usize, LineError> {
    let start = i;
    if i < buf.len() && !matches!(buf[i], b't' | b'f' | b'T' | b'F') {
        return Err(LineError::InvalidBoolean);
    }
    i += 1;
    while i < buf.len() && buf[i] != b',' && buf[i] != b' ' {
        i += 1;
    }
    let word = &buf[start..i.min(buf.len())];
    match word {
        b"t" | b"T" | b"f" | b"F" | b"true" | b"True" | b"TRUE" | b"false" | b"False"
        | b"FALSE" => Ok(i),
        _ => Err(LineError::InvalidBoolean),
    }
}
