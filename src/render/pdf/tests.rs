//! Structural tests of the briefing book on the Riverside example with a fabricated
//! assessment: pages, outline, embedded font, extractable text, determinism. They read the
//! PDF back with poppler's `pdftotext` and `pdfinfo` (installed here and in CI).

use std::path::PathBuf;
use std::process::Command;

use super::fixture;
use crate::framework::{self, Framework};

/// The book's sections, each in the text and in the outline.
const SECTIONS: [&str; 7] = [
    "Contents",
    "Summary",
    "Hot spots",
    "Commendations",
    "By area",
    "Data quality",
    "Method",
];
fn riverside() -> Framework {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/riverside/pmf.yaml");
    let text = std::fs::read_to_string(path).expect("the example framework");
    let (_, as_of) = fixture::period_and_date();
    framework::load(&text, "examples/riverside/pmf.yaml", as_of)
        .framework
        .expect("the example framework loads")
}

fn book() -> (Framework, Vec<u8>) {
    let fw = riverside();
    let (period, as_of) = fixture::period_and_date();
    let a = fixture::assessment(&fw, period, as_of);
    let b = fixture::briefing(&fw, &a);
    let mut out = Vec::new();
    super::write(&b, &mut out).expect("writes into a Vec");
    (fw, out)
}

fn save(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/pdf-tests"));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("writes the PDF");
    path
}

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (poppler-utils) must be installed: {e}"));
    assert!(
        out.status.success(),
        "{cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_book_is_deterministic() {
    let (_, first) = book();
    let (_, second) = book();
    assert!(first == second, "two books from the same view differ");
}

/// The book of the shipped example, through the real pipeline: read, assess, build, render.
fn example_book() -> (Framework, Vec<u8>) {
    let fw = riverside();
    let (period, as_of) = fixture::period_and_date();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/riverside/returns");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the example returns")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    paths.sort();
    let sources = paths
        .iter()
        .map(|p| crate::returns::Source {
            name: p.display().to_string(),
            reader: std::io::BufReader::new(std::fs::File::open(p).expect("a return file")),
        })
        .collect();
    let (returns, diags) = crate::returns::read(&fw, sources, as_of);
    assert!(
        diags.iter().all(|d| !d.is_error()),
        "the example returns are clean"
    );
    let options = crate::assess::Options {
        period,
        as_of,
        focus_area: fw.default_area(),
    };
    let a = crate::assess::assess(&fw, &returns, &options);
    let out = render(&fw, &a);
    (fw, out)
}

/// The book of an assessment, through the real briefing builder with no filters.
fn render(fw: &Framework, a: &crate::assess::Assessment) -> Vec<u8> {
    let b = crate::briefing::build(
        fw,
        a,
        &crate::briefing::Filters::default(),
        Default::default(),
    );
    let mut out = Vec::new();
    super::write(&b, &mut out).expect("writes into a Vec");
    out
}

#[test]
fn the_example_book_has_its_structure_and_is_deterministic() {
    let (fw, bytes) = example_book();
    let (_, again) = example_book();
    assert!(bytes == again, "two books of the example differ");
    check_structure(&fw, &bytes, "riverside-example.pdf", false);
    // A hot spot's forecast with its confidence and its interval (SPEC 4.5): NI 65 at 23.0%
    // against 19.0%, lower is better.
    let path = save("riverside-example-forecast.pdf", &bytes);
    let text = tool(
        "pdftotext",
        &["-layout", path.to_str().expect("utf-8 path"), "-"],
    );
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("23.0% at 2025/26 Q4, off track (0% confidence; likely 22.4% to 24.7%)"),
        "the forecast's interval"
    );
}

#[test]
fn the_book_has_its_structure() {
    let (fw, bytes) = book();
    check_structure(&fw, &bytes, "riverside-briefing.pdf", true);
}

