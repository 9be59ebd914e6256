//! The view every output format shares: the assessment grouped by theme and priority, filtered
//! by `--area`, `--theme`, `--tier` and `--exceptions`, with the counts, exceptions,
//! commendations, area matrix, data quality and method the briefing book shows.
//!
//! Built once by [`build`]; the table, CSV, JSON and PDF renderers only format it. No rule
//! arithmetic happens here: RAG, stages and forecasts come from [`crate::assess`].

use crate::assess::{Assessment, Rag, Row};
use crate::diag::{Code, Diagnostic};
use crate::framework::{Framework, Match, Tier};
use crate::period::Period;

/// Counts of each RAG status, in `Rag::ALL` order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RagCounts(pub [usize; 5]);

impl RagCounts {
    pub fn add(&mut self, rag: Rag) {
        self.0[rag as usize] += 1;
    }
    pub fn get(&self, rag: Rag) -> usize {
        self.0[rag as usize]
    }
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

/// One priority's rows (indices into `Assessment::rows`), in framework order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrioritySection {
    /// Index into the theme's `priorities`.
    pub priority: usize,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeSection {
    /// Index into `Framework::themes`.
    pub theme: usize,
    pub priorities: Vec<PrioritySection>,
    pub counts: RagCounts,
}

/// Indicators by area: the focus area and its direct children, each cell a row index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaMatrix {
    /// Area indices: the focus area first, then its children.
    pub areas: Vec<usize>,
    /// (indicator index, one cell per area).
    pub rows: Vec<(usize, Vec<Option<usize>>)>,
}

/// Missing, late and invalid returns for one provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderQuality {
    /// The organisation's name, or "(no provider named)".
    pub provider: String,
    /// "CF 09 RV-W 2025/26 Q2, due 2025-10-28" and the like.
    pub missing: Vec<String>,
    pub late: Vec<String>,
    /// Rows left out as invalid (with `--skip-invalid`), as "file:line code".
    pub invalid: Vec<String>,
}

/// Data quality at the report period (SPEC 3 completeness, and rows left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quality {
    pub providers: Vec<ProviderQuality>,
    pub missing: usize,
    pub late: usize,
    pub invalid: usize,
}

/// Everything the renderers show.
#[derive(Debug, Clone)]
pub struct Briefing<'a> {
    pub framework: &'a Framework,
    pub assessment: &'a Assessment,
    /// The area the report is about (the default area, or `--area`).
    pub area: usize,
    /// Themes with the focus area's rows, after the filters.
    pub sections: Vec<ThemeSection>,
    /// RAG counts over the sections' rows.
    pub counts: RagCounts,
    /// Rows at each escalation stage 0-3.
    pub stages: [usize; 4],
    /// Rows at stage 1 or more, or with a challenge: worst stage first.
    pub exceptions: Vec<usize>,
    /// BLUE, or improving two periods running.
    pub commendations: Vec<usize>,
    pub matrix: AreaMatrix,
    pub quality: Quality,
    /// The rows the CSV and JSON list: every indicator (after the filters) in every area that
    /// has a value (with `--area`, the focus area and the areas below it), in framework order.
    pub records: Vec<usize>,
    /// RAG counts over `records`.
    pub record_counts: RagCounts,
}

/// What the report is filtered to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// The focus area (default: the first top area).
    pub area: usize,
    /// Only this theme (index).
    pub theme: Option<usize>,
    /// Only this tier.
    pub tier: Option<Tier>,
    /// Only exceptions and commendations.
    pub exceptions: bool,
    /// Whether `--area` was given: then the CSV and JSON records are limited to the focus area
    /// and the areas below it; otherwise they cover every area.
    pub area_given: bool,
}

impl Filters {
    /// Whether the indicator passes `--theme` and `--tier`.
    pub fn includes(&self, fw: &Framework, indicator: usize) -> bool {
        let i = &fw.indicators[indicator];
        self.theme.is_none_or(|t| t == i.theme) && self.tier.is_none_or(|t| t == i.tier)
    }

