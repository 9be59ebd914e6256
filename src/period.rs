//! Periods, years and frequencies (SPEC 2.2): parsing the lenient forms partners type, writing the
//! canonical ones, and the calendar arithmetic every rule needs (ends, previous periods, pro rata).
//!
//! A [`Period`] is a value of a few bytes: its frequency, the calendar year in which its
//! (financial) year starts, and its 1-based index within that year. All arithmetic works on
//! "absolute months" (months since year 0), so a period of any frequency can be compared with
//! one of any other by where it ends. Nothing here reads files or the clock.

use std::cmp::Ordering;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The month a framework's year starts in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum YearStart {
    /// 1 April: the UK financial year (`2024/25`).
    #[default]
    April,
    /// 1 January: the calendar year (`2024`).
    January,
}

impl YearStart {
    /// Zero-based calendar month of the year's first month.
    fn first_month0(self) -> i32 {
        match self {
            YearStart::April => 3,
            YearStart::January => 0,
        }
    }
}

/// How often an indicator is measured.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    Monthly,
    #[default]
    Quarterly,
    HalfYearly,
    Annual,
}

impl Frequency {
    pub const ALL: [Frequency; 4] = [
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::HalfYearly,
        Frequency::Annual,
    ];

    /// Periods of this frequency in one year.
    pub fn per_year(self) -> u8 {
        match self {
            Frequency::Monthly => 12,
            Frequency::Quarterly => 4,
            Frequency::HalfYearly => 2,
            Frequency::Annual => 1,
        }
    }

    /// Months in one period.
    pub fn months(self) -> u8 {
        match self {
            Frequency::Monthly => 1,
            Frequency::Quarterly => 3,
            Frequency::HalfYearly => 6,
            Frequency::Annual => 12,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::HalfYearly => "half-yearly",
            Frequency::Annual => "annual",
        }
    }

    /// An example period of this frequency, for help messages.
    pub fn example(self, ys: YearStart) -> &'static str {
        match (self, ys) {
            (Frequency::Monthly, YearStart::April) => "2024-04",
            (Frequency::Quarterly, YearStart::April) => "2024/25 Q1",
            (Frequency::HalfYearly, YearStart::April) => "2024/25 H1",
            (Frequency::Annual, YearStart::April) => "2024/25",
            (Frequency::Monthly, YearStart::January) => "2024-01",
            (Frequency::Quarterly, YearStart::January) => "2024 Q1",
            (Frequency::HalfYearly, YearStart::January) => "2024 H1",
            (Frequency::Annual, YearStart::January) => "2024",
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One period: a month, quarter, half or year of a framework's year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    ys: YearStart,
    freq: Frequency,
    /// Calendar year in which the period's year starts (2024 for `2024/25`).
    year: i16,
    /// 1-based position within the year.
    index: u8,
}

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2999;

impl Period {
    /// The period of `freq` numbered `index` (1-based) in the year starting in `year`.
    /// `None` when the index or the year is out of range.
    #[inline]
    pub fn new(ys: YearStart, freq: Frequency, year: i32, index: u8) -> Option<Period> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || index == 0 || index > freq.per_year() {
            return None;
        }
        Some(Period {
            ys,
            freq,
            year: year as i16,
            index,
        })
    }

    /// A period of `freq` written exactly in its canonical form (SPEC 2.2's output: `2024/25 Q1`,
    /// `2024/25 H1`, `2024/25`, `2024-04`; `2024 Q1`, `2024` with `year_start: january`), read
    /// straight from its bytes: the form nearly every return uses, without the lenient parser
    /// or a table. `None` for any other text, which [`Period::parse`] reads; where this gives
    /// a period, `parse` with the same frequency as hint gives the same (tested over every
    /// period and over texts of these shapes).
    #[inline(always)]
    pub fn canonical(b: &[u8], ys: YearStart, freq: Frequency) -> Option<Period> {
        // Two digits as a number.
        let two = |a: u8, b: u8| {
            let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
            (a <= 9 && b <= 9).then(|| i32::from(a) * 10 + i32::from(b))
        };
        let [y0, y1, y2, y3, rest @ ..] = b else {
            return None;
        };
        let year = two(*y0, *y1)? * 100 + two(*y2, *y3)?;
        if freq == Frequency::Monthly {
            let [b'-', m0, m1] = rest else {
                return None;
            };
            let month = two(*m0, *m1)?;
            if !(1..=12).contains(&month) {
                return None;
            }
            // The month's number from the calendar month: year * 12 + month0, less the months
            // the framework's year starts after January.
            return Period::from_seq(ys, freq, year * 12 + month - 1 - ys.first_month0());
        }
        let rest = match ys {
            YearStart::April => {
                let [b'/', a, c, rest @ ..] = rest else {
                    return None;
                };
                if two(*a, *c)? != (year + 1).rem_euclid(100) {
                    return None;
                }
                rest
            }
            YearStart::January => rest,
        };
        let index = match (freq, rest) {
            (Frequency::Annual, []) => 1,
            (Frequency::Quarterly, [b' ', b'Q', n]) | (Frequency::HalfYearly, [b' ', b'H', n]) => {
                n.wrapping_sub(b'0')
            }
            _ => return None,
        };
        Period::new(ys, freq, year, index)
    }

