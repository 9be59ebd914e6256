//! Partner returns (SPEC 2.3): the validated observations every later stage uses, and the
//! reader that builds them from CSV bytes ([`read`]), collecting every problem of SPEC 3.
//!
//! An [`Observation`] is compact: interned indices for indicator and area, a [`Period`] of a few
//! bytes, exact decimals, and the rarely-present text (commentary, dates) behind one optional
//! box, so memory grows with the rows kept, not with the file's text.

pub mod complete;
pub mod read;
pub mod value;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::period::Period;

pub use read::{read, Source};

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowInfo {
    pub commentary: Option<String>,
    pub prediction: Option<Prediction>,
    pub action_plan: Option<bool>,
    pub submitted_by: Option<String>,
    pub submitted_on: Option<NaiveDate>,
}

/// One valid return row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Index into `Framework::indicators`.
    pub indicator: u32,
    /// Index into `Framework::areas`.
    pub area: u32,
    pub period: Period,
    /// `None` for a suppression marker (`[c]`, `x`, `..`): submitted, but no value.
    pub value: Option<Decimal>,
    /// Index into [`Returns::parts`] of the row's numerator and denominator, or [`NO_PARTS`]:
    /// most rows carry none, so they live beside the observations, not in each one.
    pub parts: u32,
    pub status: Status,
    pub info: Option<Box<RowInfo>>,
    /// Index into [`Returns::files`].
    pub file: u32,
    /// Physical line the record starts on (header = 1).
    pub line: u32,
}

/// An observation's numerator and denominator from the side table.
pub fn parts_of(parts: &[Parts], o: &Observation) -> Parts {
    parts.get(o.parts as usize).copied().unwrap_or_default()
}

/// Adds a row's numerator and denominator to the side table; the index to keep, or
/// [`NO_PARTS`] when it has neither.
pub fn push_parts(
    parts: &mut Vec<Parts>,
    numerator: Option<Decimal>,
    denominator: Option<Decimal>,
) -> u32 {
    if numerator.is_none() && denominator.is_none() {
        return NO_PARTS;
    }
    parts.push(Parts {
        numerator,
        denominator,
    });
    (parts.len() - 1) as u32
}

impl Observation {
    pub fn commentary(&self) -> Option<&str> {
        self.info.as_ref().and_then(|i| i.commentary.as_deref())
    }
    pub fn prediction(&self) -> Option<Prediction> {
        self.info.as_ref().and_then(|i| i.prediction)
    }
    pub fn action_plan(&self) -> Option<bool> {
        self.info.as_ref().and_then(|i| i.action_plan)
    }
    pub fn submitted_on(&self) -> Option<NaiveDate> {
        self.info.as_ref().and_then(|i| i.submitted_on)
    }
}

/// An observation's `parts` when it has no numerator or denominator.
pub const NO_PARTS: u32 = u32::MAX;

/// A row's numerator and denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    pub numerator: Option<Decimal>,
    pub denominator: Option<Decimal>,
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
    pub parts: Vec<Parts>,
}

impl Returns {
    /// An observation's numerator and denominator.
    pub fn parts(&self, o: &Observation) -> Parts {
        parts_of(&self.parts, o)
    }

    /// The latest period among the observations (the one ending last).
    pub fn latest_period(&self) -> Option<Period> {
        self.observations
            .iter()
            .map(|o| o.period)
            .max_by_key(|p| p.end_month_abs())
    }

    /// The quarter in which the latest period ends: the default report and validation period.
    pub fn latest_quarter(&self) -> Option<Period> {
        let last = self.latest_period()?;
        last.latest_at(crate::period::Frequency::Quarterly)
            .and_then(|q| {
                if q.end_month_abs() == last.end_month_abs() {
                    Some(q)
                } else {
                    q.offset(1)
                }
            })
    }
}
