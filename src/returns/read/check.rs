//! The checks of one record that need nothing but the record (SPEC 2.3 and 3): decoding,
//! codes, period, value, ranges, the ratio and the optional columns. They run on several
//! threads at once, each on its own chunk of the file ([`check_chunk`]); what needs the rows
//! before (duplicates, the one encoding warning, blank lines between records) is the merge's,
//! in file order, in `read.rs`.
//!
//! Each record is first offered to [`Checker::quick`], which takes a row with nothing to report
//! (nearly every row of a good return) without building a message; any other row goes to
//! [`Checker::row`], which makes every check and words every problem. Both read the optional
//! columns through the same helpers, and a property test holds `quick` to `row`'s answer.

use rustc_hash::FxHashMap;
use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::chunk::Chunk;
use super::record::{Record, Records};
use super::{article, fold_header, parse_date, Col, Layout, ParsedPeriod};
use crate::diag::{Code, Diagnostic};
use crate::framework::{short_list, Framework, Match, Unit};
use crate::period::{Frequency, Period};
use crate::returns::value::{self, Cell};
use crate::returns::{Packed, PackedParts, Prediction, RowInfo, Status};

/// A row that passed every check of its own, to be kept unless it repeats an earlier one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub indicator: u32,
    pub area: u32,
    pub period: Period,
    /// Packed here, on the checking threads, so the merge only copies.
    pub value: Packed,
    /// Index into [`Checked::parts`] of the row's numerator and denominator, or
    /// [`crate::returns::NO_PARTS`] (none, or not kept): most rows have none, and the merge
    /// reads every record, so they are not carried in each.
    pub parts: u32,
    pub status: Status,
    /// Index into [`Checked::infos`] of the row's optional columns, or
    /// [`crate::returns::NO_INFO`]: rows share an entry (a return usually has one name on
    /// every row, and one date per return), so nothing is allocated per row.
    pub info: u32,
}

/// A candidate as [`Checker::quick`] and [`Checker::row`] make it, with its numerator and
/// denominator, if any, beside it.
pub(crate) type Checking = (Candidate, Option<PackedParts>);

/// One record's outcome: 52 bytes, and every record of a file passes from a checker to the
/// merge through memory.
#[derive(Clone, Copy)]
pub(crate) struct Rec {
    /// The physical line the record starts on (saturated at `u32::MAX`, as in diagnostics).
    pub line: u32,
    /// Line breaks inside the record's quoted fields.
    pub newlines: u32,
    /// How many of the chunk's `diags` are this record's, in order.
    pub diags: u32,
    /// Whether a field read was not UTF-8 (the file gets one warning, at the first).
    pub non_utf8: bool,
    pub keep: Option<Candidate>,
}

impl Rec {
    /// The line after the record.
    pub fn next_line(&self) -> u64 {
        u64::from(self.line) + 1 + u64::from(self.newlines)
    }
}

/// Optional columns without commentary, as a key of [`Checker::info_ids`].
type InfoKey = (
    Option<Prediction>,
    Option<bool>,
    // The name, as its index in `Checker::submitters`.
    Option<u32>,
    Option<NaiveDate>,
);

/// A checked chunk: its records in order, and their problems.
#[derive(Default)]
pub(crate) struct Checked {
    pub recs: Vec<Rec>,
    pub diags: Vec<Diagnostic>,
    /// The kept rows' numerators and denominators (see [`Candidate::parts`]).
    pub parts: Vec<PackedParts>,
    /// The kept rows' distinct optional columns (see [`Candidate::info`]).
    pub infos: Vec<RowInfo>,
    /// Rows refused for an error whose indicator, area and period could be read: sent,
    /// though not kept (see [`crate::returns::Sent`]).
    pub sent: Vec<crate::returns::Sent>,
    /// A read error after the chunk's last record.
    pub error: Option<String>,
}

/// Finds the physical line of each record in a chunk. The csv crate reports a record as
/// starting just after the previous record's terminator (on the LF of a CRLF) and skips blank
/// lines, so the line breaks right at that offset belong to terminators and blank lines.
pub(crate) struct Lines<'a> {
    data: &'a [u8],
    cursor: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    /// `line` is the physical line of `data[0]`.
    pub fn new(data: &'a [u8], line: u64) -> Lines<'a> {
        Lines {
            data,
            cursor: 0,
            line,
        }
    }

    /// The line of the record the csv crate places at `offset` (offsets must not go back).
    /// `plain`: the bytes since the last call hold no line feed but those at their end (the
    /// previous record had none inside its fields), so only the run of line breaks at the end
    /// (its terminator and any blank lines) is counted, not searched for among its bytes.
    pub fn line_of(&mut self, offset: usize, plain: bool) -> u64 {
        let mut real = offset.min(self.data.len());
        while real < self.data.len() && matches!(self.data[real], b'\r' | b'\n') {
            real += 1;
        }
        if real > self.cursor {
            let between = &self.data[self.cursor..real];
            self.line += if plain {
                between
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .filter(|&&b| b == b'\n')
                    .count() as u64
            } else {
                // Usually one line feed, the previous record's terminator, at the end.
                match memchr::memchr(b'\n', between) {
                    None => 0,
                    Some(i) if i + 1 == between.len() => 1,
                    Some(i) => 1 + memchr::memchr_iter(b'\n', &between[i + 1..]).count() as u64,
                }
            };
            self.cursor = real;
        }
        self.line
    }
}

/// One checking thread's state: the framework and its caches of codes and periods.
pub(crate) struct Checker<'f> {
    framework: &'f Framework,
    as_of: NaiveDate,
    /// [`Period::end_month_after`] `as_of`: a period whose end month is this or later has not
    /// ended.
    future_from: i32,
    /// Parsed periods by text and frequency hint, each with whether it ends after `as_of`.
    periods: FxHashMap<ShortKey, PeriodSlots>,
    /// The same, for texts longer than a [`ShortKey`] holds.
    long_periods: FxHashMap<Box<str>, PeriodSlots>,
    /// The last indicator code read and its match: rows usually come grouped by indicator.
    last_indicator: Option<(String, Match)>,
    /// The last area code read, and every area code looked up (bounded, like `periods`).
    last_area: Option<(String, Match)>,
    areas: FxHashMap<Box<str>, Match>,
    /// Every `submitted_on` text read (bounded, like `periods`) and its reading: a return has
    /// one date, or one a period, on every row.
    dates: FxHashMap<Box<str>, Option<Option<NaiveDate>>>,
    /// The last `submitted_by` (an index into `submitters`): a return usually names one
    /// person on every row.
    last_submitter: Option<u32>,
    /// Every `submitted_by` name read (bounded, like `periods`), each shared by its rows, and
    /// its index in `submitters`.
    submitters: Vec<std::sync::Arc<str>>,
    submitter_ids: FxHashMap<std::sync::Arc<str>, u32>,
    /// This chunk's distinct optional columns ([`Checked::infos`]), those without commentary
    /// by value (a date per return and period, a name, a prediction: a handful a chunk), and
    /// the index of the last row's.
    infos: Vec<RowInfo>,
    info_ids: FxHashMap<InfoKey, u32>,
    last_info: u32,
    /// Set when a field read for the current record was not UTF-8.
    non_utf8: bool,
}