    /// The least [`Period::end_month_abs`] of a period that ends after `date` (whose
    /// [`Period::end_date`] is later): a period is then compared with `date` by one number.
    pub fn end_month_after(date: NaiveDate) -> i32 {
        let month = date.year() * 12 + date.month0() as i32;
        // The month after `date`'s ends on its last day; the one after that, later.
        (month..=month + 2)
            .find(|&k| month_start(k).pred_opt().is_some_and(|end| end > date))
            .unwrap_or(month + 2)
    }

    /// The whole year starting in calendar year `year`.
    pub fn year_of(ys: YearStart, year: i32) -> Option<Period> {
        Period::new(ys, Frequency::Annual, year, 1)
    }

    /// The period of `freq` with sequence number `seq` (see [`Period::seq`]).
    #[inline]
    pub fn from_seq(ys: YearStart, freq: Frequency, seq: i32) -> Option<Period> {
        let n = i32::from(freq.per_year());
        Period::new(ys, freq, seq.div_euclid(n), (seq.rem_euclid(n) + 1) as u8)
    }

    pub fn year_start(self) -> YearStart {
        self.ys
    }

    /// The period in four bytes (year start, frequency and number), for tables of millions of
    /// rows; [`Period::unpack`] gives it back.
    pub(crate) fn pack(self) -> u32 {
        let ys = match self.ys {
            YearStart::April => 0,
            YearStart::January => 1,
        };
        let freq = match self.freq {
            Frequency::Monthly => 0,
            Frequency::Quarterly => 1,
            Frequency::HalfYearly => 2,
            Frequency::Annual => 3,
        };
        // A period's number is below 36,000 (years 1900 to 2999, at most 12 a year).
        (ys << 31) | (freq << 28) | (self.seq() as u32 & Self::PACKED_SEQ)
    }

    /// The low bits of a packed period: its number.
    const PACKED_SEQ: u32 = 0x0FFF_FFFF;

    /// The number ([`Period::seq`]) of the period packed into `word`, without unpacking it.
    pub(crate) fn packed_seq(word: u32) -> i32 {
        (word & Self::PACKED_SEQ) as i32
    }

    /// The period [`Period::pack`] packed into `word`.
    pub(crate) fn unpack(word: u32) -> Option<Period> {
        let ys = if word >> 31 == 1 {
            YearStart::January
        } else {
            YearStart::April
        };
        let freq = match (word >> 28) & 0x7 {
            0 => Frequency::Monthly,
            1 => Frequency::Quarterly,
            2 => Frequency::HalfYearly,
            _ => Frequency::Annual,
        };
        Period::from_seq(ys, freq, Period::packed_seq(word))
    }
    pub fn frequency(self) -> Frequency {
        self.freq
    }
    /// Calendar year in which this period's year starts.
    pub fn start_year(self) -> i32 {
        i32::from(self.year)
    }
    /// 1-based position within its year (the month of the year, the quarter, the half).
    pub fn index(self) -> u8 {
        self.index
    }

    /// Consecutive number among periods of the same frequency: the next period is `seq + 1`.
    pub fn seq(self) -> i32 {
        i32::from(self.year) * i32::from(self.freq.per_year()) + i32::from(self.index) - 1
    }

    /// The period `n` periods after this one (before it when negative).
    pub fn offset(self, n: i32) -> Option<Period> {
        Period::from_seq(self.ys, self.freq, self.seq() + n)
    }

    pub fn prev(self) -> Option<Period> {
        self.offset(-1)
    }

