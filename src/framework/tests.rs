//! Framework loading: defaults, references, periods, and every `pmf check` problem.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{load, Aggregate, Loaded, Match, RagKind};
use crate::diag::Code;
use crate::period::{Frequency, Period, YearStart};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, 15).unwrap()
}

fn run(text: &str) -> Loaded {
    load(text, "pmf.yaml", today())
}

fn codes(l: &Loaded) -> Vec<(String, u32, u32)> {
    l.diagnostics
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.line, d.column))
        .collect()
}

const GOOD: &str = "\
name: Test plan
partnership: Test Partnership
plan: {start: 2023/24, end: 2025/26}
areas:
  - code: T
    name: Town
    areas:
      - {code: T-A, name: North}
      - {code: T-B, name: South}
organisations:
  - {code: TC, name: Town Council}
  - {code: NHS, name: Town NHS Trust}
rag_schemes:
  brag: {kind: deviation, red: -5, blue: 5}
themes:
  - code: S
    name: Safe
    priorities:
      - code: S1
        name: Stable homes
        indicators:
          - code: NI 62
            name: Placement stability
            unit: percent
            polarity: lower
            aggregate: ratio
            scale: 100
            lead: {name: A. Officer, organisation: TC}
            provider: NHS
            rag: brag
            targets:
              2024/25: 11.0
              2025/26: 10.5
              2024/25 Q2: 11.2
            area_targets:
              T-A: {2024/25: 12.0, 2025/26: 12}
          - code: C1
            name: Contacts
            unit: count
            polarity: higher
            frequency: monthly
            measure: cumulative
            lead: {name: B. Officer, organisation: TC}
            targets: {2024/25: 1200, 2025/26: 1300}
";

#[test]
fn a_good_framework_loads_with_defaults() {
    let l = run(GOOD);
    let msgs: Vec<&str> = l.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs, Vec::<&str>::new());
    assert_eq!(codes(&l), vec![]);
    let f = l.framework.unwrap();
    assert_eq!(f.year_start, YearStart::April);
    assert_eq!(f.deadline_days, 28);
    assert_eq!(f.areas.len(), 3);
    assert_eq!(f.areas[1].parent, Some(0));
    assert_eq!(f.areas[0].children, vec![1, 2]);
    assert_eq!(f.escalation.action_after, 2);
    assert_eq!(f.forecast.margin, Decimal::new(8, 1));
    let ni = &f.indicators[0];
    assert_eq!(ni.decimals, 1);
    assert_eq!(ni.provider, Some(1));
    assert_eq!(
        f.schemes[ni.rag].kind,
        RagKind::Deviation {
            red: Decimal::from(-5),
            blue: Decimal::from(5)
        }
    );
    let q2 = Period::parse("2024/25 Q2", YearStart::April, None).unwrap();
    assert_eq!(ni.targets.0.get(&q2), Some(&Decimal::new(112, 1)));
    assert_eq!(ni.targets_for(1).0.len(), 2);
    assert_eq!(ni.targets_for(2), &ni.targets);
    let c1 = &f.indicators[1];
    assert_eq!(c1.aggregate, Aggregate::Sum);
    assert_eq!(c1.frequency, Frequency::Monthly);
    assert_eq!(c1.decimals, 2);
    assert_eq!(f.indicator("NI 62"), Match::Exact(0));
    assert_eq!(f.indicator("ni  62"), Match::Loose(0));
    assert_eq!(f.indicator("NI 63"), Match::None);
    assert_eq!(f.area("t-a"), Match::Loose(1));
}

#[test]
fn no_areas_means_one_area_all() {
    let l = run("name: X\nthemes:\n  - code: A\n    name: A\n    priorities:\n      - code: P\n        name: P\n        indicators:\n          - {code: I, name: I, polarity: none, lead: {name: Z}}\n");
    assert_eq!(codes(&l), vec![]);
    let f = l.framework.unwrap();
    assert_eq!(f.areas[0].code, "ALL");
}

#[test]
fn every_check_problem_is_reported_with_its_position() {
    let text = GOOD
        .replace("rag: brag", "rag: bragg")
        .replace("provider: NHS", "provider: POLICE")
        .replace("T-A: {2024/25", "T-Z: {2024/25")
        .replace(
            "2024/25 Q2: 11.2",
            "2024/25 H1: 11.2\n              2024/25 Q5: 11.2\n              2021/22: 13",
        )
        .replace("code: C1", "code: NI 62")
        .replace(
            "            lead: {name: B. Officer, organisation: TC}\n",
            "",
        );
    let l = run(&text);
    assert!(l.framework.is_none());
    assert_eq!(
        codes(&l),
        vec![
            ("unknown-reference".to_string(), 29, 23),
            ("unknown-reference".to_string(), 30, 18),
            ("wrong-frequency".to_string(), 34, 15),
            ("bad-period".to_string(), 35, 15),
            ("target-outside-plan".to_string(), 36, 15),
            ("unknown-reference".to_string(), 38, 15),
            ("duplicate-code".to_string(), 39, 19),
            ("no-lead".to_string(), 39, 13),
        ]
    );
    let msgs: Vec<&str> = l.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs[1],
        "indicator `NI 62` uses the RAG scheme `bragg`, which is not defined"
    );
    assert_eq!(msgs[2], "indicator `NI 62` is quarterly, but has a target keyed by the half-yearly period `2024/25 H1`");
}

