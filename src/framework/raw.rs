//! The framework file as written (SPEC 2.1): serde types that mirror the YAML key for key, with
//! their defaults. The JSON Schema in `schema/framework.schema.json` is generated from these
//! types, so the schema and the reader cannot drift. Nothing here checks references or periods:
//! that is [`super::load`]'s job, which turns these into the validated model.

use indexmap::IndexMap;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::period::{Frequency, YearStart};

/// A performance management framework: themes, priorities and indicators with their targets.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "pmf framework")]
pub struct RawFramework {
    /// The framework's name, shown on every page and report.
    pub name: String,
    /// The partnership that owns it.
    #[serde(default)]
    pub partnership: Option<String>,
    /// When the year starts: `april` (UK financial year, `2024/25`) or `january` (`2024`).
    #[serde(default)]
    pub year_start: YearStart,
    /// The plan's first and last years, for end-of-plan targets and forecasts.
    #[serde(default)]
    pub plan: Option<RawPlan>,
    /// A return is due this many days after its period ends.
    #[serde(default = "default_deadline_days")]
    pub deadline_days: u32,
    /// Areas, any depth. The first top area is the default area. Default: one area `ALL`.
    #[serde(default)]
    pub areas: Vec<RawArea>,
    /// The partners that lead indicators and submit returns.
    #[serde(default)]
    pub organisations: Vec<RawOrganisation>,
    /// Named RAG schemes besides the built-in `achievement`, `deviation` and `on-target`.
    #[serde(default)]
    pub rag_schemes: IndexMap<String, RawScheme>,
    /// The scheme used where an indicator names none.
    #[serde(default)]
    pub default_rag: Option<String>,
    /// When escalation moves to stage 2 (action) and stage 3 (intervention).
    #[serde(default)]
    pub escalation: RawEscalation,
    /// How forecasts are chosen and back-tested.
    #[serde(default)]
    pub forecast: RawForecast,
    /// Themes, each with priorities, each with indicators.
    pub themes: Vec<RawTheme>,
}

fn default_deadline_days() -> u32 {
    28
}

/// The plan's first and last years, e.g. `{start: 2023/24, end: 2025/26}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Plan")]
pub struct RawPlan {
    pub start: Scalar,
    pub end: Scalar,
}

/// A code, year or period key as text (`NI 62`, `2024/25 Q2`); a bare YAML number such as `2024`
/// is read as its text, so January years and numeric codes need no quotes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scalar(pub String);

impl Scalar {
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a year or period such as 2024/25 or 2024/25 Q2")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The schema of a code field: read as a [`Scalar`], but a code, not a period.
fn code_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["string", "integer"],
        "minLength": 1,
        "description": "A code, unique within its kind (NI 62, E05000012); a number may be written without quotes"
    })
}

