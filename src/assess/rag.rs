//! SPEC 4.2: deviation, achievement and the RAG status, in exact decimals. Boundaries are
//! decided by cross-multiplying (`gap * 100` against `threshold * |target|`), so 95 of 100
//! is exactly 95% achieved and never 94.99999.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::{cmp_decimal, Rag};
use crate::framework::{Polarity, RagKind};

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// A target as an exact fraction `num / den` (`den` > 0). A year's target pro rata (SPEC
/// 4.1: 40 at month 7 of 12 is 70/3) often has no finite decimal, and a decimal of 28 digits
/// would put a value exactly on a threshold on the wrong side of it; so values are compared
/// with the numerator, scaled by the denominator (`value x den` against `num`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub num: Decimal,
    pub den: u32,
}

impl Target {
    /// A target written as a decimal.
    pub fn whole(t: Decimal) -> Target {
        Target { num: t, den: 1 }
    }

    /// The nearest decimal (exact when `den` is 1): what is shown, and what forecasts use.
    pub fn approx(self) -> Option<Decimal> {
        if self.den == 1 {
            Some(self.num)
        } else {
            self.num.checked_div(Decimal::from(self.den))
        }
    }

    /// `value x den`: the value on the numerator's scale (`None` on overflow).
    fn scaled(self, value: Decimal) -> Option<Decimal> {
        if self.den == 1 {
            Some(value)
        } else {
            value.checked_mul(Decimal::from(self.den))
        }
    }

    /// The value and the target on one scale: (`value x den`, `num`), or, on overflow, the
    /// value and the nearest decimal.
    fn pair(self, value: Decimal) -> (Decimal, Decimal) {
        match self.scaled(value) {
            Some(v) => (v, self.num),
            None => (value, self.approx().unwrap_or(self.num)),
        }
    }
}

/// How far the value is on the good side of the target, in the value's own units:
/// `value - target` for `higher`, `target - value` for `lower`; `None` for polarity `none`
/// (or on arithmetic overflow).
pub fn gap(value: Decimal, target: Decimal, polarity: Polarity) -> Option<Decimal> {
    match polarity {
        Polarity::Higher => value.checked_sub(target),
        Polarity::Lower => target.checked_sub(value),
        Polarity::None => None,
    }
}

/// Deviation in percent, full precision: gap / |target| * 100. `None` when the target is 0
/// (a percentage of nothing cannot be computed), for polarity `none`, or on overflow.
pub fn deviation_pct(value: Decimal, target: Decimal, polarity: Polarity) -> Option<Decimal> {
    deviation_pct_of(value, Target::whole(target), polarity)
}

/// [`deviation_pct`] against an exact target: `(value x den - num) / |num| x 100` (the
/// denominators cancel), so a deviation exactly at a half of the last place shown is found
/// as one (-64.625, not -64.62499…).
pub fn deviation_pct_of(value: Decimal, target: Target, polarity: Polarity) -> Option<Decimal> {
    let (value, target) = target.pair(value);
    if target.is_zero() {
        return None;
    }
    let g = gap(value, target, polarity)?;
    match g.checked_mul(HUNDRED) {
        Some(g100) => g100.checked_div(target.abs()),
        None => g.checked_div(target.abs())?.checked_mul(HUNDRED),
    }
}

/// Whether the value is worse than the target (SPEC 4.4 "below target": dev < 0, which for
/// a target of 0 is "worse than 0"). Always false for polarity `none`.
pub fn is_below(value: Decimal, target: Decimal, polarity: Polarity) -> bool {
    match polarity {
        Polarity::Higher => cmp_decimal(value, target) == Ordering::Less,
        Polarity::Lower => cmp_decimal(value, target) == Ordering::Greater,
        Polarity::None => false,
    }
}

/// [`is_below`] against an exact target.
pub fn is_below_of(value: Decimal, target: Target, polarity: Polarity) -> bool {
    let (value, target) = target.pair(value);
    is_below(value, target, polarity)
}

/// [`meets`] against an exact target.
pub fn meets_of(value: Decimal, target: Target, polarity: Polarity) -> Option<bool> {
    let (value, target) = target.pair(value);
    meets(value, target, polarity)
}

