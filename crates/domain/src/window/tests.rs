use super::*;

const S: i64 = 1_000_000_000;
const H: i64 = 3600 * S;
const D: i64 = 24 * H;

fn zone(name: &str) -> TimeZone {
    TimeZone::parse(name).unwrap()
}

fn at(rfc: &str) -> i64 {
    crate::time::parse_rfc3339(rfc).unwrap()
}

/// The windows of `zone` around `[from, to]`.
fn windows(name: &str, every: i64, offset: i64, from: &str, to: &str) -> Window {
    zone(name).windows(every, offset, Some(at(from)), Some(at(to)))
}

#[test]
fn utc_bounds() {
    let w = Window::new(20 * S, 0);
    assert_eq!(w.bounds(35 * S), (20 * S, 40 * S));
    assert_eq!(w.bounds(-5 * S), (-20 * S, 0));
    let w = Window::new(20 * S, 5 * S);
    assert_eq!(w.bounds(3 * S), (-15 * S, 5 * S));
    assert_eq!(w.fixed(), Some((20 * S, 5 * S)));
}

#[test]
fn grid_is_exact_at_the_ends_of_time() {
    let week = 7 * D;
    let w = Window::new(week, (-5000 * week).rem_euclid(week));
    // The window of the lowest time starts below i64::MIN: it is cut there.
    assert_eq!(w.bounds(i64::MIN).0, i64::MIN);
    assert_eq!(w.bounds(i64::MAX).1, i64::MAX);
    let (first, last, count) = w.grid(i64::MIN + 2, i64::MAX - 1, 0);
    assert_eq!(first, i64::MIN);
    let starts: Vec<i64> = w.starts(first, last).collect();
    assert_eq!(starts.len() as u128, count);
    assert!(starts.windows(2).all(|p| p[0] < p[1]));
    assert_eq!(*starts.last().unwrap(), last);
    // One nanosecond over everything: counted, not built.
    let ns = Window::new(1, 0);
    let (_, _, count) = ns.grid(i64::MIN, i64::MAX, 0);
    assert_eq!(count, u128::from(u64::MAX) + 1);
    let (_, _, count) = ns.grid(0, 10, u64::MAX);
    assert_eq!(count, 11 + i64::MAX as u128 + 1);
    // An empty range.
    assert_eq!(ns.grid(10, 0, 0).2, 0);
    assert_eq!(w.starts(10, 0).count(), 0);
}

#[test]
fn the_probe_finds_each_change_to_the_second() {
    let z = ZoneOffsets::of(
        &zone("America/Chicago"),
        at("2020-01-01T00:00:00Z"),
        at("2021-01-01T00:00:00Z"),
    );
    assert_eq!(
        z.changes(),
        &[
            (at("2020-03-08T08:00:00Z"), -5 * H),
            (at("2020-11-01T07:00:00Z"), -6 * H)
        ]
    );
    assert_eq!(z.at(at("2020-03-08T07:59:59Z")), -6 * H);
    assert_eq!(z.at(at("2020-03-08T08:00:00Z")), -5 * H);
    // A zone without changes in the range keeps one fixed grid (the SQL of before).
    let w = windows(
        "Asia/Kolkata",
        D,
        0,
        "2020-01-01T00:00:00Z",
        "2020-06-01T00:00:00Z",
    );
    assert_eq!(w.fixed(), Some((D, D - 19_800 * S)));
    assert_eq!(zone("").windows(D, 0, None, None), Window::new(D, 0));
}

/// The reference's answers: `time(1d) tz('America/Chicago')` over the spring change
/// (a 23 h day), and `time(12h)`, whose window over the change is 11 h long.
#[test]
fn local_days_across_a_spring_change() {
    let w = windows(
        "America/Chicago",
        D,
        0,
        "2020-03-06T06:00:00Z",
        "2020-03-11T05:00:00Z",
    );
    assert_eq!(w.fixed(), None);
    let day8 = at("2020-03-08T06:00:00Z");
    assert_eq!(
        w.bounds(at("2020-03-08T12:00:00Z")),
        (day8, at("2020-03-09T05:00:00Z"))
    );
    assert_eq!(w.start_of(at("2020-03-09T04:59:59Z")), day8);
    assert_eq!(
        w.start_of(at("2020-03-09T05:00:00Z")),
        at("2020-03-09T05:00:00Z")
    );
    let (first, last, count) = w.grid(at("2020-03-06T06:00:00Z"), at("2020-03-11T04:59:59Z"), 0);
    let starts: Vec<i64> = w.starts(first, last).collect();
    assert_eq!(
        starts,
        [
            at("2020-03-06T06:00:00Z"),
            at("2020-03-07T06:00:00Z"),
            day8,
            at("2020-03-09T05:00:00Z"),
            at("2020-03-10T05:00:00Z"),
        ]
    );
    assert_eq!(count, 5);
    let w = windows(
        "America/Chicago",
        12 * H,
        0,
        "2020-03-07T06:00:00Z",
        "2020-03-10T05:00:00Z",
    );
    assert_eq!(
        w.bounds(at("2020-03-08T09:00:00Z")),
        (day8, at("2020-03-08T17:00:00Z"))
    );
    // time(2h): local 02:00 never happens; the window starts at the change.
    let w = windows(
        "America/Chicago",
        2 * H,
        0,
        "2020-03-08T00:00:00Z",
        "2020-03-08T16:00:00Z",
    );
    assert_eq!(
        w.start_of(at("2020-03-08T08:30:00Z")),
        at("2020-03-08T08:00:00Z")
    );
    assert_eq!(
        w.start_of(at("2020-03-08T07:30:00Z")),
        at("2020-03-08T06:00:00Z")
    );
    assert_eq!(
        w.start_of(at("2020-03-08T09:00:00Z")),
        at("2020-03-08T09:00:00Z")
    );
}

