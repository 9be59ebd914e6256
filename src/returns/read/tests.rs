//! The returns reader on small inline files: every reading rule and every row-level code.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

use super::{read, Source};
use crate::diag::Diagnostic;
use crate::framework::{load, Framework};
use crate::returns::Returns;

const FW: &str = "\
name: T
areas:
  - code: T
    name: Town
    areas:
      - {code: T-A, name: North}
      - {code: T-B, name: South}
organisations: [{code: TC, name: Town Council}]
themes:
  - code: S
    name: S
    priorities:
      - code: S1
        name: S1
        indicators:
          - {code: PC 01, name: Percent, unit: percent, polarity: higher, aggregate: ratio, scale: 100, lead: {name: A, organisation: TC}, targets: {2024/25: 80}}
          - {code: CT 01, name: Count, unit: count, polarity: lower, lead: {name: B, organisation: TC}, targets: {2024/25: 80}}
          - {code: MN 01, name: Monthly, frequency: monthly, polarity: higher, lead: {name: C, organisation: TC}, targets: {2024/25: 80}}
";

/// The framework of these tests (also the quick path's, in `check.rs`).
pub(super) fn fw() -> Framework {
    load(
        FW,
        "pmf.yaml",
        NaiveDate::from_ymd_opt(2024, 11, 15).unwrap(),
    )
    .framework
    .unwrap()
}

fn sources<'a>(files: &[(&str, &'a [u8])]) -> Vec<Source<&'a [u8]>> {
    files
        .iter()
        .map(|(n, b)| Source {
            name: n.to_string(),
            reader: *b,
        })
        .collect()
}

fn run(files: &[(&str, &[u8])]) -> (Returns, Vec<Diagnostic>) {
    read(
        &fw(),
        sources(files),
        NaiveDate::from_ymd_opt(2025, 11, 15).unwrap(),
    )
}

