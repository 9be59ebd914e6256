//! The view every output format shares: the assessment grouped by theme and priority, filtered
//! by `--area`, `--theme`, `--tier` and `--exceptions`, with the counts, exceptions,
//! commendations, area matrix, data quality and method the briefing book shows.
//!
//! Built once by [`build`]; the table, CSV, JSON and PDF renderers only format it. No rule
//! arithmetic happens here: RAG, stages and forecasts come from [`crate::assess`].

use crate::assess::{Assessment, Rag};
use crate::framework::Framework;

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
}
