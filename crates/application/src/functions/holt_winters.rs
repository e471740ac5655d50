//! `holt_winters(agg, n, season)` and `holt_winters_with_fit(..)`: InfluxDB 1.6's damped
//! Holt-Winters forecast over the per-bucket aggregates of one series, fitted with its
//! Nelder-Mead optimiser from a fixed grid of starting guesses. The numerical steps
//! (including the optimiser's in-place clamping of parameters) follow InfluxDB so that
//! results agree with the reference server.

use super::{numeric, FunctionError, Row};
use hyperbyte_domain::query::Value;

const HW_WEIGHT: f64 = 0.5;
const HW_EPSILON: f64 = 1.0e-4;
const HW_GUESS_LOWER: f64 = 0.3;
const HW_GUESS_UPPER: f64 = 1.0;
const HW_GUESS_STEP: f64 = 0.4;
/// Most fitted plus forecast points one call may hold (2^28 floats: 2 GiB).
const MAX_SLOTS: i128 = 1 << 28;

/// Forecasts `h` points after the last bucket (`with_fit = false`, times
/// `last_time + k*interval`) or returns the fitted values for every bucket followed by
/// the forecast (`with_fit = true`, times `first_time + i*interval`).
///
/// `buckets` are `(bucket time, aggregate)`; `Null` buckets are missing values. `season`
/// below 2 means no seasonality. Fewer than 2 values (or fewer than `season` values),
/// `h == 0` or a single bucket span give no rows. Strings/booleans are an error, and so
/// is a forecast reaching past the largest representable time. `h` is not bounded here:
/// the caller limits it (the forecast is allocated, `h` values long).
pub fn holt_winters(
    buckets: &[Row],
    h: usize,
    season: usize,
    interval_ns: i64,
    with_fit: bool,
) -> Result<Vec<Row>, FunctionError> {
    let pts = numeric("holt_winters", buckets)?.to_f64();
    let mut hw = HoltWinters {
        m: season,
        seasonal: season >= 2,
        interval: interval_ns.max(1),
        y: Vec::new(),
    };
    hw.emit(&pts, h, with_fit)
}

#[derive(Debug)]
struct HoltWinters {
    m: usize,
    seasonal: bool,
    interval: i64,
    y: Vec<f64>,
}

impl HoltWinters {
    /// `t` rounded to the nearest multiple of the interval, in wide arithmetic (a time
    /// near `i64::MAX` rounds up past it).
    fn round_time(&self, t: i64) -> i128 {
        let (t, interval) = (i128::from(t), i128::from(self.interval));
        let half = interval / 2;
        let rem = t % interval;
        if rem > half {
            (t / interval + 1) * interval
        } else {
            (t / interval) * interval
        }
    }