fn summary(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .map(|d| format!("{}:{}:{} {}", d.file, d.line, d.column, d.code))
        .collect()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn a_clean_file_reads_exactly() {
    let (r, d) = run(&[("a.csv", b"Indicator,Period,Area,Value,Numerator,Denominator,Commentary,Prediction,Action Plan,Status,Submitted_By,submitted on\nPC 01,2024/25 Q1,T-A,75.5,151,200,\"Up, a little\",on track,yes,provisional,TC,21/07/2024\n")]);
    assert_eq!(summary(&d), Vec::<String>::new());
    let o = &r.observations[0];
    assert_eq!(o.value(), Some(dec("75.5")));
    assert_eq!(o.area, 1);
    assert_eq!(o.period.to_string(), "2024/25 Q1");
    assert_eq!(r.commentary(o), Some("Up, a little"));
    assert_eq!(r.submitted_on(o), NaiveDate::from_ymd_opt(2024, 7, 21));
    let info = r.info(o).unwrap();
    assert_eq!(info.prediction, Some(crate::returns::Prediction::OnTrack));
    assert_eq!(info.action_plan, Some(true));
    assert_eq!(info.submitted_by.as_deref(), Some("TC"));
    // A row without optional columns takes no place in the side table.
    let (r2, _) = run(&[(
        "b.csv",
        b"indicator,period,value
CT 01,2024/25 Q1,5
",
    )]);
    assert_eq!(r2.info(&r2.observations[0]), None);
    assert!(r2.infos.is_empty());
    assert_eq!(o.status, crate::returns::Status::Provisional);
    assert_eq!(o.line, 2);
}

#[test]
fn each_row_keeps_its_own_submitter_and_date() {
    // The reader remembers the last name and date; a change must not be missed.
    let (r, d) = run(&[("a.csv", b"indicator,period,area,value,submitted_by,submitted_on\nCT 01,2024/25 Q1,T-A,1,Ann,21/07/2024\nCT 01,2024/25 Q2,T-A,2,Ann,21/07/2024\nCT 01,2024/25 Q3,T-A,3,Bob,2025-01-20\nCT 01,2024/25 Q4,T-A,4,,\nCT 01,2024/25 Q1,T-B,5,Ann,21/07/2024\n")]);
    assert_eq!(summary(&d), Vec::<String>::new());
    let seen: Vec<(Option<&str>, Option<NaiveDate>)> = r
        .observations
        .iter()
        .map(|o| {
            let info = r.info(o);
            (
                info.and_then(|i| i.submitted_by.as_deref()),
                info.and_then(|i| i.submitted_on),
            )
        })
        .collect();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    assert_eq!(
        seen,
        vec![
            (Some("Ann"), day(2024, 7, 21)),
            (Some("Ann"), day(2024, 7, 21)),
            (Some("Bob"), day(2025, 1, 20)),
            (None, None),
            (Some("Ann"), day(2024, 7, 21)),
        ]
    );
    // Rows with the same columns share one entry, next to each other or not.
    assert_eq!(r.infos.len(), 2);

    // The row that brought a name may be dropped (here a duplicate): the next row with the
    // same name still has it.
    let (r, d) = run(&[("b.csv", b"indicator,period,area,value,submitted_by\nCT 01,2024/25 Q1,T-A,1,Ann\nCT 01,2024/25 Q1,T-A,1,Bob\nCT 01,2024/25 Q2,T-A,2,Bob\n")]);
    assert_eq!(summary(&d), vec!["b.csv:3:0 duplicate-row"]);
    let names: Vec<Option<&str>> = r
        .observations
        .iter()
        .map(|o| r.info(o).and_then(|i| i.submitted_by.as_deref()))
        .collect();
    assert_eq!(names, vec![Some("Ann"), Some("Bob")]);

    // One name, a date per period (a multi-period return, area by area), and commentary on
    // some rows: each row keeps its own date and commentary, and equal columns share an entry.
    let (r, d) = run(&[("c.csv", b"indicator,period,area,value,submitted_by,submitted_on,commentary\nCT 01,2024/25 Q1,T-A,1,Ann,2024-07-21,\nCT 01,2024/25 Q2,T-A,2,Ann,2024-10-20,\nCT 01,2024/25 Q1,T-B,3,Ann,2024-07-21,\nCT 01,2024/25 Q2,T-B,4,Ann,2024-10-20,late\nCT 01,2024/25 Q3,T-B,5,Ann,2024-10-20,late\n")]);
    assert_eq!(summary(&d), Vec::<String>::new());
    let seen: Vec<(Option<NaiveDate>, Option<&str>)> = r
        .observations
        .iter()
        .map(|o| {
            let info = r.info(o);
            (
                info.and_then(|i| i.submitted_on),
                info.and_then(|i| i.commentary.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (day(2024, 7, 21), None),
            (day(2024, 10, 20), None),
            (day(2024, 7, 21), None),
            (day(2024, 10, 20), Some("late")),
            (day(2024, 10, 20), Some("late")),
        ]
    );
    assert_eq!(r.infos.len(), 3);
}

#[test]
fn bom_crlf_embedded_newlines_and_lines() {
    let text = b"\xef\xbb\xbfindicator,period,value,commentary\r\nCT 01,2024/25 Q1,5,\"two\r\nlines\"\r\nCT 01,2024/25 Q2,6,x\r\n\r\nCT 01,2024/25 Q3,,\r\n";
    let (r, d) = run(&[("b.csv", text)]);
    assert_eq!(
        summary(&d),
        vec!["b.csv:5:0 blank-row", "b.csv:6:3 missing-value"]
    );
    assert_eq!(r.observations.len(), 2);
    assert_eq!(r.observations[1].line, 4);
    assert_eq!(r.commentary(&r.observations[0]), Some("two\r\nlines"));
}

/// Records with line feeds inside quoted fields, back to back, the second beginning with its
/// quote (found only if the search for quotes starts right where the first record ends), with
/// both line ends: every later record is still placed on its own line.
#[test]
fn quoted_line_feeds_back_to_back() {
    for end in ["\n", "\r\n"] {
        let text = [
            "commentary,indicator,period,value",
            "\"a\nb\",CT 01,2024/25 Q1,5",
            "\"c\nd\ne\",CT 01,2024/25 Q2,6",
            "plain,CT 01,2024/25 Q3,7",
            "\"f\",CT 01,2024/25 Q4,",
            "",
        ]
        .join(end);
        let (r, d) = run(&[("q.csv", text.as_bytes())]);
        assert_eq!(summary(&d), vec!["q.csv:8:4 missing-value"], "{end:?}");
        let lines: Vec<u32> = r.observations.iter().map(|o| o.line).collect();
        assert_eq!(lines, vec![2, 4, 7], "{end:?}");
    }
}

#[test]
fn windows_1252_semicolons_and_tabs() {
    let (r, d) = run(&[
        (
            "w.csv",
            b"indicator,period,value,commentary\nCT 01,2024/25 Q1,5,caf\xe9 \xa310\n",
        ),
        ("s.csv", b"indicator;period;value\nCT 01;2024/25 Q2;7\n"),
        ("t.csv", b"indicator\tperiod\tvalue\nCT 01\t2024/25 Q3\t8\n"),
    ]);
    assert_eq!(
        summary(&d),
        vec![
            "w.csv:2:0 encoding",
            "s.csv:1:0 delimiter",
            "t.csv:1:0 delimiter"
        ]
    );
    assert_eq!(r.commentary(&r.observations[0]), Some("café £10"));
    assert_eq!(r.observations.len(), 3);
}

#[test]
fn header_problems() {
    let (_, d) = run(&[
        ("e.csv", b""),
        ("m.csv", b"indicator,period,amount\nCT 01,2024/25 Q1,5\n"),
        ("n.csv", b"CT 01,2024/25 Q1,5\n"),
    ]);
    assert_eq!(
        summary(&d),
        vec![
            "e.csv:1:0 missing-column",
            "m.csv:1:3 unknown-column",
            "m.csv:1:0 missing-column",
            "n.csv:1:0 missing-column"
        ]
    );
    assert_eq!(
        d[1].help.as_deref().unwrap().split('?').next().unwrap(),
        "did you mean `value`"
    );
    assert_eq!(
        d[2].message,
        "the file has no `value` column; nothing in this file was read"
    );
}

#[test]
fn every_row_code() {
    let text = "indicator,period,area,value,numerator,denominator,submitted_on
NI 999,2024/25 Q1,T,5,,,
PC 01,2024/25 Q1,ZZ,5,,,
CT 01,2024/25 Q5,T,5,,,
CT 01,2024-11,T,5,,,
CT 01,2025/26 Q3,T,5,,,
CT 01,2024/25 Q1,T,twelve,,,
CT 01,2024/25 Q2,T,\"1,234\",,,
PC 01,2024/25 Q1,T,104,,,
CT 01,2024/25 Q3,T,-3,,,
PC 01,2024/25 Q2,T,5,1,0,
PC 01,2024/25 Q3,T,72.0,30,50,
PC 01,2024/25 Q4,T,60.0,30,50,31/02/2025
CT 01,2024/25 Q2,T,1234,,,
CT 01,2024/25 Q4,T,1,,,
CT 01,2024/25 Q4,T,2,,,
CT 01,2024/25 Q1,T-A,[c],,,
CT 01,2024/25 Q1,t-b,1,,,
a,b
";
    let (r, d) = run(&[("x.csv", text.as_bytes())]);
    assert_eq!(
        summary(&d),
        vec![
            "x.csv:2:1 unknown-indicator",
            "x.csv:3:3 unknown-area",
            "x.csv:4:2 bad-period",
            "x.csv:5:2 wrong-frequency",
            "x.csv:6:2 future-period",
            "x.csv:7:4 type-error",
            "x.csv:8:4 normalised-value",
            "x.csv:9:4 out-of-range",
            "x.csv:10:4 out-of-range",
            "x.csv:11:6 out-of-range",
            "x.csv:12:4 numerator-mismatch",
            "x.csv:13:7 bad-date",
            "x.csv:14:0 duplicate-row",
            "x.csv:15:4 conflicting-row",
            "x.csv:16:4 conflicting-row",
            "x.csv:18:3 normalised-value",
            "x.csv:19:0 ragged-row",
        ]
    );
    let msg = |i: usize| d[i].message.as_str();
    assert_eq!(msg(1), "the area `ZZ` is not in the framework");
    assert_eq!(d[1].help.as_deref(), Some("the areas are T, T-A, T-B"));
    assert_eq!(
        msg(3),
        "`2024-11` is a monthly period, but `CT 01` is a quarterly indicator"
    );
    assert_eq!(
        msg(4),
        "2025/26 Q3 ends on 2025-12-31, after 2025-11-15: it has not finished yet"
    );
    assert_eq!(
        msg(6),
        "`1,234` was read as 1234 (thousands separators removed)"
    );
    assert_eq!(
        msg(10),
        "the value 72.0 does not agree with 30 / 50 × 100 = 60"
    );
    assert_eq!(
        msg(12),
        "the same indicator, area, period and value as line 8; this copy was ignored"
    );
    assert_eq!(
        msg(13),
        "CT 01 T 2024/25 Q4 is sent twice with different values (1 here, 2 on line 16)"
    );
    assert_eq!(
        msg(14),
        "CT 01 T 2024/25 Q4 is sent twice with different values (2 here, 1 on line 15)"
    );
    // Kept: 1,234 (line 8), suppressed T-A, t-b read as T-B.
    assert_eq!(r.observations.len(), 3);
    assert_eq!(r.observations[1].value(), None);
}

/// A problem record names its row's indicator, area and period as the framework does (SPEC
/// 2.2: output uses the canonical periods): a loosely written code in the framework's
/// spelling, the default area for an empty cell, the period in canonical form, on every code
/// (duplicates and conflicts too). What cannot be read stays as written.
#[test]
fn problem_records_name_the_row_canonically() {
    let text = "indicator,period,area,value
ct 01,q1 2024/2025,,twelve
CT 01,2024-25 Q2,t-a, 7
CT 01,2024/25 q3,,1
CT 01,2024/25 Q3,T,2
Ct 01,2024/25 Q4,T,3
CT 01,2024/25 Q4,,3
MN 01,2024/25 Q1,,1
NI 999,q2 2024/25,T,1
CT 01,2024/25 Q9,T-B,1
";
    let (_, d) = run(&[("x.csv", text.as_bytes())]);
    let fields: Vec<String> = d
        .iter()
        .map(|d| {
            format!(
                "{} {} {}|{}|{}",
                d.line,
                d.code.as_str(),
                d.indicator,
                d.area,
                d.period
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            "2 normalised-value CT 01|T|2024/25 Q1",
            "2 type-error CT 01|T|2024/25 Q1",
            "3 normalised-value CT 01|T-A|2024/25 Q2",
            "3 normalised-value CT 01|T-A|2024/25 Q2",
            "4 conflicting-row CT 01|T|2024/25 Q3",
            "5 conflicting-row CT 01|T|2024/25 Q3",
            "6 normalised-value CT 01|T|2024/25 Q4",
            "7 duplicate-row CT 01|T|2024/25 Q4",
            "8 wrong-frequency MN 01|T|2024/25 Q1",
            "9 unknown-indicator NI 999|T|2024/25 Q2",
            "10 bad-period CT 01|T-B|2024/25 Q9",
        ]
    );
}

#[test]
fn random_bytes_never_panic() {
    use proptest::prelude::*;
    let f = fw();
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..400), |bytes| {
            let mut input = b"indicator,period,value,area,numerator,denominator\n".to_vec();
            input.extend_from_slice(&bytes);
            let _ = read(
                &f,
                vec![Source {
                    name: "r.csv".into(),
                    reader: &bytes[..],
                }],
                NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            );
            let _ = read(
                &f,
                vec![Source {
                    name: "r.csv".into(),
                    reader: &input[..],
                }],
                NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            );
            // And cut into chunks, so the threads and the merge see the random bytes too.
            same_in_chunks(&[("r.csv", &input[..]), ("s.csv", &bytes[..])]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn extreme_numbers_never_panic() {
    use proptest::prelude::*;
    let f = fw();
    let number = prop_oneof![
        "-?[0-9]{1,28}",
        "-?[0-9]{1,14}\\.[0-9]{1,13}",
        "-?0\\.[0-9]{20,26}",
        Just("0".to_string()),
    ];
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&(number.clone(), number.clone(), number), |(v, n, d)| {
            let text = format!("indicator,period,value,numerator,denominator\nPC 01,2024/25 Q1,{v},{n},{d}\nCT 01,2024/25 Q1,{v},{n},{d}\n");
            let _ = read(&f, vec![Source { name: "x.csv".into(), reader: text.as_bytes() }], NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
            Ok(())
        })
        .unwrap();
    let (_, d) = run(&[("big.csv", b"indicator,period,value,numerator,denominator\nPC 01,2024/25 Q1,-9999999999999999999999999999,700000000000000000000000000,1\n")]);
    assert_eq!(
        summary(&d),
        vec!["big.csv:2:3 out-of-range", "big.csv:2:3 numerator-mismatch"]
    );
}

/// What `pmf validate` makes of `files` ([`super::Seen`]), as text: the problems, rows kept,
/// latest period and completeness at every quarter of two years (and the latest), judged on
/// `as_of` and a year later.
fn checked(f: &Framework, files: &[(&str, &[u8])], as_of: NaiveDate, size: usize) -> String {
    let (c, d) = super::check_in_chunks(f, sources(files), as_of, size);
    let mut out = format!("{d:?}\n{} {:?} {:?}\n", c.rows, c.latest_period(), c.files);
    for p in periods_judged(c.latest_quarter()) {
        for on in [as_of, as_of + chrono::Days::new(365)] {
            out += &format!("{p} {on}: {:?}\n", c.completeness(f, p, on));
        }
    }
    out
}

/// The periods completeness is judged at in these tests.
fn periods_judged(latest: Option<crate::period::Period>) -> Vec<crate::period::Period> {
    let ys = crate::period::YearStart::April;
    let quarters = (2023..=2025).flat_map(move |y| {
        (1..=4).filter_map(move |q| {
            crate::period::Period::new(ys, crate::period::Frequency::Quarterly, y, q)
        })
    });
    // And a half and a year, whose due returns are each indicator's period ending with them.
    let longer = [
        crate::period::Period::new(ys, crate::period::Frequency::HalfYearly, 2024, 1),
        crate::period::Period::year_of(ys, 2024),
    ];
    quarters
        .chain(longer.into_iter().flatten())
        .chain(latest)
        .collect()
}

/// Every file of `files` read whole, and again cut into chunks of `size` bytes (the parallel
/// path, with chunk boundaries everywhere): the same problems, observations and side tables.
/// And read for checking (`pmf validate`), whole and in chunks: the same problems, rows kept,
/// latest period and completeness as the full read gives.
fn same_in_chunks(files: &[(&str, &[u8])]) {
    let f = fw();
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 15).unwrap();
    let (r, d) = super::read_in_chunks(&f, sources(files), as_of, 1 << 30);
    // The latest period the reader found is the one a pass over what it kept finds.
    let computed = crate::returns::Returns {
        latest: None,
        ..r.clone()
    }
    .latest_period();
    assert_eq!(r.latest, Some(computed));
    // Each indicator's run, when every indicator's observations lie together.
    let runs: Option<Vec<_>> = (0..f.indicators.len())
        .map(|i| {
            let at: Vec<usize> = (0..r.observations.len())
                .filter(|&k| r.observations[k].indicator as usize == i)
                .collect();
            match (at.first(), at.last()) {
                (Some(&a), Some(&b)) if b + 1 - a == at.len() => Some(a as u32..b as u32 + 1),
                (Some(_), _) => None,
                _ => Some(0..0),
            }
        })
        .collect();
    assert_eq!(r.runs, runs);
    // What validation reads, as the full read gives it.
    let mut expected = format!(
        "{d:?}\n{} {computed:?} {:?}\n",
        r.observations.len(),
        r.files
    );
    for p in periods_judged(r.latest_quarter()) {
        for on in [as_of, as_of + chrono::Days::new(365)] {
            let judged = crate::returns::complete::check(&f, &r, p, on);
            expected += &format!("{p} {on}: {judged:?}\n");
        }
    }
    let go = |size: usize| {
        let (r, d) = super::read_in_chunks(&f, sources(files), as_of, size);
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{d:?}",
            r.observations, r.parts, r.infos, r.files, r.sent
        )
    };
    let whole = go(1 << 30);
    // `validate`'s default period, refused rows included.
    let default_period = |size: usize| {
        super::check_in_chunks(&f, sources(files), as_of, size)
            .0
            .default_period()
    };
    let whole_default = default_period(1 << 30);
    for size in [1, 2, 3, 5, 7, 11, 16, 31, 64, 100, 257, 1 << 30] {
        assert_eq!(go(size), whole, "chunks of {size} bytes");
        assert_eq!(
            default_period(size),
            whole_default,
            "chunks of {size} bytes"
        );
        assert_eq!(
            checked(&f, files, as_of, size),
            expected,
            "checking in chunks of {size} bytes"
        );
    }
}

#[test]
fn chunked_reading_is_the_same_as_whole() {
    // Quotes with delimiters, line breaks and doubled quotes; a stray quote in an unquoted
    // field; CRLF; blank and white-space rows; a loose code; an empty area; duplicates and a
    // conflict far apart; a ragged row; a Windows-1252 byte late in the file.
    let text =
        b"\xef\xbb\xbfindicator,period,area,value,numerator,denominator,commentary,status\r\n\
PC 01,2024/25 Q1,T-A,75.5,151,200,\"Up, a little\r\nand \"\"more\"\"\",final\r\n\
\r\n\
CT 01,2024/25 Q1,,5,,,5\" pipe,\r\n\
  ,  ,,,,,,\r\n\
ct 01,2024/25 Q2,t-b,6,,,\"\",provisional\r\n\
CT 01,2024/25 Q1,T,5,,,dup,\r\n\
PC 01,2024/25 Q2,T-A,70,10,20,\"x\ny\nz\",\r\n\
CT 01,2024/25 Q3,T,7,,,,\r\n\
CT 01,2024/25 Q3,T,8,,,,\r\n\
MN 01,2024-05,T,1,,,a,b,c\r\n\
CT 01,2024/25 Q4,T,9,,,caf\xe9,\r\n\
CT 01,2024/25 Q4,T,9,,,\"last, \"\"quoted\"\"\",final";
    let second = b"indicator;period;value\nCT 01;2024/25 Q1;5\nCT 01;2024/25 Q1;6\n\n";
    // One name and date on every row (rows share their optional columns within a chunk).
    let third = b"indicator,period,area,value,submitted_by,submitted_on\n\
CT 01,2024/25 Q1,T-A,1,Ann,21/07/2024\nCT 01,2024/25 Q2,T-A,2,Ann,21/07/2024\n\
CT 01,2024/25 Q3,T-A,3,Ann,21/07/2024\nCT 01,2024/25 Q3,T-B,3,Bob,21/07/2024\n\
CT 01,2024/25 Q4,T-B,4,Bob,21/07/2024\nCT 01,2024/25 Q4,T-A,4,Ann,21/07/2024\n";
    same_in_chunks(&[("a.csv", text), ("b.csv", second), ("c.csv", third)]);
}

#[test]
fn chunked_reading_of_random_input_is_the_same() {
    use proptest::prelude::*;
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 64,
        ..Default::default()
    });
    let row = prop_oneof![
        Just("CT 01,2024/25 Q1,T,5".to_string()),
        Just("CT 01,2024/25 Q1,T,6".to_string()),
        Just("PC 01,2024/25 Q2,T-A,\"7\"".to_string()),
        Just("\"CT 01\",\"2024/25\nQ3\",T,\"1\"\"2\"".to_string()),
        Just(String::new()),
        Just("x,\"unclosed".to_string()),
        Just("a\"b,c".to_string()),
        "[ -~]{0,12}",
    ];
    runner
        .run(&proptest::collection::vec(row, 0..24), |rows| {
            let mut text = String::from("indicator,period,area,value\n");
            for r in rows {
                text.push_str(&r);
                text.push_str(if r.len() % 2 == 0 { "\n" } else { "\r\n" });
            }
            same_in_chunks(&[("r.csv", text.as_bytes())]);
            Ok(())
        })
        .unwrap();
}

/// Duplicate finding gives the first observation of every key, as a map of every key would:
/// keys in any order, periods near and far (outside a pair's window of 128), repeats, pairs
/// with enough periods outside their window to give the chains up, in the flat table and in
/// the sparse one.
#[test]
fn firsts_finds_the_first_of_every_key_in_any_order() {
    use super::kept::{Firsts, Pair, Slim, Store};

    // A pair survives its packing into the flat table, whatever its fields.
    for (head, base, b0, b1) in [
        (0, 0, 0, 0),
        (u32::MAX, i32::MIN, u64::MAX, 1),
        (7, -33, 1 << 63, 5),
        (1, i32::MAX, 0, u64::MAX),
    ] {
        let p = Pair {
            head,
            base,
            bits: [b0, b1],
        }
        .pack();
        let back = Pair::unpack(p);
        assert_eq!((back.head, back.base, back.bits), (head, base, [b0, b1]));
    }
    use crate::period::{Frequency, Period, YearStart};
    use crate::returns::{Observation, Packed, Status, NO_INFO, NO_PARTS};
    use proptest::prelude::*;
    let origin = Period::new(YearStart::April, Frequency::Quarterly, 2000, 1)
        .unwrap()
        .seq();
    let key = (
        0u32..3,
        0u32..2,
        prop_oneof![0i32..12, 0i32..400, Just(300), Just(-40)],
    );
    let mut runner = proptest::test_runner::TestRunner::default();
    let drops = proptest::collection::vec(any::<bool>(), 0..1200);
    runner
        .run(
            &(
                proptest::collection::vec(key, 0..1200),
                any::<bool>(),
                any::<bool>(),
                drops,
            ),
            |(keys, flat, slim, drops)| {
                let mut firsts = Firsts {
                    n_areas: 4,
                    cells: if flat {
                        vec![[0u64; 3]; 12]
                    } else {
                        Vec::new()
                    },
                    written: vec![false; usize::from(flat)],
                    sparse: Default::default(),
                    prev: Vec::new(),
                    map: None,
                };
                let mut kept = if slim {
                    Store::Slim(Slim::default())
                } else {
                    Store::Full(Vec::new())
                };
                let mut model = std::collections::HashMap::new();
                for (indicator, area, k) in keys {
                    let seq = origin + k;
                    let period =
                        Period::from_seq(YearStart::April, Frequency::Quarterly, seq).unwrap();
                    let next = kept.len();
                    let found = firsts.first_or_insert(&kept, indicator, area, seq);
                    let expected = *model.entry((indicator, area, seq)).or_insert(next);
                    prop_assert_eq!(found, expected);
                    if found == next {
                        kept.push(Observation {
                            indicator,
                            area,
                            period,
                            value: Packed::new(None),
                            parts: NO_PARTS,
                            status: Status::Final,
                            info: NO_INFO,
                            file: 0,
                            line: next as u32 + 2,
                        });
                    }
                }
                // After reading: every key's row is found, and no other key has one.
                for (&(indicator, area, seq), &row) in &model {
                    prop_assert_eq!(firsts.find(&kept, indicator, area, seq), Some(row));
                    prop_assert_eq!(kept.place(row), (0, row as u32 + 2));
                    for other in [seq - 1, seq + 1, seq + 200, seq - 129] {
                        let expected = model.get(&(indicator, area, other)).copied();
                        prop_assert_eq!(firsts.find(&kept, indicator, area, other), expected);
                    }
                }
                prop_assert_eq!(firsts.find(&kept, 9, 0, origin), None);
                // Each indicator's areas with a row not dropped.
                let dropped: Vec<bool> = (0..kept.len())
                    .map(|i| drops.get(i).copied().unwrap_or(false))
                    .collect();
                let mut sent = vec![Vec::new(); 3];
                for (&(indicator, area, _), &row) in &model {
                    if !dropped[row] {
                        sent[indicator as usize].push(area as usize);
                    }
                }
                for areas in &mut sent {
                    areas.sort_unstable();
                    areas.dedup();
                }
                prop_assert_eq!(firsts.areas_sent(3, &dropped), sent);
                Ok(())
            },
        )
        .unwrap();
}

/// The rows `pmf validate` keeps give back every value exactly (wide ones from their own
/// table) and each row's file.
#[test]
fn slim_rows_keep_values_and_files() {
    use super::kept::{Slim, Store};
    use crate::period::{Frequency, Period, YearStart};
    use crate::returns::{Observation, Packed, Status, NO_PARTS};
    use proptest::prelude::*;
    let period = Period::new(YearStart::April, Frequency::Quarterly, 2024, 1).unwrap();
    let value = proptest::option::of(crate::testing::decimals());
    let row = (value, 0u32..4);
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(row, 0..64), |rows| {
            let mut kept = Store::Slim(Slim::default());
            // Files in order, as the merge pushes them.
            let mut rows = rows;
            rows.sort_by_key(|r| r.1);
            for (i, (v, file)) in rows.iter().enumerate() {
                let packed = Packed::new(*v);
                if let Some(word) = packed.small() {
                    prop_assert_eq!(Packed::from_small(word), packed);
                }
                kept.push(Observation {
                    indicator: 0,
                    area: 0,
                    period,
                    value: packed,
                    parts: NO_PARTS,
                    status: Status::Final,
                    info: i as u32,
                    file: *file,
                    line: i as u32 + 2,
                });
            }
            for (i, (v, file)) in rows.iter().enumerate() {
                prop_assert_eq!(kept.value(i), *v);
                prop_assert_eq!(kept.value(i).map(|d| d.scale()), v.map(|d| d.scale()));
                prop_assert_eq!(kept.place(i), (*file, i as u32 + 2));
                prop_assert_eq!(kept.info(i), i as u32);
                prop_assert_eq!(kept.period(i), Some(period));
            }
            Ok(())
        })
        .unwrap();
}

/// Many files of every kind in one read: small ones checked in batches, longer ones chunk by
/// chunk, files that cannot be read between them. Whatever the chunk size (so whichever files
/// are "small"), the problems come out in file order and the rows are the same.
#[test]
fn many_files_small_and_large_read_in_order() {
    let long: Vec<u8> = {
        let mut t = b"indicator,period,area,value\n".to_vec();
        for (i, q) in ["Q1", "Q2", "Q3", "Q4"].iter().enumerate() {
            for area in ["T", "T-A", "T-B", "T-C"] {
                t.extend_from_slice(format!("CT 01,2024/25 {q},{area},{}\n", i * 3).as_bytes());
            }
        }
        t
    };
    let files: Vec<(&str, &[u8])> = vec![
        ("a.csv", b"indicator,period,value\nCT 01,2024/25 Q1,5\n"),
        ("empty.csv", b""),
        ("b.csv", &long),
        ("nocols.csv", b"foo,bar\n1,2\n"),
        ("c.csv", b"indicator;period;value\nCT 01;2024/25 Q1;6\n"),
        ("headonly.csv", b"indicator,period,value\n"),
        (
            "d.csv",
            b"indic\xe9tor,period,value\nCT 01,2024/25 Q2,x\n\nCT 01,2024/25 Q2,7\n",
        ),
        ("e.csv", &long),
        (
            "f.csv",
            b"indicator,period,value,area\nPC 01,2024/25 Q1,50,T-A\n",
        ),
    ];
    same_in_chunks(&files);
    // and the problems are in file order: each file's after the previous file's
    let (_, diags) = run(&files);
    let order: Vec<&str> = diags.iter().map(|d| d.file.as_str()).collect();
    let mut seen: Vec<&str> = Vec::new();
    for f in order {
        if seen.last() != Some(&f) {
            assert!(!seen.contains(&f), "{f} again after {seen:?}");
            seen.push(f);
        }
    }
    assert!(seen.len() >= 5, "{seen:?}");
}

/// The latest period is taken from the rows kept: a later period sent twice with different
/// values (both dropped) does not count, and of periods ending together the last read wins.
#[test]
fn the_latest_period_is_of_the_rows_kept() {
    let f = fw();
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 15).unwrap();
    let text = b"indicator,period,area,value\n\
CT 01,2024/25 Q1,T-A,1\n\
CT 01,2024/25 Q3,T-A,2\n\
CT 01,2024/25 Q2,T-A,3\n\
CT 01,2024/25 Q3,T-A,4\n";
    // Read in full, and for checking (where the latest row is dropped after it was read, and
    // the rows are searched again).
    let latest = |text: &[u8]| {
        let (r, _) = super::read_in_chunks(&f, sources(&[("r.csv", text)]), as_of, 1 << 30);
        let (c, _) = super::check_in_chunks(&f, sources(&[("r.csv", text)]), as_of, 1 << 30);
        assert_eq!(r.latest, Some(c.latest_period()));
        c.latest_period().map(|p| p.to_string())
    };
    assert_eq!(latest(text), Some("2024/25 Q2".to_string()));
    // September ends with Q2: read after it or before, the quarter is the latest (the longer).
    let tie = [&text[..], b"MN 01,2024-09,T-A,5\nCT 01,2024/25 Q1,T-B,6\n"].concat();
    assert_eq!(latest(&tie), Some("2024/25 Q2".to_string()));
    let before = b"indicator,period,area,value\nMN 01,2024-09,T-A,5\nCT 01,2024/25 Q2,T-A,3\nMN 01,2024-08,T-A,5\n";
    assert_eq!(latest(before), Some("2024/25 Q2".to_string()));
    assert_eq!(latest(&text[..28]), None);
}