    /// The same period of the previous year.
    pub fn same_period_last_year(self) -> Option<Period> {
        self.offset(-i32::from(self.freq.per_year()))
    }

    /// The whole year this period belongs to.
    pub fn year(self) -> Period {
        Period {
            ys: self.ys,
            freq: Frequency::Annual,
            year: self.year,
            index: 1,
        }
    }

    /// The last period of this period's year at its own frequency (Q4, H2, month 12, the year).
    pub fn last_of_year(self) -> Period {
        Period {
            index: self.freq.per_year(),
            ..self
        }
    }

    /// The last period, at frequency `freq`, of this period's year.
    pub fn last_of_year_at(self, freq: Frequency) -> Period {
        Period {
            ys: self.ys,
            freq,
            year: self.year,
            index: freq.per_year(),
        }
    }

    /// Fraction of its year elapsed at this period's end, as (numerator, denominator):
    /// Q1 is 1/4, H1 1/2, the m-th month m/12, a year 1/1.
    pub fn elapsed(self) -> (u8, u8) {
        (self.index, self.freq.per_year())
    }

    /// Months since year 0 (January of year 0 is 0) of the period's first month.
    pub fn start_month_abs(self) -> i32 {
        i32::from(self.year) * 12
            + self.ys.first_month0()
            + (i32::from(self.index) - 1) * i32::from(self.freq.months())
    }

    /// Absolute month just after the period ends (exclusive end).
    pub fn end_month_abs(self) -> i32 {
        self.start_month_abs() + i32::from(self.freq.months())
    }

    /// Orders periods by when they end and, of those ending together, by length (a quarter
    /// after its last month, a year after its last quarter): the latest period of a set of
    /// returns is the greatest.
    #[inline]
    pub fn latest_rank(self) -> i32 {
        self.end_month_abs() * 16 + i32::from(self.freq.months())
    }

    pub fn start_date(self) -> NaiveDate {
        month_start(self.start_month_abs())
    }

    /// The period's last day.
    pub fn end_date(self) -> NaiveDate {
        month_start(self.end_month_abs())
            .pred_opt()
            .unwrap_or(NaiveDate::MIN)
    }

    /// Whether `other` lies within this period (same or shorter frequency).
    pub fn contains(self, other: Period) -> bool {
        self.start_month_abs() <= other.start_month_abs()
            && other.end_month_abs() <= self.end_month_abs()
    }

    /// The latest period of `freq` ending on or before the end of this period.
    pub fn latest_at(self, freq: Frequency) -> Option<Period> {
        latest_ending_by(self.ys, freq, self.end_month_abs())
    }

    /// The latest period of `freq` that has ended by `date` (its last day is on or before it).
    pub fn latest_ended_by(ys: YearStart, freq: Frequency, date: NaiveDate) -> Option<Period> {
        let month_abs = date.year() * 12 + date.month0() as i32;
        let month_is_over = date
            .succ_opt()
            .is_none_or(|next| next.month() != date.month());
        latest_ending_by(ys, freq, month_abs + i32::from(month_is_over))
    }

    /// The periods of `freq` that are due when this period ends (SPEC 3): the months it
    /// contains for a monthly indicator, else the one period of `freq` that ends with it, if
    /// any (at a half-year's end a quarterly indicator's last quarter and the half; at the
    /// year's end also the year).
    pub fn due_at(self, freq: Frequency) -> Vec<Period> {
        if freq == Frequency::Monthly {
            let n = i32::from(self.freq.months());
            let last = match self.latest_at(freq) {
                Some(p) => p,
                None => return Vec::new(),
            };
            (0..n).rev().filter_map(|k| last.offset(-k)).collect()
        } else {
            self.latest_at(freq)
                .filter(|p| p.end_month_abs() == self.end_month_abs())
                .into_iter()
                .collect()
        }
    }

    /// Parse the lenient forms of SPEC 2.2. `hint` settles the one real ambiguity: with an
    /// April year, `2011-12` is December 2011 for a monthly indicator and the year 2011/12
    /// otherwise.
    pub fn parse(
        text: &str,
        ys: YearStart,
        hint: Option<Frequency>,
    ) -> Result<Period, PeriodError> {
        parse_period(text, ys, hint)
    }
}

/// "a quarterly", "an annual": the indefinite article with a word, for messages.
pub fn a_or_an(word: &str) -> String {
    match word.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => format!("an {word}"),
        _ => format!("a {word}"),
    }
}

