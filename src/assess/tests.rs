//! `assess` end to end: targets in context, roll-ups over two levels, the rows kept, and the
//! riverside example's story (SPEC 4 read against examples/riverside/README.md).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{assess, targets::target_for, Direction, Method, Options, Rag, Source};
use crate::framework::{load, Framework, Match};
use crate::period::{Frequency, Period, YearStart};
use crate::returns::{Observation, Prediction, Returns, RowInfo, Status};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn framework(text: &str) -> Framework {
    let loaded = load(
        text,
        "pmf.yaml",
        NaiveDate::from_ymd_opt(2025, 11, 15).unwrap(),
    );
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    loaded.framework.expect("framework")
}

/// A tiny stand-in for the returns reader: header-named CSV, lenient values, markers.
fn returns(fw: &Framework, text: &str) -> Returns {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.to_lowercase().replace([' ', '_'], ""))
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut observations = Vec::new();
    let mut parts = Vec::new();
    let mut infos = Vec::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let num = |s: Option<&str>| -> Option<Decimal> {
            let s = s?.replace([',', '%', '£'], "");
            match s.as_str() {
                "*" | "c" | "[c]" | "x" | "[x]" | "z" | "[z]" | ".." | ":" | "-" | "n/a" | "NA" => {
                    None
                }
                _ => Some(s.parse().unwrap()),
            }
        };
        let Match::Exact(ind) = fw.indicator(get("indicator").unwrap()) else {
            panic!("indicator");
        };
        let area = match get("area") {
            Some(a) => match fw.area(a) {
                Match::Exact(i) => i,
                _ => panic!("area {a}"),
            },
            None => 0,
        };
        let freq = fw.indicators[ind].frequency;
        let period = Period::parse(get("period").unwrap(), fw.year_start, Some(freq)).unwrap();
        let prediction = get("prediction").map(|p| match p {
            "on track" => Prediction::OnTrack,
            "off track" => Prediction::OffTrack,
            _ => Prediction::AtRisk,
        });
        let info = RowInfo {
            commentary: get("commentary").map(str::to_string),
            prediction,
            action_plan: get("actionplan").map(|a| a == "yes"),
            ..RowInfo::default()
        };
        observations.push(Observation {
            indicator: ind as u32,
            area: area as u32,
            period,
            value: crate::returns::Packed::new(num(get("value"))),
            parts: crate::returns::push_parts(
                &mut parts,
                num(get("numerator")),
                num(get("denominator")),
            ),
            status: if get("status") == Some("provisional") {
                Status::Provisional
            } else {
                Status::Final
            },
            info: crate::returns::push_info(&mut infos, Some(info)),
            file: 0,
            line: line as u32 + 2,
        });
    }
    Returns {
        observations,
        files: vec!["test.csv".into()],
        date_columns: vec![0],
        parts,
        infos,
        sent: Vec::new(),
        latest: None,
        runs: None,
    }
}

fn q(year: i32, i: u8) -> Period {
    Period::new(YearStart::April, Frequency::Quarterly, year, i).unwrap()
}

fn options(fw: &Framework, period: Period) -> Options {
    let _ = fw;
    Options {
        period,
        as_of: NaiveDate::from_ymd_opt(2025, 11, 15).unwrap(),
        focus_area: 0,
    }
}

const SMALL: &str = "\
name: Test
areas:
  - code: T
    name: Town
    areas:
      - code: T-N
        name: North
        areas:
          - {code: T-N1, name: North One}
          - {code: T-N2, name: North Two}
      - {code: T-S, name: South}
themes:
  - code: A
    name: Theme
    priorities:
      - code: A1
        name: Priority
        indicators:
          - code: R1
            name: A ratio
            unit: percent
            polarity: higher
            aggregate: ratio
            scale: 100
            targets: {2024/25: 50}
          - code: C1
            name: A count
            unit: count
            polarity: lower
            targets: {2024/25: 100}
          - code: Y1
            name: Year to date
            unit: count
            polarity: lower
            measure: cumulative
            frequency: monthly
            targets: {2024/25: 120, 2024-06: 20}
            area_targets:
              T-S: {2024/25: 60}
";

#[test]
fn targets_exact_year_pro_rata_and_area() {
    let fw = framework(SMALL);
    let y1 = &fw.indicators[2];
    let m = |i| Period::new(YearStart::April, Frequency::Monthly, 2024, i).unwrap();
    // month 1 of 12: 120 * 1/12 = 10; month 5: 50; the exact key for month 3 wins
    assert_eq!(target_for(y1, 0, m(1)), Some(d("10")));
    assert_eq!(target_for(y1, 0, m(5)), Some(d("50")));
    assert_eq!(target_for(y1, 0, m(3)), Some(d("20")));
    assert_eq!(target_for(y1, 0, m(12)), Some(d("120")));
    // T-S has its own targets (and not the period override)
    let south = 4;
    assert_eq!(target_for(y1, south, m(6)), Some(d("30")));
    // snapshot: every quarter of the year gets the year's target; no target the next year
    let r1 = &fw.indicators[0];
    assert_eq!(target_for(r1, 0, q(2024, 3)), Some(d("50")));
    assert_eq!(target_for(r1, 0, q(2025, 1)), None);
}