/// Checks every record of `chunk` (from `chunk.start`), a file with the given layout. `recs`
/// is an emptied list to fill (a merged chunk's, reused: fresh memory costs page faults).
pub(crate) fn check_chunk(
    checker: &mut Checker<'_>,
    chunk: &Chunk,
    name: &str,
    delimiter: u8,
    layout: &Layout,
    mut recs: Vec<Rec>,
    keep_parts: bool,
) -> Checked {
    let data = &chunk.bytes[..];
    let start = chunk.start.min(data.len());
    let mut lines = Lines::new(data, chunk.line);
    let mut records = Records::new(&data[start..], delimiter);
    recs.clear();
    recs.reserve((data.len() / 32).min(1 << 16));
    let mut out = Checked {
        recs,
        diags: Vec::new(),
        parts: Vec::new(),
        infos: Vec::new(),
        sent: Vec::new(),
        error: chunk.error.clone(),
    };
    let mut record = Record::default();
    // `Candidate::info` refers to this chunk's table only.
    checker.infos.clear();
    checker.info_ids.clear();
    checker.last_info = crate::returns::NO_INFO;
    // Whether the previous record had no line feed inside its fields (not known before the
    // first: the header may be in this chunk).
    let mut plain = false;
    // Only a quoted field holds a line feed, so a record is searched for one only when its
    // bytes hold a quote: the next quote's offset is known, and nearly every record ends
    // before it.
    let input = &data[start..];
    let quote_from = |at: usize| {
        input
            .get(at..)
            .and_then(|rest| memchr::memchr(b'"', rest))
            .map_or(usize::MAX, |i| at + i)
    };
    let mut next_quote = quote_from(0);
    while let Some(at) = records.next_into(&mut record) {
        let line = lines.line_of(start + at, plain);
        let before = out.diags.len();
        checker.non_utf8 = false;
        let line32 = u32::try_from(line).unwrap_or(u32::MAX);
        let end = records.offset();
        // A quote left open runs to the end of the file (a chunk ends only where quotes are
        // closed, so only the last record of the last chunk can hold one): every line after
        // it is in this record's last cell. Reported, not read as a row.
        let unclosed = end == input.len()
            && next_quote < end
            && super::chunk::ends_inside_quotes(&input[at.min(end)..end], delimiter);
        let checking = if unclosed {
            out.diags
                .push(unclosed_quote(name, line32, &record, layout));
            None
        } else {
            match checker.quick(&record, layout) {
                Some(candidate) => Some(candidate),
                None => checker.row(&mut out, name, line32, &record, layout),
            }
        };
        let keep = checking.map(|(mut c, parts)| {
            if let Some(p) = parts.filter(|_| keep_parts) {
                c.parts = out.parts.len() as u32;
                out.parts.push(p);
            }
            c
        });
        let newlines = if next_quote < end {
            next_quote = quote_from(end);
            super::newlines(record.as_slice())
        } else {
            0
        };
        plain = newlines == 0;
        out.recs.push(Rec {
            line: line32,
            newlines: u32::try_from(newlines).unwrap_or(u32::MAX),
            diags: (out.diags.len() - before) as u32,
            non_utf8: checker.non_utf8,
            keep,
        });
    }
    out.infos = std::mem::take(&mut checker.infos);
    out
}

/// The problem of a record whose last cell opens a quote that is never closed.
#[cold]
fn unclosed_quote(name: &str, line: u32, record: &Record, layout: &Layout) -> Diagnostic {
    // The lines after it (the file's last line break, inside the cell too, ends no line).
    let bytes = record.as_slice();
    let swallowed = super::newlines(bytes) - u64::from(bytes.ends_with(b"\n"));
    let message = match swallowed {
        0 => "a quote (\") opens a cell on this row and is never closed; the row was not read"
            .to_string(),
        1 => "a quote (\") opens a cell on this row and is never closed, so the line after it was read into that one cell; the row was not read".to_string(),
        n => format!("a quote (\") opens a cell on this row and is never closed, so the {n} lines after it were read into that one cell; the row was not read"),
    };
    // The row's key, from the cells before the one left open.
    let cell = |c: Col| {
        layout
            .get(c)
            .filter(|&i| i + 1 < record.len())
            .and_then(|i| record.get(i))
            .map_or(String::new(), |b| {
                trim(&String::from_utf8_lossy(b)).to_string()
            })
    };
    Diagnostic::new(Code::RaggedRow, name, message)
        .indicator(cell(Col::Indicator))
        .area(cell(Col::Area))
        .period(cell(Col::Period))
        .at(line, record.len() as u32)
        .help(UNCLOSED_QUOTE_HELP)
}

/// What to do about a quote that is never closed (in a row or in the header).
pub(crate) const UNCLOSED_QUOTE_HELP: &str =
    "close the quote, or remove it: a quote may only open a cell if another one closes it";

