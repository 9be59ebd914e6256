//! The `pmf` binary: parse the arguments, run, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = pmf::cli::Cli::parse();
    match pmf::cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("pmf: error: {e:#}");
            ExitCode::from(pmf::cmd::FAIL)
        }
    }
}
