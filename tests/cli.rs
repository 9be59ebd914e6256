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

/// The briefing book is the same bytes whether the framework's path is written relative or
/// absolute, from whichever folder pmf is run (SPEC 5): the invalid rows' files are named from
/// the framework's folder, and no machine's folders appear in it.
#[test]
fn the_book_does_not_depend_on_how_the_framework_path_is_written() {
    let root = std::env::current_dir().unwrap();
    let out = std::env::temp_dir().join(format!("pmf-book-{}", std::process::id()));
    fs::create_dir_all(&out).unwrap();
    let book = |cwd: &std::path::Path, framework: &str, name: &str| {
        let path = out.join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_pmf"))
            .current_dir(cwd)
            .args([
                "report",
                "-f",
                framework,
                "--skip-invalid",
                "--format",
                "pdf",
            ])
            .args(["--as-of", "2025-11-15", "-o"])
            .arg(&path)
            .output()
            .unwrap()
            .status;
        assert_eq!(status.code(), Some(0));
        fs::read(path).unwrap()
    };
    let broken = root.join("examples/broken");
    let relative = book(&root, "examples/broken/pmf.yaml", "relative.pdf");
    let absolute = book(
        &out,
        broken.join("pmf.yaml").to_str().unwrap(),
        "absolute.pdf",
    );
    let inside = book(&broken, "pmf.yaml", "inside.pdf");
    assert!(
        relative == absolute && relative == inside,
        "the books differ"
    );
    // Its text (poppler's pdftotext, as the PDF tests read it): files named from the
    // framework's folder, no folder of this machine.
    let text = std::process::Command::new("pdftotext")
        .arg(out.join("absolute.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("returns/columns.csv:4 ragged-row"), "{text}");
    assert!(!text.contains(root.to_string_lossy().as_ref()), "{text}");
    fs::remove_dir_all(&out).unwrap();
}

/// `validate -o PATH` (SPEC 3: results to stdout or -o/--output, written atomically): the
/// records go to the file, exactly as they would to stdout, the summary to stderr; a folder
/// that does not exist exits 2 and leaves nothing behind.
#[test]
fn validate_writes_its_records_to_a_file() {
    let out = std::env::temp_dir().join(format!("pmf-validate-o-{}", std::process::id()));
    fs::create_dir_all(&out).unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pmf"))
            .args(["validate", "-f", "examples/broken/pmf.yaml"])
            .args(["--as-of", "2025-11-15", "--format", "csv"])
            .args(extra)
            .output()
            .unwrap()
    };
    let to_stdout = run(&[]);
    let path = out.join("problems.csv");
    let to_file = run(&["-o", path.to_str().unwrap()]);
    assert_eq!(to_file.status.code(), Some(1));
    assert!(to_file.stdout.is_empty());
    assert_eq!(fs::read(&path).unwrap(), to_stdout.stdout);
    assert!(String::from_utf8_lossy(&to_file.stderr).contains("11 files, 27 valid rows"));
    let nowhere = out.join("no-such-folder").join("p.csv");
    let failed = run(&["-o", nowhere.to_str().unwrap()]);
    assert_eq!(failed.status.code(), Some(2));
    assert!(!nowhere.exists());
    let _ = fs::remove_dir_all(&out);
}

/// With no returns named and no `returns/` folder beside the framework, nothing is read, and
/// stderr says so (a misnamed folder must not pass unnoticed in a scheduled run).
#[test]
fn a_missing_returns_folder_is_said() {
    let dir = std::env::temp_dir().join(format!("pmf-no-returns-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::copy("examples/riverside/pmf.yaml", dir.join("pmf.yaml")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pmf"))
        .args(["validate", "-f"])
        .arg(dir.join("pmf.yaml"))
        .args(["--as-of", "2025-11-15"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no returns were read"), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
    let _ = fs::remove_dir_all(&dir);
}

/// `check -o PATH` writes the framework's problems to the file; `--tier` takes any case, as
/// `--area` and `--theme` do.
#[test]
fn check_writes_to_a_file_and_tier_ignores_case() {
    let out = std::env::temp_dir().join(format!("pmf-check-o-{}", std::process::id()));
    fs::create_dir_all(&out).unwrap();
    let path = out.join("check.json");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pmf"))
            .args(args)
            .output()
            .unwrap()
    };
    let check = [
        "check",
        "-f",
        "examples/riverside/pmf.yaml",
        "--as-of",
        "2025-11-15",
        "--format",
        "json",
    ];
    let to_stdout = run(&check);
    let to_file = run(&[&check[..], &["-o", path.to_str().unwrap()]].concat());
    assert_eq!(to_file.status.code(), Some(0));
    assert_eq!(fs::read(&path).unwrap(), to_stdout.stdout);
    let report = |tier: &str| {
        run(&[
            "report",
            "-f",
            "examples/riverside/pmf.yaml",
            "--quarter",
            "Q2",
            "--as-of",
            "2025-11-15",
            "--format",
            "csv",
            "--tier",
            tier,
        ])
    };
    let (upper, lower) = (report("BOARD"), report("board"));
    assert_eq!(upper.status.code(), Some(0));
    assert_eq!(upper.stdout, lower.stdout);
    let _ = fs::remove_dir_all(&out);
}