/// The reference's answers over the autumn change in Berlin: 25 h days, a 7 h window
/// for `time(6h)`, the repeated hour kept in the window in progress for `time(2h)`, and
/// every hour its own window for `time(1h)`.
#[test]
fn local_days_across_an_autumn_change() {
    let w = windows(
        "Europe/Berlin",
        D,
        0,
        "2020-10-24T00:00:00Z",
        "2020-10-27T00:00:00Z",
    );
    let day25 = at("2020-10-24T22:00:00Z");
    assert_eq!(
        w.bounds(at("2020-10-25T01:30:00Z")),
        (day25, at("2020-10-25T23:00:00Z"))
    );
    assert_eq!(w.start_of(at("2020-10-25T00:30:00Z")), day25);
    let w = windows(
        "Europe/Berlin",
        6 * H,
        0,
        "2020-10-24T22:00:00Z",
        "2020-10-26T23:00:00Z",
    );
    assert_eq!(
        w.bounds(at("2020-10-25T02:00:00Z")),
        (day25, at("2020-10-25T05:00:00Z"))
    );
    let w = windows(
        "Europe/Berlin",
        2 * H,
        0,
        "2020-10-24T18:00:00Z",
        "2020-10-25T08:00:00Z",
    );
    let two = at("2020-10-25T00:00:00Z");
    for t in [
        "2020-10-25T00:00:00Z",
        "2020-10-25T01:00:00Z",
        "2020-10-25T02:59:59Z",
    ] {
        assert_eq!(w.bounds(at(t)), (two, at("2020-10-25T03:00:00Z")), "{t}");
    }
    let w = windows(
        "Europe/Berlin",
        H,
        0,
        "2020-10-24T22:00:00Z",
        "2020-10-25T04:00:00Z",
    );
    assert_eq!(
        w.start_of(at("2020-10-25T01:30:00Z")),
        at("2020-10-25T01:00:00Z")
    );
    assert_eq!(
        w.start_of(at("2020-10-25T00:30:00Z")),
        at("2020-10-25T00:00:00Z")
    );
    // With an offset the windows are 6 h after local midnight: at 05:00 on the change.
    let w = windows(
        "Europe/Berlin",
        D,
        6 * H,
        "2020-10-20T00:00:00Z",
        "2020-11-03T00:00:00Z",
    );
    let (start, end) = w.bounds(at("2020-10-25T10:00:00Z"));
    assert_eq!(
        (start, end),
        (at("2020-10-25T04:00:00Z"), at("2020-10-26T05:00:00Z"))
    );
    assert_eq!(
        w.start_of(at("2020-10-25T03:59:59Z")),
        at("2020-10-24T04:00:00Z")
    );
}

/// Every window start the grid lists is the start of the times after it, and every
/// time's window start is in the grid: checked minute by minute around changes, for
/// windows shorter and longer than the change, with offsets, forward and back.
#[test]
fn the_grid_lists_exactly_the_window_starts_of_the_times() {
    let cases = [
        (
            "America/Chicago",
            "2020-03-06T00:00:00Z",
            "2020-03-11T00:00:00Z",
        ),
        (
            "America/Chicago",
            "2020-10-30T00:00:00Z",
            "2020-11-03T00:00:00Z",
        ),
        (
            "Europe/Berlin",
            "2020-10-23T00:00:00Z",
            "2020-10-27T00:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2020-04-03T00:00:00Z",
            "2020-04-07T00:00:00Z",
        ),
        (
            "Australia/Lord_Howe",
            "2020-10-02T00:00:00Z",
            "2020-10-06T00:00:00Z",
        ),
    ];
    let shapes = [
        (D, 0),
        (D, 6 * H),
        (D, -3 * H),
        (12 * H, 0),
        (6 * H, 90 * 60 * S),
        (3 * H, 0),
        (2 * H, 0),
        (90 * 60 * S, 0),
        (H, 0),
        (45 * 60 * S, 0),
        (30 * 60 * S, 0),
        (7 * D, 0),
    ];
    for (name, from, to) in cases {
        let (from, to) = (at(from), at(to));
        for (every, offset) in shapes {
            let w = zone(name).windows(every, offset, Some(from), Some(to));
            let mut seen = std::collections::BTreeSet::new();
            let mut t = from;
            while t <= to {
                let (start, end) = w.bounds(t);
                assert!(
                    start <= t && t < end,
                    "{name} {every} {offset} {t}: {start} {end}"
                );
                assert_eq!(w.start_of(end), end, "{name} {every} {offset} {t}");
                seen.insert(start);
                t += 60 * S;
            }
            let (first, last, count) = w.grid(from, to, 0);
            let grid: Vec<i64> = w.starts(first, last).collect();
            let seen: Vec<i64> = seen.into_iter().collect();
            assert_eq!(grid, seen, "{name} every {every} offset {offset}");
            assert_eq!(
                count,
                grid.len() as u128,
                "{name} every {every} offset {offset}"
            );
            // Looking back walks the same starts.
            let (back, _, n) = w.grid(last, last, grid.len() as u64 - 1);
            assert_eq!(
                (back, n),
                (first, grid.len() as u128),
                "{name} {every} {offset}"
            );
        }
    }
}
