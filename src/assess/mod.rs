//! The rules of SPEC 4 as pure, total functions over the validated model: targets, RAG,
//! direction of travel, escalation, forecasts and area roll-ups, in exact decimals.
//!
//! [`assess`] turns a framework and its returns into an [`Assessment`]: one [`Row`] per
//! indicator and area that has at least one value (sent or rolled up), each carrying everything
//! every output format shows. Renderers never do arithmetic of their own: they read these rows.
//! A missing value is a state (`None`, `Rag::NA`), never an error.

pub mod direction;
pub mod escalation;
pub mod forecast;
pub mod rag;
pub mod rollup;
pub mod targets;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::framework::{Aggregate, Framework, Indicator, Measure};
use crate::period::Period;
use crate::returns::{Observation, Prediction, Returns, Status};

/// RAG status (SPEC 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rag {
    Red,
    Amber,
    Green,
    Blue,
    /// Not applicable: polarity `none`, no target, or no value.
    NA,
}

impl Rag {
    pub const ALL: [Rag; 5] = [Rag::Red, Rag::Amber, Rag::Green, Rag::Blue, Rag::NA];

    /// `RED|AMBER|GREEN|BLUE|N/A`, as in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Red => "RED",
            Rag::Amber => "AMBER",
            Rag::Green => "GREEN",
            Rag::Blue => "BLUE",
            Rag::NA => "N/A",
        }
    }
}

/// Direction of travel (SPEC 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Improving,
    Worsening,
    NoChange,
    /// The comparable earlier value is missing, or polarity is `none`.
    NA,
}

impl Direction {
    /// `improving|worsening|no change|n/a`, as in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Improving => "improving",
            Direction::Worsening => "worsening",
            Direction::NoChange => "no change",
            Direction::NA => "n/a",
        }
    }
}

/// How a forecast was made (SPEC 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// The forecast period already has its value.
    Actual,
    /// Cumulative measure: value * periods in year / periods elapsed.
    RunRate,
    /// The last value.
    Last,
    /// The mean of the last `window` values.
    Mean,
    /// The least-squares line through the last `window` values, extrapolated.
    Trend,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Actual => "actual",
            Method::RunRate => "run-rate",
            Method::Last => "last",
            Method::Mean => "mean",
            Method::Trend => "trend",
        }
    }
}

/// A forecast for one period with its target and verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    /// The period forecast: the last of the report year at the indicator's frequency (or the
    /// plan's last period, for a plan forecast).
    pub period: Period,
    pub value: Decimal,
    pub method: Method,
    /// The target of the forecast period, when there is one.
    pub target: Option<Decimal>,
    /// `None` when there is no target or polarity is `none`.
    pub on_track: Option<bool>,
    /// Share of back-test errors that would still meet the target (0-1, two decimals), when
    /// the chosen candidate has at least `min_backtests` errors.
    pub confidence: Option<Decimal>,
    /// 10th and 90th percentiles of forecast + back-test error, under the same condition as
    /// `confidence`. Made only for the focus area's rows (the ones the table and the book
    /// describe): only the book shows it (beside each hot spot's forecast), and at national
    /// scale sorting the errors of every forecast costs seconds.
    pub interval: Option<(Decimal, Decimal)>,
}

/// Where a row's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The area's own return.
    Reported,
    /// Rolled up from child areas (SPEC 4.6).
    RolledUp,
    /// The return was sent with a suppression marker.
    Suppressed,
    /// No value: nothing was sent, or a roll-up lacked these children (area indices).
    Missing { children: Vec<usize> },
}

/// One point of a row's history, for trend charts and sparklines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub period: Period,
    pub value: Option<Decimal>,
    pub target: Option<Decimal>,
}

/// Everything shown for one indicator in one area at the report period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Index into `Framework::indicators`.
    pub indicator: usize,
    /// Index into `Framework::areas`.
    pub area: usize,
    /// The indicator's own latest period ending on or before the report period's end.
    pub period: Period,
    pub value: Option<Decimal>,
    pub source: Source,
    pub target: Option<Decimal>,
    /// (value - target) / |target| * 100, polarity-aware; `None` without value or target.
    pub deviation_pct: Option<Decimal>,
    pub rag: Rag,
    pub direction: Direction,
    /// Escalation stage 0-3 (SPEC 4.4).
    pub stage: u8,
    /// Not boxed: rows are made and written an indicator at a time (a national report never
    /// holds them all), and two allocations a row cost more than the bytes.
    pub forecast: Option<Forecast>,
    pub plan_forecast: Option<Forecast>,
    /// From the reported period's return.
    pub prediction: Option<Prediction>,
    /// Yes when the lead's prediction disagrees with `forecast.on_track`.
    pub challenge: Option<bool>,
    pub status: Option<Status>,
    pub commentary: Option<String>,
    pub action_plan: Option<bool>,
    /// BLUE, or improving at this period and the one before.
    pub commended: bool,
    /// Whether the indicator has at least one value in this area (sent or rolled up) up to
    /// the report period. Rows without are kept only for the focus area, so every indicator
    /// appears in the table and the book; the CSV and JSON list only rows with a value.
    pub has_value: bool,
    /// Whether the area has sent the indicator a return (a value or a suppression marker) up
    /// to the report period: then its returns are due (SPEC 3), as `validate` judges them.
    pub returned: bool,
    /// Up to the last 8 periods of the indicator's frequency up to `period`, oldest first; kept
    /// for the focus area's rows only (the ones the book charts), empty for the others.
    pub history: Vec<Point>,
}