#[test]
fn warnings_do_not_stop_the_load() {
    let text = GOOD
        .replace("              2025/26: 10.5\n", "")
        .replace(", 2025/26: 12}", "}");
    let l = run(&text);
    assert_eq!(codes(&l), vec![("no-target".to_string(), 22, 13)]);
    assert_eq!(
        l.diagnostics[0].message,
        "indicator `NI 62` has no target for the next year (2025/26)"
    );
    assert!(l.framework.is_some());
}

#[test]
fn yaml_errors_carry_positions() {
    let l = run("name: X\nthemes:\n  - code: A\n    name: A\n    priorities:\n      - code: P\n        name: P\n        indicators:\n          - {code: I, name: I, polarity: upwards}\n");
    assert_eq!(codes(&l)[0].0, "yaml");
    assert_eq!(codes(&l)[0].1, 9);
    assert!(
        l.diagnostics[0]
            .message
            .contains("unknown variant `upwards`"),
        "{}",
        l.diagnostics[0].message
    );
    let l = run("name: [unclosed\n");
    assert_eq!(codes(&l)[0].0, "yaml");
}

#[test]
fn hostile_yaml_is_refused() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    bomb.push_str("name: x\nthemes: []\n");
    let l = run(&bomb);
    assert_eq!(l.diagnostics[0].code, Code::Yaml);
    let deep = format!(
        "name: {}{}\nthemes: []\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let l = run(&deep);
    assert_eq!(l.diagnostics[0].code, Code::Yaml);
    let deep = format!(
        "name: x\nthemes: []\nrag_schemes: {{a: {{kind: on-target}}}}\nx: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let l = run(&deep);
    assert_eq!(l.diagnostics[0].code, Code::Yaml);
    let big = format!("name: x\n#{}\n", "x".repeat(super::MAX_FRAMEWORK_BYTES));
    let l = run(&big);
    assert!(
        l.diagnostics[0]
            .message
            .starts_with("the framework file is 16 MB"),
        "{}",
        l.diagnostics[0].message
    );
}

#[test]
fn random_bytes_and_mutated_frameworks_never_panic() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..600), |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let _ = run(&text);
            Ok(())
        })
        .unwrap();
    // Cut and splice the good framework at random points: near-valid YAML reaches the checks.
    runner
        .run(
            &(0..GOOD.len(), 0..GOOD.len(), "\\PC{0,12}"),
            |(a, b, insert)| {
                let (a, b) = (a.min(b), a.max(b));
                if GOOD.is_char_boundary(a) && GOOD.is_char_boundary(b) {
                    let text = format!("{}{insert}{}", &GOOD[..a], &GOOD[b..]);
                    let _ = run(&text);
                }
                Ok(())
            },
        )
        .unwrap();
}

