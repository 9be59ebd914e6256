//! Back-test study of the snapshot forecast selection (SPEC 4.5) on real council series.
//!
//! Not a timing benchmark: it reads the published data in a folder given as an argument (kept
//! outside the repository for licence reasons), builds one series per area and measure, and at
//! every origin with at least two earlier values forecasts the next period (h = 1) with the
//! selection pmf uses, then prints how often each method is chosen and the mean absolute error
//! against "no change" (`last`).
//!
//! ```sh
//! cargo bench --bench backtest -- /work/shared/realdata
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pmf::assess::forecast::{candidate, select, Point};
use pmf::assess::Method;
use pmf::framework::ForecastSettings;
use pmf::period::{Frequency, Period, YearStart};
use rust_decimal::Decimal;

type Series = BTreeMap<String, Vec<Point>>;

fn read(path: &Path) -> Vec<csv::StringRecord> {
    let mut rdr = match csv::Reader::from_path(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("backtest: cannot read {}: {e}", path.display());
            return Vec::new();
        }
    };
    rdr.records().filter_map(Result::ok).collect()
}

fn num(s: &str) -> Option<Decimal> {
    s.trim().parse().ok()
}

fn push(series: &mut Series, key: String, period: Option<Period>, value: Option<Decimal>) {
    if let (Some(p), Some(v)) = (period, value) {
        series.entry(key).or_default().push((p.seq(), v));
    }
}

/// Oflog adult social care: one annual series per local authority and measure code.
fn oflog(dir: &Path) -> Series {
    let mut s = Series::new();
    for r in read(&dir.join("oflog_adult_social_care_ASC_data.csv")) {
        // `2016-17` is the financial year 2016/17
        let year = r
            .get(0)
            .and_then(|y| y.get(..4))
            .and_then(|y| y.parse().ok());
        let period = year.and_then(|y| Period::year_of(YearStart::April, y));
        let key = format!("{}|{}", r.get(1).unwrap_or(""), r.get(7).unwrap_or(""));
        push(&mut s, key, period, r.get(8).and_then(num));
    }
    s
}

/// Trafford planning: one quarterly series per planning authority.
fn planning(dir: &Path) -> Series {
    let mut s = Series::new();
    for r in read(&dir.join("trafford_planning_applications_major_quarterly.csv")) {
        let period = r
            .get(2)
            .and_then(|p| Period::parse(p, YearStart::April, Some(Frequency::Quarterly)).ok());
        push(
            &mut s,
            r.get(0).unwrap_or("").to_string(),
            period,
            r.get(6).and_then(num),
        );
    }
    s
}

/// Trafford crime: one annual series per area and offence group. Only financial years
/// (`2008/09`); the two calendar-year rows (`2018`, `2019`) overlap them and are left out.
fn crime(dir: &Path) -> Series {
    let mut s = Series::new();
    for r in read(&dir.join("trafford_dashboard_crime_rate_csp.csv")) {
        let label = r.get(2).unwrap_or("");
        if !label.contains('/') {
            continue;
        }
        let period = Period::parse(label, YearStart::April, Some(Frequency::Annual)).ok();
        let key = format!("{}|{}", r.get(0).unwrap_or(""), r.get(7).unwrap_or(""));
        push(&mut s, key, period, r.get(3).and_then(num));
    }
    s
}

#[derive(Default)]
struct Tally {
    forecasts: usize,
    chosen: BTreeMap<&'static str, usize>,
    abs: BTreeMap<&'static str, Decimal>,
}

fn study(series: &Series, settings: &ForecastSettings) -> Tally {
    let mut t = Tally::default();
    let w = settings.window as usize;
    for points in series.values() {
        let mut p = points.clone();
        p.sort_by_key(|x| x.0);
        p.dedup_by_key(|x| x.0);
        for i in 2..p.len() {
            let at = p[i].0 + 1;
            let Ok(j) = p.binary_search_by_key(&at, |x| x.0) else {
                continue;
            };
            let history = &p[..=i];
            let window = &history[(i + 1).saturating_sub(w)..];
            let actual = p[j].1;
            let method = select(history, 1, settings);
            t.forecasts += 1;
            *t.chosen.entry(method.as_str()).or_default() += 1;
            let mut add = |name: &'static str, m: Method| {
                if let Some(f) = candidate(m, window, at) {
                    *t.abs.entry(name).or_default() += (actual - f).abs();
                }
            };
            add("chosen", method);
            add("last", Method::Last);
            add("mean (always)", Method::Mean);
            add("trend (always)", Method::Trend);
        }
    }
    t
}

fn report(name: &str, t: &Tally) {
    let last = t.abs.get("last").copied().unwrap_or_default();
    println!("{name}: {} forecasts", t.forecasts);
    let chosen: Vec<String> = t.chosen.iter().map(|(m, n)| format!("{m} {n}")).collect();
    println!("  chosen: {}", chosen.join(", "));
    for k in ["chosen", "mean (always)", "trend (always)"] {
        let a = t.abs.get(k).copied().unwrap_or_default();
        let ratio = if last.is_zero() {
            "-".to_string()
        } else {
            format!("{:.3}", a / last)
        };
        println!("  MAE {k} / MAE last: {ratio}");
    }
}

fn main() {
    let dir: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .or_else(|| std::env::var("PMF_REALDATA").ok())
        .unwrap_or_else(|| "/work/shared/realdata".into())
        .into();
    let settings = ForecastSettings {
        window: 8,
        min_backtests: 4,
        margin: Decimal::new(8, 1),
    };
    let sets = [
        ("Oflog ASC (annual, per LA and measure)", oflog(&dir)),
        (
            "Trafford planning (quarterly, per authority)",
            planning(&dir),
        ),
        ("Trafford crime (annual, per offence group)", crime(&dir)),
    ];
    let mut all = Tally::default();
    for (name, s) in &sets {
        let t = study(s, &settings);
        println!("{name}: {} series", s.len());
        report(name, &t);
        all.forecasts += t.forecasts;
        for (k, v) in t.chosen {
            *all.chosen.entry(k).or_default() += v;
        }
        for (k, v) in t.abs {
            *all.abs.entry(k).or_default() += v;
        }
    }
    report("all", &all);
}
