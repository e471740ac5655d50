//! Technical-analysis functions of InfluxQL (added in InfluxDB 1.4, computed by its
//! internal "gota" package): `exponential_moving_average`,
//! `double_exponential_moving_average`, `triple_exponential_moving_average`,
//! `relative_strength_index`, `triple_exponential_derivative`,
//! `chande_momentum_oscillator`, `kaufmans_efficiency_ratio` and
//! `kaufmans_adaptive_moving_average`.
//!
//! Every function feeds the non-null rows in the given order into its algorithm and
//! emits a float at the current row's time once more than `hold_period` rows were seen.
//! The default hold period (`None`) is the algorithm's warm-up count. NaN outputs are
//! `Null`; `triple_exponential_derivative` drops infinite outputs.

use super::{float_value, numeric, FunctionError, Row};

/// The `warmup_type` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Warmup {
    /// `'exponential'` (default for the EMA family): EMA from the first value with a
    /// scaled alpha during warm-up.
    #[default]
    Exponential,
    /// `'simple'`: simple average during warm-up.
    Simple,
    /// `'none'`: only valid for `chande_momentum_oscillator` (its default): the plain,
    /// unsmoothed oscillator.
    None,
}

impl Warmup {
    /// Parses `'exponential'`, `'simple'` or `'none'`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "exponential" => Some(Self::Exponential),
            "simple" => Some(Self::Simple),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// Which technical-analysis algorithm to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    /// `exponential_moving_average`
    Ema,
    /// `double_exponential_moving_average`
    Dema,
    /// `triple_exponential_moving_average`
    Tema,
    /// `relative_strength_index`
    Rsi,
    /// `triple_exponential_derivative`
    Trix,
    /// `chande_momentum_oscillator`
    Cmo,
    /// `kaufmans_efficiency_ratio`
    Ker,
    /// `kaufmans_adaptive_moving_average`
    Kama,
}

impl Indicator {
    /// Looks up an indicator by its InfluxQL function name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "exponential_moving_average" => Self::Ema,
            "double_exponential_moving_average" => Self::Dema,
            "triple_exponential_moving_average" => Self::Tema,
            "relative_strength_index" => Self::Rsi,
            "triple_exponential_derivative" => Self::Trix,
            "chande_momentum_oscillator" => Self::Cmo,
            "kaufmans_efficiency_ratio" => Self::Ker,
            "kaufmans_adaptive_moving_average" => Self::Kama,
            _ => return None,
        })
    }

    /// The InfluxQL function name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ema => "exponential_moving_average",
            Self::Dema => "double_exponential_moving_average",
            Self::Tema => "triple_exponential_moving_average",
            Self::Rsi => "relative_strength_index",
            Self::Trix => "triple_exponential_derivative",
            Self::Cmo => "chande_momentum_oscillator",
            Self::Ker => "kaufmans_efficiency_ratio",
            Self::Kama => "kaufmans_adaptive_moving_average",
        }
    }

    /// The iterator name used in type errors.
    fn iterator(self) -> &'static str {
        match self {
            Self::Ema => "exponential moving average",
            Self::Dema => "double exponential moving average",
            Self::Tema => "triple exponential moving average",
            Self::Rsi => "relative strength index",
            Self::Trix => "triple exponential derivative",
            Self::Cmo => "chande momentum oscillator",
            Self::Ker => "kaufmans efficiency ratio",
            Self::Kama => "kaufmans adaptive moving average",
        }
    }

    /// The default `warmup_type` (`'none'` for CMO, `'exponential'` otherwise).
    pub fn default_warmup(self) -> Warmup {
        match self {
            Self::Cmo => Warmup::None,
            _ => Warmup::Exponential,
        }
    }
}

/// Arguments of an indicator call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorArgs {
    /// The `period` argument (number of points).
    pub period: usize,
    /// `hold_period`; `None` (or InfluxQL's `-1`) = the algorithm's warm-up count.
    pub hold_period: Option<usize>,
    /// `warmup_type`; `None` = the indicator's default.
    pub warmup: Option<Warmup>,
}

