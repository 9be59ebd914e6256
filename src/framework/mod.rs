//! The validated framework: the model every later stage works on, and the loader that builds it
//! from YAML text (SPEC 2.1, checked as SPEC 3 `pmf check` says).
//!
//! [`load`] parses the text into [`raw`] types, then checks every reference, code and period,
//! collecting all problems rather than stopping at the first. The model it returns cannot hold
//! an unresolved reference: schemes, areas and organisations are indices, periods are parsed.

pub mod raw;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::diag::{Code, Diagnostic};
use crate::period::{Frequency, Period, YearStart};
pub use raw::{Aggregate, Measure, Polarity, Tier, Unit};
use raw::{RawArea, RawFramework, RawIndicator, SchemeKind};

/// Framework files larger than this are refused before parsing (a real one is a few hundred KB).
pub const MAX_FRAMEWORK_BYTES: usize = 16 * 1024 * 1024;

/// A validated framework.
#[derive(Debug, Clone)]
pub struct Framework {
    pub name: String,
    pub partnership: Option<String>,
    pub year_start: YearStart,
    pub plan: Option<Plan>,
    pub deadline_days: u32,
    /// Every area, parents before children, in file order. Index 0 is the default area.
    pub areas: Vec<Area>,
    pub organisations: Vec<Organisation>,
    /// The built-in schemes, then the named ones, in file order.
    pub schemes: Vec<RagScheme>,
    pub default_rag: usize,
    pub escalation: Escalation,
    pub forecast: ForecastSettings,
    pub themes: Vec<Theme>,
    /// Every indicator in file order; themes and priorities refer to them by index.
    pub indicators: Vec<Indicator>,
    indicator_index: HashMap<String, usize>,
    indicator_loose: HashMap<String, Option<usize>>,
    area_index: HashMap<String, usize>,
    area_loose: HashMap<String, Option<usize>>,
    organisation_index: HashMap<String, usize>,
}

/// The plan's first and last years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub start: Period,
    pub end: Period,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// 0 for a top area.
    pub depth: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub code: String,
    pub name: String,
}

