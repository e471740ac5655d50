//! Databases and retention policies, with InfluxDB's defaults.

use serde::{Deserialize, Serialize};

/// Nanoseconds in an hour.
const HOUR: i64 = 3_600_000_000_000;
/// Nanoseconds in a day.
const DAY: i64 = 24 * HOUR;

/// A retention policy: how long data is kept and how it is partitioned in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Policy name (`autogen` by default).
    pub name: String,
    /// How long data is kept, in nanoseconds; `0` means forever (`INF`).
    pub duration: i64,
    /// Width of a shard group (and of a storage partition), in nanoseconds.
    pub shard_group_duration: i64,
    /// Replication factor (accepted and shown; a single node keeps one copy).
    pub replication: u32,
}

impl RetentionPolicy {
    /// A policy with replication 1.
    pub fn new(name: &str, duration: i64, shard_group_duration: i64) -> Self {
        RetentionPolicy {
            name: name.into(),
            duration,
            shard_group_duration,
            replication: 1,
        }
    }

    /// The policy InfluxDB creates with a new database.
    pub fn autogen() -> Self {
        RetentionPolicy {
            name: "autogen".to_string(),
            duration: 0,
            shard_group_duration: 7 * DAY,
            replication: 1,
        }
    }

    /// Start of the shard group holding `timestamp`, as InfluxDB computes it: Go's
    /// `Time.Truncate` to the group duration, which counts multiples from Go's zero time
    /// (1 January of year 1), not from the Unix epoch. Durations dividing a day align
    /// with the epoch alike, but weekly groups start on Mondays (1969-12-29, not
    /// 1970-01-01). Near the smallest `i64` (a query's lower bound) the start saturates
    /// there.
    pub fn shard_group_start(&self, timestamp: i64) -> i64 {
        let d = self.shard_group_duration.max(1);
        let offset = zero_time_offset(d);
        // Both terms are below `d`, so the sum fits a u64 and one subtraction reduces it.
        let r = timestamp.rem_euclid(d) as u64 + offset;
        let r = if r >= d as u64 { r - d as u64 } else { r };
        timestamp.saturating_sub(r as i64)
    }

    /// End (exclusive) of the shard group starting at `start`: InfluxDB caps it at the
    /// largest time plus one.
    pub fn shard_group_end(&self, start: i64) -> i64 {
        start.saturating_add(self.shard_group_duration.max(1))
    }

    /// The shard groups a time range touches, as the start of the first and the last
    /// nanosecond of the last (an open end reaches the end of time): a group starts
    /// within the span exactly when the range touches it.
    pub fn shard_group_span(&self, min: Option<i64>, max: Option<i64>) -> (i64, i64) {
        let last_nanosecond = self.shard_group_duration.max(1) - 1;
        (
            min.map_or(i64::MIN, |m| self.shard_group_start(m)),
            max.map_or(i64::MAX, |m| {
                self.shard_group_start(m).saturating_add(last_nanosecond)
            }),
        )
    }

    /// InfluxDB's default shard group duration for a retention duration: 1h below two
    /// days, 1d up to six months, 7d beyond (and for `INF`).
    pub fn default_shard_duration(duration: i64) -> i64 {
        if duration == 0 {
            7 * DAY
        } else if duration < 2 * DAY {
            HOUR
        } else if duration <= 180 * DAY {
            DAY
        } else {
            7 * DAY
        }
    }
}

/// Seconds from Go's zero time (0001-01-01T00:00:00Z) to the Unix epoch.
const ZERO_TIME_TO_EPOCH_SECS: u64 = 62_135_596_800;

/// `(zero time → epoch) mod d` in nanoseconds: how far the epoch lies past the start of
/// the Go-aligned group of width `d` holding it. Whole-second widths (every shard
/// duration InfluxDB accepts) stay in u64 arithmetic.
fn zero_time_offset(d: i64) -> u64 {
    const NANOS: u64 = 1_000_000_000;
    let d = d.max(1) as u64;
    if d.is_multiple_of(NANOS) {
        (ZERO_TIME_TO_EPOCH_SECS % (d / NANOS)) * NANOS
    } else {
        ((ZERO_TIME_TO_EPOCH_SECS as u128 * NANOS as u128) % d as u128) as u64
    }
}

/// A database: a set of retention policies, one of them the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    /// Database name.
    pub name: String,
    /// Retention policies in creation order.
    pub retention_policies: Vec<RetentionPolicy>,
    /// Name of the default retention policy, if any.
    pub default_rp: Option<String>,
}

impl Database {
    /// A database with InfluxDB's `autogen` default policy.
    pub fn new(name: impl Into<String>) -> Self {
        Database {
            name: name.into(),
            retention_policies: vec![RetentionPolicy::autogen()],
            default_rp: Some("autogen".into()),
        }
    }