    /// Whether the row passes `--exceptions`.
    pub fn keeps(&self, r: &Row) -> bool {
        !self.exceptions || is_exception(r) || no_return(r) || r.commended
    }

    /// Whether the CSV and JSON list the row (see [`Briefing::records`]).
    pub fn is_record(&self, fw: &Framework, r: &Row) -> bool {
        let in_area = !self.area_given || fw.is_area_descendant(r.area, self.area);
        r.has_value && self.includes(fw, r.indicator) && self.keeps(r) && in_area
    }

    /// Whether the table and the book can show the row: the focus area's, and its direct
    /// children's (the area matrix). The other rows only go to the CSV and JSON.
    pub fn is_shown(&self, fw: &Framework, r: &Row) -> bool {
        r.area == self.area || fw.areas.get(r.area).and_then(|a| a.parent) == Some(self.area)
    }
}

/// Stage names and the action each requires (SPEC 4.4).
pub fn stage_name(stage: u8) -> &'static str {
    match stage {
        0 => "On track",
        1 => "Identification",
        2 => "Action",
        _ => "Intervention",
    }
}

/// What a stage requires, in words.
pub fn stage_action(stage: u8) -> &'static str {
    match stage {
        0 => "No action: on or above target.",
        1 => "The lead identifies and undertakes remedial action.",
        2 => "The lead produces and delivers a detailed action plan.",
        _ => "The board reviews, reallocates resources or proposes a target change.",
    }
}

/// An exception: below target (stage 1 or more), challenged, or with no return for its period.
pub fn is_exception(row: &Row) -> bool {
    row.stage >= 1 || row.challenge == Some(true)
}

/// Whether the row's return for its period is absent where one was expected (SPEC 3's due
/// returns): the area has sent (or rolled up) a value for the indicator before, but has none
/// for this period; or a roll-up lacks a child's value. A suppression marker (`[c]`) is a
/// return: it "counts as submitted" (SPEC 2.3); an area that has sent one owes the next
/// return, as `validate` judges (`returns::complete`). An area that never had a value or a
/// return for the indicator owes none (except the default area, when no area has any: see
/// [`build`]).
fn no_return(row: &Row) -> bool {
    row.value.is_none()
        && match &row.source {
            crate::assess::Source::Suppressed => false,
            crate::assess::Source::Missing { children } if !children.is_empty() => true,
            _ => row.has_value || row.returned,
        }
}

