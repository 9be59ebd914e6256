//! Problems in the user's data, as values: a stable code, a severity, where it is (file, line,
//! column), what it concerns (indicator, area, period), a message a partner's data officer can
//! act on, and a `help` line where the fix is clear. Rendering as rustc-style text, JSON records
//! or CSV records lives here too, writing into any writer.
//!
//! Operational failures (a file that cannot be read) are not diagnostics: they are `anyhow`
//! errors printed once by `main`.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

/// Error or warning. Errors make `validate` exit 1; warnings only with `--strict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $text:literal : $sev:ident ),* $(,)?) => {
        /// Stable problem codes (SPEC 3). Their text never changes; scripts match on it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant ),* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant ),* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $text ),* }
            }

            /// The severity the SPEC gives this code.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev ),* }
            }
        }
    };
}

codes! {
    // Returns (SPEC 3, `pmf validate`).
    MissingColumn = "missing-column": Error,
    UnknownColumn = "unknown-column": Warning,
    BlankRow = "blank-row": Warning,
    RaggedRow = "ragged-row": Error,
    Encoding = "encoding": Warning,
    UnknownIndicator = "unknown-indicator": Error,
    UnknownArea = "unknown-area": Error,
    BadPeriod = "bad-period": Error,
    WrongFrequency = "wrong-frequency": Error,
    FuturePeriod = "future-period": Error,
    MissingValue = "missing-value": Error,
    TypeError = "type-error": Error,
    NormalisedValue = "normalised-value": Warning,
    OutOfRange = "out-of-range": Error,
    NumeratorMismatch = "numerator-mismatch": Error,
    DuplicateRow = "duplicate-row": Warning,
    ConflictingRow = "conflicting-row": Error,
    BadDate = "bad-date": Error,
    Delimiter = "delimiter": Warning,
    MissingReturn = "missing-return": Warning,
    LateReturn = "late-return": Warning,
    // Framework (`pmf check`).
    Yaml = "yaml": Error,
    DuplicateCode = "duplicate-code": Error,
    UnknownReference = "unknown-reference": Error,
    BadValue = "bad-value": Error,
    NoLead = "no-lead": Warning,
    NoTarget = "no-target": Warning,
    TargetOutsidePlan = "target-outside-plan": Warning,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem found in the user's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// The path as the user gave it (never made absolute).
    pub file: String,
    /// 1-based physical line (the CSV header is line 1); 0 when it concerns the whole file.
    pub line: u32,
    /// 1-based column: the field number in a CSV, the character in YAML; 0 when not known.
    pub column: u32,
    pub indicator: String,
    pub area: String,
    pub period: String,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            file: file.to_string(),
            line: 0,
            column: 0,
            indicator: String::new(),
            area: String::new(),
            period: String::new(),
            message: message.into(),
            help: None,
        }
    }

    pub fn at(mut self, line: u32, column: u32) -> Diagnostic {
        self.line = line;
        self.column = column;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn indicator(mut self, code: impl Into<String>) -> Diagnostic {
        self.indicator = code.into();
        self
    }

    pub fn area(mut self, code: impl Into<String>) -> Diagnostic {
        self.area = code.into();
        self
    }

    pub fn period(mut self, period: impl Into<String>) -> Diagnostic {
        self.period = period.into();
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Sort key: by file (in the order given), then position, then code.
    fn location(&self) -> String {
        match (self.line, self.column) {
            (0, _) => self.file.clone(),
            (l, 0) => format!("{}:{l}", self.file),
            (l, c) => format!("{}:{l}:{c}", self.file),
        }
    }
}

/// Counts of errors and warnings, for the closing line and the exit code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
}

impl Tally {
    pub fn of(diags: &[Diagnostic]) -> Tally {
        let errors = diags.iter().filter(|d| d.is_error()).count();
        Tally {
            errors,
            warnings: diags.len() - errors,
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}",
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        )
    }
}

