//! Benchmark (not a timed test): the briefing book for 200 indicators × 10 areas.
//! Run with `cargo bench --bench pdf`; the target is under one second in a release build.

use std::time::{Duration, Instant};

use pmf::render::pdf::{self, fixture};

fn main() {
    // 5 themes × 4 priorities × 10 indicators, one whole area and 9 children.
    let fw = fixture::big_framework(5, 4, 10, 9);
    assert_eq!(fw.indicators.len(), 200);
    assert_eq!(fw.areas.len(), 10);
    let (period, as_of) = fixture::period_and_date();
    let a = fixture::assessment(&fw, period, as_of);
    let b = fixture::briefing(&fw, &a);

    // The first run also parses the embedded fonts once for the process.
    let start = Instant::now();
    let first = pdf::render(&b);
    let cold = start.elapsed();

    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let bytes = pdf::render(&b);
            let t = start.elapsed();
            assert_eq!(bytes, first, "the book is deterministic");
            t
        })
        .collect();
    times.sort();
    println!(
        "pdf: 200 indicators x 10 areas, {} bytes; first {:.0} ms, median {:.0} ms, best {:.0} ms",
        first.len(),
        cold.as_secs_f64() * 1000.0,
        times[times.len() / 2].as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
    );
}
