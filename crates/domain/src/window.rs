//! `GROUP BY time(every, offset) tz('Zone')` windows: which window holds a time, and the
//! grid of windows over a range.
//!
//! Why here: the rule is rendered twice, as SQL by `timeseriesql` (the pushdown
//! aggregates) and in Rust by `application` (the Rust evaluation and the recent-data
//! tier), and every path must put a point into the same window. Both read the same
//! [`Window`]: a zone is turned into a short table of [`Piece`]s once per query, so the
//! SQL and the Rust code evaluate the same piecewise formula.
//!
//! InfluxDB 1.6's windows follow the local clock (checked against the reference server):
//!
//! - without an offset a window starts where the local time is a multiple of `every`
//!   (counted from the Unix epoch read as local time), so `time(1d)` starts at local
//!   midnight, before and after a daylight-saving change (23 h and 25 h days); an offset
//!   moves those windows later by its absolute length (`time(1d, 6h)` over a change at
//!   03:00 starts 6 h after local midnight: at 05:00 on the 25 h day);
//! - when the clocks go back by less than `every`, the repeated local times stay in the
//!   window in progress (the local boundary met a second time starts nothing);
//! - when they go forward by less than `every` over a boundary (`time(2h)` at 02:00),
//!   the window starts at the change;
//! - changes of `every` or more (`time(1h)` over a one-hour change) leave every instant
//!   whose local time is aligned a window start.
//!
//! Precisely: a time's window starts at the latest *window start* not after it, where a
//! window start is an instant whose local time is aligned and not a repeat, or a
//! forward change that skipped an aligned local time. Without a zone this is
//! `t - ((t - offset) mod every)`. (InfluxDB's own answers are not consistent at a
//! change for windows shorter than the change, or between its data windows and its
//! `fill()` rows at a change in the middle of a window; this rule is the one its dense
//! data follows.)

use crate::time::{TimeZone, MAX_NANOS, MIN_NANOS};

/// Nanoseconds per second.
const SEC: i64 = 1_000_000_000;
/// Step of the zone probe: offsets are sampled once a day (no zone changes twice within
/// a day), then each change is bisected to the second.
const PROBE_STEP: i64 = 86_400 * SEC;

/// The zone offsets (nanoseconds east of UTC) over a range: the offset before the first
/// change, then each change `(instant, offset from then on)`, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneOffsets {
    initial: i64,
    changes: Vec<(i64, i64)>,
}

impl ZoneOffsets {
    /// A zone that is always `offset_ns` east of UTC.
    pub const fn fixed(offset_ns: i64) -> ZoneOffsets {
        ZoneOffsets {
            initial: offset_ns,
            changes: Vec::new(),
        }
    }

    /// The offsets of `zone` between `from` and `to` (inclusive): the offset at `from`,
    /// and every change up to `to`. Outside the range the offsets of its ends hold.
    pub fn of(zone: &TimeZone, from: i64, to: i64) -> ZoneOffsets {
        let at = |t: i64| i64::from(zone.offset_secs(t)) * SEC;
        let mut out = ZoneOffsets::fixed(at(from));
        let mut t = from;
        let mut current = out.initial;
        while t < to {
            let next = t.saturating_add(PROBE_STEP).min(to);
            let z = at(next);
            if z != current {
                let change = bisect_change(&at, t, next, current);
                out.changes.push((change, at(change)));
                current = at(change);
                // A second change within the step is found from the first one on.
                t = change;
                continue;
            }
            t = next;
        }
        out
    }

    /// The offset at `t`.
    pub fn at(&self, t: i64) -> i64 {
        match self.changes.partition_point(|(c, _)| *c <= t) {
            0 => self.initial,
            i => self.changes[i - 1].1,
        }
    }

    /// The changes in the range, `(instant, offset from then on)`.
    pub fn changes(&self) -> &[(i64, i64)] {
        &self.changes
    }
}

/// The first second in `(lo, hi]` where the offset is no longer `before` (there is one:
/// it differs at `hi`). Zone changes fall on whole seconds.
fn bisect_change(at: &impl Fn(i64) -> i64, lo: i64, hi: i64, before: i64) -> i64 {
    let (mut lo, mut hi) = (lo.div_euclid(SEC), hi.div_euclid(SEC));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at(mid * SEC) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi * SEC
}

/// One stretch of constant zone offset of a [`Window`], as the SQL renders it: a time
/// `t` in `[from, next piece's from)` belongs to the window starting at
/// `c = t - ((t - shift) mod every)` when `c >= first`, else to the one starting at
/// `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// First instant of the piece (`i64::MIN` for the first piece).
    pub from: i64,
    /// `offset - zone offset`, reduced modulo `every` into `[0, every)`.
    pub shift: i64,
    /// The earliest aligned window start the piece has (`i64::MIN` for the first piece).
    pub first: i64,
    /// The window of the piece's times before `first`: the forward change itself, or
    /// the last window start of an earlier piece.
    pub before: i64,
}