/// An indicator's observations are one run only when no other indicator's come between them,
/// whatever the files: a single row of an indicator seen again later breaks it.
#[test]
fn runs_are_found_only_when_each_indicator_lies_together() {
    let f = fw();
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 15).unwrap();
    let head = "indicator,period,area,value\n";
    let runs = |files: &[&str]| {
        let texts: Vec<String> = files.iter().map(|t| format!("{head}{t}")).collect();
        let named: Vec<(&str, &[u8])> = texts.iter().map(|t| ("r.csv", t.as_bytes())).collect();
        super::read_in_chunks(&f, sources(&named), as_of, 1 << 30)
            .0
            .runs
    };
    let ct = |q: u8| format!("CT 01,2024/25 Q{q},T-A,{q}\n");
    let pc = |q: u8| format!("PC 01,2024/25 Q{q},T-A,{q}\n");
    // PC 01, CT 01, MN 01 in the framework's order: runs by index.
    assert_eq!(
        runs(&[&(ct(1) + &ct(2)), &pc(1)]),
        Some(vec![2..3, 0..2, 0..0])
    );
    assert_eq!(runs(&[&(ct(1) + &pc(1)), &ct(2)]), None);
    assert_eq!(runs(&[&(pc(1) + &ct(1) + &pc(2))]), None);
    // Rows dropped in a conflict are not in any run.
    assert_eq!(
        runs(&[&(ct(1) + &pc(1) + "CT 01,2024/25 Q1,T-A,9\n")]),
        Some(vec![0..1, 0..0, 0..0])
    );
}

