//! Reading return files (SPEC 2.3) into observations, with every problem of SPEC 3.
//!
//! Reads each file in chunks cut on record boundaries (`read/chunk.rs`), parsed with the `csv` crate
//! and checked on every core (`read/check.rs`), and merged back in file order, so the result is
//! exactly that of one loop over the records. No per-row text is kept, and only a few chunks
//! are in flight, so memory grows with the observations, not with the file. Handles: a UTF-8 BOM,
//! fields that are not UTF-8 (read as Windows-1252, with one warning per file), `;` and tab
//! delimiters sniffed from the header, CRLF, quoted fields with embedded newlines, blank and
//! ragged rows. Completeness (missing and late returns) is [`super::complete`]'s job.

mod check;
mod chunk;
mod kept;
mod record;

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::io::BufRead;
use std::sync::{mpsc, Mutex};

use chunk::Chunk;
use kept::{Firsts, Slim, Store};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Observation, Returns};
use crate::diag::{Code, Diagnostic};
use crate::framework::Framework;
use crate::period::Period;

/// One file to read: its name as the user gave it, and its bytes.
pub struct Source<R> {
    pub name: String,
    pub reader: R,
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
    /// About how many bytes of a file each checking thread takes at a time.
    chunk_bytes: usize,
    framework: &'f Framework,
    as_of: NaiveDate,
    diags: Vec<Diagnostic>,
    /// The rows kept, in file order (`dropped` marks those removed since).
    kept: Store,
    parts: Vec<super::PackedParts>,
    infos: Vec<super::RowInfo>,
    /// Every distinct row information kept so far -> its index in `infos` (bounded): a return
    /// with a submission date per period repeats a few of them on millions of rows.
    info_index: FxHashMap<super::RowInfo, u32>,
    /// Rows removed after the fact (the first of a conflicting pair), and how many.
    dropped: Vec<bool>,
    drops: usize,
    /// The latest period among the rows kept so far: its rank (`Period::latest_rank`) and
    /// row, of those of the greatest rank the last read (see `Returns::latest_period`). `latest_lost` is set when that row
    /// was dropped, and the rows must then be searched again.
    latest: Option<(i32, usize)>,
    latest_lost: bool,
    /// Whether each indicator's rows kept so far lie together (see `Returns::runs`).
    runs: Runs,
    /// Rows sent but not kept (see `super::Sent`).
    sent: Vec<super::Sent>,
    /// The first row of each (indicator, area, period), for duplicates and conflicts.
    seen: Firsts,
    files: Vec<String>,
    date_columns: Vec<u32>,
    /// Whether numerators and denominators are kept (the report's roll-ups need them).
    keep_parts: bool,
}

/// Read every source. Returns the valid observations and every problem found, in file order.
pub fn read<R: BufRead + Send>(
    framework: &Framework,
    sources: Vec<Source<R>>,
    as_of: NaiveDate,
) -> (Returns, Vec<Diagnostic>) {
    read_in_chunks(framework, sources, as_of, CHUNK_BYTES)
}

/// [`read`] for `pmf validate`: the same problems, and of the rows kept only what validation
/// reads after ([`Seen`]): no numerators and denominators (only the report's roll-ups use
/// them), and per row a period, line, value and optional columns in 24 bytes.
pub fn read_for_checking<R: BufRead + Send>(
    framework: &Framework,
    sources: Vec<Source<R>>,
    as_of: NaiveDate,
) -> (Seen, Vec<Diagnostic>) {
    check_in_chunks(framework, sources, as_of, CHUNK_BYTES)
}

