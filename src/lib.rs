//! pmf: a performance management framework run from flat files.
//!
//! The pipeline, one module a stage:
//!
//! ```text
//! paths -> io (read) -> framework / returns (load + validate) -> assess -> briefing -> render -> io (write)
//! ```
//!
//! Only [`io`] touches files, the environment and the clock; everything else takes values and
//! returns values, so every stage is tested in memory.

pub mod assess;
pub mod briefing;
pub mod cli;
pub mod cmd;
pub mod diag;
pub mod framework;
pub mod io;
pub mod period;
pub mod render;
pub mod returns;
#[cfg(test)]
mod testing;