/// What to assess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The report period.
    pub period: Period,
    /// "Today" (`--as-of`).
    pub as_of: NaiveDate,
    /// The area every indicator gets a row for, with or without data (the default area, or
    /// `--area`).
    pub focus_area: usize,
}

/// The whole computation at one report period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The report period (a quarter, or a year reported at its end).
    pub period: Period,
    /// "Today": the date the report is produced, from `--as-of`.
    pub as_of: NaiveDate,
    /// Ordered as the framework orders indicators, then areas in framework order.
    pub rows: Vec<Row>,
}

/// Round for output: `dp` places, half away from zero, trailing zeros stripped.
pub fn round_out(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// `a.cmp(&b)`, exactly, quickly when the two have the same scale (a value and its target
/// usually do): their mantissas are then in the same units. A national report makes tens of
/// millions of these comparisons (RAG, direction, every period of the escalation walk).
#[inline]
pub fn cmp_decimal(a: Decimal, b: Decimal) -> std::cmp::Ordering {
    if a.scale() == b.scale() {
        // -0 and 0 both have mantissa 0, and are equal as decimals too.
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(&b)
    }
}

/// Round to exactly `dp` places, half away from zero (0.5 is shown 0.50); never `-0.00`.
pub fn round_fixed(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    if r.is_zero() {
        r = Decimal::ZERO;
    }
    r.rescale(dp);
    r
}

/// Where an entry of a series came from (the model of [`Source`], with the observation).
///
/// Plain data (no heap), so an indicator's thousands of series are freed without a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The area's own return (index into the returns' observations).
    Own(u32),
    RolledUp,
    /// A roll-up that lacked some children: an index into [`Built::missing`], the list of
    /// their area indices.
    Missing(u32),
}

/// One period of one indicator in one area: a value, sent or rolled up, or its absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    seq: i32,
    /// Full precision (ratio roll-ups are rounded only when shown).
    value: Option<Decimal>,
    origin: Origin,
    /// Index into [`Store::parts`] of the numerator and denominator, or [`NO_PARTS`]: only
    /// ratios have them, so they are kept beside the entries (36 bytes each, not 72).
    parts: u32,
}

/// An [`Entry`] without a numerator or a denominator.
const NO_PARTS: u32 = u32::MAX;

/// One indicator's entries in one area, sorted by `seq`, at most one per period: a slice of
/// its [`Store`].
#[derive(Debug, Clone, Copy, Default)]
struct Series<'a>(&'a [Entry]);

impl<'a> Series<'a> {
    fn get(self, seq: i32) -> Option<&'a Entry> {
        // Entries are sorted by period, one per period, and nearly always without a gap: the
        // entry is then as far from the first as its period is. Else it is searched for.
        let first = self.0.first()?.seq;
        let at = seq
            .checked_sub(first)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| self.0.get(k));
        match at {
            Some(e) if e.seq == seq => Some(e),
            _ => self
                .0
                .binary_search_by_key(&seq, |e| e.seq)
                .ok()
                .map(|i| &self.0[i]),
        }
    }
    fn value(self, seq: i32) -> Option<Decimal> {
        self.get(seq).and_then(|e| e.value)
    }
}

/// Every area's series of one indicator in one buffer, each area's entries together: built
/// area by area as the returns come, so a parent's children lie side by side for its
/// roll-up, and an indicator's thousands of series are one allocation, not one each.
#[derive(Debug, Clone, Default)]
struct Store {
    entries: Vec<Entry>,
    /// The entries' numerators and denominators (see [`Entry::parts`]).
    parts: Vec<crate::returns::Parts>,
    /// Per area, where its entries start in `entries` and how many there are.
    spans: Vec<(u32, u32)>,
}

impl Store {
    fn new(n_areas: usize) -> Store {
        Store {
            entries: Vec::new(),
            parts: Vec::new(),
            spans: vec![(0, 0); n_areas],
        }
    }

    /// An entry's numerator and denominator.
    fn parts_of(&self, e: &Entry) -> crate::returns::Parts {
        self.parts
            .get(e.parts as usize)
            .copied()
            .unwrap_or_default()
    }

    /// Keeps a numerator and a denominator; the index for [`Entry::parts`].
    fn keep_parts(&mut self, p: crate::returns::Parts) -> u32 {
        if p.numerator.is_none() && p.denominator.is_none() {
            return NO_PARTS;
        }
        self.parts.push(p);
        (self.parts.len() - 1) as u32
    }