/// [`read`], cutting files into chunks of about `chunk_bytes` (tests use tiny chunks to run the
/// parallel path on small files).
fn read_in_chunks<R: BufRead + Send>(
    framework: &Framework,
    sources: Vec<Source<R>>,
    as_of: NaiveDate,
    chunk_bytes: usize,
) -> (Returns, Vec<Diagnostic>) {
    let r = Reader::read_all(
        framework,
        sources,
        as_of,
        chunk_bytes,
        Store::Full(Vec::new()),
    );
    drop(r.seen);
    let Store::Full(mut observations) = r.kept else {
        unreachable!("read into a full store")
    };
    // The latest period (see `Returns::latest_period`: of the greatest rank, the last in
    // file order) and whether each indicator's observations lie together (`Returns::runs`):
    // as the merge followed them when no row was dropped (nearly always), else found again
    // while the dropped rows are taken out.
    let (latest, runs) = if r.drops == 0 {
        let latest = r.latest.map(|(_, i)| observations[i].period);
        (latest, r.runs.finish())
    } else {
        // In place: a second vector of every observation would double the peak memory.
        let mut index = 0;
        let mut latest: Option<(i32, Period)> = None;
        let mut runs = Runs::new(framework.indicators.len());
        observations.retain(|o| {
            index += 1;
            let keep = !r.dropped[index - 1];
            if keep {
                let end = o.period.latest_rank();
                if latest.is_none_or(|(last, _)| end >= last) {
                    latest = Some((end, o.period));
                }
                runs.push(o.indicator);
            }
            keep
        });
        (latest.map(|(_, p)| p), runs.finish())
    };
    (
        Returns {
            observations,
            files: r.files,
            date_columns: r.date_columns,
            parts: r.parts,
            infos: r.infos,
            sent: r.sent,
            latest: Some(latest),
            runs,
        },
        r.diags,
    )
}

/// [`read_for_checking`] in chunks of about `chunk_bytes`.
fn check_in_chunks<R: BufRead + Send>(
    framework: &Framework,
    sources: Vec<Source<R>>,
    as_of: NaiveDate,
    chunk_bytes: usize,
) -> (Seen, Vec<Diagnostic>) {
    let r = Reader::read_all(
        framework,
        sources,
        as_of,
        chunk_bytes,
        Store::Slim(Slim::default()),
    );
    let mut latest = r.latest;
    if r.latest_lost {
        // The latest row was dropped (it conflicted with a later one): search again.
        latest = (0..r.kept.len())
            .filter(|&i| !r.dropped[i])
            .filter_map(|i| Some((r.kept.period(i)?.latest_rank(), i)))
            .max();
    }
    (
        Seen {
            rows: r.kept.len() - r.drops,
            latest: latest.and_then(|(_, i)| r.kept.period(i)),
            files: r.files,
            date_columns: r.date_columns,
            infos: r.infos,
            sent: r.sent,
            kept: r.kept,
            firsts: r.seen,
            dropped: r.dropped,
        },
        r.diags,
    )
}

/// What `pmf validate` keeps of the returns once read ([`read_for_checking`]): how many rows
/// are valid, the latest period, and each key's row kept, for completeness.
pub struct Seen {
    /// Rows kept (valid, and neither a duplicate nor in conflict).
    pub rows: usize,
    latest: Option<Period>,
    pub files: Vec<String>,
    /// Per file, the 1-based field number of its `submitted_on` column (0 when it has none).
    pub date_columns: Vec<u32>,
    pub infos: Vec<super::RowInfo>,
    /// Rows sent but not kept (see `super::Sent`).
    sent: Vec<super::Sent>,
    kept: Store,
    firsts: Firsts,
    dropped: Vec<bool>,
}

impl Seen {
    /// The latest period among the rows kept (as [`Returns::latest_period`]).
    pub fn latest_period(&self) -> Option<Period> {
        self.latest
    }

    /// `validate`'s default period (SPEC 3: the latest period in the returns): the latest
    /// among the rows kept and the rows sent with an error in another cell (their period was
    /// read and has ended); of the greatest rank, a kept row's.
    pub fn default_period(&self) -> Option<Period> {
        let sent = self
            .sent
            .iter()
            .map(|s| s.period)
            .max_by_key(|p| p.latest_rank());
        match (self.latest, sent) {
            (Some(k), Some(s)) if s.latest_rank() > k.latest_rank() => Some(s),
            (None, s) => s,
            (k, _) => k,
        }
    }

    /// The quarter in which the latest period ends (as [`Returns::latest_quarter`]).
    pub fn latest_quarter(&self) -> Option<Period> {
        super::quarter_ending(self.latest)
    }