impl<'f> Checker<'f> {
    pub fn new(framework: &'f Framework, as_of: NaiveDate) -> Checker<'f> {
        Checker {
            framework,
            as_of,
            future_from: Period::end_month_after(as_of),
            periods: FxHashMap::default(),
            long_periods: FxHashMap::default(),
            last_indicator: None,
            last_area: None,
            areas: FxHashMap::default(),
            dates: FxHashMap::default(),
            last_submitter: None,
            submitters: Vec::new(),
            submitter_ids: FxHashMap::default(),
            infos: Vec::new(),
            info_ids: FxHashMap::default(),
            last_info: crate::returns::NO_INFO,
            non_utf8: false,
        }
    }

    /// `Framework::indicator`, remembering the last code (rows come grouped by indicator).
    #[inline(always)]
    fn lookup_indicator(&mut self, code: &str) -> Match {
        if let Some((last, m)) = &self.last_indicator {
            if same_text(last, code) {
                return *m;
            }
        }
        self.lookup_new_indicator(code)
    }

    /// [`Checker::lookup_indicator`] of a cell as read, for [`Checker::quick`]: the last code
    /// compared byte for byte, else the cell as text, trimmed. `None` when the cell is empty
    /// (after trimming) or not UTF-8.
    #[inline(always)]
    fn lookup_indicator_cell(&mut self, cell: &[u8]) -> Option<Match> {
        if cell.is_empty() {
            return None;
        }
        if let Some((last, m)) = &self.last_indicator {
            if same_bytes(last.as_bytes(), cell) {
                return Some(*m);
            }
        }
        let code = trim(std::str::from_utf8(cell).ok()?);
        (!code.is_empty()).then(|| self.lookup_indicator(code))
    }

    /// [`Checker::lookup_indicator`] for a code other than the last one.
    #[inline(never)]
    fn lookup_new_indicator(&mut self, code: &str) -> Match {
        let m = self.framework.indicator(code);
        remember(&mut self.last_indicator, code, m);
        m
    }

    /// `Framework::area`, each distinct code looked up once.
    #[inline(always)]
    fn lookup_area(&mut self, code: &str) -> Match {
        if let Some((last, m)) = &self.last_area {
            if same_text(last, code) {
                return *m;
            }
        }
        self.lookup_new_area(code)
    }

    /// [`Checker::lookup_area`] of a cell as read, for [`Checker::quick`], and whether the cell
    /// is empty (after trimming): the last code compared byte for byte, else the cell as text.
    /// `None` when the cell is not UTF-8.
    #[inline(always)]
    fn lookup_area_cell(&mut self, cell: &[u8]) -> Option<Match> {
        if cell.is_empty() {
            return Some(Match::Exact(self.framework.default_area()));
        }
        if let Some((last, m)) = &self.last_area {
            if same_bytes(last.as_bytes(), cell) {
                return Some(*m);
            }
        }
        let code = trim(std::str::from_utf8(cell).ok()?);
        if code.is_empty() {
            return Some(Match::Exact(self.framework.default_area()));
        }
        Some(self.lookup_area(code))
    }

    /// [`Checker::lookup_area`] for a code other than the last one.
    #[inline(never)]
    fn lookup_new_area(&mut self, code: &str) -> Match {
        // Returns sorted by area usually list the areas in the framework's order: the area
        // after the last one is tried first (codes are unique, so a match is the one the
        // framework would find), before the map of every code seen.
        if let Some((_, Match::Exact(last))) = &self.last_area {
            let next = *last + 1;
            if self
                .framework
                .areas
                .get(next)
                .is_some_and(|a| same_text(&a.code, code))
            {
                remember(&mut self.last_area, code, Match::Exact(next));
                return Match::Exact(next);
            }
        }
        let m = match self.areas.get(code) {
            Some(m) => *m,
            None => {
                let m = self.framework.area(code);
                if self.areas.len() < 100_000 {
                    self.areas.insert(code.into(), m);
                }
                m
            }
        };
        remember(&mut self.last_area, code, m);
        m
    }

    /// Periods repeat on nearly every row: each distinct text is parsed once per hint.
    fn parse_period(&mut self, text: &str, hint: Option<Frequency>) -> ParsedPeriod {
        let slot = period_slot(hint);
        if let Some(cached) = self
            .period_slots(text.as_bytes())
            .and_then(|e| e[slot].as_ref())
        {
            return cached.clone();
        }
        let parsed = Period::parse(text, self.framework.year_start, hint)
            .map(|p| (p, p.end_date() > self.as_of));
        if self.periods.len() + self.long_periods.len() < 100_000 {
            let slots = match short_key(text) {
                Some(k) => self.periods.entry(k).or_default(),
                None => self.long_periods.entry(text.into()).or_default(),
            };
            slots[slot] = Some(parsed.clone());
        }
        parsed
    }

    /// The cached readings of a period text, if any.
    #[inline(always)]
    fn period_slots(&self, text: &[u8]) -> Option<&PeriodSlots> {
        match short_key_of(text) {
            Some(k) => self.periods.get(&k),
            None => self.long_periods.get(std::str::from_utf8(text).ok()?),
        }
    }

    /// [`Checker::parse_period`] for [`Checker::quick`]: the period, when the text is one of
    /// `freq` that has ended; `None` for anything `row` would have to report.
    #[inline]
    fn quick_period(&mut self, text: &[u8], freq: Frequency) -> Option<Period> {
        let ok = |parsed: &ParsedPeriod| match parsed {
            Ok((p, false)) if p.frequency() == freq => Some(*p),
            _ => None,
        };
        match self
            .period_slots(text)
            .and_then(|e| e[period_slot(Some(freq))].as_ref())
        {
            Some(parsed) => ok(parsed),
            None => ok(&self.parse_period(std::str::from_utf8(text).ok()?, Some(freq))),
        }
    }

    /// The `submitted_on` cell, trimmed: `None` when it is not a date ([`submitted_on_of`],
    /// each distinct text read once).
    #[inline]
    fn submitted_on(&mut self, date: &str) -> Option<Option<NaiveDate>> {
        if date.is_empty() {
            return Some(None);
        }
        if let Some(read) = self.dates.get(date) {
            return *read;
        }
        let read = submitted_on_of(date);
        if self.dates.len() < 100_000 {
            self.dates.insert(date.into(), read);
        }
        read
    }

    /// The `submitted_by` cell, trimmed, as its index in `submitters` (`None` when empty).
    #[inline]
    fn submitter(&mut self, name: &str) -> Option<u32> {
        if name.is_empty() {
            return None;
        }
        if let Some(last) = self.last_submitter {
            if *self.submitters[last as usize] == *name {
                return Some(last);
            }
        }
        let id = match self.submitter_ids.get(name) {
            Some(&id) => id,
            None => {
                if self.submitters.len() >= 100_000 {
                    // Very many names: start the list again. The chunk's shared entries are
                    // keyed by these indices, so they are forgotten too (each entry keeps its
                    // own copy of the name: nothing is lost but sharing).
                    self.submitter_ids.clear();
                    self.submitters.clear();
                    self.info_ids.clear();
                    self.last_submitter = None;
                    return self.submitter(name);
                }
                let shared: std::sync::Arc<str> = name.into();
                let id = self.submitters.len() as u32;
                self.submitters.push(shared.clone());
                self.submitter_ids.insert(shared, id);
                id
            }
        };
        self.last_submitter = Some(id);
        Some(id)
    }

    /// A row's optional columns (texts trimmed): their index in this chunk's table
    /// ([`Checked::infos`]), or `NO_INFO` when there are none. The same as the last row's,
    /// or (without commentary) as any earlier row's of the chunk, share its entry.
    #[inline]
    fn info(
        &mut self,
        commentary: &str,
        prediction: Option<Prediction>,
        action_plan: Option<bool>,
        submitted_by: &str,
        submitted_on: Option<NaiveDate>,
    ) -> u32 {
        if commentary.is_empty()
            && prediction.is_none()
            && action_plan.is_none()
            && submitted_by.is_empty()
            && submitted_on.is_none()
        {
            return crate::returns::NO_INFO;
        }
        if let Some(last) = self.infos.get(self.last_info as usize) {
            if last.commentary.as_deref().unwrap_or("") == commentary
                && last.prediction == prediction
                && last.action_plan == action_plan
                && last.submitted_by.as_deref().unwrap_or("") == submitted_by
                && last.submitted_on == submitted_on
            {
                return self.last_info;
            }
        }
        let by = self.submitter(submitted_by);
        let name = |me: &Self| by.map(|i| me.submitters[i as usize].clone());
        let id = if commentary.is_empty() {
            let key = (prediction, action_plan, by, submitted_on);
            match self.info_ids.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.infos.len() as u32;
                    let submitted_by = name(self);
                    self.infos.push(RowInfo {
                        commentary: None,
                        prediction,
                        action_plan,
                        submitted_by,
                        submitted_on,
                    });
                    self.info_ids.insert(key, id);
                    id
                }
            }
        } else {
            let submitted_by = name(self);
            self.infos.push(RowInfo {
                commentary: Some(commentary.to_string()),
                prediction,
                action_plan,
                submitted_by,
                submitted_on,
            });
            (self.infos.len() - 1) as u32
        };
        self.last_info = id;
        id
    }

    /// A field as text: UTF-8, or else Windows-1252 (noted for the file's one warning).
    fn text<'b>(&mut self, raw: &'b [u8]) -> Cow<'b, str> {
        match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                self.non_utf8 = true;
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(raw);
                Cow::Owned(text.into_owned())
            }
        }
    }

    /// [`Checker::row`] for a row with nothing to say: the candidate `row` would return, found
    /// without building a message or a `Cow`. `None` when the row has, or may have, anything
    /// to report (a problem, a warning, a field that is not UTF-8): `row` then checks it again
    /// and words what it finds. Nearly every row of a good return is taken here; the test
    /// `quick_is_row` checks, row by row, that it returns what `row` does.
    fn quick(&mut self, rec: &Record, layout: &Layout) -> Option<Checking> {
        if rec.len() != layout.width {
            return None;
        }
        let cells = QuickCells::new(rec, layout)?;
        let fw = self.framework;
        let Match::Exact(indicator) = self.lookup_indicator_cell(cells.get(Col::Indicator)?)?
        else {
            return None;
        };
        let ind = &fw.indicators[indicator];
        let Match::Exact(area) = self.lookup_area_cell(cells.get(Col::Area)?)? else {
            return None;
        };
        let period_cell = cells.get(Col::Period)?;
        // The canonical text, as nearly every row writes it, is read without a table.
        let period = match Period::canonical(period_cell, fw.year_start, ind.frequency) {
            Some(p) if p.end_month_abs() < self.future_from => p,
            Some(_) => return None,
            None => self.quick_period(period_cell, ind.frequency)?,
        };
        let value_cell = cells.get(Col::Value)?;
        let value = match value::parse_bytes(value_cell, ind.unit == Unit::Percent)? {
            Cell::Number {
                value,
                normalised: None,
            } => Some(value),
            // (A marker with spaces around it is normalised, with a warning: the slow path.)
            Cell::Suppressed if !padded(value_cell) => None,
            _ => return None,
        };
        let numerator = quick_part(cells.get(Col::Numerator)?)?;
        let denominator = quick_part(cells.get(Col::Denominator)?)?;
        if let Some(v) = value {
            let out_of_range = match ind.unit {
                Unit::Percent => below_zero(v) || above_hundred(v),
                Unit::Count => below_zero(v),
                _ => false,
            };
            if out_of_range {
                return None;
            }
        }
        if denominator == Some(Decimal::ZERO) {
            return None;
        }
        if let (Some(v), Some(n), Some(d)) = (value, numerator, denominator) {
            if ratio_within(v, n, d, ind.scale) != Some(true) {
                return None;
            }
        }
        let commentary = trim(cells.text(Col::Commentary)?);
        let (info, status) = if layout.has_extras() {
            let prediction = prediction_of(cells.text(Col::Prediction)?)?;
            let action_plan = action_plan_of(trim(cells.text(Col::ActionPlan)?))?;
            let status = status_of(trim(cells.text(Col::Status)?))?;
            let submitted_on = self.submitted_on(trim(cells.text(Col::SubmittedOn)?))?;
            let info = self.info(
                commentary,
                prediction,
                action_plan,
                trim(cells.text(Col::SubmittedBy)?),
                submitted_on,
            );
            (info, status)
        } else {
            // The file has none of those columns: what `info` and `status_of` make of
            // empty cells (without a call when there is no commentary either).
            let info = if commentary.is_empty() {
                crate::returns::NO_INFO
            } else {
                self.info(commentary, None, None, "", None)
            };
            (info, Status::Final)
        };
        Some(checking(
            (indicator, area),
            period,
            value,
            (numerator, denominator),
            status,
            info,
        ))
    }

    /// Checks one record: its problems go to `out.diags`, and a row that may be kept is
    /// returned as a candidate (duplicates are the merge's to find).
    fn row(
        &mut self,
        out: &mut Checked,
        name: &str,
        line: u32,
        rec: &Record,
        layout: &Layout,
    ) -> Option<Checking> {
        if rec
            .iter()
            .all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
        {
            out.diags.push(
                Diagnostic::new(Code::BlankRow, name, "this row is blank and was skipped")
                    .at(line, 0),
            );
            return None;
        }
        // Nearly every record is UTF-8 as a whole: checked once, then its fields are slices.
        let whole = std::str::from_utf8(rec.as_slice()).ok();
        let get = |me: &mut Self, c: Col| -> Cow<'_, str> {
            let Some(i) = layout.get(c) else {
                return Cow::Borrowed("");
            };
            if let Some(text) = whole.zip(rec.range(i)).and_then(|(w, r)| w.get(r)) {
                return Cow::Borrowed(text);
            }
            match rec.get(i) {
                Some(raw) => me.text(raw),
                None => Cow::Borrowed(""),
            }
        };
        let indicator_text = get(self, Col::Indicator);
        let area_text = get(self, Col::Area);
        let period_text = get(self, Col::Period);
        let mk = |code: Code, col: Col, msg: String| {
            Diagnostic::new(code, name, msg)
                .at(line, layout.get(col).map_or(0, |i| i as u32 + 1))
                .indicator(trim(&indicator_text))
                .area(trim(&area_text))
                .period(trim(&period_text))
        };
        if rec.len() != layout.width {
            let msg = format!(
                "this row has {} fields but the header has {}: a stray or unquoted comma? The row was not read",
                rec.len(),
                layout.width
            );
            out.diags.push(
                mk(Code::RaggedRow, Col::Indicator, msg)
                    .at(line, 0)
                    .help("put quotes around any cell that contains the delimiter"),
            );
            return None;
        }
        let fw = self.framework;
        let problems = &mut out.diags;
        let first_problem = problems.len();

        // A code from the return: matched exactly, matched ignoring case and spacing (a
        // warning naming the framework's spelling), or unknown (an error listing the codes).
        let resolve = |problems: &mut Vec<Diagnostic>,
                       found: Match,
                       kind: &str,
                       text: &str,
                       col: Col,
                       unknown: Code| {
            let spelling = |i: usize| {
                if col == Col::Indicator {
                    fw.indicators[i].code.as_str()
                } else {
                    fw.areas[i].code.as_str()
                }
            };
            match found {
                Match::Exact(i) => Some(i),
                Match::Loose(i) => {
                    let msg = format!("the {kind} `{text}` was read as `{}`", spelling(i));
                    problems.push(mk(Code::NormalisedValue, col, msg));
                    Some(i)
                }
                Match::None if text.starts_with('\u{feff}') => {
                    // Invisible in the message: named, so the partner knows what to delete.
                    let code = text.trim_start_matches('\u{feff}');
                    let msg = format!("the {kind} `{code}` starts with an invisible byte-order mark (U+FEFF), so it is not the framework's code");
                    problems.push(mk(unknown, col, msg).help("such a mark is left where one file is pasted under another: delete it, and any second header row"));
                    None
                }
                Match::None => {
                    // Only built for an unknown code: listing 200 codes per row would be slow.
                    let known = if col == Col::Indicator {
                        short_list(fw.indicators.iter().map(|i| i.code.as_str()))
                    } else {
                        fw.area_list()
                    };
                    let msg = format!("the {kind} `{text}` is not in the framework");
                    problems.push(mk(unknown, col, msg).help(format!("the {kind}s are {known}")));
                    None
                }
            }
        };

        // Indicator.
        let ind_code = trim(&indicator_text);
        let indicator = if ind_code.is_empty() {
            problems.push(
                mk(
                    Code::UnknownIndicator,
                    Col::Indicator,
                    "the indicator code is empty".into(),
                )
                .help("every row needs the indicator's code from the framework"),
            );
            None
        } else {
            let found = self.lookup_indicator(ind_code);
            resolve(
                problems,
                found,
                "indicator",
                ind_code,
                Col::Indicator,
                Code::UnknownIndicator,
            )
        };
        let ind = indicator.map(|i| &fw.indicators[i]);

        // Area.
        let area_code = trim(&area_text);
        let area = if area_code.is_empty() {
            Some(fw.default_area())
        } else {
            let found = self.lookup_area(area_code);
            resolve(
                problems,
                found,
                "area",
                area_code,
                Col::Area,
                Code::UnknownArea,
            )
        };

        // Period.
        let ys = fw.year_start;
        let parsed = self.parse_period(&period_text, ind.map(|i| i.frequency));
        // The period as read, for the problem records, whatever is wrong with it.
        let read_period = parsed.as_ref().ok().map(|&(p, _)| p);
        let ended = parsed.as_ref().is_ok_and(|&(_, future)| !future);
        let period = match parsed {
            Ok((p, future)) => {
                let mut ok_p = Some(p);
                if let Some(i) = ind {
                    if p.frequency() != i.frequency {
                        problems.push(
                            mk(
                                Code::WrongFrequency,
                                Col::Period,
                                format!(
                                    "`{}` is {}, but `{}` is {} indicator",
                                    trim(&period_text),
                                    article(p.frequency().name()),
                                    i.code,
                                    crate::period::a_or_an(i.frequency.name())
                                ),
                            )
                            .help(format!(
                                "send {} periods, e.g. {}",
                                i.frequency,
                                i.frequency.example(ys)
                            )),
                        );
                        ok_p = None;
                    }
                }
                if future {
                    problems.push(mk(
                        Code::FuturePeriod,
                        Col::Period,
                        format!("{p} ends on {}, after {}: it has not finished yet", p.end_date(), self.as_of),
                    ).help("check the period; a figure can only be returned once its period has ended"));
                    ok_p = None;
                }
                ok_p
            }
            Err(e) => {
                problems.push(mk(Code::BadPeriod, Col::Period, e.message));
                None
            }
        };

        // Value.
        let percent = ind.is_some_and(|i| i.unit == Unit::Percent);
        let value_text = get(self, Col::Value);
        let value: Option<Option<Decimal>> = match value::parse(&value_text, percent) {
            Cell::Number { value, normalised } => {
                if let Some(how) = normalised {
                    problems.push(mk(
                        Code::NormalisedValue,
                        Col::Value,
                        format!("`{value_text}` was read as {value} ({how})"),
                    ));
                }
                Some(Some(value))
            }
            Cell::Suppressed => {
                // SPEC 2.3: surrounding spaces are removed with a warning, around a marker too.
                if padded(value_text.as_bytes()) {
                    problems.push(mk(
                        Code::NormalisedValue,
                        Col::Value,
                        format!(
                            "`{value_text}` was read as the marker {} (spaces removed)",
                            trim(&value_text)
                        ),
                    ));
                }
                Some(None)
            }
            Cell::Empty => {
                problems.push(
                    mk(Code::MissingValue, Col::Value, "the value is empty".into())
                        .help("send the figure, or a suppression marker such as [c] or [x] if it cannot be given"),
                );
                None
            }
            Cell::Invalid(why) => {
                problems.push(mk(
                    Code::TypeError,
                    Col::Value,
                    format!("the value `{}` cannot be read: {why}", trim(&value_text)),
                ));
                None
            }
        };
        let part = |me: &mut Self,
                    c: Col,
                    label: &str,
                    problems: &mut Vec<Diagnostic>|
         -> Option<Decimal> {
            let t = get(me, c);
            match value::parse(&t, false) {
                Cell::Number { value, normalised } => {
                    if let Some(how) = normalised {
                        problems.push(mk(
                            Code::NormalisedValue,
                            c,
                            format!("the {label} `{t}` was read as {value} ({how})"),
                        ));
                    }
                    Some(value)
                }
                Cell::Empty | Cell::Suppressed => None,
                Cell::Invalid(why) => {
                    problems.push(mk(
                        Code::TypeError,
                        c,
                        format!("the {label} `{}` cannot be read: {why}", trim(&t)),
                    ));
                    None
                }
            }
        };
        let numerator = part(self, Col::Numerator, "numerator", problems);
        let denominator = part(self, Col::Denominator, "denominator", problems);

        // Ranges and the ratio.
        if let (Some(i), Some(Some(v))) = (ind, value) {
            if i.unit == Unit::Percent && (v < Decimal::ZERO || v > Decimal::ONE_HUNDRED) {
                problems.push(
                    mk(
                        Code::OutOfRange,
                        Col::Value,
                        format!("the value {v} is not a percentage between 0 and 100"),
                    )
                    .help("send percentages as 0-100 (45.2, not 0.452 or 452)"),
                );
            } else if i.unit == Unit::Count && v < Decimal::ZERO {
                problems.push(mk(
                    Code::OutOfRange,
                    Col::Value,
                    format!("the value {v} is negative, but `{}` is a count", i.code),
                ));
            }
        }
        if denominator == Some(Decimal::ZERO) {
            problems.push(
                mk(
                    Code::OutOfRange,
                    Col::Denominator,
                    "the denominator is 0, so the ratio cannot be computed".into(),
                )
                .help("send the figures; if the ratio cannot be given, put a suppression marker such as [x] in the value and leave the numerator and denominator empty"),
            );
        } else if let (Some(i), Some(Some(v)), Some(n), Some(d)) =
            (ind, value, numerator, denominator)
        {
            // Exactly in integers when the figures allow (nearly always); the division below
            // only when they do not agree, to word the message, or are too large for that.
            let agree = ratio_within(v, n, d, i.scale) == Some(true);
            let expected = if agree {
                None
            } else {
                n.checked_div(d).and_then(|q| q.checked_mul(i.scale))
            };
            if let Some(expected) = expected {
                let tolerance = Decimal::new(5, (v.scale() + 1).min(28));
                if v.checked_sub(expected)
                    .is_none_or(|gap| gap.abs() > tolerance)
                {
                    let shown = expected.round_dp(v.scale().max(i.decimals) + 1).normalize();
                    let scale = if i.scale == Decimal::ONE {
                        String::new()
                    } else {
                        format!(" × {}", i.scale.normalize())
                    };
                    problems.push(
                        mk(Code::NumeratorMismatch, Col::Value, format!("the value {v} does not agree with {n} / {d}{scale} = {shown}"))
                            .help("check the value, the numerator and the denominator come from the same count"),
                    );
                }
            }
        }

        // Optional columns.
        let commentary = get(self, Col::Commentary);
        let prediction_text = get(self, Col::Prediction);
        let prediction = prediction_of(&prediction_text).unwrap_or_else(|| {
            problems.push(
                mk(
                    Code::TypeError,
                    Col::Prediction,
                    format!(
                        "the prediction `{}` is not one pmf knows",
                        trim(&prediction_text)
                    ),
                )
                .help("write on track, off track or at risk"),
            );
            None
        });
        let plan_text = get(self, Col::ActionPlan);
        let action_plan = action_plan_of(trim(&plan_text)).unwrap_or_else(|| {
            problems.push(mk(
                Code::TypeError,
                Col::ActionPlan,
                format!("action_plan `{}` is not yes or no", trim(&plan_text)),
            ));
            None
        });
        let status_text = get(self, Col::Status);
        let status = status_of(trim(&status_text)).unwrap_or_else(|| {
            problems.push(mk(
                Code::TypeError,
                Col::Status,
                format!(
                    "the status `{}` is not final or provisional",
                    trim(&status_text)
                ),
            ));
            Status::Final
        });
        let submitted_by = get(self, Col::SubmittedBy);
        let date_text = get(self, Col::SubmittedOn);
        let submitted_on = self.submitted_on(trim(&date_text)).unwrap_or_else(|| {
            problems.push(
                mk(
                    Code::BadDate,
                    Col::SubmittedOn,
                    format!("`{}` is not a date", trim(&date_text)),
                )
                .help("write dates as 2024-07-21 or 21/07/2024"),
            );
            None
        });

        // The row's problems name its indicator, area and period as the framework does (SPEC
        // 2.2: output uses the canonical periods): the framework's spelling of a code, the
        // default area for an empty cell, the canonical period. What could not be read stays
        // as written; the messages quote the cells as written.
        if problems.len() > first_problem {
            let ind_code = indicator.map(|i| fw.indicators[i].code.as_str());
            let area_code = area.map(|a| fw.areas[a].code.as_str());
            let period = read_period.map(|p| p.to_string());
            for d in &mut problems[first_problem..] {
                if let Some(c) = ind_code {
                    c.clone_into(&mut d.indicator);
                }
                if let Some(c) = area_code {
                    c.clone_into(&mut d.area);
                }
                if let Some(p) = &period {
                    p.clone_into(&mut d.period);
                }
            }
        }
        if problems[first_problem..].iter().any(|d| d.is_error()) {
            // Sent, though refused: its return is not absent (SPEC 3), and with a value
            // its area has sent the indicator one.
            if let (Some(indicator), Some(area), Some(period), true) =
                (indicator, area, read_period, ended)
            {
                out.sent.push(crate::returns::Sent {
                    indicator: indicator as u32,
                    area: area as u32,
                    period,
                    valued: value.is_some(),
                });
            }
            return None;
        }
        let (Some(indicator), Some(area), Some(period), Some(value)) =
            (indicator, area, period, value)
        else {
            return None;
        };
        let info = self.info(
            trim(&commentary),
            prediction,
            action_plan,
            trim(&submitted_by),
            submitted_on,
        );
        Some(checking(
            (indicator, area),
            period,
            value,
            (numerator, denominator),
            status,
            info,
        ))
    }
}

