//! A quick screen of the choice between `last`, `mean` and `trend` (SPEC 4.5), in binary
//! floating point with a bound on its error, so that the exact back-tests in `Decimal` are run
//! only when they could decide differently.
//!
//! The choice compares sums of absolute back-test errors: each candidate's against `margin`
//! times that of `last`, and `trend`'s against `mean`'s. The screen computes every sum in `f64`
//! together with a bound on how far it can be from the sum the exact code computes (which
//! itself rounds each division to 28 digits), and answers only when every comparison it needs
//! is clear by more than the bounds; otherwise it answers `None` and the caller runs the exact
//! back-tests. So the method chosen is always the one [`super::choose`] would choose.
//!
//! The bounds are deliberately loose: the `f64` arithmetic of one error is good to about 1e-15
//! of the magnitudes it handles (a few operations per value of the window, 8 by default; about
//! 1e-13 at the largest window the screen takes, 1,000), and the screen allows 1e-10 of them,
//! plus 1e-24 absolute for the exact code's own rounding at its 28th decimal place. It answers only for series where the exact code cannot overflow (values
//! up to 1e15, horizons and windows spanning up to 10,000 periods), so the exact code's
//! fallbacks on overflow never come into play.

use rust_decimal::Decimal;

use super::{window_to, Point};
use crate::assess::Method;
use crate::framework::{ForecastSettings, Polarity};

/// The relative allowance of each error's bound (see the module's comment).
const RELATIVE: f64 = 1e-10;
/// The absolute allowance of each error's bound: the exact code's rounding at 28 decimals.
const ABSOLUTE: f64 = 1e-24;
/// The largest value (in magnitude) the screen handles.
const LARGEST: f64 = 1e15;
/// The largest horizon or window span (in periods) the screen handles.
const SPAN: i64 = 10_000;
/// The most points a series may have for the screen.
const WINDOW: usize = 1_000;
/// The largest intermediate (in magnitude) of the exact code the screen allows, far below
/// `Decimal`'s 7.9e28, so that the exact code never overflows where the screen answers.
const INTERMEDIATE: f64 = 1e26;

/// Powers of ten as `f64` literals (each the nearest double).
const POW10: [f64; 29] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
];

/// A decimal as the nearest double, or nearly (two roundings).
fn approx(d: Decimal) -> f64 {
    // A mantissa of 64 bits (nearly every value) converts in hardware; a wider one in
    // software. (Written from the parts: from an `i128` that fits in 64 bits, the compiler
    // makes the software conversion anyway.) Both give the double nearest the mantissa.
    let parts = d.unpack();
    let magnitude = if parts.hi == 0 {
        ((u64::from(parts.mid) << 32) | u64::from(parts.lo)) as f64
    } else {
        d.mantissa().unsigned_abs() as f64
    };
    // (A negative zero's mantissa is 0: plain zero, as before.)
    let m = if parts.negative && magnitude != 0.0 {
        -magnitude
    } else {
        magnitude
    };
    m / POW10[(d.scale() as usize).min(28)]
}

/// A sum of absolute errors and a bound on its distance from the exact code's sum.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sum {
    pub value: f64,
    pub bound: f64,
}

impl Sum {
    fn add(&mut self, error: f64, magnitude: f64) {
        self.value += error.abs();
        self.bound += RELATIVE * magnitude + ABSOLUTE;
    }

    /// Once every error is in: allow for the rounding of the additions themselves.
    fn done(mut self) -> Sum {
        self.bound += RELATIVE * self.value;
        self
    }

    /// `Some(self < other)` when the bounds decide it, else `None`.
    fn less(self, other: Sum) -> Option<bool> {
        let gap = self.bound + other.bound;
        if self.value + gap < other.value {
            Some(true)
        } else if self.value - gap >= other.value {
            Some(false)
        } else {
            None
        }
    }
}

/// Each back-test origin's `f64` errors of `last`, `mean` and `trend`, each with the magnitude
/// its bound is taken of (see [`walk`]): made once per series, for the choice and the confidence.
pub(super) struct Screened(Vec<[(f64, f64); 3]>);

/// Walks the origins of `points` for horizon `h`; `None` for values out of the screen's range.
pub(super) fn walk(points: &[Point], h: i32, window: usize) -> Option<Screened> {
    let mut errors = Vec::with_capacity(points.len().saturating_sub(2));
    origins(points, h, window, |e| errors.push(e))?;
    Some(Screened(errors))
}

