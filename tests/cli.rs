//! Golden CLI tests as data (tests/cmd/*.toml: command, expected stdout, stderr and exit code),
//! and the generated artefacts that must not drift.

use std::fs;

#[test]
fn golden_commands() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}

#[test]
fn schema_file_is_current() {
    let kept = fs::read_to_string("schema/framework.schema.json").unwrap();
    assert_eq!(
        kept,
        pmf::framework::raw::schema_json(),
        "schema/framework.schema.json is stale: run `cargo run -- schema > schema/framework.schema.json`"
    );
}

#[test]
fn every_problem_code_has_a_golden_case() {
    for code in pmf::diag::Code::ALL {
        let c = code.as_str();
        let framework_code = matches!(
            c,
            "yaml"
                | "duplicate-code"
                | "unknown-reference"
                | "bad-value"
                | "no-lead"
                | "no-target"
                | "target-outside-plan"
        );
        if framework_code {
            continue;
        }
        let path = format!("tests/cmd/validate-{c}.stdout");
        let text = fs::read_to_string(&path).unwrap_or_else(|_| panic!("no golden case {path}"));
        assert!(text.contains(&format!("[{c}]")), "{path} does not show {c}");
    }
}
