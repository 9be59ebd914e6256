//! The floor: the least work any tool must do on the returns. It parses every
//! record of the CSV files named on the command line with the `csv` crate
//! (`ByteRecord`, no UTF-8 validation, no allocation per row), parses the
//! `value` column as f64 (skipping cells that are not numbers) and prints the
//! row count and the sum. pmf is quoted as a ratio to this.
//!
//! Usage: floor FILE_OR_DIR...   (a directory means every *.csv in it)

use std::path::PathBuf;

fn main() {
    let mut paths: Vec<PathBuf> = Vec::new();
    for arg in std::env::args_os().skip(1) {
        let p = PathBuf::from(arg);
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&p)
                .expect("read dir")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
                .collect();
            v.sort();
            paths.extend(v);
        } else {
            paths.push(p);
        }
    }
    if paths.is_empty() {
        eprintln!("usage: floor FILE_OR_DIR...");
        std::process::exit(2);
    }
    let mut rows: u64 = 0;
    let mut parsed: u64 = 0;
    let mut sum: f64 = 0.0;
    for path in &paths {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let headers = rdr.byte_headers().expect("header").clone();
        let col = headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(b"value"))
            .expect("no value column");
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).expect("csv") {
            rows += 1;
            if let Some(v) = rec
                .get(col)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| s.parse::<f64>().ok())
            {
                parsed += 1;
                sum += v;
            }
        }
    }
    println!("rows {rows} parsed {parsed} sum {sum}");
}
