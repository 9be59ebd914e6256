//! SPEC 4.1: the target of an indicator in an area for a period. Not RAG (see `rag`).

use rust_decimal::Decimal;

use super::rag::Target;
use crate::framework::{Indicator, Measure};
use crate::period::Period;

/// The target that applies to `period` in `area`: the area's own `area_targets` if it has
/// them, else the indicator's `targets`. A target keyed by the exact period wins; otherwise the
/// year's target applies to every period of the year (snapshot) or pro rata to the share of the
/// year elapsed at the period's end (cumulative: Q1 1/4, H1 1/2, month m m/12). Full
/// precision: a monthly pro rata target of 100 at month 1 is 8.333… (renderers round).
pub fn target_for(indicator: &Indicator, area: usize, period: Period) -> Option<Decimal> {
    exact_target_for(indicator, area, period)?.approx()
}

/// [`target_for`] as an exact fraction: a pro rata target is the year's target times the
/// periods elapsed, over the periods in the year (40 at month 7: 280/12, which is 23.33…).
pub fn exact_target_for(indicator: &Indicator, area: usize, period: Period) -> Option<Target> {
    let targets = &indicator.targets_for(area).0;
    if let Some(t) = targets.get(&period) {
        return Some(Target::whole(*t));
    }
    let year_target = *targets.get(&period.year())?;
    match indicator.measure {
        Measure::Snapshot => Some(Target::whole(year_target)),
        Measure::Cumulative => {
            let (done, of) = period.elapsed();
            if of == 0 {
                return None;
            }
            if done == of {
                // The year's end: the year's target, exactly.
                return Some(Target::whole(year_target));
            }
            Some(Target {
                num: year_target.checked_mul(Decimal::from(done))?,
                den: u32::from(of),
            })
        }
    }
}

/// `target` (the target of `period` in `area`) as shown: as written in the framework. A target
/// computed pro rata is rounded half away from zero, trailing zeros removed, to four places,
/// or to two more than the year's target is written with when that is more (a share of a
/// year is at least 1/12 of it, so a target that is not 0 is never shown as 0): 100 x 1/12 is
/// shown 8.3333, 95 x 2/4 47.5, 0.00002 x 1/12 0.0000017. At the year's end a cumulative
/// target is the year's, as written.
pub fn shown(indicator: &Indicator, area: usize, period: Period, target: Decimal) -> Decimal {
    if indicator.measure == Measure::Snapshot {
        return target;
    }
    let (done, of) = period.elapsed();
    let targets = &indicator.targets_for(area).0;
    if done == of || targets.contains_key(&period) {
        return target;
    }
    let places = targets
        .get(&period.year())
        .map_or(4, |year| (year.scale() + 2).max(4));
    super::round_out(target, places)
}