/// A `GROUP BY time(every, offset)` window grid, optionally in a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Interval in nanoseconds (> 0).
    pub every: i64,
    /// Offset in nanoseconds (the second argument of `time()`).
    pub offset: i64,
    /// The zone's stretches of constant offset (empty: UTC).
    pieces: Vec<Piece>,
}

impl Window {
    /// Windows in UTC.
    pub const fn new(every: i64, offset: i64) -> Window {
        Window {
            every,
            offset,
            pieces: Vec::new(),
        }
    }

    /// Windows in a zone whose offsets are `zone` (exact for the times its changes
    /// cover; see [`ZoneOffsets::of`]). The windows are those without `offset`, moved by
    /// it, so a change counts `offset` later.
    pub fn in_zone(every: i64, offset: i64, zone: &ZoneOffsets) -> Window {
        let mut w = Window::new(every, offset);
        let first_piece = Piece {
            from: i64::MIN,
            shift: w.shift_of(zone.initial),
            first: i64::MIN,
            before: i64::MIN,
        };
        w.pieces.push(first_piece);
        let mut prev_zone = zone.initial;
        for &(at, z) in zone.changes() {
            let Some(from) = at.checked_add(offset) else {
                continue;
            };
            let piece = w.piece_after(from, z - prev_zone, w.shift_of(z));
            w.pieces.push(piece);
            prev_zone = z;
        }
        w
    }

    /// The piece starting at the change `from`, where the offset moves by `change`, given
    /// the pieces before it.
    fn piece_after(&self, from: i64, change: i64, shift: i64) -> Piece {
        let d = i128::from(self.every.max(1));
        let aligned_from = |x: i128| x + rem(i128::from(shift) - x, d);
        let (at, change) = (i128::from(from), i128::from(change));
        let mut first = aligned_from(at);
        let mut gap_start = false;
        if change < 0 && -change < d {
            // Clocks back: the repeated local times start no window.
            first = aligned_from(at - change);
        } else if change > 0 && change < d && first != at {
            // Clocks forward over an aligned local time: a window starts at the change.
            gap_start = aligned_from(at - change) < at;
        }
        Piece {
            from,
            shift,
            first: clamp(first),
            before: if gap_start {
                from
            } else {
                self.start_of(from.saturating_sub(1))
            },
        }
    }

    /// Whether a window starts at the change that begins piece `i`.
    fn starts_at_change(&self, i: usize) -> bool {
        i > 0 && self.pieces.get(i).is_some_and(|p| p.before == p.from)
    }

    /// `offset - zone` reduced into `[0, every)`.
    fn shift_of(&self, zone: i64) -> i64 {
        let d = i128::from(self.every.max(1));
        // The remainder is below `every`, an i64.
        clamp(rem(i128::from(self.offset) - i128::from(zone), d))
    }

    /// The zone's pieces; one piece without changes, none in UTC.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The fixed grid `(every, shift)` when the windows keep one offset (UTC or a zone
    /// without changes in the range): the window of `t` starts at
    /// `t - ((t - shift) mod every)`.
    pub fn fixed(&self) -> Option<(i64, i64)> {
        match self.pieces.as_slice() {
            [] => Some((self.every, self.offset)),
            [p] => Some((self.every, p.shift)),
            _ => None,
        }
    }

    /// Index of the piece holding `t` (0 when there are none).
    fn piece_index(&self, t: i128) -> usize {
        self.pieces
            .partition_point(|p| i128::from(p.from) <= t)
            .saturating_sub(1)
    }

    fn shift_at(&self, i: usize) -> i128 {
        self.pieces
            .get(i)
            .map_or(i128::from(self.offset), |p| i128::from(p.shift))
    }

    /// The window start of `t`, in wide arithmetic (may lie below `i64::MIN`).
    fn start_wide(&self, t: i128) -> i128 {
        let d = i128::from(self.every.max(1));
        let i = self.piece_index(t);
        let c = t - rem(t - self.shift_at(i), d);
        match self.pieces.get(i) {
            Some(p) if c < i128::from(p.first) => i128::from(p.before),
            _ => c,
        }
    }

    /// The start of the window holding `t`; a window starting before `i64::MIN` is cut
    /// there.
    pub fn start_of(&self, t: i64) -> i64 {
        clamp(self.start_wide(i128::from(t)))
    }

    /// The first window start after `b`, in wide arithmetic.
    fn next_wide(&self, b: i128) -> i128 {
        let d = i128::from(self.every.max(1));
        let mut i = self.piece_index(b);
        let mut from = b + 1;
        loop {
            let p = self.pieces.get(i);
            let lo = p.map_or(from, |p| from.max(i128::from(p.first)));
            let c = lo + rem(self.shift_at(i) - lo, d);
            match self.pieces.get(i + 1) {
                Some(next) if c >= i128::from(next.from) => {
                    if self.starts_at_change(i + 1) {
                        return i128::from(next.from);
                    }
                    i += 1;
                    from = i128::from(next.from);
                }
                _ => return c,
            }
        }
    }

