//! Number conversion for field values and timestamps.
//!
//! Exists because parsing floats dominates line-protocol cost: the common case (at most
//! 19 significant digits, no exponent, mantissa below 2^53, at most 22 decimals) is
//! converted exactly with one integer accumulation and one IEEE division (Clinger's fast
//! path, correctly rounded); everything else falls back to the standard library.

/// Exact powers of ten representable as `f64`.
pub(crate) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a float as Go's `strconv.ParseFloat` accepts it for the inputs line protocol
/// lets through (`-?digits[.digits][e[+-]digits]`, `1.`, `.5`). `None` when malformed or
/// when the value overflows to an infinity (Go reports a range error there).
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    if let Some(v) = fast_f64(b) {
        return Some(v);
    }
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

#[inline]
fn fast_f64(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut frac_digits: usize = 0;
    let mut seen_dot = false;
    let mut seen_digit = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                // At most 19 digits (the length check above): below u64::MAX.
                mantissa = mantissa * 10 + u64::from(c - b'0');
                seen_digit = true;
                if seen_dot {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if !seen_digit || mantissa >= (1u64 << 53) || frac_digits >= POW10.len() {
        return None;
    }
    // Both operands are exact, so the division is correctly rounded.
    #[allow(clippy::cast_precision_loss)]
    let v = mantissa as f64 / POW10[frac_digits];
    Some(if neg { -v } else { v })
}

/// Parses `-?digits` into an `i64`; `None` on overflow or malformed input.
#[inline]
pub(crate) fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate negatively so that i64::MIN is representable.
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_sub(i64::from(c - b'0'))?;
    }
    if neg {
        Some(v)
    } else {
        v.checked_neg()
    }
}

/// Parses `digits` into a `u64`; `None` on overflow or malformed input.
#[inline]
pub(crate) fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fast_path_matches_std() {
        for s in [
            "58.1317132304976",
            "2.6224297271376",
            "0.000001",
            "123456789.123",
            "-1.5",
            "1.",
            ".5",
            "-.5",
            "0",
            "-0",
            "9007199254740991",
            "9007199254740993",
            "0.1",
            "0.30000000000000004",
            "1234567890123456789",
            "12345678901234567890",
            "1.7976931348623157e308",
            "1e-400",
        ] {
            let expect: f64 = s.parse().unwrap();
            assert_eq!(
                parse_f64(s.as_bytes()).unwrap().to_bits(),
                expect.to_bits(),
                "{s}"
            );
        }
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e"), None);
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_f64(b"-"), None);
        assert_eq!(parse_f64(&[b'9'; 400]), None);
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-9223372036854775809"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"-0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
    }
}