    fn series(&self, area: usize) -> Series<'_> {
        Series(self.spans.get(area).map_or(&[][..], |&(start, len)| {
            let start = start as usize;
            &self.entries[start..start + len as usize]
        }))
    }

    /// Appends an entry to `area`'s series, which must be the last one begun.
    fn push(&mut self, area: usize, entry: Entry) {
        let at = self.entries.len() as u32;
        let span = &mut self.spans[area];
        if span.1 == 0 {
            span.0 = at;
        }
        span.1 += 1;
        self.entries.push(entry);
    }

    /// Adds entries of other periods to `area`'s series, keeping it sorted by period: the
    /// series is moved to the end of the buffer with them.
    fn add(&mut self, area: usize, added: &[Entry]) {
        let (start, len) = self.spans[area];
        let at = self.entries.len();
        let (start, len) = (start as usize, len as usize);
        self.entries.extend_from_within(start..start + len);
        self.entries.extend_from_slice(added);
        self.entries[at..].sort_by_key(|e| e.seq);
        self.spans[area] = (at as u32, (len + added.len()) as u32);
    }

    /// Each area's series, for tests.
    #[cfg(test)]
    fn all(&self) -> Vec<&[Entry]> {
        (0..self.spans.len()).map(|a| self.series(a).0).collect()
    }
}

/// Assess every indicator in every area at `options.period` (SPEC 4), in framework order.
/// Returns after the report period are ignored: a report at 2024/25 Q2 is what the board
/// would have seen then.
pub fn assess(framework: &Framework, returns: &Returns, options: &Options) -> Assessment {
    assess_owned(framework, returns.clone(), options)
}

/// [`assess`], consuming the returns (at national scale a gigabyte of observations, never
/// held twice).
pub fn assess_owned(framework: &Framework, returns: Returns, options: &Options) -> Assessment {
    assess_where(framework, returns, options, |_| true, || {})
}

/// [`assess_owned`], keeping only the rows `keep` accepts (the table and the book show a few
/// areas of thousands); `done` is called as each indicator's rows are taken (for progress).
pub fn assess_where(
    framework: &Framework,
    returns: Returns,
    options: &Options,
    keep: impl Fn(&Row) -> bool + Sync,
    done: impl Fn(),
) -> Assessment {
    let mut rows = Vec::new();
    let collected = assess_each(
        framework,
        returns,
        options,
        |rows| rows.filter(|r| keep(r)).collect::<Vec<_>>(),
        |r| {
            rows.extend(r);
            done();
            Ok(())
        },
    );
    debug_assert!(collected.is_ok(), "collecting rows cannot fail");
    Assessment {
        period: options.period,
        as_of: options.as_of,
        rows,
    }
}

/// Assess indicator by indicator: each indicator's rows (in framework area order) go to `work`
/// on one of the assessing threads (one per core), and what `work` makes goes to `each` on the
/// calling thread, in framework indicator order. So a national CSV can be rendered as it is
/// assessed, without ever holding a million rows; the first error from `each` stops it. The
/// rows are made one by one as `work` takes them, not gathered first (a national indicator's
/// rows together are megabytes).
pub fn assess_each<T: Send>(
    framework: &Framework,
    returns: Returns,
    options: &Options,
    work: impl Fn(&mut dyn Iterator<Item = Row>) -> T + Sync,
    each: impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let Returns {
        observations,
        parts,
        infos,
        runs,
        ..
    } = returns;
    let n = framework.indicators.len();
    // Each indicator's observations: the reader's runs when it found every indicator's
    // observations together (no pass over them here), else grouped.
    let (members, ranges) = match runs.filter(|r| r.len() == n) {
        Some(runs) => (None, runs),
        None => {
            let (members, ranges) = group_by_indicator(n, &observations);
            (Some(members), ranges)
        }
    };
    let tables = Tables {
        observations: &observations,
        parts: &parts,
        infos: &infos,
    };
    in_order(
        n,
        |ii| {
            let r = ranges[ii].start as usize..ranges[ii].end as usize;
            let of = match &members {
                Some(m) => Members::Listed(&m[r]),
                None => Members::Run(r),
            };
            work(&mut assess_indicator(framework, ii, of, &tables, options))
        },
        each,
    )
}

/// One indicator's observations, as indices into the observations, in file order.
#[derive(Debug, Clone)]
enum Members<'a> {
    /// Listed one by one.
    Listed(&'a [u32]),
    /// Consecutive.
    Run(std::ops::Range<usize>),
}

/// Each indicator's observations (indices, in file order), all in one list, and each
/// indicator's range of it: a counting sort, two passes and 4 bytes a row, whatever the order
/// the returns came in (a file per indicator, or a file per quarter).
fn group_by_indicator(
    n_indicators: usize,
    observations: &[Observation],
) -> (Vec<u32>, Vec<std::ops::Range<u32>>) {
    let mut ranges = vec![0..0; n_indicators];
    for o in observations {
        if let Some(r) = ranges.get_mut(o.indicator as usize) {
            r.end += 1;
        }
    }
    let mut start = 0;
    for r in &mut ranges {
        let len = r.end;
        *r = start..start;
        start += len;
    }
    let mut members = vec![0u32; start as usize];
    for (i, o) in observations.iter().enumerate() {
        if let Some(r) = ranges.get_mut(o.indicator as usize) {
            // Observations are indexed by u32 throughout (see `Observation::parts`).
            members[r.end as usize] = i as u32;
            r.end += 1;
        }
    }
    (members, ranges)
}