fn month_start(abs: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(abs.div_euclid(12), abs.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(NaiveDate::MIN)
}

fn latest_ending_by(ys: YearStart, freq: Frequency, end_abs: i32) -> Option<Period> {
    // A period with sequence number s ends (exclusive) at first_month0 + (s + 1) * months.
    let m = i32::from(freq.months());
    let seq = (end_abs - ys.first_month0()).div_euclid(m) - 1;
    Period::from_seq(ys, freq, seq)
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Periods order by where they end, then longer first (a year sorts before its Q4), so a
/// report's periods read in time order.
impl Ord for Period {
    fn cmp(&self, other: &Self) -> Ordering {
        self.end_month_abs()
            .cmp(&other.end_month_abs())
            .then_with(|| other.freq.cmp(&self.freq))
            .then_with(|| (self.ys as u8).cmp(&(other.ys as u8)))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let y = i32::from(self.year);
        let year_label = |f: &mut fmt::Formatter<'_>| match self.ys {
            YearStart::April => write!(f, "{}/{:02}", y, (y + 1).rem_euclid(100)),
            YearStart::January => write!(f, "{y}"),
        };
        match self.freq {
            Frequency::Annual => year_label(f),
            Frequency::Quarterly => {
                year_label(f)?;
                write!(f, " Q{}", self.index)
            }
            Frequency::HalfYearly => {
                year_label(f)?;
                write!(f, " H{}", self.index)
            }
            Frequency::Monthly => {
                let abs = self.start_month_abs();
                write!(f, "{}-{:02}", abs.div_euclid(12), abs.rem_euclid(12) + 1)
            }
        }
    }
}

/// Why a period could not be read; the message says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodError {
    pub message: String,
}

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(text: &str, ys: YearStart, why: &str) -> PeriodError {
    let forms = match ys {
        YearStart::April => "2024/25, 2024/25 Q1, 2024/25 H1 or 2024-04",
        YearStart::January => "2024, 2024 Q1, 2024 H1 or 2024-01",
    };
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" ({why})")
    };
    PeriodError {
        message: format!("`{text}` is not a period{why}; write it as {forms}"),
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

fn parse_period(text: &str, ys: YearStart, hint: Option<Frequency>) -> Result<Period, PeriodError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(PeriodError {
            message: "the period is empty".to_string(),
        });
    }
    if t.len() > 40 || !t.is_ascii() {
        return Err(err(t, ys, ""));
    }
    let up = t.to_ascii_uppercase();
    let is_sep = |c: char| c == ' ' || c == '-' || c == '_' || c == '/' || c == '.' || c == ',';

    // A quarter or half marker at either end: `Q1 2024/25`, `2024/25-Q1`, `2024Q1`.
    for (letter, freq) in [('Q', Frequency::Quarterly), ('H', Frequency::HalfYearly)] {
        if let Some((idx, rest)) = split_marker(&up, letter) {
            let rest = rest.trim_matches(is_sep);
            let year = parse_year(rest, ys).map_err(|why| err(t, ys, &why))?;
            let in_year = if letter == 'Q' { 1..=4 } else { 1..=2 };
            return Period::new(ys, freq, year, idx).ok_or_else(|| {
                if in_year.contains(&idx) {
                    err(
                        t,
                        ys,
                        &format!("its year is outside {MIN_YEAR} to {MAX_YEAR}"),
                    )
                } else {
                    err(t, ys, &format!("there is no {letter}{idx} in a year"))
                }
            });
        }
    }

    // A month name: `Apr 2024`, `April 2024`, `2024 April`.
    let words: Vec<&str> = up.split(is_sep).filter(|w| !w.is_empty()).collect();
    if words.len() == 2 {
        for (a, b) in [(words[0], words[1]), (words[1], words[0])] {
            if a.len() >= 3 && a.chars().all(|c| c.is_ascii_alphabetic()) {
                if let Some(m) = MONTHS.iter().position(|m| a.starts_with(m)) {
                    let full = month_full_name(m);
                    if !full.starts_with(a) {
                        continue;
                    }
                    if let Some(y) = four_digit_year(b) {
                        return month_period(ys, y, m as i32 + 1).ok_or_else(|| err(t, ys, ""));
                    }
                }
            }
        }
    }

    // Digits only from here: a year, a year pair, or year-month.
    if words.len() == 1 {
        let w = words[0];
        if let Some(y) = four_digit_year(w) {
            return match ys {
                YearStart::January => Period::year_of(ys, y).ok_or_else(|| err(t, ys, "")),
                YearStart::April => Err(err(
                    t,
                    ys,
                    &format!(
                        "a financial year needs both years, as {}/{:02}",
                        y,
                        (y + 1).rem_euclid(100)
                    ),
                )),
            };
        }
        return Err(err(t, ys, ""));
    }
    if words.len() == 2 {
        let (a, b) = (words[0], words[1]);
        let y = match four_digit_year(a) {
            Some(y) => y,
            None => return Err(err(t, ys, "")),
        };
        if !b.chars().all(|c| c.is_ascii_digit()) || b.is_empty() || b.len() > 4 {
            return Err(err(t, ys, ""));
        }
        let n: i32 = b.parse().map_err(|_| err(t, ys, ""))?;
        let second_year =
            (b.len() == 2 && n == (y + 1).rem_euclid(100)) || (b.len() == 4 && n == y + 1);
        let month = (b.len() <= 2) && (1..=12).contains(&n);
        if b.len() == 4 {
            return if second_year {
                year_pair(t, ys, y)
            } else {
                Err(err(t, ys, "the two years must be consecutive"))
            };
        }
        return match (second_year, month) {
            (true, true) => {
                if hint == Some(Frequency::Monthly) || ys == YearStart::January {
                    month_period(ys, y, n).ok_or_else(|| err(t, ys, ""))
                } else {
                    year_pair(t, ys, y)
                }
            }
            (true, false) => year_pair(t, ys, y),
            (false, true) => month_period(ys, y, n).ok_or_else(|| err(t, ys, "")),
            (false, false) => Err(err(t, ys, "")),
        };
    }
    Err(err(t, ys, ""))
}