/// A byte-order mark is skipped only at the start of a file. At the start of a row (a file
/// pasted after another's header) it is part of the indicator code, reported as such, in the
/// first row after the header as in any other, wherever the chunks are cut.
#[test]
fn a_byte_order_mark_after_the_header_is_data() {
    let text = b"\xef\xbb\xbfindicator,period,area,value\n\
\xef\xbb\xbfCT 01,2024/25 Q1,T,5\n\
CT 01,2024/25 Q2,T,6\n\
\xef\xbb\xbfCT 01,2024/25 Q3,T,7\n";
    let (r, d) = run(&[("b.csv", text)]);
    assert_eq!(
        summary(&d),
        vec!["b.csv:2:1 unknown-indicator", "b.csv:4:1 unknown-indicator"]
    );
    assert_eq!(r.observations.len(), 1);
    assert_eq!(
        d[0].message,
        "the indicator `CT 01` starts with an invisible byte-order mark (U+FEFF), so it is not the framework's code"
    );
    same_in_chunks(&[("b.csv", text)]);
}

/// A row refused for an error elsewhere (a prediction not known, a bad date) was still sent:
/// its return is not missing, and with a value its area has sent the indicator one, so the
/// area is due (SPEC 3). A conflicting pair was sent too. And `validate`'s default period is
/// the latest period in the returns, a refused row's included.
#[test]
fn rows_sent_with_errors_are_not_missing() {
    let f = fw();
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 15).unwrap();
    let text = b"indicator,period,area,value,prediction,submitted_on
