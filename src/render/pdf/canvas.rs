//! The page canvas under the briefing book: A4 pages in millimetres measured from the top, the
//! embedded Liberation Sans faces with our own text measurement (printpdf's `text_layout`
//! feature is off), word wrapping, shapes, page breaks with repeated table headers, and the
//! final serialisation with fixed font IDs and a content-derived document ID.
//!
//! Every printpdf call of the crate lives in this file and `pdf.rs`: the API moves between
//! minor versions (see docs on dependencies), so it is kept in one place.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use printpdf::{
    Actions, BorderArray, Color, Destination, FontId, Line, LineDashPattern, LinePoint,
    LinkAnnotation, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rect, Rgb, TextItem, WindingOrder,
};

pub const PAGE_W: f32 = 210.0;
pub const PAGE_H: f32 = 297.0;
/// Left and right margins (SPEC asks for at least 15 mm).
pub const MARGIN: f32 = 18.0;
pub const BODY_TOP: f32 = 25.0;
pub const BODY_BOTTOM: f32 = 276.0;
pub const BODY_W: f32 = PAGE_W - 2.0 * MARGIN;

// Liberation Sans (SIL OFL, licence beside the files) rather than DejaVu Sans: without
// printpdf's `text_layout` feature fonts are embedded whole, and Liberation's regular and bold
// together (2 × 410 KB, ~420 KB deflated) cost little more than DejaVu Sans regular alone
// (760 KB), with a real bold. Both cover £, –, ≥, −, … and accented Latin names.
const REGULAR_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");
/// Fixed resource names, so two books made in one process are byte-identical.
const REGULAR_ID: &str = "F1";
const BOLD_ID: &str = "F2";

pub struct Fonts {
    regular: ParsedFont,
    bold: ParsedFont,
}

/// The two faces, parsed once per process.
pub fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let parse = |bytes: &[u8], name: &str| {
            let mut font = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())
                .expect("the bundled Liberation Sans font parses");
            // The PostScript name the PDF shows as /BaseFont (else printpdf uses the ID).
            font.font_name = Some(name.to_string());
            font
        };
        Fonts {
            regular: parse(REGULAR_TTF, "LiberationSans"),
            bold: parse(BOLD_TTF, "LiberationSans-Bold"),
        }
    })
}

impl Fonts {
    fn face(&self, bold: bool) -> &ParsedFont {
        if bold {
            &self.bold
        } else {
            &self.regular
        }
    }

