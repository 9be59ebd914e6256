//! Completeness (SPEC 3, `pmf validate --period P`): which returns were due when P ended, which
//! are missing once their deadline has passed, and which arrived late.
//!
//! Due at P, for each indicator: the months of P for a monthly one, else its one period that
//! ends with P (a quarterly indicator's P, or its last quarter when P is a half or a year; a half
//! at the half-year's end, a year at the year's end), for every area that has ever sent the
//! indicator a return (or the default area), each due `deadline_days` after its period ends.

use chrono::{Days, NaiveDate};
use rustc_hash::{FxHashMap, FxHashSet};

use super::Returns;
use crate::diag::{Code, Diagnostic};
use crate::framework::Framework;
use crate::period::Period;

/// Missing and late returns due at `period`, judged on `as_of`, among the observations.
pub fn check(
    framework: &Framework,
    returns: &Returns,
    period: Period,
    as_of: NaiveDate,
) -> Vec<Diagnostic> {
    // Only the returns of the periods due matter: index those, not every row (at national
    // scale that is tens of millions of rows against a few hundred thousand due).
    let due = due_at(framework, period);
    let n_areas = framework.areas.len();
    let mut areas_sent: Vec<Vec<usize>> = vec![Vec::new(); framework.indicators.len()];
    // Which (indicator, area) pairs have sent anything: a flat bit per pair when that is
    // small, else a set.
    let dense = framework.indicators.len().saturating_mul(n_areas) <= 64_000_000;
    let mut seen_area: FxHashSet<(u32, u32)> = FxHashSet::default();
    let mut sent: FxHashMap<(u32, u32, i32, u8), usize> = FxHashMap::default();
    let is_due = |o: &super::Observation| {
        due.get(o.indicator as usize).is_some_and(|d| {
            d.iter()
                .any(|p| p.seq() == o.period.seq() && p.frequency() == o.period.frequency())
        })
    };
    let obs = &returns.observations;
    // The returns due, when `dense`: a cell per (indicator, period due, area), holding the
    // last observation of that key plus one (0: none), laid out indicator by indicator.
    let mut due_base: Vec<usize> = Vec::with_capacity(due.len());
    let mut cells = 0usize;
    for d in &due {
        due_base.push(cells);
        cells = cells.saturating_add(d.len().saturating_mul(n_areas));
    }
    let dense = dense && cells <= 64_000_000 && obs.len() < u32::MAX as usize;
    let mut due_cells: Vec<u32> = Vec::new();
    if dense {
        // Tens of millions of rows at national scale: marked on every core, in a flat table
        // rather than a map (a map's million inserts took most of a second on one core).
        // Which pairs have sent something does not depend on the order, and the last of a
        // repeated key wins, as in file order, by keeping the largest index.
        use rayon::prelude::*;
        use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
        let seen: Vec<AtomicBool> = (0..framework.indicators.len() * n_areas)
            .map(|_| AtomicBool::new(false))
            .collect();
        let last: Vec<AtomicU32> = (0..cells).map(|_| AtomicU32::new(0)).collect();
        obs.par_iter().enumerate().for_each(|(i, o)| {
            let (ii, area) = (o.indicator as usize, o.area as usize);
            if ii >= due.len() || area >= n_areas {
                return; // not an indicator or area of the framework: cannot be due
            }
            seen[ii * n_areas + area].store(true, Ordering::Relaxed);
            let same =
                |p: &Period| p.seq() == o.period.seq() && p.frequency() == o.period.frequency();
            if let Some(k) = due[ii].iter().position(same) {
                last[due_base[ii] + k * n_areas + area].fetch_max(i as u32 + 1, Ordering::Relaxed);
            }
        });
        for (cell, s) in seen.iter().enumerate() {
            if s.load(Ordering::Relaxed) {
                areas_sent[cell / n_areas].push(cell % n_areas);
            }
        }
        due_cells = last.into_iter().map(AtomicU32::into_inner).collect();
    }
    if !dense {
        for (i, o) in obs.iter().enumerate() {
            let first = seen_area.insert((o.indicator, o.area));
            if first && (o.indicator as usize) < areas_sent.len() {
                areas_sent[o.indicator as usize].push(o.area as usize);
            }
            if is_due(o) {
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
        }
    }
    let found = |ii: usize, k: usize, area: usize, due: Period| {
        let i = if dense {
            match due_cells[due_base[ii] + k * n_areas + area] {
                0 => None,
                i => Some(i as usize - 1),
            }
        } else {
            sent.get(&(ii as u32, area as u32, due.seq(), due.frequency() as u8))
                .copied()
        };
        i.map(|i| {
            let o = &obs[i];
            Found {
                file: o.file,
                line: o.line,
                info: o.info,
            }
        })
    };
    let rows = Rows {
        files: &returns.files,
        date_columns: &returns.date_columns,
        infos: &returns.infos,
    };
    judge(
        framework,
        &due,
        areas_sent,
        found,
        &returns.sent,
        &rows,
        as_of,
    )
}

/// Each indicator's periods due at `period`.
pub(crate) fn due_at(framework: &Framework, period: Period) -> Vec<Vec<Period>> {
    framework
        .indicators
        .iter()
        .map(|ind| period.due_at(ind.frequency))
        .collect()
}

/// The row kept for a key due: where it is, and its optional columns.
pub(crate) struct Found {
    pub file: u32,
    pub line: u32,
    /// An index into [`Rows::infos`].
    pub info: u32,
}

/// The tables a [`Found`] row indexes.
pub(crate) struct Rows<'a> {
    pub files: &'a [String],
    pub date_columns: &'a [u32],
    pub infos: &'a [super::RowInfo],
}