/// Runs `f(0)`, `f(1)`, ... `f(n - 1)` on one thread per core, a few at a time and roughly in
/// order, and hands the results to `each` on this thread in index order (so the outcome does not
/// depend on the scheduling). At most a few results wait for `each` at any time.
fn in_order<T: Send>(
    n: usize,
    f: impl Fn(usize) -> T + Sync,
    mut each: impl FnMut(T) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc;
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get().clamp(1, 16))
        .min(n.max(1));
    let in_flight = 4 * workers;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<(usize, T)>();
        let (slot_tx, slot_rx) = mpsc::sync_channel::<()>(in_flight);
        for _ in 0..workers {
            let (done_tx, slot_tx, next, stop, f) =
                (done_tx.clone(), slot_tx.clone(), &next, &stop, &f);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) || slot_tx.send(()).is_err() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || done_tx.send((i, f(i))).is_err() {
                    break;
                }
            });
        }
        drop((done_tx, slot_tx));
        // Dropped on the first error: the workers' next `send` fails and they end.
        let mut slots = Some(slot_rx);
        let mut waiting = std::collections::BTreeMap::new();
        let mut expected = 0;
        let mut result = Ok(());
        for (i, t) in done_rx {
            waiting.insert(i, t);
            while let Some(t) = waiting.remove(&expected) {
                expected += 1;
                let Some(rx) = &slots else { continue };
                let _ = rx.try_recv();
                result = each(t);
                if result.is_err() {
                    stop.store(true, Ordering::Relaxed);
                    slots = None;
                }
            }
        }
        result
    })
}

/// The observations and the side tables they index.
struct Tables<'a> {
    observations: &'a [Observation],
    parts: &'a [crate::returns::PackedParts],
    infos: &'a [crate::returns::RowInfo],
}

/// One indicator's rows in framework area order, from its observations (`members`, indices
/// in file order): its series are built at once, and each row made as it is asked for.
fn assess_indicator<'a>(
    framework: &'a Framework,
    ii: usize,
    members: Members<'_>,
    tables: &'a Tables<'a>,
    options: &'a Options,
) -> impl Iterator<Item = Row> + 'a {
    let indicator = &framework.indicators[ii];
    let report = options.period;
    // The series and targets, and the areas that can have rows (none when the indicator has
    // no period at or before the report's).
    let (prepared, touched) = match report.latest_at(indicator.frequency) {
        None => (None, Vec::new()),
        Some(shown) => {
            let Built {
                store,
                mut touched,
                missing,
            } = build_series(
                framework,
                indicator,
                tables.observations,
                members,
                tables.parts,
                shown.seq(),
            );
            let targets = TargetTable::new(framework, indicator, &store, &touched, shown, report);
            // Every other area's series is empty: only these can have rows (and the focus
            // area, which has one whatever it has).
            if let Err(at) = touched.binary_search(&options.focus_area) {
                if options.focus_area < store.spans.len() {
                    touched.insert(at, options.focus_area);
                }
            }
            (Some((shown, store, targets, missing)), touched)
        }
    };
    // One list of forecast points for every row, refilled.
    let mut points = Vec::new();
    touched.into_iter().filter_map(move |area| {
        let (shown, store, targets, missing) = prepared.as_ref()?;
        let s = store.series(area);
        let has_value = s.0.iter().any(|e| e.value.is_some());
        if !has_value && area != options.focus_area {
            return None;
        }
        Some(make_row(
            framework,
            ii,
            area,
            s,
            *shown,
            report,
            has_value,
            area == options.focus_area,
            tables.observations,
            tables.infos,
            targets,
            missing,
            &mut points,
        ))
    })
}

/// The targets of one indicator by period, computed once for every area (SPEC 4.1 by
/// [`targets::target_for`], unchanged): a row looks up a target for every period it walks,
/// and a cumulative target is a division, so at thousands of areas this is most of the
/// target work. Only for indicators without `area_targets` (else every area has its own) and
/// for periods of the indicator's frequency in the span its series cover; anything else is
/// computed directly.
struct TargetTable<'a> {
    indicator: &'a Indicator,
    year_start: crate::period::YearStart,
    first: i32,
    targets: Vec<Option<Decimal>>,
    /// The same targets as exact fractions (`targets::exact_target_for`), for comparisons.
    exact: Vec<Option<rag::Target>>,
    /// The same targets as shown (`targets::shown`).
    shown: Vec<Option<Decimal>>,
}