/// Targets are shown as written (SPEC 5: plain decimals); only a target computed pro rata is
/// rounded, to four places or to the year target's own places when it has more.
#[test]
fn targets_shown_as_written_or_rounded_pro_rata() {
    use super::targets::shown;
    let fw = framework(
        &SMALL
            .replace("targets: {2024/25: 50}", "targets: {2024/25: 1.23456}")
            .replace(
                "targets: {2024/25: 120, 2024-06: 20}",
                "targets: {2024/25: 95.0, 2024-06: 0.123456, 2025/26: 0.00002}",
            ),
    );
    let (r1, y1) = (&fw.indicators[0], &fw.indicators[2]);
    let m = |y, i| Period::new(YearStart::April, Frequency::Monthly, y, i).unwrap();
    let shown_at = |ind, p| target_for(ind, 0, p).map(|t| shown(ind, 0, p, t).to_string());
    // written: a snapshot's year target and an exact period's, whatever their places
    assert_eq!(shown_at(r1, q(2024, 2)), Some("1.23456".into()));
    assert_eq!(shown_at(y1, m(2024, 3)), Some("0.123456".into()));
    // pro rata: 95.0 x 1/12 to four places, trailing zeros removed; at the year's end the
    // year's target as written; 0.00002 x 1/12 and x 6/12 to seven places, never 0
    assert_eq!(shown_at(y1, m(2024, 1)), Some("7.9167".into()));
    assert_eq!(shown_at(y1, m(2024, 4)), Some("31.6667".into()));
    assert_eq!(shown_at(y1, m(2024, 6)), Some("47.5".into()));
    assert_eq!(shown_at(y1, m(2024, 12)), Some("95.0".into()));
    assert_eq!(shown_at(y1, m(2025, 1)), Some("0.0000017".into()));
    assert_eq!(shown_at(y1, m(2025, 6)), Some("0.00001".into()));
    assert_eq!(shown_at(y1, m(2025, 12)), Some("0.00002".into()));
    // At the year's end the year's target exactly, even where x 12 / 12 would overflow.
    let big = framework(&SMALL.replace(
        "targets: {2024/25: 120, 2024-06: 20}",
        "targets: {2024/25: 7.9228162514264337593543950335}",
    ));
    let y1 = &big.indicators[2];
    assert_eq!(
        target_for(y1, 0, m(2024, 12)).map(|t| t.to_string()),
        Some("7.9228162514264337593543950335".into())
    );
}

#[test]
fn two_level_ratio_roll_up_and_missing_child() {
    let fw = framework(SMALL);
    let csv = "indicator,period,area,value,numerator,denominator
R1,2024/25 Q1,T-N1,40,40,100
R1,2024/25 Q1,T-N2,60,120,200
R1,2024/25 Q1,T-S,20,20,100
R1,2024/25 Q2,T-N1,40,40,100
R1,2024/25 Q2,T-S,20,20,100
C1,2024/25 Q1,T-N1,10
C1,2024/25 Q1,T-N2,20
C1,2024/25 Q1,T-S,70
C1,2024/25 Q2,T-N1,30
C1,2024/25 Q2,T-N2,30
C1,2024/25 Q2,T-S,50
";
    let rs = returns(&fw, csv);
    let at_q1 = assess(&fw, &rs, &options(&fw, q(2024, 1)));
    let row = |a: &super::Assessment, ind: usize, area: usize| {
        a.rows
            .iter()
            .find(|r| r.indicator == ind && r.area == area)
            .cloned()
            .unwrap()
    };
    // T-N = 160/300 = 53.3333 (never the mean of 40 and 60); T = 180/400 = 45
    let tn = row(&at_q1, 0, 1);
    assert_eq!(tn.value, Some(d("53.3333")));
    assert_eq!(tn.source, Source::RolledUp);
    assert_eq!(tn.rag, Rag::Green); // 53.33/50 = 106.7%
    let t = row(&at_q1, 0, 0);
    assert_eq!(t.value, Some(d("45")));
    assert_eq!(t.rag, Rag::Amber); // 90% achieved exactly
    assert_eq!(t.deviation_pct, Some(d("-10")));
    // Q2: T-N2 missing, so T-N and T are N/A and name what is missing
    let at_q2 = assess(&fw, &rs, &options(&fw, q(2024, 2)));
    let tn = row(&at_q2, 0, 1);
    assert_eq!(tn.value, None);
    assert_eq!(tn.source, Source::Missing { children: vec![3] });
    assert_eq!(tn.rag, Rag::NA);
    let t = row(&at_q2, 0, 0);
    assert_eq!(t.source, Source::Missing { children: vec![1] });
    assert!(t.has_value); // it had a value at Q1
                          // sum: 10+20+70 = 100 at Q1 (on target, lower), 110 at Q2: worsening, RED? 110/100 lower
                          // is dev -10 -> achievement 90 -> AMBER, stage 1
    let c = row(&at_q2, 1, 0);
    assert_eq!(c.value, Some(d("110")));
    assert_eq!(c.rag, Rag::Amber);
    assert_eq!(c.direction, Direction::Worsening);
    assert_eq!(c.stage, 1);
    assert_eq!(row(&at_q2, 1, 1).value, Some(d("60")));
    // the history of T for R1 shows the Q1 roll-up and the Q2 gap
    assert_eq!(t.history.len(), 2);
    assert_eq!(t.history[0].value, Some(d("45")));
    assert_eq!(t.history[1].value, None);
}

