//! SPEC 4.5: forecasts that are honest by construction. The candidates (`last`, `mean`,
//! `trend`), their back-test on the series' own history, the choice between them, the run
//! rate of a cumulative measure, and the confidence and interval from back-test errors.
//!
//! A series is a slice of `(seq, value)` points in increasing `seq` (see `Period::seq`), gaps
//! kept. All arithmetic is checked `Decimal`: on overflow a candidate falls back to `last`
//! (for a forecast) or is disqualified (for a back-test), never a panic.

use rust_decimal::Decimal;

use super::Method;
use crate::framework::{ForecastSettings, Polarity};
use crate::period::Period;

use super::rag::meets;

mod screen;

/// One series point: the period's sequence number and its value.
pub type Point = (i32, Decimal);

/// Cumulative run rate: value * (periods in year / periods elapsed at `period`).
pub fn run_rate(value: Decimal, period: Period) -> Option<Decimal> {
    let (done, of) = period.elapsed();
    if done == 0 {
        return None;
    }
    value
        .checked_mul(Decimal::from(of))?
        .checked_div(Decimal::from(done))
}

/// The mean of the values, `None` for none or on overflow.
pub fn mean(points: &[Point]) -> Option<Decimal> {
    if points.is_empty() {
        return None;
    }
    let mut sum = Decimal::ZERO;
    for (_, y) in points {
        sum = sum.checked_add(*y)?;
    }
    sum.checked_div(Decimal::from(points.len() as u64))
}

/// The least-squares straight line through the points (x = seq), evaluated at `at`.
/// `None` with fewer than three points, or on overflow. x is measured from the last point
/// and its sums are exact integers; only the y sums are decimals.
pub fn trend(points: &[Point], at: i32) -> Option<Decimal> {
    if points.len() < 3 {
        return None;
    }
    let x0 = i128::from(points.last()?.0);
    let n = points.len() as i128;
    let (mut sx, mut sxx) = (0i128, 0i128);
    let (mut sy, mut sxy) = (Decimal::ZERO, Decimal::ZERO);
    for &(s, y) in points {
        let x = i128::from(s) - x0;
        sx += x;
        sxx += x * x;
        sy = sy.checked_add(y)?;
        sxy = sxy.checked_add(dec(x)?.checked_mul(y)?)?;
    }
    let denom = n.checked_mul(sxx)?.checked_sub(sx.checked_mul(sx)?)?;
    if denom == 0 {
        return None;
    }
    let n_d = dec(n)?;
    let numer = n_d
        .checked_mul(sxy)?
        .checked_sub(dec(sx)?.checked_mul(sy)?)?;
    let slope = numer.checked_div(dec(denom)?)?;
    // y(xa) = mean(y) + slope * (xa - mean(x)) = (sy + slope * (n*xa - sx)) / n
    let shift = n.checked_mul(i128::from(at) - x0)?.checked_sub(sx)?;
    sy.checked_add(slope.checked_mul(dec(shift)?)?)?
        .checked_div(n_d)
}

fn dec(x: i128) -> Option<Decimal> {
    Decimal::try_from_i128_with_scale(x, 0).ok()
}

/// Exact rationals, for the forecast's decisions: the choice between candidates, `on_track`
/// and `confidence` compare a mean or a trend line (a third, a seventh: no finite decimal) with
/// a target or with `margin` times another candidate's error, and SPEC 4 asks for exact
/// arithmetic. The decimal code rounds at its 28th digit, so a forecast exactly on its target
/// could fall a hair short of it. These are used only where the decision is close (the f64
/// screen, or the decimals, settle the rest), so their cost is rare.
pub(crate) mod exact {
    use num_bigint::BigInt;
    use num_rational::BigRational;
    use rust_decimal::Decimal;

    use super::{window_to, Point};
    use crate::assess::Method;
    use crate::framework::Polarity;

    pub type Q = BigRational;

    /// A decimal exactly.
    pub fn q(d: Decimal) -> Q {
        Q::new(
            BigInt::from(d.mantissa()),
            BigInt::from(10u8).pow(d.scale()),
        )
    }

    fn int(x: i128) -> Q {
        Q::from_integer(BigInt::from(x))
    }

    /// A candidate's forecast at `at` from its window, exactly (as `super::candidate`, whose
    /// `mean` and `trend` fall back to the last value in the same cases).
    pub fn candidate(method: Method, points: &[Point], at: i32) -> Option<Q> {
        let last = q(points.last()?.1);
        let n = points.len() as i128;
        Some(match method {
            Method::Mean => points.iter().map(|p| q(p.1)).sum::<Q>() / int(n),
            Method::Trend if points.len() >= 3 => {
                let x0 = i128::from(points.last()?.0);
                let (mut sx, mut sxx) = (0i128, 0i128);
                let (mut sy, mut sxy) = (int(0), int(0));
                for &(s, y) in points {
                    let x = i128::from(s) - x0;
                    sx += x;
                    sxx += x * x;
                    let y = q(y);
                    sxy += int(x) * &y;
                    sy += y;
                }
                let denom = n * sxx - sx * sx;
                if denom == 0 {
                    last
                } else {
                    let slope = (int(n) * sxy - int(sx) * &sy) / int(denom);
                    let shift = n * (i128::from(at) - x0) - sx;
                    (sy + slope * int(shift)) / int(n)
                }
            }
            _ => last,
        })
    }