fn month_full_name(m: usize) -> &'static str {
    [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ][m]
}

fn year_pair(t: &str, ys: YearStart, y: i32) -> Result<Period, PeriodError> {
    match ys {
        YearStart::April => Period::year_of(ys, y).ok_or_else(|| err(t, ys, "")),
        YearStart::January => Err(err(
            t,
            ys,
            &format!(
                "this framework's years start in January: write {y} or {}",
                y + 1
            ),
        )),
    }
}

/// `QN` / `HN` at the start or end of `up`, returning its number and the rest.
fn split_marker(up: &str, letter: char) -> Option<(u8, &str)> {
    let b = up.as_bytes();
    let n = b.len();
    if n >= 2 && b[0] == letter as u8 && b[1].is_ascii_digit() && (n == 2 || !b[2].is_ascii_digit())
    {
        return Some((b[1] - b'0', &up[2..]));
    }
    if n >= 2
        && b[n - 2] == letter as u8
        && b[n - 1].is_ascii_digit()
        && (n == 2 || !b[n - 3].is_ascii_alphabetic())
    {
        return Some((b[n - 1] - b'0', &up[..n - 2]));
    }
    None
}

fn four_digit_year(w: &str) -> Option<i32> {
    if w.len() == 4 && w.chars().all(|c| c.is_ascii_digit()) {
        w.parse().ok()
    } else {
        None
    }
}

/// The year part of a quarter or half: `2024/25`, `2024-2025`, `2024` (January years).
fn parse_year(rest: &str, ys: YearStart) -> Result<i32, String> {
    let parts: Vec<&str> = rest
        .split(['/', '-', ' ', '_'])
        .filter(|w| !w.is_empty())
        .collect();
    match (ys, parts.as_slice()) {
        (YearStart::January, [y]) => four_digit_year(y).ok_or_else(String::new),
        (YearStart::January, [_, _]) => {
            Err("this framework's years start in January: write the single year".to_string())
        }
        (YearStart::April, [y]) => match four_digit_year(y) {
            Some(y) => Err(format!(
                "a financial year needs both years, as {}/{:02}",
                y,
                (y + 1).rem_euclid(100)
            )),
            None => Err(String::new()),
        },
        (YearStart::April, [a, b]) => {
            let y = four_digit_year(a).ok_or_else(String::new)?;
            let ok = match b.len() {
                2 => b.parse::<i32>().ok() == Some((y + 1).rem_euclid(100)),
                4 => b.parse::<i32>().ok() == Some(y + 1),
                _ => false,
            };
            if ok {
                Ok(y)
            } else {
                Err("the two years must be consecutive".to_string())
            }
        }
        _ => Err(String::new()),
    }
}