/// Children that sent different periods: the parent rolls up every period any child sent,
/// in order, naming the children missing at each (the periods are met as the least at any
/// child's cursor, found while the one before is rolled up).
#[test]
fn roll_up_over_children_with_different_periods() {
    let fw = framework(SMALL);
    let csv = "indicator,period,area,value
C1,2024/25 Q1,T-N1,10
C1,2024/25 Q3,T-N1,30
C1,2024/25 Q2,T-N2,20
C1,2024/25 Q3,T-N2,5
C1,2024/25 Q1,T-S,1
C1,2024/25 Q2,T-S,1
C1,2024/25 Q3,T-S,1
";
    let rs = returns(&fw, csv);
    // Each area in turn is the focus area, which always has a row.
    let at = |i: u8, area: usize| {
        let mut o = options(&fw, q(2024, i));
        o.focus_area = area;
        assess(&fw, &rs, &o)
            .rows
            .into_iter()
            .find(|r| r.indicator == 1 && r.area == area)
            .unwrap()
    };
    assert_eq!(at(1, 1).source, Source::Missing { children: vec![3] });
    assert_eq!(at(2, 1).source, Source::Missing { children: vec![2] });
    let north = at(3, 1);
    assert_eq!(
        (north.value, &north.source),
        (Some(d("35")), &Source::RolledUp)
    );
    assert_eq!(at(3, 0).value, Some(d("36")));
    assert_eq!(at(2, 0).source, Source::Missing { children: vec![1] });
}

#[test]
fn cumulative_direction_run_rate_and_suppressed() {
    let fw = framework(SMALL);
    let csv = "indicator,period,area,value,prediction
Y1,2023-08,T,45,
Y1,2024-04,T,9,
Y1,2024-08,T,30,on track
Y1,2024-08,T-S,[c],
";
    let rs = returns(&fw, csv);
    let m5 = Period::new(YearStart::April, Frequency::Monthly, 2024, 5).unwrap();
    // month 5 of the year is August 2024
    let a = assess(&fw, &rs, &options(&fw, m5));
    let r = a
        .rows
        .iter()
        .find(|r| r.indicator == 2 && r.area == 0)
        .unwrap();
    assert_eq!(r.period, m5, "{r:#?}");
    assert_eq!(
        r.target,
        Some(d("50")),
        "{r:#?} {:?}",
        fw.indicators[2].targets
    );
    // 30 against 120 * 5/12 = 50 (lower): GREEN; vs 45 at 2023-08: improving
    assert_eq!(r.target, Some(d("50")));
    assert_eq!(r.rag, Rag::Green, "{r:#?}");
    assert_eq!(r.direction, Direction::Improving);
    let f = r.forecast.as_ref().unwrap();
    assert_eq!(f.method, Method::RunRate);
    assert_eq!(f.value, d("72")); // 30 * 12/5
    assert_eq!(f.target, Some(d("120")));
    assert_eq!(f.on_track, Some(true));
    assert_eq!(r.challenge, Some(false));
    assert_eq!(r.prediction, Some(Prediction::OnTrack));
    // the suppressed area has no value and so no row (it is not the focus area)
    assert!(!a.rows.iter().any(|r| r.indicator == 2 && r.area == 4));
    // every indicator has a focus-area row, with or without data
    assert!(a
        .rows
        .iter()
        .any(|r| r.indicator == 0 && r.area == 0 && !r.has_value));
}

fn riverside() -> (Framework, Returns) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/riverside");
    let fw = framework(&std::fs::read_to_string(format!("{root}/pmf.yaml")).unwrap());
    let mut all = Returns::default();
    for f in ["council", "nhs", "police", "schools"] {
        let text = std::fs::read_to_string(format!("{root}/returns/{f}.csv")).unwrap();
        let one = returns(&fw, &text);
        let offset = all.parts.len() as u32;
        let info_offset = all.infos.len() as u32;
        all.parts.extend(one.parts);
        all.infos.extend(one.infos);
        all.observations
            .extend(one.observations.into_iter().map(|mut o| {
                if o.parts != crate::returns::NO_PARTS {
                    o.parts += offset;
                }
                if o.info != crate::returns::NO_INFO {
                    o.info += info_offset;
                }
                o
            }));
    }
    (fw, all)
}

