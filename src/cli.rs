//! The command line: clap derive types, with help text per flag and an example per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run a performance management framework from flat files: check the framework, validate the
/// partners' returns, and report RAG status, direction, escalation and forecasts.
#[derive(Debug, Parser)]
#[command(name = "pmf", version, about, max_term_width = 100)]
#[command(
    after_help = "Examples:\n  pmf check -f examples/riverside/pmf.yaml\n  pmf validate -f examples/riverside/pmf.yaml --period \"2025/26 Q2\"\n  pmf report -f examples/riverside/pmf.yaml --quarter Q2 --format pdf -o briefing.pdf"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options every command shares.
#[derive(Debug, Args)]
pub struct Common {
    /// The framework file.
    #[arg(
        short = 'f',
        long = "framework",
        value_name = "PATH",
        default_value = "pmf.yaml"
    )]
    pub framework: PathBuf,
    /// Colour: auto (a terminal without NO_COLOR), always or never.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,
    /// "Today", as YYYY-MM-DD: decides future periods, deadlines and the current year.
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProblemFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Csv,
    Json,
    Pdf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierArg {
    Board,
    Executive,
    Operational,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the framework file: YAML and schema, codes, references, target periods.
    #[command(
        after_help = "Example:\n  pmf check -f examples/riverside/pmf.yaml --as-of 2025-11-15"
    )]
    Check {
        #[command(flatten)]
        common: Common,
        /// How to print the problems.
        #[arg(long, value_enum, default_value = "text")]
        format: ProblemFormat,
        /// Treat warnings as failures (exit 1).
        #[arg(long)]
        strict: bool,
        /// Write the problems to this file (atomically) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Validate partner returns and report missing and late ones.
    #[command(
        after_help = "Example:\n  pmf validate -f examples/riverside/pmf.yaml --period \"2025/26 Q2\" --as-of 2025-11-15\n\nExit status: 0 no errors (warnings allowed), 1 errors (or warnings with --strict), 2 could not run."
    )]
    Validate {
        #[command(flatten)]
        common: Common,
        /// Return files or folders (default: returns/ beside the framework).
        #[arg(value_name = "FILES")]
        files: Vec<PathBuf>,
        /// More return files or folders.
        #[arg(short = 'r', long = "returns", value_name = "PATH", num_args = 1..)]
        returns: Vec<PathBuf>,
        /// Check completeness for this period (default: the latest period in the returns).
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// How to print the problems.
        #[arg(long, value_enum, default_value = "text")]
        format: ProblemFormat,
        /// Treat warnings as failures (exit 1).
        #[arg(long)]
        strict: bool,
        /// Write the problems to this file (atomically) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Compute RAG, direction, escalation and forecasts, and write the report.
    #[command(
        after_help = "Examples:\n  pmf report -f examples/riverside/pmf.yaml --quarter Q2\n  pmf report -f examples/riverside/pmf.yaml --quarter Q2 --format csv -o q2.csv\n  pmf report -f examples/riverside/pmf.yaml --quarter Q2 --format pdf -o briefing.pdf"
    )]
    Report {
        #[command(flatten)]
        common: Common,
        /// Return files or folders (default: returns/ beside the framework).
        #[arg(short = 'r', long = "returns", value_name = "PATH", num_args = 1..)]
        returns: Vec<PathBuf>,
        /// The quarter: Q1-Q4 (with --year, or the year of the latest returns).
        #[arg(long, value_name = "Q")]
        quarter: Option<String>,
        /// The year, e.g. 2024/25; alone, reports at the year's end.
        #[arg(long, value_name = "YEAR")]
        year: Option<String>,
        /// The report period, e.g. "2024/25 Q2" or 2024/25.
        #[arg(long, value_name = "PERIOD", conflicts_with_all = ["quarter", "year"])]
        period: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
        /// Write to this file (atomically) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
        /// Report on this area and its child areas (default: the first top area).
        #[arg(long, value_name = "CODE")]
        area: Option<String>,
        /// Only this theme.
        #[arg(long, value_name = "CODE")]
        theme: Option<String>,
        /// Only indicators of this tier.
        #[arg(long, value_enum, ignore_case = true)]
        tier: Option<TierArg>,
        /// Only exceptions (below target, challenged or not returned) and commendations.
        #[arg(long)]
        exceptions: bool,
        /// Leave invalid rows out (listed on stderr and in data quality) instead of stopping.
        #[arg(long = "skip-invalid")]
        skip_invalid: bool,
    },
    /// Print the framework's JSON Schema.
    #[command(after_help = "Example:\n  pmf schema > framework.schema.json")]
    Schema,
    /// Write a small working framework and returns to start from.
    #[command(after_help = "Example:\n  pmf init my-framework && cd my-framework && pmf report")]
    Init {
        /// The folder to write into (created if needed).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print shell completions.
    #[command(after_help = "Example:\n  pmf completions bash > /etc/bash_completion.d/pmf")]
    Completions { shell: clap_complete::Shell },
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::returns::read::parse_date(s)
        .ok_or_else(|| format!("`{s}` is not a date: write YYYY-MM-DD, e.g. 2025-11-15"))
}
