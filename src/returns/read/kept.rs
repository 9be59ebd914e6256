//! What the merge keeps of each row while reading ([`Store`]), and the index of the first row
//! of each key that finds duplicates and conflicts ([`Firsts`]).

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::framework::Framework;
use crate::period::Period;
use crate::returns::{Observation, Packed};

/// The rows kept so far, in file order: every field of each (for the report), or only what
/// `pmf validate` reads after the merge ([`Slim`]).
pub(super) enum Store {
    Full(Vec<Observation>),
    Slim(Slim),
}

impl Store {
    pub(super) fn len(&self) -> usize {
        match self {
            Store::Full(o) => o.len(),
            Store::Slim(s) => s.rows.len(),
        }
    }

    /// Row `i`'s period, as its number in the indicator's frequency.
    #[inline]
    pub(super) fn seq(&self, i: usize) -> i32 {
        match self {
            Store::Full(o) => o[i].period.seq(),
            Store::Slim(s) => Period::packed_seq(s.rows[i].period),
        }
    }

    /// Row `i`'s period (always `Some`: a slim row's was a period when it was packed).
    pub(super) fn period(&self, i: usize) -> Option<Period> {
        match self {
            Store::Full(o) => Some(o[i].period),
            Store::Slim(s) => Period::unpack(s.rows[i].period),
        }
    }

    /// Row `i`'s file (an index into the files read) and line.
    pub(super) fn place(&self, i: usize) -> (u32, u32) {
        match self {
            Store::Full(o) => (o[i].file, o[i].line),
            Store::Slim(s) => (s.file(i), s.rows[i].line),
        }
    }

    /// Row `i`'s optional columns (an index into the table of them).
    pub(super) fn info(&self, i: usize) -> u32 {
        match self {
            Store::Full(o) => o[i].info,
            Store::Slim(s) => s.rows[i].info,
        }
    }

    /// Row `i`'s value.
    pub(super) fn value(&self, i: usize) -> Option<Decimal> {
        match self {
            Store::Full(o) => o[i].value(),
            Store::Slim(s) => s.value(i),
        }
    }

    #[inline]
    pub(super) fn push(&mut self, o: Observation) {
        match self {
            Store::Full(v) => v.push(o),
            Store::Slim(s) => s.push(&o),
        }
    }
}

/// The rows `pmf validate` keeps: a period and a line, the optional columns and a value in 8
/// bytes (20 in all, where an [`Observation`] takes 44); the file is found from where each
/// file's rows start. At national scale this is half a gigabyte less memory written.
#[derive(Default)]
pub(super) struct Slim {
    rows: Vec<SlimRow>,
    /// Values whose magnitude needs more than 7 bytes, indexed from [`SlimRow::value`].
    wide: Vec<Packed>,
    /// (the index of a file's first row, the file), at every change of file.
    files: Vec<(u32, u32)>,
}

#[derive(Clone, Copy)]
struct SlimRow {
    /// [`Packed::small`] (low word first), or [`Slim::WIDE`] in the top byte and an index into
    /// `wide`: two words, so a row is aligned to four bytes and takes 20.
    value: [u32; 2],
    line: u32,
    info: u32,
    /// [`Period::pack`] (its number read by [`Period::packed_seq`]).
    period: u32,
}

// The point of a slim row: 20 bytes a row kept.
const _: () = assert!(std::mem::size_of::<SlimRow>() == 20);

impl Slim {
    /// A tag no [`Packed`] value has (its tags are a scale of at most 28, a sign bit, or none).
    const WIDE: u64 = 0x7E;

    fn push(&mut self, o: &Observation) {
        let at = self.rows.len() as u32;
        if self.files.last().is_none_or(|&(_, f)| f != o.file) {
            self.files.push((at, o.file));
        }
        let value = o.value.small().unwrap_or_else(|| {
            self.wide.push(o.value);
            (Self::WIDE << 56) | (self.wide.len() - 1) as u64
        });
        self.rows.push(SlimRow {
            value: [value as u32, (value >> 32) as u32],
            line: o.line,
            info: o.info,
            period: o.period.pack(),
        });
    }