CT 01,2024/25 Q1,T-A,5,,
CT 01,2024/25 Q2,T-A,5,sideways,
CT 01,2024/25 Q1,T-B,5,maybe,
CT 01,2024/25 Q2,T,1,,
CT 01,2024/25 Q2,T,2,,
CT 01,2024/25 Q3,T-A,5,,31/02/2025
";
    let q = |n| {
        crate::period::Period::new(
            crate::period::YearStart::April,
            crate::period::Frequency::Quarterly,
            2024,
            n,
        )
        .unwrap()
    };
    let (c, _) = super::check_in_chunks(&f, sources(&[("r.csv", &text[..])]), as_of, 1 << 30);
    let (r, _) = super::read_in_chunks(&f, sources(&[("r.csv", &text[..])]), as_of, 1 << 30);
    // Of CT 01 (no one sent the others: their default area's returns are missing).
    let missing = |d: Vec<Diagnostic>| -> Vec<String> {
        d.iter()
            .filter(|d| d.indicator == "CT 01")
            .map(|d| format!("{} {} {}", d.code.as_str(), d.area, d.period))
            .collect()
    };
    // At Q2: T-A sent (refused for its prediction), T sent twice in conflict, T-B (whose Q1
    // row was refused but had a value) sent nothing.
    let expected = vec!["missing-return T-B 2024/25 Q2".to_string()];
    assert_eq!(missing(c.completeness(&f, q(2), as_of)), expected);
    assert_eq!(
        missing(super::super::complete::check(&f, &r, q(2), as_of)),
        expected
    );
    // The latest period kept is Q1 (Q2's only rows conflict); in the returns, Q3 (refused
    // for its date).
    assert_eq!(c.latest_period(), Some(q(1)));
    assert_eq!(c.default_period(), Some(q(3)));
}

