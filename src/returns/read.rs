//! Reading return files (SPEC 2.3) into observations, with every problem of SPEC 3.
//!
//! Streams records from any reader with the `csv` crate (one reused record, no per-row text
//! kept), so memory grows with the observations, not with the file. Handles: a UTF-8 BOM,
//! fields that are not UTF-8 (read as Windows-1252, with one warning per file), `;` and tab
//! delimiters sniffed from the header, CRLF, quoted fields with embedded newlines, blank and
//! ragged rows. Completeness (missing and late returns) is [`super::complete`]'s job.

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::io::BufRead;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::value::{self, Cell};
use super::{Observation, Prediction, Returns, RowInfo, Status};
use crate::diag::{Code, Diagnostic};
use crate::framework::{short_list, Framework, Match, Unit};
use crate::period::{Frequency, Period};

/// One file to read: its name as the user gave it, and its bytes.
pub struct Source<R> {
    pub name: String,
    pub reader: R,
}

/// Passes bytes through, remembering where the line ends are, so a record's physical line can
/// be found. The csv crate counts records rather than lines, skips blank lines, and reports a
/// record as starting just after the previous record's terminator (on the LF of a CRLF), so
/// the line ends right at that offset belong to terminators and skipped blank lines.
struct LineCounter<R> {
    inner: R,
    offset: u64,
    /// Offsets and bytes (CR or LF) not yet passed by the records read.
    pending: std::collections::VecDeque<(u64, u8)>,
    /// LFs already passed.
    passed: u64,
}

impl<R: std::io::Read> std::io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            self.pending.push_back((self.offset + i as u64, buf[i]));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> LineCounter<R> {
    /// The 1-based line on which the record the csv crate places at `offset` really starts
    /// (offsets must not go backwards).
    fn line_of(&mut self, offset: u64) -> u64 {
        while let Some(&(p, b)) = self.pending.front() {
            if p >= offset {
                break;
            }
            self.passed += u64::from(b == b'\n');
            self.pending.pop_front();
        }
        let mut q = offset;
        while let Some(&(p, b)) = self.pending.front() {
            if p != q {
                break;
            }
            self.passed += u64::from(b == b'\n');
            self.pending.pop_front();
            q += 1;
        }
        self.passed + 1
    }
}

/// The columns pmf reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Indicator,
    Period,
    Value,
    Area,
    Numerator,
    Denominator,
    Commentary,
    Prediction,
    ActionPlan,
    Status,
    SubmittedBy,
    SubmittedOn,
}

const COLUMNS: [(&str, Col); 12] = [
    ("indicator", Col::Indicator),
    ("period", Col::Period),
    ("value", Col::Value),
    ("area", Col::Area),
    ("numerator", Col::Numerator),
    ("denominator", Col::Denominator),
    ("commentary", Col::Commentary),
    ("prediction", Col::Prediction),
    ("actionplan", Col::ActionPlan),
    ("status", Col::Status),
    ("submittedby", Col::SubmittedBy),
    ("submittedon", Col::SubmittedOn),
];

const COLUMN_NAMES: &str = "indicator, period, value, area, numerator, denominator, commentary, prediction, action_plan, status, submitted_by, submitted_on";

/// Header text folded for matching: no case, spaces, underscores or hyphens.
fn fold_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A likely meant column for an unknown header.
fn did_you_mean(folded: &str) -> Option<&'static str> {
    let guesses: [(&[&str], &str); 8] = [
        (
            &["comment", "comments", "narrative", "notes", "note"],
            "commentary",
        ),
        (&["actual", "result", "outturn", "amount"], "value"),
        (
            &["code", "indicatorcode", "measure", "kpi", "pi"],
            "indicator",
        ),
        (&["areacode", "locality", "ward", "district"], "area"),
        (
            &["date", "submitted", "datesubmitted", "submissiondate"],
            "submitted_on",
        ),
        (&["quarter", "month", "year", "periodcode"], "period"),
        (&["num"], "numerator"),
        (&["den", "denom", "base"], "denominator"),
    ];
    guesses
        .iter()
        .find(|(names, _)| names.contains(&folded))
        .map(|(_, col)| *col)
}

