//! The report as CSV (SPEC 5): exactly the SPEC's columns in order, one row per indicator and
//! area that has a value; text cells formula-safe, numeric cells untouched.

use std::borrow::Cow;
use std::io::{self, Write};

use rust_decimal::Decimal;

use super::safe_cell;
use crate::assess::Row;
use crate::briefing::Briefing;
use crate::framework::Framework;

/// The columns, in order.
pub const COLUMNS: [&str; 26] = [
    "theme",
    "priority",
    "indicator",
    "name",
    "area",
    "period",
    "value",
    "target",
    "deviation_pct",
    "rag",
    "direction",
    "stage",
    "forecast",
    "forecast_method",
    "forecast_target",
    "on_track",
    "confidence",
    "plan_forecast",
    "plan_target",
    "plan_on_track",
    "prediction",
    "challenge",
    "lead",
    "organisation",
    "status",
    "commentary",
];

/// One cell of a record: text (made formula-safe when written as CSV) or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Borrowed from the framework or the row where it can be: a national CSV has over a
    /// million rows of 26 cells.
    Text(Cow<'a, str>),
    Number(Decimal),
    Empty,
}

fn yes_no(b: Option<bool>) -> Cell<'static> {
    match b {
        Some(true) => Cell::Text(Cow::Borrowed("yes")),
        Some(false) => Cell::Text(Cow::Borrowed("no")),
        None => Cell::Empty,
    }
}

fn num(d: Option<Decimal>) -> Cell<'static> {
    d.map_or(Cell::Empty, Cell::Number)
}

fn text(s: Option<&str>) -> Cell<'_> {
    match s {
        Some(s) if !s.is_empty() => Cell::Text(Cow::Borrowed(s)),
        _ => Cell::Empty,
    }
}

/// A row's period as text, formatted once for a run of rows of the same period (every row of
/// an indicator has one).
#[derive(Default)]
pub struct PeriodText {
    last: Option<crate::period::Period>,
    text: String,
}

impl PeriodText {
    pub fn of(&mut self, period: crate::period::Period) -> &str {
        if self.last != Some(period) {
            self.text.clear();
            std::fmt::Write::write_fmt(&mut self.text, format_args!("{period}"))
                .expect("writing to a String cannot fail");
            self.last = Some(period);
        }
        &self.text
    }
}

/// A row's cells in [`COLUMNS`] order: shared by the CSV and JSON renderers. `period` is the
/// row's period as text (see [`PeriodText`]).
pub fn record<'a>(fw: &'a Framework, row: &'a Row, period: &'a str) -> [Cell<'a>; 26] {
    let ind = &fw.indicators[row.indicator];
    let theme = &fw.themes[ind.theme];
    let priority = &theme.priorities[ind.priority];
    let lead = ind.lead.as_ref();
    let organisation = lead
        .and_then(|l| l.organisation)
        .map(|o| fw.organisations[o].code.as_str());
    let f = row.forecast.as_ref();
    let pf = row.plan_forecast.as_ref();
    [
        Cell::Text(Cow::Borrowed(&theme.code)),
        Cell::Text(Cow::Borrowed(&priority.code)),
        Cell::Text(Cow::Borrowed(&ind.code)),
        Cell::Text(Cow::Borrowed(&ind.name)),
        Cell::Text(Cow::Borrowed(&fw.areas[row.area].code)),
        Cell::Text(Cow::Borrowed(period)),
        num(row.value),
        num(row.target),
        num(row.deviation_pct),
        Cell::Text(Cow::Borrowed(row.rag.as_str())),
        Cell::Text(Cow::Borrowed(row.direction.as_str())),
        Cell::Number(Decimal::from(row.stage)),
        num(f.map(|f| f.value)),
        text(f.map(|f| f.method.as_str())),
        num(f.and_then(|f| f.target)),
        yes_no(f.and_then(|f| f.on_track)),
        num(f.and_then(|f| f.confidence)),
        num(pf.map(|f| f.value)),
        num(pf.and_then(|f| f.target)),
        yes_no(pf.and_then(|f| f.on_track)),
        text(row.prediction.map(|p| p.as_str())),
        yes_no(row.challenge),
        text(lead.map(|l| l.name.as_str())),
        text(organisation),
        text(row.status.map(|s| s.as_str())),
        text(row.commentary.as_deref()),
    ]
}

