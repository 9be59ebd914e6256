//! One module per subcommand, all the same shape: glue between the I/O edge and the pure core.

pub mod check;
pub mod report;
pub mod validate;

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;

use crate::cli::{Cli, ColorChoice, Command, Common, ProblemFormat};
use crate::diag::{self, Diagnostic, Style, Tally};
use crate::framework::{self, Framework};
use crate::io;

/// Exit status: success (warnings allowed).
pub const OK: u8 = 0;
/// Exit status: the data has errors (or warnings with `--strict`).
pub const DATA: u8 = 1;
/// Exit status: could not run.
pub const FAIL: u8 = 2;

/// The starter files `pmf init` writes.
pub const STARTER: [(&str, &str); 2] = [
    ("pmf.yaml", include_str!("../../examples/starter/pmf.yaml")),
    (
        "returns/council.csv",
        include_str!("../../examples/starter/returns/council.csv"),
    ),
];

pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Check {
            common,
            format,
            strict,
            output,
        } => check::run(&common, format, strict, output.as_deref()),
        Command::Validate {
            common,
            mut files,
            returns,
            period,
            format,
            strict,
            output,
        } => {
            files.extend(returns);
            validate::run(
                &common,
                &files,
                period.as_deref(),
                format,
                strict,
                output.as_deref(),
            )
        }
        Command::Report { .. } => report::run(cli.command),
        Command::Schema => {
            io::write_stdout(framework::raw::schema_json().as_bytes())?;
            Ok(OK)
        }
        Command::Init { dir } => {
            io::write_new_files(&dir, &STARTER)?;
            let shown = io::display_path(&dir);
            let msg = format!(
                "wrote {shown}/pmf.yaml and {shown}/returns/council.csv\nnext: cd {shown} && pmf check && pmf validate && pmf report\n"
            );
            io::write_stderr(msg.as_bytes());
            Ok(OK)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "pmf", &mut out);
            io::write_stdout(&out)?;
            Ok(OK)
        }
    }
}

/// Prints problems in the chosen format. The summary line closes the text on stdout; with
/// `json` or `csv` it goes to stderr, so stdout stays machine-readable.
pub fn print_problems(
    diags: &[Diagnostic],
    format: ProblemFormat,
    color: ColorChoice,
    summary: &str,
    output: Option<&Path>,
) -> Result<()> {
    let mut out = Vec::new();
    match format {
        ProblemFormat::Text => {
            // Colour only on a terminal (or when asked for), never by default in a file.
            let color = match output {
                None => io::stdout_color(color),
                Some(_) => color == ColorChoice::Always,
            };
            diag::write_text(&mut out, diags, Style { color })?;
            out.extend_from_slice(summary.as_bytes());
        }
        ProblemFormat::Json => diag::write_json(&mut out, diags)?,
        ProblemFormat::Csv => diag::write_csv(&mut out, diags)?,
    }
    match output {
        // Written atomically (SPEC 3); the summary still goes to stderr, for the log.
        Some(path) => {
            io::write_atomic_with(path, |w| w.write_all(&out))?;
            io::write_stderr(summary.as_bytes());
        }
        None => {
            io::write_stdout(&out)?;
            if format != ProblemFormat::Text {
                io::write_stderr(summary.as_bytes());
            }
        }
    }
    Ok(())
}

/// "Today": `--as-of`, else the clock.
pub fn today(common: &Common) -> NaiveDate {
    common.as_of.unwrap_or_else(io::today)
}

/// Loads the framework the same way for every command: its problems, and the model when it has
/// no errors.
pub fn load_framework(
    path: &Path,
    today: NaiveDate,
) -> Result<(Option<Framework>, Vec<Diagnostic>)> {
    let name = io::display_path(path);
    let loaded = match io::read_framework(path)? {
        Ok((text, not_utf8)) => {
            let mut loaded = framework::load(&text, &name, today);
            if let Some(line) = not_utf8 {
                // As for a return (SPEC 2.3): read as Windows-1252, with a warning.
                loaded.diagnostics.insert(
                    0,
                    Diagnostic::new(
                        crate::diag::Code::Encoding,
                        &name,
                        "the framework file is not UTF-8; it was read as Windows-1252",
                    )
                    .at(line, 0)
                    .help("check accented letters and £ signs came through; save the file as UTF-8 to be sure"),
                );
            }
            loaded
        }
        Err(size) => framework::Loaded {
            framework: None,
            diagnostics: vec![framework::too_large(&name, size)],
        },
    };
    Ok((loaded.framework, loaded.diagnostics))
}

/// For every command but `check`: prints the framework's problems on stderr and returns the
/// model, or `None` (exit 2) when it has errors.
pub fn framework_or_stop(common: &Common, today: NaiveDate) -> Result<Option<Framework>> {
    let (fw, diags) = load_framework(&common.framework, today)?;
    if !diags.is_empty() {
        let mut out = Vec::new();
        diag::write_text(
            &mut out,
            &diags,
            Style {
                color: io::stderr_color(common.color),
            },
        )?;
        if fw.is_none() {
            let tally = Tally::of(&diags);
            out.extend_from_slice(
                format!(
                    "{}: the framework has {tally}; fix it first (`pmf check -f {}`)\n",
                    io::display_path(&common.framework),
                    io::display_path(&common.framework)
                )
                .as_bytes(),
            );
        }
        io::write_stderr(&out);
    }
    Ok(fw)
}
