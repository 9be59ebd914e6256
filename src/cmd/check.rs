//! `pmf check`: the framework's problems, all of them, with positions.

use anyhow::Result;

use super::{load_framework, today, DATA, FAIL, OK};
use crate::cli::{Common, ProblemFormat};
use crate::diag::{self, Style, Tally};
use crate::io;

pub fn run(common: &Common, format: ProblemFormat, strict: bool) -> Result<u8> {
    let (fw, diags) = load_framework(&common.framework, today(common))?;
    let mut out = Vec::new();
    let tally = Tally::of(&diags);
    match format {
        ProblemFormat::Text => {
            diag::write_text(
                &mut out,
                &diags,
                Style {
                    color: io::stdout_color(common.color),
                },
            )?;
            let name = io::display_path(&common.framework);
            match &fw {
                Some(f) => out.extend_from_slice(
                    format!(
                        "{name}: {tally}; {} themes, {} indicators, {} areas\n",
                        f.themes.len(),
                        f.indicators.len(),
                        f.areas.len()
                    )
                    .as_bytes(),
                ),
                None => out.extend_from_slice(format!("{name}: {tally}\n").as_bytes()),
            }
        }
        ProblemFormat::Json => diag::write_json(&mut out, &diags)?,
        ProblemFormat::Csv => diag::write_csv(&mut out, &diags)?,
    }
    io::write_stdout(&out)?;
    Ok(if fw.is_none() {
        FAIL
    } else if strict && tally.warnings > 0 {
        DATA
    } else {
        OK
    })
}
