//! Hand-made briefings for the PDF tests, the page images in `docs/` and the benchmark: a
//! plausible assessment fabricated over a real framework (varied RAG, stages 0-3, challenges,
//! gaps, long commentary with £ – ≥ é), and a framework of any size for timing.
//!
//! Not the rules: the values here are invented to exercise the layout, not computed by
//! `assess`. Hidden from the docs; public only so `benches/pdf.rs` can use it.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::assess::{Assessment, Direction, Forecast, Method, Point, Rag, Row, Source};
use crate::briefing::{Briefing, ProviderQuality, Quality};
use crate::framework::{self, Framework, Polarity};
use crate::period::{Frequency, Period};
use crate::returns::{Prediction, Status};

const COMMENTS: [&str; 6] = [
    "Placement moves rose after two residential homes closed in Westmoor – the service is commissioning 12 new foster places (£1.2m over two years) and expects the rate to fall back to ≥ the England average by Q4.",
    "On track. The Café Zoë partnership with Renée Dubois's team has lifted attendance at targeted sessions.",
    "Performance has dipped because of a data migration in the health visiting system; around 40 contacts from August are still being back-loaded, so the true figure is likely to be higher. The lead has agreed a recovery plan with the provider: weekly validation of the extract, a named data officer in each locality, and an escalation route to the Director of Public Health if the backlog is not cleared by the end of the quarter. A full review of the recording guidance for practitioners will report to the Executive in January, with costs of about £18,500 met from the existing transformation budget. Staff sickness in the Eastfield team (three of eleven posts vacant) remains the main risk – agency cover has been approved until March.",
    "",
    "Slightly below target; the cohort is small (n = 23), so one case moves the rate by more than four points.",
    "Strong improvement for the second quarter running: the multi-agency early help hub now triages ≥ 95% of referrals within 24 hours.",
];