/// Whether the value meets the target (on or better than it); `None` for polarity `none`.
pub fn meets(value: Decimal, target: Decimal, polarity: Polarity) -> Option<bool> {
    match polarity {
        Polarity::Higher => Some(cmp_decimal(value, target) != Ordering::Less),
        Polarity::Lower => Some(cmp_decimal(value, target) != Ordering::Greater),
        Polarity::None => None,
    }
}

/// Compare the deviation with `threshold` percent exactly: dev ? t  <=>  gap*100 ? t*|target|
/// (|target| > 0).
fn cmp_dev(g: Decimal, target: Decimal, threshold: Decimal) -> Ordering {
    let abs = target.abs();
    match (g.checked_mul(HUNDRED), threshold.checked_mul(abs)) {
        (Some(l), Some(r)) => cmp_decimal(l, r),
        // Only for values near Decimal's range: divide instead.
        _ => match g.checked_div(abs).map(|d| d.checked_mul(HUNDRED)) {
            Some(Some(dev)) => dev.cmp(&threshold),
            _ => g.cmp(&Decimal::ZERO).then(Ordering::Equal),
        },
    }
}

/// The RAG status of a value against a target under a scheme (SPEC 4.2). N/A for polarity
/// `none`, no target or no value; a target of 0 gives GREEN when on or better, else RED.
pub fn rag(
    value: Option<Decimal>,
    target: Option<Decimal>,
    polarity: Polarity,
    kind: RagKind,
) -> Rag {
    rag_of(value, target.map(Target::whole), polarity, kind)
}

