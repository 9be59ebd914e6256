//! Partner returns (SPEC 2.3): the validated observations every later stage uses, and the
//! reader that builds them from CSV bytes ([`read`]), collecting every problem of SPEC 3.
//!
//! An [`Observation`] is compact (44 bytes): interned indices for indicator and area, a
//! [`Period`] of a few bytes, an exact decimal packed into 13 bytes ([`Packed`]), and indices into
//! side tables for the rarely-present numerator, denominator and optional columns, so memory
//! grows with the rows kept, not with the file's text.

pub mod complete;
pub mod read;
pub mod value;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::period::Period;

pub use read::{read, read_for_checking, Seen, Source};

/// The lead's own view of whether the target will be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prediction {
    OnTrack,
    OffTrack,
    AtRisk,
}

impl Prediction {
    pub fn as_str(self) -> &'static str {
        match self {
            Prediction::OnTrack => "on track",
            Prediction::OffTrack => "off track",
            Prediction::AtRisk => "at risk",
        }
    }

    /// Whether the lead expects the target to be met (`at risk` counts as off track).
    pub fn expects_on_track(self) -> bool {
        self == Prediction::OnTrack
    }
}

/// `final` (the default) or `provisional`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Status {
    #[default]
    Final,
    Provisional,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Final => "final",
            Status::Provisional => "provisional",
        }
    }
}

/// The optional columns of a row, boxed because most rows at scale have none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RowInfo {
    pub commentary: Option<String>,
    pub prediction: Option<Prediction>,
    pub action_plan: Option<bool>,
    /// Shared: a return usually names one person on every row.
    pub submitted_by: Option<std::sync::Arc<str>>,
    pub submitted_on: Option<NaiveDate>,
}

/// A decimal, or no value, in 13 bytes: the decimal's 96-bit magnitude and one byte for its
/// scale and sign (0xFF: none). Observations at national scale are tens of millions, and an
/// `Option<Decimal>` takes 20. Exact: every `Decimal` round-trips, scale and sign included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packed {
    magnitude: [u8; 12],
    tag: u8,
}

impl Packed {
    const NONE: u8 = 0xFF;

    pub fn new(value: Option<Decimal>) -> Packed {
        match value {
            None => Packed {
                magnitude: [0; 12],
                tag: Packed::NONE,
            },
            Some(d) => {
                // `serialize`: flags (scale in byte 2, sign in the top bit of byte 3), then
                // the low, middle and high 32 bits of the magnitude.
                let b = d.serialize();
                let mut magnitude = [0; 12];
                magnitude.copy_from_slice(&b[4..]);
                Packed {
                    magnitude,
                    tag: (b[2] & 0x1F) | (b[3] & 0x80),
                }
            }
        }
    }

    /// The value in 8 bytes, when its magnitude is below 2^56 (nearly every value): the
    /// magnitude's first 7 bytes and the tag. [`Packed::from_small`] gives it back.
    pub(crate) fn small(self) -> Option<u64> {
        if self.magnitude[7..].iter().any(|&b| b != 0) {
            return None;
        }
        let mut b = [0u8; 8];
        b[..7].copy_from_slice(&self.magnitude[..7]);
        b[7] = self.tag;
        Some(u64::from_le_bytes(b))
    }

    /// The value [`Packed::small`] gave `word` for.
    pub(crate) fn from_small(word: u64) -> Packed {
        let b = word.to_le_bytes();
        let mut magnitude = [0; 12];
        magnitude[..7].copy_from_slice(&b[..7]);
        Packed {
            magnitude,
            tag: b[7],
        }
    }

    pub fn get(self) -> Option<Decimal> {
        if self.tag == Packed::NONE {
            return None;
        }
        let mut b = [0u8; 16];
        b[2] = self.tag & 0x1F;
        b[3] = self.tag & 0x80;
        b[4..].copy_from_slice(&self.magnitude);
        Some(Decimal::deserialize(b))
    }
}

/// One valid return row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Index into `Framework::indicators`.
    pub indicator: u32,
    /// Index into `Framework::areas`.
    pub area: u32,
    pub period: Period,
    /// The value; none for a suppression marker (`[c]`, `x`, `..`): submitted, but no value.
    /// Read it with [`Observation::value`].
    pub value: Packed,
    /// Index into [`Returns::parts`] of the row's numerator and denominator, or [`NO_PARTS`]:
    /// most rows carry none, so they live beside the observations, not in each one.
    pub parts: u32,
    pub status: Status,
    /// Index into [`Returns::infos`] of the row's optional columns, or [`NO_INFO`].
    pub info: u32,
    /// Index into [`Returns::files`].
    pub file: u32,
    /// Physical line the record starts on (header = 1).
    pub line: u32,
}

