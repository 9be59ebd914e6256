//! Reading one value cell (SPEC 2.3): plain decimals exactly; spaces, thousands separators, a
//! trailing `%` (percent indicators) and a leading `£` accepted with a note; suppression markers
//! meaning "no value"; anything else a precise complaint.

use rust_decimal::Decimal;

/// Statistical suppression and not-available markers: the row counts as submitted, no value.
pub const MARKERS: [&str; 12] = [
    "*", "c", "[c]", "x", "[x]", "z", "[z]", "..", ":", "-", "n/a", "na",
];

/// What a value cell holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// A number; `normalised` says what was removed to read it, when anything was.
    Number {
        value: Decimal,
        normalised: Option<&'static str>,
    },
    /// A suppression or not-available marker.
    Suppressed,
    /// Nothing at all.
    Empty,
    /// Not a number; the reason, for the message.
    Invalid(&'static str),
}

/// Read a cell. `percent` allows a trailing `%`.
#[inline(always)]
pub fn parse(text: &str, percent: bool) -> Cell {
    if text.is_empty() {
        return Cell::Empty;
    }
    // Fast path: the plain decimals nearly every row holds (inlined into the reader).
    if let Some(d) = short_plain(text.as_bytes()) {
        return Cell::Number {
            value: d,
            normalised: None,
        };
    }
    parse_rest(text, percent)
}

/// [`parse`] of a cell's bytes, the short plain decimals read without making them text;
/// `None` when the bytes are not UTF-8.
#[inline(always)]
pub fn parse_bytes(b: &[u8], percent: bool) -> Option<Cell> {
    if b.is_empty() {
        return Some(Cell::Empty);
    }
    if let Some(d) = short_plain(b) {
        return Some(Cell::Number {
            value: d,
            normalised: None,
        });
    }
    Some(parse_rest(std::str::from_utf8(b).ok()?, percent))
}

/// [`parse`] for a cell that is not empty and not a short plain decimal.
fn parse_rest(text: &str, percent: bool) -> Cell {
    if let Some(d) = plain(text) {
        return Cell::Number {
            value: d,
            normalised: None,
        };
    }
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
    if trimmed.is_empty() {
        return Cell::Empty;
    }
    if MARKERS.iter().any(|m| trimmed.eq_ignore_ascii_case(m)) {
        return Cell::Suppressed;
    }
    let mut notes: Vec<&'static str> = Vec::new();
    if trimmed.len() != text.len() {
        notes.push("spaces");
    }
    let mut s = trimmed.to_string();
    let mut negative = false;
    if let Some(rest) = s.strip_prefix('-') {
        negative = true;
        s = rest.trim_start().to_string();
    }
    if let Some(rest) = s.strip_prefix('£') {
        notes.push("£ sign");
        s = rest.trim_start().to_string();
    }
    if let Some(rest) = s.strip_prefix('-') {
        if negative {
            return Cell::Invalid("it has two minus signs");
        }
        negative = true;
        s = rest.to_string();
    }
    if let Some(rest) = s.strip_suffix('%') {
        if !percent {
            return Cell::Invalid("a % sign is read only on the value of a percentage indicator");
        }
        notes.push("% sign");
        s = rest.trim_end().to_string();
    }
    if s.contains(',') {
        if !thousands_ok(&s) {
            return Cell::Invalid("its commas are not thousands separators (use . for decimals)");
        }
        notes.push("thousands separators");
        s = s.replace(',', "");
    }
    let s = if negative { format!("-{s}") } else { s };
    match plain(&s) {
        Some(value) => Cell::Number {
            value,
            normalised: if notes.is_empty() {
                None
            } else {
                Some(describe(&notes))
            },
        },
        None if is_long_number(&s) => Cell::Invalid(
            "it has more digits than pmf can hold exactly (at most 28, and at most 28 after the point)",
        ),
        None => Cell::Invalid("it is not a number"),
    }
}

/// Whether `s` is written as a plain decimal (digits, at most one point, a leading minus)
/// that `plain` still refused: it has too many digits.
fn is_long_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
}