    /// One candidate's back-test errors (actual - forecast), exactly, at the origins of
    /// `super::backtest_of`.
    pub fn backtest(points: &[Point], h: i32, window: usize, method: Method) -> Vec<Q> {
        let mut errors = Vec::new();
        for i in 2..points.len() {
            let Some(at) = points[i].0.checked_add(h) else {
                continue;
            };
            let Ok(j) = points[i + 1..].binary_search_by_key(&at, |p| p.0) else {
                continue;
            };
            let actual = q(points[i + 1 + j].1);
            if let Some(f) = candidate(method, window_to(points, i, window), at) {
                errors.push(actual - f);
            }
        }
        errors
    }

    fn sum_abs(errors: &[Q]) -> Q {
        errors
            .iter()
            .map(|e| if e < &int(0) { -e.clone() } else { e.clone() })
            .sum()
    }

    /// SPEC 4.5's choice, exactly: `last` unless `mean` or `trend` has at least
    /// `min_backtests` errors and a mean absolute error below `margin` times that of `last`;
    /// both: the smaller, a tie to `mean`.
    /// Candidates whose decimal back-test overflows are left out, as the decimal code leaves
    /// them out (its forecast could not be made either).
    pub fn choose(
        points: &[Point],
        h: i32,
        settings: &crate::framework::ForecastSettings,
    ) -> Method {
        let window = settings.window as usize;
        let decimal = super::backtest_all(points, h, window);
        if decimal.last.is_none() {
            return Method::Last;
        }
        // The decimals decide unless a comparison is within a hair of equal: `last`'s errors
        // are differences of decimals, so exact; a mean's or a trend's can be off by a unit
        // in their 28th digit each.
        if let Some(method) = decided_by_decimals(points, &decimal, settings) {
            return method;
        }
        let last = backtest(points, h, window, Method::Last);
        if last.is_empty() || (last.len() as u64) < u64::from(settings.min_backtests) {
            return Method::Last;
        }
        // Same origins for every candidate: comparing sums compares means.
        let bar = q(settings.margin) * sum_abs(&last);
        let score = |m: Method| {
            decimal.of(m)?;
            let s = sum_abs(&backtest(points, h, window, m));
            (s < bar).then_some(s)
        };
        match (score(Method::Mean), score(Method::Trend)) {
            (Some(m), Some(t)) if t < m => Method::Trend,
            (Some(_), _) => Method::Mean,
            (None, Some(_)) => Method::Trend,
            (None, None) => Method::Last,
        }
    }

    /// How far a decimal mean, trend line or back-test error (or a sum of `n` of them) can be
    /// from its exact value, with room to spare: each is made from the series' values by a few
    /// operations that round at the 28th significant digit or the 28th decimal place,
    /// whichever is coarser, on intermediates up to the window's sums; so 1e-18 of the largest
    /// value (or of `other`, a target) plus 1e-24, times `n`. Decisions closer than this are
    /// made exactly.
    pub fn tolerance(points: &[Point], other: Decimal, n: usize) -> Decimal {
        let largest = points
            .iter()
            .map(|p| p.1.abs())
            .fold(other.abs(), Decimal::max);
        let one = largest
            .checked_mul(Decimal::new(1, 18))
            .unwrap_or(Decimal::MAX)
            .checked_add(Decimal::new(1, 24))
            .unwrap_or(Decimal::MAX);
        one.checked_mul(Decimal::from(n as u64 + 1))
            .unwrap_or(Decimal::MAX)
    }

    /// The choice of the decimal back-tests, when no comparison it makes is within
    /// [`tolerance`] of a tie; `None` when one is.
    fn decided_by_decimals(
        points: &[Point],
        tests: &super::Backtests,
        settings: &crate::framework::ForecastSettings,
    ) -> Option<Method> {
        let sum = |m: Method| tests.of(m).and_then(|e| super::sum_abs(e));
        let last = tests.of(Method::Last)?;
        if last.is_empty() || (last.len() as u64) < u64::from(settings.min_backtests) {
            return Some(Method::Last);
        }
        let bar = settings.margin.checked_mul(sum(Method::Last)?)?;
        let (m, t) = (sum(Method::Mean), sum(Method::Trend));
        // (`margin` scales the sums: its size too.)
        let tol = tolerance(points, settings.margin, last.len())
            .checked_mul(settings.margin.abs().max(Decimal::ONE))
            .unwrap_or(Decimal::MAX);
        let near = |a: Decimal, b: Decimal| (a - b).abs() <= tol;
        let close = m.is_some_and(|m| near(m, bar))
            || t.is_some_and(|t| near(t, bar))
            || matches!((m, t), (Some(m), Some(t)) if near(m, t) && m < bar && t < bar);
        // Sums of exactly zero (a constant series) are ties the decimals hold exactly.
        let all_zero =
            bar.is_zero() && m.is_none_or(|m| m.is_zero()) && t.is_none_or(|t| t.is_zero());
        (!close || all_zero).then(|| super::choose(tests, settings))
    }

