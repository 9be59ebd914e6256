//! The report as JSON: the framework's name, the report period, the RAG counts and the same
//! records as the CSV (numbers as JSON numbers, absent values as null).

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::csv::{record, Cell, COLUMNS};
use crate::assess::Rag;
use crate::briefing::Briefing;

pub fn write(b: &Briefing, out: &mut dyn Write) -> io::Result<()> {
    let records: Vec<Value> = b
        .records
        .iter()
        .map(|&ri| {
            let cells = record(b.framework, &b.assessment.rows[ri]);
            let mut obj = Map::new();
            for (name, cell) in COLUMNS.iter().zip(cells) {
                let v = match cell {
                    Cell::Text(t) => Value::String(t.into_owned()),
                    Cell::Number(d) => d
                        .normalize()
                        .to_string()
                        .parse::<serde_json::Number>()
                        .map(Value::Number)
                        .unwrap_or(Value::Null),
                    Cell::Empty => Value::Null,
                };
                obj.insert((*name).to_string(), v);
            }
            Value::Object(obj)
        })
        .collect();
    let mut counts = Map::new();
    for rag in Rag::ALL {
        counts.insert(rag.as_str().to_string(), json!(b.record_counts.get(rag)));
    }
    let doc = json!({
        "framework": b.framework.name,
        "partnership": b.framework.partnership,
        "period": b.assessment.period.to_string(),
        "area": b.framework.areas[b.area].code,
        "as_of": b.assessment.as_of.to_string(),
        "rag_counts": counts,
        "records": records,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