impl<'a> TargetTable<'a> {
    fn new(
        framework: &Framework,
        indicator: &'a Indicator,
        store: &Store,
        touched: &[usize],
        shown: Period,
        report: Period,
    ) -> TargetTable<'a> {
        let ys = framework.year_start;
        let freq = indicator.frequency;
        let mut table = TargetTable {
            indicator,
            year_start: ys,
            first: 0,
            targets: Vec::new(),
            exact: Vec::new(),
            shown: Vec::new(),
        };
        if !indicator.area_targets.is_empty() {
            return table;
        }
        let mut lo = shown.seq().saturating_sub(7);
        let mut hi = shown.seq();
        for s in touched.iter().map(|&a| store.series(a)) {
            if let (Some(a), Some(b)) = (s.0.first(), s.0.last()) {
                lo = lo.min(a.seq);
                hi = hi.max(b.seq);
            }
        }
        hi = hi.max(report.last_of_year_at(freq).seq());
        if let Some(plan) = framework.plan {
            hi = hi.max(plan.end.last_of_year_at(freq).seq());
        }
        if hi.saturating_sub(lo) > 100_000 {
            return table;
        }
        table.first = lo;
        table.exact = (lo..=hi)
            .map(|seq| {
                Period::from_seq(ys, freq, seq)
                    .and_then(|p| targets::exact_target_for(indicator, 0, p))
            })
            .collect();
        table.targets = table
            .exact
            .iter()
            .map(|t| t.and_then(rag::Target::approx))
            .collect();
        table.shown = (lo..=hi)
            .zip(&table.targets)
            .map(|(seq, t)| {
                let p = Period::from_seq(ys, freq, seq)?;
                t.map(|t| targets::shown(indicator, 0, p, t))
            })
            .collect();
        table
    }

    /// `targets::target_for(indicator, area, period)`.
    fn get(&self, area: usize, period: Period) -> Option<Decimal> {
        if let Some(t) = self.slot(period).and_then(|k| self.targets.get(k)) {
            return *t;
        }
        targets::target_for(self.indicator, area, period)
    }

    /// `targets::exact_target_for(indicator, area, period)`.
    fn get_exact(&self, area: usize, period: Period) -> Option<rag::Target> {
        if let Some(t) = self.slot(period).and_then(|k| self.exact.get(k)) {
            return *t;
        }
        targets::exact_target_for(self.indicator, area, period)
    }

    /// [`TargetTable::get_exact`] of the indicator's period `seq`, which the table nearly
    /// always holds: no period is made.
    #[inline]
    fn get_seq_exact(&self, area: usize, seq: i32) -> Option<rag::Target> {
        if let Some(t) = self.slot_of_seq(seq).and_then(|k| self.exact.get(k)) {
            return *t;
        }
        let p = Period::from_seq(self.year_start, self.indicator.frequency, seq)?;
        targets::exact_target_for(self.indicator, area, p)
    }

    /// `targets::shown`: the target `t` of `period` in `area` as shown (from the table when
    /// it holds the period, as `get`).
    fn shown(&self, area: usize, period: Period, t: Decimal) -> Decimal {
        if let Some(Some(shown)) = self.slot(period).and_then(|k| self.shown.get(k)) {
            return *shown;
        }
        targets::shown(self.indicator, area, period, t)
    }

    /// Where `period` would sit in the table: a period of the indicator's own frequency and
    /// year start, at or after the first (the table may still be shorter, or empty).
    fn slot(&self, period: Period) -> Option<usize> {
        (period.year_start() == self.year_start && period.frequency() == self.indicator.frequency)
            .then(|| self.slot_of_seq(period.seq()))
            .flatten()
    }

    /// [`TargetTable::slot`] of the indicator's period `seq`.
    #[inline]
    fn slot_of_seq(&self, seq: i32) -> Option<usize> {
        seq.checked_sub(self.first)
            .and_then(|k| usize::try_from(k).ok())
    }
}

/// One indicator's series, from [`build_series`].
struct Built {
    /// Every area's series.
    store: Store,
    /// The areas whose series may hold entries (with returns, or their ancestors), ascending.
    touched: Vec<usize>,
    /// The children each [`Origin::Missing`] roll-up lacked.
    missing: Vec<Vec<usize>>,
}