    /// Whether `value` meets `target` (on or better); `None` for polarity `none`.
    pub fn meets(value: &Q, target: &Q, polarity: Polarity) -> Option<bool> {
        match polarity {
            Polarity::Higher => Some(value >= target),
            Polarity::Lower => Some(value <= target),
            Polarity::None => None,
        }
    }

    /// The share of the chosen candidate's back-test errors that, added to its forecast at
    /// `at`, still meet the target, exactly; `None` without errors or for polarity `none`.
    pub fn confidence(
        points: &[Point],
        h: i32,
        window: usize,
        method: Method,
        at: i32,
        target: Decimal,
        polarity: Polarity,
    ) -> Option<Decimal> {
        let window_last = window_to(points, points.len().checked_sub(1)?, window);
        // The decimals count, unless an outcome is within a hair of the target.
        let value = super::candidate(method, window_last, at)?;
        if let Some(errors) = super::backtest_of(points, h, window, &[method]).into_errors(method) {
            // (`last`'s outcomes are the actual values themselves: exact.)
            let tol = tolerance(points, target, 2);
            let clear = method == Method::Last
                || errors.iter().all(|e| {
                    value
                        .checked_add(*e)
                        .is_some_and(|o| o.checked_sub(target).is_none_or(|gap| gap.abs() > tol))
                });
            if clear {
                return super::confidence(value, &errors, target, polarity);
            }
        }
        let f = candidate(method, window_last, at)?;
        let errors = backtest(points, h, window, method);
        if errors.is_empty() {
            return None;
        }
        let t = q(target);
        let mut hits = 0u64;
        for e in &errors {
            if meets(&(&f + e), &t, polarity)? {
                hits += 1;
            }
        }
        Decimal::from(hits).checked_div(Decimal::from(errors.len() as u64))
    }
}

/// A candidate's forecast at `at` from the window `points` (the last `window` values up to
/// the origin). `mean` and `trend` fall back to the last value when they cannot be computed.
pub fn candidate(method: Method, points: &[Point], at: i32) -> Option<Decimal> {
    let last = points.last()?.1;
    Some(match method {
        Method::Mean => mean(points).unwrap_or(last),
        Method::Trend => trend(points, at).unwrap_or(last),
        _ => last,
    })
}

/// The last `window` points up to and including index `i`.
fn window_to(points: &[Point], i: usize, window: usize) -> &[Point] {
    let w = window.max(1);
    &points[(i + 1).saturating_sub(w)..=i]
}

/// Back-test errors (actual - forecast) of one candidate at every origin that has at least
/// two earlier values and a value `h` periods later. `None` when any error overflows.
pub fn backtest(points: &[Point], h: i32, window: usize, method: Method) -> Option<Vec<Decimal>> {
    backtest_of(points, h, window, &[method]).into_errors(method)
}

/// The back-test errors of the three candidates, made in one pass over the origins (they share
/// the origins, the windows and the actual values). A candidate is `None` when an error overflows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backtests {
    pub last: Option<Vec<Decimal>>,
    pub mean: Option<Vec<Decimal>>,
    pub trend: Option<Vec<Decimal>>,
}

impl Backtests {
    pub fn of(&self, method: Method) -> Option<&Vec<Decimal>> {
        match method {
            Method::Mean => self.mean.as_ref(),
            Method::Trend => self.trend.as_ref(),
            _ => self.last.as_ref(),
        }
    }

    /// [`Backtests::of`], taking the errors rather than copying them.
    pub fn into_errors(self, method: Method) -> Option<Vec<Decimal>> {
        match method {
            Method::Mean => self.mean,
            Method::Trend => self.trend,
            _ => self.last,
        }
    }
}

/// See [`Backtests`].
pub fn backtest_all(points: &[Point], h: i32, window: usize) -> Backtests {
    backtest_of(
        points,
        h,
        window,
        &[Method::Last, Method::Mean, Method::Trend],
    )
}