#[test]
fn riverside_story_at_2025_26_q2() {
    let (fw, rs) = riverside();
    let a = assess(&fw, &rs, &options(&fw, q(2025, 2)));
    let borough = |code: &str| {
        let Match::Exact(i) = fw.indicator(code) else {
            panic!("{code}")
        };
        a.rows
            .iter()
            .find(|r| r.indicator == i && r.area == 0)
            .unwrap_or_else(|| panic!("{code}"))
    };
    use Direction::{Improving as I, Worsening as W, NA as DNA};
    let expect: &[(&str, Rag, Direction, u8)] = &[
        ("NI 65", Rag::Red, W, 3),
        ("NI 62", Rag::Red, W, 2),
        ("NI 111", Rag::Red, W, 1),
        ("NI 64", Rag::Amber, W, 3),
        ("CF 05", Rag::Amber, DNA, 2),
        ("NI 147", Rag::Amber, W, 1),
        ("NI 117", Rag::Amber, W, 1),
        ("CF 03", Rag::Amber, I, 1),
        ("CF 06", Rag::Amber, I, 1),
        ("NI 53", Rag::Blue, I, 0),
        ("NI 63", Rag::Green, I, 0),
        ("NI 148", Rag::Green, I, 0),
        ("NI 19", Rag::Green, I, 0),
        ("CF 08", Rag::Green, I, 0),
        ("CF 04", Rag::Green, W, 0),
        ("CF 07", Rag::Green, I, 0),
        ("NI 55", Rag::Green, I, 0),
        ("NI 73", Rag::Green, I, 1),
        ("CF 09", Rag::NA, DNA, 1),
        ("CF 02", Rag::NA, DNA, 0),
        ("CF 10", Rag::NA, DNA, 0),
    ];
    let mut wrong = Vec::new();
    for (code, rag, dir, stage) in expect {
        let r = borough(code);
        if (r.rag, r.direction, r.stage) != (*rag, *dir, *stage) {
            wrong.push(format!(
                "{code}: got {:?} {:?} {} want {rag:?} {dir:?} {stage}",
                r.rag, r.direction, r.stage
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // RAG counts for the borough: RED 3, AMBER 6, GREEN 8, BLUE 1, N/A 3
    let count = |rag| {
        a.rows
            .iter()
            .filter(|r| r.area == 0 && r.rag == rag)
            .count()
    };
    assert_eq!(
        [
            count(Rag::Red),
            count(Rag::Amber),
            count(Rag::Green),
            count(Rag::Blue),
            count(Rag::NA)
        ],
        [3, 6, 8, 1, 3]
    );
    // the challenge: NI 111 run rate 76 > 60, the lead says on track
    let ni111 = borough("NI 111");
    let f = ni111.forecast.as_ref().unwrap();
    assert_eq!(
        (f.method, f.value, f.on_track),
        (Method::RunRate, d("76"), Some(false))
    );
    assert_eq!(ni111.target, Some(d("30")));
    assert_eq!(ni111.challenge, Some(true));
    let challenges: Vec<_> = a
        .rows
        .iter()
        .filter(|r| r.challenge == Some(true))
        .map(|r| {
            (
                fw.indicators[r.indicator].code.clone(),
                r.area,
                r.forecast.clone(),
                r.prediction,
            )
        })
        .collect();
    assert_eq!(challenges.len(), 1, "{challenges:#?}");
    // CF 05: exactly -10
    assert_eq!(borough("CF 05").deviation_pct, Some(d("-10")));
    // CF 09: the borough cannot roll up without Westmoor
    let westmoor = match fw.area("RV-W") {
        Match::Exact(i) => i,
        _ => panic!(),
    };
    assert_eq!(
        borough("CF 09").source,
        Source::Missing {
            children: vec![westmoor]
        }
    );
    // commendations
    for code in ["NI 53", "CF 06", "NI 63", "NI 148", "NI 19"] {
        assert!(borough(code).commended, "{code}");
    }
    // NI 53 borough 2023/24 Q1 is N/A: Westmoor's return was [c]
    let early = assess(&fw, &rs, &options(&fw, q(2023, 1)));
    let Match::Exact(ni53) = fw.indicator("NI 53") else {
        panic!()
    };
    let r = early
        .rows
        .iter()
        .find(|r| r.indicator == ni53 && r.area == 0)
        .unwrap();
    assert_eq!((r.value, r.rag), (None, Rag::NA));
    assert_eq!(
        r.source,
        Source::Missing {
            children: vec![westmoor]
        }
    );
    let w53 = early
        .rows
        .iter()
        .find(|r| r.indicator == ni53 && r.area == westmoor);
    assert!(w53.is_none(), "a suppressed value alone gives no row");
    // NI 53 at Q2 rolls up 52.1525 (shown 4 dp), BLUE under brag
    assert_eq!(borough("NI 53").value, Some(d("52.1525")));
    assert_eq!(borough("NI 53").source, Source::RolledUp);
    // shown periods
    assert_eq!(borough("NI 55").period.to_string(), "2024/25");
    assert_eq!(borough("CF 07").period.to_string(), "2025/26 H1");
    assert_eq!(borough("CF 03").period.to_string(), "2025-09");
    // NI 65 by locality: Westmoor at stage 2 only
    let Match::Exact(ni65) = fw.indicator("NI 65") else {
        panic!()
    };
    let w = a
        .rows
        .iter()
        .find(|r| r.indicator == ni65 && r.area == westmoor)
        .unwrap();
    assert_eq!((w.rag, w.stage), (Rag::Red, 2));
}

/// Returns interleaved across indicators and areas, in two files, with a history long
/// enough for forecasts and back-tests.
fn interleaved(fw: &Framework) -> Returns {
    let mut csv = String::from("indicator,period,area,value,numerator,denominator\n");
    for (k, (y, i)) in [
        (2022, 1),
        (2022, 2),
        (2022, 3),
        (2022, 4),
        (2023, 1),
        (2023, 2),
    ]
    .into_iter()
    .chain((1..=4).map(|i| (2023, i)).skip(2))
    .chain((1..=4).map(|i| (2024, i)))
    .enumerate()
    {
        for (a, area) in ["T-N1", "T-N2", "T-S"].iter().enumerate() {
            let n = 30 + (k * 7 + a * 11) % 23;
            csv.push_str(&format!("R1,{y}/{} Q{i},{area},{n},{n},100\n", y % 100 + 1));
            csv.push_str(&format!(
                "C1,{y}/{} Q{i},{area},{}\n",
                y % 100 + 1,
                90 - k + a
            ));
        }
    }
    let mut rs = returns(fw, &csv);
    // the second half of the rows from a second file
    let half = rs.observations.len() / 2;
    for (j, o) in rs.observations.iter_mut().enumerate().skip(half) {
        o.file = 1;
        o.line = (j - half) as u32 + 2;
    }
    rs.files.push("second.csv".into());
    rs.date_columns.push(0);
    rs
}

/// The small framework, its interleaved returns (two files, indicators mixed), and a report at
/// 2024/25 Q2: the fixture of the tests of assessing in any order and streaming.
fn interleaved_at_q2() -> (Framework, Returns, Options) {
    let fw = framework(SMALL);
    let rs = interleaved(&fw);
    let opts = options(&fw, q(2024, 2));
    (fw, rs, opts)
}

#[test]
fn the_order_of_the_returns_changes_nothing() {
    let (fw, rs, opts) = interleaved_at_q2();
    let a = assess(&fw, &rs, &opts);
    assert!(a.rows.iter().any(|r| r.forecast.is_some()));
    // reversed, and by area first: every indicator's rows are found wherever they are
    let mut reversed = rs.clone();
    reversed.observations.reverse();
    assert_eq!(assess(&fw, &reversed, &opts), a);
    let mut by_area = rs.clone();
    by_area
        .observations
        .sort_by_key(|o| (o.area, o.period.seq()));
    assert_eq!(assess(&fw, &by_area, &opts), a);
}

/// The interval is made for the focus area's rows only (no output lists the others'), and
/// within the forecast's own errors.
#[test]
fn the_interval_is_made_for_the_focus_area_only() {
    let (fw, rs, opts) = interleaved_at_q2();
    let a = assess(&fw, &rs, &opts);
    let forecasts = |area: usize| {
        a.rows
            .iter()
            .filter(|r| r.area == area)
            .filter_map(|r| r.forecast.as_ref())
            .filter(|f| f.confidence.is_some())
            .cloned()
            .collect::<Vec<_>>()
    };
    let focus = forecasts(0);
    assert!(!focus.is_empty());
    for f in &focus {
        let (lo, hi) = f.interval.expect("an interval for the focus area");
        assert!(lo <= hi, "{lo} > {hi}");
    }
    let other = forecasts(2);
    assert!(!other.is_empty());
    assert!(other.iter().all(|f| f.interval.is_none()));
}

#[test]
fn assess_where_keeps_exactly_the_rows_asked_for() {
    let (fw, rs, opts) = interleaved_at_q2();
    let all = assess(&fw, &rs, &opts);
    let taken = std::cell::Cell::new(0);
    let kept = super::assess_where(
        &fw,
        rs,
        &opts,
        |r| r.area == 1 || r.indicator == 1,
        || taken.set(taken.get() + 1),
    );
    assert_eq!(taken.get(), fw.indicators.len());
    let expected: Vec<_> = all
        .rows
        .into_iter()
        .filter(|r| r.area == 1 || r.indicator == 1)
        .collect();
    assert!(expected.len() >= 4);
    assert_eq!(kept.rows, expected);
}

#[test]
fn the_csv_and_json_rendered_as_assessed_are_those_of_the_view() {
    use crate::briefing::{build, Filters};
    let (fw, rs, opts) = interleaved_at_q2();
    let all = assess(&fw, &rs, &opts);
    for filters in [
        Filters::default(),
        Filters {
            area: 1,
            area_given: true,
            ..Filters::default()
        },
        Filters {
            exceptions: true,
            ..Filters::default()
        },
    ] {
        let view = build(&fw, &all, &filters, Default::default());
        let mut whole = Vec::new();
        crate::render::csv::write(&view, &mut whole).unwrap();
        let mut streamed = Vec::new();
        let ticks = std::cell::Cell::new(0);
        crate::render::stream(
            &fw,
            rs.clone(),
            &opts,
            &filters,
            false,
            &mut streamed,
            || ticks.set(ticks.get() + 1),
        )
        .unwrap();
        assert_eq!(ticks.get(), fw.indicators.len());
        assert!(whole.iter().filter(|&&b| b == b'\n').count() > 3);
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(whole).unwrap()
        );

        // JSON: the same, and the document is the view's records with their counts
        let mut whole = Vec::new();
        crate::render::json::write(&view, &mut whole).unwrap();
        let mut streamed = Vec::new();
        crate::render::stream(&fw, rs.clone(), &opts, &filters, true, &mut streamed, || {})
            .unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(whole.clone()).unwrap()
        );
        let doc: serde_json::Value = serde_json::from_slice(&whole).unwrap();
        let records = doc["records"].as_array().unwrap();
        assert_eq!(records.len(), view.records.len());
        assert_eq!(records[0]["indicator"], "R1");
        let counted: u64 = doc["rag_counts"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(counted as usize, view.records.len());
    }

    // no records: an empty list, still a valid document with zero counts
    let none = super::Assessment {
        period: opts.period,
        as_of: opts.as_of,
        rows: Vec::new(),
    };
    let view = build(&fw, &none, &Filters::default(), Default::default());
    let mut text = Vec::new();
    crate::render::json::write(&view, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("\"records\": [],\n  \"rag_counts\": {\n    \"RED\": 0,"),
        "{text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["records"], serde_json::json!([]));
    assert_eq!(doc["framework"], "Test");
}

#[test]
fn in_order_hands_over_in_index_order_and_stops_at_the_first_error() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut seen = Vec::new();
    super::in_order(
        60,
        |i| {
            // later indices often finish first
            std::thread::sleep(std::time::Duration::from_micros(
                ((i * 7919) % 13) as u64 * 200,
            ));
            i * 2
        },
        |v| {
            seen.push(v);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(seen, (0..60).map(|i| i * 2).collect::<Vec<_>>());

    let made = AtomicUsize::new(0);
    let mut handed = Vec::new();
    let result = super::in_order(
        100_000,
        |i| {
            made.fetch_add(1, Ordering::Relaxed);
            i
        },
        |v| {
            handed.push(v);
            if v == 3 {
                Err(std::io::Error::other("disk full"))
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(result.unwrap_err().to_string(), "disk full");
    assert_eq!(handed, vec![0, 1, 2, 3]);
    // a few in flight, not the 100,000
    assert!(
        made.load(Ordering::Relaxed) < 200,
        "{}",
        made.load(Ordering::Relaxed)
    );
    super::in_order(0, |i| i, |_| panic!("nothing to hand over")).unwrap();
}

#[test]
fn rounding_for_output() {
    use super::{round_fixed, round_out};
    assert_eq!(round_fixed(d("0.5"), 2).to_string(), "0.50");
    assert_eq!(round_fixed(d("-12.2222"), 2).to_string(), "-12.22");
    assert_eq!(round_fixed(d("2.345"), 2).to_string(), "2.35"); // half away from zero
    assert_eq!(round_fixed(d("-0.001"), 2).to_string(), "0.00");
    assert_eq!(round_out(d("53.333333"), 4).to_string(), "53.3333");
    assert_eq!(round_out(d("45.00000"), 4).to_string(), "45");
}

mod no_panic {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::{framework, options, q, SMALL};
    use crate::assess::assess;
    use crate::period::{Frequency, Period, YearStart};
    use crate::returns::{Observation, Returns, Status};

    fn obs() -> impl Strategy<Value = (Observation, Option<Decimal>, Option<Decimal>)> {
        (
            0u32..4,
            0u32..6,
            2020i32..2027,
            1u8..13,
            proptest::option::of((any::<i64>(), 0u32..12)),
            proptest::option::of(-1000i64..1000),
            proptest::option::of(-10i64..1000),
        )
            .prop_map(|(ind, area, year, idx, v, n, den)| {
                let freq = if ind == 2 {
                    Frequency::Monthly
                } else {
                    Frequency::Quarterly
                };
                let idx = if freq == Frequency::Monthly {
                    idx
                } else {
                    (idx - 1) % 4 + 1
                };
                (
                    Observation {
                        indicator: ind,
                        area,
                        period: Period::new(YearStart::April, freq, year, idx).unwrap(),
                        value: crate::returns::Packed::new(v.map(|(m, s)| Decimal::new(m, s))),
                        parts: crate::returns::NO_PARTS,
                        status: Status::Final,
                        info: crate::returns::NO_INFO,
                        file: 0,
                        line: 2,
                    },
                    n.map(Decimal::from),
                    den.map(Decimal::from),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn assess_is_total(rows in proptest::collection::vec(obs(), 0..60), y in 2020i32..2027, i in 1u8..5) {
            let fw = framework(SMALL);
            let mut parts = Vec::new();
            let observations = rows
                .into_iter()
                .map(|(mut o, n, d)| {
                    o.parts = crate::returns::push_parts(&mut parts, n, d);
                    o
                })
                .collect();
            let rs = Returns { observations, files: vec![], date_columns: vec![], parts, infos: vec![], sent: vec![], latest: None, runs: None };
            let a = assess(&fw, &rs, &options(&fw, q(y, i)));
            // every indicator has its focus-area row
            for ind in 0..fw.indicators.len() {
                prop_assert!(a.rows.iter().any(|r| r.indicator == ind && r.area == 0));
            }
            // The observations sorted by indicator, so that each indicator's lie together:
            // assessed through the reader's runs and through the grouping, the same rows.
            let mut sorted = rs.clone();
            sorted.observations.sort_by_key(|o| o.indicator);
            // Each indicator's run, as the reader finds it when they lie together.
            let with_runs = |rs: &Returns| {
                let obs = &rs.observations;
                let runs = (0..fw.indicators.len())
                    .map(|i| {
                        let start = obs.partition_point(|o| (o.indicator as usize) < i);
                        let end = obs.partition_point(|o| (o.indicator as usize) <= i);
                        start as u32..end as u32
                    })
                    .collect();
                Returns { runs: Some(runs), ..rs.clone() }
            };
            let options = options(&fw, q(y, i));
            prop_assert_eq!(
                format!("{:?}", assess(&fw, &with_runs(&sorted), &options).rows),
                format!("{:?}", assess(&fw, &sorted, &options).rows)
            );
            // Sorted by indicator, area and period with one row a key, as a sorted return
            // is: each run is read straight into the series; the same rows as grouped.
            let mut ordered = sorted.clone();
            ordered.observations.sort_by_key(|o| (o.indicator, o.area, o.period.seq()));
            ordered.observations.dedup_by_key(|o| (o.indicator, o.area, o.period.seq()));
            prop_assert_eq!(
                format!("{:?}", assess(&fw, &with_runs(&ordered), &options).rows),
                format!("{:?}", assess(&fw, &ordered, &options).rows)
            );
        }
    }
}

/// What `csv::Writer::write_record` makes of the rows' records: the bytes
/// `render::csv::block` must write.
fn csv_writers_block(fw: &Framework, rows: &[super::Row]) -> Vec<u8> {
    use crate::render::csv::{record, Cell, PeriodText};
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut periods = PeriodText::default();
    for row in rows {
        let cells = record(fw, row, periods.of(row.period));
        let fields: Vec<Vec<u8>> = cells
            .iter()
            .map(|c| match c {
                Cell::Text(t) => crate::render::safe_cell(t).as_bytes().to_vec(),
                Cell::Number(d) => d.to_string().into_bytes(),
                Cell::Empty => Vec::new(),
            })
            .collect();
        w.write_record(&fields).unwrap();
    }
    w.into_inner().unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// `render::csv::block` writes, byte for byte, what the csv crate's writer writes: texts
    /// with delimiters, quotes, line breaks, formula characters and many bytes, in the cells
    /// that change by row (commentary) and those quoted once per indicator (name, lead).
    #[test]
    fn block_is_the_csv_writers(
        texts in proptest::collection::vec("[a-z ,\"=+\\-@\\n\\r\\té]{0,12}|[a-z\"]{200,300}", 1..8),
        names in proptest::collection::vec("[A-Za-z ,\"=\\n]{0,20}", 2),
    ) {
        let (mut fw, rs, opts) = interleaved_at_q2();
        fw.indicators[0].name = names[0].clone();
        if let Some(lead) = fw.indicators[1].lead.as_mut() {
            lead.name = names[1].clone();
        }
        let all = assess(&fw, &rs, &opts);
        let mut rows = all.rows.clone();
        for (k, row) in rows.iter_mut().enumerate() {
            let t = &texts[k % texts.len()];
            row.commentary = (!t.is_empty()).then(|| t.clone());
        }
        proptest::prop_assert!(rows.len() > 4);
        let got = crate::render::csv::block(&fw, rows.iter()).unwrap();
        proptest::prop_assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(csv_writers_block(&fw, &rows)).unwrap()
        );
    }
}

proptest::proptest! {
    /// `cmp_decimal` is `Decimal::cmp`: same scales (the quick way) and different ones,
    /// negative zeros, and mantissas up to 96 bits.
    #[test]
    fn cmp_decimal_is_decimal_cmp(
        x in crate::testing::decimals(),
        y in crate::testing::decimals(),
        same_scale in proptest::prelude::any::<bool>(),
    ) {
        // Half the pairs at one scale (the quick way), the other half at their own.
        let y = if same_scale {
            let p = y.unpack();
            Decimal::from_parts(p.lo, p.mid, p.hi, p.negative, x.scale())
        } else {
            y
        };
        proptest::prop_assert_eq!(super::cmp_decimal(x, y), x.cmp(&y));
        proptest::prop_assert_eq!(super::cmp_decimal(y, x), y.cmp(&x));
        let zero = Decimal::from_parts(0, 0, 0, true, x.scale());
        proptest::prop_assert_eq!(super::cmp_decimal(zero, Decimal::ZERO), std::cmp::Ordering::Equal);
    }
}

/// An indicator's rows taken as one run but not in area and period order (here a district's
/// quarters, then its wards', then the district again) are sorted before the series are
/// built, whatever was read straight in before the order broke: the same rows as grouped.
#[test]
fn a_run_out_of_area_order_is_sorted_first() {
    let fw = framework(SMALL);
    let rs = returns(
        &fw,
        "indicator,period,area,value
C1,2024/25 Q1,T-N,90
C1,2024/25 Q2,T-N,95
C1,2024/25 Q3,T-N,120
C1,2024/25 Q1,T-N1,40
C1,2024/25 Q2,T-N1,45
C1,2024/25 Q4,T-N,130
C1,2024/25 Q1,T-N2,50
",
    );
    let n = fw.indicators.len();
    let mut runs = vec![0..0; n];
    runs[1] = 0..rs.observations.len() as u32;
    let with_runs = Returns {
        runs: Some(runs),
        ..rs.clone()
    };
    // T-N in focus, so its row keeps its history.
    let options = Options {
        focus_area: 1,
        ..options(&fw, q(2024, 4))
    };
    let grouped = assess(&fw, &rs, &options).rows;
    assert_eq!(
        format!("{:?}", assess(&fw, &with_runs, &options).rows),
        format!("{grouped:?}")
    );
    // The series themselves: read straight in until the order broke, then sorted.
    let all: Vec<u32> = (0..rs.observations.len() as u32).collect();
    let built = |members| {
        let b = super::build_series(
            &fw,
            &fw.indicators[1],
            &rs.observations,
            members,
            &rs.parts,
            q(2024, 4).seq(),
        );
        format!("{:?} {:?} {:?}", b.store.all(), b.touched, b.missing)
    };
    assert_eq!(
        built(super::Members::Run(0..all.len())),
        built(super::Members::Listed(&all))
    );
    // A run past the last row (runs made by hand) is read as far as there are rows.
    let mut past = vec![0..0; n];
    past[1] = 0..1000;
    let past = Returns {
        runs: Some(past),
        ..rs.clone()
    };
    assert_eq!(
        format!("{:?}", assess(&fw, &past, &options).rows),
        format!("{grouped:?}")
    );
    // T-N's row: its own Q4 return, and its four quarters.
    let tn = grouped.iter().find(|r| r.indicator == 1 && r.area == 1);
    assert_eq!(tn.map(|r| r.value), Some(Some(Decimal::from(130))));
    let history: Vec<_> = tn.map_or(vec![], |r| r.history.iter().map(|p| p.value).collect());
    let values = [90, 95, 120, 130].map(|v| Some(Decimal::from(v)));
    assert_eq!(history, values);
}

/// A sum roll-up is exact and shown exactly (a ratio roll-up, a division, is rounded to four
/// places); its forecast keeps the sum's places: tiny counts do not become 0.
#[test]
fn sum_roll_ups_are_shown_exactly() {
    let fw = framework(SMALL);
    let rs = returns(
        &fw,
        "indicator,period,area,value
C1,2024/25 Q1,T-N1,0.00000126
C1,2024/25 Q1,T-N2,0.00000004
C1,2024/25 Q1,T-S,0.00000001
",
    );
    let rows = assess(&fw, &rs, &options(&fw, q(2024, 1))).rows;
    let at = |code: &str| {
        let a = fw.areas.iter().position(|a| a.code == code).unwrap();
        let r = rows
            .iter()
            .find(|r| r.indicator == 1 && r.area == a)
            .unwrap();
        (
            r.value.map(|v| v.to_string()),
            r.forecast.as_ref().map(|f| f.value.to_string()),
        )
    };
    assert_eq!(
        at("T-N"),
        (Some("0.00000130".into()), Some("0.0000013".into()))
    );
    assert_eq!(
        at("T"),
        (Some("0.00000131".into()), Some("0.00000131".into()))
    );
}

/// The targets a report shows come from the target table as shown (trailing zeros removed
/// from a pro rata target, never 0 when it is not): the row's, its history's and its
/// forecast's, as `targets::shown` gives them.
#[test]
fn rows_show_targets_as_the_table_has_them() {
    let fw = framework(&SMALL.replace(
        "targets: {2024/25: 120, 2024-06: 20}",
        "targets: {2024/25: 95.0, 2025/26: 0.00002}",
    ));
    let rs = returns(
        &fw,
        "indicator,period,area,value
Y1,2024-04,T,10
Y1,2024-05,T,20
Y1,2024-06,T,30
Y1,2025-04,T,0.000001
",
    );
    let shown = |p: Period| {
        let rows = assess(&fw, &rs, &options(&fw, p)).rows;
        let r = rows
            .iter()
            .find(|r| r.indicator == 2 && r.area == 0)
            .unwrap();
        let history: Vec<String> = r
            .history
            .iter()
            .filter_map(|h| h.target.map(|t| t.to_string()))
            .collect();
        (
            r.target.map(|t| t.to_string()),
            history,
            r.forecast
                .as_ref()
                .and_then(|f| f.target.map(|t| t.to_string())),
        )
    };
    assert_eq!(
        shown(q(2024, 1)),
        (
            Some("23.75".into()),
            vec!["7.9167".into(), "15.8333".into(), "23.75".into()],
            Some("95.0".into())
        )
    );
    assert_eq!(shown(q(2025, 1)).0, Some("0.000005".into()));
}