    /// Missing and late returns due at `period`, judged on `as_of` (as
    /// [`super::complete::check`] finds them among the observations).
    pub fn completeness(
        &self,
        framework: &Framework,
        period: Period,
        as_of: NaiveDate,
    ) -> Vec<Diagnostic> {
        use super::complete::{self, Found, Rows};
        let due = complete::due_at(framework, period);
        let areas = self
            .firsts
            .areas_sent(framework.indicators.len(), &self.dropped);
        let found = |ii: usize, _k: usize, area: usize, due: Period| {
            let row = self
                .firsts
                .find(&self.kept, ii as u32, area as u32, due.seq())
                .filter(|&i| {
                    let same = |p: Period| p.seq() == due.seq() && p.frequency() == due.frequency();
                    !self.dropped[i] && self.kept.period(i).is_some_and(same)
                })?;
            let (file, line) = self.kept.place(row);
            Some(Found {
                file,
                line,
                info: self.kept.info(row),
            })
        };
        let rows = Rows {
            files: &self.files,
            date_columns: &self.date_columns,
            infos: &self.infos,
        };
        complete::judge(framework, &due, areas, found, &self.sent, &rows, as_of)
    }
}

/// Follows the indicators of the observations kept, in order, to find whether each
/// indicator's observations are one run (see `Returns::runs`).
struct Runs {
    runs: Vec<std::ops::Range<u32>>,
    /// The indicator of the run being read (`u32::MAX` before the first).
    current: u32,
    /// Observations so far.
    count: u32,
    together: bool,
}

impl Runs {
    fn new(indicators: usize) -> Runs {
        Runs {
            runs: vec![0..0; indicators],
            current: u32::MAX,
            count: 0,
            together: true,
        }
    }

    #[inline(always)]
    fn push(&mut self, indicator: u32) {
        if indicator != self.current {
            self.switch(indicator);
        }
        self.count = self.count.saturating_add(1);
    }

    /// A run of `indicator` starts at the next observation: the end of the one before.
    fn switch(&mut self, indicator: u32) {
        if let Some(r) = self.runs.get_mut(self.current as usize) {
            r.end = self.count;
        }
        self.current = indicator;
        match self.runs.get_mut(indicator as usize) {
            // An indicator seen before (a run of one observation or more ends after 0).
            Some(r) if r.end > 0 => self.together = false,
            Some(r) => *r = self.count..self.count,
            None => self.together = false,
        }
    }

    fn finish(mut self) -> Option<Vec<std::ops::Range<u32>>> {
        if let Some(r) = self.runs.get_mut(self.current as usize) {
            r.end = self.count;
        }
        (self.together && self.count < u32::MAX).then_some(self.runs)
    }
}

/// A file whose header has been read: its first chunk of records and how to read them.
struct Opened {
    first: Chunk,
    layout: Layout,
    delimiter: u8,
    /// The line after the header (or the blank lines after it).
    next_line: u64,
    /// Whether the file's one encoding warning has been given.
    warned: bool,
}

/// A file in a batch of small ones: its index, name, the problems of its header, and its
/// records, if any could be read.
type Small = (u32, String, Vec<Diagnostic>, Option<Opened>);

/// Small files are checked together once they hold this many bytes, or this many files.
const BATCH_BYTES: usize = 16 << 20;
const BATCH_FILES: usize = 256;

/// Bytes per chunk of a file handed to a checking thread.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks read ahead of the merge: bounds the memory in flight.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A period as parsed from a cell, with whether it ends after `as_of` (a `future-period`).
type ParsedPeriod = Result<(Period, bool), crate::period::PeriodError>;

/// Where each column is in one file (0-based field index).
struct Layout {
    cols: [Option<usize>; 12],
    width: usize,
    /// [`Layout::has_extras`], computed once.
    extras: bool,
}

impl Layout {
    fn new(cols: [Option<usize>; 12], width: usize) -> Layout {
        let mut layout = Layout {
            cols,
            width,
            extras: false,
        };
        layout.extras = [
            Col::Prediction,
            Col::ActionPlan,
            Col::Status,
            Col::SubmittedBy,
            Col::SubmittedOn,
        ]
        .iter()
        .any(|&c| layout.get(c).is_some());
        layout
    }

    #[inline(always)]
    fn get(&self, c: Col) -> Option<usize> {
        self.cols[c as usize]
    }

    /// Whether the file has any of `prediction`, `action_plan`, `status`, `submitted_by` and
    /// `submitted_on` (most returns have none: their rows skip those checks).
    #[inline(always)]
    fn has_extras(&self) -> bool {
        self.extras
    }
}

