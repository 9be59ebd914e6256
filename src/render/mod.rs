//! Renderers: the shared briefing view into bytes, one module per format, each writing into
//! any writer. Helpers every format shares live here.

use std::borrow::Cow;

/// A text cell made safe for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'` so it is never run as a formula (SPEC 5).
pub fn safe_cell(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}
pub mod pdf;