pub fn write(b: &Briefing, out: &mut dyn Write) -> io::Result<()> {
    use rayon::iter::ParallelIterator;
    use rayon::slice::ParallelSlice;
    header(out)?;
    // At national scale this is over a million rows of 26 fields: blocks of rows are rendered
    // on every core, a few at a time (memory stays bounded), and written in order.
    const ROWS_PER_BLOCK: usize = 4096;
    const BLOCKS_AT_ONCE: usize = 16;
    let all = &b.assessment.rows;
    for group in b.records.chunks(ROWS_PER_BLOCK * BLOCKS_AT_ONCE) {
        let blocks: Vec<io::Result<Vec<u8>>> = group
            .par_chunks(ROWS_PER_BLOCK)
            .map(|rows| block(b.framework, rows.iter().map(|&ri| &all[ri])))
            .collect();
        for block in blocks {
            out.write_all(&block?)?;
        }
    }
    out.flush()
}

/// The header record.
pub fn header(out: &mut dyn Write) -> io::Result<()> {
    let mut header = ::csv::Writer::from_writer(Vec::new());
    header
        .write_record(COLUMNS)
        .map_err(crate::render::csv_error)?;
    out.write_all(
        &header
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?,
    )
}

/// The CSV text of some rows (no header): [`write`] in parts, for a report rendered as it is
/// assessed (the records of one indicator at a time, in order).
///
/// Written with the csv crate's own engine (`csv_core`), straight into one buffer: numbers
/// never need quoting and are written as they are; the cells that depend on the indicator
/// alone (theme, priority, code, name; lead, organisation) are quoted once per indicator, not
/// once per row. The bytes are exactly those `csv::Writer::write_record` writes (the test
/// `block_is_the_csv_writers` compares them).
pub fn block<R: std::borrow::Borrow<Row>>(
    fw: &Framework,
    rows: impl Iterator<Item = R>,
) -> io::Result<Vec<u8>> {
    let most = rows.size_hint().1.unwrap_or(0).min(1 << 20);
    let mut out = Out::with_capacity(most * 192);
    // One reused buffer for the numbers, rather than a String per cell.
    let mut number = Vec::new();
    let mut periods = PeriodText::default();
    // The indicator whose constant cells these are: its first four, and lead and organisation.
    let mut constant: Option<(usize, Vec<u8>, Vec<u8>)> = None;
    for row in rows {
        let row = row.borrow();
        let cells = record(fw, row, periods.of(row.period));
        if constant.as_ref().is_none_or(|c| c.0 != row.indicator) {
            let mut quoted = |cells: &[Cell]| {
                let mut o = Out::with_capacity(256);
                for c in cells {
                    o.cell(c, &mut number);
                    o.delimiter();
                }
                o.finish()
            };
            constant = Some((row.indicator, quoted(&cells[..4]), quoted(&cells[22..24])));
        }
        let Some((_, head, middle)) = &constant else {
            continue; // set just above
        };
        out.raw(head);
        for c in &cells[4..22] {
            out.cell(c, &mut number);
            out.delimiter();
        }
        out.raw(middle);
        out.cell(&cells[24], &mut number);
        out.delimiter();
        out.cell(&cells[25], &mut number);
        out.terminator();
    }
    Ok(out.finish())
}

/// CSV text being written by `csv_core` into a buffer kept initialised up to its length:
/// the text is `buf[..pos]`.
struct Out {
    buf: Vec<u8>,
    pos: usize,
    engine: ::csv_core::Writer,
    /// Whether the last cell went through `engine`, which then ends it (a closing quote, if
    /// it opened one); a cell copied as it is ends with a plain delimiter or line feed.
    in_engine: bool,
}

impl Out {
    fn with_capacity(n: usize) -> Out {
        Out {
            buf: vec![0; n.max(64)],
            pos: 0,
            // As `csv::Writer` has it: commas, quotes where necessary, doubled quotes, `\n`.
            engine: ::csv_core::WriterBuilder::new()
                .terminator(::csv_core::Terminator::Any(b'\n'))
                .build(),
            in_engine: false,
        }
    }

