//! SPEC 4.3: direction of travel. Which earlier period a value is compared with, and the
//! comparison itself. No fallback: a missing comparison value gives `n/a`.

use rust_decimal::Decimal;

use super::Direction;
use crate::framework::{Measure, Polarity};
use crate::period::Period;

/// The period a value is compared with: the immediately previous period of the same
/// frequency for a snapshot measure, the same period of the previous year for a cumulative one.
pub fn comparison_period(measure: Measure, period: Period) -> Option<Period> {
    match measure {
        Measure::Snapshot => period.prev(),
        Measure::Cumulative => period.same_period_last_year(),
    }
}

/// Direction of `current` against `earlier`: `n/a` when either is missing or polarity is
/// `none`; equal values are `no change`.
pub fn direction(
    polarity: Polarity,
    current: Option<Decimal>,
    earlier: Option<Decimal>,
) -> Direction {
    let (Some(now), Some(then)) = (current, earlier) else {
        return Direction::NA;
    };
    let better = match polarity {
        Polarity::Higher => super::cmp_decimal(now, then),
        Polarity::Lower => super::cmp_decimal(then, now),
        Polarity::None => return Direction::NA,
    };
    match better {
        std::cmp::Ordering::Greater => Direction::Improving,
        std::cmp::Ordering::Less => Direction::Worsening,
        std::cmp::Ordering::Equal => Direction::NoChange,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::{comparison_period, direction};
    use crate::assess::Direction;
    use crate::framework::{Measure, Polarity};
    use crate::period::{Frequency, Period, YearStart};

    fn d(s: &str) -> Option<Decimal> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn compares_by_polarity() {
        assert_eq!(
            direction(Polarity::Higher, d("5"), d("4")),
            Direction::Improving
        );
        assert_eq!(
            direction(Polarity::Lower, d("5"), d("4")),
            Direction::Worsening
        );
        assert_eq!(
            direction(Polarity::Lower, d("5.0"), d("5")),
            Direction::NoChange
        );
        assert_eq!(direction(Polarity::Higher, d("5"), None), Direction::NA);
        assert_eq!(direction(Polarity::Higher, None, d("5")), Direction::NA);
        assert_eq!(direction(Polarity::None, d("5"), d("4")), Direction::NA);
    }

    #[test]
    fn snapshot_against_previous_cumulative_against_last_year() {
        let q2 = Period::new(YearStart::April, Frequency::Quarterly, 2025, 2).unwrap();
        let q1 = Period::new(YearStart::April, Frequency::Quarterly, 2025, 1).unwrap();
        let q2_ly = Period::new(YearStart::April, Frequency::Quarterly, 2024, 2).unwrap();
        assert_eq!(comparison_period(Measure::Snapshot, q2), Some(q1));
        assert_eq!(comparison_period(Measure::Cumulative, q2), Some(q2_ly));
        // riverside NI 111 (lower, YTD): 38 at 2025/26 Q2 against 31 at 2024/25 Q2
        assert_eq!(
            direction(Polarity::Lower, d("38"), d("31")),
            Direction::Worsening
        );
        let m1 = Period::new(YearStart::April, Frequency::Monthly, 2025, 1).unwrap();
        assert_eq!(
            comparison_period(Measure::Snapshot, m1).map(|p| p.to_string()),
            Some("2025-03".into())
        );
    }
}