fn month_period(ys: YearStart, calendar_year: i32, month: i32) -> Option<Period> {
    if !(1..=12).contains(&month) {
        return None;
    }
    let abs = calendar_year * 12 + month - 1;
    let rel = abs - ys.first_month0();
    Period::new(
        ys,
        Frequency::Monthly,
        rel.div_euclid(12),
        (rel.rem_euclid(12) + 1) as u8,
    )
}

#[cfg(test)]
mod tests {
    use super::{Frequency, Period, YearStart};
    use chrono::NaiveDate;
    use proptest::prelude::*;

    const A: YearStart = YearStart::April;

    /// Every period from 1890 to 3009 of every frequency, written canonically, is read back
    /// by [`Period::canonical`] as [`Period::parse`] reads it (years out of range by neither).
    #[test]
    fn canonical_texts_are_read_as_parse_reads_them() {
        use Frequency::*;
        for ys in [YearStart::April, YearStart::January] {
            for freq in [Monthly, Quarterly, HalfYearly, Annual] {
                let n = i32::from(freq.per_year());
                let mut read = 0;
                for seq in 1890 * n..3010 * n {
                    let p = Period {
                        ys,
                        freq,
                        year: seq.div_euclid(n) as i16,
                        index: (seq.rem_euclid(n) + 1) as u8,
                    };
                    let text = p.to_string();
                    let parsed = Period::parse(&text, ys, Some(freq)).ok();
                    let fast = Period::canonical(text.as_bytes(), ys, freq);
                    assert_eq!(fast, parsed, "{text}");
                    read += usize::from(fast.is_some());
                    // Another frequency's form is never read as this one's.
                    for other in [Monthly, Quarterly, HalfYearly, Annual] {
                        if other != freq {
                            let parsed = Period::parse(&text, ys, Some(other)).ok();
                            if let Some(q) = Period::canonical(text.as_bytes(), ys, other) {
                                assert_eq!(Some(q), parsed, "{text} as {other:?}");
                            }
                        }
                    }
                }
                assert_eq!(read, 1100 * n as usize, "{ys:?} {freq:?}");
            }
        }
    }

    proptest! {
        /// Texts of the canonical shapes, with any digits and letters: where
        /// [`Period::canonical`] reads a period, [`Period::parse`] reads the same.
        #[test]
        fn canonical_is_parse_on_any_text_of_its_shape(
            text in "[0-9]{4}([/-][0-9]{2})?( [QHqM][0-9])?|[0-9 /QH-]{0,11}",
            april in any::<bool>(),
            f in 0usize..4,
        ) {
            use Frequency::*;
            let ys = if april { YearStart::April } else { YearStart::January };
            let freq = [Monthly, Quarterly, HalfYearly, Annual][f];
            if let Some(p) = Period::canonical(text.as_bytes(), ys, freq) {
                prop_assert_eq!(Some(p), Period::parse(&text, ys, Some(freq)).ok(), "{}", text);
                prop_assert_eq!(p.to_string(), text);
            }
        }

        /// A period ends after a date exactly when its end month is at least
        /// [`Period::end_month_after`] the date.
        #[test]
        fn end_month_after_is_end_date_after(day in 0i64..200_000, seq in 22_000i32..26_000, f in 0usize..4) {
            use chrono::Datelike;
            use Frequency::*;
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(day as u64);
            let freq = [Monthly, Quarterly, HalfYearly, Annual][f];
            let n = i32::from(freq.per_year());
            for ys in [YearStart::April, YearStart::January] {
                for s in [seq / (12 / n), date.year() * n + (seq % 5) - 2] {
                    if let Some(p) = Period::from_seq(ys, freq, s) {
                        prop_assert_eq!(p.end_date() > date, p.end_month_abs() >= Period::end_month_after(date));
                    }
                }
            }
        }
    }

    #[test]
    fn a_year_is_twelve_months_at_every_frequency() {
        use Frequency::*;
        let months: Vec<u8> = [Monthly, Quarterly, HalfYearly, Annual]
            .iter()
            .map(|f| f.months())
            .collect();
        assert_eq!(months, vec![1, 3, 6, 12]);
        for f in [Monthly, Quarterly, HalfYearly, Annual] {
            assert_eq!(f.months() * f.per_year(), 12);
        }
    }
    const J: YearStart = YearStart::January;

    fn p(text: &str) -> Period {
        Period::parse(text, A, None).unwrap()
    }