    /// `[start, end)` of the window holding `t` (InfluxDB's `IteratorOptions.Window`),
    /// computed without overflow: a window reaching past the representable range is cut
    /// there instead of wrapping as Go's arithmetic does.
    pub fn bounds(&self, t: i64) -> (i64, i64) {
        let start = self.start_wide(i128::from(t));
        (clamp(start), clamp(self.next_wide(start)))
    }

    /// The window start following the window that starts at (or holds) `b`; `None` past
    /// the representable range.
    pub fn next_start(&self, b: i64) -> Option<i64> {
        let start = self.start_wide(i128::from(b));
        i64::try_from(self.next_wide(start)).ok()
    }

    /// The window start `k` windows before the window start `b`.
    fn back_wide(&self, b: i128, k: u64) -> i128 {
        let d = i128::from(self.every.max(1));
        let (mut b, mut k) = (b, i128::from(k));
        while k > 0 {
            let i = self.piece_index(b - 1);
            let last = self.start_wide(b - 1);
            k -= 1;
            match self.pieces.get(i) {
                // The aligned starts of this piece before `b`, then its `before`.
                Some(p) if i > 0 => {
                    let first = i128::from(p.first);
                    if last < first {
                        b = last;
                        continue;
                    }
                    let aligned = (last - first) / d;
                    if k <= aligned {
                        return last - k * d;
                    }
                    k -= aligned;
                    b = first;
                }
                _ => return last - k * d,
            }
        }
        b
    }

    /// The grid of window starts covering `[from, to]`, extended `lookback` windows
    /// before `from` (transformations over aggregates read those): `(first, last,
    /// count)`; `count` is `0` when `to` lies before `from`. Exact for any inputs (no
    /// wrapping); the caller checks `count` against its limits before calling
    /// [`Window::starts`].
    pub fn grid(&self, from: i64, to: i64, lookback: u64) -> (i64, i64, u128) {
        let first = self.back_wide(self.start_wide(i128::from(from)), lookback);
        let last = self.start_wide(i128::from(to));
        if last < first {
            return (clamp(first), clamp(last), 0);
        }
        // Windows before i64::MIN collapse into the first representable one.
        let lowest = self.start_wide(i128::from(i64::MIN));
        let first = first.max(lowest);
        (clamp(first), clamp(last), self.count_wide(first, last))
    }

    /// How many window starts lie in `[first, last]` (both window starts).
    fn count_wide(&self, first: i128, last: i128) -> u128 {
        let d = i128::from(self.every.max(1));
        let (lo, hi) = (self.piece_index(first), self.piece_index(last));
        let mut count: u128 = 0;
        for i in lo..=hi {
            let p = self.pieces.get(i);
            let from = p.map_or(first, |p| first.max(i128::from(p.from)));
            let end = self
                .pieces
                .get(i + 1)
                .map_or(last, |n| last.min(i128::from(n.from) - 1));
            if from > end {
                continue;
            }
            if self.starts_at_change(i) && p.is_some_and(|p| i128::from(p.from) >= first) {
                count += 1;
            }
            let lo = p.map_or(from, |p| from.max(i128::from(p.first)));
            let c = lo + rem(self.shift_at(i) - lo, d);
            if c <= end {
                // Non-negative: `c <= end`.
                count += ((end - c) / d) as u128 + 1;
            }
        }
        count
    }

    /// The window starts from `first` to `last` inclusive (from [`Window::grid`]).
    pub fn starts(&self, first: i64, last: i64) -> impl Iterator<Item = i64> + '_ {
        let mut next = (first <= last).then_some(i128::from(first));
        let last = i128::from(last);
        std::iter::from_fn(move || {
            let b = next?;
            let n = self.next_wide(b);
            next = (n <= last && n > b).then_some(n);
            Some(clamp(b))
        })
    }
}

/// `x mod d` in `[0, d)`.
fn rem(x: i128, d: i128) -> i128 {
    x.rem_euclid(d)
}

/// A wide time clamped into `i64`.
fn clamp(t: i128) -> i64 {
    i64::try_from(t).unwrap_or(if t < 0 { i64::MIN } else { i64::MAX })
}

impl TimeZone {
    /// The windows `time(every, offset)` in this zone for times in `[from, to]` (an
    /// unbounded end is `None`): the zone's changes in the range (widened by two windows
    /// and the offset, which is as far as a window start may lie from its times).
    pub fn windows(&self, every: i64, offset: i64, from: Option<i64>, to: Option<i64>) -> Window {
        if self.is_utc() {
            return Window::new(every, offset);
        }
        let margin = every
            .saturating_mul(2)
            .saturating_add(offset.saturating_abs());
        let from = from.unwrap_or(MIN_NANOS).saturating_sub(margin);
        let to = to.unwrap_or(MAX_NANOS).saturating_add(margin);
        Window::in_zone(every, offset, &ZoneOffsets::of(self, from, to))
    }
}

#[cfg(test)]
mod tests;