    /// At least `n` bytes of room after `pos`.
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.pos < n {
            let grown = (self.buf.len() * 2).max(self.pos + n);
            self.buf.resize(grown, 0);
        }
        &mut self.buf[self.pos..]
    }

    /// Bytes already CSV (whole fields, each followed by its delimiter).
    fn raw(&mut self, bytes: &[u8]) {
        self.room(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }

    fn cell(&mut self, cell: &Cell, number: &mut Vec<u8>) {
        match cell {
            Cell::Text(t) => {
                let t = safe_cell(t);
                let bytes = t.as_bytes();
                // Nearly every text: nothing `csv_core` quotes (the delimiter, the quote, CR
                // or LF), so it writes the bytes as they are, and so does this.
                self.in_engine = bytes
                    .iter()
                    .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
                if self.in_engine {
                    self.field(bytes);
                } else {
                    self.raw(bytes);
                }
            }
            Cell::Number(d) => {
                // Digits, a point and a sign: never quoted.
                number.clear();
                super::push_decimal(number, *d);
                self.raw(number);
                self.in_engine = false;
            }
            // Nothing between the delimiters (`csv_core` quotes an empty field only when it
            // is a record's only one, and a report's records have 26).
            Cell::Empty => self.in_engine = false,
        }
    }

    fn field(&mut self, mut input: &[u8]) {
        let mut want = input.len() + 2;
        loop {
            self.room(want);
            let (res, nin, nout) = self.engine.field(input, &mut self.buf[self.pos..]);
            self.pos += nout;
            input = &input[nin..];
            if res == ::csv_core::WriteResult::InputEmpty {
                return;
            }
            want = 2 * input.len() + 2;
        }
    }

    /// The field's closing quote, if it has one, and the delimiter.
    fn delimiter(&mut self) {
        if self.in_engine {
            self.end_field(::csv_core::Writer::delimiter);
        } else {
            self.raw(b",");
        }
    }

    /// The field's closing quote, if it has one, and the record's end.
    fn terminator(&mut self) {
        if self.in_engine {
            self.end_field(::csv_core::Writer::terminator);
        } else {
            self.raw(b"\n");
        }
    }

    fn end_field(
        &mut self,
        end: fn(&mut ::csv_core::Writer, &mut [u8]) -> (::csv_core::WriteResult, usize),
    ) {
        loop {
            // At most a quote and a two-byte terminator.
            self.room(3);
            let (res, n) = end(&mut self.engine, &mut self.buf[self.pos..]);
            self.pos += n;
            if res == ::csv_core::WriteResult::InputEmpty {
                return;
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.truncate(self.pos);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::{Cell, Out};
    use proptest::prelude::*;
    use std::borrow::Cow;

    fn cell() -> impl Strategy<Value = Cell<'static>> {
        prop_oneof![
            "[a-z ,\"=+\\-\\n\\r]{0,6}".prop_map(|t| Cell::Text(Cow::Owned(t))),
            crate::testing::decimals().prop_map(Cell::Number),
            Just(Cell::Empty),
        ]
    }

    proptest! {
        /// Records of any cells in any order (texts that need quotes before numbers and empty
        /// cells too, which a report's records never have) are the bytes `csv::Writer` writes.
        #[test]
        fn out_is_the_csv_writers(records in proptest::collection::vec(
            proptest::collection::vec(cell(), 2..8), 1..4)) {
            let mut out = Out::with_capacity(0);
            let mut number = Vec::new();
            let mut w = ::csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            for cells in &records {
                for (i, c) in cells.iter().enumerate() {
                    out.cell(c, &mut number);
                    if i + 1 < cells.len() {
                        out.delimiter();
                    } else {
                        out.terminator();
                    }
                }
                let fields: Vec<String> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Text(t) => crate::render::safe_cell(t).into_owned(),
                        Cell::Number(d) => d.to_string(),
                        Cell::Empty => String::new(),
                    })
                    .collect();
                w.write_record(&fields).unwrap();
            }
            let want = w.into_inner().unwrap();
            let got = out.finish();
            prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        }
    }
}