    fn emit(
        &mut self,
        pts: &[(i64, f64)],
        h: usize,
        with_fit: bool,
    ) -> Result<Vec<Row>, FunctionError> {
        let l = pts.len();
        if l < 2 || (self.seasonal && l < self.m) || h == 0 {
            return Ok(Vec::new());
        }
        let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
            return Ok(Vec::new());
        };
        let interval = i128::from(self.interval);
        let start = self.round_time(first.0);
        let stop = self.round_time(last.0);
        if (stop - start) / interval <= 0 {
            return Ok(Vec::new());
        }
        // Every output time must be a valid time; checked before anything is allocated
        // (`h` comes from the query).
        let slots = (stop - start) / interval + 1;
        let last_time = if with_fit {
            i128::from(first.0) + interval * (slots + h as i128 - 1)
        } else {
            i128::from(last.0) + interval * h as i128
        };
        // The fit and forecast live in memory, one float per slot: whatever limits the
        // caller applies, never more than this.
        if slots + h as i128 > MAX_SLOTS {
            return Err(FunctionError::InvalidArgument(format!(
                "holt_winters: {} points exceed the maximum of {MAX_SLOTS}",
                slots + h as i128
            )));
        }
        if last_time > i128::from(i64::MAX) {
            return Err(FunctionError::InvalidArgument(format!(
                "holt_winters: forecasting {h} points passes the largest representable time"
            )));
        }
        self.y = vec![first.1];
        let mut t = start;
        for p in &pts[1..] {
            let rounded = self.round_time(p.0);
            if rounded <= t {
                continue;
            }
            t += interval;
            while rounded != t {
                self.y.push(f64::NAN);
                t += interval;
            }
            self.y.push(p.1);
        }
        let m = self.m;
        let y = &self.y;
        let mut l0 = 0.0;
        if self.seasonal {
            for &v in y.iter().take(m) {
                if !v.is_nan() {
                    l0 += (1.0 / m as f64) * v;
                }
            }
        } else {
            l0 += HW_WEIGHT * y[0];
        }
        let mut b0 = 0.0;
        if self.seasonal {
            let mut i = 0;
            while i < m && m + i < y.len() {
                if !y[i].is_nan() && !y[m + i].is_nan() {
                    b0 += 1.0 / (m * m) as f64 * (y[m + i] - y[i]);
                }
                i += 1;
            }
        } else if y.len() > 1 && !y[1].is_nan() {
            b0 = HW_WEIGHT * (y[1] - y[0]);
        }
        let mut s = Vec::new();
        if self.seasonal {
            for &v in y.iter().take(m) {
                s.push(if v.is_nan() { 0.0 } else { v / l0 });
            }
        }
        let mut params = vec![0.0; 6 + s.len()];
        params[4] = l0;
        params[5] = b0;
        params[6..].copy_from_slice(&s);

        let mut min_sse = f64::INFINITY;
        let mut best: Option<Vec<f64>> = None;
        let mut alpha = HW_GUESS_LOWER;
        while alpha < HW_GUESS_UPPER {
            let mut beta = HW_GUESS_LOWER;
            while beta < HW_GUESS_UPPER {
                let mut gamma = HW_GUESS_LOWER;
                while gamma < HW_GUESS_UPPER {
                    let mut phi = HW_GUESS_LOWER;
                    while phi < HW_GUESS_UPPER {
                        params[0] = alpha;
                        params[1] = beta;
                        params[2] = gamma;
                        params[3] = phi;
                        let (sse, p) = nelder_mead(|x| self.sse(x), &params, HW_EPSILON, 1.0);
                        if sse < min_sse || best.is_none() {
                            min_sse = sse;
                            best = Some(p);
                        }
                        phi += HW_GUESS_STEP;
                    }
                    gamma += HW_GUESS_STEP;
                }
                beta += HW_GUESS_STEP;
            }
            alpha += HW_GUESS_STEP;
        }
        let Some(mut best) = best else {
            return Ok(Vec::new());
        };
        let forecasted = self.forecast(h, &mut best);
        // Times were checked above to stay below i64::MAX; the conversion cannot fail.
        let time = |base: i64, k: usize| {
            i64::try_from(i128::from(base) + interval * k as i128).unwrap_or(i64::MAX)
        };
        let mut out = Vec::new();
        if with_fit {
            for (i, v) in forecasted.iter().enumerate() {
                if !v.is_nan() {
                    out.push((time(first.0, i), Value::Float(*v)));
                }
            }
        } else {
            for (i, v) in forecasted[self.y.len()..].iter().enumerate() {
                if !v.is_nan() {
                    out.push((time(last.0, i + 1), Value::Float(*v)));
                }
            }
        }
        Ok(out)
    }

    /// Forecast `h` points past the data; mutates `params` like InfluxDB does (clamping
    /// and the seasonal ring buffer living inside the parameter vector).
    fn forecast(&self, h: usize, params: &mut [f64]) -> Vec<f64> {
        constrain(params);
        let mut y_t = self.y[0];
        let phi = params[3];
        let mut phi_h = phi;
        let mut l_t = params[4];
        let mut b_t = params[5];
        let (alpha, beta, gamma) = (params[0], params[1], params[2]);
        let m = params.len() - 6;
        let mut so = 0usize;
        if self.seasonal {
            if m == 1 {
                params[6] = 1.0;
            }
            so = m.saturating_sub(1);
        }
        let l = self.y.len();
        let mut forecasted = vec![0.0; l + h];
        forecasted[0] = y_t;
        let (mut stm, mut stmh) = (1.0, 1.0);
        for t in 1..l + h {
            if self.seasonal && m > 0 {
                let hm = t % m;
                stm = params[6 + (t + so - m) % m];
                stmh = params[6 + (t + hm + so - m) % m];
            }
            let lt_prev = l_t;
            let bt_prev = b_t;
            let lt = alpha * (y_t / stm) + (1.0 - alpha) * (lt_prev + phi * bt_prev);
            let bt = beta * (lt - lt_prev) + (1.0 - beta) * phi * bt_prev;
            let st = gamma * (y_t / (lt_prev + phi * bt_prev)) + (1.0 - gamma) * stm;
            let yth = (lt + phi_h * bt) * stmh;
            y_t = yth;
            l_t = lt;
            b_t = bt;
            phi_h += phi.powf(t as f64);
            if self.seasonal && m > 0 {
                params[6 + (t + so) % m] = st;
                so += 1;
            }
            forecasted[t] = y_t;
        }
        forecasted
    }

    fn sse(&self, params: &mut [f64]) -> f64 {
        let forecasted = self.forecast(0, params);
        let mut sse = 0.0;
        for (i, f) in forecasted.iter().enumerate() {
            if !self.y[i].is_nan() {
                if f.is_nan() {
                    return f64::INFINITY;
                }
                let d = f - self.y[i];
                sse += d * d;
            }
        }
        sse
    }
}