    fn value(&self, i: usize) -> Option<Decimal> {
        let [lo, hi] = self.rows[i].value;
        let v = u64::from(lo) | (u64::from(hi) << 32);
        if v >> 56 == Self::WIDE {
            self.wide[(v & u64::from(u32::MAX)) as usize].get()
        } else {
            Packed::from_small(v).get()
        }
    }

    fn file(&self, i: usize) -> u32 {
        let k = self
            .files
            .partition_point(|&(start, _)| start as usize <= i);
        self.files[k.saturating_sub(1)].1
    }
}

/// The first row kept of each (indicator, area, period), for duplicates and conflicts while
/// reading, and for completeness after (`pmf validate`, [`super::Seen`]).
///
/// The period's frequency is the indicator's (a row of another frequency is not kept), so
/// the key needs no more. The first row's file, line and value are read from the [`Store`],
/// where it stays (marked `dropped` once in conflict) until the end.
///
/// A hash map with an entry per row costs tens of bytes a row and a cache miss on every row at
/// national scale. Instead each (indicator, area) pair keeps a chain through its observations,
/// newest first (4 bytes a row), and a bitmap of the periods it has, over a window of 128
/// periods: a period not in the bitmap is new without walking the chain, so only a real
/// repeat, or a period outside the window, walks it. Returns in any order (by indicator, by
/// quarter, or shuffled) so cost one look at the pair's cell a row. A chain is walked at most
/// [`Firsts::MAX_WALK`] steps; the first time that is not enough (a pair with very many
/// periods outside its window), every key so far goes into a map, which is used from then
/// on. Either way the answer is the same: the first row read with that key.
pub(super) struct Firsts {
    pub(super) n_areas: usize,
    /// indicator * n_areas + area -> the pair's cell ([`Pair::pack`]), when the framework is
    /// small enough for a flat table; else `sparse`. Plain words, so the table is allocated
    /// zeroed by the system and only the pages of pairs that send returns are ever touched
    /// (a national framework's table is 35 MB; writing it whole cost 40 ms before reading).
    pub(super) cells: Vec<[u64; 3]>,
    /// Per page of `cells` (4 KiB), whether it has been written: see [`Firsts::cell`].
    pub(super) written: Vec<bool>,
    pub(super) sparse: FxHashMap<(u32, u32), Pair>,
    /// Per observation: the previous observation of its pair + 1 (0: none).
    pub(super) prev: Vec<u32>,
    /// Every key -> its first observation, once chains are given up.
    pub(super) map: Option<FxHashMap<(u32, u32, i32), u32>>,
}

/// One (indicator, area) pair: its newest observation + 1 (0: none), and which periods
/// `base..base + 128` it has.
#[derive(Clone, Copy, Default)]
pub(super) struct Pair {
    pub(super) head: u32,
    pub(super) base: i32,
    /// Two words rather than a `u128`, which would align the pair to 32 bytes.
    pub(super) bits: [u64; 2],
}

impl Pair {
    pub(super) fn pack(self) -> [u64; 3] {
        [
            u64::from(self.head) | (u64::from(self.base as u32) << 32),
            self.bits[0],
            self.bits[1],
        ]
    }

    pub(super) fn unpack(cell: [u64; 3]) -> Pair {
        Pair {
            head: cell[0] as u32,
            base: (cell[0] >> 32) as u32 as i32,
            bits: [cell[1], cell[2]],
        }
    }
}

impl Firsts {
    const MAX_WALK: usize = 64;
    /// Pairs in the flat table at most (24 bytes each).
    const MAX_CELLS: usize = 4_000_000;

