#!/usr/bin/env python3
"""Generate the national-scale pmf benchmark data (deterministic, fixed seed).

    python benches/gen.py [--out benches/data] [--only subset|full|both] [--submission]

Writes
  OUT/national/pmf.yaml        framework: England > 30 counties > 300 districts > 7,000 wards,
                               200 indicators in 5 themes x 4 priorities
  OUT/national/returns/*.csv   200 x 7,000 x 16 = 22,400,000 ward rows in 4 files (~1 GB)
  OUT/subset/pmf.yaml          the same framework
  OUT/subset/returns/returns.csv   the first 125 indicators x the first 500 wards x 16 = 1,000,000 rows

Every indicator-ward series has 16 rows at the indicator's own frequency, all ending with the
year 2024/25: quarterly 2021/22 Q1..2024/25 Q4, monthly 2023-12..2025-03, half-yearly
2017/18 H1..2024/25 H2, annual 2009/10..2024/25. So the row count is exactly 200 x 7,000 x 16
whatever the frequency mix (140 quarterly, 30 monthly, 20 half-yearly, 10 annual).

About 0.1% of rows are bad in the ways SPEC 2.3 lists (see BAD_KINDS); a few hundred use a lenient
period spelling (valid) and a few carry commentary. Needs numpy and polars (run.sh's virtualenv).

--submission adds SPEC 2.3's optional columns status, submitted_by, submitted_on to every row and
writes OUT/national-sub/ and OUT/subset-sub/ instead (the same framework and the same rows
otherwise): each return (indicator x period) is submitted on one date by the indicator's
provider, about 3% of them after the framework's deadline_days; the latest period is
provisional for about 10% of indicators; about 1 row in 10,000 more gets an unreadable date
(bad-date). Without the flag the output is byte-identical to what it was before the flag existed.
"""
import argparse
import datetime as dt
import os
import sys

import numpy as np
import polars as pl

SEED = 20240401
N_IND = 200
N_COUNTY = 30
N_DIST_PER_COUNTY = 10
N_WARD = 7000
N_SLOT = 16
SUB_IND = 125
SUB_WARD = 500
BAD_RATE = 0.001
N_FILES = 4

THEMES = [
    ("BH", "Be healthy"), ("SS", "Stay safe"), ("EA", "Enjoy and achieve"),
    ("PC", "Positive contribution"), ("EW", "Economic well-being"),
]
ORGS = [
    ("CC", "County Council"), ("NHS", "NHS Integrated Care Board"), ("POL", "Police"),
    ("FRS", "Fire and Rescue Service"), ("DC", "District Councils"), ("SCH", "Schools Forum"),
]
SUPPRESS = ["*", "c", "[c]", "x", "[x]", "z", "[z]", "..", ":", "-", "n/a", "NA"]
BAD_DATES = ["31/02/2025", "next week", "2025-13-01", "29/02/2025", "tbc", "2025-04-31"]
DEADLINE_DAYS = 28  # the framework's deadline_days
BAD_KINDS = [
    "unknown-indicator", "unknown-area", "bad-period", "missing-value", "type-error",
    "normalised-value", "suppressed", "duplicate-row", "conflicting-row", "numerator-mismatch",
]


def freq_of(i):
    r = i % 20
    if r < 14:
        return "quarterly"
    if r < 17:
        return "monthly"
    if r < 19:
        return "half-yearly"
    return "annual"