fn check_structure(fw: &Framework, bytes: &[u8], file: &str, glyphs: bool) {
    let bytes = bytes.to_vec();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(bytes.len() < 1_500_000, "the book is {} bytes", bytes.len());
    let path = save(file, &bytes);
    let p = path.to_str().expect("utf-8 path");

    let info = tool("pdfinfo", &[p]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count");
    assert!(pages >= 10, "{pages} pages");
    assert!(
        info.contains("210 x 297 pts") || info.contains("595.276 x 841.89"),
        "{info}"
    );

    let fonts = tool("pdffonts", &[p]);
    assert!(fonts.contains("LiberationSans"), "{fonts}");
    for line in fonts.lines().filter(|l| l.contains("LiberationSans")) {
        assert!(line.contains(" yes "), "font not embedded: {line}");
    }

    let text = tool("pdftotext", &["-layout", p, "-"]);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for title in SECTIONS
        .iter()
        .chain(&["RAG status by theme", "Escalation stage"])
    {
        assert!(flat.contains(title), "missing section {title}");
    }
    assert!(flat.contains(&fw.name), "the framework's name");
    assert!(
        flat.contains(&format!("Page {pages} of {pages}")),
        "the footer"
    );
    for theme in &fw.themes {
        assert!(flat.contains(&theme.name), "theme {}", theme.name);
    }
    // In content order (`-raw`) a name wrapped over several lines of its cell reads whole.
    let raw_text = tool("pdftotext", &["-raw", p, "-"]);
    let raw_flat: String = raw_text.split_whitespace().collect::<Vec<_>>().join(" ");
    for ind in &fw.indicators {
        let name: String = ind.name.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            raw_flat.contains(&name),
            "indicator {} {}",
            ind.code,
            ind.name
        );
        assert!(flat.contains(&ind.code), "indicator code {}", ind.code);
    }
    if glyphs {
        for s in ["£", "–", "≥", "é"] {
            assert!(flat.contains(s), "the glyph {s} is extractable");
        }
    }
    assert!(flat.contains("The lead produces and delivers a detailed action plan."));

    // Outline entries: every section and theme.
    let titles = outline_titles(&bytes);
    for title in SECTIONS {
        assert!(
            titles.iter().any(|t| t == title),
            "bookmark {title} in {titles:?}"
        );
    }
    for theme in &fw.themes {
        assert!(
            titles.contains(&theme.name),
            "bookmark {} in {titles:?}",
            theme.name
        );
    }
}

/// The outline's titles: printpdf writes them as UTF-16BE hex strings, `/Title<FEFF...>`.
fn outline_titles(pdf: &[u8]) -> Vec<String> {
    let raw = String::from_utf8_lossy(pdf);
    raw.split("/Title<FEFF")
        .skip(1)
        .filter_map(|rest| {
            let hex = &rest[..rest.find('>')?];
            let units: Vec<u16> = (0..hex.len() / 4)
                .map(|k| u16::from_str_radix(&hex[k * 4..k * 4 + 4], 16))
                .collect::<Result<_, _>>()
                .ok()?;
            String::from_utf16(&units).ok()
        })
        .collect()
}

#[test]
fn an_empty_briefing_still_makes_a_book() {
    let fw = riverside();
    let (period, as_of) = fixture::period_and_date();
    let a = crate::assess::Assessment {
        period,
        as_of,
        rows: Vec::new(),
    };
    let out = render(&fw, &a);
    assert!(out.starts_with(b"%PDF-"));
    let path = save("empty-briefing.pdf", &out);
    let text = tool("pdftotext", &[path.to_str().expect("utf-8 path"), "-"]);
    assert!(text.contains(&fw.name), "the cover names the framework");
}

#[test]
fn wrapping_keeps_words_whole_and_lines_within_width() {
    let fonts = super::canvas::fonts();
    let text = "Placement moves rose after two residential homes closed – £1.2m ≥ Renée, and averyveryveryverylongwordthatcannotfitonasinglelineatall.";
    for line in fonts.wrap(text, 30.0, 8.0, false) {
        assert!(fonts.width(&line, 8.0, false) <= 30.0 + 1e-3, "{line}");
    }
    let joined = fonts.wrap("one two three four", 1000.0, 8.0, false);
    assert_eq!(joined, vec!["one two three four".to_string()]);
}

/// The benchmark's book (200 indicators × 10 areas), saved for a look:
/// `cargo test --release --lib big_book -- --ignored`.
#[test]
#[ignore = "slow in debug builds; for looking at pages"]
fn big_book() {
    let fw = fixture::big_framework(5, 4, 10, 9);
    let (period, as_of) = fixture::period_and_date();
    let a = fixture::assessment(&fw, period, as_of);
    let b = fixture::briefing(&fw, &a);
    let bytes = super::render(&b);
    let path = save("big-briefing.pdf", &bytes);
    let info = tool("pdfinfo", &[path.to_str().expect("utf-8 path")]);
    assert!(info.contains("Pages:"), "{info}");
}