/// A RAG scheme with its thresholds (SPEC 4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RagScheme {
    pub name: String,
    pub kind: RagKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RagKind {
    /// Achievement = 100 + deviation: GREEN >= green, AMBER >= amber, else RED.
    Achievement { green: Decimal, amber: Decimal },
    /// Deviation: RED <= red, BLUE >= blue, GREEN >= 0, else AMBER.
    Deviation { red: Decimal, blue: Decimal },
    /// GREEN when deviation >= 0, else RED.
    OnTarget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escalation {
    pub action_after: u32,
    pub intervention_after: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForecastSettings {
    pub window: u32,
    pub min_backtests: u32,
    pub margin: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub code: String,
    pub name: String,
    pub priorities: Vec<Priority>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority {
    pub code: String,
    pub name: String,
    /// Indices into [`Framework::indicators`].
    pub indicators: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub name: String,
    pub organisation: Option<usize>,
    pub email: Option<String>,
}

/// Targets keyed by period: years and periods of the indicator's own frequency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets(pub BTreeMap<Period, Decimal>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub code: String,
    pub name: String,
    pub unit: Unit,
    pub polarity: Polarity,
    pub frequency: Frequency,
    pub measure: Measure,
    /// Resolved: without `aggregate`, a count sums and anything else is `none`.
    pub aggregate: Aggregate,
    pub scale: Decimal,
    pub decimals: u32,
    pub lead: Option<Lead>,
    /// Who submits the return: `provider`, else the lead's organisation.
    pub provider: Option<usize>,
    pub tier: Tier,
    pub tags: Vec<String>,
    pub baseline: Option<(Period, Decimal)>,
    pub targets: Targets,
    /// Areas with their own targets, replacing `targets` for that area.
    pub area_targets: Vec<(usize, Targets)>,
    /// Index into [`Framework::schemes`].
    pub rag: usize,
    pub comparators: Vec<(String, Decimal)>,
    pub fast_track: Option<u8>,
    pub theme: usize,
    pub priority: usize,
}

impl Indicator {
    /// The targets that apply to an area (SPEC 4.1).
    pub fn targets_for(&self, area: usize) -> &Targets {
        self.area_targets
            .iter()
            .find(|(a, _)| *a == area)
            .map(|(_, t)| t)
            .unwrap_or(&self.targets)
    }
}

/// How a code in a return matched the framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact(usize),
    /// Matched ignoring case and spacing; the return should be corrected.
    Loose(usize),
    None,
}

/// Case and spacing folded, for matching codes as partners type them.
pub fn fold_code(code: &str) -> String {
    code.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

fn lookup(
    exact: &HashMap<String, usize>,
    loose: &HashMap<String, Option<usize>>,
    code: &str,
) -> Match {
    if let Some(&i) = exact.get(code) {
        return Match::Exact(i);
    }
    match loose.get(&fold_code(code)) {
        Some(Some(i)) => Match::Loose(*i),
        _ => Match::None,
    }
}

impl Framework {
    pub fn indicator(&self, code: &str) -> Match {
        lookup(&self.indicator_index, &self.indicator_loose, code)
    }

    pub fn area(&self, code: &str) -> Match {
        lookup(&self.area_index, &self.area_loose, code)
    }

    pub fn organisation(&self, code: &str) -> Option<usize> {
        self.organisation_index.get(code).copied()
    }

    /// The default area: the first top area.
    pub fn default_area(&self) -> usize {
        0
    }

    /// Area codes as a short list for help messages.
    pub fn area_list(&self) -> String {
        short_list(self.areas.iter().map(|a| a.code.as_str()))
    }

    /// The display name of the organisation that submits an indicator's return.
    pub fn provider_name(&self, indicator: &Indicator) -> Option<&str> {
        indicator
            .provider
            .map(|o| self.organisations[o].name.as_str())
    }

    pub fn is_area_descendant(&self, area: usize, ancestor: usize) -> bool {
        let mut a = Some(area);
        while let Some(x) = a {
            if x == ancestor {
                return true;
            }
            a = self.areas[x].parent;
        }
        false
    }
}

/// `A, B, C` or `A, B, … (12 in all)`.
pub fn short_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    // Only the first few are kept: a national framework has 7,000 areas, and this is written
    // for every row with an unknown code.
    let mut first: Vec<&str> = Vec::with_capacity(8);
    let mut all = 0usize;
    for item in items {
        if first.len() < 8 {
            first.push(item);
        }
        all += 1;
    }
    if all <= 8 {
        first.join(", ")
    } else {
        format!("{}, … ({all} in all)", first.join(", "))
    }
}

/// Finds where things are in the YAML text, since parsed values carry no positions.
struct Locator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Locator<'a> {
        Locator {
            lines: text.lines().collect(),
        }
    }

    /// The first line at or after `from` (1-based) where `key:` is followed by `value` (bare
    /// or quoted); returns (line, column of the value).
    fn key_value(&self, key: &str, value: &str, from: u32) -> Option<(u32, u32)> {
        let start = from.max(1) as usize - 1;
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            let mut search = 0;
            while let Some(pos) = line[search..].find(key) {
                let k = search + pos;
                search = k + key.len();
                let before_ok = k == 0
                    || !line.as_bytes()[k - 1].is_ascii_alphanumeric()
                        && line.as_bytes()[k - 1] != b'_';
                // The key may be quoted (`"code": I2`, as JSON writes every key).
                let rest = &line[k + key.len()..];
                let quoted = k > 0 && matches!(line.as_bytes()[k - 1], b'"' | b'\'');
                let rest = match rest
                    .strip_prefix(['"', '\''])
                    .filter(|_| quoted)
                    .unwrap_or(rest)
                    .strip_prefix(':')
                {
                    Some(r) => r.trim_start(),
                    None => continue,
                };
                let rest = rest.trim_start_matches(['"', '\'']);
                if before_ok && rest.starts_with(value) {
                    let after = &rest[value.len()..];
                    let end_ok =
                        after.is_empty() || after.starts_with(['"', '\'', ',', '}', ' ', '#', ']']);
                    if end_ok {
                        let value_at = line.len() - rest.len();
                        return Some((i as u32 + 1, char_col(line, value_at)));
                    }
                }
            }
        }
        None
    }

    /// The first line at or after `from` whose key (before `:`) is `key`, bare or quoted.
    fn key(&self, key: &str, from: u32) -> Option<(u32, u32)> {
        let start = from.max(1) as usize - 1;
        let needles = ["", "\"", "'"].map(|quote| format!("{quote}{key}{quote}:"));
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            for needle in &needles {
                if let Some(k) = line.find(needle.as_str()) {
                    let before = line[..k].trim_end();
                    if before.is_empty() || before.ends_with(['{', ',', '-']) {
                        return Some((i as u32 + 1, char_col(line, k)));
                    }
                }
            }
        }
        None
    }
}

fn char_col(line: &str, byte: usize) -> u32 {
    line[..byte].chars().count() as u32 + 1
}

