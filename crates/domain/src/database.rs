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

    /// Start of the shard group holding `timestamp`: groups are aligned to multiples of
    /// the group duration since the epoch, as in InfluxDB. Near the smallest `i64` (a
    /// query's lower bound) the start saturates there.
    pub fn shard_group_start(&self, timestamp: i64) -> i64 {
        let d = self.shard_group_duration.max(1);
        timestamp.saturating_sub(timestamp.rem_euclid(d))
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