/// Runs a technical-analysis indicator over the rows of one series.
pub fn indicator(
    ind: Indicator,
    rows: &[Row],
    args: IndicatorArgs,
) -> Result<Vec<Row>, FunctionError> {
    let warmup = args.warmup.unwrap_or(ind.default_warmup());
    let name = ind.name();
    if args.period < 1 {
        return Err(FunctionError::InvalidArgument(format!(
            "{name} period must be greater than or equal to 1"
        )));
    }
    match (ind, warmup) {
        (Indicator::Cmo, Warmup::None | Warmup::Exponential | Warmup::Simple) => {}
        (Indicator::Ker | Indicator::Kama, _) => {}
        (_, Warmup::None) => {
            return Err(FunctionError::InvalidArgument(format!(
                "{name} warmup type must be one of: 'exponential' 'simple'"
            )))
        }
        _ => {}
    }
    if ind == Indicator::Cmo && warmup == Warmup::None && args.period < 2 {
        return Err(FunctionError::InvalidArgument(format!(
            "{name} period must be greater than or equal to 2"
        )));
    }
    if ind == Indicator::Trix && args.hold_period == Some(0) {
        return Err(FunctionError::InvalidArgument(format!(
            "{name} hold period must be greater than or equal to 1"
        )));
    }
    let values = numeric(ind.iterator(), rows)?.to_f64();
    let n = args.period;
    let mut alg: Box<dyn Algorithm> = match ind {
        Indicator::Ema => Box::new(Ema::new(n, warmup)),
        Indicator::Dema => Box::new(Dema::new(n, warmup)),
        Indicator::Tema => Box::new(Tema::new(n, warmup)),
        Indicator::Rsi => Box::new(Rsi::new(n, warmup, false)),
        Indicator::Trix => Box::new(Trix::new(n, warmup)),
        Indicator::Cmo if warmup == Warmup::None => Box::new(Cmo::new(n)),
        Indicator::Cmo => Box::new(Rsi::new(n, warmup, true)),
        Indicator::Ker => Box::new(Ker::new(n)),
        Indicator::Kama => Box::new(Kama::new(n)),
    };
    let hold = args.hold_period.unwrap_or_else(|| alg.warm_count());
    let mut out = Vec::new();
    for (count, (t, v)) in values.into_iter().enumerate() {
        let r = alg.add(v);
        if count < hold {
            continue;
        }
        if ind == Indicator::Trix && r.is_infinite() {
            continue;
        }
        out.push((t, float_value(r)));
    }
    Ok(out)
}

/// A streaming indicator.
trait Algorithm {
    fn add(&mut self, v: f64) -> f64;
    fn warm_count(&self) -> usize;
}

/// Exponential moving average with InfluxDB's warm-up rules.
#[derive(Debug, Clone)]
struct Ema {
    period: usize,
    alpha: f64,
    warmup: Warmup,
    count: usize,
    last: f64,
}

impl Ema {
    fn new(period: usize, warmup: Warmup) -> Self {
        Self {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            warmup,
            count: 0,
            last: 0.0,
        }
    }

    fn warmed(&self) -> bool {
        self.count == self.period
    }

    fn add(&mut self, v: f64) -> f64 {
        let avg = if self.count == 0 {
            v
        } else if !self.warmed() {
            if self.warmup == Warmup::Simple {
                (self.last * self.count as f64 + v) / (self.count as f64 + 1.0)
            } else {
                let alpha = 2.0 / (self.count as f64 + 2.0);
                (v - self.last) * alpha + self.last
            }
        } else {
            (v - self.last) * self.alpha + self.last
        };
        self.last = avg;
        if self.count < self.period {
            self.count += 1;
        }
        avg
    }

    fn warm_count(&self) -> usize {
        self.period.saturating_sub(1)
    }
}

impl Algorithm for Ema {
    fn add(&mut self, v: f64) -> f64 {
        Ema::add(self, v)
    }
    fn warm_count(&self) -> usize {
        Ema::warm_count(self)
    }
}

/// Double EMA: `2*ema1 - ema2(ema1)`.
#[derive(Debug, Clone)]
struct Dema {
    e1: Ema,
    e2: Ema,
}