impl Observation {
    pub fn value(&self) -> Option<Decimal> {
        self.value.get()
    }
}

/// An observation's numerator and denominator from the side table.
pub fn parts_of(parts: &[PackedParts], o: &Observation) -> Parts {
    parts
        .get(o.parts as usize)
        .map_or_else(Parts::default, |p| Parts {
            numerator: p.numerator.get(),
            denominator: p.denominator.get(),
        })
}

/// Adds a row's numerator and denominator to the side table; the index to keep, or
/// [`NO_PARTS`] when it has neither.
pub fn push_parts(
    parts: &mut Vec<PackedParts>,
    numerator: Option<Decimal>,
    denominator: Option<Decimal>,
) -> u32 {
    match PackedParts::new(numerator, denominator) {
        None => NO_PARTS,
        Some(p) => {
            parts.push(p);
            (parts.len() - 1) as u32
        }
    }
}

/// Adds a row's optional columns to the side table; the index to keep, or [`NO_INFO`]. (The
/// reader shares one entry among rows with the same columns: `read::Reader::intern_info`.)
pub fn push_info(infos: &mut Vec<RowInfo>, info: Option<RowInfo>) -> u32 {
    match info {
        None => NO_INFO,
        Some(i) => {
            infos.push(i);
            (infos.len() - 1) as u32
        }
    }
}

/// A row sent but not kept: refused for an error (a bad prediction, a date, a ratio that does
/// not agree...) whose indicator, area and ended period could be read, or one of a conflicting
/// pair. Its return is not absent for completeness (SPEC 3: a `missing-return` is a due return
/// that is absent), and when it carried a value its area has sent the indicator one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub indicator: u32,
    pub area: u32,
    pub period: Period,
    /// Whether its value cell held a value (a number or a suppression marker).
    pub valued: bool,
}

/// An observation's `parts` when it has no numerator or denominator.
pub const NO_PARTS: u32 = u32::MAX;
/// An observation's `info` when it has none of the optional columns.
pub const NO_INFO: u32 = u32::MAX;

/// A row's numerator and denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
}

/// A row's numerator and denominator as stored (26 bytes rather than 40).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedParts {
    numerator: Packed,
    denominator: Packed,
}

impl PackedParts {
    /// `None` when the row has neither.
    pub fn new(numerator: Option<Decimal>, denominator: Option<Decimal>) -> Option<PackedParts> {
        (numerator.is_some() || denominator.is_some()).then(|| PackedParts {
            numerator: Packed::new(numerator),
            denominator: Packed::new(denominator),
        })
    }
}

/// Every valid observation from every file, in file order then line order, with duplicates
/// (same indicator, area, period and value) already dropped.
#[derive(Debug, Clone, Default)]
pub struct Returns {
    pub observations: Vec<Observation>,
    /// The files read, as the user named them.
    pub files: Vec<String>,
    /// Per file, the 1-based field number of its `submitted_on` column (0 when it has none).
    pub date_columns: Vec<u32>,
    /// Numerators and denominators, indexed by [`Observation::parts`].
    pub parts: Vec<PackedParts>,
    /// Optional columns, indexed by [`Observation::info`].
    pub infos: Vec<RowInfo>,
    /// Rows sent but not kept (see [`Sent`]), for completeness.
    pub sent: Vec<Sent>,
    /// The latest period, when the reader found it on its last pass over the observations
    /// (`Some`); `None` when not known (returns made by hand), and then found when asked. Whoever
    /// changes `observations` after reading must set it back to `None`.
    pub latest: Option<Option<Period>>,
    /// Per indicator, the run of `observations` that holds all of its observations, when
    /// every indicator's observations lie together (returns sorted or split by indicator),
    /// as the reader found on its last pass; `None` when they do not, or when not known.
    /// Whoever changes `observations` after reading must set it back to `None`.
    pub runs: Option<Vec<std::ops::Range<u32>>>,
}

impl Returns {
    /// An observation's numerator and denominator.
    pub fn parts(&self, o: &Observation) -> Parts {
        parts_of(&self.parts, o)
    }

    /// An observation's optional columns, when it has any.
    pub fn info(&self, o: &Observation) -> Option<&RowInfo> {
        self.infos.get(o.info as usize)
    }

