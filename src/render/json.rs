//! The report as JSON: the framework's name, the report period, the same records as the CSV
//! (numbers as JSON numbers with the CSV's exact digits, absent values as null) and the RAG counts of those records.
//!
//! Written as it goes, in three parts ([`head`], [`records`] for each block of rows, [`tail`]),
//! so that a national report (a million records) is rendered an indicator at a time and never
//! held whole. That is why `rag_counts` comes after `records`: the counts are known only once
//! every record is written. The layout is `serde_json`'s pretty printing, two spaces a level.

use std::io::{self, Write};

use serde_json::Value;

use super::csv::{record, Cell, COLUMNS};
use chrono::NaiveDate;

use crate::assess::{Rag, Row};
use crate::briefing::{Briefing, RagCounts};
use crate::framework::Framework;
use crate::period::Period;

pub fn write(b: &Briefing, out: &mut dyn Write) -> io::Result<()> {
    let a = b.assessment;
    head(b.framework, a.period, a.as_of, b.area, out)?;
    let rows = b.records.iter().map(|&ri| &b.assessment.rows[ri]);
    let mut list = List::default();
    list.write(&records(b.framework, rows)?, out)?;
    tail(&list, out)
}

/// The document up to the records' opening bracket.
pub fn head(
    fw: &Framework,
    period: Period,
    as_of: NaiveDate,
    area: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let fields = [
        ("framework", Value::String(fw.name.clone())),
        (
            "partnership",
            fw.partnership
                .as_ref()
                .map_or(Value::Null, |p| Value::String(p.clone())),
        ),
        ("period", Value::String(period.to_string())),
        ("area", Value::String(fw.areas[area].code.clone())),
        ("as_of", Value::String(as_of.to_string())),
    ];
    out.write_all(b"{\n")?;
    for (name, value) in fields {
        writeln!(out, "  {}: {},", quoted(name)?, text(&value)?)?;
    }
    out.write_all(b"  \"records\": [")
}

/// Rows as records, each pretty-printed at its depth in the document and separated by commas
/// (nothing before the first or after the last), with their RAG counts.
pub fn records<R: std::borrow::Borrow<Row>>(
    fw: &Framework,
    rows: impl Iterator<Item = R>,
) -> io::Result<(Vec<u8>, RagCounts)> {
    let mut text = Vec::new();
    let mut counts = RagCounts::default();
    let mut periods = super::csv::PeriodText::default();
    for row in rows {
        let row = row.borrow();
        counts.add(row.rag);
        if !text.is_empty() {
            text.push(b',');
        }
        // Written as serde_json's pretty printer lays out one object, indented to its depth
        // in the document (inside the object and the array), without building a `Value` per
        // record: a national report has a million and a half.
        text.extend_from_slice(b"\n    {");
        let cells = record(fw, row, periods.of(row.period));
        for (k, (name, cell)) in COLUMNS.iter().zip(cells).enumerate() {
            if k > 0 {
                text.push(b',');
            }
            text.extend_from_slice(b"\n      ");
            serde_json::to_writer(&mut text, name)?;
            text.extend_from_slice(b": ");
            match cell {
                Cell::Text(t) => serde_json::to_writer(&mut text, t.as_ref())?,
                // The CSV's digits, exactly: a plain decimal is a JSON number as written,
                // where a trip through `f64` would change a value of 18 digits or more.
                Cell::Number(d) => super::push_decimal(&mut text, d),
                Cell::Empty => text.extend_from_slice(b"null"),
            }
        }
        text.extend_from_slice(b"\n    }");
    }
    Ok((text, counts))
}

/// The records written so far: whether a comma is due, and their RAG counts.
#[derive(Default)]
pub struct List {
    any: bool,
    counts: RagCounts,
}

impl List {
    /// Writes one block of [`records`] and counts it.
    pub fn write(&mut self, block: &(Vec<u8>, RagCounts), out: &mut dyn Write) -> io::Result<()> {
        let (text, counts) = block;
        for (k, c) in counts.0.iter().enumerate() {
            self.counts.0[k] += c;
        }
        if text.is_empty() {
            return Ok(());
        }
        if self.any {
            out.write_all(b",")?;
        }
        self.any = true;
        out.write_all(text)
    }
}

/// Closes the records and writes the counts of every record written.
pub fn tail(list: &List, out: &mut dyn Write) -> io::Result<()> {
    if list.any {
        out.write_all(b"\n  ")?;
    }
    out.write_all(b"],\n  \"rag_counts\": {")?;
    for (k, rag) in Rag::ALL.iter().enumerate() {
        let sep = if k == 0 { "" } else { "," };
        write!(
            out,
            "{sep}\n    {}: {}",
            quoted(rag.as_str())?,
            list.counts.get(*rag)
        )?;
    }
    out.write_all(b"\n  }\n}\n")?;
    out.flush()
}

fn quoted(s: &str) -> io::Result<String> {
    Ok(serde_json::to_string(s)?)
}

fn text(v: &Value) -> io::Result<String> {
    Ok(serde_json::to_string(v)?)
}
