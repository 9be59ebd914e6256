//! SPEC 4.1: the target of an indicator in an area for a period. Not RAG (see `rag`).

use rust_decimal::Decimal;

use crate::framework::{Indicator, Measure};
use crate::period::Period;

/// The target that applies to `period` in `area`: the area's own `area_targets` if it has
/// them, else the indicator's `targets`. A target keyed by the exact period wins; otherwise the
/// year's target applies to every period of the year (snapshot) or pro rata to the share of the
/// year elapsed at the period's end (cumulative: Q1 1/4, H1 1/2, month m m/12). Full
/// precision: a monthly pro rata target of 100 at month 1 is 8.333… (renderers round).
pub fn target_for(indicator: &Indicator, area: usize, period: Period) -> Option<Decimal> {
    let targets = &indicator.targets_for(area).0;
    if let Some(t) = targets.get(&period) {
        return Some(*t);
    }
    let year_target = *targets.get(&period.year())?;
    match indicator.measure {
        Measure::Snapshot => Some(year_target),
        Measure::Cumulative => {
            let (done, of) = period.elapsed();
            if of == 0 {
                return None;
            }
            year_target
                .checked_mul(Decimal::from(done))?
                .checked_div(Decimal::from(of))
        }
    }
}