/// The method [`super::choose`] would choose from [`super::backtest_all`]`(points, h, window)`,
/// and how many back-test errors it has, or `None` when the screen cannot tell (a close call,
/// or values out of its range).
pub(super) fn choose(
    points: &[Point],
    h: i32,
    settings: &ForecastSettings,
) -> Option<(Method, usize)> {
    walk(points, h, settings.window as usize)?.choose(settings)
}

impl Screened {
    /// See [`choose`].
    pub(super) fn choose(&self, settings: &ForecastSettings) -> Option<(Method, usize)> {
        let (count, sums) = self.sums();
        Some((decide(count, sums, settings)?, count as usize))
    }

    fn sums(&self) -> (u64, [Sum; 3]) {
        let mut sums = [Sum::default(); 3];
        for errors in &self.0 {
            for (sum, &(error, magnitude)) in sums.iter_mut().zip(errors) {
                sum.add(error, magnitude);
            }
        }
        (self.0.len() as u64, sums.map(Sum::done))
    }
}

fn decide(
    count: u64,
    [last, mean, trend]: [Sum; 3],
    settings: &ForecastSettings,
) -> Option<Method> {
    if count == 0 || count < u64::from(settings.min_backtests) {
        return Some(Method::Last);
    }
    let margin = approx(settings.margin);
    let bar = Sum {
        value: margin * last.value,
        bound: margin.abs() * last.bound + RELATIVE * (margin * last.value).abs() + ABSOLUTE,
    };
    let mean_in = mean.less(bar)?;
    let trend_in = trend.less(bar)?;
    Some(match (mean_in, trend_in) {
        (true, true) => {
            if trend.less(mean)? {
                Method::Trend
            } else {
                Method::Mean
            }
        }
        (true, false) => Method::Mean,
        (false, true) => Method::Trend,
        (false, false) => Method::Last,
    })
}

/// The number of back-test origins and the sums of absolute errors of `last`, `mean` and
/// `trend`, each with its bound; `None` for values out of the screen's range. (For the tests.)
#[cfg(test)]
pub(super) fn sums(points: &[Point], h: i32, window: usize) -> Option<(u64, [Sum; 3])> {
    Some(walk(points, h, window)?.sums())
}

/// The confidence of SPEC 4.5 for the chosen `method`'s forecast `value` against `target`, as
/// [`super::confidence`] computes it from the exact back-test errors: `Some(answer)` when every
/// outcome (forecast plus error) is clearly on one side of the target, `None` when one is too
/// close to call or the values are out of the screen's range (then the caller computes it
/// exactly). The answer itself is `None` without errors or for polarity `none`, as there.
/// (For the tests; the forecast keeps its [`Screened`] walk.)
#[cfg(test)]
pub(super) fn confidence(
    points: &[Point],
    h: i32,
    window: usize,
    method: Method,
    value: Decimal,
    target: Decimal,
    polarity: Polarity,
) -> Option<Option<Decimal>> {
    walk(points, h, window)?.confidence(method, value, target, polarity)
}

impl Screened {
    /// See [`confidence`].
    pub(super) fn confidence(
        &self,
        method: Method,
        value: Decimal,
        target: Decimal,
        polarity: Polarity,
    ) -> Option<Option<Decimal>> {
        let k = match method {
            Method::Mean => 1,
            Method::Trend => 2,
            _ => 0,
        };
        if polarity == Polarity::None {
            return Some(None); // as the exact code: no confidence without a polarity
        }
        let (f, t) = (approx(value), approx(target));
        if !(f.abs() <= LARGEST * 1e6 && t.abs() <= LARGEST * 1e6) {
            return None;
        }
        let mut hits = 0u64;
        for errors in &self.0 {
            let (error, magnitude) = errors[k];
            let outcome = f + error;
            let bound = RELATIVE * (magnitude + f.abs() + t.abs() + outcome.abs()) + 2.0 * ABSOLUTE;
            // outcome >= target (higher) or <= target (lower), when clear by more than the bound
            let (above, below) = (outcome - bound > t, outcome + bound < t);
            match polarity {
                Polarity::Higher if above => hits += 1,
                Polarity::Lower if below => hits += 1,
                _ if above || below => {}
                _ => return None,
            }
        }
        if self.0.is_empty() {
            return Some(None);
        }
        Some(Decimal::from(hits).checked_div(Decimal::from(self.0.len() as u64)))
    }
}