impl JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Period".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "integer"],
            "description": "A year (2024/25, or 2024 with year_start: january) or a period (2024/25 Q2, 2024/25 H1, 2024-04)"
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Area")]
pub struct RawArea {
    #[schemars(schema_with = "code_schema")]
    pub code: Scalar,
    pub name: String,
    /// Child areas.
    #[serde(default)]
    pub areas: Vec<RawArea>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Organisation")]
pub struct RawOrganisation {
    #[schemars(schema_with = "code_schema")]
    pub code: Scalar,
    pub name: String,
}

/// A RAG scheme (SPEC 4.2): a built-in kind with its own thresholds.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scheme")]
pub struct RawScheme {
    pub kind: SchemeKind,
    /// achievement: GREEN at this % achieved or more (default 95).
    #[serde(default)]
    pub green: Option<Decimal>,
    /// achievement: AMBER at this % achieved or more (default 90).
    #[serde(default)]
    pub amber: Option<Decimal>,
    /// deviation: RED at this % deviation or worse (default -10).
    #[serde(default)]
    pub red: Option<Decimal>,
    /// deviation: BLUE at this % deviation or better (default 10).
    #[serde(default)]
    pub blue: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SchemeKind {
    Achievement,
    Deviation,
    OnTarget,
}

pub fn default_green() -> Decimal {
    Decimal::from(95)
}
pub fn default_amber() -> Decimal {
    Decimal::from(90)
}
pub fn default_red() -> Decimal {
    Decimal::from(-10)
}
pub fn default_blue() -> Decimal {
    Decimal::from(10)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Escalation")]
pub struct RawEscalation {
    /// Periods below target in a row, not improving, before stage 2 (action).
    #[serde(default = "default_action_after")]
    pub action_after: u32,
    /// Periods after stage 2, still below target, before stage 3 (intervention).
    #[serde(default = "default_intervention_after")]
    pub intervention_after: u32,
}

impl Default for RawEscalation {
    fn default() -> Self {
        RawEscalation {
            action_after: default_action_after(),
            intervention_after: default_intervention_after(),
        }
    }
}

fn default_action_after() -> u32 {
    2
}
fn default_intervention_after() -> u32 {
    1
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Forecast")]
pub struct RawForecast {
    /// How many recent values the candidates use.
    #[serde(default = "default_window")]
    pub window: u32,
    /// Back-tests a candidate needs before it can replace `last`.
    #[serde(default = "default_min_backtests")]
    pub min_backtests: u32,
    /// A candidate replaces `last` when its mean absolute error is below this times `last`'s.
    #[serde(default = "default_margin")]
    pub margin: Decimal,
}

impl Default for RawForecast {
    fn default() -> Self {
        RawForecast {
            window: default_window(),
            min_backtests: default_min_backtests(),
            margin: default_margin(),
        }
    }
}

fn default_window() -> u32 {
    8
}
fn default_min_backtests() -> u32 {
    4
}
fn default_margin() -> Decimal {
    Decimal::new(8, 1)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Theme")]
pub struct RawTheme {
    #[schemars(schema_with = "code_schema")]
    pub code: Scalar,
    pub name: String,
    #[serde(default)]
    pub priorities: Vec<RawPriority>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Priority")]
pub struct RawPriority {
    #[schemars(schema_with = "code_schema")]
    pub code: Scalar,
    pub name: String,
    #[serde(default)]
    pub indicators: Vec<RawIndicator>,
}

/// What the value measures; sets the default `decimals` and the percent checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Percent,
    Count,
    Rate,
    Ratio,
    Days,
    Currency,
    Score,
    #[default]
    Number,
}

/// Whether higher or lower values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Higher,
    Lower,
    /// For information only: no RAG, no direction.
    None,
}

/// Snapshot (the value at the period) or cumulative (year to date).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    #[default]
    Snapshot,
    Cumulative,
}

/// How child areas roll up into their parent (SPEC 4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    Sum,
    Ratio,
    None,
}

/// Which level of the partnership looks at an indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Board,
    #[default]
    Executive,
    Operational,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Board => "board",
            Tier::Executive => "executive",
            Tier::Operational => "operational",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Lead")]
pub struct RawLead {
    pub name: String,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Baseline")]
pub struct RawBaseline {
    pub period: Scalar,
    pub value: Decimal,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Indicator")]
pub struct RawIndicator {
    /// Unique code, as partners write it in their returns (e.g. `NI 62`).
    #[schemars(schema_with = "code_schema")]
    pub code: Scalar,
    pub name: String,
    #[serde(default)]
    pub unit: Unit,
    pub polarity: Polarity,
    #[serde(default)]
    pub frequency: Frequency,
    #[serde(default)]
    pub measure: Measure,
    /// Default: `sum` for a count, else `none`.
    #[serde(default)]
    pub aggregate: Option<Aggregate>,
    /// With `ratio`: value = numerator / denominator * scale.
    #[serde(default)]
    pub scale: Option<Decimal>,
    /// Shown precision. Default 1 for percent, 2 otherwise.
    #[serde(default)]
    pub decimals: Option<u32>,
    #[serde(default)]
    pub lead: Option<RawLead>,
    /// Organisation that submits the return. Default: the lead's organisation.
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub tier: Tier,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub baseline: Option<RawBaseline>,
    /// Targets keyed by year (`2024/25`) or by a period of the indicator's frequency.
    #[serde(default)]
    pub targets: IndexMap<Scalar, Decimal>,
    /// One area's own targets, replacing `targets` for that area.
    #[serde(default)]
    pub area_targets: IndexMap<String, IndexMap<Scalar, Decimal>>,
    /// A RAG scheme: built-in or named in `rag_schemes`.
    #[serde(default)]
    pub rag: Option<String>,
    /// Benchmarks, e.g. `{England: 10.9}`.
    #[serde(default)]
    pub comparators: IndexMap<String, Decimal>,
    /// Minimum escalation stage (1-3) whenever below target.
    #[serde(default)]
    pub fast_track: Option<u8>,
}

/// The framework's JSON Schema, pretty-printed, as kept in `schema/framework.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(RawFramework);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
