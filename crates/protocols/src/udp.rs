//! Line protocol over UDP: one datagram holds one or more lines, parsed by the same
//! parser as `/write` (same error texts, same precision rules).
//!
//! Where it differs from InfluxDB 1.6: InfluxDB drops a whole datagram when one of its
//! lines is bad; here the bad lines are dropped and counted and the good lines of the
//! datagram are kept (a client never learns of either).

use hyperbyte_domain::{Point, Precision};

/// The points of one datagram and one error text per bad line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Decoded {
    /// Good points, in datagram order.
    pub points: Vec<Point>,
    /// One text per dropped line, in InfluxDB's wording.
    pub errors: Vec<String>,
}

/// Parses one datagram. `now` stamps lines without a time.
pub fn parse_datagram(body: &[u8], precision: Precision, now: i64) -> Decoded {
    let parsed = hyperbyte_lineprotocol::parse(body, precision, now);
    Decoded {
        points: parsed.points,
        errors: parsed.errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_lines_survive_a_bad_one() {
        let d = parse_datagram(
            b"cpu,host=a v=1 10\nnot a line\nmem free=2i 20\n",
            Precision::Seconds,
            0,
        );
        assert_eq!(d.points.len(), 2);
        assert_eq!(d.points[0].timestamp, 10_000_000_000);
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0].starts_with("unable to parse 'not a line'"));
    }

    proptest! {
        #[test]
        fn hostile_datagrams_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_datagram(&body, Precision::Nanoseconds, 0);
        }
    }
}
