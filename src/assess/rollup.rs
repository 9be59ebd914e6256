//! SPEC 4.6: a parent area's value from its children's, for one period. Never an average of
//! percentages: a ratio adds numerators and denominators. Which areas and periods roll up is
//! decided in `assess` (mod.rs); this is the arithmetic for one period.

use rust_decimal::Decimal;

use crate::framework::Aggregate;

/// One child's contribution at a period: its value (own or rolled up) and, for a ratio, its
/// numerator and denominator (a rolled-up child carries its summed parts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Part {
    pub value: Option<Decimal>,
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
}

/// The result of rolling up one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollUp {
    /// A value, full precision, with the summed parts for a ratio (so a grandparent can use them).
    Value {
        value: Decimal,
        numerator: Option<Decimal>,
        denominator: Option<Decimal>,
    },
    /// N/A: these children (positions in the input) have no usable value: no value at all
    /// (not sent, suppressed, or themselves N/A), or for a ratio no numerator and denominator.
    /// Empty when every child had one but the arithmetic is impossible (a zero denominator,
    /// overflow) or there are no children.
    Missing(Vec<usize>),
    /// `aggregate: none`: no roll-up at all.
    None,
}

/// Roll up the children's parts (SPEC 4.6).
pub fn roll_up(aggregate: Aggregate, scale: Decimal, children: &[Part]) -> RollUp {
    if aggregate == Aggregate::None {
        return RollUp::None;
    }
    if children.is_empty() {
        return RollUp::Missing(Vec::new());
    }
    let unusable: Vec<usize> = children
        .iter()
        .enumerate()
        .filter(|(_, p)| match aggregate {
            Aggregate::Ratio => {
                p.value.is_none() || p.numerator.is_none() || p.denominator.is_none()
            }
            _ => p.value.is_none(),
        })
        .map(|(i, _)| i)
        .collect();
    if !unusable.is_empty() {
        return RollUp::Missing(unusable);
    }
    let sum = |f: fn(&Part) -> Option<Decimal>| {
        children
            .iter()
            .try_fold(Decimal::ZERO, |acc, p| acc.checked_add(f(p)?))
    };
    match aggregate {
        Aggregate::Sum => match sum(|p| p.value) {
            Some(value) => RollUp::Value {
                value,
                numerator: None,
                denominator: None,
            },
            None => RollUp::Missing(Vec::new()),
        },
        Aggregate::Ratio => {
            let (Some(n), Some(d)) = (sum(|p| p.numerator), sum(|p| p.denominator)) else {
                return RollUp::Missing(Vec::new());
            };
            if d.is_zero() {
                return RollUp::Missing(Vec::new());
            }
            // Multiply first for precision; divide first only if that overflows.
            let value = n
                .checked_mul(scale)
                .and_then(|x| x.checked_div(d))
                .or_else(|| n.checked_div(d).and_then(|q| q.checked_mul(scale)));
            match value {
                Some(value) => RollUp::Value {
                    value,
                    numerator: Some(n),
                    denominator: Some(d),
                },
                None => RollUp::Missing(Vec::new()),
            }
        }
        Aggregate::None => RollUp::None,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::{roll_up, Part, RollUp};
    use crate::framework::Aggregate;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn part(v: &str, n: Option<&str>, den: Option<&str>) -> Part {
        Part {
            value: Some(d(v)),
            numerator: n.map(d),
            denominator: den.map(d),
        }
    }

    #[test]
    fn sum_adds() {
        let r = roll_up(
            Aggregate::Sum,
            d("1"),
            &[
                part("45", None, None),
                part("70", None, None),
                part("97", None, None),
            ],
        );
        assert_eq!(
            r,
            RollUp::Value {
                value: d("212"),
                numerator: None,
                denominator: None
            }
        );
    }

    #[test]
    fn ratio_divides_sums_never_averages() {
        // 10/100 = 10% and 90/300 = 30%: the average would be 20%, the roll-up is 100/400 = 25%
        let r = roll_up(
            Aggregate::Ratio,
            d("100"),
            &[
                part("10", Some("10"), Some("100")),
                part("30", Some("90"), Some("300")),
            ],
        );
        assert_eq!(
            r,
            RollUp::Value {
                value: d("25"),
                numerator: Some(d("100")),
                denominator: Some(d("400"))
            }
        );
    }

    #[test]
    fn missing_children_named() {
        let r = roll_up(
            Aggregate::Ratio,
            d("100"),
            &[
                part("10", Some("10"), Some("100")),
                Part::default(),
                part("5", None, None),
            ],
        );
        assert_eq!(r, RollUp::Missing(vec![1, 2]));
        let r = roll_up(
            Aggregate::Sum,
            d("1"),
            &[Part::default(), part("5", None, None)],
        );
        assert_eq!(r, RollUp::Missing(vec![0]));
        let r = roll_up(Aggregate::Ratio, d("1"), &[part("0", Some("0"), Some("0"))]);
        assert_eq!(r, RollUp::Missing(vec![]));
        assert_eq!(
            roll_up(Aggregate::None, d("1"), &[part("5", None, None)]),
            RollUp::None
        );
    }
}