/// Colours for the text rendering (ANSI), or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// rustc-style text:
///
/// ```text
/// error[unknown-area]: area `ZZ` is not in the framework
///   --> returns/police.csv:14:2
///    = help: the areas are NS, NS-A, NS-B
/// ```
pub fn write_text(out: &mut dyn Write, diags: &[Diagnostic], style: Style) -> io::Result<()> {
    for d in diags {
        let head = match d.severity {
            Severity::Error => style.paint("1;31", &format!("error[{}]", d.code)),
            Severity::Warning => style.paint("1;33", &format!("warning[{}]", d.code)),
        };
        writeln!(out, "{head}: {}", d.message)?;
        if !d.file.is_empty() {
            writeln!(out, "  {} {}", style.paint("1;34", "-->"), d.location())?;
        }
        if let Some(help) = &d.help {
            writeln!(out, "   {} {help}", style.paint("1;34", "= help:"))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Record<'a> {
    file: &'a str,
    line: String,
    column: String,
    code: &'a str,
    severity: &'a str,
    indicator: &'a str,
    area: &'a str,
    period: &'a str,
    message: String,
}

fn record(d: &Diagnostic) -> Record<'_> {
    let num = |n: u32| if n == 0 { String::new() } else { n.to_string() };
    let message = match &d.help {
        Some(h) => format!("{} ({h})", d.message),
        None => d.message.clone(),
    };
    Record {
        file: &d.file,
        line: num(d.line),
        column: num(d.column),
        code: d.code.as_str(),
        severity: d.severity.as_str(),
        indicator: &d.indicator,
        area: &d.area,
        period: &d.period,
        message,
    }
}

/// JSON: one array of records with the fields SPEC 3 lists. `line` and `column` are numbers,
/// or null where they do not apply.
pub fn write_json(out: &mut dyn Write, diags: &[Diagnostic]) -> io::Result<()> {
    let records: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let r = record(d);
            let num = |n: u32| {
                if n == 0 {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::from(n)
                }
            };
            serde_json::json!({
                "file": r.file,
                "line": num(d.line),
                "column": num(d.column),
                "code": r.code,
                "severity": r.severity,
                "indicator": r.indicator,
                "area": r.area,
                "period": r.period,
                "message": r.message,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &records)?;
    writeln!(out)
}

/// CSV: a header and one record per problem, fields as SPEC 3 lists them; text cells are made
/// formula-safe like the report's.
pub fn write_csv(out: &mut dyn Write, diags: &[Diagnostic]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "file",
        "line",
        "column",
        "code",
        "severity",
        "indicator",
        "area",
        "period",
        "message",
    ])
    .map_err(crate::render::csv_error)?;
    for d in diags {
        let r = record(d);
        w.write_record([
            crate::render::safe_cell(r.file).as_ref(),
            &r.line,
            &r.column,
            r.code,
            r.severity,
            &crate::render::safe_cell(r.indicator),
            &crate::render::safe_cell(r.area),
            &crate::render::safe_cell(r.period),
            &crate::render::safe_cell(&r.message),
        ])
        .map_err(crate::render::csv_error)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::{write_csv, write_json, write_text, Code, Diagnostic, Severity, Style, Tally};

    fn sample() -> Vec<Diagnostic> {
        vec![
            Diagnostic::new(
                Code::UnknownArea,
                "returns/police.csv",
                "area `ZZ` is not in the framework",
            )
            .at(14, 2)
            .area("ZZ")
            .help("the areas are NS, NS-A"),
            Diagnostic::new(Code::MissingReturn, "", "no return for `CF 01`").indicator("CF 01"),
        ]
    }

    #[test]
    fn severities_follow_the_spec() {
        let warnings: Vec<&str> = Code::ALL
            .iter()
            .filter(|c| c.severity() == Severity::Warning)
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            warnings,
            [
                "unknown-column",
                "blank-row",
                "encoding",
                "normalised-value",
                "duplicate-row",
                "delimiter",
                "missing-return",
                "late-return",
                "no-lead",
                "no-target",
                "target-outside-plan"
            ]
        );
    }

    #[test]
    fn text_is_rustc_style() {
        let mut out = Vec::new();
        write_text(&mut out, &sample()[..1], Style { color: false }).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "error[unknown-area]: area `ZZ` is not in the framework\n  --> returns/police.csv:14:2\n   = help: the areas are NS, NS-A\n\n"
        );
        assert_eq!(Tally::of(&sample()).to_string(), "1 error, 1 warning");
    }

    #[test]
    fn records_have_the_spec_fields() {
        let mut out = Vec::new();
        write_csv(&mut out, &sample()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "file,line,column,code,severity,indicator,area,period,message"
        );
        assert_eq!(
            lines.next().unwrap(),
            "returns/police.csv,14,2,unknown-area,error,,ZZ,,\"area `ZZ` is not in the framework (the areas are NS, NS-A)\""
        );
        assert_eq!(
            lines.next().unwrap(),
            ",,,missing-return,warning,CF 01,,,no return for `CF 01`"
        );
        let mut out = Vec::new();
        write_json(&mut out, &sample()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v[0]["line"], 14);
        assert_eq!(v[1]["line"], serde_json::Value::Null);
        assert_eq!(v[1]["severity"], "warning");
    }
}
