//! Time-literal strings as InfluxDB 1.x reads them where they are compared with `time`.
//!
//! Why it exists: InfluxDB decides first from the string's shape whether it is meant as a
//! time at all, and only then parses it, strictly, with two Go layouts; the answers
//! differ by that order (`'garbage'` is "not compatible", `'2000-13-01'` an "invalid
//! timestamp string"). Recorded against InfluxDB 1.6:
//! - `YYYY-MM-DD` alone is a date (midnight);
//! - `YYYY-MM-DD` followed by anything is a date and time: `YYYY-MM-DD H:MM:SS[.f]`
//!   (hour of one or two digits), else RFC 3339 `YYYY-MM-DDTHH:MM:SS[.f](Z|±hh:mm)`
//!   (upper-case `T` and `Z` only); a fraction has one to nine digits after `.` or `,`;
//! - fields are range-checked (month, day of that month, hour < 24, minute and second
//!   < 60);
//! - a string without a zone is read in the statement's `tz()` (UTC without one);
//! - any other string is not a time.

use hyperbyte_domain::time::TimeZone;

/// What a string compared with `time` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeString {
    /// A time, nanoseconds since the epoch (wide: a valid date may lie outside the
    /// nanosecond range InfluxDB can store, which the caller reports with the date).
    Time(i128),
    /// Shaped like a time but not one (InfluxDB: "invalid timestamp string").
    Invalid,
    /// Not shaped like a time at all.
    NotATime,
}

/// Reads `s` as InfluxDB does (see the module docs); zone-less times are local to `tz`.
pub(crate) fn read_time_string(s: &str, tz: Option<&TimeZone>) -> TimeString {
    let b = s.as_bytes();
    if !starts_with_date(b) {
        return TimeString::NotATime;
    }
    let parsed = if b.len() == 10 {
        date(b).map(|days| local(days, 0, tz))
    } else {
        space_layout(b)
            .map(|(days, secs, nanos)| local(days, secs, tz) + i128::from(nanos))
            .or_else(|| rfc3339(b))
    };
    parsed.map_or(TimeString::Invalid, TimeString::Time)
}

/// `\d{4}-\d{2}-\d{2}` at the start.
fn starts_with_date(b: &[u8]) -> bool {
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// Digits of `b[r]` as a number (all ASCII digits, checked by the caller's shape).
fn num(b: &[u8], r: std::ops::Range<usize>) -> Option<i64> {
    let d = b.get(r)?;
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    d.iter().try_fold(0i64, |n, c| {
        n.checked_mul(10)?.checked_add(i64::from(c - b'0'))
    })
}

/// Days since the epoch of the date in `b[..10]`, when it exists.
fn date(b: &[u8]) -> Option<i64> {
    let (y, m, d) = (num(b, 0..4)?, num(b, 5..7)?, num(b, 8..10)?);
    let month = u32::try_from(m).ok()?;
    let day = u32::try_from(d).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, month, day)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some(date.signed_duration_since(epoch).num_days())
}

/// `HH:MM:SS` or `H:MM:SS` at `b[at..]`: seconds of the day and the index after it.
fn clock(b: &[u8], at: usize, one_digit_hour: bool) -> Option<(i64, usize)> {
    let hour_digits = match (b.get(at + 1), one_digit_hour) {
        (Some(b':'), true) => 1,
        _ => 2,
    };
    let h = num(b, at..at + hour_digits)?;
    let at = at + hour_digits;
    if b.get(at) != Some(&b':') || b.get(at + 3) != Some(&b':') {
        return None;
    }
    let (mi, s) = (num(b, at + 1..at + 3)?, num(b, at + 4..at + 6)?);
    (h < 24 && mi < 60 && s < 60).then_some((h * 3600 + mi * 60 + s, at + 6))
}

