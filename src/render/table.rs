//! The report as terminal tables: one per theme, priorities as sub-headings, RAG in colour and
//! in words, direction arrows, stage, forecast and on-track, and the RAG count at the end.
//! Fits 100 columns; colour only when asked for (the caller decides from the terminal,
//! `NO_COLOR` and `--color`).

use std::io::{self, Write};

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ContentArrangement, Row as TableRow, Table, TableStyle,
};

use super::shown;
use crate::assess::Direction;
use crate::assess::{Rag, Row, Source};
use crate::briefing::Briefing;

/// Width of the tables.
pub const WIDTH: u16 = 100;

fn rag_cell(rag: Rag, color: bool) -> Cell {
    let c = Cell::new(rag.as_str());
    if !color {
        return c;
    }
    match rag {
        Rag::Red => c.fg(Color::Red).add_attribute(Attribute::Bold),
        Rag::Amber => c.fg(Color::Yellow).add_attribute(Attribute::Bold),
        Rag::Green => c.fg(Color::Green).add_attribute(Attribute::Bold),
        Rag::Blue => c.fg(Color::Blue).add_attribute(Attribute::Bold),
        Rag::NA => c.fg(Color::DarkGrey),
    }
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::Improving => "↑",
        Direction::Worsening => "↓",
        Direction::NoChange => "→",
        Direction::NA => "–",
    }
}

fn value_text(b: &Briefing, row: &Row) -> String {
    let ind = &b.framework.indicators[row.indicator];
    match (&row.value, &row.source) {
        (Some(v), _) => shown(ind, *v),
        (None, Source::Suppressed) => "suppressed".into(),
        (None, Source::Missing { children }) if !children.is_empty() => "incomplete".into(),
        // Nothing for this period, where values came before; else nothing ever.
        (None, _) if row.has_value || row.returned => "no return".into(),
        (None, _) => "no data".into(),
    }
}

fn forecast_text(b: &Briefing, row: &Row) -> String {
    let ind = &b.framework.indicators[row.indicator];
    match &row.forecast {
        Some(f) => {
            let track = match f.on_track {
                Some(true) => " ✓",
                Some(false) => " ✗",
                None => "",
            };
            format!("{}{track}", shown(ind, f.value))
        }
        None => String::new(),
    }
}

pub fn write(b: &Briefing, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let fw = b.framework;
    let a = b.assessment;
    let area = &fw.areas[b.area];
    let title = format!("{} — {} — {} ({})", fw.name, a.period, area.name, area.code);
    if color {
        writeln!(out, "\x1b[1m{title}\x1b[0m")?;
    } else {
        writeln!(out, "{title}")?;
    }
    writeln!(out)?;
    if b.sections.is_empty() {
        writeln!(out, "No indicators match the filters.")?;
    }
    for section in &b.sections {
        let theme = &fw.themes[section.theme];
        let heading = format!("{}  {}", theme.code, theme.name);
        if color {
            writeln!(out, "\x1b[1m{heading}\x1b[0m")?;
        } else {
            writeln!(out, "{heading}")?;
        }
        let mut t = Table::new();
        t.load_style(
            TableStyle::new()
                .header_separator(comfy_table::LineStyle::none().fill('─').junction('─'))
                .bottom_border(comfy_table::LineStyle::none().fill('─').junction('─')),
        )
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH);
        if color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t.set_header(vec![
            "Code",
            "Indicator",
            "Period",
            "Actual",
            "Target",
            "RAG",
            "Dir",
            "Stage",
            "Forecast",
        ]);
        // Only the indicator's name gives way when the table is too wide (down to 16
        // characters; the table is then wider): a number is never cut.
        for (i, column) in t.column_iter_mut().enumerate() {
            column.set_constraint(if i == 1 {
                comfy_table::ColumnConstraint::LowerBoundary(comfy_table::Width::Fixed(16))
            } else {
                comfy_table::ColumnConstraint::ContentWidth
            });
        }
        for p in &section.priorities {
            let priority = &theme.priorities[p.priority];
            let label_cell = if color {
                Cell::new(&priority.name).add_attribute(Attribute::Italic)
            } else {
                Cell::new(&priority.name)
            };
            let mut heading = TableRow::from(vec![Cell::new(&priority.code), label_cell]);
            heading.max_height(1);
            t.add_row(heading);
            for &ri in &p.rows {
                let row = &a.rows[ri];
                let ind = &fw.indicators[row.indicator];
                let mut line = TableRow::from(vec![
                    Cell::new(&ind.code),
                    Cell::new(&ind.name),
                    Cell::new(row.period.to_string()),
                    Cell::new(value_text(b, row)).set_alignment(CellAlignment::Right),
                    Cell::new(row.target.map(|t| shown(ind, t)).unwrap_or_default())
                        .set_alignment(CellAlignment::Right),
                    rag_cell(row.rag, color),
                    Cell::new(arrow(row.direction)).set_alignment(CellAlignment::Center),
                    Cell::new(row.stage).set_alignment(CellAlignment::Center),
                    Cell::new(forecast_text(b, row)).set_alignment(CellAlignment::Right),
                ]);
                line.max_height(1);
                t.add_row(line);
            }
        }
        writeln!(out, "{t}")?;
        writeln!(out)?;
    }
    let counts: Vec<String> = Rag::ALL
        .iter()
        .map(|&r| {
            let text = format!("{} {}", r.as_str(), b.counts.get(r));
            if color {
                let code = match r {
                    Rag::Red => "1;31",
                    Rag::Amber => "1;33",
                    Rag::Green => "1;32",
                    Rag::Blue => "1;34",
                    Rag::NA => "2",
                };
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text
            }
        })
        .collect();
    let n = b.counts.total();
    let noun = if n == 1 { "indicator" } else { "indicators" };
    writeln!(out, "{n} {noun}: {}", counts.join("  "))?;
    let stages: Vec<String> = (0..4)
        .map(|s| format!("stage {s}: {}", b.stages[s]))
        .collect();
    writeln!(out, "Escalation: {}", stages.join(", "))?;
    let q = &b.quality;
    if q.missing + q.late + q.invalid > 0 {
        writeln!(
            out,
            "Returns: {} missing, {} late, {} invalid rows left out",
            q.missing, q.late, q.invalid
        )?;
    }
    // SPEC 4.6: an incomplete roll-up says which children are missing.
    for section in &b.sections {
        for p in &section.priorities {
            for &ri in &p.rows {
                let row = &a.rows[ri];
                if let Some(children) = super::missing_children(fw, row) {
                    let ind = &fw.indicators[row.indicator];
                    writeln!(
                        out,
                        "Incomplete: {} {} at {}: no value from {children}",
                        ind.code, row.period, fw.areas[row.area].code
                    )?;
                }
            }
        }
    }
    writeln!(out, "Dir: ↑ improving  ↓ worsening  → no change  – n/a.  Forecast for the year: ✓ on track  ✗ off track")?;
    Ok(())
}
