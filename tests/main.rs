//! Integration tests: the CLI end to end (one binary, as ripgrep and just do).

mod cli;
mod init;
mod readme;
