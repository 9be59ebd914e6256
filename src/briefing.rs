//! The view every output format shares: the assessment grouped by theme and priority, filtered
//! by `--area`, `--theme`, `--tier` and `--exceptions`, with the counts, exceptions,
//! commendations, area matrix, data quality and method the briefing book shows.
//!
//! Built once by [`build`]; the table, CSV, JSON and PDF renderers only format it. No rule
//! arithmetic happens here: RAG, stages and forecasts come from [`crate::assess`].

use crate::assess::{Assessment, Rag, Row};
use crate::framework::{Framework, Tier};

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

fn no_return(row: &Row) -> bool {
    row.value.is_none()
}

/// Builds the view. `quality` comes from validation (missing, late and invalid returns).
pub fn build<'a>(
    framework: &'a Framework,
    assessment: &'a Assessment,
    filters: &Filters,
    quality: Quality,
) -> Briefing<'a> {
    let rows = &assessment.rows;
    let included = |ind: usize| {
        let i = &framework.indicators[ind];
        filters.theme.is_none_or(|t| t == i.theme) && filters.tier.is_none_or(|t| t == i.tier)
    };
    let keep = |r: &Row| !filters.exceptions || is_exception(r) || no_return(r) || r.commended;

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
    let mut cell: std::collections::HashMap<(usize, usize), usize> =
        std::collections::HashMap::new();
    for (ri, r) in rows.iter().enumerate() {
        cell.insert((r.indicator, r.area), ri);
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
        let in_area = !filters.area_given || framework.is_area_descendant(r.area, filters.area);
        if r.has_value && included(r.indicator) && keep(r) && in_area {
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