/// A period text's readings, one per frequency hint ([`period_slot`]).
type PeriodSlots = [Option<ParsedPeriod>; 5];

/// A text of up to 16 bytes as two words and its length: equal keys, equal texts (the words
/// cover every byte), hashed and compared as three numbers rather than through `memcmp`.
type ShortKey = (u64, u64, u8);

/// The [`ShortKey`] of `text`, or `None` when it is longer than 16 bytes.
#[inline(always)]
fn short_key(text: &str) -> Option<ShortKey> {
    short_key_of(text.as_bytes())
}

/// [`short_key`] of bytes.
#[inline(always)]
fn short_key_of(b: &[u8]) -> Option<ShortKey> {
    let n = b.len();
    let word8 = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
    let word4 = |at: usize| {
        u64::from(u32::from_le_bytes(
            b[at..at + 4].try_into().unwrap_or([0; 4]),
        ))
    };
    let (first, last) = match n {
        8..=16 => (word8(0), word8(n - 8)),
        4..=7 => (word4(0), word4(n - 4)),
        0..=3 => (b.iter().fold(0, |w, &x| (w << 8) | u64::from(x)), 0),
        _ => return None,
    };
    Some((first, last, n as u8))
}

/// Where a period text's reading with this frequency hint sits in [`Checker`]'s period cache.
#[inline]
fn period_slot(hint: Option<Frequency>) -> usize {
    hint.map_or(0, |f| f as usize + 1)
}