/// [`rag`] against an exact target: every boundary is decided on `value x den` against `num`
/// (dev ? t  <=>  gap x den x 100 ? t x |num|).
pub fn rag_of(
    value: Option<Decimal>,
    target: Option<Target>,
    polarity: Polarity,
    kind: RagKind,
) -> Rag {
    let (Some(value), Some(target)) = (value, target) else {
        return Rag::NA;
    };
    let (value, target) = target.pair(value);
    if polarity == Polarity::None {
        return Rag::NA;
    }
    if target.is_zero() {
        return if is_below(value, target, polarity) {
            Rag::Red
        } else {
            Rag::Green
        };
    }
    let Some(g) = gap(value, target, polarity) else {
        // Overflow of value - target: the sign is still known.
        return if is_below(value, target, polarity) {
            Rag::Red
        } else {
            Rag::Green
        };
    };
    let dev = |t: Decimal| cmp_dev(g, target, t);
    match kind {
        RagKind::Achievement { green, amber } => {
            // achievement = 100 + dev, so achievement >= a  <=>  dev >= a - 100.
            let at_least = |a: Decimal| {
                a.checked_sub(HUNDRED)
                    .map(|t| dev(t) != Ordering::Less)
                    .unwrap_or(a < Decimal::ZERO)
            };
            if at_least(green) {
                Rag::Green
            } else if at_least(amber) {
                Rag::Amber
            } else {
                Rag::Red
            }
        }
        RagKind::Deviation { red, blue } => {
            if dev(red) != Ordering::Greater {
                Rag::Red
            } else if dev(blue) != Ordering::Less {
                Rag::Blue
            } else if dev(Decimal::ZERO) != Ordering::Less {
                Rag::Green
            } else {
                Rag::Amber
            }
        }
        RagKind::OnTarget => {
            if dev(Decimal::ZERO) != Ordering::Less {
                Rag::Green
            } else {
                Rag::Red
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{
        deviation_pct, deviation_pct_of, is_below, is_below_of, meets_of, rag, rag_of, Target,
    };
    use crate::assess::Rag;
    use crate::framework::{Polarity, RagKind};

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    const ACH: RagKind = RagKind::Achievement {
        green: Decimal::from_parts(95, 0, 0, false, 0),
        amber: Decimal::from_parts(90, 0, 0, false, 0),
    };
    const DEV: RagKind = RagKind::Deviation {
        red: Decimal::from_parts(10, 0, 0, true, 0),
        blue: Decimal::from_parts(10, 0, 0, false, 0),
    };
    fn r(v: &str, t: &str, p: Polarity, k: RagKind) -> Rag {
        rag(Some(d(v)), Some(d(t)), p, k)
    }
    use Polarity::{Higher, Lower};

    /// A pro rata target with no finite decimal (SPEC 4.1: 40 at month 7 of 12 is 70/3) is
    /// compared exactly: 21 is exactly 10% below it, so RED under `deviation` (dev <= -10),
    /// and exactly 10% better for lower-is-better, so BLUE; a deviation of exactly -64.625
    /// is found as that (8 at month 4 is 8/3; 4.39 against it).
    #[test]
    fn pro_rata_targets_are_compared_exactly() {
        let t = Target {
            num: d("280"),
            den: 12,
        };
        assert_eq!(rag_of(Some(d("21")), Some(t), Higher, DEV), Rag::Red);
        assert_eq!(rag_of(Some(d("21")), Some(t), Lower, DEV), Rag::Blue);
        assert_eq!(rag_of(Some(d("21")), Some(t), Higher, ACH), Rag::Amber); // exactly 90
        assert_eq!(deviation_pct_of(d("21"), t, Higher), Some(d("-10")));
        let t = Target {
            num: d("32"),
            den: 12,
        };
        assert_eq!(deviation_pct_of(d("4.39"), t, Lower), Some(d("-64.625")));
        // On the target exactly: not below it, and meets it.
        let t = Target {
            num: d("252"),
            den: 12,
        };
        assert!(!is_below_of(d("21"), t, Higher));
        assert_eq!(meets_of(d("21"), t, Lower), Some(true));
        assert!(is_below_of(d("21.0000000001"), t, Lower));
    }

    #[test]
    fn achievement_boundaries_higher() {
        assert_eq!(r("95", "100", Higher, ACH), Rag::Green); // exactly 95
        assert_eq!(r("94.99", "100", Higher, ACH), Rag::Amber);
        assert_eq!(r("90", "100", Higher, ACH), Rag::Amber); // exactly 90
        assert_eq!(r("89.99", "100", Higher, ACH), Rag::Red);
        assert_eq!(r("150", "100", Higher, ACH), Rag::Green); // no BLUE
                                                              // a third: 28.5 of 30 is exactly 95%
        assert_eq!(r("28.5", "30", Higher, ACH), Rag::Green);
        assert_eq!(r("27", "30", Higher, ACH), Rag::Amber);
    }

    #[test]
    fn achievement_boundaries_lower() {
        // lower: dev = (target - value)/target*100; 105 of 100 is dev -5, achievement 95
        assert_eq!(r("105", "100", Lower, ACH), Rag::Green);
        assert_eq!(r("105.01", "100", Lower, ACH), Rag::Amber);
        assert_eq!(r("110", "100", Lower, ACH), Rag::Amber);
        assert_eq!(r("110.01", "100", Lower, ACH), Rag::Red);
        // riverside CF 05: 9.9 against 9.0 is dev exactly -10, achievement 90: AMBER
        assert_eq!(r("9.9", "9.0", Lower, ACH), Rag::Amber);
        assert_eq!(deviation_pct(d("9.9"), d("9.0"), Lower), Some(d("-10")));
    }

    #[test]
    fn deviation_boundaries_both_polarities() {
        assert_eq!(r("90", "100", Higher, DEV), Rag::Red); // -10 exactly
        assert_eq!(r("90.01", "100", Higher, DEV), Rag::Amber);
        assert_eq!(r("99.99", "100", Higher, DEV), Rag::Amber);
        assert_eq!(r("100", "100", Higher, DEV), Rag::Green); // 0 exactly
        assert_eq!(r("109.99", "100", Higher, DEV), Rag::Green);
        assert_eq!(r("110", "100", Higher, DEV), Rag::Blue); // +10 exactly
        assert_eq!(r("110", "100", Lower, DEV), Rag::Red);
        assert_eq!(r("100.5", "100", Lower, DEV), Rag::Amber);
        assert_eq!(r("100", "100", Lower, DEV), Rag::Green);
        assert_eq!(r("90", "100", Lower, DEV), Rag::Blue);
        assert_eq!(r("90.01", "100", Lower, DEV), Rag::Green);
        // a negative target: |target| in the denominator
        assert_eq!(deviation_pct(d("-9"), d("-10"), Higher), Some(d("10")));
        assert_eq!(r("-9", "-10", Higher, DEV), Rag::Blue);
    }

    #[test]
    fn on_target_scheme() {
        assert_eq!(r("100", "100", Higher, RagKind::OnTarget), Rag::Green);
        assert_eq!(r("99.9", "100", Higher, RagKind::OnTarget), Rag::Red);
        assert_eq!(r("99.9", "100", Lower, RagKind::OnTarget), Rag::Green);
    }

    #[test]
    fn named_variant_thresholds() {
        let strict = RagKind::Achievement {
            green: d("98"),
            amber: d("92"),
        };
        // riverside NI 147: 88.9 of 92 is 96.6% achieved: GREEN by default, AMBER when strict
        assert_eq!(r("88.9", "92", Higher, ACH), Rag::Green);
        assert_eq!(r("88.9", "92", Higher, strict), Rag::Amber);
        let brag5 = RagKind::Deviation {
            red: d("-5"),
            blue: d("5"),
        };
        assert_eq!(r("95", "100", Higher, brag5), Rag::Red);
        assert_eq!(r("105", "100", Higher, brag5), Rag::Blue);
    }

    #[test]
    fn target_zero() {
        for k in [ACH, DEV, RagKind::OnTarget] {
            assert_eq!(r("0", "0", Higher, k), Rag::Green);
            assert_eq!(r("3", "0", Higher, k), Rag::Green);
            assert_eq!(r("-1", "0", Higher, k), Rag::Red);
            assert_eq!(r("0", "0", Lower, k), Rag::Green);
            assert_eq!(r("1", "0", Lower, k), Rag::Red);
        }
        assert_eq!(deviation_pct(d("1"), d("0"), Lower), None);
        assert!(is_below(d("1"), d("0"), Lower));
        assert!(!is_below(d("0"), d("0"), Lower));
        assert!(is_below(d("-0.5"), d("0"), Higher));
    }

    #[test]
    fn not_applicable() {
        assert_eq!(rag(Some(d("5")), None, Higher, ACH), Rag::NA);
        assert_eq!(rag(None, Some(d("5")), Higher, ACH), Rag::NA);
        assert_eq!(
            rag(Some(d("5")), Some(d("5")), Polarity::None, ACH),
            Rag::NA
        );
        assert_eq!(deviation_pct(d("5"), d("4"), Polarity::None), None);
    }

    fn order(r: Rag) -> u8 {
        match r {
            Rag::Red => 0,
            Rag::Amber => 1,
            Rag::Green => 2,
            Rag::Blue => 3,
            Rag::NA => 9,
        }
    }

    fn any_kind() -> impl Strategy<Value = RagKind> {
        prop_oneof![Just(ACH), Just(DEV), Just(RagKind::OnTarget)]
    }

    proptest! {
        #[test]
        fn monotone_in_value(a in -100_000i64..100_000, b in -100_000i64..100_000,
                             t in -10_000i64..10_000, k in any_kind()) {
            let (lo, hi) = (Decimal::new(a.min(b), 2), Decimal::new(a.max(b), 2));
            let t = Decimal::new(t, 1);
            let up = |v| order(rag(Some(v), Some(t), Higher, k));
            let down = |v| order(rag(Some(v), Some(t), Lower, k));
            prop_assert!(up(lo) <= up(hi));
            prop_assert!(down(lo) >= down(hi));
        }

        #[test]
        fn polarity_mirrors(v in -100_000i64..100_000, t in -10_000i64..10_000, k in any_kind()) {
            // value v against t with higher is the mirror image 2t - v with lower
            let (v, t) = (Decimal::new(v, 2), Decimal::new(t, 1));
            let mirror = t + t - v;
            prop_assert_eq!(rag(Some(v), Some(t), Higher, k), rag(Some(mirror), Some(t), Lower, k));
            prop_assert_eq!(deviation_pct(v, t, Higher), deviation_pct(mirror, t, Lower));
        }
    }
}