impl Dema {
    fn new(n: usize, w: Warmup) -> Self {
        Self {
            e1: Ema::new(n, w),
            e2: Ema::new(n, w),
        }
    }
}

impl Algorithm for Dema {
    fn add(&mut self, v: f64) -> f64 {
        let a1 = self.e1.add(v);
        let a2 = if self.e1.warmed() || self.e1.warmup == Warmup::Exponential {
            self.e2.add(a1)
        } else {
            a1
        };
        2.0 * a1 - a2
    }
    fn warm_count(&self) -> usize {
        if self.e1.warmup == Warmup::Exponential {
            self.e1.warm_count()
        } else {
            self.e1.warm_count() + self.e2.warm_count()
        }
    }
}

/// Triple EMA: `3*e1 - 3*e2 + e3`.
#[derive(Debug, Clone)]
struct Tema {
    e1: Ema,
    e2: Ema,
    e3: Ema,
}

impl Tema {
    fn new(n: usize, w: Warmup) -> Self {
        Self {
            e1: Ema::new(n, w),
            e2: Ema::new(n, w),
            e3: Ema::new(n, w),
        }
    }
}

impl Algorithm for Tema {
    fn add(&mut self, v: f64) -> f64 {
        let exp = self.e1.warmup == Warmup::Exponential;
        let a1 = self.e1.add(v);
        let (a2, a3) = if self.e1.warmed() || exp {
            let a2 = self.e2.add(a1);
            let a3 = if self.e2.warmed() || exp {
                self.e3.add(a2)
            } else {
                a2
            };
            (a2, a3)
        } else {
            (a1, a1)
        };
        3.0 * a1 - 3.0 * a2 + a3
    }
    fn warm_count(&self) -> usize {
        if self.e1.warmup == Warmup::Exponential {
            self.e1.warm_count()
        } else {
            self.e1.warm_count() * 3
        }
    }
}

/// TRIX: percentage rate of change of a triple-smoothed EMA.
#[derive(Debug, Clone)]
struct Trix {
    e1: Ema,
    e2: Ema,
    e3: Ema,
    last: f64,
}

impl Trix {
    fn new(n: usize, w: Warmup) -> Self {
        Self {
            e1: Ema::new(n, w),
            e2: Ema::new(n, w),
            e3: Ema::new(n, w),
            last: 0.0,
        }
    }
}

impl Algorithm for Trix {
    fn add(&mut self, v: f64) -> f64 {
        let exp = self.e1.warmup == Warmup::Exponential;
        let mut cur = self.e1.add(v);
        if self.e1.warmed() || exp {
            cur = self.e2.add(cur);
            if self.e2.warmed() || exp {
                cur = self.e3.add(cur);
            }
        }
        let rate = ((cur / self.last) - 1.0) * 100.0;
        self.last = cur;
        rate
    }
    fn warm_count(&self) -> usize {
        if self.e1.warmup == Warmup::Exponential {
            self.e1.warm_count() + 1
        } else {
            self.e1.warm_count() * 3 + 1
        }
    }
}

/// RSI (and the smoothed CMO used when a warm-up type is given to
/// `chande_momentum_oscillator`): EMAs of the up and down moves with alpha `1/n`.
#[derive(Debug, Clone)]
struct Rsi {
    up: Ema,
    down: Ema,
    last_v: f64,
    cmo: bool,
}

impl Rsi {
    fn new(n: usize, w: Warmup, cmo: bool) -> Self {
        let mut e = Ema::new(n + 1, w);
        e.alpha = 1.0 / n as f64;
        Self {
            up: e.clone(),
            down: e,
            last_v: 0.0,
            cmo,
        }
    }
}

impl Algorithm for Rsi {
    fn add(&mut self, v: f64) -> f64 {
        let (mut up, mut down) = (0.0, 0.0);
        if v > self.last_v {
            up = v - self.last_v;
        } else if v < self.last_v {
            down = self.last_v - v;
        }
        self.up.add(up);
        self.down.add(down);
        self.last_v = v;
        let (u, d) = (self.up.last, self.down.last);
        if self.cmo {
            100.0 * ((u - d) / (u + d))
        } else {
            100.0 - (100.0 / (1.0 + u / d))
        }
    }
    fn warm_count(&self) -> usize {
        self.up.warm_count()
    }
}