    /// Width of `text` in millimetres at `size` points.
    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = self.face(bold);
        let upm = f32::from(face.units_per_em.max(1));
        let units: u32 = text
            .chars()
            .map(|c| {
                let gid = face
                    .lookup_glyph_index(c as u32)
                    .or_else(|| face.lookup_glyph_index('?' as u32))
                    .unwrap_or(0);
                u32::from(face.get_glyph_width(gid).unwrap_or(0))
            })
            .sum();
        units as f32 / upm * size * 25.4 / 72.0
    }

    /// Whether the font has no glyph for `c` (it is printed as `?`).
    pub fn lacks(&self, c: char) -> bool {
        !c.is_control() && self.regular.lookup_glyph_index(c as u32).is_none()
    }

    /// `text` with every character the font lacks replaced by `?`, and control characters
    /// (tabs, newlines inside a cell) by spaces.
    pub fn clean(&self, text: &str) -> String {
        let face = &self.regular;
        text.chars()
            .map(|c| {
                if c.is_control() {
                    ' '
                } else if face.lookup_glyph_index(c as u32).is_some() {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// Greedy word wrap into lines no wider than `width` mm; a word longer than a line is
    /// broken between characters. Explicit newlines start a new line.
    pub fn wrap(&self, text: &str, width: f32, size: f32, bold: bool) -> Vec<String> {
        let mut lines = Vec::new();
        let space = self.width(" ", size, bold);
        for para in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in para.split_whitespace() {
                let word = self.clean(word);
                let mut w = self.width(&word, size, bold);
                let mut word = word;
                if !line.is_empty() && line_w + space + w <= width {
                    line.push(' ');
                    line.push_str(&word);
                    line_w += space + w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                while w > width {
                    // Break an over-long word (a URL, a long code) at the last character
                    // that fits.
                    let mut cut = String::new();
                    let mut cut_w = 0.0;
                    let mut rest = String::new();
                    for c in word.chars() {
                        let cw = self.width(c.encode_utf8(&mut [0; 4]), size, bold);
                        if rest.is_empty() && (cut_w + cw <= width || cut.is_empty()) {
                            cut.push(c);
                            cut_w += cw;
                        } else {
                            rest.push(c);
                        }
                    }
                    lines.push(cut);
                    w = self.width(&rest, size, bold);
                    word = rest;
                }
                line = word;
                line_w = w;
            }
            if !line.is_empty() || lines.is_empty() {
                lines.push(line);
            }
        }
        lines
    }

    /// The size, at most `size`, at which `text` fits `width` mm: for numbers, which must
    /// never be cut or run into the next column (a budget of £100,000,001.00 in a column
    /// made for percentages). Never below 3.5 pt.
    pub fn size_to_fit(&self, text: &str, width: f32, size: f32, bold: bool) -> f32 {
        let w = self.width(&self.clean(text), size, bold);
        if w <= width || w <= 0.0 {
            size
        } else {
            (size * width / w).max(3.5)
        }
    }

    /// `text` cut to fit `width` mm, with an ellipsis when it had to be cut.
    pub fn fit(&self, text: &str, width: f32, size: f32, bold: bool) -> String {
        let text = self.clean(text);
        if self.width(&text, size, bold) <= width {
            return text;
        }
        let ell = self.width("…", size, bold);
        let mut out = String::new();
        let mut w = 0.0;
        for c in text.chars() {
            let cw = self.width(c.encode_utf8(&mut [0; 4]), size, bold);
            if w + cw + ell > width {
                break;
            }
            out.push(c);
            w += cw;
        }
        out.truncate(out.trim_end().len());
        out.push('…');
        out
    }
}

/// A colour as three 0-1 components.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb3(pub f32, pub f32, pub f32);

impl Rgb3 {
    pub fn hex(v: u32) -> Rgb3 {
        Rgb3(
            ((v >> 16) & 0xff) as f32 / 255.0,
            ((v >> 8) & 0xff) as f32 / 255.0,
            (v & 0xff) as f32 / 255.0,
        )
    }
    fn color(self) -> Color {
        Color::Rgb(Rgb {
            r: self.0,
            g: self.1,
            b: self.2,
            icc_profile: None,
        })
    }
}

pub const INK: Rgb3 = Rgb3(0.13, 0.15, 0.18);
pub const MUTED: Rgb3 = Rgb3(0.38, 0.41, 0.45);
pub const RULE: Rgb3 = Rgb3(0.80, 0.82, 0.85);
pub const SHADE: Rgb3 = Rgb3(0.95, 0.96, 0.97);
pub const ACCENT: Rgb3 = Rgb3(0.11, 0.27, 0.45);
pub const WHITE: Rgb3 = Rgb3(1.0, 1.0, 1.0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
    Centre,
}

/// A table header drawn again at the top of every page the table continues on.
#[derive(Clone, Debug)]
pub struct TableHead {
    /// "Staying safe (continued)" and the like, drawn above the header row.
    pub caption: String,
    /// (x, width, label, alignment).
    pub columns: Vec<(f32, f32, String, Align)>,
}

impl TableHead {
    /// The header row's height: a label on more than one line (an area's name in a narrow
    /// column) is written a line per `\n`, and the row grows to hold the longest.
    pub fn height(&self) -> f32 {
        let lines = self
            .columns
            .iter()
            .map(|c| c.2.lines().count())
            .max()
            .unwrap_or(1)
            .max(1);
        HEAD_H + (lines - 1) as f32 * HEAD_LINE
    }
}

pub const HEAD_H: f32 = 6.5;
/// Each further line of a table header's labels.
pub const HEAD_LINE: f32 = 2.9;

/// A heading entry for the contents page and the PDF outline.
#[derive(Clone, Debug)]
pub struct Mark {
    pub title: String,
    /// 0 for a section or theme, 1 for a priority.
    pub level: u8,
    /// 0-based page index.
    pub page: usize,
    /// Whether it also becomes a PDF bookmark.
    pub bookmark: bool,
}

pub struct Canvas {
    pub fonts: &'static Fonts,
    pages: Vec<Vec<Op>>,
    /// Index of the page being drawn on.
    cur: usize,
    /// Cursor: millimetres from the top of the current page.
    pub y: f32,
    pub head: Option<TableHead>,
    /// "NI 62 ... (continued)": written under the header when a block flows onto a new page.
    pub cont: Option<String>,
    pub marks: Vec<Mark>,
}

fn pt(mm: f32) -> Pt {
    Pt(mm * 72.0 / 25.4)
}

fn point(x: f32, y_top: f32) -> Point {
    Point {
        x: pt(x),
        y: pt(PAGE_H - y_top),
    }
}

impl Canvas {
    pub fn new() -> Canvas {
        Canvas {
            fonts: fonts(),
            pages: Vec::new(),
            cur: 0,
            y: BODY_TOP,
            head: None,
            cont: None,
            marks: Vec::new(),
        }
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// 0-based index of the current page.
    pub fn page(&self) -> usize {
        self.cur
    }

    /// Starts a page; draws the repeated table header when a table is open.
    pub fn new_page(&mut self) {
        self.pages.push(Vec::with_capacity(256));
        self.cur = self.pages.len() - 1;
        self.y = BODY_TOP;
        if let Some(head) = self.head.clone() {
            self.draw_head(&head);
        }
        if let Some(cont) = self.cont.clone() {
            let line = self.fonts.fit(&cont, BODY_W - 2.0, 7.5, true);
            self.y += 4.0;
            self.text(MARGIN + 1.0, self.y - 0.8, &line, 7.5, true, MUTED);
            self.y += 0.5;
        }
    }

    /// Inserts `n` blank pages at `at` (for the contents, written last).
    pub fn insert_pages(&mut self, at: usize, n: usize) {
        for _ in 0..n {
            self.pages.insert(at, Vec::new());
        }
        if self.cur >= at {
            self.cur += n;
        }
        for m in &mut self.marks {
            if m.page >= at {
                m.page += n;
            }
        }
    }

    /// Runs `f` with page `index` as the current page, then restores the cursor.
    pub fn on_page(&mut self, index: usize, f: impl FnOnce(&mut Canvas)) {
        let (cur, y) = (self.cur, self.y);
        self.cur = index;
        f(self);
        self.cur = cur;
        self.y = y;
    }

    /// Breaks the page unless `h` mm still fit below the cursor. Returns whether it broke.
    pub fn ensure(&mut self, h: f32) -> bool {
        if self.y + h > BODY_BOTTOM && self.y > BODY_TOP + 0.1 {
            self.new_page();
            true
        } else {
            false
        }
    }

    pub fn mark(&mut self, title: &str, level: u8, bookmark: bool) {
        let page = self.page();
        self.marks.push(Mark {
            title: title.to_string(),
            level,
            page,
            bookmark,
        });
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
            self.cur = 0;
        }
        &mut self.pages[self.cur]
    }

    /// One piece of text with its baseline at `y`; `x` is the left, right or centre edge.
    #[allow(clippy::too_many_arguments)]
    pub fn text_at(
        &mut self,
        x: f32,
        y: f32,
        text: &str,
        size: f32,
        bold: bool,
        color: Rgb3,
        align: Align,
    ) {
        if text.is_empty() {
            return;
        }
        let text = self.fonts.clean(text);
        let w = self.fonts.width(&text, size, bold);
        let x = match align {
            Align::Left => x,
            Align::Right => x - w,
            Align::Centre => x - w / 2.0,
        };
        let id = if bold { BOLD_ID } else { REGULAR_ID };
        let ops = self.ops();
        ops.push(Op::StartTextSection);
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(FontId(id.to_string())),
            size: Pt(size),
        });
        ops.push(Op::SetFillColor { col: color.color() });
        ops.push(Op::SetTextCursor { pos: point(x, y) });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text)],
        });
        ops.push(Op::EndTextSection);
    }

    /// Left-aligned text.
    pub fn text(&mut self, x: f32, y: f32, text: &str, size: f32, bold: bool, color: Rgb3) {
        self.text_at(x, y, text, size, bold, color, Align::Left);
    }

    /// Wrapped paragraph at the cursor, flowing onto new pages; returns nothing, moves `y`.
    #[allow(clippy::too_many_arguments)]
    pub fn paragraph(
        &mut self,
        x: f32,
        width: f32,
        text: &str,
        size: f32,
        bold: bool,
        color: Rgb3,
        leading: f32,
    ) {
        for line in self.fonts.wrap(text, width, size, bold) {
            self.ensure(leading);
            self.y += leading;
            let base = self.y - leading * 0.25;
            self.text(x, base, &line, size, bold, color);
        }
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetFillColor { col: fill.color() });
        ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(PAGE_H - y - h),
                width: pt(w),
                height: pt(h),
                mode: Some(PaintMode::Fill),
                winding_order: Some(WindingOrder::NonZero),
            },
        });
    }

    /// A straight-segment line; `dashed` draws it in 1.2/0.9 mm dashes.
    pub fn polyline(&mut self, pts: &[(f32, f32)], color: Rgb3, thick: f32, dashed: bool) {
        if pts.len() < 2 {
            return;
        }
        let ops = self.ops();
        ops.push(Op::SaveGraphicsState);
        ops.push(Op::SetOutlineColor { col: color.color() });
        ops.push(Op::SetOutlineThickness { pt: pt(thick) });
        if dashed {
            ops.push(Op::SetLineDashPattern {
                dash: LineDashPattern::new(0.0, &[pt(1.2).0, pt(0.9).0]),
            });
        }
        ops.push(Op::DrawLine {
            line: Line {
                points: line_points(pts),
                is_closed: false,
            },
        });
        ops.push(Op::RestoreGraphicsState);
    }

    pub fn hrule(&mut self, y: f32, color: Rgb3, thick: f32) {
        self.polyline(&[(MARGIN, y), (PAGE_W - MARGIN, y)], color, thick, false);
    }

    /// A filled polygon.
    pub fn fill_poly(&mut self, pts: &[(f32, f32)], fill: Rgb3) {
        let ops = self.ops();
        ops.push(Op::SetFillColor { col: fill.color() });
        ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![PolygonRing {
                    points: line_points(pts),
                }],
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
    }

    /// A filled circle: a polygon (printpdf has no circle primitive) of 12 sides when small,
    /// where no eye can tell, and 20 when large, to keep content streams short.
    pub fn dot(&mut self, cx: f32, cy: f32, r: f32, fill: Rgb3) {
        let n = if r < 1.5 { 12 } else { 20 };
        let pts: Vec<(f32, f32)> = (0..n)
            .map(|i| {
                let a = i as f32 * std::f32::consts::TAU / n as f32;
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        self.fill_poly(&pts, fill);
    }

    /// A clickable area that jumps to page `target` (0-based).
    pub fn link(&mut self, x: f32, y: f32, w: f32, h: f32, target: usize) {
        self.ops().push(Op::LinkAnnotation {
            link: LinkAnnotation::new(
                Rect {
                    x: pt(x),
                    y: pt(PAGE_H - y - h),
                    width: pt(w),
                    height: pt(h),
                    mode: None,
                    winding_order: None,
                },
                Actions::go_to(Destination::Xyz {
                    page: target + 1,
                    left: Some(0.0),
                    top: Some(pt(PAGE_H).0),
                    zoom: None,
                }),
                Some(BorderArray::Solid([0.0, 0.0, 0.0])),
                None,
                None,
            ),
        });
    }

    /// Draws a table header row at the cursor and moves below it.
    pub fn draw_head(&mut self, head: &TableHead) {
        if !head.caption.is_empty() {
            // Wrapped: a long theme and priority name is never cut at the page's edge.
            for (k, line) in self
                .fonts
                .wrap(&head.caption, BODY_W, 8.0, true)
                .iter()
                .enumerate()
            {
                self.y += if k == 0 { 5.0 } else { 3.6 };
                self.text(MARGIN, self.y - 1.2, line, 8.0, true, MUTED);
            }
        }
        let y = self.y;
        let h = head.height();
        self.rect(MARGIN, y, BODY_W, h, SHADE);
        for (x, w, label, align) in &head.columns {
            let tx = match align {
                Align::Left => *x + 1.0,
                Align::Right => *x + *w - 1.0,
                Align::Centre => *x + *w / 2.0,
            };
            for (k, line) in label.lines().enumerate() {
                self.text_at(
                    tx,
                    y + 4.4 + k as f32 * HEAD_LINE,
                    line,
                    7.0,
                    true,
                    MUTED,
                    *align,
                );
            }
        }
        self.y = y + h + 0.8;
    }

    /// Opens a table: draws its header now and again on every page it continues on.
    pub fn open_table(&mut self, head: TableHead, first_row: f32) {
        let mut first = head.clone();
        first.caption.clear();
        self.ensure(first.height() + 1.0 + first_row);
        self.draw_head(&first);
        self.head = Some(head);
    }

    pub fn close_table(&mut self) {
        self.head = None;
    }

    /// Draws `f` on every page from `from` (0-based): running headers and footers.
    pub fn each_page(&mut self, from: usize, mut f: impl FnMut(&mut Canvas, usize, usize)) {
        let n = self.pages.len();
        for i in from..n {
            self.on_page(i, |c| f(c, i, n));
        }
    }

    /// The finished document: pages, bookmarks, embedded fonts under fixed IDs, and a
    /// document ID hashed from the content instead of printpdf's process counter.
    pub fn finish(self, title: &str, produced: chrono::NaiveDate) -> Vec<u8> {
        use chrono::Datelike;
        let fonts = self.fonts;
        let mut doc = PdfDocument::new(title);
        // The document's dates are the report's "today" (`--as-of`), never the clock.
        let date = printpdf::DateTime {
            date: printpdf::Date {
                year: produced.year(),
                month: produced.month() as u8,
                day: produced.day() as u8,
            },
            time: printpdf::Time {
                hour: 0,
                minute: 0,
                second: 0,
                millisecond: 0,
            },
            offset: printpdf::Offset {
                hours: 0,
                minutes: 0,
                seconds: 0,
                milliseconds: 0,
            },
        };
        doc.metadata.info.creation_date = date;
        doc.metadata.info.modification_date = date;
        doc.metadata.info.metadata_date = date;
        doc.metadata.info.producer = "pmf".to_string();
        doc.metadata.info.creator = "pmf report --format pdf".to_string();
        doc.resources.fonts.map.insert(
            FontId(REGULAR_ID.to_string()),
            PdfFont::new(fonts.regular.clone()),
        );
        doc.resources.fonts.map.insert(
            FontId(BOLD_ID.to_string()),
            PdfFont::new(fonts.bold.clone()),
        );
        // Bookmarks come out ordered by page then title; the book starts every top-level
        // section on its own page, so page order is reading order.
        let mut seen = BTreeMap::new();
        for m in self.marks.iter().filter(|m| m.bookmark) {
            seen.entry((m.page, m.title.clone())).or_insert(());
        }
        for (page, title) in seen.keys() {
            doc.add_bookmark(title, page + 1);
        }
        let pages = self
            .pages
            .into_iter()
            .map(|ops| PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops))
            .collect();
        let opts = PdfSaveOptions {
            optimize: true,
            subset_fonts: false,
            secure: true,
            image_optimization: None,
        };
        let mut bytes = doc.with_pages(pages).save(&opts, &mut Vec::new());
        set_document_id(&mut bytes);
        bytes
    }
}