/// Everything `load` found: the model when there is one, and every problem.
pub struct Loaded {
    pub framework: Option<Framework>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse and validate a framework. `file` is the path as the user gave it; `today` decides the
/// "current year" of the no-target warning.
pub fn load(text: &str, file: &str, today: NaiveDate) -> Loaded {
    let fail = |d: Diagnostic| Loaded {
        framework: None,
        diagnostics: vec![d],
    };
    if text.len() > MAX_FRAMEWORK_BYTES {
        return fail(too_large(file, text.len() as u64));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // A key written twice in a mapping (a scheme, a target's period, an area's targets): the
    // typed reading keeps the last one silently, so the file is also read untyped, which
    // refuses it (SPEC 2.1: codes are unique within their kind). Both at once: a national
    // framework takes tens of milliseconds to read.
    let (typed, untyped) = rayon::join(
        || serde_yaml::from_str::<RawFramework>(text),
        || match serde_yaml::from_str::<serde_yaml::Value>(text) {
            Err(e) => Some(Err(e)),
            Ok(v) => repeated_key(&v, "").map(Ok),
        },
    );
    let raw: RawFramework = match typed {
        Ok(raw) => raw,
        Err(e) => {
            let (line, col) = e
                .location()
                .map(|l| (l.line() as u32, l.column() as u32))
                .unwrap_or((0, 0));
            let msg = yaml_message(&e.to_string());
            return fail(Diagnostic::new(Code::Yaml, file, msg).at(line, col));
        }
    };
    if let Some(Ok((within, key))) = &untyped {
        let how = " (once as a number, once as text)";
        return fail(written_twice(file, within, key, how, (0, 0)));
    }
    if let Some(Err(e)) = untyped {
        let (line, col) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((0, 0));
        let text = yaml_message(&e.to_string());
        return fail(match duplicate_key(&text) {
            Some((within, key)) => written_twice(file, within, key, "", (line, col)),
            None => Diagnostic::new(Code::Yaml, file, text).at(line, col),
        });
    }
    Builder {
        file,
        loc: Locator::new(text),
        diags: Vec::new(),
        today,
        current: String::new(),
    }
    .build(raw)
}

/// The refusal of a framework file over [`MAX_FRAMEWORK_BYTES`].
pub fn too_large(file: &str, bytes: u64) -> Diagnostic {
    Diagnostic::new(
        Code::Yaml,
        file,
        format!(
            "the framework file is {} MB; pmf reads framework files of up to {} MB",
            bytes / (1024 * 1024),
            MAX_FRAMEWORK_BYTES / (1024 * 1024)
        ),
    )
    .help("a framework describes indicators, not data: put actuals in the returns CSVs")
}

/// serde_yaml's message without its trailing position (we print our own).
/// A key written twice in a mapping once keys are read as text, as the typed reading reads
/// them (`2025` and `"2025"` are one year; the untyped parser tells them apart): the
/// mapping's path, as the parser writes it (`themes[0].priorities[0].indicators[0].targets`),
/// and the key.
fn repeated_key(v: &serde_yaml::Value, path: &str) -> Option<(String, String)> {
    use serde_yaml::Value;
    match v {
        Value::Mapping(m) => {
            let mut seen = std::collections::HashSet::new();
            for (k, v) in m {
                let text = match k {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                let Some(text) = text else { continue };
                let child = if path.is_empty() {
                    text.clone()
                } else {
                    format!("{path}.{text}")
                };
                if !seen.insert(text.clone()) {
                    let within = if path.is_empty() {
                        "the framework"
                    } else {
                        path
                    };
                    return Some((within.to_string(), text));
                }
                if let Some(found) = repeated_key(v, &child) {
                    return Some(found);
                }
            }
            None
        }
        Value::Sequence(s) => s
            .iter()
            .enumerate()
            .find_map(|(i, v)| repeated_key(v, &format!("{path}[{i}]"))),
        Value::Tagged(t) => repeated_key(&t.value, path),
        _ => None,
    }
}

/// The refusal of a key written twice in a mapping (`how`: a note on how, or empty).
fn written_twice(
    file: &str,
    within: &str,
    key: &str,
    how: &str,
    (line, col): (u32, u32),
) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateCode,
        file,
        format!("`{key}` is written twice in `{within}`{how}: the second would silently replace the first"),
    )
    .at(line, col)
    .help("keep one of them")
}

/// The mapping and the key of the parser's `path: duplicate entry with key "key"`.
fn duplicate_key(text: &str) -> Option<(&str, &str)> {
    let (within, rest) = text.split_once(": duplicate entry with key ")?;
    let key = rest
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(rest);
    Some((within, key))
}

fn yaml_message(text: &str) -> String {
    let msg = match text.find(" at line ") {
        Some(i) => &text[..i],
        None => text,
    };
    let msg = msg.replace(
        "repetition limit exceeded",
        "too many aliases (an alias bomb?): refused",
    );
    msg.replace("recursion limit exceeded", "nested too deeply: refused")
}

struct Builder<'a> {
    file: &'a str,
    loc: Locator<'a>,
    diags: Vec<Diagnostic>,
    today: NaiveDate,
    /// The indicator being checked, named in its problems.
    current: String,
}