/// Pick the delimiter of a header line: the one that yields the most known column names; a
/// tie keeps the comma.
fn sniff_delimiter(header: &[u8]) -> u8 {
    let score = |d: u8| -> usize {
        let text = String::from_utf8_lossy(header);
        text.split(d as char)
            .filter(|h| {
                let f = fold_header(h.trim_matches('"'));
                COLUMNS.iter().any(|(n, _)| *n == f)
            })
            .count()
    };
    let comma = score(b',');
    let (mut best, mut best_score) = (b',', comma);
    for d in [b';', b'\t'] {
        let s = score(d);
        if s > best_score && s >= 2 {
            best = d;
            best_score = s;
        }
    }
    best
}

struct Reader<'f> {
    framework: &'f Framework,
    as_of: NaiveDate,
    diags: Vec<Diagnostic>,
    observations: Vec<Observation>,
    parts: Vec<super::Parts>,
    /// Rows removed after the fact (the first of a conflicting pair).
    dropped: Vec<bool>,
    /// The first row of each (indicator, area, period), for duplicates and conflicts.
    seen: Firsts,
    files: Vec<String>,
    date_columns: Vec<u32>,
    /// Parsed periods by text and frequency hint, each with whether it ends after `as_of`.
    periods: FxHashMap<Box<str>, [Option<ParsedPeriod>; 5]>,
    /// The last indicator code read and its match: rows usually come grouped by indicator.
    last_indicator: Option<(Box<str>, Match)>,
    /// Area codes already looked up (bounded, like `periods`).
    areas: FxHashMap<Box<str>, Match>,
}

/// Read every source. Returns the valid observations and every problem found, in file order.
pub fn read<R: BufRead + Send>(
    framework: &Framework,
    sources: Vec<Source<R>>,
    as_of: NaiveDate,
) -> (Returns, Vec<Diagnostic>) {
    let mut r = Reader {
        framework,
        as_of,
        diags: Vec::new(),
        observations: Vec::new(),
        parts: Vec::new(),
        dropped: Vec::new(),
        seen: Firsts::new(framework),
        files: Vec::new(),
        date_columns: Vec::new(),
        periods: FxHashMap::default(),
        last_indicator: None,
        areas: FxHashMap::default(),
    };
    for source in sources {
        let index = r.files.len() as u32;
        r.files.push(source.name.clone());
        r.date_columns.push(0);
        r.read_file(index, &source.name, source.reader);
    }
    drop(r.seen);
    // In place: a second vector of every observation would double the peak memory.
    let mut observations = r.observations;
    let mut index = 0;
    observations.retain(|_| {
        index += 1;
        !r.dropped[index - 1]
    });
    (
        Returns {
            observations,
            files: r.files,
            date_columns: r.date_columns,
            parts: r.parts,
        },
        r.diags,
    )
}

/// The first observation of each (indicator, area, period), for duplicates and conflicts.
///
/// The period's frequency is the indicator's (a row of another frequency is not kept), so
/// the key needs no more. The first row's file, line and value are read from its observation,
/// which stays in `observations` (marked `dropped` once in conflict) until the end.
///
/// A hash map with an entry per row costs tens of bytes a row and a cache miss on every row at
/// national scale. Instead each (indicator, area) pair keeps a chain through its observations,
/// newest first: 4 bytes a row, and since returns come grouped by indicator and area, the
/// chain walked is the last few rows read, already in cache. A chain is walked at most
/// [`Firsts::MAX_WALK`] steps; the first time that is not enough (a pair with very many
/// periods), every key so far goes into a map, which is used from then on. Either way the
/// answer is the same: the first row read with that key.
struct Firsts {
    n_areas: usize,
    /// indicator * n_areas + area -> newest observation of the pair + 1 (0: none), when the
    /// framework is small enough for a flat table; else `sparse_heads`.
    heads: Vec<u32>,
    sparse_heads: FxHashMap<(u32, u32), u32>,
    /// Per observation: the previous observation of its pair + 1 (0: none).
    prev: Vec<u32>,
    /// Every key -> its first observation, once chains are given up.
    map: Option<FxHashMap<(u32, u32, i32), u32>>,
}

