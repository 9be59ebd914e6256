//! `pmf report`: read, validate, assess, build the briefing view, render it in one format.

use anyhow::{bail, Result};

use super::{framework_or_stop, DATA, FAIL, OK};
use crate::assess::{self, Options};
use crate::briefing::{self, Filters};
use crate::cli::{Command, ReportFormat, TierArg};
use crate::diag::{self, Diagnostic, Style, Tally};
use crate::framework::{Framework, Match, Tier};
use crate::io;
use crate::period::{Frequency, Period};
use crate::render;
use crate::returns::{self, complete, Returns};

pub fn run(command: Command) -> Result<u8> {
    let Command::Report {
        common,
        returns,
        quarter,
        year,
        period,
        format,
        output,
        area,
        theme,
        tier,
        exceptions,
        skip_invalid,
    } = command
    else {
        bail!("not a report command");
    };
    let today = super::today(&common);
    let Some(fw) = framework_or_stop(&common, today)? else {
        return Ok(FAIL);
    };
    let area_given = area.is_some();
    let area = match area.as_deref() {
        None => fw.default_area(),
        Some(code) => match fw.area(code) {
            Match::Exact(a) | Match::Loose(a) => a,
            Match::None => bail!(
                "--area: `{code}` is not an area of the framework (the areas are {})",
                fw.area_list()
            ),
        },
    };
    let theme = match theme.as_deref() {
        None => None,
        Some(code) => match fw
            .themes
            .iter()
            .position(|t| t.code.eq_ignore_ascii_case(code))
        {
            Some(t) => Some(t),
            None => bail!(
                "--theme: `{code}` is not a theme of the framework (the themes are {})",
                fw.themes
                    .iter()
                    .map(|t| t.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    let tier = tier.map(|t| match t {
        TierArg::Board => Tier::Board,
        TierArg::Executive => Tier::Executive,
        TierArg::Operational => Tier::Operational,
    });
    if format == ReportFormat::Pdf && output.is_none() && io::stdout_is_terminal() {
        bail!("the PDF is binary: write it to a file with -o briefing.pdf");
    }

    let paths = io::return_paths(&returns, &common.framework)?;
    let sources = io::open_returns(&paths)?;
    let (returns, diags) = returns::read(&fw, sources, today);
    let errors: Vec<Diagnostic> = diags.iter().filter(|d| d.is_error()).cloned().collect();
    let style = Style {
        color: io::stderr_color(common.color),
    };
    if !errors.is_empty() {
        let mut msg = Vec::new();
        diag::write_text(&mut msg, &errors, style)?;
        // The rows' errors and warnings (only the errors are listed; completeness is not
        // judged for a report that is not written).
        let tally = Tally::of(&diags);
        if skip_invalid {
            let rows: std::collections::BTreeSet<(&str, u32)> =
                errors.iter().map(|d| (d.file.as_str(), d.line)).collect();
            let what = if rows.len() == 1 {
                "1 invalid row was".to_string()
            } else {
                format!("{} invalid rows were", rows.len())
            };
            let n = tally.errors;
            let errors = if n == 1 {
                "1 error".to_string()
            } else {
                format!("{n} errors")
            };
            msg.extend_from_slice(
                format!("{what} left out of the report ({errors}).\n").as_bytes(),
            );
            io::write_stderr(&msg);
        } else {
            msg.extend_from_slice(
                format!("the returns have {tally}; nothing was written (fix them, or use --skip-invalid to leave the invalid rows out)\n").as_bytes(),
            );
            io::write_stderr(&msg);
            return Ok(DATA);
        }
    }

    let report_period = match report_period(
        &fw,
        &returns,
        quarter.as_deref(),
        year.as_deref(),
        period.as_deref(),
    ) {
        Ok(p) => p,
        Err(e) => bail!("{e}"),
    };
    let options = Options {
        period: report_period,
        as_of: today,
        focus_area: area,
    };
    let filters = Filters {
        area,
        theme,
        tier,
        exceptions,
        area_given,
    };
    // At national scale assessing takes seconds: a bar on a terminal, ticked per indicator.
    let streamed = matches!(format, ReportFormat::Csv | ReportFormat::Json);
    let progress = io::assess_progress(&paths, fw.indicators.len(), streamed && output.is_none());
    if streamed {
        // Rendered as it is assessed, an indicator at a time on every core and written in
        // order: a national report (a million records, hundreds of megabytes) is never held
        // whole, in rows or in text. The CSV and JSON need nothing else of the view.
        let json = format == ReportFormat::Json;
        let render = |out: &mut dyn std::io::Write| {
            let done = render::stream(&fw, returns, &options, &filters, json, out, || {
                progress.inc(1)
            });
            progress.finish_and_clear();
            done
        };
        match output {
            Some(path) => io::write_atomic_with(&path, render)?,
            None => io::write_stdout_with(render)?,
        }
        return Ok(OK);
    }
    let completeness = complete::check(&fw, &returns, report_period, today);
    // Each file's provider, when its valid rows all come from one: the book files an invalid
    // row whose indicator is unknown under it.
    let file_providers = file_providers(&fw, &returns, &common.framework);
    // The returns are consumed (at national scale a gigabyte of observations). The table and
    // the book show only the focus area and its children, so only their rows are kept.
    let assessment = assess::assess_where(
        &fw,
        returns,
        &options,
        |r| filters.is_shown(&fw, r),
        || progress.inc(1),
    );
    progress.finish_and_clear();
    // The book names the invalid rows' files from the framework's folder (SPEC 5: same
    // inputs, same bytes, wherever pmf was run from and however `-f` was written).
    let in_book: Vec<Diagnostic> = errors
        .iter()
        .map(|d| Diagnostic {
            file: io::book_name(&d.file, &common.framework),
            ..d.clone()
        })
        .collect();
    let quality = briefing::quality(&fw, &completeness, &in_book, &file_providers);
    let view = briefing::build(&fw, &assessment, &filters, quality);
    if format == ReportFormat::Pdf {
        let missing = render::pdf::unprintable(&view);
        if !missing.is_empty() {
            let shown: String = missing.iter().take(12).collect();
            let more = if missing.len() > 12 { " and more" } else { "" };
            io::write_stderr(
                format!(
                    "note: the book's font has no glyph for {} character(s) in the text ({shown}{more}); they are printed as ?\n",
                    missing.len()
                )
                .as_bytes(),
            );
        }
    }
    let color = output.is_none() && io::stdout_color(common.color)
        || common.color == crate::cli::ColorChoice::Always;
    // Rendered straight into the output (a temporary file renamed into place, or stdout).
    let render = |out: &mut dyn std::io::Write| match format {
        ReportFormat::Table => render::table::write(&view, out, color),
        ReportFormat::Csv => render::csv::write(&view, out),
        ReportFormat::Json => render::json::write(&view, out),
        ReportFormat::Pdf => render::pdf::write(&view, out),
    };
    match output {
        Some(path) => io::write_atomic_with(&path, render)?,
        None => io::write_stdout_with(render)?,
    }
    Ok(OK)
}

/// (book file name, provider index) of every file whose valid rows all come from one provider.
fn file_providers(
    fw: &Framework,
    returns: &Returns,
    framework_path: &std::path::Path,
) -> Vec<(String, usize)> {
    // Per file: none seen yet, one provider, or more than one.
    let mut per: Vec<Option<Option<usize>>> = vec![None; returns.files.len()];
    for o in &returns.observations {
        let provider = fw
            .indicators
            .get(o.indicator as usize)
            .and_then(|i| i.provider);
        if let Some(slot) = per.get_mut(o.file as usize) {
            *slot = match *slot {
                None => Some(provider),
                Some(p) if p == provider => Some(p),
                Some(_) => Some(None),
            };
        }
    }
    per.iter()
        .enumerate()
        .filter_map(|(f, p)| Some((io::book_name(&returns.files[f], framework_path), (*p)??)))
        .collect()
}

/// The report period from the options (SPEC 3): `--period`; `--quarter` with `--year` or the
/// year of the latest returns; `--year` alone at the year's end; else the quarter in which the
/// latest period in the returns ends.
pub fn report_period(
    fw: &Framework,
    returns: &Returns,
    quarter: Option<&str>,
    year: Option<&str>,
    period: Option<&str>,
) -> std::result::Result<Period, String> {
    let ys = fw.year_start;
    if let Some(p) = period {
        return Period::parse(p, ys, None).map_err(|e| format!("--period: {}", e.message));
    }
    let year = match year {
        Some(y) => Some(
            Period::parse(y, ys, Some(Frequency::Annual))
                .map_err(|e| format!("--year: {}", e.message))?
                .year(),
        ),
        None => None,
    };
    match (quarter, year) {
        (Some(q), y) => {
            let digits = q.trim().trim_start_matches(['Q', 'q']);
            let n: u8 = match digits.parse() {
                Ok(n @ 1..=4) => n,
                _ => return Err(format!("--quarter: `{q}` is not a quarter; write Q1, Q2, Q3 or Q4")),
            };
            let y = match y {
                Some(y) => y,
                None => returns
                    .latest_period()
                    .map(|p| p.year())
                    .ok_or("--quarter needs --year when there are no returns to take the year from")?,
            };
            Period::new(ys, Frequency::Quarterly, y.start_year(), n).ok_or_else(|| "--quarter: no such quarter".to_string())
        }
        (None, Some(y)) => Ok(y),
        (None, None) => returns
            .latest_quarter()
            .ok_or_else(|| "there are no returns to report on: name the period with --quarter and --year, or --period".to_string()),
    }
}
