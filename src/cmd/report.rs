//! `pmf report`.
use anyhow::Result;
pub fn run(_c: crate::cli::Command) -> Result<u8> {
    anyhow::bail!("report is not built yet")
}