/// Builds the view. `quality` comes from validation (missing, late and invalid returns).
pub fn build<'a>(
    framework: &'a Framework,
    assessment: &'a Assessment,
    filters: &Filters,
    quality: Quality,
) -> Briefing<'a> {
    let rows = &assessment.rows;
    let included = |ind: usize| filters.includes(framework, ind);
    // The indicators with a value in some area shown. One with none anywhere is due from the
    // default area (SPEC 3), so `--exceptions` keeps its row there as a missing return.
    let mut valued = vec![false; framework.indicators.len()];
    for r in rows {
        if let Some(v) = valued.get_mut(r.indicator) {
            *v |= r.has_value || r.returned;
        }
    }
    let default_area = framework.default_area();
    let keep = |r: &Row| {
        filters.keeps(r)
            || (r.area == default_area
                && r.value.is_none()
                && !valued.get(r.indicator).copied().unwrap_or(true))
    };

    // The focus area's row for each indicator.
    let mut focus: Vec<Option<usize>> = vec![None; framework.indicators.len()];
    for (ri, r) in rows.iter().enumerate() {
        if r.area == filters.area {
            focus[r.indicator] = Some(ri);
        }
    }

    let mut sections = Vec::new();
    let mut counts = RagCounts::default();
    let mut stages = [0usize; 4];
    for (ti, theme) in framework.themes.iter().enumerate() {
        let mut priorities = Vec::new();
        let mut theme_counts = RagCounts::default();
        for (pi, p) in theme.priorities.iter().enumerate() {
            let mut section_rows = Vec::new();
            for &ind in &p.indicators {
                if !included(ind) {
                    continue;
                }
                if let Some(ri) = focus[ind] {
                    if keep(&rows[ri]) {
                        section_rows.push(ri);
                        theme_counts.add(rows[ri].rag);
                        stages[usize::from(rows[ri].stage.min(3))] += 1;
                    }
                }
            }
            if !section_rows.is_empty() {
                priorities.push(PrioritySection {
                    priority: pi,
                    rows: section_rows,
                });
            }
        }
        if !priorities.is_empty() {
            for (k, c) in theme_counts.0.iter().enumerate() {
                counts.0[k] += c;
            }
            sections.push(ThemeSection {
                theme: ti,
                priorities,
                counts: theme_counts,
            });
        }
    }
    let shown: Vec<usize> = sections
        .iter()
        .flat_map(|s| s.priorities.iter().flat_map(|p| p.rows.iter().copied()))
        .collect();
    let mut exceptions: Vec<usize> = shown
        .iter()
        .copied()
        .filter(|&r| is_exception(&rows[r]))
        .collect();
    exceptions.sort_by_key(|&r| std::cmp::Reverse(rows[r].stage));
    let commendations: Vec<usize> = shown
        .iter()
        .copied()
        .filter(|&r| rows[r].commended)
        .collect();

    // Matrix: the focus area and its direct children.
    let mut areas = vec![filters.area];
    areas.extend(framework.areas[filters.area].children.iter().copied());
    // Only the matrix's areas: at national scale the rows are over a million.
    let mut cell: std::collections::HashMap<(usize, usize), usize> =
        std::collections::HashMap::new();
    for (ri, r) in rows.iter().enumerate() {
        if filters.is_shown(framework, r) {
            cell.insert((r.indicator, r.area), ri);
        }
    }
    let matrix_rows = shown
        .iter()
        .map(|&r| {
            let ind = rows[r].indicator;
            (
                ind,
                areas
                    .iter()
                    .map(|a| cell.get(&(ind, *a)).copied())
                    .collect(),
            )
        })
        .collect();

    // Records for CSV and JSON.
    let mut records = Vec::new();
    let mut record_counts = RagCounts::default();
    for (ri, r) in rows.iter().enumerate() {
        if filters.is_record(framework, r) {
            records.push(ri);
            record_counts.add(r.rag);
        }
    }

    Briefing {
        framework,
        assessment,
        area: filters.area,
        sections,
        counts,
        stages,
        exceptions,
        commendations,
        matrix: AreaMatrix {
            areas,
            rows: matrix_rows,
        },
        quality,
        records,
        record_counts,
    }
}