/// [`backtest_all`] for the candidates in `methods` only; the others are `None`. A candidate's
/// errors do not depend on which others are made, so each is exactly [`backtest_all`]'s.
fn backtest_of(points: &[Point], h: i32, window: usize, methods: &[Method]) -> Backtests {
    // Sized once: at national scale this runs for every series, twice.
    let origins = points.len().saturating_sub(2);
    let make = |m: Method| methods.contains(&m).then(|| Vec::with_capacity(origins));
    let mut out = Backtests {
        last: make(Method::Last),
        mean: make(Method::Mean),
        trend: make(Method::Trend),
    };
    let push = |errors: &mut Option<Vec<Decimal>>, actual: Decimal, f: Option<Decimal>| {
        let e = f.and_then(|f| actual.checked_sub(f));
        match (errors.as_mut(), e) {
            (Some(v), Some(e)) => v.push(e),
            _ => *errors = None,
        }
    };
    for i in 2..points.len() {
        let Some(at) = points[i].0.checked_add(h) else {
            continue;
        };
        // the next values are sorted, so the target is found by a short search after i
        let Ok(j) = points[i + 1..].binary_search_by_key(&at, |p| p.0) else {
            continue;
        };
        let actual = points[i + 1 + j].1;
        let w = window_to(points, i, window);
        if out.last.is_some() {
            push(&mut out.last, actual, candidate(Method::Last, w, at));
        }
        if out.mean.is_some() {
            push(&mut out.mean, actual, candidate(Method::Mean, w, at));
        }
        if out.trend.is_some() {
            push(&mut out.trend, actual, candidate(Method::Trend, w, at));
        }
    }
    out
}

fn sum_abs(errors: &[Decimal]) -> Option<Decimal> {
    errors
        .iter()
        .try_fold(Decimal::ZERO, |acc, e| acc.checked_add(e.abs()))
}

/// The snapshot forecast chosen for `at`, with the chosen candidate's back-test errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub value: Decimal,
    pub method: Method,
    pub errors: Vec<Decimal>,
}

/// Choose and make the snapshot forecast for `at` (> the last point's seq): `last` unless
/// `mean` or `trend` has at least `min_backtests` back-test errors and a mean absolute error
/// below `margin` times that of `last`; both qualify: the smaller error, a tie to `mean`.
pub fn snapshot(points: &[Point], at: i32, settings: &ForecastSettings) -> Option<Choice> {
    let mut chosen = choose_snapshot(points, at, settings)?;
    let errors = chosen.errors().to_vec();
    Some(Choice {
        value: chosen.value,
        method: chosen.method,
        errors,
    })
}

/// The snapshot forecast chosen for `at` (see [`snapshot`]), with the chosen candidate's
/// back-test errors made only if they are asked for: the choice and, nearly always, the
/// confidence are settled by the screen without them.
pub struct Chosen<'p> {
    points: &'p [Point],
    h: i32,
    window: usize,
    pub value: Decimal,
    pub method: Method,
    /// How many back-test errors the chosen candidate has.
    pub count: usize,
    errors: Option<Vec<Decimal>>,
    /// The screen's walk of the origins, when the values are in its range.
    screened: Option<screen::Screened>,
}

/// See [`Chosen`].
pub fn choose_snapshot<'p>(
    points: &'p [Point],
    at: i32,
    settings: &ForecastSettings,
) -> Option<Chosen<'p>> {
    let last_seq = points.last()?.0;
    let h = at.checked_sub(last_seq)?;
    let window = settings.window as usize;
    // The screen decides nearly every series without the exact back-tests.
    let screened = screen::walk(points, h, window);
    let (method, count, errors) = match screened.as_ref().and_then(|s| s.choose(settings)) {
        Some((method, count)) => (method, count, None),
        None => {
            // Close enough for the screen to leave it: decided exactly.
            let method = exact::choose(points, h, settings);
            let errors = backtest_of(points, h, window, &[method])
                .into_errors(method)
                .unwrap_or_default();
            (method, errors.len(), Some(errors))
        }
    };
    let value = candidate(method, window_to(points, points.len() - 1, window), at)?;
    Some(Chosen {
        points,
        h,
        window,
        value,
        method,
        count,
        errors,
        screened,
    })
}

impl Chosen<'_> {
    /// The chosen candidate's back-test errors, exactly (as [`backtest_all`] makes them).
    pub fn errors(&mut self) -> &[Decimal] {
        let (points, h, window, method) = (self.points, self.h, self.window, self.method);
        self.errors.get_or_insert_with(|| {
            backtest_of(points, h, window, &[method])
                .into_errors(method)
                .unwrap_or_default()
        })
    }

    /// [`confidence`] of the forecast from those errors: settled by the screen when every
    /// outcome is clearly on one side of the target, else from the exact errors.
    pub fn confidence(&mut self, target: Decimal, polarity: Polarity) -> Option<Decimal> {
        if let (None, Some(screened)) = (&self.errors, &self.screened) {
            if let Some(answer) = screened.confidence(self.method, self.value, target, polarity) {
                return answer;
            }
        }
        // Not settled by the screen: counted exactly (an outcome exactly on the target meets
        // it, where its decimal may fall a hair short).
        let at = self.points.last()?.0.checked_add(self.h)?;
        exact::confidence(
            self.points,
            self.h,
            self.window,
            self.method,
            at,
            target,
            polarity,
        )
    }

    /// Whether the forecast meets `target` (`on_track`), exactly: from its decimal when that
    /// is clear of the target, else from the exact mean or trend line.
    pub fn meets(&self, target: Decimal, polarity: Polarity) -> Option<bool> {
        let decided = meets(self.value, target, polarity)?;
        if self.method == Method::Last {
            return Some(decided);
        }
        // (A difference too large for a decimal is clear by any measure.)
        let clear = self
            .value
            .checked_sub(target)
            .is_none_or(|gap| gap.abs() > exact::tolerance(self.points, target, 1));
        if clear {
            return Some(decided);
        }
        let at = self.points.last()?.0.checked_add(self.h)?;
        let window = window_to(self.points, self.points.len() - 1, self.window);
        // A mean against the target as its sum against target x n, in decimals when both are
        // exact (sums and a product by a whole number of decimals of few places are).
        if self.method == Method::Mean {
            let n = Decimal::from(window.len() as u64);
            let sum = window
                .iter()
                .try_fold(Decimal::ZERO, |acc, p| acc.checked_add(p.1));
            let scaled = target.checked_mul(n);
            if let (Some(sum), Some(scaled)) = (sum, scaled) {
                // (A sum or product that had to round has fewer places than its inputs.)
                let places = window.iter().map(|p| p.1.scale()).max().unwrap_or(0);
                if sum.scale() >= places && scaled.scale() >= target.scale() {
                    return meets(sum, scaled, polarity);
                }
            }
        }
        let f = exact::candidate(self.method, window, at)?;
        exact::meets(&f, &exact::q(target), polarity)
    }
}

