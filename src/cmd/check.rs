//! `pmf check`: the framework's problems, all of them, with positions.

use anyhow::Result;

use super::{load_framework, print_problems, today, DATA, FAIL, OK};
use crate::cli::{Common, ProblemFormat};
use crate::diag::Tally;
use crate::io;

pub fn run(
    common: &Common,
    format: ProblemFormat,
    strict: bool,
    output: Option<&std::path::Path>,
) -> Result<u8> {
    let (fw, diags) = load_framework(&common.framework, today(common))?;
    let tally = Tally::of(&diags);
    let name = io::display_path(&common.framework);
    let summary = match &fw {
        Some(f) => format!(
            "{name}: {tally}; {} themes, {} indicators, {} areas\n",
            f.themes.len(),
            f.indicators.len(),
            f.areas.len()
        ),
        None => format!("{name}: {tally}\n"),
    };
    print_problems(&diags, format, common.color, &summary, output)?;
    Ok(if fw.is_none() {
        FAIL
    } else if strict && tally.warnings > 0 {
        DATA
    } else {
        OK
    })
}
