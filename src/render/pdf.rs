//! The briefing book (SPEC 5 pdf): the shared [`Briefing`] view laid out on A4 pages for a
//! board, read on paper and on screen. Cover, contents with bookmarks, summary, hot spots,
//! commendations, one section per theme and priority, the area matrix, data quality and the
//! method.
//!
//! It formats; it never computes a rule. RAG, stages, forecasts and counts come from the view.
//! The only arithmetic here is geometry (where a point of a sparkline falls). Output is
//! byte-identical for the same view: fixed font IDs, fixed dates, a content-hashed document ID.

mod canvas;
#[doc(hidden)]
pub mod fixture;
#[cfg(test)]
mod tests;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::assess::{Direction, Forecast, Point, Rag, Row};
use crate::briefing::Briefing;
use crate::framework::{Framework, Indicator, RagKind, Unit};

use canvas::{
    Align, Canvas, Rgb3, TableHead, ACCENT, BODY_BOTTOM, BODY_TOP, BODY_W, INK, MARGIN, MUTED,
    PAGE_H, PAGE_W, RULE, SHADE, WHITE,
};

/// The name and required action of an escalation stage (SPEC 4.4).
pub fn stage_action(stage: u8) -> (&'static str, &'static str) {
    match stage {
        0 => ("On target", "On or above target"),
        1 => (
            "Identification",
            "The lead identifies and undertakes remedial action.",
        ),
        2 => (
            "Action",
            "The lead produces and delivers a detailed action plan.",
        ),
        _ => (
            "Intervention",
            "The board reviews, reallocates resources or proposes a target change.",
        ),
    }
}

/// Writes the briefing book as a PDF.
pub fn write(briefing: &Briefing, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    out.write_all(&render(briefing))
}

/// The characters of the book's text that its font cannot print (they are printed as `?`),
/// in order, each once: from the framework's names and the shown rows' commentary, so that the
/// command can say so (a board member would otherwise find a `?` where a name was).
pub fn unprintable(b: &Briefing) -> Vec<char> {
    let fw = b.framework;
    let fonts = canvas::fonts();
    let mut texts: Vec<&str> = vec![fw.name.as_str()];
    texts.extend(fw.partnership.as_deref());
    texts.extend(fw.areas.iter().map(|a| a.name.as_str()));
    texts.extend(fw.organisations.iter().map(|o| o.name.as_str()));
    for t in &fw.themes {
        texts.push(&t.name);
        texts.extend(t.priorities.iter().map(|p| p.name.as_str()));
    }
    for i in &fw.indicators {
        texts.push(&i.code);
        texts.push(&i.name);
        texts.extend(i.lead.as_ref().map(|l| l.name.as_str()));
    }
    texts.extend(
        b.assessment
            .rows
            .iter()
            .filter_map(|r| r.commentary.as_deref()),
    );
    let mut seen = std::collections::BTreeSet::new();
    texts
        .iter()
        .flat_map(|t| t.chars())
        .filter(|&c| fonts.lacks(c))
        .filter(|&c| seen.insert(c))
        .collect()
}

/// The briefing book's bytes.
pub fn render(b: &Briefing) -> Vec<u8> {
    let mut book = Book {
        b,
        fw: b.framework,
        c: Canvas::new(),
    };
    book.cover();
    let body_start = book.c.page_count();
    book.summary();
    book.hot_spots();
    book.commendations();
    for s in 0..b.sections.len() {
        book.theme(s);
    }
    book.by_area();
    book.quality();
    book.method();
    book.contents(body_start);
    let header = format!("{} · {}", b.framework.name, b.assessment.period);
    let produced = format!("Produced {}", long_date(b.assessment.as_of));
    book.c.each_page(1, |c, i, n| {
        c.text(
            MARGIN,
            13.0,
            &c.fonts.fit(&header, 140.0, 7.5, false),
            7.5,
            false,
            MUTED,
        );
        c.text_at(
            PAGE_W - MARGIN,
            13.0,
            "Performance briefing book",
            7.5,
            true,
            ACCENT,
            Align::Right,
        );
        c.hrule(15.5, RULE, 0.25);
        c.hrule(BODY_BOTTOM + 6.0, RULE, 0.25);
        c.text(MARGIN, BODY_BOTTOM + 10.5, &produced, 7.5, false, MUTED);
        c.text_at(
            PAGE_W - MARGIN,
            BODY_BOTTOM + 10.5,
            &format!("Page {} of {}", i + 1, n),
            7.5,
            false,
            MUTED,
            Align::Right,
        );
    });
    book.c.finish(&b.framework.name, b.assessment.as_of)
}

struct Book<'a> {
    b: &'a Briefing<'a>,
    fw: &'a Framework,
    c: Canvas,
}

// ---------------------------------------------------------------------------------------
// Formatting: the view's values as the board reads them.

fn long_date(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// A value at the indicator's precision, with its unit.
fn num(v: Decimal, ind: &Indicator) -> String {
    let r = v.round_dp_with_strategy(ind.decimals, RoundingStrategy::MidpointAwayFromZero);
    let plain = format!("{:.*}", ind.decimals as usize, r);
    let (neg, digits) = match plain.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, plain.as_str()),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::new();
    for (k, ch) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if let Some(f) = frac {
        grouped.push('.');
        grouped.push_str(f);
    }
    let sign = if neg { "−" } else { "" };
    match ind.unit {
        Unit::Percent => format!("{sign}{grouped}%"),
        Unit::Currency => format!("{sign}£{grouped}"),
        Unit::Days => format!("{sign}{grouped} days"),
        _ => format!("{sign}{grouped}"),
    }
}

fn opt_num(v: Option<Decimal>, ind: &Indicator) -> String {
    v.map(|v| num(v, ind)).unwrap_or_else(|| "–".to_string())
}

fn rag_word(rag: Rag) -> &'static str {
    match rag {
        Rag::Red => "Red",
        Rag::Amber => "Amber",
        Rag::Green => "Green",
        Rag::Blue => "Blue",
        Rag::NA => "N/A",
    }
}

fn rag_letter(rag: Rag) -> &'static str {
    match rag {
        Rag::Red => "R",
        Rag::Amber => "A",
        Rag::Green => "G",
        Rag::Blue => "B",
        Rag::NA => "–",
    }
}

fn rag_colour(rag: Rag) -> Rgb3 {
    match rag {
        Rag::Red => Rgb3::hex(0xC0392B),
        Rag::Amber => Rgb3::hex(0xE08E0B),
        Rag::Green => Rgb3::hex(0x2E7D32),
        Rag::Blue => Rgb3::hex(0x1F5FA8),
        Rag::NA => Rgb3::hex(0xB0B4BA),
    }
}

fn dir_word(d: Direction) -> &'static str {
    match d {
        Direction::Improving => "Improving",
        Direction::Worsening => "Worsening",
        Direction::NoChange => "No change",
        Direction::NA => "n/a",
    }
}