/// Every target problem names the key's own line and column (found only when there is a
/// problem): a period that cannot be read, a period of the wrong frequency, a year outside
/// the plan, and the same year twice.
#[test]
fn target_problems_point_at_their_keys() {
    let text = "\
name: T
plan: {start: 2023/24, end: 2025/26}
areas:
  - {code: T, name: Town}
themes:
  - code: S
    name: S
    priorities:
      - code: S1
        name: S1
        indicators:
          - code: Q1
            name: Quarterly
            polarity: higher
            lead: {name: A}
            targets:
              2024/25: 10
              next year: 11
              2024-05: 12
              2030/31: 13
              2024-25: 14
              2025/26: 15
";
    let l = run(text);
    let found: Vec<(String, u32, u32)> = codes(&l)
        .into_iter()
        .filter(|(c, _, _)| c != "no-target")
        .collect();
    let want = |c: &str, line: u32| (c.to_string(), line, 15);
    assert_eq!(
        found,
        vec![
            want("bad-period", 18),
            want("wrong-frequency", 19),
            want("target-outside-plan", 20),
            want("duplicate-code", 21),
        ],
        "{:?}",
        l.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

/// A key written twice in a mapping (a scheme's name, a target's period, an area's targets)
/// is refused with its position, not silently replaced by the second (SPEC 2.1: codes are
/// unique within their kind).
#[test]
fn keys_written_twice_are_refused() {
    for (from, to, key) in [
        (
            "  brag: {kind: deviation, red: -5, blue: 5}\n",
            "  brag: {kind: deviation, red: -5, blue: 5}\n  brag: {kind: achievement, green: 96, amber: 91}\n",
            "`brag` is written twice in `rag_schemes`",
        ),
        (
            "              2025/26: 10.5\n",
            "              2025/26: 10.5\n              2025/26: 9\n",
            "`2025/26` is written twice in `themes[0].priorities[0].indicators[0].targets`",
        ),
        (
            "{2024/25: 12.0, 2025/26: 12}",
            "{2024/25: 12.0, 2025/26: 12, 2024/25: 13}",
            "`2024/25` is written twice in `themes[0].priorities[0].indicators[0].area_targets.T-A`",
        ),
    ] {
        assert!(GOOD.contains(from));
        let l = run(&GOOD.replacen(from, to, 1));
        assert!(l.framework.is_none(), "{key}");
        let d = &l.diagnostics[0];
        assert_eq!(d.code, Code::DuplicateCode, "{key}");
        assert!(d.message.starts_with(key), "{}", d.message);
        assert!(d.line > 0, "{key}");
    }
    assert!(run(GOOD).framework.is_some());
    // Once as a number, once as text: one key to the typed reading.
    let l = run(&GOOD.replacen(
            "{2024/25: 12.0, 2025/26: 12}",
            "{2024/25: 12.0, 2025/26: 12}\n              7: {2024/25: 1}\n              \"7\": {2024/25: 2}",
            1,
        ));
    let d = &l.diagnostics[0];
    assert_eq!(d.code, Code::DuplicateCode, "{:?}", l.diagnostics);
    assert!(
        d.message.starts_with(
            "`7` is written twice in `themes[0].priorities[0].indicators[0].area_targets` (once as a number, once as text): "
        ),
        "{}",
        d.message
    );
}

/// Problems point at the right element when keys are quoted, as JSON writes them (a framework
/// may be written as JSON, which is YAML): not at an earlier element with a bare key.
#[test]
fn positions_with_quoted_keys() {
    let text = "\
\"name\": \"Quoted\"
\"organisations\": [{\"code\": \"TC\", \"name\": \"Town Council\"}]
\"themes\":
  - \"code\": \"S\"
    \"name\": \"Safe\"
    \"priorities\":
      - \"code\": \"S1\"
        \"name\": \"Homes\"
        \"indicators\":
          - \"code\": \"I1\"
            \"name\": \"One\"
            \"polarity\": \"higher\"
            \"lead\": {\"name\": \"A\", \"organisation\": \"TC\"}
            \"targets\": {\"2024/25\": 1, \"2025/26\": 1}
          - \"code\": \"I2\"
            \"name\": \"Two\"
            \"polarity\": \"higher\"
            \"lead\": {\"name\": \"B\", \"organisation\": \"XX\"}
            \"targets\": {\"2024/25\": 1, \"2025/26\": 1}
";
    let l = run(text);
    assert_eq!(
        codes(&l),
        vec![("unknown-reference".to_string(), 18, 52)],
        "{:?}",
        l.diagnostics
    );
}

/// An empty code (or one of spaces) is an error: no return or reference could name it.
#[test]
fn empty_codes_are_refused() {
    for (from, to) in [
        ("- code: NI 62\n", "- code: \"\"\n"),
        ("- code: C1\n", "- code: \"  \"\n"),
        ("{code: T-A, name: North}", "{code: '', name: North}"),
        (
            "{code: TC, name: Town Council}",
            "{code: \"\", name: Town Council}",
        ),
        ("- code: S1\n", "- code: ''\n"),
    ] {
        assert!(GOOD.contains(from), "{from}");
        let l = run(&GOOD.replacen(from, to, 1));
        assert!(l.framework.is_none(), "{to}");
        assert!(
            l.diagnostics
                .iter()
                .any(|d| d.code == Code::BadValue && d.message.ends_with("has an empty code")),
            "{to}: {:?}",
            l.diagnostics
        );
    }
}

/// A baseline keyed by a period of another frequency than its indicator's is an error (SPEC
/// 2.2); a year, as for targets, is any indicator's.
#[test]
fn baselines_of_the_wrong_frequency_are_refused() {
    let with = |baseline: &str| {
        run(&GOOD.replacen(
            "            rag: brag\n",
            &format!(
                "            rag: brag\n            baseline: {{period: {baseline}, value: 11}}\n"
            ),
            1,
        ))
    };
    let l = with("2023/24 H1");
    assert_eq!(
        l.diagnostics[0].code,
        Code::WrongFrequency,
        "{:?}",
        l.diagnostics
    );
    assert!(l.framework.is_none());
    let monthly = with("2023-05");
    assert_eq!(monthly.diagnostics[0].code, Code::WrongFrequency);
    for fine in ["2023/24", "2023/24 Q1"] {
        let l = with(fine);
        let fw = l.framework.expect("a year baseline is fine");
        assert_eq!(
            fw.indicators[0].baseline.map(|b| b.0.to_string()),
            Some(fine.into())
        );
    }
}