const BUILT_IN: [&str; 3] = ["achievement", "deviation", "on-target"];

impl Builder<'_> {
    fn error(&mut self, code: Code, at: Option<(u32, u32)>, message: String, help: Option<String>) {
        let (l, c) = at.unwrap_or((0, 0));
        let mut d = Diagnostic::new(code, self.file, message)
            .at(l, c)
            .indicator(self.current.clone());
        d.help = help;
        self.diags.push(d);
    }

    fn period(
        &mut self,
        text: &str,
        ys: YearStart,
        hint: Option<Frequency>,
        at: Option<(u32, u32)>,
        what: &str,
    ) -> Option<Period> {
        match Period::parse(text, ys, hint) {
            Ok(p) => Some(p),
            Err(e) => {
                self.error(Code::BadPeriod, at, format!("{what}: {}", e.message), None);
                None
            }
        }
    }

    fn build(mut self, raw: RawFramework) -> Loaded {
        let ys = raw.year_start;

        // Plan.
        let plan = match &raw.plan {
            Some(p) => {
                let at_s = self.loc.key("start", 1);
                let at_e = self.loc.key("end", at_s.map_or(1, |a| a.0));
                let s = self.period(
                    p.start.text(),
                    ys,
                    Some(Frequency::Annual),
                    at_s,
                    "plan start",
                );
                let e = self.period(p.end.text(), ys, Some(Frequency::Annual), at_e, "plan end");
                match (s, e) {
                    (Some(s), Some(e)) => {
                        let (s, e) = (s.year(), e.year());
                        if e < s {
                            self.error(
                                Code::BadValue,
                                at_e,
                                format!("the plan ends ({e}) before it starts ({s})"),
                                None,
                            );
                            None
                        } else {
                            Some(Plan { start: s, end: e })
                        }
                    }
                    _ => None,
                }
            }
            None => None,
        };

        // Areas, flattened parents first.
        let mut areas = Vec::new();
        if raw.areas.is_empty() {
            areas.push(Area {
                code: "ALL".to_string(),
                name: raw
                    .partnership
                    .clone()
                    .unwrap_or_else(|| "All areas".to_string()),
                parent: None,
                children: Vec::new(),
                depth: 0,
            });
        } else {
            fn walk(raw: &[RawArea], parent: Option<usize>, depth: usize, out: &mut Vec<Area>) {
                for a in raw {
                    let me = out.len();
                    out.push(Area {
                        code: a.code.0.clone(),
                        name: a.name.clone(),
                        parent,
                        children: Vec::new(),
                        depth,
                    });
                    if let Some(p) = parent {
                        out[p].children.push(me);
                    }
                    walk(&a.areas, Some(me), depth + 1, out);
                }
            }
            walk(&raw.areas, None, 0, &mut areas);
        }
        let area_index = self.index_codes("area", areas.iter().map(|a| a.code.as_str()), 1);
        let area_loose = loose_index(areas.iter().map(|a| a.code.as_str()));

        // Organisations.
        let organisations: Vec<Organisation> = raw
            .organisations
            .iter()
            .map(|o| Organisation {
                code: o.code.0.clone(),
                name: o.name.clone(),
            })
            .collect();
        let organisation_index = self.index_codes(
            "organisation",
            organisations.iter().map(|o| o.code.as_str()),
            1,
        );

        // Schemes: built-ins first, then named ones (which may not reuse a built-in name).
        let mut schemes = vec![
            RagScheme {
                name: "achievement".into(),
                kind: RagKind::Achievement {
                    green: Decimal::from(95),
                    amber: Decimal::from(90),
                },
            },
            RagScheme {
                name: "deviation".into(),
                kind: RagKind::Deviation {
                    red: Decimal::from(-10),
                    blue: Decimal::from(10),
                },
            },
            RagScheme {
                name: "on-target".into(),
                kind: RagKind::OnTarget,
            },
        ];
        for (name, s) in &raw.rag_schemes {
            let at = self.loc.key(name, 1);
            if BUILT_IN.contains(&name.as_str()) {
                self.error(
                    Code::DuplicateCode,
                    at,
                    format!("the RAG scheme `{name}` has the name of a built-in scheme"),
                    Some("give your variant its own name, e.g. `strict`".into()),
                );
                continue;
            }
            let misplaced = match s.kind {
                SchemeKind::Achievement => s.red.is_some() || s.blue.is_some(),
                SchemeKind::Deviation => s.green.is_some() || s.amber.is_some(),
                SchemeKind::OnTarget => {
                    s.red.is_some() || s.blue.is_some() || s.green.is_some() || s.amber.is_some()
                }
            };
            if misplaced {
                self.error(
                    Code::BadValue,
                    at,
                    format!("RAG scheme `{name}` sets thresholds its kind does not use"),
                    Some("achievement takes green and amber; deviation takes red and blue; on-target takes none".into()),
                );
            }
            let kind = match s.kind {
                SchemeKind::Achievement => {
                    let green = s.green.unwrap_or_else(raw::default_green);
                    let amber = s.amber.unwrap_or_else(raw::default_amber);
                    if amber > green {
                        self.error(
                            Code::BadValue,
                            at,
                            format!(
                                "RAG scheme `{name}`: amber ({amber}) is above green ({green})"
                            ),
                            Some("amber is the lower threshold: e.g. green: 95, amber: 90".into()),
                        );
                    }
                    RagKind::Achievement { green, amber }
                }
                SchemeKind::Deviation => {
                    let red = s.red.unwrap_or_else(raw::default_red);
                    let blue = s.blue.unwrap_or_else(raw::default_blue);
                    if red > Decimal::ZERO || blue < Decimal::ZERO {
                        self.error(
                            Code::BadValue,
                            at,
                            format!("RAG scheme `{name}`: red ({red}) must be 0 or below and blue ({blue}) 0 or above"),
                            Some("deviation thresholds are percentages around the target, e.g. red: -10, blue: 10".into()),
                        );
                    }
                    RagKind::Deviation { red, blue }
                }
                SchemeKind::OnTarget => RagKind::OnTarget,
            };
            schemes.push(RagScheme {
                name: name.clone(),
                kind,
            });
        }
        let scheme_names: Vec<String> = schemes.iter().map(|s| s.name.clone()).collect();
        let find_scheme = |n: &str| scheme_names.iter().position(|s| s == n);
        let default_rag = match &raw.default_rag {
            Some(n) => match find_scheme(n) {
                Some(i) => i,
                None => {
                    let at = self.loc.key_value("default_rag", n, 1);
                    self.error(
                        Code::UnknownReference,
                        at,
                        format!("default_rag names the RAG scheme `{n}`, which is not defined"),
                        Some(format!("the schemes are {}", scheme_names.join(", "))),
                    );
                    0
                }
            },
            None => 0,
        };

        // Settings.
        let escalation = Escalation {
            action_after: raw.escalation.action_after,
            intervention_after: raw.escalation.intervention_after,
        };
        if escalation.action_after == 0 {
            let at = self.loc.key("action_after", 1);
            self.error(
                Code::BadValue,
                at,
                "escalation action_after must be at least 1".into(),
                None,
            );
        }
        let forecast = ForecastSettings {
            window: raw.forecast.window,
            min_backtests: raw.forecast.min_backtests,
            margin: raw.forecast.margin,
        };
        if forecast.window < 2 || forecast.window > 1000 {
            let at = self.loc.key("window", 1);
            self.error(
                Code::BadValue,
                at,
                format!(
                    "forecast window must be between 2 and 1000, not {}",
                    forecast.window
                ),
                None,
            );
        }
        if forecast.margin <= Decimal::ZERO {
            let at = self.loc.key("margin", 1);
            self.error(
                Code::BadValue,
                at,
                format!("forecast margin must be above 0, not {}", forecast.margin),
                None,
            );
        }

        // Themes, priorities, indicators.
        let mut themes = Vec::new();
        let mut indicators = Vec::new();
        let mut theme_codes = HashMap::new();
        let mut priority_codes = HashMap::new();
        let mut indicator_codes: HashMap<String, usize> = HashMap::new();
        let mut cursor = 1u32;
        let current_year = Period::latest_ended_by(ys, Frequency::Monthly, self.today)
            .and_then(|m| m.offset(1))
            .map(|m| m.year());
        for (ti, t) in raw.themes.iter().enumerate() {
            let at = self.loc.key_value("code", &t.code.0, cursor);
            if let Some(a) = at {
                cursor = a.0 + 1;
            }
            self.unique(&mut theme_codes, "theme", &t.code.0, at);
            let mut priorities = Vec::new();
            for (pi, p) in t.priorities.iter().enumerate() {
                let at = self.loc.key_value("code", &p.code.0, cursor);
                if let Some(a) = at {
                    cursor = a.0 + 1;
                }
                self.unique(&mut priority_codes, "priority", &p.code.0, at);
                let mut members = Vec::new();
                for ri in &p.indicators {
                    let at = self.loc.key_value("code", &ri.code.0, cursor);
                    let line = at.map_or(cursor, |a| a.0);
                    if let Some(a) = at {
                        cursor = a.0 + 1;
                    }
                    self.current = ri.code.0.clone();
                    if self.unique(&mut indicator_codes, "indicator", &ri.code.0, at) {
                        // keep going: a duplicate is still checked, but not indexed twice
                    }
                    let ind = self.indicator(
                        ri,
                        line,
                        ti,
                        pi,
                        ys,
                        plan,
                        current_year,
                        &area_index,
                        &organisation_index,
                        &organisations,
                        &find_scheme,
                        default_rag,
                        &scheme_names,
                    );
                    self.current.clear();
                    members.push(indicators.len());
                    indicators.push(ind);
                }
                priorities.push(Priority {
                    code: p.code.0.clone(),
                    name: p.name.clone(),
                    indicators: members,
                });
            }
            themes.push(Theme {
                code: t.code.0.clone(),
                name: t.name.clone(),
                priorities,
            });
        }
        if indicators.is_empty() {
            self.error(
                Code::BadValue,
                self.loc.key("themes", 1),
                "the framework has no indicators".into(),
                Some("add at least one theme with a priority and an indicator".into()),
            );
        }

        let indicator_loose = loose_index(indicators.iter().map(|i: &Indicator| i.code.as_str()));
        let has_errors = self.diags.iter().any(|d| d.is_error());
        let framework = Framework {
            name: raw.name,
            partnership: raw.partnership,
            year_start: ys,
            plan,
            deadline_days: raw.deadline_days,
            areas,
            organisations,
            schemes,
            default_rag,
            escalation,
            forecast,
            themes,
            indicators,
            indicator_index: indicator_codes,
            indicator_loose,
            area_index,
            area_loose,
            organisation_index,
        };
        Loaded {
            framework: if has_errors { None } else { Some(framework) },
            diagnostics: self.diags,
        }
    }

    /// Records a code; reports a duplicate. Returns true when it was new.
    fn unique(
        &mut self,
        seen: &mut HashMap<String, usize>,
        kind: &str,
        code: &str,
        at: Option<(u32, u32)>,
    ) -> bool {
        if code.trim().is_empty() {
            self.empty_code(kind, at);
            return false;
        }
        if seen.contains_key(code) {
            self.error(
                Code::DuplicateCode,
                at,
                format!("the {kind} code `{code}` is used more than once"),
                Some(format!("each {kind} needs its own code")),
            );
            false
        } else {
            let n = seen.len();
            seen.insert(code.to_string(), n);
            true
        }
    }

    /// Reports a code that is empty (or only spaces): nothing could refer to it.
    fn empty_code(&mut self, kind: &str, at: Option<(u32, u32)>) {
        self.error(
            Code::BadValue,
            at,
            format!("a {kind} has an empty code"),
            Some(format!("give each {kind} a code of its own")),
        );
    }

    fn index_codes<'c>(
        &mut self,
        kind: &str,
        codes: impl Iterator<Item = &'c str>,
        from: u32,
    ) -> HashMap<String, usize> {
        let mut map = HashMap::new();
        let mut cursor = from;
        for (i, code) in codes.enumerate() {
            let at = self.loc.key_value("code", code, cursor);
            if let Some(a) = at {
                cursor = a.0 + 1;
            }
            if code.trim().is_empty() {
                self.empty_code(kind, at);
            } else if map.contains_key(code) {
                self.error(
                    Code::DuplicateCode,
                    at,
                    format!("the {kind} code `{code}` is used more than once"),
                    Some(format!("each {kind} needs its own code")),
                );
            } else {
                map.insert(code.to_string(), i);
            }
        }
        map
    }

    #[allow(clippy::too_many_arguments)]
    fn indicator(
        &mut self,
        ri: &RawIndicator,
        line: u32,
        theme: usize,
        priority: usize,
        ys: YearStart,
        plan: Option<Plan>,
        current_year: Option<Period>,
        area_index: &HashMap<String, usize>,
        organisation_index: &HashMap<String, usize>,
        organisations: &[Organisation],
        find_scheme: &dyn Fn(&str) -> Option<usize>,
        default_rag: usize,
        scheme_names: &[String],
    ) -> Indicator {
        let code = ri.code.0.clone();
        self.current = code.clone();
        let whose = format!("indicator `{code}`");
        let org_help = || {
            if organisations.is_empty() {
                "list the partners under `organisations:` with a code and a name".to_string()
            } else {
                format!(
                    "the organisations are {}",
                    short_list(organisations.iter().map(|o| o.code.as_str()))
                )
            }
        };

        let lead = ri.lead.as_ref().map(|l| {
            let organisation = l.organisation.as_ref().and_then(|o| match organisation_index.get(o) {
                Some(&i) => Some(i),
                None => {
                    let at = self.loc.key_value("organisation", o, line);
                    self.error(
                        Code::UnknownReference,
                        at,
                        format!("the lead of {whose} belongs to the organisation `{o}`, which is not defined"),
                        Some(org_help()),
                    );
                    None
                }
            });
            Lead {
                name: l.name.clone(),
                organisation,
                email: l.email.clone(),
            }
        });
        if lead.as_ref().is_none_or(|l| l.name.trim().is_empty()) {
            self.error(
                Code::NoLead,
                self.loc.key("code", line),
                format!("{whose} has no named lead"),
                Some("add `lead: {name: ..., organisation: ...}`: every indicator needs someone accountable".into()),
            );
        }
        let provider = match &ri.provider {
            Some(p) => match organisation_index.get(p) {
                Some(&i) => Some(i),
                None => {
                    let at = self.loc.key_value("provider", p, line);
                    self.error(
                        Code::UnknownReference,
                        at,
                        format!("{whose} names the provider `{p}`, which is not an organisation"),
                        Some(org_help()),
                    );
                    None
                }
            },
            None => lead.as_ref().and_then(|l| l.organisation),
        };

        let rag = match &ri.rag {
            Some(n) => find_scheme(n).unwrap_or_else(|| {
                let at = self.loc.key_value("rag", n, line);
                self.error(
                    Code::UnknownReference,
                    at,
                    format!("{whose} uses the RAG scheme `{n}`, which is not defined"),
                    Some(format!(
                        "the schemes are {}; define others under `rag_schemes:`",
                        scheme_names.join(", ")
                    )),
                );
                default_rag
            }),
            None => default_rag,
        };

        if let Some(f) = ri.fast_track {
            if !(1..=3).contains(&f) {
                let at = self.loc.key("fast_track", line);
                self.error(
                    Code::BadValue,
                    at,
                    format!("{whose}: fast_track must be 1, 2 or 3, not {f}"),
                    None,
                );
            }
        }
        let scale = ri.scale.unwrap_or(Decimal::ONE);
        if scale.is_zero() {
            let at = self.loc.key("scale", line);
            self.error(
                Code::BadValue,
                at,
                format!("{whose}: scale cannot be 0"),
                Some("use 100 for a percentage, 1000 for a rate per thousand".into()),
            );
        }
        let aggregate = ri.aggregate.unwrap_or(if ri.unit == Unit::Count {
            Aggregate::Sum
        } else {
            Aggregate::None
        });
        let decimals = ri
            .decimals
            .unwrap_or(if ri.unit == Unit::Percent { 1 } else { 2 })
            .min(10);

        let baseline = ri.baseline.as_ref().and_then(|b| {
            let at = self.loc.key("baseline", line);
            self.period(
                b.period.text(),
                ys,
                Some(ri.frequency),
                at,
                &format!("{whose} baseline"),
            )
            .and_then(|p| {
                // SPEC 2.2: a period of the wrong frequency for its indicator is an error
                // (a year, as for targets, is any indicator's).
                if p.frequency() == ri.frequency || p.frequency() == Frequency::Annual {
                    return Some((p, b.value));
                }
                self.error(
                    Code::WrongFrequency,
                    at,
                    format!(
                        "{whose} is {}, but its baseline is the {} period `{p}`",
                        ri.frequency,
                        p.frequency()
                    ),
                    Some(format!(
                        "give the baseline as a year (e.g. {}) or as {} period (e.g. {})",
                        Frequency::Annual.example(ys),
                        crate::period::a_or_an(ri.frequency.name()),
                        ri.frequency.example(ys)
                    )),
                );
                None
            })
        });

        let targets = self.targets(&ri.targets, ri.frequency, ys, plan, line, &whose);
        let mut area_targets = Vec::new();
        for (area, t) in &ri.area_targets {
            let at = self.loc.key(area, line);
            match area_index.get(area) {
                Some(&a) => {
                    let from = at.map_or(line, |a| a.0);
                    let parsed = self.targets(
                        t,
                        ri.frequency,
                        ys,
                        plan,
                        from,
                        &format!("{whose} in area `{area}`"),
                    );
                    area_targets.push((a, parsed));
                }
                None => self.error(
                    Code::UnknownReference,
                    at,
                    format!("{whose} has targets for the area `{area}`, which is not defined"),
                    None,
                ),
            }
        }

        if ri.polarity != Polarity::None {
            if let Some(cy) = current_year {
                let has = |y: Period| {
                    std::iter::once(&targets)
                        .chain(area_targets.iter().map(|(_, t)| t))
                        .any(|t| t.0.keys().any(|p| p.year() == y))
                };
                let in_plan = |y: Period| plan.is_none_or(|p| y >= p.start && y <= p.end);
                let next = cy.offset(1);
                let missing_current = !has(cy);
                let missing_next = next.is_some_and(|n| in_plan(n) && !has(n));
                if missing_current || missing_next {
                    let which = match (missing_current, missing_next) {
                        (true, true) => format!(
                            "the current year ({cy}) or the next ({})",
                            next.map(|n| n.to_string()).unwrap_or_default()
                        ),
                        (true, false) => format!("the current year ({cy})"),
                        _ => format!(
                            "the next year ({})",
                            next.map(|n| n.to_string()).unwrap_or_default()
                        ),
                    };
                    let at = self.loc.key("code", line);
                    self.error(
                        Code::NoTarget,
                        at,
                        format!("{whose} has no target for {which}"),
                        Some("without a target its RAG is N/A: add one under `targets:`".into()),
                    );
                }
            }
        }

        Indicator {
            code,
            name: ri.name.clone(),
            unit: ri.unit,
            polarity: ri.polarity,
            frequency: ri.frequency,
            measure: ri.measure,
            aggregate,
            scale,
            decimals,
            lead,
            provider,
            tier: ri.tier,
            tags: ri.tags.clone(),
            baseline,
            targets,
            area_targets,
            rag,
            comparators: ri
                .comparators
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            fast_track: ri.fast_track.filter(|f| (1..=3).contains(f)),
            theme,
            priority,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn targets(
        &mut self,
        raw: &indexmap::IndexMap<raw::Scalar, Decimal>,
        freq: Frequency,
        ys: YearStart,
        plan: Option<Plan>,
        from: u32,
        whose: &str,
    ) -> Targets {
        let mut out = BTreeMap::new();
        for (key, value) in raw {
            // Where the key is, found only for a problem: a national framework has thousands
            // of targets, and searching the text for each was a quarter of its loading time.
            let text = key.text();
            let p = match Period::parse(text, ys, Some(freq)) {
                Ok(p) => p,
                Err(e) => {
                    let at = self.loc.key(text, from);
                    let message = format!("target of {whose}: {}", e.message);
                    self.error(Code::BadPeriod, at, message, None);
                    continue;
                }
            };
            if p.frequency() != Frequency::Annual && p.frequency() != freq {
                let at = self.loc.key(text, from);
                self.error(
                    Code::WrongFrequency,
                    at,
                    format!(
                        "{whose} is {freq}, but has a target keyed by the {} period `{p}`",
                        p.frequency()
                    ),
                    Some(format!(
                        "key targets by year (e.g. {}) or by {} period (e.g. {})",
                        Frequency::Annual.example(ys),
                        crate::period::a_or_an(freq.name()),
                        freq.example(ys)
                    )),
                );
                continue;
            }
            if let Some(plan) = plan {
                let y = p.year();
                if y < plan.start || y > plan.end {
                    let at = self.loc.key(text, from);
                    self.error(
                        Code::TargetOutsidePlan,
                        at,
                        format!(
                            "{whose} has a target for {p}, outside the plan's years ({} to {})",
                            plan.start, plan.end
                        ),
                        None,
                    );
                }
            }
            if out.insert(p, *value).is_some() {
                let at = self.loc.key(text, from);
                self.error(
                    Code::DuplicateCode,
                    at,
                    format!("{whose} has two targets for {p}"),
                    Some("write each year or period once (`2024-25` and `2024/25` are the same year)".into()),
                );
            }
        }
        Targets(out)
    }
}

fn loose_index<'c>(codes: impl Iterator<Item = &'c str>) -> HashMap<String, Option<usize>> {
    let mut map: HashMap<String, Option<usize>> = HashMap::new();
    for (i, c) in codes.enumerate() {
        map.entry(fold_code(c))
            .and_modify(|e| *e = None)
            .or_insert(Some(i));
    }
    map
}

#[cfg(test)]
mod tests;