/// Every area's series for one indicator up to `max_seq`, from its observations (`members`):
/// own returns first, then roll-ups bottom-up (children before parents) where a parent has no
/// return of its own.
fn build_series(
    framework: &Framework,
    indicator: &Indicator,
    observations: &[Observation],
    members: Members<'_>,
    parts: &[crate::returns::PackedParts],
    max_seq: i32,
) -> Built {
    let n_areas = framework.areas.len();
    let ok = |o: &Observation| {
        o.period.frequency() == indicator.frequency
            && o.period.year_start() == framework.year_start
            && (o.area as usize) < n_areas
            && o.period.seq() <= max_seq
    };
    let entry = |i: usize, o: &Observation, store: &mut Store| Entry {
        seq: o.period.seq(),
        value: o.value(),
        origin: Origin::Own(i as u32),
        parts: if o.parts == crate::returns::NO_PARTS {
            NO_PARTS
        } else {
            store.keep_parts(crate::returns::parts_of(parts, o))
        },
    };
    let mut store = Store::new(n_areas);
    // The areas with returns, ascending.
    let mut own: Vec<usize> = Vec::new();
    // Returns sorted by area and period (as most are) are read straight into the series:
    // while each row's (area, period) is after the last one's, the rows are in the order
    // the sort below would give (with no repeats), and each area's run is counted ahead, so
    // its series is sized once.
    let mut in_order = false;
    let run = match &members {
        Members::Run(r) => observations.get(r.clone()).map(|rows| (r.start, rows)),
        Members::Listed(_) => None,
    };
    if let Some((first, rows)) = run {
        in_order = true;
        store.entries.reserve_exact(rows.len());
        let mut last: Option<(u32, i32)> = None;
        for (k, o) in rows.iter().enumerate() {
            if !ok(o) {
                continue;
            }
            let here = (o.area, o.period.seq());
            if last.is_some_and(|l| here <= l) {
                in_order = false;
                break;
            }
            if last.is_none_or(|l| l.0 != o.area) {
                own.push(o.area as usize);
            }
            last = Some(here);
            let e = entry(first + k, o, &mut store);
            store.push(o.area as usize, e);
        }
        if !in_order {
            for &a in &own {
                store.spans[a] = (0, 0);
            }
            store.entries.clear();
            store.parts.clear();
            own.clear();
        }
    }
    if !in_order {
        // (area, period, file, line, index): the file and line put repeats in file order.
        type Key = (u32, i32, u32, u32, usize);
        let key = |i: usize| {
            let o = observations.get(i)?;
            ok(o).then(|| (o.area, o.period.seq(), o.file, o.line, i))
        };
        let mut keyed: Vec<Key> = match members {
            Members::Listed(m) => m.iter().filter_map(|&i| key(i as usize)).collect(),
            Members::Run(r) => r.filter_map(key).collect(),
        };
        // Nearly sorted already (returns usually come area by area, period by period): a
        // stable sort merges the runs it finds, where an unstable one starts over. The keys
        // are distinct (the index is in each), so the order is the same.
        keyed.sort();
        // The areas with returns (keyed is sorted by area).
        for run in keyed.chunk_by(|a, b| a.0 == b.0) {
            own.push(run[0].0 as usize);
        }
        store.entries.reserve_exact(keyed.len());
        for (area, seq, _, _, i) in keyed {
            // Keyed is sorted by area: the last entry, if its area's series has begun, is its.
            let begun = store.spans[area as usize].1 > 0;
            if begun && store.entries.last().is_some_and(|e| e.seq == seq) {
                continue; // a repeated period: the first row read wins
            }
            let e = entry(i, &observations[i], &mut store);
            store.push(area as usize, e);
        }
    }
    if indicator.aggregate == Aggregate::None {
        return Built {
            store,
            touched: own,
            missing: Vec::new(),
        };
    }
    // Only the ancestors of areas with returns can roll anything up: at 1M rows a national
    // framework's 7,000 areas have a few hundred with returns per indicator.
    let mut marked = vec![false; n_areas];
    let mut touched = Vec::with_capacity(own.len() * 2);
    for &a in &own {
        let mut at = Some(a);
        while let Some(x) = at.filter(|&x| !marked[x]) {
            marked[x] = true;
            touched.push(x);
            at = framework.areas[x].parent;
        }
    }
    touched.sort_unstable();
    // Parents come before children in `areas`, so walking backwards sees children first.
    let mut parts: Vec<rollup::Part> = Vec::new();
    let mut cursors: Vec<usize> = Vec::new();
    let mut missing: Vec<Vec<usize>> = Vec::new();
    for &parent in touched.iter().rev() {
        let children = &framework.areas[parent].children;
        if children.is_empty() {
            continue;
        }
        let mut added = Vec::new();
        // Each child's entries are sorted by period, one per period: one cursor per child
        // walks them once, and the periods to roll up are met in order as the least period
        // at any cursor (a merge of the children's periods, without collecting and sorting
        // them).
        cursors.clear();
        cursors.resize(children.len(), 0);
        let entries_of = |c: usize| store.series(c).0;
        let mut next = children
            .iter()
            .filter_map(|&c| entries_of(c).first().map(|e| e.seq))
            .min();
        while let Some(seq) = next {
            // Its own return wins: the children's entries of that period are passed over.
            let own = store.series(parent).get(seq).is_some();
            parts.clear();
            // The next period to roll up, found in the same pass: the least at any cursor
            // once this period's entries are passed.
            let mut after: Option<i32> = None;
            for (&c, at) in children.iter().zip(cursors.iter_mut()) {
                let entries = entries_of(c);
                let here = entries.get(*at).filter(|e| e.seq == seq);
                if here.is_some() {
                    *at += 1;
                }
                if let Some(e) = entries.get(*at) {
                    after = Some(after.map_or(e.seq, |a| a.min(e.seq)));
                }
                if !own {
                    parts.push(match here {
                        Some(e) => {
                            let p = store.parts_of(e);
                            rollup::Part {
                                value: e.value,
                                numerator: p.numerator,
                                denominator: p.denominator,
                            }
                        }
                        None => rollup::Part::default(),
                    });
                }
            }
            next = after;
            if own {
                continue;
            }
            let entry = match rollup::roll_up(indicator.aggregate, indicator.scale, &parts) {
                rollup::RollUp::Value {
                    value,
                    numerator,
                    denominator,
                } => (
                    Entry {
                        seq,
                        value: Some(value),
                        origin: Origin::RolledUp,
                        parts: NO_PARTS,
                    },
                    crate::returns::Parts {
                        numerator,
                        denominator,
                    },
                ),
                rollup::RollUp::Missing(which) => {
                    missing.push(which.into_iter().map(|k| children[k]).collect());
                    (
                        Entry {
                            seq,
                            value: None,
                            origin: Origin::Missing((missing.len() - 1) as u32),
                            parts: NO_PARTS,
                        },
                        crate::returns::Parts::default(),
                    )
                }
                rollup::RollUp::None => continue,
            };
            added.push(entry);
        }
        if !added.is_empty() {
            // The roll-ups' sums kept now: the children's entries were borrowed until here.
            let added: Vec<Entry> = added
                .into_iter()
                .map(|(e, p)| Entry {
                    parts: store.keep_parts(p),
                    ..e
                })
                .collect();
            store.add(parent, &added);
        }
    }
    Built {
        store,
        touched,
        missing,
    }
}