impl Firsts {
    const MAX_WALK: usize = 64;

    fn new(framework: &Framework) -> Firsts {
        let n_areas = framework.areas.len();
        let cells = framework.indicators.len().saturating_mul(n_areas);
        Firsts {
            n_areas,
            heads: if cells <= 16_000_000 {
                vec![0; cells]
            } else {
                Vec::new()
            },
            sparse_heads: FxHashMap::default(),
            prev: Vec::new(),
            map: None,
        }
    }

    /// The first observation with this key; when there is none, `observations.len()`, which
    /// the caller must then push.
    fn first_or_insert(
        &mut self,
        observations: &[Observation],
        indicator: u32,
        area: u32,
        seq: i32,
    ) -> usize {
        let next = observations.len();
        let Ok(next32) = u32::try_from(next) else {
            return next; // beyond 4 billion rows: not checked for duplicates
        };
        if let Some(map) = &mut self.map {
            return *map.entry((indicator, area, seq)).or_insert(next32) as usize;
        }
        let cell = (indicator as usize)
            .checked_mul(self.n_areas)
            .and_then(|c| c.checked_add(area as usize))
            .filter(|&c| c < self.heads.len() && (area as usize) < self.n_areas);
        let head = match cell {
            Some(c) => &mut self.heads[c],
            None => self.sparse_heads.entry((indicator, area)).or_insert(0),
        };
        let mut at = *head;
        let mut steps = 0;
        while at != 0 {
            let i = at as usize - 1;
            if observations[i].period.seq() == seq {
                return i;
            }
            steps += 1;
            if steps == Self::MAX_WALK {
                return self.give_up_chains(observations, indicator, area, seq);
            }
            at = self.prev[i];
        }
        self.prev.push(*head);
        *head = next32 + 1;
        next
    }

    /// Switches to one map of every key (see the type's documentation).
    fn give_up_chains(
        &mut self,
        observations: &[Observation],
        indicator: u32,
        area: u32,
        seq: i32,
    ) -> usize {
        let mut map = FxHashMap::default();
        map.reserve(observations.len());
        for (i, o) in observations.iter().enumerate() {
            // Every observation kept is the first of its key.
            map.entry((o.indicator, o.area, o.period.seq()))
                .or_insert(i as u32);
        }
        self.heads = Vec::new();
        self.sparse_heads = FxHashMap::default();
        self.prev = Vec::new();
        let first = *map
            .entry((indicator, area, seq))
            .or_insert(observations.len() as u32) as usize;
        self.map = Some(map);
        first
    }
}

/// A period as parsed from a cell, with whether it ends after `as_of` (a `future-period`).
type ParsedPeriod = Result<(Period, bool), crate::period::PeriodError>;

/// Records per batch handed from the parsing thread to the checking thread.
const BATCH_RECORDS: usize = 4096;
/// Batches parsed ahead of the checking thread: bounds the memory in flight.
const BATCHES_IN_FLIGHT: usize = 4;

/// Parsed records on their way to be checked, with the physical line each starts on.
#[derive(Default)]
struct Batch {
    records: Vec<csv::ByteRecord>,
    lines: Vec<Option<u64>>,
    len: usize,
    /// A read error after the last record: its line (when known) and message.
    error: Option<(Option<u64>, String)>,
}

/// Where each column is in one file (0-based field index).
struct Layout {
    cols: [Option<usize>; 12],
    width: usize,
}

impl Layout {
    fn get(&self, c: Col) -> Option<usize> {
        self.cols[c as usize]
    }
}