/// An optional fraction at `b[at..]` (`.` or `,` and one to nine digits): nanoseconds
/// and the index after it. A separator without a digit is no fraction.
fn fraction(b: &[u8], at: usize) -> Option<(i64, usize)> {
    let starts =
        matches!(b.get(at), Some(b'.' | b',')) && b.get(at + 1).is_some_and(u8::is_ascii_digit);
    if !starts {
        return Some((0, at));
    }
    let digits = b[at + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits > 9 {
        return None;
    }
    let n = num(b, at + 1..at + 1 + digits)?;
    Some((n * 10i64.pow(9 - digits as u32), at + 1 + digits))
}

/// `YYYY-MM-DD H:MM:SS[.f]`, nothing after: days, seconds of the day, nanoseconds.
fn space_layout(b: &[u8]) -> Option<(i64, i64, i64)> {
    if b.get(10) != Some(&b' ') {
        return None;
    }
    let days = date(b)?;
    let (secs, at) = clock(b, 11, true)?;
    let (nanos, at) = fraction(b, at)?;
    (at == b.len()).then_some((days, secs, nanos))
}

/// RFC 3339 as Go's `time.RFC3339Nano` parses it.
fn rfc3339(b: &[u8]) -> Option<i128> {
    if b.get(10) != Some(&b'T') {
        return None;
    }
    let days = date(b)?;
    let (secs, at) = clock(b, 11, true)?;
    let (nanos, at) = fraction(b, at)?;
    let offset = match b.get(at..)? {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (num(&[*h1, *h2], 0..2)?, num(&[*m1, *m2], 0..2)?);
            if h > 24 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    Some(seconds_nanos(days, secs - offset) + i128::from(nanos))
}

fn seconds_nanos(days: i64, secs: i64) -> i128 {
    (i128::from(days) * 86_400 + i128::from(secs)) * 1_000_000_000
}

/// Nanoseconds of a wall-clock time in `tz` (UTC without one): the zone's offset at that
/// instant, looked up twice so that a time just after a change of offset gets the new
/// one.
fn local(days: i64, secs: i64, tz: Option<&TimeZone>) -> i128 {
    let wall = seconds_nanos(days, secs);
    let Some(tz) = tz.filter(|z| !z.is_utc()) else {
        return wall;
    };
    let at = |t: i128| i64::try_from(t).unwrap_or(if t < 0 { i64::MIN } else { i64::MAX });
    let first = i128::from(tz.offset_secs(at(wall))) * 1_000_000_000;
    let second = i128::from(tz.offset_secs(at(wall - first))) * 1_000_000_000;
    wall - second
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimeString::{Invalid, NotATime, Time};

    const S: i128 = 1_000_000_000;

    fn read(s: &str) -> TimeString {
        read_time_string(s, None)
    }

    #[test]
    fn reads_the_layouts_influxdb_reads() {
        assert_eq!(read("1970-01-02"), Time(86_400 * S));
        assert_eq!(read("1970-01-01 00:00:10"), Time(10 * S));
        assert_eq!(read("1970-01-01 0:00:10.5"), Time(10 * S + S / 2));
        assert_eq!(read("1970-01-01T00:00:10Z"), Time(10 * S));
        assert_eq!(read("1970-01-01T00:00:10,1Z"), Time(10 * S + S / 10));
        assert_eq!(read("1970-01-01T01:00:10+01:00"), Time(10 * S));
        assert_eq!(
            read("1970-01-01T00:00:10.123456789Z"),
            Time(10 * S + 123_456_789)
        );
        assert_eq!(read("1969-12-31T23:59:59Z"), Time(-S));
        // Dates beyond what nanoseconds in 64 bits hold are still dates.
        assert_eq!(read("3000-01-01"), Time(32_503_680_000 * S));
    }

    #[test]
    fn tells_invalid_times_from_other_strings() {
        for s in [
            "1970-13-01",
            "1970-02-30",
            "1970-01-01x",
            "1970-01-01T00:00:10",
            "1970-01-01 00:00:10Z",
            "1970-01-01t00:00:10Z",
            "1970-01-01T00:00:10z",
            "1970-01-01T24:00:00Z",
            "1970-01-01T00:00:60Z",
            "1970-01-01 00:00",
            "1970-01-01 00:00:10.",
            "1970-01-01 00:00:10 ",
            "1970-01-01 00:00:10.1234567891",
        ] {
            assert_eq!(read(s), Invalid, "{s}");
        }
        for s in ["", "garbage", "1970-1-1", "197-01-01", "now()"] {
            assert_eq!(read(s), NotATime, "{s}");
        }
    }

    #[test]
    fn zone_less_times_are_local_to_tz() {
        let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
        let half = 5 * 3600 * S + 30 * 60 * S;
        assert_eq!(
            read_time_string("1970-01-01 00:00:10", Some(&kolkata)),
            Time(10 * S - half)
        );
        assert_eq!(read_time_string("1970-01-01", Some(&kolkata)), Time(-half));
        assert_eq!(
            read_time_string("1970-01-01T00:00:10Z", Some(&kolkata)),
            Time(10 * S)
        );
        // Paris changes to summer time at 02:00 on 2021-03-28: 03:30 is UTC+2.
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        assert_eq!(
            read_time_string("2021-03-28 03:30:00", Some(&paris)),
            read("2021-03-28T01:30:00Z")
        );
    }
}