/// Direction at `seq` from the series (SPEC 4.3).
fn direction_at(indicator: &Indicator, series: Series<'_>, period: Period) -> Direction {
    let earlier =
        direction::comparison_period(indicator.measure, period).and_then(|p| series.value(p.seq()));
    direction::direction(indicator.polarity, series.value(period.seq()), earlier)
}

#[allow(clippy::too_many_arguments)]
fn make_row(
    framework: &Framework,
    ii: usize,
    area: usize,
    series: Series<'_>,
    shown: Period,
    report: Period,
    has_value: bool,
    with_history: bool,
    observations: &[Observation],
    infos: &[crate::returns::RowInfo],
    targets: &TargetTable,
    missing: &[Vec<usize>],
    points: &mut Vec<forecast::Point>,
) -> Row {
    let info = |o: &Observation| infos.get(o.info as usize);
    let indicator = &framework.indicators[ii];
    let ys = framework.year_start;
    let freq = indicator.frequency;
    let polarity = indicator.polarity;
    let period_of = |seq: i32| Period::from_seq(ys, freq, seq);
    let entry = series.get(shown.seq());
    let value = entry.and_then(|e| e.value);
    let own = entry.and_then(|e| match e.origin {
        Origin::Own(i) => observations.get(i as usize),
        _ => None,
    });
    let source = match entry {
        Some(Entry {
            origin: Origin::Own(_),
            value: Some(_),
            ..
        }) => Source::Reported,
        Some(Entry {
            origin: Origin::Own(_),
            value: None,
            ..
        }) => Source::Suppressed,
        Some(Entry {
            origin: Origin::RolledUp,
            ..
        }) => Source::RolledUp,
        Some(Entry {
            origin: Origin::Missing(k),
            ..
        }) => Source::Missing {
            children: missing.get(*k as usize).cloned().unwrap_or_default(),
        },
        None => Source::Missing {
            // Nothing sent and nothing to roll up: every child is missing.
            children: if indicator.aggregate == Aggregate::None {
                Vec::new()
            } else {
                framework.areas[area].children.clone()
            },
        },
    };
    let target = targets.get(area, shown);
    let scheme = framework
        .schemes
        .get(indicator.rag)
        .map(|s| s.kind)
        .unwrap_or(crate::framework::RagKind::Achievement {
            green: Decimal::from(95),
            amber: Decimal::from(90),
        });
    // Compared exactly: a pro rata target as a fraction (SPEC 4: exact decimal arithmetic).
    let exact = targets.get_exact(area, shown);
    let rag = rag::rag_of(value, exact, polarity, scheme);
    let deviation_pct = match (value, exact) {
        (Some(v), Some(t)) => rag::deviation_pct_of(v, t, polarity).map(|d| round_fixed(d, 2)),
        _ => None,
    };
    let direction = direction_at(indicator, series, shown);

    // Escalation: walk every period with a value up to the shown one, by sequence number (an
    // entry's period is one of the indicator's, and its comparison period, SPEC 4.3, is
    // `back` periods before it: the previous one, or the same one a year before).
    let mut walker = escalation::Walker::default();
    let back = match indicator.measure {
        Measure::Snapshot => 1,
        Measure::Cumulative => i32::from(freq.per_year()),
    };
    // The entry at or after the last comparison period looked up: comparison periods rise
    // with the periods walked, so one cursor finds them all.
    let mut cursor = 0;
    for (i, e) in series.0.iter().enumerate() {
        let Some(v) = e.value else {
            continue;
        };
        let step = match targets.get_seq_exact(area, e.seq) {
            Some(t) if rag::is_below_of(v, t, polarity) => {
                // `direction_at`: the value is this entry's, and the comparison period's
                // entry, if any, comes before it.
                let want = e.seq - back;
                while cursor < i && series.0[cursor].seq < want {
                    cursor += 1;
                }
                let earlier = series.0[..i]
                    .get(cursor)
                    .filter(|e| e.seq == want)
                    .and_then(|e| e.value);
                escalation::Step::Below {
                    improving: direction::direction(polarity, Some(v), earlier)
                        == Direction::Improving,
                }
            }
            _ => escalation::Step::NotBelow,
        };
        walker.step(step, framework.escalation, indicator.fast_track);
    }
    let stage = walker.stage;

    // Forecasts are shown to four places, or to as many as the area's own reported values
    // (or their exact sums) have when more: a `last` forecast of 0.00000123 is that value,
    // not 0.
    let exact_sums = indicator.aggregate == Aggregate::Sum;
    let mut places = 4;
    points.clear();
    points.extend(series.0.iter().filter_map(|e| {
        let v = e.value?;
        if matches!(e.origin, Origin::Own(_)) || exact_sums && e.origin == Origin::RolledUp {
            places = places.max(v.scale());
        }
        Some((e.seq, v))
    }));
    let points = &points[..];
    let forecast_at = |at: Period| {
        make_forecast(
            framework,
            indicator,
            area,
            targets,
            points,
            (shown, value, places),
            at,
            with_history,
        )
    };
    let forecast = forecast_at(report.last_of_year_at(freq));
    let plan_forecast = framework.plan.and_then(|plan| {
        let at = plan.end.last_of_year_at(freq);
        if forecast.as_ref().is_some_and(|f| f.period == at) {
            return forecast.clone(); // the plan ends this year: the same forecast
        }
        forecast_at(at)
    });
    let prediction = own.and_then(info).and_then(|i| i.prediction);
    let challenge = match (prediction, forecast.as_ref().and_then(|f| f.on_track)) {
        (Some(p), Some(on)) => Some(p.expects_on_track() != on),
        _ => None,
    };
    let improving_before = shown
        .prev()
        .map(|p| direction_at(indicator, series, p) == Direction::Improving)
        .unwrap_or(false);
    let commended = rag == Rag::Blue || (direction == Direction::Improving && improving_before);

    let first = points.first().map(|p| p.0).unwrap_or(shown.seq());
    let from = shown.seq().saturating_sub(7).max(first);
    // Only the focus area's rows are charted (the book's hot spots and theme sections); at
    // national scale the other areas' histories would cost hundreds of megabytes for nothing.
    let history = if !with_history {
        Vec::new()
    } else {
        (from..=shown.seq())
            .filter_map(period_of)
            .map(|p| Point {
                period: p,
                value: series
                    .value(p.seq())
                    .map(|v| shown_value(v, series.get(p.seq()), indicator.aggregate)),
                target: targets.get(area, p).map(|t| targets.shown(area, p, t)),
            })
            .collect()
    };

    Row {
        indicator: ii,
        area,
        period: shown,
        value: value.map(|v| shown_value(v, entry, indicator.aggregate)),
        source,
        target: target.map(|t| targets.shown(area, shown, t)),
        deviation_pct,
        rag,
        direction,
        stage,
        forecast,
        plan_forecast,
        prediction,
        challenge,
        status: own.map(|o| o.status),
        commentary: own.and_then(info).and_then(|i| i.commentary.clone()),
        action_plan: own.and_then(info).and_then(|i| i.action_plan),
        commended,
        has_value,
        returned: series.0.iter().any(|e| matches!(e.origin, Origin::Own(_))),
        history,
    }
}