#[test]
fn the_font_covers_every_character_the_book_uses() {
    let fonts = super::canvas::fonts();
    let used = "£–≥≤−…·•éèçöÉ×|";
    assert_eq!(fonts.clean(used), used, "a glyph is missing");
}

/// Numbers too wide for their column are made smaller, never cut nor run into the next
/// column, and a long theme name wraps rather than running off the page: a budget of
/// £100,000,001.00 in the theme table, read back with its position (`pdftotext -bbox`).
#[test]
fn wide_numbers_and_long_names_stay_inside_the_page_and_their_columns() {
    let (period, as_of) = fixture::period_and_date();
    let long =
        "Resources and value for money across every service of the partnership and its partners";
    let yaml = format!(
        "name: Wide\nthemes:\n  - code: T\n    name: {long}\n    priorities:\n      - code: P\n        name: Budget\n        indicators:\n          - {{code: W1, name: Spend, unit: currency, polarity: lower, lead: {{name: L}}, targets: {{{y}: 89999999.1}}}}\n",
        y = period.year()
    );
    let fw = framework::load(&yaml, "pmf.yaml", as_of)
        .framework
        .expect("loads");
    let csv = format!("indicator,period,value\nW1,{period},100000001\n");
    let sources = vec![crate::returns::Source {
        name: "r.csv".to_string(),
        reader: csv.as_bytes(),
    }];
    let (returns, _) = crate::returns::read(&fw, sources, as_of);
    let options = crate::assess::Options {
        period,
        as_of,
        focus_area: fw.default_area(),
    };
    let a = crate::assess::assess(&fw, &returns, &options);
    let path = save("wide.pdf", &render(&fw, &a));
    let path = path.to_str().expect("utf-8 path");
    // Every word of the long name is in the text (none cut at the page's edge).
    let text = tool("pdftotext", &[path, "-"]);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(long), "the theme's whole name");
    // The word boxes of the theme table's row (the period, the actual and the target on one
    // line): the actual starts after the period ends and ends before the target begins.
    let html = tool("pdftotext", &["-bbox", path, "-"]);
    let boxes = |word: &str| -> Vec<(f32, f32, f32)> {
        html.lines()
            .filter(|l| l.trim_end().ends_with(&format!(">{word}</word>")))
            .map(|l| {
                let attr = |name: &str| -> f32 {
                    let at = l.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
                    l[at..]
                        .split('"')
                        .next()
                        .unwrap_or("")
                        .parse()
                        .expect("a number")
                };
                (attr("xMin"), attr("xMax"), attr("yMax"))
            })
            .collect()
    };
    let quarter = period.to_string();
    let last = quarter.split_whitespace().last().expect("a word");
    let (periods, actuals, targets) = (
        boxes(last),
        boxes("£100,000,001.00"),
        boxes("£89,999,999.10"),
    );
    let row = actuals.iter().find_map(|a| {
        let near = |b: &&(f32, f32, f32)| (b.2 - a.2).abs() < 1.5;
        Some((periods.iter().find(near)?, a, targets.iter().find(near)?))
    });
    let (p, a, t) = row.expect("a row with the period, the actual and the target");
    assert!(a.0 > p.1, "the actual {a:?} starts after the period {p:?}");
    assert!(a.1 < t.0, "the actual {a:?} ends before the target {t:?}");
}

/// Characters the font cannot print are found (the command notes them on stderr): a name in
/// Chinese, an emoji in the framework's name; `£`, `é`, `ŵ` and `–` print.
#[test]
fn characters_the_font_lacks_are_found() {
    let (period, as_of) = fixture::period_and_date();
    let yaml = "name: Plan 😀 £ é ŵ –\nthemes:\n  - code: T\n    name: 中文\n    priorities:\n      - code: P\n        name: P\n        indicators:\n          - {code: I1, name: One, polarity: higher, lead: {name: L}}\n";
    let fw = framework::load(yaml, "pmf.yaml", as_of)
        .framework
        .expect("loads");
    let a = fixture::assessment(&fw, period, as_of);
    let b = fixture::briefing(&fw, &a);
    assert_eq!(super::unprintable(&b), vec!['😀', '中', '文']);
}