/// A ring buffer of `len` logical slots that all start as `(0, 0)`, storing only the
/// slots written so far: the length comes from the query's `period` argument, so memory
/// must follow the data (slots are written in order, one per input value), not the
/// number the user typed.
#[derive(Debug, Clone)]
struct Ring {
    len: usize,
    slots: Vec<(f64, f64)>,
}

impl Ring {
    fn new(len: usize) -> Self {
        Ring {
            len,
            slots: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> (f64, f64) {
        self.slots.get(i).copied().unwrap_or((0.0, 0.0))
    }

    fn set(&mut self, i: usize, v: (f64, f64)) {
        if i >= self.slots.len() {
            self.slots.resize(i + 1, (0.0, 0.0));
        }
        self.slots[i] = v;
    }
}

/// Plain Chande momentum oscillator over the last `n` differences.
#[derive(Debug, Clone)]
struct Cmo {
    /// Ring of (price, diff), `n - 1` long.
    points: Ring,
    sum_up: f64,
    sum_down: f64,
    count: usize,
    idx: usize,
}

impl Cmo {
    fn new(n: usize) -> Self {
        Self {
            points: Ring::new(n.saturating_sub(1).max(1)),
            sum_up: 0.0,
            sum_down: 0.0,
            count: 0,
            idx: 0,
        }
    }
}

impl Algorithm for Cmo {
    fn add(&mut self, v: f64) -> f64 {
        let len = self.points.len();
        let oldest_idx = if self.idx + 1 >= len { 0 } else { self.idx + 1 };
        let mut diff = 0.0;
        if self.count != 0 {
            let prev = self.points.get(self.idx).0;
            diff = v - prev;
            if diff > 0.0 {
                self.sum_up += diff;
            } else if diff < 0.0 {
                self.sum_down -= diff;
            }
        }
        let mut out = 0.0;
        if self.sum_up != 0.0 || self.sum_down != 0.0 {
            out = 100.0 * ((self.sum_up - self.sum_down) / (self.sum_up + self.sum_down));
        }
        let oldest = self.points.get(oldest_idx);
        if oldest.1 > 0.0 {
            self.sum_up -= oldest.1;
        } else if oldest.1 < 0.0 {
            self.sum_down += oldest.1;
        }
        self.points.set(oldest_idx, (v, diff));
        self.idx = oldest_idx;
        if self.count < len {
            self.count += 1;
        }
        out
    }
    fn warm_count(&self) -> usize {
        self.points.len()
    }
}

/// Kaufman's efficiency ratio: |net change| / sum of |changes| over `n` steps.
#[derive(Debug, Clone)]
struct Ker {
    /// Ring of (price, |diff|), `n` long.
    points: Ring,
    noise: f64,
    count: usize,
    idx: usize,
}

impl Ker {
    fn new(n: usize) -> Self {
        Self {
            points: Ring::new(n.max(1)),
            noise: 0.0,
            count: 0,
            idx: 0,
        }
    }

    fn warmed(&self) -> bool {
        self.count == self.points.len() + 1
    }
}

impl Algorithm for Ker {
    fn add(&mut self, v: f64) -> f64 {
        let n = self.points.len();
        let oldest_idx = if self.idx + 1 >= n { 0 } else { self.idx + 1 };
        let signal = (v - self.points.get(oldest_idx).0).abs();
        let kp = (v, (v - self.points.get(self.idx).0).abs());
        self.noise -= self.points.get(oldest_idx).1;
        self.noise += kp.1;
        let noise = self.noise;
        self.idx = oldest_idx;
        self.points.set(oldest_idx, kp);
        if !self.warmed() {
            self.count += 1;
        }
        if signal == 0.0 || noise == 0.0 {
            return 0.0;
        }
        signal / noise
    }
    fn warm_count(&self) -> usize {
        self.points.len()
    }
}

/// Kaufman's adaptive moving average (fast 2, slow 30).
#[derive(Debug, Clone)]
struct Kama {
    ker: Ker,
    last: f64,
}

impl Kama {
    fn new(n: usize) -> Self {
        Self {
            ker: Ker::new(n),
            last: 0.0,
        }
    }
}

impl Algorithm for Kama {
    fn add(&mut self, v: f64) -> f64 {
        if !self.ker.warmed() {
            self.last = self.ker.points.get(self.ker.idx).0;
        }
        let er = self.ker.add(v);
        let sc = (er * (2.0 / (2.0 + 1.0) - 2.0 / (30.0 + 1.0)) + 2.0 / (30.0 + 1.0)).powi(2);
        self.last += sc * (v - self.last);
        self.last
    }
    fn warm_count(&self) -> usize {
        self.ker.warm_count()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::functions::testutil::{assert_rows, fl, int, some};
    use hyperbyte_domain::query::Value;

    fn s() -> Vec<Row> {
        fl(&[
            (0, 1.5),
            (10, 4.0),
            (20, 3.0),
            (40, 7.25),
            (50, 2.0),
            (90, 10.0),
            (100, 10.0),
            (130, -3.0),
        ])
    }

    fn run(ind: Indicator, n: usize, hold: Option<usize>, w: Option<Warmup>) -> Vec<Row> {
        indicator(
            ind,
            &s(),
            IndicatorArgs {
                period: n,
                hold_period: hold,
                warmup: w,
            },
        )
        .unwrap()
    }

    /// serverA `value` of the corpus `cpu` data set.
    fn server_a() -> Vec<Row> {
        fl(&[
            (0, 50.0),
            (10, 75.77),
            (20, 89.42),
            (30, 84.53),
            (40, 63.4),
            (50, 35.97),
            (60, 15.14),
            (70, 10.7),
            (80, 24.75),
            (90, 50.67),
            (100, 76.28),
            (110, 89.53),
        ])
    }

    #[test]
    fn ema_variants() {
        let want = [
            (10, 3.1666666666666665),
            (20, 3.0555555555555554),
            (40, 5.851851851851851),
            (50, 3.2839506172839505),
            (90, 7.761316872427983),
            (100, 9.253772290809328),
            (130, 1.08459076360311),
        ];
        assert_rows(&run(Indicator::Ema, 2, None, None), &some(&want));
        let want = [
            (20, 3.083333333333333),
            (40, 5.166666666666666),
            (50, 3.583333333333333),
            (90, 6.791666666666666),
            (100, 8.395833333333332),
            (130, 2.697916666666666),
        ];
        assert_rows(&run(Indicator::Ema, 3, None, None), &some(&want));
        let want = [
            (20, 2.8333333333333335),
            (40, 5.041666666666666),
            (50, 3.520833333333333),
            (90, 6.760416666666666),
            (100, 8.380208333333332),
            (130, 2.690104166666666),
        ];
        assert_rows(
            &run(Indicator::Ema, 3, None, Some(Warmup::Simple)),
            &some(&want),
        );
        let got = run(Indicator::Ema, 3, Some(0), None);
        assert_eq!(got.len(), 8);
        assert_rows(&got[..2], &some(&[(0, 1.5), (10, 3.1666666666666665)]));
        let got = run(Indicator::Ema, 3, Some(5), Some(Warmup::Exponential));
        assert_rows(
            &got,
            &some(&[
                (90, 6.791666666666666),
                (100, 8.395833333333332),
                (130, 2.697916666666666),
            ]),
        );
        // period 1 is the identity
        assert_eq!(run(Indicator::Ema, 1, None, None).len(), 8);
    }

    #[test]
    fn ema_corpus() {
        let got = indicator(
            Indicator::Ema,
            &server_a(),
            IndicatorArgs {
                period: 3,
                hold_period: None,
                warmup: None,
            },
        )
        .unwrap();
        let want = [
            (20, 78.3),
            (30, 81.41499999999999),
            (40, 72.4075),
            (50, 54.18875),
            (60, 34.664375),
            (70, 22.682187499999998),
            (80, 23.71609375),
            (90, 37.193046875),
            (100, 56.7365234375),
            (110, 73.13326171874999),
        ];
        assert_rows(&got, &some(&want));
    }

    #[test]
    fn dema_tema() {
        let want = [
            (10, 3.7222222222222223),
            (20, 3.2037037037037037),
            (40, 6.833333333333332),
            (50, 2.7551440329218106),
            (90, 9.07750342935528),
            (100, 10.189986282578875),
            (130, -1.326398414875781),
        ];
        assert_rows(&run(Indicator::Dema, 2, None, None), &some(&want));
        let want = [
            (20, 3.319444444444444),
            (40, 6.326388888888888),
            (50, 3.3715277777777777),
            (90, 8.289930555555555),
            (100, 9.94704861111111),
            (130, 0.6245659722222214),
        ];
        assert_rows(&run(Indicator::Dema, 3, None, None), &some(&want));
        let want = [
            (50, 3.2430555555555554),
            (90, 8.241319444444443),
            (100, 9.930555555555554),
            (130, 0.6202256944444438),
        ];
        assert_rows(
            &run(Indicator::Dema, 3, None, Some(Warmup::Simple)),
            &some(&want),
        );
        let want = [
            (10, 3.9074074074074083),
            (20, 3.1296296296296293),
            (40, 7.0864197530864175),
            (50, 2.3360768175582973),
            (90, 9.552812071330587),
            (100, 10.221764974851393),
            (130, -2.4315399075344217),
        ];
        assert_rows(&run(Indicator::Tema, 2, None, None), &some(&want));
        let want = [
            (20, 3.252314814814815),
            (40, 6.754629629629628),
            (50, 2.8998842592592613),
            (90, 8.90914351851852),
            (100, 10.283130787037035),
            (130, -1.0196759259259274),
        ];
        assert_rows(&run(Indicator::Tema, 3, None, None), &some(&want));
        let want = [(100, 9.953703703703702), (130, -1.1783130787037033)];
        assert_rows(
            &run(Indicator::Tema, 3, None, Some(Warmup::Simple)),
            &some(&want),
        );
        assert_rows(
            &run(Indicator::Tema, 3, Some(0), None)[..1],
            &some(&[(0, 1.5)]),
        );
    }

    #[test]
    fn rsi() {
        let want = [
            (20, 68.42105263157895),
            (40, 91.42857142857143),
            (50, 32.65306122448979),
            (90, 77.24137931034483),
            (100, 77.24137931034483),
            (130, 14.56436931079324),
        ];
        assert_rows(&run(Indicator::Rsi, 2, None, None), &some(&want));
        let want = [
            (40, 88.67924528301887),
            (50, 44.54976303317536),
            (90, 74.05764966740577),
            (100, 74.05764966740577),
            (130, 25.141136620248403),
        ];
        assert_rows(&run(Indicator::Rsi, 3, None, None), &some(&want));
        let want = [
            (40, 89.1891891891892),
            (50, 41.77215189873418),
            (90, 73.71428571428572),
            (100, 73.71428571428572),
            (130, 24.52471482889733),
        ];
        assert_rows(
            &run(Indicator::Rsi, 3, None, Some(Warmup::Simple)),
            &some(&want),
        );
        assert_rows(
            &run(Indicator::Rsi, 3, Some(0), None)[..3],
            &some(&[(0, 100.0), (10, 100.0), (20, 68.42105263157895)]),
        );
        // period 1: 0/0 gives NaN → null.
        let got = run(Indicator::Rsi, 1, None, None);
        assert_rows(
            &got,
            &[
                (10, Some(100.0)),
                (20, Some(0.0)),
                (40, Some(100.0)),
                (50, Some(0.0)),
                (90, Some(100.0)),
                (100, None),
                (130, Some(0.0)),
            ],
        );
    }

    #[test]
    fn trix() {
        let want = [
            (20, 19.834710743801654),
            (40, 54.252873563218394),
            (50, -5.298890544792179),
            (90, 42.874628431544),
            (100, 32.276751111655045),
            (130, -35.23070333247665),
        ];
        assert_rows(&run(Indicator::Trix, 2, None, None), &some(&want));
        let want = [
            (40, 28.753412192902637),
            (50, 7.932862190812728),
            (90, 24.864953347520036),
            (100, 27.526874672260092),
            (130, -7.622523193955432),
        ];
        assert_rows(&run(Indicator::Trix, 3, None, None), &some(&want));
        assert_rows(
            &run(Indicator::Trix, 3, None, Some(Warmup::Simple)),
            &some(&[(130, -5.1170468187275)]),
        );
        assert_rows(
            &run(Indicator::Trix, 3, Some(1), None)[..2],
            &some(&[(10, 49.382716049382694), (20, 13.533057851239661)]),
        );
        let err = indicator(
            Indicator::Trix,
            &s(),
            IndicatorArgs {
                period: 3,
                hold_period: Some(0),
                warmup: None,
            },
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "triple_exponential_derivative hold period must be greater than or equal to 1"
        );
        // corpus transformations--trix
        let got = indicator(
            Indicator::Trix,
            &server_a(),
            IndicatorArgs {
                period: 2,
                hold_period: None,
                warmup: None,
            },
        )
        .unwrap();
        let want = [
            (20, 20.265268352868592),
            (30, 11.088313242711823),
            (40, -2.8380620115266986),
            (50, -16.630290335923668),
            (60, -28.218296465587468),
            (70, -33.16720929314221),
            (80, -17.64819259434327),
            (90, 27.177826896081125),
            (100, 49.444600865273046),
            (110, 36.28387620996521),
        ];
        assert_rows(&got, &some(&want));
    }

    #[test]
    fn cmo() {
        let want = [
            (10, 100.0),
            (20, 42.857142857142854),
            (40, 61.904761904761905),
            (50, -10.526315789473683),
            (90, 20.754716981132077),
            (100, 100.0),
            (130, -100.0),
        ];
        assert_rows(&run(Indicator::Cmo, 2, None, None), &some(&want));
        let want = [
            (20, 42.857142857142854),
            (40, 74.19354838709677),
            (50, -19.047619047619047),
            (90, 40.0),
            (100, 20.754716981132077),
            (130, -23.809523809523807),
        ];
        assert_rows(&run(Indicator::Cmo, 3, None, None), &some(&want));
        assert_rows(
            &run(Indicator::Cmo, 3, None, Some(Warmup::None)),
            &some(&want),
        );
        assert_rows(
            &run(Indicator::Cmo, 3, Some(0), None)[..2],
            &some(&[(0, 0.0), (10, 100.0)]),
        );
        assert_rows(
            &run(Indicator::Cmo, 3, Some(1), Some(Warmup::None))[..1],
            &some(&[(10, 100.0)]),
        );
        let want = [
            (40, 78.37837837837837),
            (50, -16.45569620253164),
            (90, 47.42857142857143),
            (100, 47.42857142857143),
            (130, -50.950570342205324),
        ];
        assert_rows(
            &run(Indicator::Cmo, 3, None, Some(Warmup::Simple)),
            &some(&want),
        );
        let want = [
            (90, 48.11529933481153),
            (100, 48.11529933481153),
            (130, -49.7177267595032),
        ];
        assert_rows(
            &run(Indicator::Cmo, 3, Some(5), Some(Warmup::Exponential)),
            &some(&want),
        );
    }

    #[test]
    fn ker_kama() {
        let got = run(Indicator::Ker, 3, Some(0), None);
        let want = [
            (0, 1.0),
            (10, 1.0),
            (20, 0.6),
            (40, 0.7419354838709677),
            (50, 0.19047619047619047),
            (90, 0.4),
            (100, 0.20754716981132076),
            (130, 0.23809523809523808),
        ];
        assert_rows(&got, &some(&want));
        let got = run(Indicator::Kama, 3, Some(0), None);
        let want = [
            (0, 0.6666666666666667),
            (10, 2.6111111111111116),
            (20, 3.818688865764828),
            (40, 4.110950253311932),
            (50, 4.043153390048616),
            (90, 4.598657402272271),
            (100, 4.7926020687243),
            (130, 4.455834640772596),
        ];
        assert_rows(&got, &some(&want));
        let want = [
            (20, 0.42857142857142855),
            (40, 0.6190476190476191),
            (50, 0.10526315789473684),
            (90, 0.20754716981132076),
            (100, 1.0),
            (130, 1.0),
        ];
        assert_rows(&run(Indicator::Ker, 2, None, None), &some(&want));
        let want = [
            (20, 3.8959417273673256),
            (40, 4.537272174430759),
            (50, 4.49576617880344),
            (90, 4.693405334848649),
            (100, 7.051891852693695),
            (130, 2.584384362607607),
        ];
        assert_rows(&run(Indicator::Kama, 2, None, None), &some(&want));
        let want = [
            (10, 1.0),
            (20, 1.0),
            (40, 1.0),
            (50, 1.0),
            (90, 1.0),
            (100, 0.0),
            (130, 1.0),
        ];
        assert_rows(&run(Indicator::Ker, 1, None, None), &some(&want));
    }

    #[test]
    fn ker_kama_corpus() {
        let a = server_a();
        let args = IndicatorArgs {
            period: 3,
            hold_period: None,
            warmup: None,
        };
        let want = [
            (30, 0.7792823290453622),
            (40, 0.311822535921351),
            (50, 1.0),
            (60, 1.0),
            (70, 1.0),
            (80, 0.28535096642929797),
            (90, 0.8000450349020489),
            (100, 0.9999999999999998),
            (110, 0.9999999999999998),
        ];
        assert_rows(&indicator(Indicator::Ker, &a, args).unwrap(), &some(&want));
        let want = [
            (30, 88.02683296216856),
            (40, 86.45945035136059),
            (50, 64.01969463964477),
            (60, 42.29538591091375),
            (70, 28.252992172729858),
            (80, 28.05732634806585),
            (90, 34.80503872353185),
            (100, 53.23835484640658),
            (110, 69.36797491467031),
        ];
        assert_rows(&indicator(Indicator::Kama, &a, args).unwrap(), &some(&want));
    }

    #[test]
    fn errors_and_types() {
        let err = indicator(
            Indicator::Ema,
            &s(),
            IndicatorArgs {
                period: 3,
                hold_period: Some(1),
                warmup: Some(Warmup::None),
            },
        );
        assert_eq!(
            err.unwrap_err().to_string(),
            "exponential_moving_average warmup type must be one of: 'exponential' 'simple'"
        );
        let strs = vec![(0, Value::String("a".into()))];
        let err = indicator(
            Indicator::Kama,
            &strs,
            IndicatorArgs {
                period: 3,
                hold_period: None,
                warmup: None,
            },
        );
        assert_eq!(err.unwrap_err().to_string(), "unsupported kaufmans adaptive moving average iterator type: *query.stringInterruptIterator");
        // integers give floats; nulls are skipped
        let mut r = int(&[(0, 1), (10, 4), (20, 3)]);
        r.insert(1, (5, Value::Null));
        let got = indicator(
            Indicator::Ema,
            &r,
            IndicatorArgs {
                period: 2,
                hold_period: None,
                warmup: None,
            },
        )
        .unwrap();
        assert_rows(&got, &some(&[(10, 3.0), (20, 3.0)]));
        assert!(matches!(got[0].1, Value::Float(_)));
        assert_eq!(
            Indicator::from_name("kaufmans_efficiency_ratio"),
            Some(Indicator::Ker)
        );
        assert_eq!(Warmup::from_name("simple"), Some(Warmup::Simple));
    }

    #[test]
    fn huge_periods_allocate_by_the_data() {
        let r: Vec<Row> = (0..10).map(|i| (i, Value::Float(i as f64))).collect();
        for ind in [
            Indicator::Cmo,
            Indicator::Ker,
            Indicator::Kama,
            Indicator::Ema,
        ] {
            let out = indicator(
                ind,
                &r,
                IndicatorArgs {
                    period: usize::MAX / 2,
                    hold_period: None,
                    warmup: None,
                },
            )
            .unwrap();
            assert!(out.is_empty(), "{ind:?}: {out:?}");
        }
    }
}