    /// Every period of every frequency, year start and year packs into four bytes and back.
    #[test]
    fn every_period_packs_and_unpacks() {
        let mut seen = std::collections::HashSet::new();
        for ys in [A, J] {
            for freq in [
                Frequency::Monthly,
                Frequency::Quarterly,
                Frequency::HalfYearly,
                Frequency::Annual,
            ] {
                for year in 1900..=2999 {
                    for index in 1..=freq.per_year() {
                        let period = Period::new(ys, freq, year, index).unwrap();
                        let word = period.pack();
                        assert_eq!(Period::unpack(word), Some(period));
                        assert_eq!(Period::packed_seq(word), period.seq());
                        assert!(seen.insert(word), "{period:?} packs as another period");
                    }
                }
            }
        }
    }

    #[test]
    fn lenient_forms_read_to_canonical() {
        for (input, canon) in [
            ("2024/25", "2024/25"),
            ("2024/2025", "2024/25"),
            ("2024-25", "2024/25"),
            ("2024/25 Q1", "2024/25 Q1"),
            ("Q1 2024/25", "2024/25 Q1"),
            ("2024/25-Q1", "2024/25 Q1"),
            ("2024/25q3", "2024/25 Q3"),
            ("q2 2024-2025", "2024/25 Q2"),
            ("2024/25 h2", "2024/25 H2"),
            ("H1 2024/25", "2024/25 H1"),
            ("2024-04", "2024-04"),
            ("Apr 2024", "2024-04"),
            ("march 2025", "2025-03"),
            (" 2099/00 ", "2099/00"),
        ] {
            assert_eq!(p(input).to_string(), canon, "{input}");
        }
    }

    #[test]
    fn january_years() {
        let q = Period::parse("Q3 2024", J, None).unwrap();
        assert_eq!(q.to_string(), "2024 Q3");
        assert_eq!(q.start_date(), NaiveDate::from_ymd_opt(2024, 7, 1).unwrap());
        assert_eq!(Period::parse("2024", J, None).unwrap().to_string(), "2024");
        assert_eq!(Period::parse("2024-11", J, None).unwrap().index(), 11);
        assert!(Period::parse("2024/25", J, None).is_err());
    }

    #[test]
    fn ambiguous_year_month_uses_the_hint() {
        assert_eq!(p("2011-12").to_string(), "2011/12");
        let m = Period::parse("2011-12", A, Some(Frequency::Monthly)).unwrap();
        assert_eq!(m.to_string(), "2011-12");
        assert_eq!(m.frequency(), Frequency::Monthly);
    }

    #[test]
    fn bad_periods_say_what_to_write() {
        for bad in [
            "2024",
            "2024/26",
            "Q5 2024/25",
            "H3 2024/25",
            "2024-13",
            "soon",
            "",
            "Q1",
        ] {
            let e = Period::parse(bad, A, None).unwrap_err();
            assert!(!e.message.is_empty(), "{bad}");
        }
        let e = Period::parse("2024", A, None).unwrap_err();
        assert_eq!(
            e.message,
            "`2024` is not a period (a financial year needs both years, as 2024/25); write it as 2024/25, 2024/25 Q1, 2024/25 H1 or 2024-04"
        );
    }

    #[test]
    fn dates_and_months() {
        let q1 = p("2024/25 Q1");
        assert_eq!(
            q1.start_date(),
            NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()
        );
        assert_eq!(q1.end_date(), NaiveDate::from_ymd_opt(2024, 6, 30).unwrap());
        let q4 = p("2024/25 Q4");
        assert_eq!(q4.end_date(), NaiveDate::from_ymd_opt(2025, 3, 31).unwrap());
        let m = p("2025-02");
        assert_eq!(m.index(), 11);
        assert_eq!(m.end_date(), NaiveDate::from_ymd_opt(2025, 2, 28).unwrap());
        assert_eq!(m.year().to_string(), "2024/25");
        assert_eq!(m.elapsed(), (11, 12));
    }