fn forecast_verdict(f: &Forecast) -> &'static str {
    match f.on_track {
        Some(true) => "on track",
        Some(false) => "off track",
        None => "no target",
    }
}

// ---------------------------------------------------------------------------------------
// Marks: the RAG badge, the direction arrow, the sparkline.

impl Book<'_> {
    /// The RAG badge: a coloured shape with its letter, then the word. In grey the word and
    /// the shape (a square for Red, a diamond for Amber, a circle for Green and Blue) carry it.
    fn rag_badge(&mut self, x: f32, y_mid: f32, rag: Rag, size: f32, word: bool) {
        let r = size * 0.24;
        let col = rag_colour(rag);
        match rag {
            Rag::Red => self.c.rect(x, y_mid - r, 2.0 * r, 2.0 * r, col),
            Rag::Amber => self.c.fill_poly(
                &[
                    (x + r, y_mid - r * 1.2),
                    (x + 2.0 * r * 1.1, y_mid),
                    (x + r, y_mid + r * 1.2),
                    (x - 0.1 * r, y_mid),
                ],
                col,
            ),
            _ => self.c.dot(x + r, y_mid, r, col),
        }
        let letter = rag_letter(rag);
        self.c.text_at(
            x + r,
            y_mid + size * 0.12,
            letter,
            size * 0.62,
            true,
            if rag == Rag::NA { INK } else { WHITE },
            Align::Centre,
        );
        if word {
            self.c.text(
                x + 2.0 * r + 1.2,
                y_mid + size * 0.125,
                rag_word(rag),
                size,
                false,
                INK,
            );
        }
    }

    /// Direction of travel: an up triangle improving, down worsening, a bar for no change.
    fn arrow(&mut self, x: f32, y_mid: f32, d: Direction, size: f32, word: bool) {
        let s = size * 0.2;
        match d {
            Direction::Improving => self.c.fill_poly(
                &[(x, y_mid + s), (x + 2.0 * s, y_mid + s), (x + s, y_mid - s)],
                rag_colour(Rag::Green),
            ),
            Direction::Worsening => self.c.fill_poly(
                &[(x, y_mid - s), (x + 2.0 * s, y_mid - s), (x + s, y_mid + s)],
                rag_colour(Rag::Red),
            ),
            Direction::NoChange => self.c.rect(x, y_mid - s * 0.35, 2.0 * s, s * 0.7, MUTED),
            Direction::NA => {}
        }
        if word {
            self.c.text(
                x + 2.0 * s + 1.2,
                y_mid + size * 0.125,
                dir_word(d),
                size,
                false,
                INK,
            );
        }
    }

    /// A trend chart of `history` in the box (x, y, w, h): the values as a line with dots,
    /// the target as a dashed line, the last point in its RAG colour. With `labels`, the
    /// first and last periods and the value range are written beside it.
    fn trend(&mut self, x: f32, y: f32, w: f32, h: f32, row: &Row, labels: bool) {
        let ind = &self.fw.indicators[row.indicator];
        let hist: &[Point] = &row.history;
        let vals: Vec<f64> = hist
            .iter()
            .flat_map(|p| [p.value, p.target])
            .flatten()
            .filter_map(|d| d.to_f64())
            .collect();
        if labels {
            self.c.rect(x, y, w, h, SHADE);
        }
        if hist.is_empty() || vals.is_empty() {
            self.c.text_at(
                x + w / 2.0,
                y + h / 2.0 + 1.0,
                "no data",
                6.5,
                false,
                MUTED,
                Align::Centre,
            );
            return;
        }
        let (mut lo, mut hi) = vals
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        if (hi - lo).abs() < 1e-9 {
            lo -= 1.0;
            hi += 1.0;
        }
        let pad = (hi - lo) * 0.12;
        let (lo, hi) = (lo - pad, hi + pad);
        let (px, pw) = if labels { (x + 3.0, w - 6.0) } else { (x, w) };
        let (py, ph) = if labels { (y + 3.0, h - 8.0) } else { (y, h) };
        let n = hist.len().max(2) as f32 - 1.0;
        let fx = |i: usize| px + pw * i as f32 / n;
        let fy = |v: f64| py + ph - ((v - lo) / (hi - lo)) as f32 * ph;
        // Target: dashed, stepping where it changes.
        let mut seg: Vec<(f32, f32)> = Vec::new();
        let mut segs = Vec::new();
        for (i, p) in hist.iter().enumerate() {
            match p.target.and_then(|t| t.to_f64()) {
                Some(t) => {
                    if let Some(&(_, ly)) = seg.last() {
                        if (ly - fy(t)).abs() > 0.01 {
                            seg.push((fx(i), ly));
                        }
                    }
                    seg.push((fx(i), fy(t)));
                }
                None => segs.push(std::mem::take(&mut seg)),
            }
        }
        segs.push(seg);
        for s in segs {
            if s.len() == 1 {
                let (sx, sy) = s[0];
                self.c
                    .polyline(&[(sx - 1.0, sy), (sx + 1.0, sy)], MUTED, 0.3, true);
            } else {
                self.c.polyline(&s, MUTED, 0.3, true);
            }
        }
        // Values: solid, broken at gaps.
        let mut run: Vec<(f32, f32)> = Vec::new();
        let mut pts = Vec::new();
        for (i, p) in hist.iter().enumerate() {
            match p.value.and_then(|v| v.to_f64()) {
                Some(v) => {
                    run.push((fx(i), fy(v)));
                    pts.push((fx(i), fy(v)));
                }
                None => {
                    self.c.polyline(&run, ACCENT, 0.45, false);
                    run.clear();
                }
            }
        }
        self.c.polyline(&run, ACCENT, 0.45, false);
        let r = if labels { 0.7 } else { 0.45 };
        for &(qx, qy) in &pts {
            self.c.dot(qx, qy, r, ACCENT);
        }
        if let (Some(last), Some(v)) = (hist.last(), row.value) {
            if last.period == row.period {
                if let Some(v) = v.to_f64() {
                    self.c
                        .dot(fx(hist.len() - 1), fy(v), r * 1.7, rag_colour(row.rag));
                }
            }
        }
        if labels {
            let first = hist[0].period.to_string();
            let last = hist[hist.len() - 1].period.to_string();
            self.c.text(x + 1.0, y + h - 1.2, &first, 6.0, false, MUTED);
            self.c.text_at(
                x + w - 1.0,
                y + h - 1.2,
                &last,
                6.0,
                false,
                MUTED,
                Align::Right,
            );
            let top = Decimal::from_f64_retain(hi)
                .map(|d| num(d, ind))
                .unwrap_or_default();
            let bottom = Decimal::from_f64_retain(lo)
                .map(|d| num(d, ind))
                .unwrap_or_default();
            self.c.text(x + 1.0, y + 2.6, &top, 5.5, false, MUTED);
            self.c
                .text(x + 1.0, y + h - 4.2, &bottom, 5.5, false, MUTED);
            self.c.text_at(
                x + w - 1.0,
                y + 2.6,
                "- - target",
                5.5,
                false,
                MUTED,
                Align::Right,
            );
        }
    }

    // -----------------------------------------------------------------------------------
    // Headings.

    /// A top-level section on a new page, in the contents and the outline.
    fn section(&mut self, title: &str, intro: &str) {
        self.c.close_table();
        self.c.new_page();
        self.c.mark(title, 0, true);
        self.c.y += 8.0;
        // Wrapped: a long theme name is never cut at the page's edge.
        let lines = self.c.fonts.wrap(title, BODY_W, 18.0, true);
        for (k, line) in lines.iter().enumerate() {
            if k > 0 {
                self.c.y += 7.4;
            }
            self.c.text(MARGIN, self.c.y, line, 18.0, true, ACCENT);
        }
        self.c.y += 3.0;
        self.c.polyline(
            &[(MARGIN, self.c.y), (MARGIN + 25.0, self.c.y)],
            ACCENT,
            0.9,
            false,
        );
        self.c.y += 2.0;
        if !intro.is_empty() {
            self.c
                .paragraph(MARGIN, BODY_W, intro, 9.0, false, MUTED, 4.6);
        }
        self.c.y += 3.0;
    }

    fn subheading(&mut self, title: &str, level: u8) {
        self.c.ensure(22.0);
        self.c.y += 4.0;
        self.c
            .paragraph(MARGIN, BODY_W, title, 11.0, true, INK, 5.2);
        self.c.mark(title, level, false);
        self.c.y += 1.5;
    }

    // -----------------------------------------------------------------------------------
    // Cover and contents.

    fn cover(&mut self) {
        let b = self.b;
        self.c.new_page();
        self.c.rect(0.0, 0.0, PAGE_W, 8.0, ACCENT);
        let x = MARGIN + 4.0;
        self.c.y = 70.0;
        self.c
            .text(x, self.c.y, "PERFORMANCE BRIEFING BOOK", 10.0, true, ACCENT);
        self.c.y += 6.0;
        self.c
            .paragraph(x, BODY_W - 8.0, &self.fw.name, 24.0, true, INK, 10.5);
        if let Some(p) = &self.fw.partnership {
            self.c.y += 2.0;
            self.c
                .paragraph(x, BODY_W - 8.0, p, 14.0, false, MUTED, 6.5);
        }
        self.c.y += 14.0;
        let area = &self.fw.areas[b.area];
        let facts = [
            ("Period", b.assessment.period.to_string()),
            ("Area", format!("{} ({})", area.name, area.code)),
            ("Produced", long_date(b.assessment.as_of)),
            ("Indicators", b.counts.total().to_string()),
        ];
        for (k, v) in facts {
            self.c.text(x, self.c.y, k, 9.0, false, MUTED);
            self.c.text(x + 30.0, self.c.y, &v, 12.0, true, INK);
            self.c.y += 8.0;
        }
        self.c.y += 6.0;
        let y = self.c.y;
        let mut bx = x;
        for rag in Rag::ALL {
            let n = b.counts.get(rag);
            self.rag_badge(bx, y, rag, 10.0, false);
            self.c.text(
                bx + 6.0,
                y + 1.3,
                &format!("{} {}", n, rag_word(rag)),
                10.0,
                false,
                INK,
            );
            bx += 32.0;
        }
        self.c.text(
            MARGIN,
            PAGE_H - 22.0,
            "RAG: Red (square), Amber (diamond), Green and Blue (circle), each with its letter and word, so the book reads in grey.",
            7.0,
            false,
            MUTED,
        );
    }

    /// Writes the contents on pages inserted after the cover, once every page is known.
    fn contents(&mut self, at: usize) {
        let marks = self.c.marks.clone();
        let per_page = ((BODY_BOTTOM - BODY_TOP - 20.0) / 6.2) as usize;
        let n_pages = marks.len().div_ceil(per_page).max(1);
        self.c.insert_pages(at, n_pages);
        let marks = self.c.marks.clone();
        for (k, chunk) in marks.chunks(per_page).enumerate() {
            self.c.on_page(at + k, |c| {
                c.y = BODY_TOP;
                if k == 0 {
                    c.y += 8.0;
                    c.text(MARGIN, c.y, "Contents", 18.0, true, ACCENT);
                    c.y += 3.0;
                    c.polyline(&[(MARGIN, c.y), (MARGIN + 25.0, c.y)], ACCENT, 0.9, false);
                    c.y += 8.0;
                }
                for m in chunk {
                    let (x, size, bold) = if m.level == 0 {
                        (MARGIN, 10.0, true)
                    } else {
                        (MARGIN + 6.0, 9.0, false)
                    };
                    if m.level == 0 {
                        c.y += 1.5;
                    }
                    let num = (m.page + 1).to_string();
                    let title = c
                        .fonts
                        .fit(&m.title, BODY_W - 30.0 - (x - MARGIN), size, bold);
                    c.text(x, c.y, &title, size, bold, INK);
                    let tw = c.fonts.width(&title, size, bold);
                    c.polyline(
                        &[
                            (x + tw + 2.0, c.y - 0.3),
                            (PAGE_W - MARGIN - 10.0, c.y - 0.3),
                        ],
                        RULE,
                        0.3,
                        true,
                    );
                    c.text_at(PAGE_W - MARGIN, c.y, &num, size, bold, INK, Align::Right);
                    c.link(MARGIN, c.y - 4.0, BODY_W, 5.5, m.page);
                    c.y += 4.7;
                }
            });
        }
        // The contents page is itself in the outline, after the cover.
        self.c.marks.push(canvas::Mark {
            title: "Contents".to_string(),
            level: 0,
            page: at,
            bookmark: true,
        });
    }

    // -----------------------------------------------------------------------------------
    // Summary.

    fn summary(&mut self) {
        let b = self.b;
        let area = &self.fw.areas[b.area].name;
        let intro = format!(
            "{} indicators for {} at {}. Counts, hot spots and commendations below are those of the rows in this book.",
            b.counts.total(),
            area,
            b.assessment.period
        );
        self.section("Summary", &intro);
        // Tiles: one per RAG.
        let tile_w = (BODY_W - 4.0 * 3.0) / 5.0;
        let y = self.c.y;
        for (k, rag) in Rag::ALL.into_iter().enumerate() {
            let x = MARGIN + k as f32 * (tile_w + 3.0);
            self.c.rect(x, y, tile_w, 20.0, SHADE);
            self.c.rect(x, y, 1.2, 20.0, rag_colour(rag));
            self.c.text(
                x + 4.0,
                y + 10.0,
                &b.counts.get(rag).to_string(),
                18.0,
                true,
                INK,
            );
            self.rag_badge(x + 4.0, y + 15.5, rag, 8.0, true);
        }
        self.c.y = y + 28.0;

        // Stacked bars by theme.
        self.c
            .text(MARGIN, self.c.y, "RAG status by theme", 11.0, true, INK);
        self.c.y += 6.0;
        let label_w = 52.0;
        let bar_x = MARGIN + label_w + 2.0;
        let bar_w = BODY_W - label_w - 14.0;
        let max_total = b
            .sections
            .iter()
            .map(|s| s.counts.total())
            .max()
            .unwrap_or(0)
            .max(1);
        for s in &b.sections {
            let theme = &self.fw.themes[s.theme];
            let lines = self.c.fonts.wrap(&theme.name, label_w, 8.5, false);
            let row_h = (lines.len() as f32 * 3.8).max(7.0) + 2.0;
            self.c.ensure(row_h);
            let y = self.c.y;
            for (k, l) in lines.iter().enumerate() {
                self.c
                    .text(MARGIN, y + 3.8 + k as f32 * 3.8, l, 8.5, false, INK);
            }
            let mut x = bar_x;
            for rag in Rag::ALL {
                let n = s.counts.get(rag);
                if n == 0 {
                    continue;
                }
                let w = bar_w * n as f32 / max_total as f32;
                self.c.rect(x, y, w, 6.0, rag_colour(rag));
                let label = format!("{} {}", rag_letter(rag), n);
                if self.c.fonts.width(&label, 7.0, true) + 1.5 < w {
                    let col = if rag == Rag::NA { INK } else { WHITE };
                    self.c
                        .text_at(x + w / 2.0, y + 4.1, &label, 7.0, true, col, Align::Centre);
                }
                x += w;
                // A white hairline between segments keeps them apart in grey.
                self.c.rect(x - 0.15, y, 0.3, 6.0, WHITE);
            }
            self.c.text(
                x + 1.5,
                y + 4.1,
                &s.counts.total().to_string(),
                8.0,
                true,
                MUTED,
            );
            self.c.y = y + row_h;
        }
        // Legend.
        self.c.y += 1.0;
        let mut x = bar_x;
        for rag in Rag::ALL {
            self.rag_badge(x, self.c.y, rag, 7.5, true);
            x += 22.0;
        }
        self.c.y += 9.0;

        // Escalation stages.
        self.c.ensure(40.0);
        self.c
            .text(MARGIN, self.c.y, "Escalation stage", 11.0, true, INK);
        self.c.y += 4.0;
        let w = (BODY_W - 3.0 * 3.0) / 4.0;
        let y = self.c.y;
        let wrapped: Vec<Vec<String>> = (0..4u8)
            .map(|st| self.c.fonts.wrap(stage_action(st).1, w - 6.0, 7.0, false))
            .collect();
        let max_h = 17.0 + wrapped.iter().map(Vec::len).max().unwrap_or(0) as f32 * 3.2;
        for (st, lines) in (0..4u8).zip(&wrapped) {
            let x = MARGIN + st as f32 * (w + 3.0);
            let name = stage_action(st).0;
            self.c.rect(x, y, w, max_h, SHADE);
            let shade = [0.75, 0.55, 0.35, 0.15][st as usize];
            self.c.rect(x, y, w, 1.0, Rgb3(shade, shade, shade));
            self.c.text(
                x + 3.0,
                y + 9.0,
                &b.stages[st as usize].to_string(),
                16.0,
                true,
                INK,
            );
            self.c
                .text(x + 14.0, y + 8.5, &format!("Stage {st}"), 7.5, true, MUTED);
            self.c.text(x + 3.0, y + 13.5, name, 8.0, true, INK);
            for (k, l) in lines.iter().enumerate() {
                self.c
                    .text(x + 3.0, y + 17.0 + k as f32 * 3.2, l, 7.0, false, MUTED);
            }
        }
        self.c.y = y + max_h + 8.0;

        // Returns and the lists to read.
        self.c.ensure(30.0);
        self.c
            .text(MARGIN, self.c.y, "Returns and attention", 11.0, true, INK);
        self.c.y += 2.0;
        let challenges = b
            .sections
            .iter()
            .flat_map(|s| s.priorities.iter().flat_map(|p| p.rows.iter()))
            .filter(|&&r| b.assessment.rows[r].challenge == Some(true))
            .count();
        let facts = [
            ("Missing returns", b.quality.missing),
            ("Late returns", b.quality.late),
            ("Invalid rows left out", b.quality.invalid),
            ("Hot spots", b.exceptions.len()),
            ("Forecast challenges", challenges),
            ("Commendations", b.commendations.len()),
        ];
        let w = (BODY_W - 5.0 * 2.0) / 6.0;
        let y = self.c.y + 2.0;
        for (k, (label, n)) in facts.iter().enumerate() {
            let x = MARGIN + k as f32 * (w + 2.0);
            self.c.rect(x, y, w, 15.0, SHADE);
            self.c
                .text(x + 2.5, y + 7.5, &n.to_string(), 14.0, true, INK);
            for (j, l) in self
                .c
                .fonts
                .wrap(label, w - 4.0, 6.5, false)
                .iter()
                .enumerate()
                .take(2)
            {
                self.c
                    .text(x + 2.5, y + 11.0 + j as f32 * 2.8, l, 6.5, false, MUTED);
            }
        }
        self.c.y = y + 22.0;
        self.glance();
    }

    /// The worst hot spots, as many as fit on the summary page.
    fn glance(&mut self) {
        let b = self.b;
        if b.exceptions.is_empty() || self.c.y + 30.0 > BODY_BOTTOM {
            return;
        }
        self.c.y += 4.0;
        self.c
            .text(MARGIN, self.c.y, "Hot spots at a glance", 11.0, true, INK);
        self.c.y += 3.0;
        let room = ((BODY_BOTTOM - self.c.y - 12.0) / 5.2).max(0.0) as usize;
        let shown = b.exceptions.len().min(room);
        for &r in &b.exceptions[..shown] {
            let row = &b.assessment.rows[r];
            let ind = &self.fw.indicators[row.indicator];
            let y = self.c.y;
            self.rag_badge(MARGIN + 1.0, y + 2.4, row.rag, 7.5, false);
            self.c
                .text(MARGIN + 6.0, y + 3.5, &ind.code, 7.5, true, INK);
            let name = self.c.fonts.fit(&ind.name, 100.0, 7.5, false);
            self.c.text(MARGIN + 24.0, y + 3.5, &name, 7.5, false, INK);
            let mut tag = format!("Stage {} {}", row.stage, stage_action(row.stage).0);
            if row.challenge == Some(true) {
                tag.push_str(" · challenge");
            }
            self.c.text_at(
                PAGE_W - MARGIN,
                y + 3.5,
                &tag,
                7.5,
                true,
                MUTED,
                Align::Right,
            );
            self.c.y = y + 5.2;
            self.c.hrule(self.c.y, SHADE, 0.2);
        }
        if shown < b.exceptions.len() {
            self.c.y += 4.0;
            let more = format!(
                "and {} more in the Hot spots section.",
                b.exceptions.len() - shown
            );
            self.c.text(MARGIN, self.c.y, &more, 7.5, false, MUTED);
        }
    }

    // -----------------------------------------------------------------------------------
    // Hot spots and commendations.

    fn hot_spots(&mut self) {
        let b = self.b;
        let intro = if b.exceptions.is_empty() {
            "No indicator is below target or carries a forecast challenge."
        } else {
            "Indicators below target (escalation stage 1 or more) or whose forecast the lead's own prediction contradicts, worst stage first."
        };
        self.section("Hot spots", intro);
        for &r in &b.exceptions {
            self.hot_spot(r);
        }
    }

    fn hot_spot(&mut self, r: usize) {
        let row = &self.b.assessment.rows[r];
        let ind = &self.fw.indicators[row.indicator];
        let title = format!("{}  {}", ind.code, ind.name);
        let title_lines = self.c.fonts.wrap(&title, BODY_W - 44.0, 10.0, true);
        let commentary = row.commentary.clone().unwrap_or_default();
        let com_lines = if commentary.is_empty() {
            0
        } else {
            self.c
                .fonts
                .wrap(&commentary, BODY_W - 6.0, 8.5, false)
                .len()
        };
        let head_h = 4.0 + title_lines.len() as f32 * 4.6 + 2.0;
        let body_h = 40.0;
        // Keep the title, facts, chart and the first lines of commentary together.
        self.c
            .ensure(head_h + body_h + 12.0 + (com_lines.min(3) as f32) * 4.0);
        let y0 = self.c.y;
        self.c.rect(MARGIN, y0, BODY_W, head_h, SHADE);
        let stage_col =
            Rgb3::hex([0x9E9E9E, 0xE08E0B, 0xD35400, 0xC0392B][row.stage.min(3) as usize]);
        self.c.rect(MARGIN, y0, 1.5, head_h, stage_col);
        for (k, l) in title_lines.iter().enumerate() {
            self.c
                .text(MARGIN + 4.0, y0 + 5.5 + k as f32 * 4.6, l, 10.0, true, INK);
        }
        let (sname, action) = stage_action(row.stage);
        let stage_label = format!("Stage {} · {}", row.stage, sname);
        self.c.text_at(
            PAGE_W - MARGIN - 3.0,
            y0 + 5.5,
            &stage_label,
            8.5,
            true,
            stage_col,
            Align::Right,
        );
        if row.challenge == Some(true) {
            self.c.text_at(
                PAGE_W - MARGIN - 3.0,
                y0 + 9.5,
                "Challenge",
                8.0,
                true,
                rag_colour(Rag::Red),
                Align::Right,
            );
        }
        let y = y0 + head_h + 3.0;
        // Facts on the left, chart on the right.
        let area = &self.fw.areas[row.area].name;
        let lead = lead_text(self.fw, ind);
        let fc = row
            .forecast
            .as_ref()
            .map(|f| forecast_text(f, ind))
            .unwrap_or_else(|| "none".to_string());
        let facts: Vec<(&str, String)> = vec![
            ("Area · period", format!("{} · {}", area, row.period)),
            ("Actual", opt_num(row.value, ind)),
            ("Target", opt_num(row.target, ind)),
            ("Forecast", fc),
            ("Lead", lead),
            (
                "Lead predicts",
                row.prediction
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "–".to_string()),
            ),
        ];
        let fx = MARGIN + 2.0;
        let mut fy = y + 3.0;
        for (k, v) in &facts {
            self.c.text(fx, fy, k, 7.5, false, MUTED);
            let lines = self.c.fonts.wrap(v, 62.0, 8.5, true);
            for (j, l) in lines.iter().enumerate().take(2) {
                self.c
                    .text(fx + 25.0, fy + j as f32 * 3.8, l, 8.5, true, INK);
            }
            fy += 3.8 * lines.len().min(2) as f32 + 1.4;
        }
        self.c.text(fx, fy, "RAG · direction", 7.5, false, MUTED);
        self.rag_badge(fx + 25.0, fy - 1.1, row.rag, 8.5, true);
        self.arrow(fx + 48.0, fy - 1.1, row.direction, 8.5, true);
        fy += 4.0;
        let chart_x = MARGIN + 95.0;
        self.trend(chart_x, y, BODY_W - 95.0, 34.0, row, true);
        self.c.y = fy.max(y + 36.0) + 1.0;
        // Required action.
        self.c.text(
            MARGIN + 2.0,
            self.c.y + 3.0,
            "Required action",
            7.5,
            true,
            stage_col,
        );
        let lines = self.c.fonts.wrap(action, BODY_W - 30.0, 8.5, true);
        for (j, l) in lines.iter().enumerate() {
            self.c.text(
                MARGIN + 27.0,
                self.c.y + 3.0 + j as f32 * 3.8,
                l,
                8.5,
                true,
                INK,
            );
        }
        self.c.y += 3.8 * lines.len() as f32 + 1.5;
        if row.challenge == Some(true) {
            let note = format!(
                "Challenge: the lead predicts \"{}\" but the forecast is {}. The board should ask why.",
                row.prediction.map(|p| p.as_str()).unwrap_or(""),
                row.forecast.as_ref().map(forecast_verdict).unwrap_or("not made")
            );
            self.c.paragraph(
                MARGIN + 2.0,
                BODY_W - 4.0,
                &note,
                8.0,
                false,
                rag_colour(Rag::Red),
                3.8,
            );
        }
        if !commentary.is_empty() {
            self.c.cont = Some(format!("{title} (continued)"));
            self.c.paragraph(
                MARGIN + 2.0,
                BODY_W - 6.0,
                &commentary,
                8.5,
                false,
                INK,
                4.0,
            );
            self.c.cont = None;
        }
        self.c.y += 3.0;
        self.c.hrule(self.c.y, RULE, 0.3);
        self.c.y += 4.0;
    }

    fn commendations(&mut self) {
        let b = self.b;
        let intro = if b.commendations.is_empty() {
            "No indicator is Blue or has improved two periods running."
        } else {
            "Indicators well above target (Blue) or improving for two periods running."
        };
        self.section("Commendations", intro);
        for &r in &b.commendations {
            let row = &b.assessment.rows[r];
            let ind = &self.fw.indicators[row.indicator];
            let title = format!("{}  {}", ind.code, ind.name);
            let lines = self.c.fonts.wrap(&title, BODY_W - 60.0, 9.0, true);
            self.c.ensure(lines.len() as f32 * 4.2 + 12.0);
            let y = self.c.y + 4.0;
            for (k, l) in lines.iter().enumerate() {
                self.c.text(MARGIN, y + k as f32 * 4.2, l, 9.0, true, INK);
            }
            self.rag_badge(PAGE_W - MARGIN - 52.0, y - 1.2, row.rag, 8.0, true);
            self.arrow(PAGE_W - MARGIN - 30.0, y - 1.2, row.direction, 8.0, true);
            self.c.y = y + (lines.len() as f32 - 1.0) * 4.2 + 1.0;
            let facts = format!(
                "{} · {} · actual {} against {} · {}",
                self.fw.areas[row.area].name,
                row.period,
                opt_num(row.value, ind),
                opt_num(row.target, ind),
                lead_text(self.fw, ind)
            );
            self.c
                .paragraph(MARGIN, BODY_W, &facts, 8.0, false, MUTED, 3.8);
            if let Some(com) = &row.commentary {
                self.c.paragraph(MARGIN, BODY_W, com, 8.5, false, INK, 4.0);
            }
            self.c.y += 2.0;
            self.c.hrule(self.c.y, RULE, 0.25);
            self.c.y += 1.0;
        }
    }

    // -----------------------------------------------------------------------------------
    // Theme sections.

    fn theme(&mut self, s: usize) {
        let b = self.b;
        let sec = &b.sections[s];
        let theme = &self.fw.themes[sec.theme];
        let counts = Rag::ALL
            .iter()
            .filter(|&&r| sec.counts.get(r) > 0)
            .map(|&r| format!("{} {}", sec.counts.get(r), rag_word(r)))
            .collect::<Vec<_>>()
            .join(" · ");
        let intro = format!(
            "Theme {} · {} indicators: {}",
            theme.code,
            sec.counts.total(),
            counts
        );
        self.section(&theme.name, &intro);
        for p in &sec.priorities {
            let pr = &theme.priorities[p.priority];
            self.subheading(&format!("{} {}", pr.code, pr.name), 1);
            let head = TableHead {
                caption: format!("{} · {} (continued)", theme.name, pr.name),
                columns: COLS
                    .iter()
                    .map(|&(x, w, l, a)| (MARGIN + x, w, l.to_string(), a))
                    .collect(),
            };
            self.c.open_table(head, 14.0);
            for &r in &p.rows {
                self.indicator_row(r);
            }
            self.c.close_table();
            self.c.y += 2.0;
        }
    }

    fn indicator_row(&mut self, r: usize) {
        let row = &self.b.assessment.rows[r];
        let ind = &self.fw.indicators[row.indicator];
        let size = 7.5;
        let lh = 3.4;
        let name_lines = self.c.fonts.wrap(&ind.name, COLS[0].1 - 2.0, size, false);
        let main_h = (lh * (name_lines.len() as f32 + 1.0) + 1.5).max(11.0);
        let lead = lead_text(self.fw, ind);
        let mut meta = format!("Lead: {lead}");
        if row.stage > 0 {
            meta.push_str(&format!(
                " · Stage {} {}",
                row.stage,
                stage_action(row.stage).0
            ));
        }
        if row.challenge == Some(true) {
            meta.push_str(" · Challenge: the lead's prediction contradicts the forecast");
        }
        if let Some(children) = super::missing_children(self.fw, row) {
            meta.push_str(&format!(" · Incomplete: no value from {children}"));
        }
        if let Some(p) = &row.plan_forecast {
            meta.push_str(&format!(
                " · Plan {}: {} ({})",
                p.period,
                num(p.value, ind),
                forecast_verdict(p)
            ));
        }
        self.c.ensure(main_h + lh * 2.0);
        let y = self.c.y;
        let xs = |k: usize| MARGIN + COLS[k].0;
        let base = y + 3.2;
        self.c.text(xs(0) + 1.0, base, &ind.code, size, true, INK);
        for (k, l) in name_lines.iter().enumerate() {
            self.c.text(
                xs(0) + 1.0,
                base + lh * (k as f32 + 1.0),
                l,
                size,
                false,
                INK,
            );
        }
        self.c
            .text(xs(1) + 1.0, base, &row.period.to_string(), size, false, INK);
        let right = |k: usize| MARGIN + COLS[k].0 + COLS[k].1 - 1.0;
        // Numbers are made smaller to fit their column, never cut.
        let fits = |c: &Canvas, k: usize, text: &str, bold: bool| {
            c.fonts.size_to_fit(text, COLS[k].1 - 2.0, size, bold)
        };
        let actual = opt_num(row.value, ind);
        let s = fits(&self.c, 2, &actual, true);
        self.c
            .text_at(right(2), base, &actual, s, true, INK, Align::Right);
        let target = opt_num(row.target, ind);
        let s = fits(&self.c, 3, &target, false);
        self.c
            .text_at(right(3), base, &target, s, false, INK, Align::Right);
        self.rag_badge(xs(4) + 1.0, base - 1.0, row.rag, size, true);
        self.arrow(xs(5) + 1.0, base - 1.0, row.direction, size, true);
        self.trend(xs(6) + 1.0, y + 1.2, COLS[6].1 - 2.0, 8.0, row, false);
        match &row.forecast {
            Some(f) => {
                let forecast = num(f.value, ind);
                let s = fits(&self.c, 7, &forecast, false);
                self.c
                    .text_at(right(7), base, &forecast, s, false, INK, Align::Right);
                let col = match f.on_track {
                    Some(true) => rag_colour(Rag::Green),
                    Some(false) => rag_colour(Rag::Red),
                    None => MUTED,
                };
                self.c.text_at(
                    right(7),
                    base + lh,
                    forecast_verdict(f),
                    6.5,
                    true,
                    col,
                    Align::Right,
                );
                self.c.text_at(
                    right(7),
                    base + 2.0 * lh,
                    &f.period.to_string(),
                    6.0,
                    false,
                    MUTED,
                    Align::Right,
                );
            }
            None => self
                .c
                .text_at(right(7), base, "–", size, false, MUTED, Align::Right),
        }
        self.c.y = y + main_h;
        self.c.cont = Some(format!("{} {} (continued)", ind.code, ind.name));
        self.c
            .paragraph(xs(0) + 1.0, BODY_W - 2.0, &meta, 7.0, false, MUTED, 3.2);
        if let Some(com) = &row.commentary {
            self.c
                .paragraph(xs(0) + 1.0, BODY_W - 2.0, com, 7.5, false, INK, 3.5);
        }
        self.c.cont = None;
        self.c.y += 1.2;
        self.c.hrule(self.c.y, RULE, 0.2);
        self.c.y += 0.6;
    }

    // -----------------------------------------------------------------------------------
    // By area, data quality, method.

    fn by_area(&mut self) {
        let b = self.b;
        let m = &b.matrix;
        let focus = &self.fw.areas[b.area].name;
        self.section(
            "By area",
            &format!("The RAG of each indicator for {focus} as a whole and for each of its areas."),
        );
        let label_w = 62.0;
        // Columns wide enough for an area's name on up to three lines (a region's 33
        // boroughs are 6 blocks of 6, each column named, rather than 4 of 10 headed by codes
        // cut short).
        let max_cols = ((BODY_W - label_w) / 18.0).floor().max(1.0) as usize;
        let mut used_codes: Vec<usize> = Vec::new();
        for chunk in m
            .areas
            .chunks(max_cols)
            .enumerate()
            .map(|(k, c)| (k * max_cols, c))
        {
            let (start, areas) = chunk;
            let col_w = ((BODY_W - label_w) / areas.len() as f32).min(28.0);
            let mut columns = vec![(MARGIN, label_w, "Indicator".to_string(), Align::Left)];
            for (k, &a) in areas.iter().enumerate() {
                let area = &self.fw.areas[a];
                // The name when it fits on up to three lines, else the code (explained
                // under the table).
                let lines = self.c.fonts.wrap(&area.name, col_w - 1.5, 7.0, true);
                // (No word broken across lines: each line is whole words of the name.)
                let fits = lines.len() <= 3
                    && lines
                        .join(" ")
                        .split_whitespace()
                        .eq(area.name.split_whitespace())
                    && lines
                        .iter()
                        .all(|l| self.c.fonts.width(l, 7.0, true) <= col_w - 1.5);
                let label = if fits {
                    lines.join("\n")
                } else {
                    used_codes.push(a);
                    self.c.fonts.fit(&area.code, col_w - 1.5, 7.0, true)
                };
                columns.push((
                    MARGIN + label_w + k as f32 * col_w,
                    col_w,
                    label,
                    Align::Centre,
                ));
            }
            self.c.open_table(
                TableHead {
                    caption: "By area (continued)".to_string(),
                    columns,
                },
                6.0,
            );
            for (ind_i, cells) in &m.rows {
                let ind = &self.fw.indicators[*ind_i];
                self.c.ensure(5.6);
                let y = self.c.y;
                let label = self.c.fonts.fit(
                    &format!("{}  {}", ind.code, ind.name),
                    label_w - 2.0,
                    7.0,
                    false,
                );
                self.c.text(MARGIN + 1.0, y + 3.6, &label, 7.0, false, INK);
                let cells = cells.get(start..start + areas.len()).unwrap_or(&[]);
                for (k, cell) in cells.iter().enumerate() {
                    let cx = MARGIN + label_w + k as f32 * col_w;
                    match cell {
                        Some(r) => {
                            let row = &b.assessment.rows[*r];
                            if col_w >= 20.0 {
                                self.rag_badge(cx + 2.0, y + 2.5, row.rag, 7.0, false);
                                let v = opt_num(row.value, ind);
                                let s = self.c.fonts.size_to_fit(&v, col_w - 7.0, 6.5, false);
                                self.c.text_at(
                                    cx + col_w - 1.5,
                                    y + 3.5,
                                    &v,
                                    s,
                                    false,
                                    INK,
                                    Align::Right,
                                );
                            } else {
                                self.rag_badge(
                                    cx + col_w / 2.0 - 1.7,
                                    y + 2.5,
                                    row.rag,
                                    7.0,
                                    false,
                                );
                            }
                        }
                        None => self.c.text_at(
                            cx + col_w / 2.0,
                            y + 3.6,
                            "·",
                            7.0,
                            false,
                            MUTED,
                            Align::Centre,
                        ),
                    }
                }
                self.c.y = y + 5.2;
                self.c.hrule(self.c.y, SHADE, 0.2);
            }
            self.c.close_table();
            self.c.y += 6.0;
        }
        self.c.ensure(8.0);
        if !used_codes.is_empty() {
            let key = used_codes
                .iter()
                .map(|&a| format!("{} {}", self.fw.areas[a].code, self.fw.areas[a].name))
                .collect::<Vec<_>>()
                .join(" · ");
            self.c.paragraph(
                MARGIN,
                BODY_W,
                &format!("Areas: {key}."),
                7.0,
                false,
                MUTED,
                3.4,
            );
        }
        self.c.paragraph(
            MARGIN,
            BODY_W,
            "Each cell shows the RAG shape with its letter (R, A, G, B; – for N/A) and, where there is room, the actual value; a dot means no row for that area.",
            7.0,
            false,
            MUTED,
            3.4,
        );
    }

    fn quality(&mut self) {
        let q = &self.b.quality;
        let intro = format!(
            "{} missing, {} late and {} invalid returns at {}.",
            q.missing, q.late, q.invalid, self.b.assessment.period
        );
        self.section("Data quality", &intro);
        if q.providers.is_empty() {
            self.c.paragraph(
                MARGIN,
                BODY_W,
                "Every due return was received on time, and no rows were left out.",
                9.0,
                false,
                INK,
                4.6,
            );
            return;
        }
        let cols = [
            (MARGIN, 100.0, "Provider", Align::Left),
            (MARGIN + 100.0, 24.0, "Missing", Align::Right),
            (MARGIN + 124.0, 24.0, "Late", Align::Right),
            (MARGIN + 148.0, 26.0, "Invalid", Align::Right),
        ];
        self.c.open_table(
            TableHead {
                caption: "Data quality (continued)".to_string(),
                columns: cols
                    .iter()
                    .map(|&(x, w, l, a)| (x, w, l.to_string(), a))
                    .collect(),
            },
            6.0,
        );
        for p in &q.providers {
            self.c.ensure(5.5);
            let y = self.c.y + 3.8;
            let name = self.c.fonts.fit(&p.provider, 97.0, 8.0, false);
            self.c.text(MARGIN + 1.0, y, &name, 8.0, false, INK);
            for (k, n) in [p.missing.len(), p.late.len(), p.invalid.len()]
                .into_iter()
                .enumerate()
            {
                let (x, w, _, _) = cols[k + 1];
                let col = if n > 0 { INK } else { MUTED };
                self.c.text_at(
                    x + w - 1.0,
                    y,
                    &n.to_string(),
                    8.0,
                    n > 0,
                    col,
                    Align::Right,
                );
            }
            self.c.y += 5.5;
            self.c.hrule(self.c.y, SHADE, 0.2);
        }
        self.c.close_table();
        self.c.y += 4.0;
        for p in &q.providers {
            self.subheading(&p.provider, 1);
            for (label, items) in [
                ("Missing", &p.missing),
                ("Late", &p.late),
                ("Invalid", &p.invalid),
            ] {
                if items.is_empty() {
                    continue;
                }
                self.c.ensure(9.0);
                self.c.y += 4.0;
                self.c.text(
                    MARGIN,
                    self.c.y,
                    &format!("{label} ({})", items.len()),
                    8.5,
                    true,
                    INK,
                );
                self.c.y += 0.5;
                for it in items {
                    self.c.paragraph(
                        MARGIN + 4.0,
                        BODY_W - 4.0,
                        &format!("• {it}"),
                        8.0,
                        false,
                        INK,
                        3.8,
                    );
                }
            }
            self.c.y += 2.0;
        }
    }

    fn method(&mut self) {
        let fw = self.fw;
        self.section(
            "Method",
            "How the book's statuses are worked out (SPEC 4). Every figure comes from the same assessment as the table, CSV and JSON outputs.",
        );
        self.subheading("RAG schemes", 1);
        let mut used: Vec<usize> = fw.indicators.iter().map(|i| i.rag).collect();
        used.push(fw.default_rag);
        used.sort_unstable();
        used.dedup();
        for s in used {
            let scheme = &fw.schemes[s];
            let n = fw.indicators.iter().filter(|i| i.rag == s).count();
            let default = if s == fw.default_rag {
                ", the default"
            } else {
                ""
            };
            self.c.ensure(20.0);
            self.c.y += 6.0;
            self.c.text(
                MARGIN,
                self.c.y,
                &format!("{} ({n} indicators{default})", scheme.name),
                9.0,
                true,
                INK,
            );
            self.c.y += 1.0;
            let rules: Vec<(Rag, String)> = match scheme.kind {
                RagKind::Achievement { green, amber } => vec![
                    (Rag::Red, format!("achievement < {}%", amber.normalize())),
                    (
                        Rag::Amber,
                        format!(
                            "{}% ≤ achievement < {}%",
                            amber.normalize(),
                            green.normalize()
                        ),
                    ),
                    (Rag::Green, format!("achievement ≥ {}%", green.normalize())),
                ],
                RagKind::Deviation { red, blue } => vec![
                    (Rag::Red, format!("deviation ≤ {}%", red.normalize())),
                    (Rag::Amber, format!("{}% < deviation < 0%", red.normalize())),
                    (
                        Rag::Green,
                        format!("0% ≤ deviation < {}%", blue.normalize()),
                    ),
                    (Rag::Blue, format!("deviation ≥ {}%", blue.normalize())),
                ],
                RagKind::OnTarget => vec![
                    (Rag::Red, "deviation < 0% (below target)".to_string()),
                    (
                        Rag::Green,
                        "deviation ≥ 0% (on or above target)".to_string(),
                    ),
                ],
            };
            for (rag, text) in rules {
                self.c.ensure(5.0);
                self.c.y += 4.2;
                self.rag_badge(MARGIN + 4.0, self.c.y - 1.1, rag, 8.0, true);
                self.c.text(MARGIN + 26.0, self.c.y, &text, 8.5, false, INK);
            }
        }
        self.c.y += 4.0;
        self.c.paragraph(
            MARGIN,
            BODY_W,
            "Deviation = (actual − target) / |target| × 100 where higher is better, (target − actual) / |target| × 100 where lower is better; achievement = 100 + deviation. N/A: no value, no target, or an indicator with no polarity.",
            8.0,
            false,
            MUTED,
            3.8,
        );
        self.subheading("Escalation stages", 1);
        let e = fw.escalation;
        for st in 0..4u8 {
            let (name, action) = stage_action(st);
            let when = match st {
                0 => "Not below target.".to_string(),
                1 => "Below target.".to_string(),
                2 => format!(
                    "Below target for {} consecutive periods with values, and not improving.",
                    e.action_after
                ),
                _ => format!(
                    "Still below target {} period(s) after stage 2 was reached.",
                    e.intervention_after
                ),
            };
            self.c.ensure(10.0);
            self.c.y += 4.2;
            self.c.text(
                MARGIN,
                self.c.y - 1.05,
                &format!("Stage {st} · {name}"),
                8.5,
                true,
                INK,
            );
            let y = self.c.y;
            self.c.y -= 4.2;
            self.c.paragraph(
                MARGIN + 40.0,
                BODY_W - 40.0,
                &format!("{when} {action}"),
                8.5,
                false,
                INK,
                4.2,
            );
            self.c.y = self.c.y.max(y);
        }
        self.subheading("Direction of travel and forecasts", 1);
        let f = fw.forecast;
        let text = format!(
            "Direction compares a snapshot measure with the previous period and a cumulative one with the same period last year; n/a when that value is missing. \
             The forecast is the last value unless the mean or the straight-line trend of the last {} values beat it in back-tests ({} or more, with an error below {} times that of the last value); cumulative measures use the run rate. \
             \"On track\" means the forecast meets the target of the year's last period. A challenge is raised when the lead's own prediction disagrees.",
            f.window, f.min_backtests, f.margin.normalize()
        );
        self.c
            .paragraph(MARGIN, BODY_W, &text, 8.5, false, INK, 4.2);
        self.subheading("Reading the marks", 1);
        self.c.ensure(12.0);
        self.c.y += 4.5;
        let y = self.c.y;
        let mut x = MARGIN;
        for d in [
            Direction::Improving,
            Direction::Worsening,
            Direction::NoChange,
        ] {
            self.arrow(x, y - 1.1, d, 8.5, true);
            x += 30.0;
        }
        self.c.text(
            x,
            y,
            "Sparkline: actuals solid, target dashed, last point in its RAG colour.",
            8.0,
            false,
            MUTED,
        );
        self.c.y += 4.0;
    }
}