def kind_of(i):
    # ratio (percent, numerator/denominator), count snapshot, count cumulative, score (aggregate none)
    return ["ratio", "ratio", "count", "cumulative", "score"][(i // 20 + i) % 5]


def polarity_of(i):
    return "higher" if (i // 5) % 2 == 0 else "lower"


def periods(freq):
    """16 canonical period labels, their financial year (start year) and position in year (1-based)."""
    out = []
    for s in range(N_SLOT):
        if freq == "quarterly":
            y, k = 2021 + s // 4, s % 4 + 1
            out.append((f"{y}/{(y + 1) % 100:02d} Q{k}", y, k))
        elif freq == "monthly":
            m = 2023 * 12 + 11 + s  # 2023-12 .. 2025-03
            cy, cm = divmod(m, 12)
            cm += 1
            fy = cy if cm >= 4 else cy - 1
            out.append((f"{cy}-{cm:02d}", fy, (cm - 4) % 12 + 1))
        elif freq == "half-yearly":
            y, k = 2017 + s // 2, s % 2 + 1
            out.append((f"{y}/{(y + 1) % 100:02d} H{k}", y, k))
        else:
            y = 2009 + s
            out.append((f"{y}/{(y + 1) % 100:02d}", y, 1))
    return out


PER_YEAR = {"quarterly": 4, "monthly": 12, "half-yearly": 2, "annual": 1}


def lenient(label, freq):
    """A valid but non-canonical spelling of a period (SPEC 2.2)."""
    if freq == "quarterly":
        y, q = label.split(" ")
        return f"{q} {y}" if label[-1] in "13" else f"{y[:4]}-{y[5:]}-{q.lower()}"
    if freq == "half-yearly":
        y, h = label.split(" ")
        return f"{y[:4]}/20{y[5:]} {h}"
    if freq == "annual":
        return f"{label[:4]}/{int(label[:4]) + 1}"  # not 2009-10: that reads as a month
    return label


def areas():
    """England > counties > districts > wards. Returns (tree for yaml, ward codes)."""
    counties = []
    wards = []
    d = 0
    for c in range(N_COUNTY):
        dists = []
        for k in range(N_DIST_PER_COUNTY):
            nw = 24 if d < 100 else 23  # 100 x 24 + 200 x 23 = 7,000
            ws = []
            for w in range(nw):
                code = f"E05{len(wards) + 1:06d}"
                wards.append(code)
                ws.append((code, f"District {d + 1} Ward {w + 1}"))
            dists.append((f"E07{d + 1:06d}", f"District {d + 1}", ws))
            d += 1
        counties.append((f"E10{c + 1:06d}", f"County {c + 1}", dists))
    assert len(wards) == N_WARD
    return counties, wards


class Ind:
    pass


def indicators(rng):
    inds = []
    for i in range(N_IND):
        x = Ind()
        x.i = i
        x.code = f"PI {i + 1:03d}"
        x.freq = freq_of(i)
        x.kind = kind_of(i)
        x.pol = polarity_of(i)
        x.per = periods(x.freq)
        x.ppy = PER_YEAR[x.freq]
        if x.kind == "ratio":
            x.level = rng.uniform(20, 80)
            x.trend = rng.uniform(-0.4, 0.4)
        elif x.kind == "count":
            x.level = rng.uniform(20, 200)
            x.trend = rng.uniform(-1.0, 1.0)
        elif x.kind == "cumulative":
            x.level = rng.uniform(100, 600) / x.ppy * 4 if x.freq != "annual" else rng.uniform(400, 2400)
            x.trend = rng.uniform(-0.5, 0.5)
        else:
            x.level = rng.uniform(30, 70)
            x.trend = rng.uniform(-0.3, 0.3)
        inds.append(x)
    return inds


def ind_targets(x):
    """Year targets near the median level, a little stretching; {year_label: value}."""
    years = sorted({p[1] for p in x.per} | {2025})
    t = {}
    sign = 1 if x.pol == "higher" else -1
    for y in years:
        age = y - x.per[0][1]
        if x.kind == "ratio":
            v = round(min(99.0, max(1.0, x.level + x.trend * age * x.ppy + sign * 1.5)), 1)
        elif x.kind == "count":
            v = round(max(1.0, x.level + x.trend * age * x.ppy + sign * 2))
        elif x.kind == "cumulative":
            per_year = x.level * (x.ppy if x.freq != "annual" else 1)
            v = round(max(1.0, per_year * (1 + sign * 0.03)))
        else:
            v = round(x.level + x.trend * age * x.ppy + sign * 1.0, 1)
        t[f"{y}/{(y + 1) % 100:02d}"] = v
    return t


def write_framework(path, inds, counties):
    L = []
    a = L.append
    a("name: National Outcomes Framework (benchmark)")
    a("partnership: England Performance Partnership")
    a("year_start: april")
    a("plan: {start: 2022/23, end: 2025/26}")
    a(f"deadline_days: {DEADLINE_DAYS}")
    a("organisations:")
    for c, n in ORGS:
        a(f"  - {{code: {c}, name: {n}}}")
    a("areas:")
    a("  - code: E92000001")
    a("    name: England")
    a("    areas:")
    for cc, cn, dists in counties:
        a(f"      - code: {cc}")
        a(f"        name: {cn}")
        a("        areas:")
        for dc, dn, ws in dists:
            a(f"          - code: {dc}")
            a(f"            name: {dn}")
            a("            areas:")
            for wc, wn in ws:
                a(f"              - {{code: {wc}, name: {wn}}}")
    a("themes:")
    per_theme = N_IND // len(THEMES)
    for t, (tc, tn) in enumerate(THEMES):
        a(f"  - code: {tc}")
        a(f"    name: {tn}")
        a("    priorities:")
        for p in range(4):
            a(f"      - code: {tc}{p + 1}")
            a(f"        name: {tn} priority {p + 1}")
            a("        indicators:")
            for x in inds:
                if x.i % len(THEMES) != t or (x.i // len(THEMES)) % 4 != p:
                    continue
                org = ORGS[x.i % len(ORGS)][0]
                a(f"          - code: {x.code}")
                a(f"            name: Indicator {x.i + 1} ({x.kind}, {x.freq}, {x.pol} is better)")
                if x.kind == "ratio":
                    a("            unit: percent")
                    a("            aggregate: ratio")
                    a("            scale: 100")
                elif x.kind in ("count", "cumulative"):
                    a("            unit: count")
                    a("            aggregate: sum")
                    a("            decimals: 0")
                else:
                    a("            unit: score")
                a(f"            polarity: {x.pol}")
                a(f"            frequency: {x.freq}")
                a(f"            measure: {'cumulative' if x.kind == 'cumulative' else 'snapshot'}")
                a(f"            lead: {{name: Lead Officer {x.i + 1}, organisation: {org}, "
                  f"email: lead{x.i + 1}@example.org}}")
                a(f"            tier: {['board', 'executive', 'operational'][x.i % 3]}")
                if x.i % 4 == 0:
                    a("            tags: [LAA]")
                if x.i % 37 == 0:
                    a("            fast_track: 2")
                tg = ind_targets(x)
                a("            targets:")
                for k, v in tg.items():
                    a(f"              {k}: {v}")
                if x.freq == "quarterly" and x.i % 10 == 0:
                    # a period-keyed target overriding the year's
                    a(f"              2024/25 Q2: {tg['2024/25']}")
    del per_theme
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def period_end(fy, k, ppy):
    """The last day of a period, from its financial year (start year), position and periods a year."""
    m = fy * 12 + 3 + k * (12 // ppy)  # the month after the period (0-based months since year 0)
    return dt.date(m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)


def submission(x, seed, n_ward):
    """SPEC 2.3's status, submitted_by, submitted_on for every row of one indicator: one date per
    return (indicator x period), shared by all its areas' rows, from its own random stream."""
    rng = np.random.default_rng([seed, x.i, 2])
    late = rng.random(N_SLOT) < 0.03
    days = np.where(late, rng.integers(DEADLINE_DAYS + 1, 61, N_SLOT), rng.integers(5, DEADLINE_DAYS + 1, N_SLOT))
    fmt = "%d/%m/%Y" if x.i % 7 == 0 else "%Y-%m-%d"
    on = [(period_end(fy, k, x.ppy) + dt.timedelta(days=int(d))).strftime(fmt)
          for (_, fy, k), d in zip(x.per, days)]
    status = ["final"] * N_SLOT
    if rng.random() < 0.10:
        status[-1] = "provisional"
    n = n_ward * N_SLOT
    return {
        "status": pl.Series(status * n_ward, dtype=pl.String),
        "submitted_by": pl.repeat(ORGS[x.i % len(ORGS)][0], n, dtype=pl.String, eager=True),
        "submitted_on": pl.Series(on * n_ward, dtype=pl.String),
    }


def chunk(x, wards, seed, sub=False):
    """All 7,000 x 16 rows of one indicator as a polars DataFrame (ward-major, period-minor);
    with sub, also the submission columns."""
    rng = np.random.default_rng([seed, x.i])
    W, S = N_WARD, N_SLOT
    t = np.arange(S)[None, :]
    wl = rng.normal(0, 1, (W, 1))  # ward effect
    noise = rng.normal(0, 1, (W, S))
    num = den = None
    if x.kind == "ratio":
        p = np.clip((x.level + 12 * wl + x.trend * t + 3 * noise) / 100, 0.005, 0.995)
        den = np.maximum(5, np.round(rng.lognormal(np.log(150), 0.5, (W, 1)) * (1 + 0.05 * rng.normal(0, 1, (W, S))))).astype(np.int64)
        num = np.round(den * p).astype(np.int64)
        val = np.round(num / den * 100, 1)
        vs = pl.Series(val.ravel()).cast(pl.String)
    elif x.kind == "count":
        val = np.maximum(0, np.round(x.level * np.exp(0.3 * wl) + x.trend * t + 0.1 * x.level * noise)).astype(np.int64)
        vs = pl.Series(val.ravel()).cast(pl.String)
    elif x.kind == "cumulative":
        flow = np.maximum(0, np.round(x.level * np.exp(0.3 * wl) * (1 + x.trend * t / S) + 0.15 * x.level * noise))
        pos = np.array([p[2] for p in x.per])
        # year to date: cumulative sum that restarts at each year's first period
        ytd = np.empty_like(flow)
        for s in range(S):
            ytd[:, s] = flow[:, s] if pos[s] == 1 or s == 0 else ytd[:, s - 1] + flow[:, s]
        if x.freq == "monthly":
            # the first 4 slots are months 9-12 of 2023/24: give them months 1-8 too
            base = flow[:, :1] * 8
            ytd[:, :4] += base
        val = ytd.astype(np.int64)
        vs = pl.Series(val.ravel()).cast(pl.String)
    else:
        val = np.round(x.level + 8 * wl + x.trend * t + 2 * noise, 1)
        vs = pl.Series(val.ravel()).cast(pl.String)
    n = W * S
    labels = np.array([p[0] for p in x.per], dtype=object)
    df = pl.DataFrame({
        "indicator": pl.Series([x.code]).extend_constant(x.code, n - 1),
        "period": pl.Series(labels[np.tile(np.arange(S), W)].tolist(), dtype=pl.String),
        "area": pl.Series(np.repeat(np.array(wards, dtype=object), S).tolist(), dtype=pl.String),
        "value": vs,
        "numerator": pl.Series(num.ravel() if num is not None else np.zeros(0)).cast(pl.String) if num is not None else pl.repeat(None, n, dtype=pl.String, eager=True),
        "denominator": pl.Series(den.ravel()).cast(pl.String) if den is not None else pl.repeat(None, n, dtype=pl.String, eager=True),
        "commentary": pl.repeat(None, n, dtype=pl.String, eager=True),
    })
    if sub:
        df = df.with_columns(**submission(x, seed, W))
    df, idx = damage(df, x, rng)
    if sub:
        df = bad_dates(df, x, seed, idx)
    return df


def bad_dates(df, x, seed, damaged):
    """About 1 row in 10,000 more gets an unreadable submitted_on (bad-date), from its own random
    stream so that the rest of the data stays as without --submission. Never a series' first row,
    an already damaged row or the row before one (a duplicate or conflicting copy of it)."""
    rng = np.random.default_rng([seed, x.i, 3])
    n = df.height
    k = rng.binomial(n, BAD_RATE / len(BAD_KINDS))
    w = np.sort(rng.choice(n, size=k, replace=False))
    w = w[(w % N_SLOT != 0) & ~np.isin(w, damaged) & ~np.isin(w + 1, damaged)]
    if not len(w):
        return df
    on = df["submitted_on"].scatter(w, pl.Series(np.array(BAD_DATES)[rng.integers(0, len(BAD_DATES), len(w))], dtype=pl.String))
    return df.with_columns(on)


def damage(df, x, rng):
    n = df.height
    cols = {c: df[c] for c in df.columns}
    # rows to damage: never slot 0, so that "copy the previous row" stays within the series
    k = rng.binomial(n, BAD_RATE)
    idx = np.sort(rng.choice(n, size=k, replace=False))
    idx = idx[idx % N_SLOT != 0]
    kinds = rng.integers(0, len(BAD_KINDS), len(idx))

    def put(col, where, values):
        if len(where):
            cols[col] = cols[col].scatter(where, pl.Series(values, dtype=pl.String))

    def sel(name):
        return idx[kinds == BAD_KINDS.index(name)]

    w = sel("unknown-indicator"); put("indicator", w, ["PI 999"] * len(w))
    w = sel("unknown-area"); put("area", w, ["E05999999"] * len(w))
    w = sel("bad-period")
    wrong = "2024-02" if x.freq != "monthly" else "2023/24 Q4"
    put("period", w, [["2024/25 Q5", "Q9 2023", "2023/24 month", wrong][j % 4] for j in range(len(w))])
    w = sel("missing-value"); put("value", w, [""] * len(w))
    w = sel("type-error"); put("value", w, [["tbc", "n.k.", "12..5", "O"][j % 4] for j in range(len(w))])
    w = sel("normalised-value")
    if len(w):
        v = cols["value"].gather(w).to_list()
        if x.kind == "ratio":
            nv = [s + "%" for s in v]
        elif x.kind in ("count", "cumulative"):
            nv = [f"{int(s):,}" if int(s) >= 1000 else f" {s} " for s in v]
        else:
            nv = [f" {s}" for s in v]
        put("value", w, nv)
    w = sel("suppressed")
    put("value", w, [SUPPRESS[j % len(SUPPRESS)] for j in range(len(w))])
    put("numerator", w, [None] * len(w)); put("denominator", w, [None] * len(w))
    sub = [c for c in ("status", "submitted_by", "submitted_on") if c in cols]  # --submission
    w = sel("duplicate-row")
    for c in ["indicator", "period", "area", "value", "numerator", "denominator"] + sub:
        if len(w):
            cols[c] = cols[c].scatter(w, cols[c].gather(w - 1))
    w = sel("conflicting-row")  # same indicator/area/period as the previous row, its own value
    for c in ["indicator", "period", "area"] + sub:
        if len(w):
            cols[c] = cols[c].scatter(w, cols[c].gather(w - 1))
    w = sel("numerator-mismatch")
    if len(w):
        v = cols["value"].gather(w).cast(pl.Float64, strict=False).fill_null(0).to_numpy()
        if x.kind == "ratio":
            nv = [str(round(a - 7.3 if a > 50 else a + 7.3, 1)) for a in v]
        else:  # no numerator here: make it out of range instead (negative count / score)
            nv = [str(-int(abs(a)) - 1) for a in v]
        put("value", w, nv)
    # a few valid lenient period spellings and some commentary
    lw = rng.choice(n, size=n // 2000, replace=False)
    lw = lw[~np.isin(lw, idx)]
    if len(lw):
        put("period", lw, [lenient(p, x.freq) for p in cols["period"].gather(lw).to_list()])
    cw = np.arange(N_SLOT - 1, n, N_SLOT)[:: 97 + x.i % 7]
    texts = ["Improved after targeted work with schools, see action plan",
             "-3 on last quarter: staffing gaps in the team",
             "=Data provisional; \"validated\" figures due next month",
             "On track\nsecond line of narrative"]
    put("commentary", cw, [texts[j % len(texts)] for j in range(len(cw))])
    return pl.DataFrame(cols), idx


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    ap.add_argument("--only", choices=["subset", "full", "both"], default="both")
    ap.add_argument("--submission", action="store_true",
                    help="add status, submitted_by, submitted_on; write national-sub/ and subset-sub/")
    a = ap.parse_args()
    sfx = "-sub" if a.submission else ""
    NAT, SUB = "national" + sfx, "subset" + sfx
    rng = np.random.default_rng(SEED)
    counties, wards = areas()
    inds = indicators(rng)
    do_full = a.only in ("full", "both")
    do_sub = a.only in ("subset", "both")
    for name, on in ((NAT, do_full), (SUB, do_sub)):
        if on:
            write_framework(os.path.join(a.out, name, "pmf.yaml"), inds, counties)
            os.makedirs(os.path.join(a.out, name, "returns"), exist_ok=True)
    full_files = []
    if do_full:
        full_files = [open(os.path.join(a.out, NAT, "returns", f"part-{k + 1}.csv"), "wb")
                      for k in range(N_FILES)]
    sub_file = open(os.path.join(a.out, SUB, "returns", "returns.csv"), "wb") if do_sub else None
    rows = sub_rows = 0
    per_file = N_IND // N_FILES
    n_ind = N_IND if do_full else SUB_IND
    for x in inds[:n_ind]:
        df = chunk(x, wards, SEED, a.submission)
        if do_full:
            f = full_files[x.i // per_file]
            df.write_csv(f, include_header=(x.i % per_file == 0))
            rows += df.height
        if do_sub and x.i < SUB_IND:
            df.head(SUB_WARD * N_SLOT).write_csv(sub_file, include_header=(x.i == 0))
            sub_rows += SUB_WARD * N_SLOT
        if x.i % 20 == 19:
            print(f"  {x.i + 1} indicators", file=sys.stderr, flush=True)
    for f in full_files:
        f.close()
    if sub_file:
        sub_file.close()
    print(f"wrote {rows:,} national rows, {sub_rows:,} subset rows under {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