    #[test]
    fn shown_periods_at_a_report_period() {
        let q2 = p("2024/25 Q2");
        assert_eq!(
            q2.latest_at(Frequency::Monthly).unwrap().to_string(),
            "2024-09"
        );
        assert_eq!(
            q2.latest_at(Frequency::HalfYearly).unwrap().to_string(),
            "2024/25 H1"
        );
        assert_eq!(
            q2.latest_at(Frequency::Annual).unwrap().to_string(),
            "2023/24"
        );
        let q1 = p("2024/25 Q1");
        assert_eq!(
            q1.latest_at(Frequency::HalfYearly).unwrap().to_string(),
            "2023/24 H2"
        );
        assert_eq!(q1.prev().unwrap().to_string(), "2023/24 Q4");
        assert_eq!(
            q1.same_period_last_year().unwrap().to_string(),
            "2023/24 Q1"
        );
    }

    #[test]
    fn due_periods() {
        let q2 = p("2024/25 Q2");
        let months: Vec<String> = q2
            .due_at(Frequency::Monthly)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(months, ["2024-07", "2024-08", "2024-09"]);
        assert_eq!(
            q2.due_at(Frequency::HalfYearly)[0].to_string(),
            "2024/25 H1"
        );
        assert!(q2.due_at(Frequency::Annual).is_empty());
        assert_eq!(
            p("2024/25 Q4").due_at(Frequency::Annual)[0].to_string(),
            "2024/25"
        );
        assert!(p("2024/25 Q1").due_at(Frequency::HalfYearly).is_empty());
        // A longer P: the months of P, and each other frequency's one period ending with it
        // (SPEC 3: "its period that ends with P"); a month: the periods ending with it.
        let due = |at: &str, f| -> Vec<String> {
            p(at).due_at(f).iter().map(|p| p.to_string()).collect()
        };
        assert_eq!(due("2024/25 H1", Frequency::Quarterly), ["2024/25 Q2"]);
        assert_eq!(due("2024/25 H1", Frequency::Monthly).len(), 6);
        assert_eq!(due("2024/25", Frequency::Quarterly), ["2024/25 Q4"]);
        assert_eq!(due("2024/25", Frequency::HalfYearly), ["2024/25 H2"]);
        assert_eq!(due("2024/25", Frequency::Annual), ["2024/25"]);
        assert_eq!(
            due("2024/25", Frequency::Monthly)
                .first()
                .map(String::as_str),
            Some("2024-04")
        );
        assert_eq!(due("2024/25", Frequency::Monthly).len(), 12);
        assert_eq!(due("2024-09", Frequency::Quarterly), ["2024/25 Q2"]);
        assert_eq!(due("2024-09", Frequency::Monthly), ["2024-09"]);
        assert!(due("2024-08", Frequency::Quarterly).is_empty());
    }

    #[test]
    fn latest_ended_by_date() {
        let d = NaiveDate::from_ymd_opt(2024, 9, 30).unwrap();
        assert_eq!(
            Period::latest_ended_by(A, Frequency::Quarterly, d)
                .unwrap()
                .to_string(),
            "2024/25 Q2"
        );
        let d = NaiveDate::from_ymd_opt(2024, 9, 29).unwrap();
        assert_eq!(
            Period::latest_ended_by(A, Frequency::Quarterly, d)
                .unwrap()
                .to_string(),
            "2024/25 Q1"
        );
    }

    #[test]
    fn order_is_by_end_then_longer_first() {
        let mut v = [p("2024/25 Q4"), p("2024/25"), p("2024-05"), p("2024/25 H1")];
        v.sort();
        let s: Vec<String> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(s, ["2024-05", "2024/25 H1", "2024/25", "2024/25 Q4"]);
    }

    fn any_period() -> impl Strategy<Value = Period> {
        (
            prop_oneof![Just(A), Just(J)],
            prop_oneof![
                Just(Frequency::Monthly),
                Just(Frequency::Quarterly),
                Just(Frequency::HalfYearly),
                Just(Frequency::Annual)
            ],
            1901i32..2998,
            1u8..=12,
        )
            .prop_filter_map("index in range", |(ys, f, y, i)| Period::new(ys, f, y, i))
    }

    proptest! {
        #[test]
        fn canonical_text_parses_back(period in any_period()) {
            let text = period.to_string();
            let back = Period::parse(&text, period.year_start(), Some(period.frequency())).unwrap();
            prop_assert_eq!(back, period);
        }

        #[test]
        fn seq_round_trips(period in any_period()) {
            let back = Period::from_seq(period.year_start(), period.frequency(), period.seq()).unwrap();
            prop_assert_eq!(back, period);
            prop_assert!(period.start_date() <= period.end_date());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = Period::parse(&s, A, None);
            let _ = Period::parse(&s, J, Some(Frequency::Monthly));
        }
    }
}
