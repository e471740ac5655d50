//! Time limits and duration literals shared by the write and query paths.

use crate::DomainError;

/// Smallest timestamp InfluxDB accepts (1677-09-21T00:12:43.145224194Z).
pub const MIN_NANOS: i64 = i64::MIN + 2;
/// Largest timestamp InfluxDB accepts (2262-04-11T23:47:16.854775806Z).
pub const MAX_NANOS: i64 = i64::MAX - 1;

/// Nanoseconds in one of each InfluxQL duration unit.
pub fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "ns" => 1,
        "u" | "µ" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        "d" => 86_400 * 1_000_000_000,
        "w" => 7 * 86_400 * 1_000_000_000,
        _ => return None,
    })
}

/// Parses an InfluxQL duration literal such as `1h30m`, `10s`, `2w`, `INF` → `0`.
pub fn parse_duration(s: &str) -> Result<i64, DomainError> {
    if s.eq_ignore_ascii_case("inf") {
        return Ok(0);
    }
    let err = || DomainError::InvalidDuration(s.to_string());
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(err());
    }
    let mut total: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(err());
        }
        let n: i64 = s[start..i].parse().map_err(|_| err())?;
        let ustart = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let mult = unit_nanos(unit).ok_or_else(err)?;
        total = total
            .checked_add(n.checked_mul(mult).ok_or_else(err)?)
            .ok_or_else(err)?;
    }
    Ok(total)
}

/// Why InfluxQL refused a duration (a literal such as `GROUP BY time(1000000d)` or a bound
/// `{"duration": ...}` parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfluxqlDurationError {
    /// Not `<digits><unit>` pairs, or a number beyond `i64`.
    #[error("invalid duration")]
    Invalid,
    /// The total wrapped below zero; carries the last `<digits><unit>` pair read.
    #[error("overflowed duration {0}: choose a smaller duration or INF")]
    Overflowed(String),
}

/// InfluxDB 1.x's `ParseDuration`, which both InfluxQL duration literals and bound
/// duration parameters go through: an optional `-`, then one or more `<digits><unit>`
/// pairs with units `ns`, `u`/`µ`, `ms`, `s`, `m`, `h`, `d`, `w` (no `us`, no `INF`).
///
/// InfluxDB multiplies and sums with Go's wrapping `int64` arithmetic and only refuses a
/// total that wrapped below zero (`1000000d`); a total that wrapped back above zero is
/// used as it is (`300000d` is 7473255926290448384 ns there). Observable behaviour wins,
/// so the same arithmetic is kept here.
pub fn parse_influxql_duration(s: &str) -> Result<i64, InfluxqlDurationError> {
    use InfluxqlDurationError::Invalid;
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 {
        return Err(Invalid);
    }
    let negative = chars[0] == '-';
    let mut i = usize::from(negative);
    let mut total: i64 = 0;
    let mut last = String::new();
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if start == i || i == chars.len() {
            return Err(Invalid);
        }
        let digits: String = chars[start..i].iter().collect();
        let n: i64 = digits.parse().map_err(|_| Invalid)?;
        // One character, or two for `ns` and `ms` (a lone `n` is no unit).
        let two = matches!(chars[i], 'n' | 'm') && chars.get(i + 1) == Some(&'s');
        let width = if two { 2 } else { 1 };
        let unit_text: String = chars[i..i + width].iter().collect();
        let unit = unit_nanos(&unit_text).ok_or(Invalid)?;
        i += width;
        total = total.wrapping_add(n.wrapping_mul(unit));
        last = format!("{n}{unit_text}");
    }
    if total < 0 && !negative {
        return Err(InfluxqlDurationError::Overflowed(last));
    }
    Ok(if negative {
        total.wrapping_neg()
    } else {
        total
    })
}

