//! The one edge that touches the world: files, the environment, the terminal and the clock.
//! Everything else in pmf takes values and returns values.

use std::fs;
use std::io::{self, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressBarIter, ProgressDrawTarget, ProgressFinish, ProgressStyle};

use crate::framework::MAX_FRAMEWORK_BYTES;
use crate::returns::Source;

/// Today's date from the system clock: used only when `--as-of` is not given.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Whether colour should be used on stdout (`auto`: a terminal and no `NO_COLOR`).
pub fn stdout_color(choice: crate::cli::ColorChoice) -> bool {
    color(choice, io::stdout().is_terminal())
}

/// Whether colour should be used on stderr.
pub fn stderr_color(choice: crate::cli::ColorChoice) -> bool {
    color(choice, io::stderr().is_terminal())
}

fn color(choice: crate::cli::ColorChoice, terminal: bool) -> bool {
    use crate::cli::ColorChoice;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Whether stdout is a terminal (a PDF is not written to one).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Whether stderr is a terminal (for progress output).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// The framework file's text, or its size when it is over the limit: such files are refused
/// before they are read, so a hostile 100 MB file costs nothing.
pub fn read_framework(path: &Path) -> Result<std::result::Result<(String, Option<u32>), u64>> {
    let meta = fs::metadata(path)
        .with_context(|| format!("cannot read the framework file {}", path.display()))?;
    if meta.is_dir() {
        bail!(
            "{} is a folder; name the framework's YAML file",
            path.display()
        );
    }
    if meta.len() > MAX_FRAMEWORK_BYTES as u64 {
        return Ok(Err(meta.len()));
    }
    let bytes = fs::read(path)
        .with_context(|| format!("cannot read the framework file {}", path.display()))?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Ok((s, None))),
        Err(e) => {
            // Read as Windows-1252 (as a return is), and the line of the first byte that is
            // not UTF-8 given back for the warning.
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(e.as_bytes());
            Ok(Ok((text.into_owned(), Some(line))))
        }
    }
}

/// The return files: each path given (a file, or a folder's `*.csv` in name order); with none,
/// the `returns/` folder beside the framework file. Paths are kept as the user gave them.
pub fn return_paths(given: &[PathBuf], framework: &Path) -> Result<Vec<PathBuf>> {
    let defaults;
    let roots: &[PathBuf] = if given.is_empty() {
        let dir = framework.parent().unwrap_or(Path::new("")).join("returns");
        if !dir.is_dir() {
            // Not an error (a new framework has no returns yet; `validate --period` then
            // lists every return due), but said: a misnamed folder must not pass unnoticed.
            write_stderr(
                format!(
                    "note: there is no folder {} beside the framework, so no returns were read (name them with -r PATH)\n",
                    display_path(&dir)
                )
                .as_bytes(),
            );
            return Ok(Vec::new());
        }
        defaults = vec![dir];
        &defaults
    } else {
        given
    };
    let mut out = Vec::new();
    for root in roots {
        let meta = fs::metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
        if meta.is_dir() {
            let mut files: Vec<PathBuf> = fs::read_dir(root)
                .with_context(|| format!("cannot list the folder {}", root.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
                })
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(root.clone());
        }
    }
    Ok(out)
}

