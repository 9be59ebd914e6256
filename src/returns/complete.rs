//! Completeness (SPEC 3, `pmf validate --period P`): which returns were due when P ended, which
//! are missing once their deadline has passed, and which arrived late.
//!
//! Due at P, for each indicator: its periods that end within P (the months of a quarter) or its
//! one period that ends with P (a half at the half-year's end, a year at the year's end), for
//! every area that has ever sent the indicator a return (or the default area), each due
//! `deadline_days` after its period ends.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};

use super::Returns;
use crate::diag::{Code, Diagnostic};
use crate::framework::Framework;
use crate::period::Period;

/// Missing and late returns due at `period`, judged on `as_of`.
pub fn check(
    framework: &Framework,
    returns: &Returns,
    period: Period,
    as_of: NaiveDate,
) -> Vec<Diagnostic> {
    let mut areas_sent: Vec<Vec<usize>> = vec![Vec::new(); framework.indicators.len()];
    let mut seen_area: HashSet<(u32, u32)> = HashSet::new();
    let mut sent: HashMap<(u32, u32, i32, u8), usize> = HashMap::new();
    for (i, o) in returns.observations.iter().enumerate() {
        if seen_area.insert((o.indicator, o.area)) {
            areas_sent[o.indicator as usize].push(o.area as usize);
        }
        sent.insert(
            (
                o.indicator,
                o.area,
                o.period.seq(),
                o.period.frequency() as u8,
            ),
            i,
        );
    }
    let mut out = Vec::new();
    for (ii, ind) in framework.indicators.iter().enumerate() {
        let mut areas = areas_sent[ii].clone();
        if areas.is_empty() {
            areas.push(framework.default_area());
        }
        areas.sort_unstable();
        let provider = match ind.provider {
            Some(o) => format!(
                "{} ({})",
                framework.organisations[o].name, framework.organisations[o].code
            ),
            None => "no provider named".to_string(),
        };
        let lead = ind
            .lead
            .as_ref()
            .map_or("no lead named".to_string(), |l| l.name.clone());
        for due in period.due_at(ind.frequency) {
            let deadline = due
                .end_date()
                .checked_add_days(Days::new(u64::from(framework.deadline_days)))
                .unwrap_or(NaiveDate::MAX);
            for &area in &areas {
                let ac = &framework.areas[area].code;
                match sent.get(&(ii as u32, area as u32, due.seq(), due.frequency() as u8)) {
                    None => {
                        if as_of > deadline {
                            out.push(
                                Diagnostic::new(
                                    Code::MissingReturn,
                                    "",
                                    format!("no return for {} in {ac} for {due}, due by {deadline}: provider {provider}, lead {lead}", ind.code),
                                )
                                .indicator(ind.code.clone())
                                .area(ac.clone())
                                .period(due.to_string())
                                .help(format!("ask {provider} for the {due} figure for `{}` ({})", ind.code, ind.name)),
                            );
                        }
                    }
                    Some(&o) => {
                        let obs = &returns.observations[o];
                        if let Some(on) = obs.submitted_on() {
                            if on > deadline {
                                let days = (on - deadline).num_days();
                                let plural = if days == 1 { "" } else { "s" };
                                out.push(
                                    Diagnostic::new(
                                        Code::LateReturn,
                                        &returns.files[obs.file as usize],
                                        format!("{} {ac} {due} was due by {deadline} and arrived on {on}, {days} day{plural} late: provider {provider}, lead {lead}", ind.code),
                                    )
                                    .at(obs.line, returns.date_columns.get(obs.file as usize).copied().unwrap_or(0))
                                    .indicator(ind.code.clone())
                                    .area(ac.clone())
                                    .period(due.to_string()),
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    out
}