/// Clamp alpha, beta, gamma and phi into `[0, 1]`.
fn constrain(x: &mut [f64]) {
    for v in x.iter_mut().take(4) {
        *v = v.clamp(0.0, 1.0);
    }
}

/// Nelder-Mead simplex minimisation (Hutt's formulation, as in InfluxDB). The objective
/// may modify the point it is given (InfluxDB's does).
#[allow(clippy::needless_range_loop)] // index-based like the reference algorithm
fn nelder_mead(
    mut f: impl FnMut(&mut [f64]) -> f64,
    start: &[f64],
    epsilon: f64,
    scale: f64,
) -> (f64, Vec<f64>) {
    const MAX_ITER: usize = 1000;
    const ALPHA: f64 = 1.0;
    const BETA: f64 = 0.5;
    const GAMMA: f64 = 2.0;
    let n = start.len();
    let nf = n as f64;
    let mut v = vec![vec![0.0; n]; n + 1];
    let mut fv = vec![0.0; n + 1];
    let mut vr = vec![0.0; n];
    let mut ve = vec![0.0; n];
    let mut vc = vec![0.0; n];
    let mut vm = vec![0.0; n];
    let pn = scale * ((nf + 1.0).sqrt() - 1.0 + nf) / (nf * 2f64.sqrt());
    let qn = scale * ((nf + 1.0).sqrt() - 1.0) / (nf * 2f64.sqrt());
    v[0].copy_from_slice(start);
    for i in 1..=n {
        for j in 0..n {
            v[i][j] = if i - 1 == j {
                pn + start[j]
            } else {
                qn + start[j]
            };
        }
    }
    for j in 0..=n {
        fv[j] = f(&mut v[j]);
    }
    for _ in 1..=MAX_ITER {
        let (mut vg, mut vs) = (0, 0);
        for i in 0..=n {
            if fv[i] > fv[vg] {
                vg = i;
            }
            if fv[i] < fv[vs] {
                vs = i;
            }
        }
        let mut vh = vs;
        for i in 0..=n {
            if fv[i] > fv[vh] && fv[i] < fv[vg] {
                vh = i;
            }
        }
        for i in 0..n {
            let mut cent = 0.0;
            for (m, row) in v.iter().enumerate() {
                if m != vg {
                    cent += row[i];
                }
            }
            vm[i] = cent / nf;
        }
        for i in 0..n {
            vr[i] = vm[i] + ALPHA * (vm[i] - v[vg][i]);
        }
        let fr = f(&mut vr);
        if fr < fv[vh] && fr >= fv[vs] {
            v[vg].copy_from_slice(&vr);
            fv[vg] = fr;
        }
        if fr < fv[vs] {
            for i in 0..n {
                ve[i] = vm[i] + GAMMA * (vr[i] - vm[i]);
            }
            let fe = f(&mut ve);
            if fe < fr {
                v[vg].copy_from_slice(&ve);
                fv[vg] = fe;
            } else {
                v[vg].copy_from_slice(&vr);
                fv[vg] = fr;
            }
        }
        if fr >= fv[vh] {
            if fr < fv[vg] && fr >= fv[vh] {
                for i in 0..n {
                    vc[i] = vm[i] + BETA * (vr[i] - vm[i]);
                }
            } else {
                for i in 0..n {
                    vc[i] = vm[i] - BETA * (vm[i] - v[vg][i]);
                }
            }
            let fc = f(&mut vc);
            if fc < fv[vg] {
                v[vg].copy_from_slice(&vc);
                fv[vg] = fc;
            } else {
                let best = v[vs].clone();
                for (row, vrow) in v.iter_mut().enumerate() {
                    if row != vs {
                        for i in 0..n {
                            vrow[i] = best[i] + (vrow[i] - best[i]) / 2.0;
                        }
                    }
                }
                fv[vg] = f(&mut v[vg]);
                fv[vh] = f(&mut v[vh]);
            }
        }
        let favg = fv.iter().sum::<f64>() / (nf + 1.0);
        let mut s = 0.0;
        for x in &fv {
            s += (x - favg).powi(2) / nf;
        }
        if s.sqrt() < epsilon {
            break;
        }
    }
    let mut vs = 0;
    for i in 0..=n {
        if fv[i] < fv[vs] {
            vs = i;
        }
    }
    let mut params = v[vs].clone();
    let min = f(&mut v[vs].clone());
    // The returned parameters are the vertex as it was before the final evaluation.
    params.truncate(n);
    (min, params)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::functions::testutil::{assert_rows, some, S};

    /// `first(v)` per 10s bucket of the `hw` data set (buckets 90, 100, 170 empty).
    fn hw() -> Vec<Row> {
        let mut out = Vec::new();
        for i in 0..24i64 {
            let t = i * 10 * S;
            if [9, 10, 17].contains(&i) {
                out.push((t, Value::Null));
                continue;
            }
            let v = 10.0
                + [0.0, 3.0, 7.0, 2.0][(i % 4) as usize]
                + i as f64 * 0.5
                + ((i * 7) % 5) as f64 * 0.3;
            out.push((t, Value::Float((v * 100.0f64).round() / 100.0)));
        }
        out
    }

    #[test]
    fn seasonal_forecast() {
        let got = holt_winters(&hw(), 5, 4, 10 * S, false).unwrap();
        let want = [
            (240, 22.90982877188193),
            (250, 28.87427002425252),
            (260, 27.19116546775805),
            (270, 25.476582793313284),
            (280, 23.743545009492724),
        ];
        assert_rows(&got, &some(&want));
    }

    #[test]
    fn seasonal_with_fit() {
        let got = holt_winters(&hw(), 5, 4, 10 * S, true).unwrap();
        assert_eq!(got.len(), 29);
        let want = [
            (0, 10.0),
            (10, 15.221637060318319),
            (20, 14.47650827246163),
            (30, 13.801467859980963),
            (40, 13.476580076502573),
        ];
        assert_rows(&got[..5], &some(&want));
        assert_rows(
            &got[9..11],
            &some(&[(90, 20.12836481788116), (100, 19.268624835884086)]),
        );
        assert_rows(&got[28..], &some(&[(280, 23.743545009492724)]));
    }

    #[test]
    fn non_seasonal() {
        let got = holt_winters(&hw(), 4, 0, 10 * S, false).unwrap();
        let want = [
            (240, 26.4421743728722),
            (250, 27.134904704429132),
            (260, 27.83319884332146),
            (270, 28.53615738291012),
        ];
        assert_rows(&got, &some(&want));
    }

    fn ints(pts: &[(i64, Option<i64>)]) -> Vec<Row> {
        pts.iter()
            .map(|&(t, v)| (t * S, v.map_or(Value::Null, Value::Integer)))
            .collect()
    }

    #[test]
    fn integer_buckets_with_gaps() {
        // first(v) of `hwi` per 10s (integers, buckets 90, 100, 170 empty), season 3.
        let b = ints(&[
            (0, Some(100)),
            (10, Some(141)),
            (20, Some(192)),
            (30, Some(138)),
            (40, Some(129)),
            (50, Some(155)),
            (60, Some(206)),
            (70, Some(167)),
            (80, Some(143)),
            (90, None),
            (100, None),
            (110, Some(181)),
            (120, Some(172)),
            (130, Some(198)),
            (140, Some(249)),
            (150, Some(195)),
            (160, Some(186)),
            (170, None),
            (180, Some(263)),
            (190, Some(224)),
            (200, Some(200)),
            (210, Some(241)),
            (220, Some(292)),
            (230, Some(238)),
        ]);
        let got = holt_winters(&b, 3, 3, 10 * S, false).unwrap();
        let want = [
            (240, 241.9296515277368),
            (250, 247.12888338835586),
            (260, 247.29282280789013),
        ];
        assert_rows(&got, &some(&want));
    }

    #[test]
    fn mean_buckets_season_1_and_2() {
        let m = [
            (0, 120.5),
            (20, 165.0),
            (40, 142.0),
            (60, 186.5),
            (80, 143.0),
            (100, 181.0),
            (120, 185.0),
            (140, 222.0),
            (160, 186.0),
            (180, 243.5),
            (200, 220.5),
            (220, 265.0),
        ];
        let b: Vec<Row> = m.iter().map(|&(t, v)| (t * S, Value::Float(v))).collect();
        let got = holt_winters(&b, 3, 2, 20 * S, false).unwrap();
        let want = [
            (240, 242.34960560345638),
            (260, 278.7220241973301),
            (280, 260.8138471890525),
        ];
        assert_rows(&got, &some(&want));
        // holt_winters_with_fit(mean(v), 3, 1): season 1 = no seasonality.
        let got = holt_winters(&b, 3, 1, 20 * S, true).unwrap();
        assert_eq!(got.len(), 15);
        let want = [
            (0, 120.5),
            (20, 153.94170394781713),
            (40, 159.30675586954294),
        ];
        assert_rows(&got[..3], &some(&want));
        let want = [
            (240, 283.29943927961085),
            (260, 311.8902794056717),
            (280, 346.02110532691785),
        ];
        assert_rows(&got[12..], &some(&want));
    }

    #[test]
    fn too_few_points() {
        let one = vec![(0, Value::Float(1.0))];
        assert!(holt_winters(&one, 3, 0, S, false).unwrap().is_empty());
        assert!(holt_winters(&hw(), 0, 0, 10 * S, false).unwrap().is_empty());
    }

    #[test]
    fn forecasts_past_the_largest_time_are_an_error_before_any_work() {
        let b = vec![
            (i64::MAX - 20 * S, Value::Float(1.0)),
            (i64::MAX - 10 * S, Value::Float(2.0)),
        ];
        assert!(holt_winters(&b, 2, 0, 10 * S, false).is_err());
        assert!(holt_winters(&b, usize::MAX / 2, 0, 10 * S, true).is_err());
        // A span of 2^63 one-nanosecond buckets, or a forecast as long: refused before
        // anything is allocated.
        let b = vec![(i64::MIN + 2, Value::Float(1.0)), (0, Value::Float(2.0))];
        assert!(holt_winters(&b, 1, 0, 1, false).is_err());
        let b = vec![(0, Value::Float(1.0)), (S, Value::Float(2.0))];
        assert!(holt_winters(&b, usize::MAX / 2, 0, S, false).is_err());
    }
}