fn rng(seed: u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn dec(v: f64, dp: u32) -> Decimal {
    Decimal::from_f64_retain(v)
        .unwrap_or_default()
        .round_dp(dp)
        .normalize()
}

/// An assessment with one row per indicator and area, invented but plausible.
pub fn assessment(fw: &Framework, period: Period, as_of: NaiveDate) -> Assessment {
    let mut rows = Vec::new();
    for (i, ind) in fw.indicators.iter().enumerate() {
        let p = period.latest_at(ind.frequency).unwrap_or(period);
        for a in 0..fw.areas.len() {
            let seed = rng((i * 131 + a * 7 + 3) as u64);
            let targets = ind.targets_for(a);
            let target = targets
                .0
                .get(&p)
                .or_else(|| targets.0.get(&p.year()))
                .copied()
                .or_else(|| (ind.polarity != Polarity::None).then(|| Decimal::from(50)));
            let t = target
                .map(|t| t.try_into().unwrap_or(50.0f64))
                .unwrap_or(50.0);
            let pick = seed % 10;
            let rag = if ind.polarity == Polarity::None || target.is_none() {
                Rag::NA
            } else {
                [
                    Rag::Red,
                    Rag::Amber,
                    Rag::Green,
                    Rag::Green,
                    Rag::Blue,
                    Rag::Green,
                    Rag::Red,
                    Rag::Amber,
                    Rag::Green,
                    Rag::Green,
                ][pick as usize]
            };
            let better: f64 = match rag {
                Rag::Red => -0.15,
                Rag::Amber => -0.06,
                Rag::Green => 0.02,
                Rag::Blue => 0.14,
                Rag::NA => 0.0,
            };
            let sign = if ind.polarity == Polarity::Lower {
                -1.0
            } else {
                1.0
            };
            let value = t * (1.0 + sign * better);
            let missing = seed % 13 == 5;
            let dp = ind.decimals;
            let history: Vec<Point> = (0..8)
                .map(|k| {
                    let per = p.offset(k - 7).unwrap_or(p);
                    let wobble = ((seed >> (k * 3)) % 9) as f64 / 100.0 - 0.04;
                    let drift = (7 - k) as f64 * 0.01 * if pick % 2 == 0 { 1.0 } else { -1.0 };
                    let v = value * (1.0 + wobble + drift);
                    Point {
                        period: per,
                        value: (!(missing && k == 7) && (seed >> k) % 17 != 0).then(|| dec(v, dp)),
                        target: target.map(|tt| if k < 4 { dec(t * 1.03, dp) } else { tt }),
                    }
                })
                .collect();
            let value = if missing { None } else { history[7].value };
            let rag = if value.is_none() { Rag::NA } else { rag };
            let stage = match rag {
                Rag::Red => 2 + (seed % 2) as u8,
                Rag::Amber => 1,
                _ => 0,
            };
            let direction = if value.is_none() {
                Direction::NA
            } else {
                [
                    Direction::Improving,
                    Direction::Worsening,
                    Direction::NoChange,
                    Direction::Improving,
                ][(seed >> 5) as usize % 4]
            };
            let on_track = target.map(|_| matches!(rag, Rag::Green | Rag::Blue));
            let forecast = value.map(|v| Forecast {
                period: p.last_of_year(),
                value: v,
                method: Method::Last,
                target,
                on_track,
                confidence: (seed % 3 == 0).then(|| Decimal::new(70 + (seed % 25) as i64, 2)),
                interval: None,
            });
            let prediction = (seed % 4 == 1).then_some(Prediction::OnTrack);
            let challenge = match (prediction, on_track) {
                (Some(pr), Some(ot)) if value.is_some() => Some(pr.expects_on_track() != ot),
                _ => None,
            };
            let com = COMMENTS[(seed >> 9) as usize % COMMENTS.len()];
            let deviation_pct = value.zip(target).map(|_| dec(better * 100.0, 1));
            rows.push(Row {
                indicator: i,
                area: a,
                period: p,
                value,
                source: if value.is_some() {
                    Source::Reported
                } else {
                    Source::Missing { children: vec![] }
                },
                target,
                deviation_pct,
                rag,
                direction,
                stage,
                forecast,
                plan_forecast: None,
                prediction,
                challenge,
                status: Some(Status::Final),
                commentary: (!com.is_empty()).then(|| com.to_string()),
                action_plan: (stage >= 2).then_some(true),
                commended: rag == Rag::Blue || (direction == Direction::Improving && seed % 3 == 0),
                has_value: value.is_some(),
                returned: value.is_some(),
                history,
            });
        }
    }
    Assessment {
        period,
        as_of,
        rows,
    }
}

/// The briefing view over a fabricated assessment, for the framework's first area.
pub fn briefing<'a>(fw: &'a Framework, a: &'a Assessment) -> Briefing<'a> {
    let focus = fw.default_area();
    let mut providers: Vec<ProviderQuality> = fw
        .organisations
        .iter()
        .take(2)
        .map(|o| ProviderQuality {
            provider: o.name.clone(),
            ..Default::default()
        })
        .collect();
    if let [first, second, ..] = providers.as_mut_slice() {
        for r in a.rows.iter().filter(|r| r.value.is_none()).take(6) {
            first.missing.push(format!(
                "{} {} {}, due {}",
                fw.indicators[r.indicator].code,
                fw.areas[r.area].code,
                r.period,
                r.period.end_date() + chrono::Days::new(u64::from(fw.deadline_days))
            ));
        }
        second.late.push(format!(
            "{} {} {}, received 2 days after its deadline",
            fw.indicators[0].code, fw.areas[0].code, a.period
        ));
        second
            .invalid
            .push("returns/police.csv:14 type-error".to_string());
    }
    let quality = Quality {
        missing: providers.iter().map(|p| p.missing.len()).sum(),
        late: providers.iter().map(|p| p.late.len()).sum(),
        invalid: providers.iter().map(|p| p.invalid.len()).sum(),
        providers,
    };
    crate::briefing::build(
        fw,
        a,
        &crate::briefing::Filters {
            area: focus,
            ..Default::default()
        },
        quality,
    )
}

/// The report period and "today" the fixtures use.
pub fn period_and_date() -> (Period, NaiveDate) {
    let period = Period::new(
        crate::period::YearStart::April,
        Frequency::Quarterly,
        2025,
        2,
    )
    .expect("a valid quarter");
    let as_of = NaiveDate::from_ymd_opt(2025, 11, 14).expect("a valid date");
    (period, as_of)
}

/// A framework of `themes` × `priorities` × `per_priority` indicators over one area and
/// `children` child areas, for the benchmark.
pub fn big_framework(
    themes: usize,
    priorities: usize,
    per_priority: usize,
    children: usize,
) -> Framework {
    let mut y = String::from(
        "name: Benchmark Partnership Plan\npartnership: Benchmark Partnership\nyear_start: april\n\
         areas:\n  - code: ALL\n    name: The whole partnership\n    areas:\n",
    );
    for c in 0..children {
        y.push_str(&format!(
            "      - {{code: A{c:02}, name: Area number {c}}}\n"
        ));
    }
    y.push_str("organisations:\n  - {code: ORG, name: Benchmark Council}\n  - {code: NHS, name: Benchmark NHS Trust}\nthemes:\n");
    let mut n = 0;
    for t in 0..themes {
        y.push_str(&format!(
            "  - code: T{t}\n    name: Theme number {t} for better outcomes\n    priorities:\n"
        ));
        for p in 0..priorities {
            y.push_str(&format!(
                "      - code: T{t}P{p}\n        name: Priority {p} of theme {t}\n        indicators:\n"
            ));
            for _ in 0..per_priority {
                let pol = if n % 3 == 0 { "lower" } else { "higher" };
                y.push_str(&format!(
                    "          - code: BM {n:03}\n            name: Benchmark indicator {n} measuring something a board cares about\n            \
                     unit: percent\n            polarity: {pol}\n            lead: {{name: Officer {n}, organisation: ORG}}\n            \
                     targets: {{2024/25: {t1}, 2025/26: {t2}, 2026/27: {t2}}}\n",
                    t1 = 40 + n % 50,
                    t2 = 42 + n % 50
                ));
                n += 1;
            }
        }
    }
    let (_, as_of) = period_and_date();
    framework::load(&y, "bench.yaml", as_of)
        .framework
        .expect("the benchmark framework loads")
}