/// Missing, late and invalid returns by provider (in the framework's organisation order).
///
/// An invalid row whose indicator is unknown is filed under its file's provider, when the
/// file's valid rows all come from one (`file_providers`: file name as in `invalid`, provider
/// index), else under "(no provider named)".
pub fn quality(
    fw: &Framework,
    completeness: &[Diagnostic],
    invalid: &[Diagnostic],
    file_providers: &[(String, usize)],
) -> Quality {
    let mut by: Vec<ProviderQuality> = fw
        .organisations
        .iter()
        .map(|o| ProviderQuality {
            provider: o.name.clone(),
            ..ProviderQuality::default()
        })
        .collect();
    let none = by.len();
    by.push(ProviderQuality {
        provider: "(no provider named)".into(),
        ..ProviderQuality::default()
    });
    let provider_of = |code: &str| match fw.indicator(code) {
        Match::Exact(i) | Match::Loose(i) => fw.indicators[i].provider.unwrap_or(none),
        Match::None => none,
    };
    let mut q = Quality::default();
    for d in completeness {
        let p = provider_of(&d.indicator);
        let due = match fw.indicator(&d.indicator) {
            Match::Exact(i) | Match::Loose(i) => {
                Period::parse(&d.period, fw.year_start, Some(fw.indicators[i].frequency))
                    .ok()
                    .and_then(|p| {
                        p.end_date()
                            .checked_add_days(chrono::Days::new(u64::from(fw.deadline_days)))
                    })
            }
            Match::None => None,
        };
        let what = match due {
            Some(due) => format!("{} {} {}, due {due}", d.indicator, d.area, d.period),
            None => format!("{} {} {}", d.indicator, d.area, d.period),
        };
        match d.code {
            Code::MissingReturn => {
                by[p].missing.push(what);
                q.missing += 1;
            }
            Code::LateReturn => {
                by[p].late.push(what);
                q.late += 1;
            }
            _ => {}
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for d in invalid {
        if !seen.insert((d.file.as_str(), d.line)) {
            continue;
        }
        let p = match provider_of(&d.indicator) {
            p if p == none => file_providers
                .iter()
                .find(|(f, _)| *f == d.file)
                .map_or(none, |&(_, p)| p),
            p => p,
        };
        by[p]
            .invalid
            .push(format!("{}:{} {}", d.file, d.line, d.code));
        q.invalid += 1;
    }
    q.providers = by
        .into_iter()
        .filter(|p| !(p.missing.is_empty() && p.late.is_empty() && p.invalid.is_empty()))
        .collect();
    q
}

#[cfg(test)]
mod tests {
    use super::quality;
    use crate::diag::{Code, Diagnostic};
    use crate::framework::load;

    /// `--exceptions` keeps a row "with no return" only where a return was due (SPEC 3): a
    /// value sent before and none now; never a `[c]` (it counts as submitted, SPEC 2.3), nor
    /// an indicator the area has never sent; at the default area, an indicator nobody sent.
    /// The table and the CSV records agree.
    #[test]
    fn exceptions_keep_missing_returns_only_where_due() {
        let as_of = chrono::NaiveDate::from_ymd_opt(2025, 11, 15).unwrap();
        let ind = |c: &str| {
            format!("          - {{code: {c}, name: {c}, unit: count, polarity: higher, lead: {{name: L, organisation: A}}, targets: {{2025/26: 10}}}}\n")
        };
        let yaml = format!(
            "name: X\nareas:\n  - code: T\n    name: Town\n    areas:\n      - {{code: T-A, name: North}}\n      - {{code: T-B, name: South}}\norganisations: [{{code: A, name: Alpha}}]\nthemes:\n  - code: S\n    name: S\n    priorities:\n      - code: S1\n        name: S1\n        indicators:\n{}{}{}{}",
            ind("I1"), ind("I2"), ind("I3"), ind("I4") + &ind("I5")
        );
        let fw = load(&yaml, "pmf.yaml", as_of).framework.unwrap();
        // I1: a value at Q1, nothing at Q2. I2: [c] at Q2. I3: nobody. I4: only T-B. I5: only
        // [c] at Q1, nothing at Q2 (due, as `validate` judges: it has sent a return).
        let csv = b"indicator,area,period,value\nI1,T-A,2025/26 Q1,20\nI2,T-A,2025/26 Q1,20\nI2,T-A,2025/26 Q2,[c]\nI4,T-B,2025/26 Q2,20\nI5,T-A,2025/26 Q1,[c]\n";
        let sources = vec![crate::returns::read::Source {
            name: "r.csv".to_string(),
            reader: &csv[..],
        }];
        let (returns, diags) = crate::returns::read::read(&fw, sources, as_of);
        assert!(diags.is_empty(), "{diags:?}");
        let period = crate::period::Period::parse("2025/26 Q2", fw.year_start, None).unwrap();
        let codes = |focus: &str| {
            let area = match fw.area(focus) {
                crate::framework::Match::Exact(a) => a,
                _ => unreachable!(),
            };
            let filters = super::Filters {
                area,
                exceptions: true,
                area_given: true,
                ..super::Filters::default()
            };
            let options = crate::assess::Options {
                period,
                as_of,
                focus_area: area,
            };
            let a = crate::assess::assess_where(&fw, returns.clone(), &options, |_| true, || {});
            let b = super::build(&fw, &a, &filters, super::Quality::default());
            let shown: Vec<String> = b
                .sections
                .iter()
                .flat_map(|s| s.priorities.iter().flat_map(|p| p.rows.iter()))
                .map(|&r| fw.indicators[a.rows[r].indicator].code.clone())
                .collect();
            let records: Vec<String> = a
                .rows
                .iter()
                .filter(|r| r.area == area && filters.is_record(&fw, r))
                .map(|r| fw.indicators[r.indicator].code.clone())
                .collect();
            (shown, records)
        };
        assert_eq!(
            codes("T-A"),
            (
                vec!["I1".to_string(), "I5".to_string()],
                vec!["I1".to_string()]
            )
        );
        // At the default area: I3, sent by nobody, is due there; the others are counts,
        // which sum, and each roll-up lacks a child's value at Q2 (I1's Q2 is absent, I2's
        // is `[c]`, I4 has nothing from T-A).
        let (shown, records) = codes("T");
        assert_eq!(shown, vec!["I1", "I2", "I3", "I4", "I5"]);
        // (None has ever had a value at T, every roll-up lacking T-B or T-A: no records.)
        assert!(records.is_empty(), "{records:?}");
    }

    #[test]
    fn quality_groups_by_provider_with_due_dates_and_counts_rows_once() {
        let fw = load(
            "name: Q\norganisations: [{code: A, name: Alpha}, {code: B, name: Beta}]\nthemes:\n  - code: T\n    name: T\n    priorities:\n      - code: P\n        name: P\n        indicators:\n          - {code: I1, name: One, polarity: higher, provider: B, lead: {name: L, organisation: A}, targets: {2025/26: 1}}\n",
            "pmf.yaml",
            chrono::NaiveDate::from_ymd_opt(2025, 11, 15).unwrap(),
        )
        .framework
        .unwrap();
        let missing = Diagnostic::new(Code::MissingReturn, "", "m")
            .indicator("I1")
            .area("ALL")
            .period("2025/26 Q2");
        let late = Diagnostic::new(Code::LateReturn, "r.csv", "l")
            .at(3, 7)
            .indicator("I1")
            .area("ALL")
            .period("2025/26 Q1");
        let bad = Diagnostic::new(Code::TypeError, "r.csv", "t")
            .at(9, 4)
            .indicator("I1");
        let bad_again = Diagnostic::new(Code::BadDate, "r.csv", "d")
            .at(9, 7)
            .indicator("I1");
        let unknown = Diagnostic::new(Code::UnknownIndicator, "r.csv", "u")
            .at(10, 1)
            .indicator("ZZ");
        let (complete, invalid) = ([missing, late], [bad, bad_again, unknown]);
        // An unknown indicator's row goes to its file's provider, when the file has one.
        let q = quality(&fw, &complete, &invalid, &[("r.csv".to_string(), 1)]);
        assert_eq!(q.providers.len(), 1);
        assert_eq!(
            q.providers[0].invalid,
            vec!["r.csv:9 type-error", "r.csv:10 unknown-indicator"]
        );
        let q = quality(&fw, &complete, &invalid, &[]);
        assert_eq!((q.missing, q.late, q.invalid), (1, 1, 2));
        assert_eq!(q.providers.len(), 2);
        assert_eq!(q.providers[0].provider, "Beta");
        assert_eq!(
            q.providers[0].missing,
            vec!["I1 ALL 2025/26 Q2, due 2025-10-28"]
        );
        assert_eq!(
            q.providers[0].late,
            vec!["I1 ALL 2025/26 Q1, due 2025-07-28"]
        );
        assert_eq!(q.providers[0].invalid, vec!["r.csv:9 type-error"]);
        assert_eq!(q.providers[1].provider, "(no provider named)");
        assert_eq!(q.providers[1].invalid, vec!["r.csv:10 unknown-indicator"]);
    }
}