/// The candidate the back-test selects for horizon `h` (see [`snapshot`]).
pub fn select(points: &[Point], h: i32, settings: &ForecastSettings) -> Method {
    screen::choose(points, h, settings)
        .map(|(method, _)| method)
        .unwrap_or_else(|| exact::choose(points, h, settings))
}

/// The choice of SPEC 4.5 from the candidates' back-test errors.
pub fn choose(tests: &Backtests, settings: &ForecastSettings) -> Method {
    let Some(last_errors) = &tests.last else {
        return Method::Last;
    };
    let n = last_errors.len();
    if n == 0 || (n as u64) < u64::from(settings.min_backtests) {
        return Method::Last;
    }
    let Some(last_sum) = sum_abs(last_errors) else {
        return Method::Last;
    };
    // Same origins for every candidate, so comparing sums compares means exactly.
    let Some(bar) = settings.margin.checked_mul(last_sum) else {
        return Method::Last;
    };
    let score = |e: &Option<Vec<Decimal>>| e.as_ref().and_then(|e| sum_abs(e)).filter(|s| *s < bar);
    match (score(&tests.mean), score(&tests.trend)) {
        (Some(m), Some(t)) if t < m => Method::Trend,
        (Some(_), _) => Method::Mean,
        (None, Some(_)) => Method::Trend,
        (None, None) => Method::Last,
    }
}

/// The `p` quantile (0-1) of sorted values by linear interpolation between closest ranks
/// (rank = p * (n - 1), as Excel's PERCENTILE.INC and numpy's default).
pub fn percentile(sorted: &[Decimal], p: Decimal) -> Option<Decimal> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p.checked_mul(Decimal::from(last as u64))?;
    let lo = rank.floor();
    let frac = rank.checked_sub(lo)?;
    let i: usize = lo.try_into().ok()?;
    let i = i.min(last);
    let a = sorted[i];
    match sorted.get(i + 1) {
        Some(b) if !frac.is_zero() => a.checked_add(frac.checked_mul(b.checked_sub(a)?)?),
        _ => Some(a),
    }
}

/// The 10th and 90th percentiles of forecast + error.
pub fn interval(forecast: Decimal, errors: &[Decimal]) -> Option<(Decimal, Decimal)> {
    let mut outcomes = Vec::with_capacity(errors.len());
    for e in errors {
        outcomes.push(forecast.checked_add(*e)?);
    }
    outcomes.sort();
    Some((
        percentile(&outcomes, Decimal::new(1, 1))?,
        percentile(&outcomes, Decimal::new(9, 1))?,
    ))
}

