//! The rules of SPEC 4 as pure, total functions over the validated model: targets, RAG,
//! direction of travel, escalation, forecasts and area roll-ups, in exact decimals.
//!
//! [`assess`] turns a framework and its returns into an [`Assessment`]: one [`Row`] per
//! indicator and area that has at least one value (sent or rolled up), each carrying everything
//! every output format shows. Renderers never do arithmetic of their own: they read these rows.
//! A missing value is a state (`None`, `Rag::NA`), never an error.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::period::Period;
use crate::returns::{Prediction, Status};

/// RAG status (SPEC 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rag {
    Red,
    Amber,
    Green,
    Blue,
    /// Not applicable: polarity `none`, no target, or no value.
    NA,
}

impl Rag {
    pub const ALL: [Rag; 5] = [Rag::Red, Rag::Amber, Rag::Green, Rag::Blue, Rag::NA];

    /// `RED|AMBER|GREEN|BLUE|N/A`, as in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Red => "RED",
            Rag::Amber => "AMBER",
            Rag::Green => "GREEN",
            Rag::Blue => "BLUE",
            Rag::NA => "N/A",
        }
    }
}

/// Direction of travel (SPEC 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Improving,
    Worsening,
    NoChange,
    /// The comparable earlier value is missing, or polarity is `none`.
    NA,
}

impl Direction {
    /// `improving|worsening|no change|n/a`, as in the CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Improving => "improving",
            Direction::Worsening => "worsening",
            Direction::NoChange => "no change",
            Direction::NA => "n/a",
        }
    }
}

/// How a forecast was made (SPEC 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// The forecast period already has its value.
    Actual,
    /// Cumulative measure: value * periods in year / periods elapsed.
    RunRate,
    /// The last value.
    Last,
    /// The mean of the last `window` values.
    Mean,
    /// The least-squares line through the last `window` values, extrapolated.
    Trend,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Actual => "actual",
            Method::RunRate => "run-rate",
            Method::Last => "last",
            Method::Mean => "mean",
            Method::Trend => "trend",
        }
    }
}

/// A forecast for one period with its target and verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    /// The period forecast: the last of the report year at the indicator's frequency (or the
    /// plan's last period, for a plan forecast).
    pub period: Period,
    pub value: Decimal,
    pub method: Method,
    /// The target of the forecast period, when there is one.
    pub target: Option<Decimal>,
    /// `None` when there is no target or polarity is `none`.
    pub on_track: Option<bool>,
    /// Share of back-test errors that would still meet the target (0-1, two decimals), when
    /// the chosen candidate has at least `min_backtests` errors.
    pub confidence: Option<Decimal>,
    /// 10th and 90th percentiles of forecast + back-test error.
    pub interval: Option<(Decimal, Decimal)>,
}

/// Where a row's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The area's own return.
    Reported,
    /// Rolled up from child areas (SPEC 4.6).
    RolledUp,
    /// The return was sent with a suppression marker.
    Suppressed,
    /// No value: nothing was sent, or a roll-up lacked these children (area indices).
    Missing { children: Vec<usize> },
}

/// One point of a row's history, for trend charts and sparklines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub period: Period,
    pub value: Option<Decimal>,
    pub target: Option<Decimal>,
}

/// Everything shown for one indicator in one area at the report period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Index into `Framework::indicators`.
    pub indicator: usize,
    /// Index into `Framework::areas`.
    pub area: usize,
    /// The indicator's own latest period ending on or before the report period's end.
    pub period: Period,
    pub value: Option<Decimal>,
    pub source: Source,
    pub target: Option<Decimal>,
    /// (value - target) / |target| * 100, polarity-aware; `None` without value or target.
    pub deviation_pct: Option<Decimal>,
    pub rag: Rag,
    pub direction: Direction,
    /// Escalation stage 0-3 (SPEC 4.4).
    pub stage: u8,
    pub forecast: Option<Forecast>,
    pub plan_forecast: Option<Forecast>,
    /// From the reported period's return.
    pub prediction: Option<Prediction>,
    /// Yes when the lead's prediction disagrees with `forecast.on_track`.
    pub challenge: Option<bool>,
    pub status: Option<Status>,
    pub commentary: Option<String>,
    pub action_plan: Option<bool>,
    /// BLUE, or improving at this period and the one before.
    pub commended: bool,
    /// Whether the indicator has at least one value in this area (sent or rolled up) up to
    /// the report period. Rows without are kept only for the focus area, so every indicator
    /// appears in the table and the book; the CSV and JSON list only rows with a value.
    pub has_value: bool,
    /// Up to the last 8 periods of the indicator's frequency up to `period`, oldest first.
    pub history: Vec<Point>,
}

/// What to assess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The report period.
    pub period: Period,
    /// "Today" (`--as-of`).
    pub as_of: NaiveDate,
    /// The area every indicator gets a row for, with or without data (the default area, or
    /// `--area`).
    pub focus_area: usize,
}

/// The whole computation at one report period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The report period (a quarter, or a year reported at its end).
    pub period: Period,
    /// "Today": the date the report is produced, from `--as-of`.
    pub as_of: NaiveDate,
    /// Ordered as the framework orders indicators, then areas in framework order.
    pub rows: Vec<Row>,
}