/// Formats nanoseconds the way InfluxDB prints durations (`168h0m0s`, `1h0m0s`, `0s`).
pub fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let total_secs = nanos / 1_000_000_000;
    let rem_ns = nanos % 1_000_000_000;
    let h = total_secs / 3600;
    let m = (total_secs % 3600) / 60;
    let s = total_secs % 60;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h{m}m"));
    } else if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if rem_ns == 0 {
        out.push_str(&format!("{s}s"));
    } else {
        let frac = format!("{rem_ns:09}");
        out.push_str(&format!("{s}.{}s", frac.trim_end_matches('0')));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// InfluxDB 1.6.7's answers to `GROUP BY time(X)` and `now() - X`.
    #[test]
    fn influxql_durations_wrap_as_influxdb_s() {
        use InfluxqlDurationError::{Invalid, Overflowed};
        let ok: &[(&str, i64)] = &[
            ("1h30m", 5_400_000_000_000),
            ("10µ", 10_000),
            ("9223372036854775807ns", i64::MAX),
            ("15250w", 15_250 * 604_800_000_000_000),
            ("300000d", 7_473_255_926_290_448_384),
            ("-1h", -3_600_000_000_000),
        ];
        for (text, nanos) in ok {
            assert_eq!(parse_influxql_duration(text), Ok(*nanos), "{text}");
        }
        let overflowed: &[(&str, &str)] = &[
            ("1000000d", "1000000d"),
            ("106752d", "106752d"),
            ("213503d1ns", "1ns"),
            ("1000000d1s", "1s"),
            ("0007000000w", "7000000w"),
        ];
        for (text, last) in overflowed {
            assert_eq!(
                parse_influxql_duration(text),
                Err(Overflowed((*last).into())),
                "{text}"
            );
        }
        for bad in [
            "10us",
            "9223372036854775808ns",
            "1",
            "1n",
            "d",
            "1s2",
            "INF",
            "",
        ] {
            assert_eq!(parse_influxql_duration(bad), Err(Invalid), "{bad:?}");
        }
        assert_eq!(
            Overflowed("1000000d".into()).to_string(),
            "overflowed duration 1000000d: choose a smaller duration or INF"
        );
    }

    #[test]
    fn durations_round_trip_influx_style() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(format_duration(parse_duration("7d").unwrap()), "168h0m0s");
        assert_eq!(format_duration(parse_duration("1h").unwrap()), "1h0m0s");
        assert_eq!(format_duration(parse_duration("30m").unwrap()), "30m0s");
        assert_eq!(format_duration(0), "0s");
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }

    /// The formatting before it was written digit by digit, kept as the reference.
    fn reference_format(nanos: i64, offset_secs: i32) -> String {
        let secs = nanos.div_euclid(1_000_000_000) + i64::from(offset_secs);
        let frac = nanos.rem_euclid(1_000_000_000);
        let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, mo, d) = civil_from_days(days);
        let mut s = format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60
        );
        if frac != 0 {
            s.push('.');
            s.push_str(format!("{frac:09}").trim_end_matches('0'));
        }
        if offset_secs == 0 {
            s.push('Z');
        } else {
            let sign = if offset_secs < 0 { '-' } else { '+' };
            let a = offset_secs.unsigned_abs();
            s.push_str(&format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60));
        }
        s
    }

    #[test]
    fn rfc3339_matches_influx_layout_at_the_edges() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(500_000_000), "1970-01-01T00:00:00.5Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(format_rfc3339(1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(format_rfc3339(i64::MAX), "2262-04-11T23:47:16.854775807Z");
        assert_eq!(format_rfc3339(i64::MIN), "1677-09-21T00:12:43.145224192Z");
        assert_eq!(
            format_rfc3339_with_offset(1_577_772_000_000_000_000, -6 * 3600),
            "2019-12-31T00:00:00-06:00"
        );
        assert_eq!(
            format_rfc3339_with_offset(0, 5 * 3600 + 45 * 60),
            "1970-01-01T05:45:00+05:45"
        );
    }

    proptest::proptest! {
        #[test]
        fn rfc3339_is_the_reference_layout(nanos in proptest::num::i64::ANY, offset in -50_400i32..=50_400) {
            proptest::prop_assert_eq!(format_rfc3339_with_offset(nanos, offset), reference_format(nanos, offset));
        }

        #[test]
        fn rfc3339_of_whole_seconds_is_the_reference_layout(secs in -9_000_000_000i64..9_000_000_000, offset in -50_400i32..=50_400) {
            let nanos = secs * 1_000_000_000;
            proptest::prop_assert_eq!(format_rfc3339_with_offset(nanos, offset), reference_format(nanos, offset));
        }
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats nanoseconds since the epoch as RFC 3339 in UTC with the fraction trimmed, the
/// way InfluxDB prints times (`2000-01-01T00:00:00Z`, `2000-01-01T00:00:00.5Z`).
pub fn format_rfc3339(nanos: i64) -> String {
    format_rfc3339_with_offset(nanos, 0)
}

/// [`format_rfc3339`] as local time `offset_secs` east of UTC: `2019-12-31T00:00:00-06:00`
/// (`Z` when the offset is zero, as Go prints it), the way InfluxDB prints times of a
/// query with `tz()`.
pub fn format_rfc3339_with_offset(nanos: i64, offset_secs: i32) -> String {
    // Written digit by digit: a query's answer formats one time per row, and `format!`
    // with padding took a twentieth of a tier-answered 720-row query's CPU (perf).
    // In whole seconds the offset cannot overflow (|nanos| / 10^9 < 2^34).
    let secs = nanos.div_euclid(1_000_000_000) + i64::from(offset_secs);
    let frac = nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let mut s = String::with_capacity(36);
    match u64::try_from(y) {
        Ok(y) => push_padded(&mut s, y, 4),
        // Not reached from i64 nanoseconds (years 1677-2262); kept exact all the same.
        Err(_) => s.push_str(&format!("{y:04}")),
    }
    s.push('-');
    push_padded(&mut s, u64::from(mo), 2);
    s.push('-');
    push_padded(&mut s, u64::from(d), 2);
    s.push('T');
    // `sod` is in 0..86_400 (rem_euclid), so the casts are exact.
    let sod = sod.unsigned_abs();
    push_padded(&mut s, sod / 3600, 2);
    s.push(':');
    push_padded(&mut s, (sod % 3600) / 60, 2);
    s.push(':');
    push_padded(&mut s, sod % 60, 2);
    if frac != 0 {
        // Nine digits with the trailing zeros trimmed.
        let (mut f, mut width) = (frac.unsigned_abs(), 9);
        while f % 10 == 0 {
            f /= 10;
            width -= 1;
        }
        s.push('.');
        push_padded(&mut s, f, width);
    }
    if offset_secs == 0 {
        s.push('Z');
    } else {
        s.push(if offset_secs < 0 { '-' } else { '+' });
        let a = u64::from(offset_secs.unsigned_abs());
        push_padded(&mut s, a / 3600, 2);
        s.push(':');
        push_padded(&mut s, (a % 3600) / 60, 2);
    }
    s
}

/// Appends `v` in decimal, left-padded with zeros to at least `width` digits.
fn push_padded(out: &mut String, mut v: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in n..width {
        out.push('0');
    }
    for &b in digits[..n].iter().rev() {
        out.push(char::from(b));
    }
}

/// An IANA time zone (the zone database of `chrono-tz`), as `tz()` names them; `""` is
/// UTC. Parse it once, then ask for offsets at as many instants as needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(Option<chrono_tz::Tz>);

impl TimeZone {
    /// The zone called `name`; `None` for an unknown name.
    pub fn parse(name: &str) -> Option<TimeZone> {
        if name.is_empty() {
            return Some(TimeZone(None));
        }
        name.parse().ok().map(|tz| TimeZone(Some(tz)))
    }

    /// Whether this is UTC (`tz('')`, `tz('UTC')` is a zone without changes).
    pub fn is_utc(&self) -> bool {
        self.0.is_none()
    }

    /// The offset east of UTC, in seconds, at `nanos` since the epoch (daylight-saving
    /// time included).
    pub fn offset_secs(&self, nanos: i64) -> i32 {
        use chrono::{Offset, TimeZone as _};
        let Some(tz) = self.0 else { return 0 };
        chrono::DateTime::from_timestamp(nanos.div_euclid(1_000_000_000), 0).map_or(0, |at| {
            tz.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
        })
    }
}

/// Whether `name` is an IANA time zone, as `tz()` accepts them; `""` means UTC.
pub fn is_time_zone(name: &str) -> bool {
    TimeZone::parse(name).is_some()
}

/// The offset east of UTC, in seconds, of zone `name` at `nanos` since the epoch
/// ([`TimeZone::offset_secs`]); `None` for an unknown zone.
pub fn zone_offset_secs(name: &str, nanos: i64) -> Option<i32> {
    TimeZone::parse(name).map(|z| z.offset_secs(nanos))
}

/// Parses an RFC 3339 timestamp (`2000-01-01T00:00:00Z`, with optional fraction and
/// `+hh:mm` offset) or a bare date (`2000-01-01`) into nanoseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) && !t.is_empty() {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = num(0..4)?;
    let mo = num(5..7)? as u32;
    let d = num(8..10)? as u32;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return days.checked_mul(86_400_000_000_000);
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    if b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let h = num(11..13)?;
    let mi = num(14..16)?;
    let se = num(17..19)?;
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac: i64 = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        frac = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    let offset_secs = match s.get(i..)? {
        "Z" | "z" => 0,
        rest if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

#[cfg(test)]
mod rfc_tests {
    use super::*;

    #[test]
    fn zones_come_from_the_zone_database() {
        assert!(is_time_zone("America/Chicago"));
        assert!(is_time_zone("US/Pacific"));
        assert!(is_time_zone("UTC"));
        assert!(is_time_zone(""));
        assert!(!is_time_zone("Mars/Base"));
        // 2020-01-01T00:00:00Z: Chicago is on CST (-6 h); 2020-07-01: CDT (-5 h).
        assert_eq!(
            zone_offset_secs("America/Chicago", 1_577_836_800_000_000_000),
            Some(-21_600)
        );
        assert_eq!(
            zone_offset_secs("America/Chicago", 1_593_561_600_000_000_000),
            Some(-18_000)
        );
        assert_eq!(zone_offset_secs("Asia/Kolkata", 0), Some(19_800));
        assert_eq!(zone_offset_secs("Nowhere/City", 0), None);
    }

    #[test]
    fn local_times_print_their_offset() {
        // The ends of the time range keep their local clock (no overflow to UTC).
        assert_eq!(
            format_rfc3339_with_offset(i64::MAX, 19_800),
            "2262-04-12T05:17:16.854775807+05:30"
        );
        assert_eq!(
            format_rfc3339_with_offset(i64::MIN, -21_600),
            "1677-09-20T18:12:43.145224192-06:00"
        );
        let t = 1_577_858_400_000_000_000; // 2020-01-01T06:00:00Z
        assert_eq!(
            format_rfc3339_with_offset(t, -21_600),
            "2020-01-01T00:00:00-06:00"
        );
        assert_eq!(
            format_rfc3339_with_offset(t + 500_000_000, 19_800),
            "2020-01-01T11:30:00.5+05:30"
        );
        assert_eq!(format_rfc3339_with_offset(t, 0), "2020-01-01T06:00:00Z");
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(946_684_800_500_000_000),
            "2000-01-01T00:00:00.5Z"
        );
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            parse_rfc3339("2000-01-01T00:00:00.5Z"),
            Some(946_684_800_500_000_000)
        );
        assert_eq!(parse_rfc3339("2000-01-01"), Some(946_684_800_000_000_000));
        assert_eq!(
            parse_rfc3339("2000-01-01T01:00:00+01:00"),
            Some(946_684_800_000_000_000)
        );
        assert_eq!(format_rfc3339(MIN_NANOS), "1677-09-21T00:12:43.145224194Z");
        assert_eq!(format_rfc3339(MAX_NANOS), "2262-04-11T23:47:16.854775806Z");
        assert!(parse_rfc3339("garbage").is_none());
    }
}