/// What [`Checker::quick`] and [`Checker::row`] return for a row they take: its indicator and
/// area, its period and value, its numerator and denominator, status and optional columns.
#[inline(always)]
fn checking(
    (indicator, area): (usize, usize),
    period: Period,
    value: Option<Decimal>,
    (numerator, denominator): (Option<Decimal>, Option<Decimal>),
    status: Status,
    info: u32,
) -> Checking {
    (
        Candidate {
            indicator: indicator as u32,
            area: area as u32,
            period,
            value: Packed::new(value),
            parts: crate::returns::NO_PARTS,
            status,
            info,
        },
        PackedParts::new(numerator, denominator),
    )
}

/// A record's cells for [`Checker::quick`], by column, as bytes: empty for a column the file
/// lacks. The record is known to be UTF-8 ([`QuickCells::new`]), and its codes, periods and
/// numbers are read as bytes; a cell is made text only where it is needed as text. A cell is
/// found from the field ends when asked for, so a column the checks do not read costs nothing.
struct QuickCells<'r> {
    bytes: &'r [u8],
    ends: &'r [usize],
    cols: &'r [Option<usize>; 12],
    /// The record as text, for a file with optional columns read as text on every row
    /// ([`Layout::has_extras`]): one check of the record's bytes costs less than one a cell.
    text: Option<&'r str>,
}

impl<'r> QuickCells<'r> {
    /// The cells of `rec`; `None` when the record is not UTF-8. A file with optional columns
    /// has the record made text at once (they are read as text on every row); any other has it
    /// tested for ASCII a word at a time, and checked as UTF-8 only when it is not.
    #[inline(always)]
    fn new(rec: &'r Record, layout: &'r Layout) -> Option<QuickCells<'r>> {
        let bytes = rec.as_slice();
        let text = if layout.has_extras() {
            Some(std::str::from_utf8(bytes).ok()?)
        } else {
            if !bytes.is_ascii() {
                std::str::from_utf8(bytes).ok()?;
            }
            None
        };
        Some(QuickCells {
            bytes,
            ends: rec.ends(),
            cols: &layout.cols,
            text,
        })
    }

    /// Column `c`'s cell (`None` only for a record whose field ends do not fit its bytes,
    /// which the parser never makes).
    #[inline(always)]
    fn get(&self, c: Col) -> Option<&'r [u8]> {
        let (start, end) = self.span(c)?;
        self.bytes.get(start..end)
    }

    /// Where column `c`'s cell lies in the record's bytes (empty for a column the file lacks).
    #[inline(always)]
    fn span(&self, c: Col) -> Option<(usize, usize)> {
        let Some(i) = self.cols[c as usize] else {
            return Some((0, 0));
        };
        let end = *self.ends.get(i)?;
        let start = match i {
            0 => 0,
            _ => *self.ends.get(i - 1)?,
        };
        Some((start, end))
    }

    /// Column `c`'s cell as text (a field ends on a character boundary, as the delimiter is
    /// ASCII, so a cell of a UTF-8 record is UTF-8; `None` otherwise).
    #[inline(always)]
    fn text(&self, c: Col) -> Option<&'r str> {
        let (start, end) = self.span(c)?;
        if start == end {
            return Some("");
        }
        match self.text {
            Some(text) => text.get(start..end),
            None => std::str::from_utf8(self.bytes.get(start..end)?).ok(),
        }
    }
}

