//! Timestamp precisions accepted by `/write` (`precision=`) and `/query` (`epoch=`).

use serde::{Deserialize, Serialize};

/// A time unit for timestamps in line protocol or epoch output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Precision {
    /// Nanoseconds (the default).
    #[default]
    Nanoseconds,
    /// Microseconds (`u`).
    Microseconds,
    /// Milliseconds.
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
}

impl Precision {
    /// Parses the `precision=`/`epoch=` parameter as InfluxDB 1.x does (`n`, `ns`, `u`,
    /// `ms`, `s`, `m`, `h`; `None` for anything else, `us` and `µ` included, which
    /// InfluxDB reads as nanoseconds).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "n" | "ns" => Precision::Nanoseconds,
            "u" => Precision::Microseconds,
            "ms" => Precision::Milliseconds,
            "s" => Precision::Seconds,
            "m" => Precision::Minutes,
            "h" => Precision::Hours,
            _ => return None,
        })
    }

    /// Nanoseconds per unit.
    pub fn nanos(self) -> i64 {
        match self {
            Precision::Nanoseconds => 1,
            Precision::Microseconds => 1_000,
            Precision::Milliseconds => 1_000_000,
            Precision::Seconds => 1_000_000_000,
            Precision::Minutes => 60_000_000_000,
            Precision::Hours => 3_600_000_000_000,
        }
    }

    /// Converts a timestamp in this unit to nanoseconds, `None` on overflow.
    pub fn to_nanos(self, v: i64) -> Option<i64> {
        v.checked_mul(self.nanos())
    }
}