impl Reader<'_> {
    fn read_file<R: BufRead + Send>(&mut self, file_index: u32, name: &str, mut input: R) {
        // Sniff the delimiter from the first line.
        let first_line: Vec<u8> = match input.fill_buf() {
            Ok(buf) => {
                let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
                let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
                buf[..end].to_vec()
            }
            Err(e) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::MissingColumn,
                        name,
                        format!("the file could not be read: {e}"),
                    )
                    .at(1, 0),
                );
                return;
            }
        };
        let delimiter = sniff_delimiter(&first_line);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineCounter {
                inner: input,
                offset: 0,
                pending: std::collections::VecDeque::new(),
                passed: 0,
            });

        let mut record = csv::ByteRecord::new();
        let mut encoding_warned = false;
        let mut next_line = 1u64; // the line after the previous record
                                  // Header.
        let header_ok = loop {
            match csv.read_byte_record(&mut record) {
                Ok(true) => {
                    let line = record
                        .position()
                        .map_or(1, |p| csv.get_mut().line_of(p.byte()));
                    self.blank_lines(name, next_line, line);
                    next_line = line + 1 + newlines(&record);
                    if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                        self.diags.push(
                            Diagnostic::new(
                                Code::BlankRow,
                                name,
                                "this row is blank and was skipped",
                            )
                            .at(line as u32, 0),
                        );
                        continue;
                    }
                    break true;
                }
                Ok(false) => break false,
                Err(e) => {
                    self.diags.push(
                        Diagnostic::new(
                            Code::MissingColumn,
                            name,
                            format!("the header could not be read: {}", csv_error(&e)),
                        )
                        .at(1, 0),
                    );
                    return;
                }
            }
        };
        if !header_ok {
            self.diags.push(
                Diagnostic::new(Code::MissingColumn, name, "the file is empty: it needs a header row naming at least indicator, period and value")
                    .at(1, 0)
                    .help(format!("the columns pmf reads are {COLUMN_NAMES}")),
            );
            return;
        }
        let header_line = (next_line - 1 - newlines(&record)) as u32;
        if delimiter != b',' {
            let what = if delimiter == b';' {
                "semicolons (;)"
            } else {
                "tabs"
            };
            self.diags.push(
                Diagnostic::new(
                    Code::Delimiter,
                    name,
                    format!("the file is separated by {what}, not commas; it was read that way"),
                )
                .at(header_line, 0)
                .help("export it as \"CSV (comma delimited)\" to be sure"),
            );
        }
        let mut cols = [None; 12];
        let mut unknown = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            let text = self.text(raw, name, header_line, &mut encoding_warned);
            let folded = fold_header(&text);
            if folded.is_empty() {
                continue;
            }
            match COLUMNS.iter().find(|(n, _)| *n == folded) {
                Some((_, c)) if cols[*c as usize].is_none() => cols[*c as usize] = Some(i),
                Some(_) => unknown.push(
                    Diagnostic::new(
                        Code::UnknownColumn,
                        name,
                        format!(
                            "the column `{}` appears twice; the second was ignored",
                            text.trim()
                        ),
                    )
                    .at(header_line, i as u32 + 1),
                ),
                None => {
                    let mut d = Diagnostic::new(
                        Code::UnknownColumn,
                        name,
                        format!(
                            "the column `{}` is not one pmf reads; it was ignored",
                            text.trim()
                        ),
                    )
                    .at(header_line, i as u32 + 1);
                    d.help = Some(match did_you_mean(&folded) {
                        Some(c) => {
                            format!("did you mean `{c}`? The columns pmf reads are {COLUMN_NAMES}")
                        }
                        None => format!("the columns pmf reads are {COLUMN_NAMES}"),
                    });
                    unknown.push(d);
                }
            }
        }
        let layout = Layout {
            cols,
            width: record.len(),
        };
        self.date_columns[file_index as usize] =
            layout.get(Col::SubmittedOn).map_or(0, |i| i as u32 + 1);
        let missing: Vec<&str> = [
            (Col::Indicator, "indicator"),
            (Col::Period, "period"),
            (Col::Value, "value"),
        ]
        .iter()
        .filter(|(c, _)| layout.get(*c).is_none())
        .map(|(_, n)| *n)
        .collect();
        if missing.len() < 3 {
            self.diags.append(&mut unknown);
        }
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let msg = if missing.len() == 3 {
                "the first row is not a header naming the columns indicator, period and value; nothing in this file was read".to_string()
            } else if missing.len() == 1 {
                format!("the file has no {list} column; nothing in this file was read")
            } else {
                format!("the file has no {list} columns; nothing in this file was read")
            };
            self.diags.push(
                Diagnostic::new(Code::MissingColumn, name, msg)
                    .at(header_line, 0)
                    .help(format!(
                        "the first row must name the columns; pmf reads {COLUMN_NAMES}"
                    )),
            );
            return;
        }

        // Two stages on two threads: one thread parses records (the csv crate's work, and
        // finding each record's physical line), this one checks them. Records travel in
        // batches that are sent back to be refilled, so no record is allocated per row, and
        // at most a few batches are in flight, so memory does not grow with the file. The
        // checking order is the file order, exactly as if it were one loop.
        std::thread::scope(|scope| {
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
            let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Batch>();
            scope.spawn(move || loop {
                let mut batch = empty_rx.try_recv().unwrap_or_default();
                batch.len = 0;
                batch.error = None;
                let mut end = false;
                while batch.len < BATCH_RECORDS {
                    if batch.records.len() == batch.len {
                        batch.records.push(csv::ByteRecord::new());
                        batch.lines.push(None);
                    }
                    let record = &mut batch.records[batch.len];
                    match csv.read_byte_record(record) {
                        Ok(true) => {
                            batch.lines[batch.len] =
                                record.position().map(|p| csv.get_mut().line_of(p.byte()));
                            batch.len += 1;
                        }
                        Ok(false) => {
                            end = true;
                            break;
                        }
                        Err(e) => {
                            let line = e.position().map(|p| csv.get_mut().line_of(p.byte()));
                            batch.error = Some((line, csv_error(&e)));
                            end = true;
                            break;
                        }
                    }
                }
                if full_tx.send(batch).is_err() || end {
                    break;
                }
            });
            for batch in full_rx {
                for (record, line) in batch.records[..batch.len].iter().zip(&batch.lines) {
                    let line = line.unwrap_or(next_line);
                    self.blank_lines(name, next_line, line);
                    next_line = line + 1 + newlines(record);
                    self.row(
                        file_index,
                        name,
                        line as u32,
                        record,
                        &layout,
                        &mut encoding_warned,
                    );
                }
                if let Some((line, message)) = &batch.error {
                    self.diags.push(
                        Diagnostic::new(
                            Code::RaggedRow,
                            name,
                            format!("this row could not be read: {message}"),
                        )
                        .at(line.unwrap_or(next_line) as u32, 0),
                    );
                }
                let _ = empty_tx.send(batch);
            }
        });
    }

    /// `Framework::indicator`, remembering the last code (rows come grouped by indicator).
    fn lookup_indicator(&mut self, code: &str) -> Match {
        if let Some((last, m)) = &self.last_indicator {
            if **last == *code {
                return *m;
            }
        }
        let m = self.framework.indicator(code);
        self.last_indicator = Some((code.into(), m));
        m
    }

    /// `Framework::area`, each distinct code looked up once.
    fn lookup_area(&mut self, code: &str) -> Match {
        if let Some(m) = self.areas.get(code) {
            return *m;
        }
        let m = self.framework.area(code);
        if self.areas.len() < 100_000 {
            self.areas.insert(code.into(), m);
        }
        m
    }

    /// Periods repeat on nearly every row: each distinct text is parsed once per hint.
    fn parse_period(&mut self, text: &str, hint: Option<Frequency>) -> ParsedPeriod {
        let slot = hint.map_or(0, |f| f as usize + 1);
        if let Some(cached) = self.periods.get(text).and_then(|e| e[slot].as_ref()) {
            return cached.clone();
        }
        let parsed = Period::parse(text, self.framework.year_start, hint)
            .map(|p| (p, p.end_date() > self.as_of));
        if self.periods.len() < 100_000 {
            self.periods.entry(text.into()).or_default()[slot] = Some(parsed.clone());
        }
        parsed
    }

    /// Reports the blank lines between `from` and `to` (exclusive), which the csv crate skips.
    fn blank_lines(&mut self, name: &str, from: u64, to: u64) {
        for l in from..to {
            self.diags.push(
                Diagnostic::new(Code::BlankRow, name, "this row is blank and was skipped")
                    .at(l as u32, 0),
            );
        }
    }

    /// A field as text: UTF-8, or Windows-1252 with one warning per file.
    fn text<'b>(
        &mut self,
        raw: &'b [u8],
        name: &str,
        line: u32,
        warned: &mut bool,
    ) -> Cow<'b, str> {
        match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                if !*warned {
                    *warned = true;
                    self.diags.push(
                        Diagnostic::new(Code::Encoding, name, "the file is not UTF-8; it was read as Windows-1252 (Excel's \"CSV\")")
                            .at(line, 0)
                            .help("check accented letters and £ signs came through; save as \"CSV UTF-8\" to be sure"),
                    );
                }
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(raw);
                Cow::Owned(text.into_owned())
            }
        }
    }

    fn row(
        &mut self,
        file_index: u32,
        name: &str,
        line: u32,
        rec: &csv::ByteRecord,
        layout: &Layout,
        warned: &mut bool,
    ) {
        if rec
            .iter()
            .all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
        {
            self.diags.push(
                Diagnostic::new(Code::BlankRow, name, "this row is blank and was skipped")
                    .at(line, 0),
            );
            return;
        }
        let field = |c: Col| layout.get(c).and_then(|i| rec.get(i));
        let get = |me: &mut Self, c: Col, warned: &mut bool| -> Cow<'_, str> {
            match field(c) {
                Some(raw) => me.text(raw, name, line, warned),
                None => Cow::Borrowed(""),
            }
        };
        let indicator_text = get(self, Col::Indicator, warned);
        let area_text = get(self, Col::Area, warned);
        let period_text = get(self, Col::Period, warned);
        let mk = |code: Code, col: Col, msg: String| {
            Diagnostic::new(code, name, msg)
                .at(line, layout.get(col).map_or(0, |i| i as u32 + 1))
                .indicator(indicator_text.trim())
                .area(area_text.trim())
                .period(period_text.trim())
        };
        if rec.len() != layout.width {
            let msg = format!(
                "this row has {} fields but the header has {}: a stray or unquoted comma? The row was not read",
                rec.len(),
                layout.width
            );
            self.diags.push(
                mk(Code::RaggedRow, Col::Indicator, msg)
                    .at(line, 0)
                    .help("put quotes around any cell that contains the delimiter"),
            );
            return;
        }
        let fw = self.framework;
        let mut ok = true;
        let mut problems: Vec<Diagnostic> = Vec::new();

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
        let ind_code = indicator_text.trim();
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
                &mut problems,
                found,
                "indicator",
                ind_code,
                Col::Indicator,
                Code::UnknownIndicator,
            )
        };
        let ind = indicator.map(|i| &fw.indicators[i]);

        // Area.
        let area_code = area_text.trim();
        let area = if area_code.is_empty() {
            Some(fw.default_area())
        } else {
            let found = self.lookup_area(area_code);
            resolve(
                &mut problems,
                found,
                "area",
                area_code,
                Col::Area,
                Code::UnknownArea,
            )
        };

        // Period.
        let ys = fw.year_start;
        let period = match self.parse_period(&period_text, ind.map(|i| i.frequency)) {
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
                                    period_text.trim(),
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
        let value_text = get(self, Col::Value, warned);
        let value: Option<Option<Decimal>> = match value::parse(&value_text, percent) {
            Cell::Number { value, normalised } => {
                if let Some(how) = normalised {
                    problems.push(mk(
                        Code::NormalisedValue,
                        Col::Value,
                        format!("`{}` was read as {value} ({how})", value_text.trim()),
                    ));
                }
                Some(Some(value))
            }
            Cell::Suppressed => Some(None),
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
                    format!("the value `{}` cannot be read: {why}", value_text.trim()),
                ));
                None
            }
        };
        let mut part = |me: &mut Self,
                        c: Col,
                        label: &str,
                        problems: &mut Vec<Diagnostic>|
         -> Option<Decimal> {
            let t = get(me, c, warned);
            match value::parse(&t, false) {
                Cell::Number { value, normalised } => {
                    if let Some(how) = normalised {
                        problems.push(mk(
                            Code::NormalisedValue,
                            c,
                            format!("the {label} `{}` was read as {value} ({how})", t.trim()),
                        ));
                    }
                    Some(value)
                }
                Cell::Empty | Cell::Suppressed => None,
                Cell::Invalid(why) => {
                    problems.push(mk(
                        Code::TypeError,
                        c,
                        format!("the {label} `{}` cannot be read: {why}", t.trim()),
                    ));
                    None
                }
            }
        };
        let numerator = part(self, Col::Numerator, "numerator", &mut problems);
        let denominator = part(self, Col::Denominator, "denominator", &mut problems);

        // Ranges and the ratio.
        if let (Some(i), Some(Some(v))) = (ind, value) {
            if i.unit == Unit::Percent && (v < Decimal::ZERO || v > Decimal::ONE_HUNDRED) {
                problems.push(
                    mk(
                        Code::OutOfRange,
                        Col::Value,
                        format!("{v} is not a percentage between 0 and 100"),
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
                .help("send the figures, or a suppression marker such as [x] in the value"),
            );
        } else if let (Some(i), Some(Some(v)), Some(n), Some(d)) =
            (ind, value, numerator, denominator)
        {
            if let Some(expected) = n.checked_div(d).and_then(|q| q.checked_mul(i.scale)) {
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
        let commentary = get(self, Col::Commentary, warned);
        let prediction_text = get(self, Col::Prediction, warned);
        let folded = if prediction_text.is_empty() {
            String::new()
        } else {
            fold_header(&prediction_text)
        };
        let prediction = match folded.as_str() {
            "" => None,
            "ontrack" => Some(Prediction::OnTrack),
            "offtrack" => Some(Prediction::OffTrack),
            "atrisk" => Some(Prediction::AtRisk),
            _ => {
                problems.push(
                    mk(
                        Code::TypeError,
                        Col::Prediction,
                        format!(
                            "the prediction `{}` is not one pmf knows",
                            prediction_text.trim()
                        ),
                    )
                    .help("write on track, off track or at risk"),
                );
                None
            }
        };
        let plan_text = get(self, Col::ActionPlan, warned);
        let action_plan = match plan_text.trim().to_ascii_lowercase().as_str() {
            "" => None,
            "yes" | "y" | "true" => Some(true),
            "no" | "n" | "false" => Some(false),
            _ => {
                problems.push(mk(
                    Code::TypeError,
                    Col::ActionPlan,
                    format!("action_plan `{}` is not yes or no", plan_text.trim()),
                ));
                None
            }
        };
        let status_text = get(self, Col::Status, warned);
        let status = match status_text.trim().to_ascii_lowercase().as_str() {
            "" | "final" => Status::Final,
            "provisional" => Status::Provisional,
            _ => {
                problems.push(mk(
                    Code::TypeError,
                    Col::Status,
                    format!(
                        "the status `{}` is not final or provisional",
                        status_text.trim()
                    ),
                ));
                Status::Final
            }
        };
        let submitted_by = get(self, Col::SubmittedBy, warned);
        let date_text = get(self, Col::SubmittedOn, warned);
        let submitted_on = if date_text.trim().is_empty() {
            None
        } else {
            match parse_date(date_text.trim()) {
                Some(d) => Some(d),
                None => {
                    problems.push(
                        mk(
                            Code::BadDate,
                            Col::SubmittedOn,
                            format!("`{}` is not a date", date_text.trim()),
                        )
                        .help("write dates as 2024-07-21 or 21/07/2024"),
                    );
                    None
                }
            }
        };

        if problems.iter().any(|d| d.is_error()) {
            ok = false;
        }
        self.diags.append(&mut problems);
        let (Some(indicator), Some(area), Some(period), Some(value), true) =
            (indicator, area, period, value, ok)
        else {
            return;
        };

        // Duplicates and conflicts.
        let next = self.observations.len();
        let first = self.seen.first_or_insert(
            &self.observations,
            indicator as u32,
            area as u32,
            period.seq(),
        );
        if first != next {
            let first_obs = &self.observations[first];
            let conflicted = self.dropped[first];
            let first_file = self.files[first_obs.file as usize].clone();
            let same_file = first_obs.file == file_index;
            let first = (first, first_obs.line, first_obs.value);
            let where_first = if same_file {
                format!("line {}", first.1)
            } else {
                format!("{first_file} line {}", first.1)
            };
            if first.2 == value && !conflicted {
                self.diags.push(
                    mk(Code::DuplicateRow, Col::Value, format!("the same indicator, area, period and value as {where_first}; this copy was ignored"))
                        .period(period.to_string()),
                );
            } else {
                let show = |v: Option<Decimal>| v.map_or("no value".to_string(), |d| d.to_string());
                let (first_value, first_line) = (first.2, first.1);
                if !conflicted {
                    self.dropped[first.0] = true;
                    let here = if same_file {
                        format!("line {line}")
                    } else {
                        format!("{name} line {line}")
                    };
                    let ic = &fw.indicators[indicator].code;
                    let ac = &fw.areas[area].code;
                    self.diags.push(
                        Diagnostic::new(Code::ConflictingRow, &first_file, format!("{ic} {ac} {period} is sent twice with different values ({} here, {} on {here})", show(first_value), show(value)))
                            .at(first_line, layout.get(Col::Value).map_or(0, |i| i as u32 + 1))
                            .indicator(ic.clone())
                            .area(ac.clone())
                            .period(period.to_string())
                            .help("keep the right one and delete the other"),
                    );
                }
                self.diags.push(
                    mk(
                        Code::ConflictingRow,
                        Col::Value,
                        format!("{} {} {period} is sent twice with different values ({} here, {} on {where_first})", fw.indicators[indicator].code, fw.areas[area].code, show(value), show(first_value)),
                    )
                    .period(period.to_string())
                    .help("keep the right one and delete the other"),
                );
            }
            return;
        }

        let commentary = commentary.trim();
        let submitted_by = submitted_by.trim();
        let info = if commentary.is_empty()
            && prediction.is_none()
            && action_plan.is_none()
            && submitted_by.is_empty()
            && submitted_on.is_none()
        {
            None
        } else {
            Some(Box::new(RowInfo {
                commentary: (!commentary.is_empty()).then(|| commentary.to_string()),
                prediction,
                action_plan,
                submitted_by: (!submitted_by.is_empty()).then(|| submitted_by.to_string()),
                submitted_on,
            }))
        };
        self.observations.push(Observation {
            indicator: indicator as u32,
            area: area as u32,
            period,
            value,
            parts: super::push_parts(&mut self.parts, numerator, denominator),
            status,
            info,
            file: file_index,
            line,
        });
        self.dropped.push(false);
    }
}

fn article(word: &str) -> String {
    format!("{} period", crate::period::a_or_an(word))
}

fn newlines(rec: &csv::ByteRecord) -> u64 {
    memchr::memchr_iter(b'\n', rec.as_slice()).count() as u64
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

/// `2024-07-21` or `21/07/2024` (also `21/7/2024`, `21-07-2024`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d-%m-%Y"))
        .ok()
        .filter(|d| (1900..=2999).contains(&chrono::Datelike::year(d)))
}

#[cfg(test)]
#[path = "read/tests.rs"]
mod tests;
