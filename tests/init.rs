//! `pmf init` writes a working framework, refuses to overwrite, and what it writes passes
//! check, validate and report.

use std::path::PathBuf;
use std::process::Command;

fn pmf(args: &[&str], dir: &PathBuf) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pmf"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn init_writes_a_working_framework_and_never_overwrites() {
    let dir = std::env::temp_dir().join(format!("pmf-init-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = pmf(&["init", "plan"], &dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = dir.join("plan");
    assert_eq!(
        std::fs::read_to_string(plan.join("pmf.yaml")).unwrap(),
        include_str!("../examples/starter/pmf.yaml")
    );
    assert_eq!(
        std::fs::read_to_string(plan.join("returns/council.csv")).unwrap(),
        include_str!("../examples/starter/returns/council.csv")
    );

    let again = pmf(&["init", "plan"], &dir);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let check = pmf(&["check", "--as-of", "2025-05-15"], &plan);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let validate = pmf(&["validate", "--as-of", "2025-05-15"], &plan);
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validate.stdout)
    );
    assert!(String::from_utf8_lossy(&validate.stdout).contains("0 errors"));
    let report = pmf(&["report", "--as-of", "2025-05-15"], &plan);
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(String::from_utf8_lossy(&report.stdout).contains("4 indicators"));
    std::fs::remove_dir_all(&dir).unwrap();
}