/// Whether a cell has white space at either end.
#[inline(always)]
fn padded(cell: &[u8]) -> bool {
    let space = |b: &u8| b.is_ascii_whitespace() || *b == 0xa0 || *b == 0xc2;
    cell.first().is_some_and(space) || cell.last().is_some_and(space)
}

/// A numerator or denominator cell for [`Checker::quick`]: `None` when it has anything to say.
#[inline(always)]
fn quick_part(text: &[u8]) -> Option<Option<Decimal>> {
    match value::parse_bytes(text, false)? {
        Cell::Number {
            value,
            normalised: None,
        } => Some(Some(value)),
        Cell::Empty | Cell::Suppressed => Some(None),
        _ => None,
    }
}

/// The `prediction` cell: `None` when it is not one pmf knows.
#[inline]
fn prediction_of(text: &str) -> Option<Option<Prediction>> {
    if text.is_empty() {
        return Some(None);
    }
    match fold_header(text).as_str() {
        "" => Some(None),
        "ontrack" => Some(Some(Prediction::OnTrack)),
        "offtrack" => Some(Some(Prediction::OffTrack)),
        "atrisk" => Some(Some(Prediction::AtRisk)),
        _ => None,
    }
}

/// The `action_plan` cell, trimmed: `None` when it is not yes or no.
#[inline]
fn action_plan_of(plan: &str) -> Option<Option<bool>> {
    let is = |words: &[&str]| words.iter().any(|w| plan.eq_ignore_ascii_case(w));
    match () {
        _ if plan.is_empty() => Some(None),
        _ if is(&["yes", "y", "true"]) => Some(Some(true)),
        _ if is(&["no", "n", "false"]) => Some(Some(false)),
        _ => None,
    }
}

/// The `status` cell, trimmed: `None` when it is not final or provisional.
#[inline]
fn status_of(status: &str) -> Option<Status> {
    match () {
        _ if status.is_empty() || status.eq_ignore_ascii_case("final") => Some(Status::Final),
        _ if status.eq_ignore_ascii_case("provisional") => Some(Status::Provisional),
        _ => None,
    }
}

/// The `submitted_on` cell, trimmed: `None` when it is not a date.
#[inline]
fn submitted_on_of(date: &str) -> Option<Option<NaiveDate>> {
    if date.is_empty() {
        Some(None)
    } else {
        parse_date(date).map(Some)
    }
}

/// `a == b`, for the short codes compared on every row (the last indicator and area) without
/// a call to `memcmp`: texts of up to 16 bytes are compared by their [`ShortKey`]s.
#[inline(always)]
fn same_text(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// [`same_text`] of bytes.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match short_key_of(a) {
        Some(k) => short_key_of(b) == Some(k),
        None => a == b,
    }
}

/// Sets a one-code cache, reusing its text's memory.
fn remember(slot: &mut Option<(String, Match)>, code: &str, m: Match) {
    match slot {
        Some((text, found)) => {
            text.clear();
            text.push_str(code);
            *found = m;
        }
        None => *slot = Some((code.to_string(), m)),
    }
}

/// Whether `v` is within rounding (half a unit of its last decimal) of `n / d × scale`,
/// computed exactly on the decimals' integer mantissas: |v·d − n·scale| ≤ 5·10^-(v's scale + 1)·|d|,
/// with every term brought to one power of ten. `None` when a product would not fit in 128 bits
/// or `v` has 28 decimals (then the caller divides).
fn ratio_within(v: Decimal, n: Decimal, d: Decimal, scale: Decimal) -> Option<bool> {
    let (sv, sn, sd, ss) = (v.scale(), n.scale(), d.scale(), scale.scale());
    if sv >= 28 || d.is_zero() {
        return None;
    }
    // `10i128.checked_pow(e)`, from a table: this runs for every row with a ratio.
    let pow = |e: u32| POW10.get(e as usize).copied();
    // Nearly always: mantissas under 2^31 and small scales, where no product can pass 2^123,
    // so plain multiplication gives what the checked path below would.
    let small = |m: i128| m.unsigned_abs() < 1 << 31;
    let (mv, mn, md, ms) = (v.mantissa(), n.mantissa(), d.mantissa(), scale.mantissa());
    if small(mv) && small(mn) && small(md) && small(ms) && sv + 1 + sd <= 18 && 1 + sn + ss <= 18 {
        let vd = mv * md * POW10[(1 + sn + ss) as usize];
        let ns = mn * ms * POW10[(sv + 1 + sd) as usize];
        let bound = md.abs() * 5 * POW10[(sn + ss) as usize];
        return Some((vd - ns).abs() <= bound);
    }
    let vd = v
        .mantissa()
        .checked_mul(d.mantissa())?
        .checked_mul(pow(1 + sn + ss)?)?;
    let ns = n
        .mantissa()
        .checked_mul(scale.mantissa())?
        .checked_mul(pow(sv + 1 + sd)?)?;
    let gap = vd.checked_sub(ns)?.checked_abs()?;
    let bound = d
        .mantissa()
        .checked_abs()?
        .checked_mul(5)?
        .checked_mul(pow(sn + ss)?)?;
    Some(gap <= bound)
}

/// The powers of ten an `i128` holds: 10^0 to 10^38.
/// `v < 0`, without a decimal comparison (a negative zero is zero).
#[inline(always)]
fn below_zero(v: Decimal) -> bool {
    v.is_sign_negative() && !v.is_zero()
}

/// `v > 100`, exactly, without a decimal comparison: the mantissa against 100 in the value's
/// units (at most 100 × 10^28, well within an `i128`).
#[inline(always)]
fn above_hundred(v: Decimal) -> bool {
    v.mantissa() > 100 * POW10[v.scale().min(28) as usize]
}