/// Walks the back-test origins as [`super::backtest_all`] does, handing `each` the `f64`
/// errors of `last`, `mean` and `trend` at each, each with the magnitude its bound is taken
/// of. `None` for values out of the screen's range.
fn origins(
    points: &[Point],
    h: i32,
    window: usize,
    each: impl FnMut([(f64, f64); 3]),
) -> Option<()> {
    let h = i64::from(h);
    if !(1..=SPAN).contains(&h) || points.len() > WINDOW {
        return None;
    }
    // The values as doubles, in a list each thread reuses (a national report walks over a
    // million series).
    thread_local! {
        static YS: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    YS.with_borrow_mut(|ys| {
        ys.clear();
        ys.extend(points.iter().map(|p| approx(p.1)));
        origins_of(points, ys, h, window, each)
    })
}

/// [`origins`] with the values as doubles (`ys`).
fn origins_of(
    points: &[Point],
    ys: &[f64],
    h: i64,
    window: usize,
    mut each: impl FnMut([(f64, f64); 3]),
) -> Option<()> {
    if ys.iter().any(|y| y.is_nan() || y.abs() > LARGEST) {
        return None;
    }
    // The point `h` after each origin: origins and points both ascend (one point a period),
    // so one cursor walks forward to it rather than a search per origin.
    let mut cursor = 0;
    for i in 2..points.len() {
        let at = i64::from(points[i].0) + h;
        while cursor < points.len() && i64::from(points[cursor].0) < at {
            cursor += 1;
        }
        if cursor == points.len() || i64::from(points[cursor].0) != at {
            continue;
        }
        let actual = ys[cursor];
        let w = window_to(points, i, window);
        let wy = &ys[i + 1 - w.len()..=i];
        let n = wy.len() as f64;
        // One pass over the window for what the three candidates need, each accumulated in
        // the same order as a pass of its own would (so the same doubles): the largest
        // magnitude, the sum for `mean`, and `trend`'s sums, with x measured from the
        // window's last point.
        let x0 = i64::from(w[w.len() - 1].0);
        let (mut largest, mut total) = (0f64, -0f64);
        let (mut sx, mut sxx) = (0i64, 0i64);
        let (mut sy, mut sxy) = (0f64, 0f64);
        let mut far = false;
        for (p, &y) in w.iter().zip(wy) {
            largest = largest.max(y.abs());
            total += y;
            let x = i64::from(p.0) - x0;
            far |= x < -SPAN;
            sx += x;
            sxx += x * x;
            sy += y;
            sxy += x as f64 * y;
        }

        let l = wy[n as usize - 1];
        let last = (actual - l, actual.abs() + l.abs());

        let m = total / n;
        let mean = (actual - m, actual.abs() + largest);

        // The exact code's formula.
        let (t, magnitude) = if w.len() < 3 {
            (l, actual.abs() + l.abs())
        } else {
            if far {
                return None;
            }
            let k = w.len() as i64;
            let denom = k * sxx - sx * sx;
            if denom == 0 {
                (l, actual.abs() + l.abs())
            } else {
                let slope = (n * sxy - sx as f64 * sy) / denom as f64;
                let shift = k * (at - x0) - sx;
                let value = (sy + slope * shift as f64) / n;
                // Every intermediate is at most this (|n sxy| and |sx sy| are each at most
                // n |sx| largest, as every x is <= 0).
                let numer = 2.0 * n * (-sx) as f64 * largest;
                let reach = (numer * shift.unsigned_abs() as f64 / denom as f64 + n * largest) / n;
                if numer > INTERMEDIATE || reach * n > INTERMEDIATE {
                    return None;
                }
                (value, actual.abs() + reach)
            }
        };
        each([last, mean, (actual - t, magnitude)]);
    }
    Some(())
}

#[cfg(test)]
mod approx_tests {
    use rust_decimal::Decimal;

    proptest::proptest! {
        /// `approx` is the mantissa converted to the nearest double, divided by the power of
        /// ten: bit for bit, for any decimal (negative zero too).
        #[test]
        fn approx_is_the_mantissa_as_a_double(d in crate::testing::decimals()) {
            let want = d.mantissa() as f64 / super::POW10[d.scale() as usize];
            proptest::prop_assert_eq!(super::approx(d).to_bits(), want.to_bits());
            // A zero that says it is negative, whichever way it was made: plain zero.
            for z in ["-0", "-0.00"] {
                let mut z: Decimal = z.parse().unwrap();
                z.set_sign_negative(true);
                proptest::prop_assert_eq!(super::approx(z).to_bits(), 0f64.to_bits());
            }
        }
    }
}