/// The share (0-1, full precision) of errors that, added to the forecast, still meet the
/// target. `None` without errors, or for polarity `none`.
pub fn confidence(
    forecast: Decimal,
    errors: &[Decimal],
    target: Decimal,
    polarity: Polarity,
) -> Option<Decimal> {
    if errors.is_empty() {
        return None;
    }
    let mut hits = 0u64;
    for e in errors {
        if meets(forecast.checked_add(*e)?, target, polarity)? {
            hits += 1;
        }
    }
    Decimal::from(hits).checked_div(Decimal::from(errors.len() as u64))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{
        backtest, confidence, interval, mean, percentile, run_rate, select, snapshot, trend, Point,
    };
    use crate::assess::Method;
    use crate::framework::{ForecastSettings, Polarity};
    use crate::period::{Frequency, Period, YearStart};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn pts(vals: &[(i32, &str)]) -> Vec<Point> {
        vals.iter().map(|(s, v)| (*s, d(v))).collect()
    }
    fn settings() -> ForecastSettings {
        ForecastSettings {
            window: 8,
            min_backtests: 4,
            margin: d("0.8"),
        }
    }

    #[test]
    fn run_rate_scales_year_to_date() {
        let q2 = Period::new(YearStart::April, Frequency::Quarterly, 2025, 2).unwrap();
        // riverside NI 111: 38 at Q2 runs at 38 * 4/2 = 76
        assert_eq!(run_rate(d("38"), q2), Some(d("76")));
        let m5 = Period::new(YearStart::April, Frequency::Monthly, 2025, 5).unwrap();
        assert_eq!(run_rate(d("50"), m5), Some(d("120")));
    }

    #[test]
    fn candidates() {
        let p = pts(&[(1, "10"), (2, "12"), (4, "16")]);
        assert_eq!(mean(&p), Some(d("38") / d("3")));
        // exact line y = 2x + 8 through gaps: at x = 6, 20
        assert_eq!(trend(&p, 6), Some(d("20")));
        assert_eq!(trend(&p[..2], 6), None);
    }

    #[test]
    fn backtest_origins_and_errors() {
        // h = 1: origins are the 3rd and later values with a value one period later
        let p = pts(&[(0, "1"), (1, "2"), (2, "4"), (3, "3"), (5, "7"), (6, "6")]);
        // origins: seq 2 (-> 3), seq 3 (-> 4 missing), seq 5 (-> 6); errors for last: 3-4, 6-7
        assert_eq!(
            backtest(&p, 1, 8, Method::Last),
            Some(vec![d("-1"), d("-1")])
        );
        // mean of the window up to seq 2 is 7/3; 3 - 7/3 = 2/3
        let m = backtest(&p, 1, 8, Method::Mean).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], d("3") - d("7") / d("3"));
        // a window of 2 uses only the last two values up to the origin
        let m2 = backtest(&p, 1, 2, Method::Mean).unwrap();
        assert_eq!(m2[0], d("0"));
    }

    #[test]
    fn last_unless_clearly_better() {
        // a noisy level series: mean wins
        let noisy: Vec<Point> = (0..12)
            .map(|i| (i, if i % 2 == 0 { d("10") } else { d("12") }))
            .collect();
        assert_eq!(select(&noisy, 1, &settings()), Method::Mean);
        // too few back-tests: last
        assert_eq!(select(&noisy[..5], 1, &settings()), Method::Last);
        // a random walk-ish series: last stays
        let walk = pts(&[
            (0, "10"),
            (1, "11"),
            (2, "13"),
            (3, "12"),
            (4, "15"),
            (5, "14"),
            (6, "17"),
            (7, "16"),
        ]);
        let c = snapshot(&walk, 8, &settings()).unwrap();
        assert!(matches!(
            c.method,
            Method::Last | Method::Trend | Method::Mean
        ));
    }

    #[test]
    fn docs_rules_worked_example() {
        // docs/rules.md section 5: 10, 12, ... 12, one quarter ahead
        let p: Vec<Point> = (0..8)
            .map(|i| (i, if i % 2 == 0 { d("10") } else { d("12") }))
            .collect();
        let c = snapshot(&p, 8, &settings()).unwrap();
        assert_eq!((c.method, c.value), (Method::Mean, d("11")));
        assert_eq!(c.errors.len(), 5);
        let conf = confidence(c.value, &c.errors, d("11"), Polarity::Higher).unwrap();
        assert_eq!(conf, d("0.6"));
        let (lo, hi) = interval(c.value, &c.errors).unwrap();
        assert_eq!(lo, d("10"));
        assert_eq!(crate::assess::round_out(hi, 4), d("12.28"));
    }

    #[test]
    fn percentiles_interpolate_linearly() {
        let s = vec![d("1"), d("2"), d("3"), d("4"), d("5")];
        assert_eq!(percentile(&s, d("0.1")), Some(d("1.4")));
        assert_eq!(percentile(&s, d("0.9")), Some(d("4.6")));
        assert_eq!(percentile(&[d("7")], d("0.9")), Some(d("7")));
        assert_eq!(interval(d("10"), &s), Some((d("11.4"), d("14.6"))));
    }

    #[test]
    fn confidence_counts_outcomes_meeting_target() {
        let errors = vec![d("-2"), d("-1"), d("1"), d("2")];
        // forecast 10 against 10 (higher): 11 and 12 meet it, 8 and 9 do not
        assert_eq!(
            confidence(d("10"), &errors, d("10"), Polarity::Higher),
            Some(d("0.5"))
        );
        assert_eq!(
            confidence(d("10"), &errors, d("9"), Polarity::Lower),
            Some(d("0.5"))
        );
        assert_eq!(confidence(d("10"), &errors, d("9"), Polarity::None), None);
        assert_eq!(confidence(d("10"), &[], d("9"), Polarity::Higher), None);
    }

    #[test]
    fn the_screen_decides_clear_cases() {
        // The screen must answer where the choice is clear (else it saves nothing), and agree.
        let noisy: Vec<Point> = (0..12)
            .map(|i| (i, if i % 2 == 0 { d("10") } else { d("12") }))
            .collect();
        assert_eq!(
            super::screen::choose(&noisy, 1, &settings()),
            Some((Method::Mean, 9))
        );
        let line: Vec<Point> = (0..12)
            .map(|i| (i, Decimal::new(30 + 7 * i64::from(i), 1)))
            .collect();
        assert_eq!(
            super::screen::choose(&line, 2, &settings()),
            Some((Method::Trend, 8))
        );
        let walk = pts(&[
            (0, "10"),
            (1, "13"),
            (2, "12"),
            (3, "16"),
            (4, "15"),
            (5, "19"),
            (6, "18"),
            (7, "22.5"),
        ]);
        let exact = super::choose(&super::backtest_all(&walk, 1, 8), &settings());
        assert_eq!(
            super::screen::choose(&walk, 1, &settings()).map(|c| c.0),
            Some(exact)
        );
        // Too few back-tests: `last`, whatever the values.
        assert_eq!(
            super::screen::choose(&noisy[..5], 1, &settings()),
            Some((Method::Last, 2))
        );
        // An exact tie (a constant series: every error 0, none below 0.8 x 0) is left to the
        // exact code, and values beyond its range too.
        let flat: Vec<Point> = (0..12).map(|i| (i, d("5"))).collect();
        assert_eq!(super::screen::choose(&flat, 1, &settings()), None);
        let huge: Vec<Point> = (0..12)
            .map(|i| (i, Decimal::from(i64::MAX) * Decimal::from(i)))
            .collect();
        assert_eq!(super::screen::choose(&huge, 1, &settings()), None);
    }

    /// Ties decided exactly (SPEC 4: exact arithmetic), where decimals of 28 digits went
    /// astray: a trend's mean error exactly `margin` times the last value's is not below it,
    /// so `last` stays; a trend line landing exactly on the target meets it; an outcome
    /// exactly on the target counts toward the confidence.
    #[test]
    fn ties_are_decided_exactly() {
        let q = |v: &[i64]| -> Vec<Point> {
            v.iter()
                .enumerate()
                .map(|(k, &y)| (k as i32, Decimal::from(y)))
                .collect()
        };
        // Trend's errors sum to 7/5, exactly 0.8 x last's 7/4.
        let p = q(&[8, 5, 9, 4, 5, 4, 4]);
        assert_eq!(super::select(&p, 1, &settings()), Method::Last);
        // The line through 9, 9, 5, 3, 2, 0, -2 (window 8) reaches -4 exactly one period on.
        let p = q(&[9, 9, 5, 3, 2, 0, -2]);
        let c = super::choose_snapshot(&p, 7, &settings()).unwrap();
        assert_eq!(c.method, Method::Trend);
        assert_eq!(c.meets(d("-4"), Polarity::Higher), Some(true));
        assert_eq!(
            c.meets(d("-3.9999999999999999"), Polarity::Higher),
            Some(false)
        );
        // The same at 1e-12 (the decimals hold only 16 digits of such a line) and offset by
        // 123456.789 (the errors are small differences of large values).
        let tiny: Vec<Point> = p
            .iter()
            .map(|&(s, y)| (s, y * Decimal::new(1, 12)))
            .collect();
        let c = super::choose_snapshot(&tiny, 7, &settings()).unwrap();
        assert_eq!(c.meets(d("-0.000000000004"), Polarity::Higher), Some(true));
        let off = |v: &[i64]| -> Vec<Point> {
            v.iter()
                .enumerate()
                .map(|(k, &y)| {
                    (
                        k as i32,
                        d("123456.789") + Decimal::from(y) * Decimal::new(1, 7),
                    )
                })
                .collect()
        };
        assert_eq!(
            super::select(&off(&[8, 5, 9, 4, 5, 4, 4]), 1, &settings()),
            Method::Last
        );
        let tiny: Vec<Point> = q(&[8, 5, 9, 4, 5, 4, 4])
            .iter()
            .map(|&(s, y)| (s, y * Decimal::new(1, 13)))
            .collect();
        assert_eq!(super::select(&tiny, 1, &settings()), Method::Last);
        // Confidence: 4 of the 8 trend outcomes meet 14.5, one of them exactly (29/2), at
        // one quarter ahead of 13, 13, 12, 13, 12, 12, 11, 15, 13, 14, 14.
        let p = q(&[13, 13, 12, 13, 12, 12, 11, 15, 13, 14, 14]);
        let mut c = super::choose_snapshot(&p, 11, &settings()).unwrap();
        assert_eq!(c.method, Method::Trend);
        assert_eq!(c.confidence(d("14.5"), Polarity::Higher), Some(d("0.5")));
    }

    #[test]
    fn overflow_falls_back_not_panics() {
        let big = Decimal::MAX;
        let p: Vec<Point> = (0..10)
            .map(|i| (i, if i % 2 == 0 { big } else { -big }))
            .collect();
        let c = snapshot(&p, 12, &settings()).unwrap();
        assert_eq!(c.method, Method::Last);
    }

    proptest! {
        #[test]
        fn straight_line_chooses_trend_exactly(a in -1000i64..1000, b in -50i64..50, n in 10usize..20, h in 1i32..4) {
            prop_assume!(b != 0);
            let p: Vec<Point> = (0..n as i32).map(|x| (x, Decimal::from(a + b * i64::from(x)))).collect();
            let at = n as i32 - 1 + h;
            let c = snapshot(&p, at, &settings()).unwrap();
            prop_assert_eq!(c.method, Method::Trend);
            prop_assert_eq!(c.value, Decimal::from(a + b * i64::from(at)));
        }

        #[test]
        fn constant_forecasts_itself(v in -100_000i64..100_000, n in 1usize..20, h in 1i32..6) {
            let v = Decimal::new(v, 2);
            let p: Vec<Point> = (0..n as i32).map(|x| (x, v)).collect();
            let c = snapshot(&p, n as i32 - 1 + h, &settings()).unwrap();
            prop_assert_eq!(c.value, v);
        }

        /// The screen answers only what the exact back-tests would choose, on series made to
        /// sit on the edges: exact ties (constant, repeating and straight-line stretches), values
        /// at many scales, gaps, every window, horizon, minimum and margin.
        #[test]
        fn screen_chooses_as_the_exact_backtests(
            shape in 0u8..5,
            raw in proptest::collection::vec((0i32..3, -2000i64..2000, 0u32..6), 0..40),
            window in 1u32..10, h in 1i32..7, min_backtests in 0u32..7,
            margin in proptest::sample::select(vec!["0.8", "1", "0.5", "0", "1.25", "0.999999"]),
            pick in 0usize..50,
            polarity in proptest::sample::select(vec![Polarity::Higher, Polarity::Lower, Polarity::None]),
        ) {
            let settings = ForecastSettings { window, min_backtests, margin: d(margin) };
            let mut seq = 0;
            let p: Vec<Point> = raw.iter().enumerate().map(|(k, &(gap, m, sc))| {
                seq += gap + 1;
                let k = k as i64;
                let v = match shape {
                    0 => Decimal::new(m, sc),                      // anything
                    1 => Decimal::new(m.rem_euclid(3), 0),         // few levels: many ties
                    2 => Decimal::new(7 + 3 * k, 1),               // a straight line
                    3 => Decimal::new([10, 12, 10, 12][k as usize % 4], 0), // a cycle
                    _ => Decimal::new(m, sc) * Decimal::new(1, 20), // tiny values
                };
                (seq, v)
            }).collect();
            let tests = super::backtest_all(&p, h, window as usize);
            if let Some((method, count)) = super::screen::choose(&p, h, &settings) {
                prop_assert_eq!(method, super::choose(&tests, &settings));
                prop_assert_eq!(count, tests.of(method).unwrap().len());
                // And as the exact rationals choose (which decide where the screen cannot).
                prop_assert_eq!(method, super::exact::choose(&p, h, &settings));
            }
            // The screened confidence, where it answers, is the exact one, for each method,
            // with targets exactly on an outcome (ties) and beside them.
            let at = p.last().map_or(0, |l| l.0) + h;
            for method in [Method::Last, Method::Mean, Method::Trend] {
                let (Some(errors), Some(last)) = (tests.of(method), p.len().checked_sub(1)) else { continue };
                let Some(value) = super::candidate(method, super::window_to(&p, last, window as usize), at) else { continue };
                let target = match errors.get(pick) {
                    Some(e) => value + e,
                    None => value + Decimal::new(pick as i64 - 25, 1),
                };
                if let Some(screened) = super::screen::confidence(&p, h, window as usize, method, value, target, polarity) {
                    prop_assert_eq!(screened, super::confidence(value, errors, target, polarity));
                }
            }
            // What the screen rests on: each sum within its bound of the exact code's.
            if let Some((count, sums)) = super::screen::sums(&p, h, window as usize) {
                for (sum, errors) in sums.iter().zip([&tests.last, &tests.mean, &tests.trend]) {
                    let errors = errors.as_ref().unwrap();
                    prop_assert_eq!(count, errors.len() as u64);
                    let exact = super::sum_abs(errors).unwrap();
                    let exact = exact.mantissa() as f64 / 10f64.powi(exact.scale() as i32);
                    prop_assert!((exact - sum.value).abs() <= sum.bound,
                        "{} vs {} (bound {})", exact, sum.value, sum.bound);
                }
            }
        }

        #[test]
        fn never_panics(vals in proptest::collection::vec((0i32..40, any::<i64>(), 0u32..10), 0..30), at in 0i32..60) {
            let mut p: Vec<Point> = vals.into_iter().map(|(s, m, sc)| (s, Decimal::new(m, sc))).collect();
            p.sort_by_key(|x| x.0);
            p.dedup_by_key(|x| x.0);
            let _ = snapshot(&p, at, &settings());
        }
    }
}