/// Most cells, in one pass: unsigned, 1 to 18 digits, at most one point between digits. The
/// digits as an integer and the count after the point are exactly the decimal `from_str`
/// makes (property-tested below). `None` for anything else, plain or not.
#[inline(always)]
fn short_plain(b: &[u8]) -> Option<Decimal> {
    if !(1..=18).contains(&b.len()) || b[0] == b'.' || b[b.len() - 1] == b'.' {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    let scale = point.map_or(0, |i| (b.len() - i - 1) as u32);
    // At most 18 digits: under 2^60, so the high word is zero; the scale is at most 16.
    Some(Decimal::from_parts(
        mantissa as u32,
        (mantissa >> 32) as u32,
        0,
        false,
        scale,
    ))
}

/// A plain decimal: optional minus, digits, optional point and digits. Nothing else.
fn plain(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    if let Some(d) = short_plain(b) {
        return Some(d);
    }
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    // (Longer than any decimal can be written, leading zeros and all: not read.)
    if digits.is_empty() || digits.len() > 80 {
        return None;
    }
    let mut point = false;
    let mut any = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => any = true,
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if !any || digits.first() == Some(&b'.') && digits.len() == 1 {
        return None;
    }
    // Signed, longer, or a point at an end (short unsigned ones were `short_plain`'s): read
    // only when held exactly (leading zeros are fine; a 29th significant digit, or a 29th
    // decimal place, is not).
    Decimal::from_str_exact(s).ok()
}

/// `1,234` and `12,345,678.9`: groups of exactly three digits after the first comma.
fn thousands_ok(s: &str) -> bool {
    let int = s.split('.').next().unwrap_or("");
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or("");
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    groups.all(|g| g.len() == 3 && g.bytes().all(|c| c.is_ascii_digit()))
        && !s.split('.').nth(1).is_some_and(|f| f.contains(','))
}

fn describe(notes: &[&'static str]) -> &'static str {
    // A closed set of phrasings keeps the cell free of allocation in the common case.
    match notes {
        ["spaces"] => "surrounding spaces removed",
        ["thousands separators"] => "thousands separators removed",
        ["% sign"] => "% sign removed",
        ["£ sign"] => "£ sign removed",
        ["spaces", "thousands separators"] => "spaces and thousands separators removed",
        ["spaces", "% sign"] => "spaces and % sign removed",
        ["spaces", "£ sign"] => "spaces and £ sign removed",
        ["£ sign", "thousands separators"] => "£ sign and thousands separators removed",
        ["% sign", "thousands separators"] => "% sign and thousands separators removed",
        _ => "spaces, signs and separators removed",
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Cell};
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn num(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    proptest::proptest! {
        /// The fast path builds exactly the decimal `from_str` does: value, scale and text.
        #[test]
        fn plain_matches_from_str(int in "-?[0-9]{0,20}", frac in proptest::option::of("[0-9]{0,12}")) {
            let text = match &frac {
                Some(f) => format!("{int}.{f}"),
                None => int.clone(),
            };
            if let Cell::Number { value, normalised: None } = parse(&text, false) {
                let expected = Decimal::from_str(&text).unwrap();
                proptest::prop_assert_eq!(value, expected);
                proptest::prop_assert_eq!(value.scale(), expected.scale());
                proptest::prop_assert_eq!(value.to_string(), expected.to_string());
            }
        }
    }

    #[test]
    fn plain_decimals_are_exact() {
        assert_eq!(
            parse("95", false),
            Cell::Number {
                value: num("95"),
                normalised: None
            }
        );
        assert_eq!(
            parse("-0.125", false),
            Cell::Number {
                value: num("-0.125"),
                normalised: None
            }
        );
        assert_eq!(
            parse("78.624537858031815", false),
            Cell::Number {
                value: num("78.624537858031815"),
                normalised: None
            }
        );
    }

    #[test]
    fn normalised_forms() {
        assert_eq!(
            parse(" 1,234 ", false),
            Cell::Number {
                value: num("1234"),
                normalised: Some("spaces and thousands separators removed")
            }
        );
        assert_eq!(
            parse("77.5%", true),
            Cell::Number {
                value: num("77.5"),
                normalised: Some("% sign removed")
            }
        );
        assert_eq!(
            parse("£1,100.50", false),
            Cell::Number {
                value: num("1100.50"),
                normalised: Some("£ sign and thousands separators removed")
            }
        );
        assert_eq!(
            parse("-£5", false),
            Cell::Number {
                value: num("-5"),
                normalised: Some("£ sign removed")
            }
        );
        assert_eq!(
            parse("12,345,678", false),
            Cell::Number {
                value: num("12345678"),
                normalised: Some("thousands separators removed")
            }
        );
    }

    #[test]
    fn markers_empty_and_invalid() {
        for m in [
            "*", "c", "[c]", "X", "[x]", "z", "[Z]", "..", ":", "-", "n/a", "NA", " [c] ",
        ] {
            assert_eq!(parse(m, false), Cell::Suppressed, "{m}");
        }
        assert_eq!(parse("", false), Cell::Empty);
        assert_eq!(parse("   ", false), Cell::Empty);
        assert_eq!(parse("twelve", false), Cell::Invalid("it is not a number"));
        assert_eq!(
            parse("12%", false),
            Cell::Invalid("a % sign is read only on the value of a percentage indicator")
        );
        assert_eq!(
            parse("1,23", false),
            Cell::Invalid("its commas are not thousands separators (use . for decimals)")
        );
        assert_eq!(parse("1e5", false), Cell::Invalid("it is not a number"));
        // Long, but held exactly: read (leading zeros, 28 digits, the largest decimal).
        for (text, value) in [
            ("0000000000000000000000000000005", "5"),
            (
                "1234567890123.456789012345678",
                "1234567890123.456789012345678",
            ),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
        ] {
            assert_eq!(
                parse(text, false),
                Cell::Number {
                    value: value.parse().unwrap(),
                    normalised: None
                },
                "{text}"
            );
        }
        assert_eq!(parse(".", false), Cell::Invalid("it is not a number"));
        assert_eq!(
            parse("99999999999999999999999999999999", false),
            Cell::Invalid(
                "it has more digits than pmf can hold exactly (at most 28, and at most 28 after the point)"
            )
        );
    }
}