impl<'f> Reader<'f> {
    /// Reads every source into a reader holding the rows kept in `kept` (numerators and
    /// denominators too when it is a full store), the problems and the side tables.
    fn read_all<R: BufRead + Send>(
        framework: &'f Framework,
        sources: Vec<Source<R>>,
        as_of: NaiveDate,
        chunk_bytes: usize,
        kept: Store,
    ) -> Reader<'f> {
        let mut r = Reader {
            keep_parts: matches!(kept, Store::Full(_)),
            chunk_bytes,
            framework,
            as_of,
            diags: Vec::new(),
            kept,
            parts: Vec::new(),
            infos: Vec::new(),
            info_index: FxHashMap::default(),
            dropped: Vec::new(),
            drops: 0,
            latest: None,
            latest_lost: false,
            runs: Runs::new(framework.indicators.len()),
            sent: Vec::new(),
            seen: Firsts::new(framework),
            files: Vec::new(),
            date_columns: Vec::new(),
        };
        // Files of one chunk or less are checked a batch at a time on every core; larger ones
        // chunk by chunk. Either way everything is merged in file order.
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        for source in sources {
            let index = r.files.len() as u32;
            r.files.push(source.name.clone());
            r.date_columns.push(0);
            // The header's problems are held until the files before are merged.
            let before = std::mem::take(&mut r.diags);
            let opened = r.open_file(index, &source.name, source.reader);
            let header = std::mem::replace(&mut r.diags, before);
            match opened {
                Some((o, chunker)) if !chunker.finished() => {
                    r.check_batch(&mut batch);
                    batch_bytes = 0;
                    r.diags.extend(header);
                    r.read_records(index, &source.name, o, chunker);
                }
                small => {
                    let small = small.map(|(o, _)| o);
                    batch_bytes += small.as_ref().map_or(0, |o| o.first.bytes.len());
                    batch.push((index, source.name, header, small));
                    if batch_bytes > BATCH_BYTES || batch.len() >= BATCH_FILES {
                        r.check_batch(&mut batch);
                        batch_bytes = 0;
                    }
                }
            }
        }
        r.check_batch(&mut batch);
        r
    }

    /// Distinct row informations remembered for sharing (each a few dozen bytes).
    const MAX_DISTINCT_INFOS: usize = 1 << 20;

    /// Reads a file's header (its problems go to `self.diags`) and its first chunk of
    /// records; `None` when nothing more of it can be read.
    fn open_file<R: BufRead + Send>(
        &mut self,
        file_index: u32,
        name: &str,
        mut input: R,
    ) -> Option<(Opened, chunk::Chunker<CrAsLf<R>>)> {
        // Sniff the delimiter from the first line that is not blank (the header), and the
        // line ends from the first line break.
        let (first_line, cr_lines): (Vec<u8>, bool) = match input.fill_buf() {
            Ok(buf) => {
                let buf = buf.strip_prefix(BOM).unwrap_or(buf);
                let first = buf
                    .split(|&b| b == b'\n' || b == b'\r')
                    .find(|l| !l.iter().all(u8::is_ascii_whitespace))
                    .unwrap_or_default();
                // Line ends of a carriage return alone: carriage returns and no line feed at
                // all in the first buffer (a `\r\r\n` file, written twice over on Windows,
                // has line feeds: its lines are counted by them).
                // (A carriage return as the buffer's last byte may be the first half of a CRLF
                // whose line feed has not been read: it does not count.)
                let before_last = &buf[..buf.len().saturating_sub(1)];
                let cr = memchr::memchr(b'\n', buf).is_none()
                    && memchr::memchr(b'\r', before_last).is_some();
                (first.to_vec(), cr)
            }
            Err(e) => {
                self.diags.push(unreadable(name, "file", &e.to_string()));
                return None;
            }
        };
        let delimiter = sniff_delimiter(&first_line);
        let input = CrAsLf {
            inner: input,
            on: cr_lines,
        };
        let mut chunker = chunk::Chunker::new(input, delimiter, self.chunk_bytes);
        let mut record = csv::ByteRecord::new();
        let mut warned = false;
        let mut next_line = 1u64; // the line after the previous record

        // The header: the first record that is not blank.
        let mut first = None;
        'header: while let Some(mut chunk) = chunker.next_chunk(Vec::new()) {
            let mut lines = check::Lines::new(&chunk.bytes, chunk.line);
            let mut csv = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(&chunk.bytes[..]);
            loop {
                match csv.read_byte_record(&mut record) {
                    Ok(true) => {
                        // (The csv crate places the first record at 0, before the byte-order
                        // mark it skipped; the lines are counted after the mark.)
                        let mut at = record.position().map_or(0, |p| p.byte() as usize);
                        if at == 0 && chunk.bytes.starts_with(BOM) {
                            at = BOM.len();
                        }
                        let line = lines.line_of(at, false);
                        self.blank_lines(name, next_line, line);
                        next_line = line + 1 + newlines(record.as_slice());
                        if is_blank(&record) {
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
                        chunk.start = csv.position().byte() as usize;
                        // A quote opened in the header and never closed: the whole file was
                        // read as the header (a chunk ends only where quotes are closed).
                        if chunk.start >= chunk.bytes.len()
                            && chunker.finished()
                            && chunk::ends_inside_quotes(
                                chunk.bytes.get(at..).unwrap_or_default(),
                                delimiter,
                            )
                        {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::RaggedRow,
                                    name,
                                    "a quote (\") opens a cell of the header and is never closed, so the whole file was read as the header; nothing in this file was read",
                                )
                                .at(line as u32, record.len() as u32)
                                .help(check::UNCLOSED_QUOTE_HELP),
                            );
                            return None;
                        }
                        first = Some(chunk);
                        break 'header;
                    }
                    Ok(false) => break,
                    Err(e) => {
                        chunk.error.get_or_insert_with(|| csv_error(&e));
                        break;
                    }
                }
            }
            if let Some(e) = &chunk.error {
                self.diags.push(unreadable(name, "header", e));
                return None;
            }
        }
        let Some(first) = first else {
            self.diags.push(
                Diagnostic::new(Code::MissingColumn, name, "the file is empty: it needs a header row naming at least indicator, period and value")
                    .at(1, 0)
                    .help(format!("the columns pmf reads are {COLUMN_NAMES}")),
            );
            return None;
        };
        let header_line = (next_line - 1 - newlines(record.as_slice())) as u32;
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
        let mut unnamed = Vec::new();
        for (i, raw) in record.iter().enumerate() {
            let text = self.text(raw, name, header_line, &mut warned);
            let folded = fold_header(&text);
            if folded.is_empty() {
                unnamed.push(i);
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
        // A column with no name is ignored; when the file's first rows hold data in it (not
        // just the empty cells of Excel's trailing commas), that is said.
        if let Some((col, sample)) = unnamed_with_data(&first, delimiter, &unnamed) {
            unknown.push(
                Diagnostic::new(
                    Code::UnknownColumn,
                    name,
                    format!("column {} has no name in the header but holds data (`{sample}`); it was ignored", col + 1),
                )
                .at(header_line, col as u32 + 1)
                .help(format!("name the column, or delete it; the columns pmf reads are {COLUMN_NAMES}")),
            );
        }
        let layout = Layout::new(cols, record.len());
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
            return None;
        }

        Some((
            Opened {
                first,
                layout,
                delimiter,
                next_line,
                warned,
            },
            chunker,
        ))
    }

    /// Reads the records of a file opened by [`Reader::open_file`] and longer than one chunk.
    fn read_records<R: BufRead + Send>(
        &mut self,
        file_index: u32,
        name: &str,
        opened: Opened,
        mut chunker: chunk::Chunker<CrAsLf<R>>,
    ) {
        let Opened {
            first,
            layout,
            delimiter,
            mut next_line,
            mut warned,
        } = opened;
        // The records: chunks of the file are parsed and checked on every core, and merged
        // back in file order, so diagnostics and observations are exactly as if it were one
        // loop. Chunk buffers are recycled and at most a few chunks are in flight, so memory
        // does not grow with the file.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 16));
        let (fw, as_of, layout, keep_parts) =
            (self.framework, self.as_of, &layout, self.keep_parts);
        let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Chunk)>(workers);
        let work_rx = Mutex::new(work_rx);
        // Merged chunks' record lists, emptied, for the checkers to fill again.
        let spare: Mutex<Vec<Vec<check::Rec>>> = Mutex::new(Vec::new());
        let spare = &spare;
        std::thread::scope(|scope| {
            let (done_tx, done_rx) = mpsc::channel::<(usize, check::Checked)>();
            let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
            let (slot_tx, slot_rx) = mpsc::sync_channel::<()>(CHUNKS_IN_FLIGHT);
            scope.spawn(move || {
                let mut next = Some(first);
                for seq in 0.. {
                    let chunk = match next.take() {
                        Some(c) => c,
                        None => match chunker.next_chunk(free_rx.try_recv().unwrap_or_default()) {
                            Some(c) => c,
                            None => break,
                        },
                    };
                    if slot_tx.send(()).is_err() || work_tx.send((seq, chunk)).is_err() {
                        break;
                    }
                }
            });
            for _ in 0..workers {
                let (done_tx, free_tx, work_rx) = (done_tx.clone(), free_tx.clone(), &work_rx);
                scope.spawn(move || {
                    let mut checker = check::Checker::new(fw, as_of);
                    loop {
                        let job = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => break,
                        };
                        let Ok((seq, chunk)) = job else { break };
                        let recs = spare
                            .lock()
                            .ok()
                            .and_then(|mut s| s.pop())
                            .unwrap_or_default();
                        let checked = check::check_chunk(
                            &mut checker,
                            &chunk,
                            name,
                            delimiter,
                            layout,
                            recs,
                            keep_parts,
                        );
                        let _ = free_tx.send(chunk.bytes);
                        if done_tx.send((seq, checked)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop((done_tx, free_tx));
            let mut waiting = std::collections::BTreeMap::new();
            let mut expected = 0;
            for (seq, checked) in done_rx {
                waiting.insert(seq, checked);
                while let Some(checked) = waiting.remove(&expected) {
                    let recs = self.merge(
                        file_index,
                        name,
                        layout,
                        checked,
                        &mut next_line,
                        &mut warned,
                    );
                    if let Ok(mut spare) = spare.lock() {
                        spare.push(recs);
                    }
                    let _ = slot_rx.recv();
                    expected += 1;
                }
            }
        });
    }

    /// Checks a batch of small files (each one chunk or less) on every core, then merges them
    /// in file order, each after its header's problems. Empties the batch.
    fn check_batch(&mut self, batch: &mut Vec<Small>) {
        use rayon::iter::{IntoParallelRefIterator, ParallelIterator};
        let (fw, as_of, keep_parts) = (self.framework, self.as_of, self.keep_parts);
        let checked: Vec<Option<check::Checked>> = batch
            .par_iter()
            .map_init(
                || check::Checker::new(fw, as_of),
                |checker, (_, name, _, opened)| {
                    opened.as_ref().map(|o| {
                        check::check_chunk(
                            checker,
                            &o.first,
                            name,
                            o.delimiter,
                            &o.layout,
                            Vec::new(),
                            keep_parts,
                        )
                    })
                },
            )
            .collect();
        for ((index, name, header, opened), checked) in batch.drain(..).zip(checked) {
            self.diags.extend(header);
            if let (Some(mut o), Some(checked)) = (opened, checked) {
                self.merge(
                    index,
                    &name,
                    &o.layout,
                    checked,
                    &mut o.next_line,
                    &mut o.warned,
                );
            }
        }
    }

    /// Takes a checked chunk's records in file order: blank lines between records, the file's
    /// one encoding warning, each record's problems, then duplicates and the rows kept.
    fn merge(
        &mut self,
        file_index: u32,
        name: &str,
        layout: &Layout,
        mut checked: check::Checked,
        next_line: &mut u64,
        warned: &mut bool,
    ) -> Vec<check::Rec> {
        let mut diags = checked.diags.into_iter();
        self.sent.append(&mut checked.sent);
        let parts = std::mem::take(&mut checked.parts);
        // The chunk's optional columns, each given its index in `Returns::infos` when a row
        // with them is first kept.
        let infos = std::mem::take(&mut checked.infos);
        let mut kept_as: Vec<Option<u32>> = vec![None; infos.len()];
        // Read in place (moving each record out of the list costs a copy of it), and emptied
        // at once after for the list's reuse (a record holds nothing to free).
        for rec in &checked.recs {
            self.blank_lines(name, *next_line, u64::from(rec.line));
            *next_line = rec.next_line();
            if rec.non_utf8 && !*warned {
                *warned = true;
                self.diags.push(encoding_warning(name, rec.line));
            }
            if rec.diags > 0 {
                self.diags.extend(diags.by_ref().take(rec.diags as usize));
            }
            if let Some(c) = &rec.keep {
                let p = parts.get(c.parts as usize).copied();
                self.keep(
                    (file_index, name, rec.line),
                    layout,
                    c,
                    p,
                    (&infos, &mut kept_as),
                );
            }
        }
        if let Some(message) = checked.error {
            self.diags.push(
                Diagnostic::new(
                    Code::RaggedRow,
                    name,
                    format!("this row could not be read: {message}"),
                )
                .at(*next_line as u32, 0),
            );
        }
        checked.recs.clear();
        checked.recs
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

    /// A header field as text: UTF-8, or Windows-1252 with one warning per file.
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
                    self.diags.push(encoding_warning(name, line));
                }
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(raw);
                Cow::Owned(text.into_owned())
            }
        }
    }

    /// The index in `infos` of a row's optional columns, shared with every earlier row that
    /// had the same (while there are fewer than [`Reader::MAX_DISTINCT_INFOS`] of them).
    fn intern_info(&mut self, info: &super::RowInfo) -> u32 {
        if let Some(&i) = self.info_index.get(info) {
            return i;
        }
        if self.info_index.len() < Self::MAX_DISTINCT_INFOS {
            self.info_index
                .insert(info.clone(), self.infos.len() as u32);
        }
        super::push_info(&mut self.infos, Some(info.clone()))
    }

    /// A row whose key was kept before, at row `first`: a duplicate when the values agree
    /// (and the first is not in conflict), else a conflict, reported at both rows, and the
    /// first is dropped.
    #[cold]
    #[inline(never)]
    fn repeat(
        &mut self,
        first: usize,
        (file_index, name, line): (u32, &str, u32),
        layout: &Layout,
        c: &check::Candidate,
    ) {
        let fw = self.framework;
        let (indicator, area, period) = (c.indicator as usize, c.area as usize, c.period);
        // Unpacked only here: nearly every row is new.
        let value_col = layout.get(Col::Value).map_or(0, |i| i as u32 + 1);
        // Named as the framework names them, as every problem record is (an empty area cell
        // is the default area).
        let (ind_text, area_text) = (
            fw.indicators[indicator].code.as_str(),
            fw.areas[area].code.as_str(),
        );
        let mk = |code: Code, _col: Col, msg: String| {
            Diagnostic::new(code, name, msg)
                .at(line, value_col)
                .indicator(ind_text)
                .area(area_text)
        };
        let value = c.value.get();
        let (first_file_index, first_line) = self.kept.place(first);
        let conflicted = self.dropped[first];
        let first_file = self.files[first_file_index as usize].clone();
        let same_file = first_file_index == file_index;
        let first = (first, first_line, self.kept.value(first));
        let where_first = if same_file {
            format!("line {}", first.1)
        } else {
            format!("{first_file} line {}", first.1)
        };
        if first.2 == value && !conflicted {
            // About the whole row: no column (docs/decisions.md).
            self.diags.push(
                mk(Code::DuplicateRow, Col::Value, format!("the same indicator, area, period and value as {where_first}; this copy was ignored"))
                    .at(line, 0)
                    .period(period.to_string()),
            );
        } else if conflicted {
            // A third (or later) row for a key already in conflict.
            let ic = &fw.indicators[indicator].code;
            let ac = &fw.areas[area].code;
            self.diags.push(
                mk(
                    Code::ConflictingRow,
                    Col::Value,
                    format!("{ic} {ac} {period} is sent again ({} here); it was already sent with different values, first on {where_first}", show_value(value)),
                )
                .period(period.to_string())
                .help("keep the right one and delete the others"),
            );
        } else {
            let show = show_value;
            let (first_value, first_line) = (first.2, first.1);
            {
                // Neither row is used, but the return was sent (twice): not absent.
                self.sent.push(super::Sent {
                    indicator: c.indicator,
                    area: c.area,
                    period,
                    valued: true,
                });
                self.dropped[first.0] = true;
                self.drops += 1;
                if self.latest.is_some_and(|(_, row)| row == first.0) {
                    self.latest_lost = true;
                }
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
    }

    /// Keeps a checked row, unless it repeats an earlier one (a duplicate, or a conflict when
    /// the values differ).
    fn keep(
        &mut self,
        (file_index, name, line): (u32, &str, u32),
        layout: &Layout,
        c: &check::Candidate,
        parts: Option<super::PackedParts>,
        (infos, kept_as): (&[super::RowInfo], &mut [Option<u32>]),
    ) {
        let (indicator, area, period) = (c.indicator as usize, c.area as usize, c.period);
        // Duplicates and conflicts.
        let next = self.kept.len();
        let first =
            self.seen
                .first_or_insert(&self.kept, indicator as u32, area as u32, period.seq());
        if first != next {
            self.repeat(first, (file_index, name, line), layout, c);
            return;
        }

        // The row's optional columns, interned when a row with them is first kept.
        let local = c.info as usize;
        let info_index = match (infos.get(local), kept_as.get(local).copied().flatten()) {
            (None, _) => super::NO_INFO,
            (Some(_), Some(i)) => i,
            (Some(info), None) => {
                let i = self.intern_info(info);
                kept_as[local] = Some(i);
                i
            }
        };
        let end = period.latest_rank();
        if self.latest.is_none_or(|(last, _)| end >= last) {
            self.latest = Some((end, next));
        }
        self.runs.push(c.indicator);
        self.kept.push(Observation {
            indicator: c.indicator,
            area: c.area,
            period,
            value: c.value,
            parts: match parts {
                Some(p) if self.keep_parts => {
                    self.parts.push(p);
                    (self.parts.len() - 1) as u32
                }
                _ => super::NO_PARTS,
            },
            status: c.status,
            info: info_index,
            file: file_index,
            line,
        });
        self.dropped.push(false);
    }
}

/// The first of the `unnamed` columns (field indices) that holds a cell that is not blank in
/// the first thousand records of `chunk` (the file's first chunk, so at most about a megabyte),
/// with that cell (cut to 40 characters).
fn unnamed_with_data(chunk: &Chunk, delimiter: u8, unnamed: &[usize]) -> Option<(usize, String)> {
    if unnamed.is_empty() {
        return None;
    }
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(chunk.bytes.get(chunk.start..)?);
    let mut record = csv::ByteRecord::new();
    // The first thousand records: enough to see a column in use, at no cost to a large file.
    for _ in 0..1000 {
        if !csv.read_byte_record(&mut record).ok()? {
            break;
        }
        for &i in unnamed {
            if let Some(cell) = record.get(i).filter(|c| !c.trim_ascii().is_empty()) {
                let text: String = String::from_utf8_lossy(cell.trim_ascii())
                    .chars()
                    .take(40)
                    .collect();
                return Some((i, text));
            }
        }
    }
    None
}

/// A row's value in a message: the number, or "no value" for a suppression marker.
fn show_value(v: Option<Decimal>) -> String {
    v.map_or("no value".to_string(), |d| d.to_string())
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// A file read as it is, or (`on`) one whose lines end with a carriage return alone, as old
/// Mac exports do: read with every carriage return as a line feed, so that its lines are
/// counted as an editor shows them (the csv crate ends records at either; line numbers follow
/// line feeds).
pub(crate) struct CrAsLf<R> {
    inner: R,
    on: bool,
}

impl<R: std::io::Read> std::io::Read for CrAsLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.on {
            for b in &mut buf[..n] {
                if *b == b'\r' {
                    *b = b'\n';
                }
            }
        }
        Ok(n)
    }
}