    pub fn commentary(&self, o: &Observation) -> Option<&str> {
        self.info(o).and_then(|i| i.commentary.as_deref())
    }
    pub fn submitted_on(&self, o: &Observation) -> Option<NaiveDate> {
        self.info(o).and_then(|i| i.submitted_on)
    }

    /// The latest period among the observations: the one ending last; of those ending
    /// together, the longest (SPEC 3: `validate`'s default period, where a quarter then
    /// checks all of its months); of those alike, the last in file order.
    pub fn latest_period(&self) -> Option<Period> {
        if let Some(latest) = self.latest {
            return latest;
        }
        // On every core (22 million rows at national scale). Of the greatest rank, the last
        // in file order, as `Iterator::max_by_key` gives.
        use rayon::prelude::*;
        self.observations
            .par_iter()
            .enumerate()
            .map(|(i, o)| (o.period.latest_rank(), i))
            .max()
            .map(|(_, i)| self.observations[i].period)
    }

    /// The quarter in which the latest period ends: the default report period.
    pub fn latest_quarter(&self) -> Option<Period> {
        quarter_ending(self.latest_period())
    }
}

/// The quarter in which `latest` ends.
fn quarter_ending(latest: Option<Period>) -> Option<Period> {
    let last = latest?;
    last.latest_at(crate::period::Frequency::Quarterly)
        .and_then(|q| {
            if q.end_month_abs() == last.end_month_abs() {
                Some(q)
            } else {
                q.offset(1)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::Packed;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    /// The latest period ends last and, of those ending together (a quarter, a month and a
    /// year can), is the longest, exactly as a sequential `max_by_key` finds it.
    #[test]
    fn latest_period_ends_last_and_is_longest() {
        use crate::period::{Frequency, Period, YearStart};
        let ys = YearStart::April;
        let q4 = Period::new(ys, Frequency::Quarterly, 2024, 4).unwrap();
        let year = Period::year_of(ys, 2024).unwrap();
        let m12 = Period::new(ys, Frequency::Monthly, 2024, 12).unwrap();
        let q2 = Period::new(ys, Frequency::Quarterly, 2024, 2).unwrap();
        let returns_of = |periods: &[Period]| super::Returns {
            observations: periods
                .iter()
                .map(|&period| super::Observation {
                    indicator: 0,
                    area: 0,
                    period,
                    value: Packed::new(None),
                    parts: super::NO_PARTS,
                    status: super::Status::Final,
                    info: super::NO_INFO,
                    file: 0,
                    line: 2,
                })
                .collect(),
            ..Default::default()
        };
        for order in [
            vec![q2, q4, year, m12],
            vec![m12, year, q4, q2],
            vec![year, q2, m12, q4],
            vec![q4; 3000]
                .into_iter()
                .chain([year, q2])
                .chain(vec![m12; 3000])
                .collect(),
        ] {
            let expected = order.iter().copied().max_by_key(|p| p.latest_rank());
            assert_eq!(returns_of(&order).latest_period(), expected);
        }
        assert_eq!(returns_of(&[]).latest_period(), None);
        // Of the periods ending together, the longest, in any order.
        for order in [[year, q4, m12], [m12, q4, year], [q4, year, m12]] {
            assert_eq!(returns_of(&order).latest_period(), Some(year));
        }
        assert_eq!(returns_of(&[m12, q4, m12]).latest_period(), Some(q4));
    }

    proptest::proptest! {
        /// Every decimal comes back the same: value, scale, sign and text.
        #[test]
        fn packed_round_trips(lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, negative, scale);
            let back = Packed::new(Some(d)).get().unwrap();
            proptest::prop_assert_eq!(back.serialize(), d.serialize());
            proptest::prop_assert_eq!(back.to_string(), d.to_string());
        }
    }

    #[test]
    fn packed_none_and_edges() {
        assert_eq!(Packed::new(None).get(), None);
        for s in [
            "0",
            "-0",
            "0.000",
            "-0.5",
            "45.20",
            "79228162514264337593543950335",
            "-0.0000000000000000000000000001",
        ] {
            let d = Decimal::from_str(s).unwrap();
            let back = Packed::new(Some(d)).get().unwrap();
            assert_eq!(
                (back.to_string(), back.scale()),
                (d.to_string(), d.scale()),
                "{s}"
            );
        }
        assert_eq!(std::mem::size_of::<super::Observation>(), 44);
        assert_eq!(std::mem::size_of::<super::PackedParts>(), 26);
    }
}