    pub(super) fn new(framework: &Framework) -> Firsts {
        let n_areas = framework.areas.len();
        let cells = framework.indicators.len().saturating_mul(n_areas);
        let cells = if cells <= Self::MAX_CELLS {
            vec![[0u64; 3]; cells]
        } else {
            Vec::new()
        };
        Firsts {
            n_areas,
            written: vec![false; cells.len().div_ceil(Self::CELLS_PER_PAGE)],
            cells,
            sparse: FxHashMap::default(),
            prev: Vec::new(),
            map: None,
        }
    }

    /// Cells a page holds.
    const CELLS_PER_PAGE: usize = 4096 / std::mem::size_of::<[u64; 3]>();

    /// The cell `c`. The table is allocated zeroed, so the system maps its pages only as
    /// they are touched (a national framework's table is 35 MB, a 1M-row file touches a
    /// fraction); but a page first touched by a read is mapped read-only (to the shared zero
    /// page), and the write after it costs a second fault and a flush of every core's TLB.
    /// So each page-sized group of cells is first written whole, with the zeros it holds:
    /// no cell of an unmarked group has been read or written.
    #[inline]
    fn cell(&mut self, c: usize) -> [u64; 3] {
        let group = c / Self::CELLS_PER_PAGE;
        if !self.written[group] {
            self.written[group] = true;
            let start = group * Self::CELLS_PER_PAGE;
            let end = (start + Self::CELLS_PER_PAGE).min(self.cells.len());
            self.cells[start..end].fill([0; 3]);
        }
        self.cells[c]
    }

    /// The first row with this key; when there is none, `kept.len()`, which the caller must
    /// then push.
    pub(super) fn first_or_insert(
        &mut self,
        kept: &Store,
        indicator: u32,
        area: u32,
        seq: i32,
    ) -> usize {
        let next = kept.len();
        let Ok(next32) = u32::try_from(next) else {
            return next; // beyond 4 billion rows: not checked for duplicates
        };
        if let Some(map) = &mut self.map {
            return *map.entry((indicator, area, seq)).or_insert(next32) as usize;
        }
        let cell = (indicator as usize)
            .checked_mul(self.n_areas)
            .and_then(|c| c.checked_add(area as usize))
            .filter(|&c| c < self.cells.len() && (area as usize) < self.n_areas);
        let mut pair = match cell {
            Some(c) => Pair::unpack(self.cell(c)),
            None => self
                .sparse
                .get(&(indicator, area))
                .copied()
                .unwrap_or_default(),
        };
        let first = self.step(&mut pair, kept, indicator, area, seq, next32);
        if self.map.is_none() {
            match cell {
                Some(c) => self.cells[c] = pair.pack(),
                None => {
                    self.sparse.insert((indicator, area), pair);
                }
            }
        }
        first
    }

    /// [`Firsts::first_or_insert`] for the pair `pair` (updated in place) and `next32`, the
    /// index the row would be kept at.
    fn step(
        &mut self,
        pair: &mut Pair,
        kept: &Store,
        indicator: u32,
        area: u32,
        seq: i32,
        next32: u32,
    ) -> usize {
        let next = next32 as usize;
        if pair.head == 0 {
            // The window starts a little before the first period seen: returns usually come
            // oldest first, but not always.
            pair.base = seq.saturating_sub(32);
        }
        let bit = seq
            .checked_sub(pair.base)
            .filter(|off| (0..128).contains(off))
            .map(|off| (off as usize / 64, 1u64 << (off % 64)));
        match bit {
            Some((word, bit)) if pair.bits[word] & bit == 0 => {
                // New: no walk.
                pair.bits[word] |= bit;
                self.prev.push(pair.head);
                pair.head = next32 + 1;
                return next;
            }
            _ => {}
        }
        // A repeat (the bit is set), or a period outside the window: walk the chain.
        let mut at = pair.head;
        let mut steps = 0;
        while at != 0 {
            let i = at as usize - 1;
            if kept.seq(i) == seq {
                return i;
            }
            steps += 1;
            if steps == Self::MAX_WALK {
                return self.give_up_chains(kept, indicator, area, seq);
            }
            at = self.prev[i];
        }
        self.prev.push(pair.head);
        pair.head = next32 + 1;
        next
    }