/// Opens the return files for streaming. When they are large (more than a few seconds'
/// work) and stderr is a terminal, reading them draws a progress bar on stderr (indicatif),
/// cleared when the files have been read.
pub fn open_returns(
    paths: &[PathBuf],
) -> Result<Vec<Source<BufReader<ProgressBarIter<fs::File>>>>> {
    let files = paths
        .iter()
        .map(|p| {
            let f = fs::File::open(p)
                .with_context(|| format!("cannot read the return file {}", p.display()))?;
            let len = f.metadata().map_or(0, |m| m.len());
            Ok((p, f, len))
        })
        .collect::<Result<Vec<_>>>()?;
    let total: u64 = files.iter().map(|(_, _, len)| len).sum();
    let bar = if total > PROGRESS_MIN_BYTES && io::stderr().is_terminal() {
        let style = ProgressStyle::with_template(
            "reading returns {wide_bar} {percent:>3}% of {total_bytes}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_finish(ProgressFinish::AndClear)
    } else {
        ProgressBar::hidden()
    };
    Ok(files
        .into_iter()
        .map(|(p, f, _)| Source {
            name: display_path(p),
            reader: BufReader::with_capacity(256 * 1024, bar.wrap_read(f)),
        })
        .collect())
}

/// Inputs above this size get a progress bar (about a second of reading).
const PROGRESS_MIN_BYTES: u64 = 50 * 1024 * 1024;

/// A progress bar for assessing `indicators` indicators, drawn on stderr when the returns
/// are large enough for that to take seconds (as for reading them) and stderr is a terminal;
/// otherwise hidden. Also hidden when a CSV or JSON report goes to stdout and stdout is a
/// terminal too: they are written while they are assessed, and the bar would be drawn across
/// them. Ticked once an indicator is assessed, cleared when finished.
pub fn assess_progress(
    paths: &[PathBuf],
    indicators: usize,
    streamed_to_stdout: bool,
) -> ProgressBar {
    let total: u64 = paths
        .iter()
        .filter_map(|p| fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if total <= PROGRESS_MIN_BYTES
        || !io::stderr().is_terminal()
        || (streamed_to_stdout && io::stdout().is_terminal())
    {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("assessing {wide_bar} {pos}/{len} indicators")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::with_draw_target(Some(indicators as u64), ProgressDrawTarget::stderr())
        .with_style(style)
        .with_finish(ProgressFinish::AndClear)
}

/// A path as the user gave it, with `/` separators.
pub fn display_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// A file as the briefing book names it: from the framework's folder when it lies there (the
/// same files give the same book however the framework's path was written, relative or
/// absolute, and no machine's folders appear in it), else as the user gave it.
pub fn book_name(file: &str, framework: &Path) -> String {
    let dir = framework.parent().unwrap_or(Path::new(""));
    match Path::new(file).strip_prefix(dir) {
        Ok(rest) if !dir.as_os_str().is_empty() => display_path(rest),
        _ => file.to_string(),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, renamed into place, so a
/// failed run never leaves a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes what `render` produces to `path` atomically, streaming it into the temporary file.
pub fn write_atomic_with(
    path: &Path,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.pmf-tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let file =
            fs::File::create(&tmp).with_context(|| format!("cannot write {}", path.display()))?;
        let mut out = io::BufWriter::with_capacity(256 * 1024, file);
        render(&mut out).with_context(|| format!("cannot write {}", path.display()))?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.sync_all().ok();
        fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes what `render` produces to stdout, buffered; a closed pipe is not an error.
pub fn write_stdout_with(render: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let mut out = io::BufWriter::with_capacity(256 * 1024, io::stdout().lock());
    match render(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Writes to stdout; a closed pipe (`pmf report | head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Writes to stderr, ignoring failures (there is nowhere left to report them).
pub fn write_stderr(bytes: &[u8]) {
    let _ = io::stderr().lock().write_all(bytes);
}

/// Creates the files of `pmf init`, refusing to overwrite any that exist.
pub fn write_new_files(dir: &Path, files: &[(&str, &str)]) -> Result<()> {
    for (name, _) in files {
        let p = dir.join(name);
        if p.exists() {
            bail!(
                "{} already exists; pmf init does not overwrite files (choose an empty folder)",
                p.display()
            );
        }
    }
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn book_names_from_the_framework_folder() {
        let cases = [
            (
                "/srv/plan/returns/a.csv",
                "/srv/plan/pmf.yaml",
                "returns/a.csv",
            ),
            ("plan/returns/a.csv", "plan/pmf.yaml", "returns/a.csv"),
            ("returns/a.csv", "pmf.yaml", "returns/a.csv"),
            ("other/a.csv", "plan/pmf.yaml", "other/a.csv"),
            ("/srv/other/a.csv", "/srv/plan/pmf.yaml", "/srv/other/a.csv"),
        ];
        for (file, framework, shown) in cases {
            assert_eq!(
                super::book_name(file, Path::new(framework)),
                shown,
                "{file}"
            );
        }
    }
}
