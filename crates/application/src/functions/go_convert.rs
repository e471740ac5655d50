//! Go's conversions of a float to a whole number, as InfluxDB (built for amd64) does
//! them wherever it casts: `::integer` and `::unsigned`, `fill()` values, linear fill.
//!
//! Go leaves out-of-range conversions to the processor, and amd64's answer is not
//! Rust's saturating `as`: 1e19 as an integer is the most negative integer, -1.5 as an
//! unsigned is 18446744073709551615. The engine's `toInt64`/`toUInt64` give the same on
//! this platform; the recorded case `query-semantics--float-casts-out-of-range` pins
//! both read paths to InfluxDB's answers.

/// 2^63, the first float past the integers' range.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// A float to an integer: truncated towards zero, and out of the integers' range (or
/// NaN) the most negative integer.
pub(crate) fn go_int(f: f64) -> i64 {
    if (-TWO_63..TWO_63).contains(&f) {
        f as i64
    } else {
        i64::MIN
    }
}

/// A float to an unsigned integer: below 2^63 as to an integer, then its bits (-1.5 is
/// 18446744073709551615, -1e19 is 2^63); from 2^63 on the same over the excess, with the
/// top bit set (1e19 is itself, 1e20 is 2^63).
pub(crate) fn go_uint(f: f64) -> u64 {
    if f < TWO_63 {
        go_int(f) as u64
    } else {
        go_int(f - TWO_63) as u64 | 1 << 63
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_floats_convert_as_amd64_does() {
        assert_eq!(go_int(-2.7), -2);
        assert_eq!(go_int(1e19), i64::MIN);
        assert_eq!(go_int(-1e19), i64::MIN);
        assert_eq!(go_int(-TWO_63), i64::MIN);
        assert_eq!(go_int(TWO_63), i64::MIN);
        assert_eq!(go_int(f64::NAN), i64::MIN);
        assert_eq!(go_uint(-1.5), u64::MAX);
        assert_eq!(go_uint(-0.5), 0);
        assert_eq!(go_uint(TWO_63), 1 << 63);
        assert_eq!(go_uint(1e19), 10_000_000_000_000_000_000);
        assert_eq!(go_uint(1e20), 1 << 63);
        assert_eq!(go_uint(f64::INFINITY), 1 << 63);
        assert_eq!(go_uint(f64::NAN), 1 << 63);
    }
}