const POW10: [i128; 39] = {
    let mut table = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `str::trim`, without decoding characters when the cell is empty or neither starts nor ends
/// with a space (nearly every cell).
#[inline]
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        (None, _) => s,
        _ => s.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::{ratio_within, trim};
    use rust_decimal::Decimal;

    proptest::proptest! {
        /// The fast trim is `str::trim`, for any text (spaces, tabs, NBSP, other scripts).
        #[test]
        fn trim_is_str_trim(s in "[ \t\u{a0}\u{3000}a-zA-Z0-9é£%,.-]{0,12}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }
    }

    fn d(m: i64, s: u32) -> Decimal {
        Decimal::new(m, s)
    }

    #[test]
    fn a_record_passes_to_the_merge_in_52_bytes() {
        assert_eq!(std::mem::size_of::<super::Rec>(), 52);
    }

    proptest::proptest! {
        /// The range checks without decimal comparisons are the comparisons, for any decimal.
        #[test]
        fn range_checks_are_decimal_comparisons(v in crate::testing::decimals()) {
            proptest::prop_assert_eq!(super::below_zero(v), v < Decimal::ZERO);
            proptest::prop_assert_eq!(super::above_hundred(v), v > Decimal::ONE_HUNDRED);
        }
    }

    proptest::proptest! {
        /// The short-text comparison is `==`: equal texts, texts of one length that differ at
        /// either end or in the middle, and texts of other lengths.
        #[test]
        fn same_text_is_eq(a in "[A-Z0-9 é]{0,20}", flip in 0usize..24, other in "[A-Z0-9 ]{0,20}") {
            proptest::prop_assert!(super::same_text(&a, &a));
            let mut b = a.clone().into_bytes();
            if let Some(x) = b.get_mut(flip) {
                *x ^= 1;
            }
            if let Ok(b) = String::from_utf8(b) {
                proptest::prop_assert_eq!(super::same_text(&a, &b), a == b);
            }
            proptest::prop_assert_eq!(super::same_text(&a, &other), a == other);
        }

        /// Counting only the line breaks at the end, after a record without any inside its
        /// fields, finds the lines that searching every byte does: CR, LF and CRLF ends,
        /// blank lines, quoted line breaks.
        #[test]
        fn plain_lines_are_lines(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"a,\"\r\n\n\n".to_vec()), 0..120),
        ) {
            use super::super::record::{Record, Records};
            let (mut searched, mut counted) = (super::Lines::new(&bytes, 1), super::Lines::new(&bytes, 1));
            let mut records = Records::new(&bytes, b',');
            let mut rec = Record::default();
            let mut plain = false;
            while let Some(at) = records.next_into(&mut rec) {
                let want = searched.line_of(at, false);
                let got = counted.line_of(at, plain);
                proptest::prop_assert_eq!(got, want);
                plain = super::super::newlines(rec.as_slice()) == 0;
            }
        }

        /// Short keys are equal exactly when the texts are (up to 16 bytes; longer texts
        /// have none): texts that differ in any one byte, or only in length.
        #[test]
        fn short_keys_are_the_texts(a in "[A-Z0-9 /\u{0}é-]{0,18}", flip in 0usize..20, other in "[A-Z0-9 /\u{0}]{0,18}") {
            let key = super::short_key(&a);
            proptest::prop_assert_eq!(key.is_some(), a.len() <= 16);
            let mut b = a.clone().into_bytes();
            if let Some(x) = b.get_mut(flip) {
                *x ^= 1;
            }
            if let Ok(b) = String::from_utf8(b) {
                if key.is_some() {
                    proptest::prop_assert_eq!(key == super::short_key(&b), a == b);
                }
            }
            for t in [other.clone(), format!("{a}\u{0}"), a.chars().skip(1).collect()] {
                if key.is_some() && t.len() <= 16 {
                    proptest::prop_assert_eq!(key == super::short_key(&t), a == t, "{:?} {:?}", a, t);
                }
            }
        }
    }

    #[test]
    fn range_check_edges() {
        for (text, below, above) in [
            ("-0", false, false),
            ("0", false, false),
            ("-0.001", true, false),
            ("100", false, false),
            ("100.000", false, false),
            ("100.0001", false, true),
            ("99.99", false, false),
        ] {
            let v: Decimal = text.parse().unwrap();
            assert_eq!(
                (super::below_zero(v), super::above_hundred(v)),
                (below, above),
                "{text}"
            );
        }
    }

    #[test]
    fn powers_of_ten_are_checked_pow() {
        for e in 0..45u32 {
            assert_eq!(
                super::POW10.get(e as usize).copied(),
                10i128.checked_pow(e),
                "10^{e}"
            );
        }
    }

    #[test]
    fn ratio_edges() {
        // 151 / 200 × 100 = 75.5. The tolerance is half a unit of the value's last decimal:
        // 76 is 0.5 off (within 0.5), 77 is not; 75.4 is 0.1 off (beyond 0.05).
        let (n, den, s) = (d(151, 0), d(200, 0), d(100, 0));
        assert_eq!(ratio_within(d(755, 1), n, den, s), Some(true));
        assert_eq!(ratio_within(d(76, 0), n, den, s), Some(true)); // 0.5 off, tolerance 0.5
        assert_eq!(ratio_within(d(77, 0), n, den, s), Some(false));
        assert_eq!(ratio_within(d(754, 1), n, den, s), Some(false));
        // 1 / 3 × 100 = 33.33...: 33.3 is within 0.05, 33.4 is not.
        assert_eq!(ratio_within(d(333, 1), d(1, 0), d(3, 0), s), Some(true));
        assert_eq!(ratio_within(d(334, 1), d(1, 0), d(3, 0), s), Some(false));
        // Too large for 128 bits: the caller divides.
        let big = Decimal::MAX;
        assert_eq!(ratio_within(big, d(1, 0), big, s), None);
    }

    proptest::proptest! {
        /// The same verdict as dividing, on figures a return holds.
        #[test]
        fn agrees_with_division(v in 0i64..1_000_000, vs in 0u32..4, n in 0i64..1_000_000,
                                den in 1i64..1_000_000, ds in 0u32..3, s in proptest::sample::select(vec![1i64, 100, 1000])) {
            let (v, n, den, s) = (d(v, vs), d(n, 0), d(den, ds), d(s, 0));
            let expected = n / den * s;
            let divided = (v - expected).abs() <= Decimal::new(5, v.scale() + 1);
            proptest::prop_assert_eq!(ratio_within(v, n, den, s), Some(divided));
        }
    }

    mod quick {
        use super::super::{Checked, Checker, Col, Layout, Record};
        use crate::framework::Framework;
        use chrono::NaiveDate;
        use proptest::prelude::*;

        use crate::returns::read::tests::fw;

        fn as_of() -> NaiveDate {
            NaiveDate::from_ymd_opt(2025, 11, 15).unwrap()
        }

        proptest! {
            /// Whatever the order of the codes (the framework's, which the next-area guess
            /// follows, or any other; loose spellings, unknown codes), the checker finds
            /// what the framework's own look-up finds.
            #[test]
            fn area_lookups_are_the_frameworks(
                codes in proptest::collection::vec(
                    proptest::sample::select(vec!["T", "T-A", "T-B", "t-b", "T-C", "X", ""]), 0..40),
            ) {
                let fw = fw();
                let mut c = Checker::new(&fw, as_of());
                for code in codes {
                    prop_assert_eq!(c.lookup_area(code), fw.area(code), "{}", code);
                }
            }
        }

        #[test]
        fn every_name_is_kept_past_the_bound_on_names() {
            // More distinct `submitted_by` names than the checker remembers: each row's entry
            // still has its own name, with a date shared or not.
            let fw = fw();
            let mut c = Checker::new(&fw, as_of());
            let day = NaiveDate::from_ymd_opt(2025, 4, 21);
            for k in 0..100_010 {
                let name = format!("n{k}");
                let i = c.info("", None, None, &name, day);
                assert_eq!(
                    c.infos[i as usize].submitted_by.as_deref(),
                    Some(name.as_str())
                );
                assert_eq!(c.infos[i as usize].submitted_on, day);
            }
            let again = c.info("", None, None, "n100009", day);
            assert_eq!(
                c.infos[again as usize].submitted_by.as_deref(),
                Some("n100009")
            );
            let other = c.info("", None, None, "n5", day);
            assert_eq!(c.infos[other as usize].submitted_by.as_deref(), Some("n5"));
            assert_eq!(c.info("", None, None, "n100009", day), again);
        }

        /// The columns in `COLUMNS` order, each at its field index in the file, or absent.
        fn layout(cols: [Option<usize>; 12]) -> Layout {
            let width = cols.iter().flatten().max().map_or(0, |m| m + 1);
            Layout::new(cols, width)
        }

        /// Every column, the benchmark's seven, the three required, and some among unread ones.
        fn layouts() -> Vec<Layout> {
            vec![
                layout(std::array::from_fn(Some)),
                layout([
                    Some(0),
                    Some(1),
                    Some(3),
                    Some(2),
                    Some(4),
                    Some(5),
                    Some(6),
                    None,
                    None,
                    None,
                    None,
                    None,
                ]),
                layout([
                    Some(0),
                    Some(1),
                    Some(2),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ]),
                // Columns pmf does not read before, between and after those it does.
                Layout::new(
                    [
                        Some(1),
                        Some(3),
                        Some(5),
                        Some(6),
                        None,
                        None,
                        Some(8),
                        None,
                        None,
                        None,
                        None,
                        None,
                    ],
                    10,
                ),
            ]
        }

        /// What `quick` and `row` make of a record: (quick's candidate, row's candidate and
        /// problems).
        fn both(
            fw: &Framework,
            layout: &Layout,
            rec: &Record,
        ) -> (
            Option<super::super::Checking>,
            Option<super::super::Checking>,
            usize,
        ) {
            let quick = Checker::new(fw, as_of()).quick(rec, layout);
            let mut out = Checked::default();
            let row = Checker::new(fw, as_of()).row(&mut out, "r.csv", 2, rec, layout);
            (quick, row, out.diags.len())
        }

        /// A record with `cells` (by column) placed as `layout` says.
        fn record(layout: &Layout, cells: &[Vec<u8>; 12]) -> Record {
            Record::from(fields(layout, cells))
        }

        fn fields(layout: &Layout, cells: &[Vec<u8>; 12]) -> Vec<Vec<u8>> {
            // A column pmf does not read holds text that is no cell's.
            let mut fields = vec![b"?".to_vec(); layout.width];
            for (c, cell) in cells.iter().enumerate() {
                if let Some(i) = layout.cols[c] {
                    fields[i] = cell.clone();
                }
            }
            fields
        }

        fn cell(options: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
            proptest::sample::select(options).prop_map(<[u8]>::to_vec)
        }

        #[test]
        fn a_clean_row_is_taken_quickly_and_a_warned_one_is_not() {
            let fw = fw();
            let l = &layouts()[1];
            let clean: [Vec<u8>; 12] = [
                "PC 01",
                "2024/25 Q1",
                "75.5",
                "T-A",
                "151",
                "200",
                "Up",
                "",
                "",
                "",
                "",
                "",
            ]
            .map(|t| t.as_bytes().to_vec());
            // In every layout, unread columns or not, the clean row is taken quickly.
            for l in &layouts() {
                let (quick, row, problems) = both(&fw, l, &record(l, &clean));
                assert_eq!(problems, 0);
                assert!(quick.is_some(), "{:?}", l.cols);
                assert_eq!(quick, row);
            }
            let (quick, row, problems) = both(&fw, l, &record(l, &clean));
            assert_eq!(problems, 0);
            assert!(quick.is_some());
            assert_eq!(quick, row);
            let (candidate, parts) = quick.unwrap();
            assert_eq!(candidate.area, 1);
            assert_eq!(
                parts,
                crate::returns::PackedParts::new(Some(151.into()), Some(200.into()))
            );
            let mut loose = clean.clone();
            loose[Col::Indicator as usize] = b"pc 01".to_vec();
            let (quick, row, problems) = both(&fw, l, &record(l, &loose));
            assert_eq!(problems, 1, "a normalised-value warning");
            assert!(row.is_some() && quick.is_none());
        }

        /// A record's cells, by column, from edge-case texts, and whether it is ragged (-1: a
        /// field short, 1: one too many).
        fn row_cells() -> impl Strategy<Value = (i8, [Vec<u8>; 12])> {
            (
                proptest::sample::select(vec![0i8, 0, 0, 0, -1, 1]),
                (
                    cell(&[
                        b"PC 01",
                        b"CT 01",
                        b"MN 01",
                        b"pc 01",
                        b" PC 01",
                        b"XX 99",
                        b"",
                        b"PC\xa301",
                        b"PC 01\xc2\xa0",
                    ]),
                    cell(&[
                        b"2024/25 Q1",
                        b"2024/25 Q4",
                        b"2026/27 Q1",
                        b"Apr 2024",
                        b"2024/25",
                        b"junk",
                        b"",
                        b" 2024/25 Q2 ",
                        b"2024/25 Q1\xa3",
                        b"2025-10",
                        b"2025-11",
                        b"2025/26 Q2",
                        b"2025/26 Q3",
                    ]),
                    cell(&[
                        b"75.5", b"76", b"0", b"-1", b"101", b"45%", b"1,234", b"[c]", b"x", b"",
                        b"abc", b" 5 ", b"75.50", b"1e3", b"100", b"7\xa3",
                    ]),
                    cell(&[b"T-A", b"T-B", b"", b"t-a", b"ZZ", b" T-A", b"T-\xa3", b" "]),
                    cell(&[b"", b"151", b"0", b"1.5", b"x", b"abc", b" 3"]),
                    cell(&[b"", b"200", b"0", b"2", b"[c]", b"abc"]),
                ),
                (
                    cell(&[
                        b"",
                        b"Up",
                        b" padded ",
                        b"\xc2\xa35 more",
                        b"\xa3 5",
                        b"line\nbreak",
                    ]),
                    cell(&[b"", b"on track", b"Off-Track", b"nope"]),
                    cell(&[b"", b"yes", b"N", b"maybe"]),
                    cell(&[b"", b"final", b"Provisional", b"draft"]),
                    cell(&[b"", b"TC", b" J Smith "]),
                    cell(&[b"", b"2024-07-21", b"21/07/2024", b"31/02/2024", b"soon"]),
                ),
            )
                .prop_map(|(ragged, (a, b, c, d, e, f), (g, h, i, j, k, m))| {
                    (ragged, [a, b, c, d, e, f, g, h, i, j, k, m])
                })
        }

        /// Like [`row_cells`], but mostly rows with nothing to report, so that runs of them
        /// (sharing names, dates and optional columns) are common.
        fn mostly_clean_cells() -> impl Strategy<Value = (i8, [Vec<u8>; 12])> {
            (
                proptest::sample::select(vec![0i8, 0, 0, 0, 0, 0, 0, -1]),
                (
                    cell(&[b"CT 01", b"CT 01", b"CT 01", b"CT 01", b"ct 01", b"XX 99"]),
                    cell(&[b"2024/25 Q1", b"2024/25 Q2", b"2024/25 Q3", b"junk"]),
                    cell(&[b"5", b"6", b"7.5", b"5", b"-1", b"[c]", b"x"]),
                    cell(&[b"T-A", b"T-B", b"T-A", b"", b"t-a"]),
                    cell(&[b"", b"", b"", b"3"]),
                    cell(&[b"", b"", b"", b"4"]),
                ),
                (
                    cell(&[b"", b"", b"", b"Up"]),
                    cell(&[b"", b"", b"", b"on track"]),
                    cell(&[b"", b"", b"yes"]),
                    cell(&[b"", b"final", b"final", b"draft"]),
                    cell(&[b"", b"TC", b"TC", b"TC", b"Ann"]),
                    cell(&[
                        b"",
                        b"21/07/2024",
                        b"21/07/2024",
                        b"21/07/2024",
                        b"2024-10-20",
                        b"soon",
                    ]),
                ),
            )
                .prop_map(|(ragged, (a, b, c, d, e, f), (g, h, i, j, k, m))| {
                    (ragged, [a, b, c, d, e, f, g, h, i, j, k, m])
                })
        }

        /// The record for `cells` in `layout`, made ragged as asked.
        fn ragged_record(layout: &Layout, ragged: i8, cells: &[Vec<u8>; 12]) -> Record {
            let mut fields = fields(layout, cells);
            if ragged < 0 {
                fields.pop();
            } else if ragged > 0 {
                fields.push(b"extra".to_vec());
            }
            Record::from(fields)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]
            /// `quick` takes a row only when `row` would take it without a word, and makes
            /// the same candidate; rows that are ragged, not UTF-8, loosely or wrongly coded,
            /// mistimed, normalised, out of range or inconsistent are left to `row`.
            #[test]
            fn quick_is_row(which in 0..4usize, (ragged, cells) in row_cells()) {
                let fw = fw();
                let l = &layouts()[which];
                let (quick, row, problems) = both(&fw, l, &ragged_record(l, ragged, &cells));
                if let Some(q) = quick {
                    prop_assert_eq!(problems, 0);
                    prop_assert_eq!(Some(q), row);
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]
            /// Over a run of rows, one checker offering each row to `quick` first (as
            /// `check_chunk` does) answers and reports exactly as one that sends every row to
            /// `row`: what the checker remembers from row to row (codes, periods, dates, the
            /// last name, the chunk's table of optional columns) does not depend
            /// on which path took the rows before.
            #[test]
            fn quick_then_row_is_row_over_many_rows(
                which in 0..4usize,
                rows in proptest::collection::vec(prop_oneof![row_cells(), mostly_clean_cells(), mostly_clean_cells()], 1..10),
            ) {
                let fw = fw();
                let l = &layouts()[which];
                let (mut a, mut b) = (Checker::new(&fw, as_of()), Checker::new(&fw, as_of()));
                let (mut out_a, mut out_b) = (Checked::default(), Checked::default());
                for (ragged, cells) in &rows {
                    let rec = ragged_record(l, *ragged, cells);
                    let via_quick = match a.quick(&rec, l) {
                        Some(c) => Some(c),
                        None => a.row(&mut out_a, "r.csv", 2, &rec, l),
                    };
                    let via_row = b.row(&mut out_b, "r.csv", 2, &rec, l);
                    prop_assert_eq!(via_quick, via_row);
                }
                prop_assert_eq!(format!("{:?}", out_a.diags), format!("{:?}", out_b.diags));
                // The candidates' optional columns are indices into the same table.
                prop_assert_eq!(&a.infos, &b.infos);
            }
        }
    }
}