/// The rule, whatever found the rows: for each indicator, each period `due` and each area in
/// `areas_sent` (per indicator, the areas with any row kept) or among the rows `sent` but not
/// kept with a value (the default area when none), the return is missing when
/// `found(indicator, k, area, due[k])` has no row, no row of it was sent, and the deadline has
/// passed; late when the kept row's `submitted_on` is after it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge(
    framework: &Framework,
    due: &[Vec<Period>],
    mut areas_sent: Vec<Vec<usize>>,
    found: impl Fn(usize, usize, usize, Period) -> Option<Found>,
    sent: &[super::Sent],
    rows: &Rows,
    as_of: NaiveDate,
) -> Vec<Diagnostic> {
    // The rows sent but not kept: few (each has a problem record of its own).
    let key = |ii: usize, area: usize, p: Period| (ii, area, p.seq(), p.frequency());
    let sent_keys: FxHashSet<_> = sent
        .iter()
        .map(|s| key(s.indicator as usize, s.area as usize, s.period))
        .collect();
    for s in sent.iter().filter(|s| s.valued) {
        if let Some(areas) = areas_sent.get_mut(s.indicator as usize) {
            if (s.area as usize) < framework.areas.len() {
                areas.push(s.area as usize);
            }
        }
    }
    let mut out = Vec::new();
    for (ii, ind) in framework.indicators.iter().enumerate() {
        let mut areas = areas_sent.get(ii).cloned().unwrap_or_default();
        if areas.is_empty() {
            areas.push(framework.default_area());
        }
        areas.sort_unstable();
        areas.dedup();
        let provider = ind.provider.map(|o| {
            format!(
                "{} ({})",
                framework.organisations[o].name, framework.organisations[o].code
            )
        });
        let lead = ind.lead.as_ref().map(|l| l.name.as_str());
        let who = match (&provider, lead) {
            (Some(p), Some(l)) => format!("provider {p}, lead {l}"),
            (Some(p), None) => format!("provider {p}, no lead named"),
            (None, Some(l)) => format!("no provider named, lead {l}"),
            (None, None) => "no provider or lead named".to_string(),
        };
        let ask = match (&provider, lead) {
            (Some(p), _) => format!("ask {p}"),
            (None, Some(l)) => format!("ask the lead, {l},"),
            (None, None) => "name a provider in the framework and ask it".to_string(),
        };
        for (k, &due) in due.get(ii).into_iter().flatten().enumerate() {
            let deadline = due
                .end_date()
                .checked_add_days(Days::new(u64::from(framework.deadline_days)))
                .unwrap_or(NaiveDate::MAX);
            for &area in &areas {
                let ac = &framework.areas[area].code;
                match found(ii, k, area, due) {
                    None if sent_keys.contains(&key(ii, area, due)) => {}
                    None => {
                        if as_of > deadline {
                            out.push(
                                Diagnostic::new(
                                    Code::MissingReturn,
                                    "",
                                    format!("no return for {} in {ac} for {due}, due by {deadline}: {who}", ind.code),
                                )
                                .indicator(ind.code.clone())
                                .area(ac.clone())
                                .period(due.to_string())
                                .help(format!("{ask} for the {due} figure for `{}` ({})", ind.code, ind.name)),
                            );
                        }
                    }
                    Some(row) => {
                        let on = rows
                            .infos
                            .get(row.info as usize)
                            .and_then(|i| i.submitted_on);
                        if let Some(on) = on {
                            if on > deadline {
                                let days = (on - deadline).num_days();
                                let plural = if days == 1 { "" } else { "s" };
                                out.push(
                                    Diagnostic::new(
                                        Code::LateReturn,
                                        &rows.files[row.file as usize],
                                        format!("{} {ac} {due} was due by {deadline} and arrived on {on}, {days} day{plural} late: {who}", ind.code),
                                    )
                                    .at(row.line, rows.date_columns.get(row.file as usize).copied().unwrap_or(0))
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
