//! `pmf validate`: every problem in the returns, and completeness at a period.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::{framework_or_stop, print_problems, today, DATA, FAIL, OK};
use crate::cli::{Common, ProblemFormat};
use crate::diag::{self, Diagnostic, Tally};
use crate::io;
use crate::period::Period;
use crate::returns;

pub fn run(
    common: &Common,
    files: &[PathBuf],
    period: Option<&str>,
    format: ProblemFormat,
    strict: bool,
    output: Option<&std::path::Path>,
) -> Result<u8> {
    let today = today(common);
    let Some(fw) = framework_or_stop(common, today)? else {
        return Ok(FAIL);
    };
    let period = match period {
        Some(p) => match Period::parse(p, fw.year_start, None) {
            Ok(p) => Some(p),
            Err(e) => anyhow::bail!("--period: {}", e.message),
        },
        None => None,
    };
    let paths = io::return_paths(files, &common.framework)?;
    let sources = io::open_returns(&paths)?;
    let (seen, mut diags) = returns::read_for_checking(&fw, sources, today);
    let period = period.or_else(|| seen.default_period());
    if let Some(p) = period {
        diags.extend(seen.completeness(&fw, p, today));
    }
    let tally = Tally::of(&diags);
    let summary = summary(&paths, seen.rows, period, tally, &diags);
    print_problems(&diags, format, common.color, &summary, output)
        .context("writing the problems")?;
    Ok(if tally.errors > 0 || (strict && tally.warnings > 0) {
        DATA
    } else {
        OK
    })
}

fn summary(
    paths: &[PathBuf],
    rows: usize,
    period: Option<Period>,
    tally: Tally,
    diags: &[Diagnostic],
) -> String {
    let files = if paths.len() == 1 {
        "1 file".to_string()
    } else {
        format!("{} files", paths.len())
    };
    let missing = diags
        .iter()
        .filter(|d| d.code == diag::Code::MissingReturn)
        .count();
    let late = diags
        .iter()
        .filter(|d| d.code == diag::Code::LateReturn)
        .count();
    let completeness = match period {
        Some(p) => format!("; at {p}: {missing} missing, {late} late"),
        None => String::new(),
    };
    // Which codes, how often: the partner sees at a glance what to fix first.
    let mut by_code: Vec<(diag::Code, usize)> = Vec::new();
    for d in diags {
        match by_code.iter_mut().find(|(c, _)| *c == d.code) {
            Some((_, n)) => *n += 1,
            None => by_code.push((d.code, 1)),
        }
    }
    by_code.sort_by_key(|(c, _)| (c.severity(), *c));
    let breakdown = if by_code.is_empty() {
        String::new()
    } else {
        let parts: Vec<String> = by_code.iter().map(|(c, n)| format!("{c} {n}")).collect();
        format!(" ({})", parts.join(", "))
    };
    format!("{files}, {rows} valid rows: {tally}{breakdown}{completeness}\n")
}