/// Column layout of the theme tables: (x offset, width, header, alignment).
const COLS: [(f32, f32, &str, Align); 8] = [
    (0.0, 52.0, "Indicator", Align::Left),
    (52.0, 17.0, "Period", Align::Left),
    (69.0, 17.0, "Actual", Align::Right),
    (86.0, 17.0, "Target", Align::Right),
    (104.0, 16.0, "RAG", Align::Left),
    (120.0, 19.0, "Direction", Align::Left),
    (139.0, 17.0, "Trend", Align::Left),
    (156.0, 18.0, "Forecast", Align::Right),
];

fn lead_text(fw: &Framework, ind: &Indicator) -> String {
    match &ind.lead {
        Some(l) => match l.organisation {
            Some(o) => format!("{} ({})", l.name, fw.organisations[o].code),
            None => l.name.clone(),
        },
        None => "no lead named".to_string(),
    }
}

fn forecast_text(f: &Forecast, ind: &Indicator) -> String {
    let mut s = format!(
        "{} at {}, {}",
        num(f.value, ind),
        f.period,
        forecast_verdict(f)
    );
    // The confidence, and the range the back-tests' errors put around the forecast (SPEC 4.5:
    // the 10th to the 90th percentile of forecast plus error).
    let range = f
        .interval
        .map(|(lo, hi)| format!("likely {} to {}", num(lo, ind), num(hi, ind)));
    let confidence = f
        .confidence
        .map(|c| format!("{}% confidence", (c * Decimal::ONE_HUNDRED).round()));
    match (confidence, range) {
        (Some(c), Some(r)) => s.push_str(&format!(" ({c}; {r})")),
        (Some(c), None) => s.push_str(&format!(" ({c})")),
        (None, Some(r)) => s.push_str(&format!(" ({r})")),
        (None, None) => {}
    }
    s
}