/// A value as shown: as written for a return, exact for a sum, rounded to 4 places for a
/// ratio roll-up (a division).
fn shown_value(v: Decimal, entry: Option<&Entry>, aggregate: Aggregate) -> Decimal {
    match entry.map(|e| &e.origin) {
        Some(Origin::RolledUp) if aggregate == Aggregate::Ratio => round_out(v, 4),
        _ => v,
    }
}

/// The forecast for `at` (SPEC 4.5), from the series' values up to `shown`.
#[allow(clippy::too_many_arguments)]
fn make_forecast(
    framework: &Framework,
    indicator: &Indicator,
    area: usize,
    targets: &TargetTable,
    points: &[forecast::Point],
    (shown, shown_val, places): (Period, Option<Decimal>, u32),
    at: Period,
    with_interval: bool,
) -> Option<Forecast> {
    let settings = &framework.forecast;
    let polarity = indicator.polarity;
    let at_seq = at.seq();
    let actual = points
        .binary_search_by_key(&at_seq, |p| p.0)
        .ok()
        .map(|i| points[i].1);
    let mut chosen = None;
    let (value, method, count) = if let Some(v) = actual {
        (v, Method::Actual, 0)
    } else if at_seq < shown.seq() {
        return None; // a past period without its value (a plan that has ended)
    } else {
        match indicator.measure {
            Measure::Cumulative => (forecast::run_rate(shown_val?, shown)?, Method::RunRate, 0),
            Measure::Snapshot => {
                let c = forecast::choose_snapshot(points, at_seq, settings)?;
                let made = (c.value, c.method, c.count);
                chosen = Some(c);
                made
            }
        }
    };
    let target = targets.get(area, at);
    // Exactly (SPEC 4): a run rate against the target as `value x of` against `target x done`,
    // a mean or trend line from its exact fraction when its decimal is a hair from the target.
    let on_track = targets
        .get_exact(area, at)
        .and_then(|t| match (method, &chosen) {
            (Method::RunRate, _) => {
                let (done, of) = shown.elapsed();
                let scaled = rag::Target {
                    num: t.num.checked_mul(Decimal::from(done))?,
                    den: t.den.checked_mul(u32::from(of))?,
                };
                rag::meets_of(shown_val?, scaled, polarity)
            }
            (_, Some(c)) if t.den == 1 => c.meets(t.num, polarity),
            _ => rag::meets_of(value, t, polarity),
        });
    let enough = count > 0 && count as u64 >= u64::from(settings.min_backtests);
    let (confidence, interval) = match chosen.as_mut().filter(|_| enough) {
        Some(c) => (
            target
                .and_then(|t| c.confidence(t, polarity))
                .map(|c| round_fixed(c, 2)),
            with_interval
                .then(|| forecast::interval(value, c.errors()))
                .flatten()
                .map(|(lo, hi)| (round_out(lo, places), round_out(hi, places))),
        ),
        None => (None, None),
    };
    Some(Forecast {
        period: at,
        value: round_out(value, places),
        method,
        target: target.map(|t| targets.shown(area, at, t)),
        on_track,
        confidence,
        interval,
    })
}