/// A quote that opens a cell and is never closed swallows every line after it into that
/// cell: an error at the row it opens on (SPEC 2.3: malformed quoting gives data errors), the
/// row not read; whole or in chunks alike.
#[test]
fn a_quote_never_closed_is_an_error() {
    let text = b"indicator,period,value,commentary\nCT 01,2024/25 Q1,5,\"fine\nCT 01,2024/25 Q2,bad,ok\nZZ 99,2024/25 Q3,7,ok\n";
    let (r, d) = run(&[("u.csv", text)]);
    assert_eq!(summary(&d), vec!["u.csv:2:4 ragged-row"]);
    assert!(
        d[0].message
            .contains("the 2 lines after it were read into that one cell"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].indicator, "CT 01");
    assert!(r.observations.is_empty());
    same_in_chunks(&[("u.csv", text)]);
    // Closed at the very end, or a quote inside an unquoted cell: no error.
    for fine in [
        &b"indicator,period,value,commentary\nCT 01,2024/25 Q1,5,\"fine\""[..],
        b"indicator,period,value,commentary\nCT 01,2024/25 Q1,5,a 5\" pipe\n",
    ] {
        let (r, d) = run(&[("f.csv", fine)]);
        assert_eq!(summary(&d), Vec::<String>::new());
        assert_eq!(r.observations.len(), 1);
    }
}