/// A file or its header could not be read (`what`): nothing in it was.
fn unreadable(name: &str, what: &str, error: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MissingColumn,
        name,
        format!("the {what} could not be read: {error}"),
    )
    .at(1, 0)
}

/// The file's one warning that it is not UTF-8.
fn encoding_warning(name: &str, line: u32) -> Diagnostic {
    Diagnostic::new(
        Code::Encoding,
        name,
        "the file is not UTF-8; it was read as Windows-1252 (Excel's \"CSV\")",
    )
    .at(line, 0)
    .help("check accented letters and £ signs came through; save as \"CSV UTF-8\" to be sure")
}

/// Whether every field of a record is empty or white space.
fn is_blank(rec: &csv::ByteRecord) -> bool {
    rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace))
}

fn article(word: &str) -> String {
    format!("{} period", crate::period::a_or_an(word))
}

#[inline]
fn newlines(bytes: &[u8]) -> u64 {
    // A record's fields, end to end. Nearly always none, in a record of a few dozen bytes: a
    // scan without an early exit, which the compiler turns into a few vector instructions,
    // costs less than a search.
    if !bytes.iter().fold(false, |any, &b| any | (b == b'\n')) {
        return 0;
    }
    memchr::memchr_iter(b'\n', bytes).count() as u64
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
