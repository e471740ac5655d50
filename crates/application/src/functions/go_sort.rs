//! The order InfluxDB 1.6.7 sorts values in before it picks a `mode`: Go's `sort.Sort` as
//! of Go 1.19 (the reference binary names `go1.19.8` and carries `sort.pdqsort`), a
//! pattern-defeating quicksort. It is not stable: equal values end up in an order that
//! depends on the whole input, and `mode` breaks ties between equally frequent values by
//! the times of the values this order puts first and last, so a stable sort gives other
//! answers (recorded in `aggregates--mode-many`: 3 and 7 five times each among twenty
//! values, InfluxDB prints 7; a stable sort picks 3).
//!
//! Written from the algorithm's published description: twelve elements or fewer get an
//! insertion sort; otherwise a pivot is chosen (the median of three elements a quarter,
//! half and three quarters in, each the median of its neighbours from fifty elements
//! on), counting the swaps that choice needed (none: probably ascending, try a partial
//! insertion sort; all: reverse first); elements equal to a pivot that is not above its
//! predecessor are gathered first; after an unbalanced partition three elements are
//! swapped with pseudo-random ones (xorshift 13/17/5, seeded by the length); past
//! `bit length` bad partitions, heapsort. Only the sequence of comparisons and swaps
//! matters: checked against InfluxDB 1.6.7's `mode` over 60 single-series inputs of 13
//! to 150 values with many ties (all equal) and the recorded cases.

/// Sorts `v` by `less`, permuting it exactly as Go 1.19's `sort.Sort` does.
pub(crate) fn sort<T>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let limit = bit_length(n);
    pdqsort(v, 0, n, limit, less);
}

fn bit_length(n: usize) -> usize {
    (usize::BITS - n.leading_zeros()) as usize
}

/// What choosing a pivot suggests about `v[a..b]`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hint {
    Unknown,
    Increasing,
    Decreasing,
}

fn pdqsort<T>(
    v: &mut [T],
    mut a: usize,
    mut b: usize,
    mut limit: usize,
    less: &impl Fn(&T, &T) -> bool,
) {
    let (mut was_balanced, mut was_partitioned) = (true, true);
    loop {
        let length = b - a;
        if length <= 12 {
            insertion_sort(v, a, b, less);
            return;
        }
        if limit == 0 {
            heap_sort(v, a, b, less);
            return;
        }
        if !was_balanced {
            break_patterns(v, a, b);
            limit -= 1;
        }
        let (mut pivot, mut hint) = choose_pivot(v, a, b, less);
        if hint == Hint::Decreasing {
            v[a..b].reverse();
            pivot = (b - 1) - (pivot - a);
            hint = Hint::Increasing;
        }
        if was_balanced
            && was_partitioned
            && hint == Hint::Increasing
            && partial_insertion_sort(v, a, b, less)
        {
            return;
        }
        // Not above its predecessor: the pivot equals the smallest of v[a..b].
        if a > 0 && !less(&v[a - 1], &v[pivot]) {
            a = partition_equal(v, a, b, pivot, less);
            continue;
        }
        let (mid, already) = partition(v, a, b, pivot, less);
        was_partitioned = already;
        let (left, right) = (mid - a, b - mid);
        let balance = length / 8;
        if left < right {
            was_balanced = left >= balance;
            pdqsort(v, a, mid, limit, less);
            a = mid + 1;
        } else {
            was_balanced = right >= balance;
            pdqsort(v, mid + 1, b, limit, less);
            b = mid;
        }
    }
}

fn insertion_sort<T>(v: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Moves the pivot to `a`, then the elements below it before the ones not below it;
/// returns the pivot's final place and whether nothing had to move.
fn partition<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, bool) {
    v.swap(a, pivot);
    let below = |v: &[T], k: usize| less(&v[k], &v[a]);
    let (_, j, moved) = sweep(v, a + 1, b - 1, below, |v, k| !below(v, k));
    v.swap(j, a);
    (j, !moved)
}