    /// Switches to one map of every key (see the type's documentation), made from the chains:
    /// every row kept is in its pair's chain, and is the first of its key.
    fn give_up_chains(&mut self, kept: &Store, indicator: u32, area: u32, seq: i32) -> usize {
        let mut map = FxHashMap::default();
        map.reserve(kept.len());
        for ((i, a), pair) in self.pairs() {
            let mut at = pair.head;
            while at != 0 {
                let row = at as usize - 1;
                map.insert((i, a, kept.seq(row)), row as u32);
                at = self.prev[row];
            }
        }
        self.cells = Vec::new();
        self.written = Vec::new();
        self.sparse = FxHashMap::default();
        self.prev = Vec::new();
        let first = *map
            .entry((indicator, area, seq))
            .or_insert(kept.len() as u32) as usize;
        self.map = Some(map);
        first
    }

    /// Every pair with a row, and its cell (while chains are kept).
    fn pairs(&self) -> impl Iterator<Item = ((u32, u32), Pair)> + '_ {
        let n_areas = self.n_areas.max(1);
        let flat = self
            .written
            .iter()
            .enumerate()
            .filter(|(_, &w)| w)
            .flat_map(move |(group, _)| {
                let start = group * Self::CELLS_PER_PAGE;
                let end = (start + Self::CELLS_PER_PAGE).min(self.cells.len());
                (start..end).map(move |c| {
                    (
                        ((c / n_areas) as u32, (c % n_areas) as u32),
                        Pair::unpack(self.cells[c]),
                    )
                })
            });
        flat.chain(self.sparse.iter().map(|(&k, &p)| (k, p)))
            .filter(|(_, p)| p.head != 0)
    }

    /// The first row kept with this key, if any (after reading: nothing is inserted).
    pub(super) fn find(&self, kept: &Store, indicator: u32, area: u32, seq: i32) -> Option<usize> {
        if let Some(map) = &self.map {
            return map.get(&(indicator, area, seq)).map(|&i| i as usize);
        }
        let c = (indicator as usize)
            .checked_mul(self.n_areas)
            .and_then(|c| c.checked_add(area as usize))
            .filter(|&c| c < self.cells.len() && (area as usize) < self.n_areas);
        let pair = match c {
            Some(c) if self.written[c / Self::CELLS_PER_PAGE] => Pair::unpack(self.cells[c]),
            Some(_) => return None,
            None => *self.sparse.get(&(indicator, area))?,
        };
        let in_window = seq
            .checked_sub(pair.base)
            .filter(|off| (0..128).contains(off))
            .map(|off| pair.bits[off as usize / 64] & (1u64 << (off % 64)) != 0);
        if in_window == Some(false) {
            return None;
        }
        let mut at = pair.head;
        while at != 0 {
            let row = at as usize - 1;
            if kept.seq(row) == seq {
                return Some(row);
            }
            at = self.prev[row];
        }
        None
    }

    /// Per indicator (of `n_indicators`), the areas with a row kept and not dropped, ascending.
    pub(super) fn areas_sent(&self, n_indicators: usize, dropped: &[bool]) -> Vec<Vec<usize>> {
        let mut sent: Vec<Vec<usize>> = vec![Vec::new(); n_indicators];
        let mut add = |i: u32, a: u32| {
            if let Some(areas) = sent.get_mut(i as usize) {
                areas.push(a as usize);
            }
        };
        match &self.map {
            Some(map) => {
                for (&(i, a, _), &row) in map {
                    if !dropped[row as usize] {
                        add(i, a);
                    }
                }
            }
            None => {
                for ((i, a), pair) in self.pairs() {
                    let mut at = pair.head;
                    while at != 0 {
                        let row = at as usize - 1;
                        if !dropped[row] {
                            add(i, a);
                            break;
                        }
                        at = self.prev[row];
                    }
                }
            }
        }
        for areas in &mut sent {
            areas.sort_unstable();
            areas.dedup();
        }
        sent
    }
}