/// Line ends of a carriage return alone (old Mac exports), a byte-order mark before blank
/// lines, and a `;` header after a blank line: every row on its own physical line.
#[test]
fn lone_carriage_returns_marks_and_blank_first_lines() {
    let cr = b"indicator,period,value,commentary\rCT 01,2024/25 Q1,5,\"a\rb\"\rCT 01,2024/25 Q2,bad,x\r\rCT 01,2024/25 Q3,,\r";
    let (r, d) = run(&[("cr.csv", cr)]);
    assert_eq!(
        summary(&d),
        vec![
            "cr.csv:4:3 type-error",
            "cr.csv:5:0 blank-row",
            "cr.csv:6:3 missing-value"
        ]
    );
    assert_eq!(r.observations[0].line, 2);
    same_in_chunks(&[("cr.csv", cr)]);
    let bom = b"\xef\xbb\xbf\n\nindicator,period,value\n\nCT 01,2024/25 Q1,bad\n";
    let (_, d) = run(&[("bom.csv", bom)]);
    assert_eq!(
        summary(&d),
        vec![
            "bom.csv:1:0 blank-row",
            "bom.csv:2:0 blank-row",
            "bom.csv:4:0 blank-row",
            "bom.csv:5:3 type-error"
        ]
    );
    // `\r\r\n` (a CRLF file written again through a text-mode writer on Windows): the
    // line feeds count the lines, the carriage returns are part of the line ends.
    let crcrlf = b"indicator,period,value\r\r\nCT 01,2024/25 Q1,5\r\r\nCT 01,2024/25 Q2,bad\r\r\n";
    let (_, d) = run(&[("crcrlf.csv", crcrlf)]);
    assert_eq!(summary(&d), vec!["crcrlf.csv:3:3 type-error"]);
    let semi = b"\nindicator;period;value\nCT 01;2024/25 Q1;bad\n";
    let (_, d) = run(&[("semi.csv", semi)]);
    assert_eq!(
        summary(&d),
        vec![
            "semi.csv:1:0 blank-row",
            "semi.csv:2:0 delimiter",
            "semi.csv:3:3 type-error"
        ]
    );
}