    /// Finds a retention policy by name.
    pub fn rp(&self, name: &str) -> Option<&RetentionPolicy> {
        self.retention_policies.iter().find(|r| r.name == name)
    }

    /// Resolves an optional policy name to the policy to use (the default when empty).
    pub fn resolve_rp(&self, name: Option<&str>) -> Option<&RetentionPolicy> {
        match name {
            Some(n) if !n.is_empty() => self.rp(n),
            _ => self.default_rp.as_deref().and_then(|d| self.rp(d)),
        }
    }
}

/// InfluxDB's `meta.ValidName` for database and retention policy names: not empty, not
/// `.` or `..`, no `/` or `\`, and only printable characters (Go's `unicode.IsPrint`:
/// no control or format characters, no space but the ASCII one).
pub fn is_valid_name(name: &str) -> bool {
    let printable = |c: char| {
        c == ' '
            || !(c.is_control()
                || c.is_whitespace()
                || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
                    | '\u{2060}'..='\u{2064}' | '\u{feff}'))
    };
    !matches!(name, "" | "." | "..") && !name.contains(['/', '\\']) && name.chars().all(printable)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Groups start where Go's `Time.Truncate` puts them: weekly ones on Mondays, daily
    /// and hourly ones on the epoch's grid, three-day ones two days before it.
    #[test]
    fn shard_groups_start_on_influx_grid() {
        let week = RetentionPolicy::new("w", 0, 7 * DAY);
        // 1970-01-03 and 1970-01-06 fall into the groups of 1969-12-29 and 1970-01-05.
        assert_eq!(week.shard_group_start(2 * DAY), -3 * DAY);
        assert_eq!(week.shard_group_start(5 * DAY), 4 * DAY);
        assert_eq!(week.shard_group_start(4 * DAY), 4 * DAY);
        assert_eq!(week.shard_group_start(4 * DAY - 1), -3 * DAY);
        // 2017-07-14 (a Friday) → Monday 2017-07-10.
        assert_eq!(
            week.shard_group_start(1_500_000_000_000_000_000),
            1_499_644_800_000_000_000
        );
        assert_eq!(week.shard_group_end(4 * DAY), 11 * DAY);
        let day = RetentionPolicy::new("d", 0, DAY);
        assert_eq!(day.shard_group_start(DAY + 5), DAY);
        assert_eq!(day.shard_group_start(-5), -DAY);
        let hour = RetentionPolicy::new("h", 0, HOUR);
        assert_eq!(hour.shard_group_start(HOUR * 3 + 1), HOUR * 3);
        // 719,162 days from year 1 to 1970: 2 past a multiple of three.
        let three = RetentionPolicy::new("t", 0, 3 * DAY);
        assert_eq!(three.shard_group_start(0), -2 * DAY);
        assert_eq!(three.shard_group_start(DAY), DAY);
        // Extremes saturate instead of overflowing.
        assert_eq!(week.shard_group_start(i64::MIN + 1), i64::MIN);
        assert_eq!(week.shard_group_end(i64::MAX - DAY), i64::MAX);
        let odd = RetentionPolicy::new("o", 0, 7 * DAY + 1);
        let s = odd.shard_group_start(123_456_789);
        assert!(s <= 123_456_789 && 123_456_789 < odd.shard_group_end(s));
    }

    #[test]
    fn shard_durations_follow_influx() {
        assert_eq!(RetentionPolicy::default_shard_duration(0), 7 * DAY);
        assert_eq!(RetentionPolicy::default_shard_duration(DAY), HOUR);
        assert_eq!(RetentionPolicy::default_shard_duration(30 * DAY), DAY);
        assert_eq!(RetentionPolicy::default_shard_duration(365 * DAY), 7 * DAY);
    }

    #[test]
    fn a_span_covers_whole_shard_groups() {
        let rp = RetentionPolicy::new("h", 0, HOUR);
        assert_eq!(
            rp.shard_group_span(Some(HOUR + 5), Some(2 * HOUR)),
            (HOUR, 3 * HOUR - 1)
        );
        assert_eq!(rp.shard_group_span(None, None), (i64::MIN, i64::MAX));
        // The ends of time saturate.
        assert_eq!(
            rp.shard_group_span(Some(i64::MIN + 1), Some(i64::MAX - 1)),
            (i64::MIN, i64::MAX)
        );
    }

    #[test]
    fn resolve_uses_default() {
        let db = Database::new("x");
        assert_eq!(db.resolve_rp(None).unwrap().name, "autogen");
        assert!(db.resolve_rp(Some("nope")).is_none());
    }

    #[test]
    fn names_follow_influxdb_s_valid_name() {
        for ok in ["db", "a b", "été", "a.b", "...", "x\"y", "🙂"] {
            assert!(is_valid_name(ok), "{ok:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "\n",
            "a\tb",
            "a\u{a0}b",
            "a\u{200b}b",
        ] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }
}
