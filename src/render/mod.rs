//! Renderers: the shared briefing view into bytes, one module per format, each writing into
//! any writer. Helpers every format shares live here.

use std::borrow::Cow;

/// A CSV writer's error as an I/O error, keeping the I/O kind (a closed pipe stays a closed
/// pipe, which `pmf report | head` must treat as success).
pub fn csv_error(e: ::csv::Error) -> std::io::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A text cell made safe for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'` so it is never run as a formula (SPEC 5).
pub fn safe_cell(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// Appends `d` exactly as its `Display` writes it (the digits of its mantissa with `scale`
/// decimals, trailing zeros kept, a `-` for any negative, even zero), without the formatting
/// machinery: a national CSV writes ten million numbers.
pub fn push_decimal(out: &mut Vec<u8>, d: rust_decimal::Decimal) {
    // The mantissa's digits by `itoa` (two at a time), right-aligned in `digits` and padded
    // with zeros to at least `scale` of them (a zero mantissa has none of its own).
    let mut digits = [b'0'; 40];
    let mut itoa = itoa::Buffer::new();
    let m = d.mantissa().unsigned_abs();
    let text = match u64::try_from(m) {
        Ok(0) => &b""[..],
        Ok(m) => itoa.format(m).as_bytes(),
        Err(_) => itoa.format(m).as_bytes(),
    };
    let scale = d.scale() as usize;
    let len = text.len().max(scale);
    digits[40 - text.len()..].copy_from_slice(text);
    let digits = &digits[40 - len..];
    if d.is_sign_negative() {
        out.push(b'-');
    }
    let whole = digits.len() - scale;
    if whole == 0 {
        out.push(b'0');
    } else {
        out.extend_from_slice(&digits[..whole]);
    }
    if scale > 0 {
        out.push(b'.');
        out.extend_from_slice(&digits[whole..]);
    }
}

pub mod csv;
pub mod json;
pub mod pdf;
pub mod table;

/// The CSV (or, with `json`, the JSON) report, rendered as it is assessed: each indicator's
/// records on the thread that assessed it, written in framework order (see
/// [`crate::assess::assess_each`]). What [`csv::write`] and [`json::write`] make of the whole
/// view, byte for byte, without ever holding a national report's million rows. `done` is
/// called as each indicator is written (for progress).
pub fn stream(
    fw: &crate::framework::Framework,
    returns: crate::returns::Returns,
    options: &crate::assess::Options,
    filters: &crate::briefing::Filters,
    json: bool,
    out: &mut dyn std::io::Write,
    done: impl Fn(),
) -> std::io::Result<()> {
    use crate::assess::{assess_each, Row};
    let is_record = |r: &&Row| filters.is_record(fw, r);
    if json {
        json::head(fw, options.period, options.as_of, filters.area, out)?;
        let mut list = json::List::default();
        assess_each(
            fw,
            returns,
            options,
            |rows| json::records(fw, rows.filter(|r| is_record(&r))),
            |block| {
                done();
                list.write(&block?, out)
            },
        )?;
        json::tail(&list, out)
    } else {
        csv::header(out)?;
        assess_each(
            fw,
            returns,
            options,
            |rows| csv::block(fw, rows.filter(|r| is_record(&r))),
            |text| {
                done();
                out.write_all(&text?)
            },
        )?;
        out.flush()
    }
}

use rust_decimal::{Decimal, RoundingStrategy};

use crate::assess::Direction;
use crate::framework::{Indicator, Unit};

/// The children a roll-up lacked (SPEC 4.6: the report says which children are missing), as
/// `E10000002 (Buckinghamshire)`, the first six by name and then how many more; `None` when
/// the row is not an incomplete roll-up.
pub fn missing_children(
    fw: &crate::framework::Framework,
    row: &crate::assess::Row,
) -> Option<String> {
    let crate::assess::Source::Missing { children } = &row.source else {
        return None;
    };
    if row.value.is_some() || children.is_empty() {
        return None;
    }
    let named: Vec<String> = children
        .iter()
        .take(6)
        .filter_map(|&c| fw.areas.get(c))
        .map(|a| format!("{} ({})", a.code, a.name))
        .collect();
    let mut text = named.join(", ");
    if children.len() > 6 {
        text.push_str(&format!(" and {} more", children.len() - 6));
    }
    Some(text)
}

/// A number as people read it: rounded half away from zero to the indicator's `decimals`,
/// thousands separated, with `%` for percentages.
pub fn shown(ind: &Indicator, value: Decimal) -> String {
    let mut rounded =
        value.round_dp_with_strategy(ind.decimals, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(ind.decimals);
    let mut text = group_thousands(&rounded.to_string());
    if ind.unit == Unit::Percent {
        text.push('%');
    }
    text
}

/// `1234567.5` as `1,234,567.5`.
pub fn group_thousands(plain: &str) -> String {
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}{frac}")
}

/// The direction as an arrow and a word.
pub fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Improving => "↑ improving",
        Direction::Worsening => "↓ worsening",
        Direction::NoChange => "→ no change",
        Direction::NA => "– n/a",
    }
}

#[cfg(test)]
mod tests {
    use super::{group_thousands, push_decimal, safe_cell};

    proptest::proptest! {
        /// `push_decimal` writes what `Display` writes, for any decimal (negative zero too).
        #[test]
        fn push_decimal_is_display(d in crate::testing::decimals()) {
            let mut out = Vec::new();
            push_decimal(&mut out, d);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), d.to_string());
        }
    }

    #[test]
    fn thousands_and_formula_safety() {
        assert_eq!(group_thousands("1234567.50"), "1,234,567.50");
        assert_eq!(group_thousands("-1234"), "-1,234");
        assert_eq!(group_thousands("999"), "999");
        assert_eq!(safe_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(safe_cell("-3 worse"), "'-3 worse");
        assert_eq!(safe_cell("@x"), "'@x");
        assert_eq!(safe_cell("\tx"), "'\tx");
        assert_eq!(safe_cell("fine"), "fine");
    }
}