/// A column with no name that holds data is a warning; the empty cells of Excel's trailing
/// commas are not. A third row for a key already in conflict says so, not "sent twice".
#[test]
fn unnamed_columns_and_third_conflicting_rows() {
    let (_, d) = run(&[(
        "u.csv",
        b"indicator,period,value,\nCT 01,2024/25 Q1,5,a note\n",
    )]);
    assert_eq!(summary(&d), vec!["u.csv:1:4 unknown-column"]);
    assert!(d[0].message.contains("`a note`"), "{}", d[0].message);
    let (_, d) = run(&[("t.csv", b"indicator,period,value,\nCT 01,2024/25 Q1,5,\n")]);
    assert!(d.is_empty(), "{d:?}");
    let (_, d) = run(&[(
        "c.csv",
        b"indicator,period,value\nCT 01,2024/25 Q1,5\nCT 01,2024/25 Q1,6\nCT 01,2024/25 Q1,5\n",
    )]);
    assert_eq!(
        summary(&d),
        vec![
            "c.csv:2:3 conflicting-row",
            "c.csv:3:3 conflicting-row",
            "c.csv:4:3 conflicting-row"
        ]
    );
    assert_eq!(
        d[2].message,
        "CT 01 T 2024/25 Q1 is sent again (5 here); it was already sent with different values, first on line 2"
    );
}

/// A marker with spaces around it is read as the marker, with a `normalised-value` warning
/// (SPEC 2.3: surrounding spaces are removed with a warning); unpadded, no warning.
#[test]
fn a_padded_marker_is_normalised() {
    let (r, d) = run(&[(
        "m.csv",
        b"indicator,period,value\nCT 01,2024/25 Q1, [c] \nCT 01,2024/25 Q2,[c]\n",
    )]);
    assert_eq!(summary(&d), vec!["m.csv:2:3 normalised-value"]);
    assert_eq!(
        d[0].message,
        "` [c] ` was read as the marker [c] (spaces removed)"
    );
    assert_eq!(r.observations.len(), 2);
    assert!(r.observations.iter().all(|o| o.value().is_none()));
}

/// A quote opened in the header and never closed: one error naming it, nothing read (not an
/// unknown column holding the rest of the file and a missing one).
#[test]
fn a_quote_never_closed_in_the_header() {
    let text = b"indicator,period,\"value\nCT 01,2024/25 Q1,5\nCT 01,2024/25 Q2,6\n";
    let (r, d) = run(&[("h.csv", text)]);
    assert_eq!(summary(&d), vec!["h.csv:1:3 ragged-row"]);
    assert!(d[0].message.contains("header"), "{}", d[0].message);
    assert!(r.observations.is_empty());
    same_in_chunks(&[("h.csv", text)]);
}

/// A CRLF file whose first buffer, as the operating system hands it over, ends between the
/// CR and the LF of its first line is still read by its line feeds (not as a file of lone
/// carriage returns, which would count every line twice).
#[test]
fn a_buffer_ending_inside_a_crlf_is_not_a_cr_file() {
    let text = b"indicator,period,value\r\nCT 01,2024/25 Q1,5\r\nCT 01,2024/25 Q2,bad\r\n";
    // The first buffer is the header and its CR (23 bytes), nothing more.
    let reader = std::io::BufReader::with_capacity(23, &text[..]);
    let sources = vec![Source {
        name: "b.csv".to_string(),
        reader,
    }];
    let (_, d) = read(
        &fw(),
        sources,
        NaiveDate::from_ymd_opt(2025, 11, 15).unwrap(),
    );
    assert_eq!(summary(&d), vec!["b.csv:3:3 type-error"]);
}