impl Default for Canvas {
    fn default() -> Self {
        Canvas::new()
    }
}

/// FNV-1a, 64 bits, from `seed`.
fn fnv(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Replaces the two 32-character strings of the trailer's `/ID` (printpdf draws them from a
/// per-process counter) with a hash of everything before the trailer, in place: same length,
/// so no offset moves.
fn set_document_id(bytes: &mut [u8]) {
    let Some(at) = find_last(bytes, b"/ID") else {
        return;
    };
    let hash = format!(
        "{:016x}{:016x}",
        fnv(&bytes[..at], 1),
        fnv(&bytes[..at], 0x9e37_79b9_7f4a_7c15)
    );
    let mut i = at;
    for _ in 0..2 {
        let Some(open) = bytes[i..].iter().position(|&b| b == b'(').map(|p| p + i) else {
            return;
        };
        let Some(close) = bytes[open..]
            .iter()
            .position(|&b| b == b')')
            .map(|p| p + open)
        else {
            return;
        };
        if close - open - 1 == 32 {
            bytes[open + 1..close].copy_from_slice(hash.as_bytes());
        }
        i = close + 1;
    }
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Straight-segment points in page millimetres, for lines and polygons.
fn line_points(pts: &[(f32, f32)]) -> Vec<LinePoint> {
    pts.iter()
        .map(|&(x, y)| LinePoint {
            p: point(x, y),
            bezier: false,
        })
        .collect()
}