/// With no element of `v[a..b]` below the pivot: the pivot's equals first; returns where
/// the greater ones start.
fn partition_equal<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    pivot: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> usize {
    v.swap(a, pivot);
    let above = |v: &[T], k: usize| less(&v[a], &v[k]);
    let (i, _, _) = sweep(v, a + 1, b - 1, |v, k| !above(v, k), above);
    i
}

/// Go's partitioning loop over `v[i..=j]`: `i` moves right past elements that stay
/// left, `j` moves left past elements that stay right, the two elements where both stop
/// are swapped, until they cross. Returns the final `i`, `j` and whether any swap
/// happened.
fn sweep<T>(
    v: &mut [T],
    mut i: usize,
    mut j: usize,
    stays_left: impl Fn(&[T], usize) -> bool,
    stays_right: impl Fn(&[T], usize) -> bool,
) -> (usize, usize, bool) {
    let mut moved = false;
    loop {
        while i <= j && stays_left(v, i) {
            i += 1;
        }
        while i <= j && stays_right(v, j) {
            j -= 1;
        }
        if i > j {
            return (i, j, moved);
        }
        v.swap(i, j);
        moved = true;
        i += 1;
        j -= 1;
    }
}

/// Fixes up to five adjacent pairs out of order (only from fifty elements on); whether
/// `v[a..b]` is then sorted.
fn partial_insertion_sort<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> bool {
    let mut i = a + 1;
    for _ in 0..5 {
        while i < b && !less(&v[i], &v[i - 1]) {
            i += 1;
        }
        if i == b {
            return true;
        }
        if b - a < 50 {
            return false;
        }
        v.swap(i, i - 1);
        // The smaller one moves left; Go's loop runs down to index 1 of the whole slice,
        // not to `a` (it stops at the first pair in order, which `v[a - 1] <= v[a]`
        // guarantees at `a`).
        if i - a >= 2 {
            let mut j = i - 1;
            while j >= 1 && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j -= 1;
            }
        }
        if b - i >= 2 {
            let mut j = i + 1;
            while j < b && less(&v[j], &v[j - 1]) {
                v.swap(j, j - 1);
                j += 1;
            }
        }
    }
    false
}

/// Swaps the three middle elements of `v[a..b]` with pseudo-random ones.
fn break_patterns<T>(v: &mut [T], a: usize, b: usize) {
    let length = b - a;
    if length < 8 {
        return;
    }
    let mut random = length as u64;
    let modulus = 1usize << bit_length(length);
    let middle = a + (length / 4) * 2;
    for idx in middle - 1..=middle + 1 {
        random ^= random << 13;
        random ^= random >> 17;
        random ^= random << 5;
        let mut other = (random as usize) & (modulus - 1);
        if other >= length {
            other -= length;
        }
        v.swap(idx, a + other);
    }
}

fn choose_pivot<T>(
    v: &mut [T],
    a: usize,
    b: usize,
    less: &impl Fn(&T, &T) -> bool,
) -> (usize, Hint) {
    let l = b - a;
    let mut swaps = 0usize;
    let (mut i, mut j, mut k) = (a + l / 4, a + l / 4 * 2, a + l / 4 * 3);
    if l >= 8 {
        if l >= 50 {
            i = median(v, i - 1, i, i + 1, &mut swaps, less);
            j = median(v, j - 1, j, j + 1, &mut swaps, less);
            k = median(v, k - 1, k, k + 1, &mut swaps, less);
        }
        j = median(v, i, j, k, &mut swaps, less);
    }
    let hint = match swaps {
        0 => Hint::Increasing,
        12 => Hint::Decreasing,
        _ => Hint::Unknown,
    };
    (j, hint)
}

