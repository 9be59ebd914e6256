//! The README's quick start stays true: its first command runs (as the built binary) and its
//! second is the test command `.ci/run` runs.

use std::fs;
use std::process::Command;

fn quick_start() -> Vec<String> {
    let readme = fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("## Quick start")
        .expect("README has a quick start");
    let block = &readme[start..];
    let open = block.find("```sh\n").expect("quick start has a sh block") + 6;
    let close = block[open..].find("```").unwrap() + open;
    block[open..close]
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn quick_start_has_two_commands_and_the_first_works() {
    let lines = quick_start();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let args = lines[0]
        .strip_prefix("cargo run --release -- ")
        .expect("first command runs pmf through cargo");
    let out = Command::new(env!("CARGO_BIN_EXE_pmf"))
        .args(args.split_whitespace())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("21 indicators: RED 3  AMBER 6  GREEN 8  BLUE 1  N/A 3"),
        "{text}"
    );
}

#[test]
fn the_test_command_is_what_ci_runs() {
    let lines = quick_start();
    let ci = fs::read_to_string(".ci/run").unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == lines[1]),
        "`.ci/run` does not run `{}`",
        lines[1]
    );
}