/// The index of the median of three elements, counting the comparisons that found a
/// pair out of order.
fn median<T>(
    v: &[T],
    a: usize,
    b: usize,
    c: usize,
    swaps: &mut usize,
    less: &impl Fn(&T, &T) -> bool,
) -> usize {
    let mut order = |x: usize, y: usize| {
        if less(&v[y], &v[x]) {
            *swaps += 1;
            (y, x)
        } else {
            (x, y)
        }
    };
    let (a, b) = order(a, b);
    let (b, _c) = order(b, c);
    let (_a, b) = order(a, b);
    b
}

fn heap_sort<T>(v: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    let n = b - a;
    for i in (0..=(n - 1) / 2).rev() {
        sift_down(v, i, n, a, less);
    }
    for i in (0..n).rev() {
        v.swap(a, a + i);
        sift_down(v, 0, i, a, less);
    }
}

/// Restores the max-heap below `root` in the heap of `n` elements starting at `first`.
fn sift_down<T>(
    v: &mut [T],
    mut root: usize,
    n: usize,
    first: usize,
    less: &impl Fn(&T, &T) -> bool,
) {
    loop {
        let mut child = 2 * root + 1;
        if child >= n {
            return;
        }
        if child + 1 < n && less(&v[first + child], &v[first + child + 1]) {
            child += 1;
        }
        if !less(&v[first + root], &v[first + child]) {
            return;
        }
        v.swap(first + root, first + child);
        root = child;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted_times(keys: &[i32]) -> Vec<(i32, usize)> {
        let mut v: Vec<(i32, usize)> = keys.iter().copied().zip(1..).collect();
        sort(&mut v, &|a, b| a.0 < b.0);
        v
    }

    proptest! {
        /// Whatever the input (many equal keys, runs, descending stretches, the
        /// heapsort fallback on adversarial orders), the result is sorted and a
        /// permutation of the input.
        #[test]
        fn sorts_every_input(
            keys in proptest::collection::vec(0i32..8, 0..400),
            descending in any::<bool>(),
        ) {
            let mut keys = keys;
            if descending {
                keys.sort_unstable_by(|a, b| b.cmp(a));
            }
            let v = sorted_times(&keys);
            prop_assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
            let mut seen: Vec<usize> = v.iter().map(|p| p.1).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (1..=keys.len()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn twelve_or_fewer_keep_equal_values_in_input_order() {
        let v = sorted_times(&[5, 5, 9, 9, 9, 9, 2]);
        assert_eq!(
            v,
            vec![(2, 7), (5, 1), (5, 2), (9, 3), (9, 4), (9, 5), (9, 6)]
        );
    }

    /// Two inputs InfluxDB 1.6.7 answered differently from a stable sort: the times
    /// of the first 7 and the last 3 (or 4 and 2) in the order decide its `mode`.
    #[test]
    fn equal_values_move_as_in_go() {
        let v = sorted_times(&[
            7, 3, 9, 7, 3, 1, 7, 3, 12, 7, 3, 4, 7, 3, 8, 6, 5, 2, 11, 10,
        ]);
        let threes: Vec<usize> = v.iter().filter(|p| p.0 == 3).map(|p| p.1).collect();
        let sevens: Vec<usize> = v.iter().filter(|p| p.0 == 7).map(|p| p.1).collect();
        // InfluxDB printed 7: the first 7 is not later than the last 3.
        assert!(sevens[0] <= threes[4], "{v:?}");
        let keys = [
            1, 5, 1, 0, 4, 2, 4, 3, 2, 5, 3, 2, 4, 0, 0, 4, 3, 1, 2, 1, 3, 3, 0, 5, 0, 4, 4, 2, 2,
            5,
        ];
        let v = sorted_times(&keys);
        let twos: Vec<usize> = v.iter().filter(|p| p.0 == 2).map(|p| p.1).collect();
        let fours: Vec<usize> = v.iter().filter(|p| p.0 == 4).map(|p| p.1).collect();
        // InfluxDB printed 2: the first 4 is later than the last 2.
        assert!(fours[0] > twos[5], "{v:?}");
    }
}
