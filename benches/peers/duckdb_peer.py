#!/usr/bin/env python3
"""pmf's validate and report (SPEC 2.3, 3, 4, 5) as DuckDB SQL, run from Python.

    python duckdb_peer.py validate -f pmf.yaml -r returns/ -o problems.csv
    python duckdb_peer.py report   -f pmf.yaml -r returns/ --quarter Q4 --year 2024/25 -o report.csv
"""
import os
import sys
import tempfile
import time

import duckdb
import pandas as pd

import common as C

PERIOD_RE = (r"^(?:(\d{4})[/-](\d{2}|\d{4})(?:[ /-]*([QH])([0-9]))?"
             r"|([QH])([0-9])[ /-]*(\d{4})[/-](\d{2}|\d{4}))$")


class Timed:
    """Wraps the connection to print each statement's time on stderr when PEER_TIMING is set."""

    def __init__(self, con):
        self.con = con

    def execute(self, sql, *a):
        t = time.time()
        r = self.con.execute(sql, *a)
        if os.environ.get("PEER_TIMING"):
            print(f"{time.time() - t:7.2f}s  {' '.join(sql.split())[:70]}", file=sys.stderr)
        return r

    def __getattr__(self, k):
        return getattr(self.con, k)


def q(s):
    return "'" + s.replace("'", "''") + "'"


def load(con, fw, path):
    """Reads the framework and returns into tables; True when any file has SPEC 2.3's submission
    columns (status, submitted_by, submitted_on)."""
    con.register("ind_df", pd.DataFrame(fw["indicators"]))
    con.register("area_df", pd.DataFrame(fw["areas"]))
    con.register("tgt_df", pd.DataFrame(fw["targets"]))
    con.execute("CREATE TABLE ind AS SELECT *, CASE frequency WHEN 'quarterly' THEN 4 WHEN 'monthly' THEN 12 "
                "WHEN 'half-yearly' THEN 2 ELSE 1 END AS ppy FROM ind_df")
    con.execute("CREATE TABLE areas AS SELECT * FROM area_df")
    con.execute("CREATE TABLE tgt AS SELECT * FROM tgt_df")
    parts = []
    sub = False
    for k, f in enumerate(C.csv_files(path)):
        con.execute(f"CREATE TABLE raw{k} AS SELECT * FROM read_csv({q(f)}, all_varchar=true, header=true)")
        cols = {c.lower().replace(" ", "").replace("_", ""): c for c in
                [r[0] for r in con.execute(f"DESCRIBE raw{k}").fetchall()]}
        sub = sub or any(c in cols for c in C.SUBMISSION)
        sel = ", ".join(f'coalesce("{cols[c]}", \'\') AS {c}' if c in cols else f"'' AS {c}"
                        for c in ("indicator", "period", "area", "value", "numerator", "denominator",
                                  "commentary", "prediction") + C.SUBMISSION)
        nl = " + ".join(f"length({c}) - length(replace({c}, chr(10), ''))"
                        for c in ("indicator", "period", "area", "value", "commentary"))
        parts.append(f"""SELECT {q(f)} AS file, rowid + 2 + sum(nl) OVER (ORDER BY rowid) - nl AS line, *
            FROM (SELECT rowid, *, {nl} AS nl FROM (SELECT rowid, {sel} FROM raw{k}))""")
    con.execute("CREATE TABLE r0 AS " + " UNION ALL ".join(parts))
    da = q(fw["default_area"])
    con.execute(f"""
    CREATE TABLE r1 AS
    WITH a AS (
      SELECT file, line, trim(indicator) AS indicator, coalesce(nullif(trim(area), ''), {da}) AS area,
             period, value, numerator, denominator, commentary, prediction, status, submittedon,
             regexp_extract(upper(trim(period)), {q(PERIOD_RE)}, ['y1','y2','k1','n1','k2','n2','y3','y4']) AS g,
             upper(trim(period)) AS p
      FROM r0),
    b AS (
      SELECT a.*, i.frequency, i.unit, i.scale, i.measure, ar.area IS NOT NULL AS known_area,
             TRY_CAST(coalesce(nullif(g.y1, ''), nullif(g.y3, '')) AS INT) AS y,
             coalesce(nullif(g.y2, ''), nullif(g.y4, '')) AS yy,
             coalesce(nullif(g.k1, ''), nullif(g.k2, '')) AS kind,
             TRY_CAST(coalesce(nullif(g.n1, ''), nullif(g.n2, '')) AS INT) AS n
      FROM a LEFT JOIN ind i USING (indicator) LEFT JOIN areas ar USING (area)),
    c AS (
      SELECT *, CASE WHEN length(yy) = 2 THEN TRY_CAST(yy AS INT) = (y + 1) % 100 ELSE TRY_CAST(yy AS INT) = y + 1 END AS year_ok,
             TRY_CAST(yy AS INT) AS mm FROM b),
    d AS (
      SELECT *, kind IS NULL AND regexp_matches(p, '^\\d{{4}}-\\d{{2}}$') AND mm BETWEEN 1 AND 12
                AND (frequency = 'monthly' OR NOT year_ok) AS is_month FROM c),
    e AS (
      SELECT *,
        CASE WHEN is_month THEN 'monthly'
             WHEN year_ok AND kind = 'Q' AND n BETWEEN 1 AND 4 THEN 'quarterly'
             WHEN year_ok AND kind = 'H' AND n BETWEEN 1 AND 2 THEN 'half-yearly'
             WHEN year_ok AND kind IS NULL THEN 'annual' END AS pfreq,
        CASE WHEN is_month THEN (CASE WHEN mm >= 4 THEN y ELSE y - 1 END) ELSE y END AS fy,
        CASE WHEN is_month THEN (mm - 4 + 12) % 12 + 1 WHEN kind IS NULL THEN 1 ELSE n END AS k,
        trim(value) AS vs
      FROM d),
    f AS (
      SELECT *, CASE pfreq WHEN 'quarterly' THEN 4 WHEN 'monthly' THEN 12 WHEN 'half-yearly' THEN 2 WHEN 'annual' THEN 1 END AS pppy,
        regexp_replace(vs, '^£', '') AS v1 FROM e),
    g AS (
      SELECT *, fy * pppy + k - 1 AS idx, fy * 12 + 3 + k * (12 // pppy) - 1 AS endm,
        CASE WHEN regexp_matches(v1, '^-?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?$') THEN replace(v1, ',', '') ELSE v1 END AS v2
      FROM f)
    SELECT * EXCLUDE (g, v1, v2, y, yy, kind, n, mm, year_ok, is_month, p),
      CASE WHEN unit = 'percent' THEN regexp_replace(v2, '%$', '') ELSE v2 END AS vnorm
    FROM g""")
    sup = ", ".join(q(s) for s in C.SUPPRESS)
    tm = C.today_month()
    if sub:
        # submission columns: status final/provisional (empty: final), submitted_on a real date
        part = lambda *g: ", ".join(f"nullif(dg.{x}, '')" for x in g)
        years = f"BETWEEN {C.DATE_YEARS[0]} AND {C.DATE_YEARS[1]}"
        sub_a = f""", lower(trim(status)) AS st, trim(submittedon) AS ds,
        regexp_extract(trim(submittedon), {q(C.DATE_RE)}, ['y1', 'm1', 'd1', 'd2', 'm2', 'y2', 'd3', 'm3', 'y3']) AS dg"""
        sub_b = f""", NOT coalesce(st IN ({", ".join(q(x) for x in C.STATUS)}), false) AS e_status,
        TRY_CAST(coalesce({part('y1', 'y2', 'y3')}) || '-' || lpad(coalesce({part('m1', 'm2', 'm3')}), 2, '0')
                 || '-' || lpad(coalesce({part('d1', 'd2', 'd3')}), 2, '0') AS DATE) AS on0"""
        sub_c = f""", CASE WHEN year(on0) {years} THEN on0 END AS sub_on,
        ds <> '' AND NOT coalesce(year(on0) {years}, false) AS e_date"""
        sub_x, sub_bad = "dg, on0, st, ", " OR e_status OR e_date"
        sub_st = ", CASE WHEN st = '' THEN 'final' ELSE st END AS st"
    else:
        sub_a, sub_b, sub_c, sub_x, sub_bad, sub_st = "", "", "", "", "", ", 'final' AS st"
    con.execute(f"""
    CREATE TABLE r AS
    WITH a AS (
      SELECT *, lower(vs) IN ({sup}) AS suppressed, vs = '' AS empty,
        vnorm <> value AND vs <> '' AS normalised,
        TRY_CAST(vnorm AS DOUBLE) AS val, TRY_CAST(trim(numerator) AS DOUBLE) AS num,
        TRY_CAST(trim(denominator) AS DOUBLE) AS den,
        coalesce(length(regexp_extract(vnorm, '\\.(\\d+)$', 1)), 0) AS decimals,
        CASE WHEN pfreq = 'monthly' THEN printf('%d-%02d', fy + (k + 3) // 13, (k + 2) % 12 + 1)
             WHEN pfreq = 'annual' THEN printf('%d/%02d', fy, (fy + 1) % 100)
             WHEN pfreq IS NOT NULL THEN printf('%d/%02d %s%d', fy, (fy + 1) % 100, CASE pfreq WHEN 'quarterly' THEN 'Q' ELSE 'H' END, k)
        END AS canon{sub_a}
      FROM r1),
    b AS (
      SELECT *, frequency IS NULL AS e_ind, NOT known_area AS e_area, pfreq IS NULL AS e_period,
        coalesce(pfreq <> frequency, false) AS e_freq, coalesce(endm >= {tm}, false) AS e_future,
        empty AS e_missing, NOT empty AND NOT suppressed AND val IS NULL AS e_type,
        coalesce((unit = 'percent' AND NOT val BETWEEN 0 AND 100) OR (unit = 'count' AND val < 0) OR den = 0, false) AS e_range,
        coalesce(val IS NOT NULL AND num IS NOT NULL AND den > 0
                 AND abs(val - num / den * scale) > 0.5 * pow(10, -decimals) + 1e-9, false) AS e_mismatch{sub_b}
      FROM a),
    c AS (
      SELECT *, NOT (e_ind OR e_area OR e_period OR e_freq) AS keyed,
        count(*) OVER w AS grp, count(DISTINCT vs) OVER w AS nuniq, min(line) OVER w AS first_line{sub_c}
      FROM b WINDOW w AS (PARTITION BY indicator, area, idx))
    SELECT * EXCLUDE ({sub_x}grp, nuniq, first_line){sub_st},
      keyed AND grp > 1 AND nuniq > 1 AS e_conflict,
      keyed AND grp > 1 AND nuniq = 1 AND line <> first_line AS w_dup,
      e_ind OR e_area OR e_period OR e_freq OR e_future OR e_missing OR e_type OR e_range OR e_mismatch
        OR (keyed AND grp > 1 AND nuniq > 1){sub_bad} AS bad
    FROM c""")
    return sub


PROBLEMS = [
    ("e_ind", "unknown-indicator", "indicator", "printf('indicator ''%s'' is not in the framework', indicator)"),
    ("e_area", "unknown-area", "area", "printf('area ''%s'' is not in the framework', area)"),
    ("e_period", "bad-period", "period", "printf('''%s'' is not a period (use 2024/25 Q1, 2024/25 H1, 2024-04 or 2024/25)', period)"),
    ("e_freq", "wrong-frequency", "period", "printf('%s is a %s period but the indicator is %s', canon, pfreq, frequency)"),
    ("e_future", "future-period", "period", "printf('%s has not ended yet', canon)"),
    ("e_missing", "missing-value", "value", "'the value is empty; use a suppression marker such as [x] if there is no value'"),
    ("e_type", "type-error", "value", "printf('''%s'' is not a number', value)"),
    ("e_range", "out-of-range", "value", "printf('%s is out of range for this indicator', value)"),
    ("e_mismatch", "numerator-mismatch", "value", "printf('value %s differs from numerator/denominator (%s/%s)', value, numerator, denominator)"),
    ("e_conflict", "conflicting-row", "value", "'another row has the same indicator, area and period with a different value'"),
    ("w_dup", "duplicate-row", "", "'this row repeats an earlier one'"),
    ("normalised", "normalised-value", "value", "printf('''%s'' was read as %s', value, vnorm)"),
    # only when the returns have the submission columns
    ("e_status", "type-error", "status", "printf('the status ''%s'' is not final or provisional', trim(status))"),
    ("e_date", "bad-date", "submitted_on", "printf('''%s'' is not a date (write dates as 2024-07-21 or 21/07/2024)', ds)"),
]

LABEL = """CASE WHEN {f} = 'monthly' THEN printf('%d-%02d', ({i} + 3) // 12, ({i} + 3) % 12 + 1)
  WHEN {p} = 4 THEN printf('%d/%02d Q%d', {i} // 4, ({i} // 4 + 1) % 100, {i} % 4 + 1)
  WHEN {p} = 2 THEN printf('%d/%02d H%d', {i} // 2, ({i} // 2 + 1) % 100, {i} % 2 + 1)
  ELSE printf('%d/%02d', {i}, ({i} + 1) % 100) END"""


def validate(con, fw, sub):
    sels = [f"""SELECT file, line, '{col}' AS "column", '{code}' AS code,
               '{"warning" if code in C.WARNINGS else "error"}' AS severity, indicator, area,
               coalesce(canon, period) AS period, {msg} AS message FROM r WHERE {flag}"""
            for flag, code, col, msg in PROBLEMS if sub or flag not in ("e_status", "e_date")]
    # the returns due at the latest period: each indicator's period ending then, for each area
    # that ever sent it a value, with the month in which it ends
    con.execute("""
      CREATE TABLE due AS
      SELECT d.*, i.frequency, i.ppy, i.provider, i.lead, last.m AS endm
      FROM (SELECT DISTINCT indicator, area FROM r WHERE NOT bad AND val IS NOT NULL) s
      JOIN ind i USING (indicator)
      CROSS JOIN (SELECT max(endm) AS m FROM r WHERE NOT bad) last
      JOIN LATERAL (SELECT s.indicator, s.area, (last.m - 2) // (12 // i.ppy) - 1 AS idx) d ON true
      WHERE (last.m - 2) % (12 // i.ppy) = 0""")
    label = LABEL.format(f="d.frequency", p="d.ppy", i="d.idx")
    sels.append(f"""
      SELECT '' AS file, NULL AS line, '' AS "column", 'missing-return' AS code, 'warning' AS severity,
             d.indicator, d.area, {label} AS period,
             printf('no return from %s (lead %s)', d.provider, d.lead) AS message
      FROM due d
      WHERE NOT EXISTS (SELECT 1 FROM r WHERE NOT r.bad AND r.indicator = d.indicator AND r.area = d.area AND r.idx = d.idx)""")
    if sub:
        # the due returns (the last row of a repeated key) that arrived after the deadline
        sels.append(f"""
      SELECT file, line, 'submitted_on' AS "column", 'late-return' AS code, 'warning' AS severity,
             indicator, area, period,
             printf('%s was due by %s and arrived on %s, %d days late: provider %s, lead %s',
                    period, deadline, sub_on, sub_on - deadline, provider, lead) AS message
      FROM (SELECT r.file, r.line, d.indicator, d.area, {label} AS period, d.provider, d.lead, r.sub_on,
                   last_day(make_date(d.endm // 12, d.endm % 12 + 1, 1)) + {fw["deadline_days"]} AS deadline
            FROM due d JOIN r ON NOT r.bad AND r.indicator = d.indicator AND r.area = d.area AND r.idx = d.idx
            QUALIFY r.line = max(r.line) OVER (PARTITION BY d.indicator, d.area, d.idx))
      WHERE sub_on > deadline""")
    return con.sql(" UNION ALL ".join(sels) + " ORDER BY file NULLS LAST, line NULLS LAST")


def report(con, fw, quarter, year):
    W, MINB, MARGIN = fw["window"], fw["min_backtests"], fw["margin"]
    A, I = fw["action_after"], fw["intervention_after"]
    R = C.report_end_month(quarter, year)
    fy_r = int(year[:4])
    pe = fw["plan_end_year"]
    con.execute(f"""CREATE TABLE indx AS SELECT *, (({R} - 2) // (12 // ppy)) - 1 AS rep_idx,
        {fy_r} * ppy + ppy - 1 AS fc_idx, {f'{pe} * ppy + ppy - 1' if pe else 'NULL'} AS plan_idx FROM ind""")
    con.execute("""CREATE TABLE lvl AS SELECT indicator, area, idx, fy, k, val AS value, num, den,
                   commentary, prediction, st AS status FROM r WHERE NOT bad AND NOT w_dup""")
    con.execute("CREATE TABLE nchild AS SELECT parent AS area, count(*) AS nchild FROM areas GROUP BY parent")
    maxd = con.execute("SELECT max(depth) FROM areas").fetchone()[0]
    con.execute("CREATE TABLE allv0 AS SELECT * FROM lvl")
    for depth in range(maxd - 1, -1, -1):
        # a parent's own return wins; otherwise sum children, or divide summed numerators by denominators
        con.execute(f"""
        INSERT INTO allv0
        SELECT u.indicator, u.area, u.idx, u.fy, u.k,
          CASE WHEN u.n < nc.nchild THEN NULL WHEN u.agg = 'sum' THEN u.s
               WHEN u.nr = nc.nchild AND u.sd > 0 THEN u.sn / u.sd * u.scale END,
          CASE WHEN u.nr = nc.nchild THEN u.sn END, CASE WHEN u.nr = nc.nchild THEN u.sd END, '', '', ''
        FROM (SELECT v.indicator, a.parent AS area, v.idx, v.fy, v.k, count(v.value) AS n,
                count(*) FILTER (WHERE v.num IS NOT NULL AND v.den IS NOT NULL) AS nr,
                sum(v.value) AS s, sum(v.num) AS sn, sum(v.den) AS sd, any_value(i.aggregate) AS agg, any_value(i.scale) AS scale
              FROM allv0 v JOIN areas a ON a.area = v.area AND a.depth = {depth + 1}
              JOIN ind i ON i.indicator = v.indicator AND i.aggregate <> 'none'
              GROUP BY ALL) u
        JOIN nchild nc ON nc.area = u.area
        WHERE NOT EXISTS (SELECT 1 FROM lvl o WHERE o.indicator = u.indicator AND o.area = u.area AND o.idx = u.idx)""")
    con.execute(f"""
    CREATE TABLE allv AS
    WITH a AS (
      SELECT v.*, i.* EXCLUDE (indicator),
        coalesce(pt.target, CASE WHEN i.measure = 'cumulative' THEN yt.target * v.k / i.ppy ELSE yt.target END) AS target
      FROM allv0 v JOIN indx i USING (indicator)
      LEFT JOIN tgt yt ON yt.indicator = v.indicator AND yt.key = printf('%d/%02d', v.fy, (v.fy + 1) % 100)
      LEFT JOIN tgt pt ON pt.indicator = v.indicator
        AND pt.key = printf('%d/%02d %s%d', v.fy, (v.fy + 1) % 100, CASE i.ppy WHEN 4 THEN 'Q' ELSE 'H' END, v.k)
      QUALIFY bool_or(v.value IS NOT NULL) OVER (PARTITION BY v.indicator, v.area)),
    b AS (
      SELECT *, CASE WHEN polarity = 'higher' THEN value - target ELSE target - value END AS better,
        CASE WHEN measure = 'cumulative' THEN idx - ppy ELSE idx - 1 END AS prev_idx FROM a),
    c AS (
      SELECT b.*, p.value AS prev,
        CASE WHEN polarity <> 'none' THEN round(better / abs(target) * 100, 9) END AS dev,
        CASE WHEN polarity = 'none' THEN false ELSE coalesce(better < 0, false) END AS below,
        CASE WHEN polarity = 'higher' THEN b.value - p.value ELSE p.value - b.value END AS diff
      FROM b LEFT JOIN allv0 p ON p.indicator = b.indicator AND p.area = b.area AND p.idx = b.prev_idx)
    SELECT * EXCLUDE (diff),
      CASE WHEN dev IS NULL OR value IS NULL THEN 'N/A' WHEN target = 0 THEN CASE WHEN below THEN 'RED' ELSE 'GREEN' END
           WHEN dev + 100 >= 95 THEN 'GREEN' WHEN dev + 100 >= 90 THEN 'AMBER' ELSE 'RED' END AS rag,
      CASE WHEN polarity = 'none' OR prev IS NULL OR value IS NULL THEN 'n/a'
           WHEN diff > 0 THEN 'improving' WHEN diff < 0 THEN 'worsening' ELSE 'no change' END AS direction
    FROM c""")
    # escalation walk (4.4), as runs of consecutive below-target valued periods
    con.execute(f"""
    CREATE TABLE walk AS
    WITH a AS (
      SELECT indicator, area, idx, below, direction, fast_track,
        sum(CASE WHEN below THEN 0 ELSE 1 END) OVER (PARTITION BY indicator, area ORDER BY idx) AS run
      FROM allv WHERE value IS NOT NULL AND idx <= rep_idx),
    b AS (SELECT *, sum(CASE WHEN below THEN 1 ELSE 0 END) OVER (PARTITION BY indicator, area, run ORDER BY idx) AS pos FROM a),
    c AS (SELECT *, min(CASE WHEN fast_track >= 2 THEN 1 WHEN pos >= {A} AND direction <> 'improving' THEN pos END)
                      OVER (PARTITION BY indicator, area, run ORDER BY idx) AS k2 FROM b),
    d AS (SELECT *, CASE WHEN NOT below THEN 0 WHEN k2 IS NULL OR pos < k2 THEN 1 WHEN pos - k2 < {I} THEN 2 ELSE 3 END AS st FROM c)
    SELECT indicator, area, arg_max(CASE WHEN below THEN greatest(st, fast_track) ELSE st END, idx) AS stage
    FROM d GROUP BY indicator, area""")
    # forecast candidates at every valued period: window of the last W periods (RANGE on the period index)
    con.execute(f"""
    CREATE TABLE cand AS
    WITH s AS (SELECT indicator, area, min(idx) AS lo, max(idx) FILTER (WHERE value IS NOT NULL) AS last_idx
               FROM allv GROUP BY ALL),
    v AS (SELECT a.indicator, a.area, a.idx, a.value, CAST(a.idx - s.lo AS DOUBLE) AS x, s.last_idx
          FROM allv a JOIN s USING (indicator, area) WHERE a.value IS NOT NULL)
    SELECT *, count(*) OVER w AS n, sum(value) OVER w AS sy, sum(x) OVER w AS sx,
      sum(x * value) OVER w AS sxy, sum(x * x) OVER w AS sxx,
      count(*) OVER (PARTITION BY indicator, area ORDER BY idx) - 1 AS before
    FROM v WINDOW w AS (PARTITION BY indicator, area ORDER BY idx RANGE BETWEEN {W - 1} PRECEDING AND CURRENT ROW)""")
    con.execute("""CREATE TABLE cand2 AS SELECT *, sy / n AS f_mean,
        (n * sxy - sx * sy) / nullif(n * sxx - sx * sx, 0) AS b FROM cand""")

    def forecast(col, name):
        trend = "CASE WHEN c.n >= 3 THEN (c.sy - c.b * c.sx) / c.n + c.b * (c.x + s.hh) ELSE c.value END"
        con.execute(f"""
        CREATE TABLE {name} AS
        WITH s AS (SELECT c.indicator, c.area, c.value, c.idx, c.x, i.{col} - c.idx AS hh, i.measure, i.ppy
                   FROM cand2 c JOIN indx i USING (indicator) WHERE c.idx = c.last_idx),
        e AS (SELECT c.indicator, c.area, t.value - c.value AS el, t.value - c.f_mean AS em,
                t.value - ({trend}) AS et
              FROM cand2 c JOIN s USING (indicator, area)
              JOIN cand2 t ON t.indicator = c.indicator AND t.area = c.area AND t.idx = c.idx + s.hh
              WHERE c.before >= 2),
        bt AS (SELECT indicator, area, count(*) AS nb, avg(abs(el)) AS ml, avg(abs(em)) AS mm, avg(abs(et)) AS mt,
                 list(el) AS el, list(em) AS em, list(et) AS et FROM e GROUP BY ALL),
        f AS (
          SELECT s.indicator, s.area, s.value, s.idx, s.ppy, c.f_mean, {trend.replace('c.value', 's.value')} AS f_trend, bt.*EXCLUDE (indicator, area),
            CASE WHEN s.hh = 0 THEN 'actual' WHEN s.measure = 'cumulative' THEN 'run-rate'
                 WHEN coalesce(bt.nb >= {MINB} AND bt.mm < {MARGIN} * bt.ml, false) AND coalesce(bt.nb >= {MINB} AND bt.mt < {MARGIN} * bt.ml, false)
                   THEN CASE WHEN bt.mt < bt.mm THEN 'trend' ELSE 'mean' END
                 WHEN coalesce(bt.nb >= {MINB} AND bt.mm < {MARGIN} * bt.ml, false) THEN 'mean'
                 WHEN coalesce(bt.nb >= {MINB} AND bt.mt < {MARGIN} * bt.ml, false) THEN 'trend'
                 ELSE 'last' END AS method
          FROM s JOIN cand2 c USING (indicator, area, idx) LEFT JOIN bt USING (indicator, area))
        SELECT indicator, area, method AS {name}_method,
          CASE method WHEN 'actual' THEN value WHEN 'run-rate' THEN value * ppy / (idx % ppy + 1)
            WHEN 'mean' THEN f_mean WHEN 'trend' THEN f_trend ELSE value END AS {name},
          CASE method WHEN 'mean' THEN em WHEN 'trend' THEN et WHEN 'last' THEN el END AS {name}_errs
        FROM f""")

    forecast("fc_idx", "fc")
    if pe:
        forecast("plan_idx", "pfc")
    else:
        con.execute("CREATE TABLE pfc AS SELECT NULL::VARCHAR AS indicator, NULL::VARCHAR AS area, NULL::DOUBLE AS pfc, NULL::VARCHAR AS pfc_method")
    pk = f"{pe}/{(pe + 1) % 100:02d}" if pe else ""
    label = LABEL.format(f="i.frequency", p="i.ppy", i="i.rep_idx")

    def meets(f, t):
        return f"CASE WHEN i.polarity = 'none' OR {f} IS NULL OR {t} IS NULL THEN NULL WHEN i.polarity = 'higher' THEN {f} >= {t} ELSE {f} <= {t} END"

    def yn(e):
        return f"CASE WHEN {e} THEN 'yes' WHEN NOT {e} THEN 'no' END"

    def esc(c):
        return f"CASE WHEN regexp_matches({c}, '^[=+\\-@\\t\\r]') THEN '''' || {c} ELSE {c} END"

    return con.sql(f"""
    WITH keys AS (SELECT DISTINCT indicator, area FROM allv),
    rep AS (
      SELECT k.indicator, k.area, i.*, v.value, v.target, v.dev, v.rag, v.direction, v.prediction, v.status, v.commentary,
        w.stage, fc.fc AS forecast, fc.fc_method AS forecast_method, fc.fc_errs, ft.target AS forecast_target,
        pfc.pfc AS plan_forecast, pt.target AS plan_target
      FROM keys k JOIN indx i USING (indicator)
      LEFT JOIN allv v ON v.indicator = k.indicator AND v.area = k.area AND v.idx = i.rep_idx
      LEFT JOIN walk w ON w.indicator = k.indicator AND w.area = k.area
      LEFT JOIN fc ON fc.indicator = k.indicator AND fc.area = k.area
      LEFT JOIN allv ft ON ft.indicator = k.indicator AND ft.area = k.area AND ft.idx = i.fc_idx
      LEFT JOIN pfc ON pfc.indicator = k.indicator AND pfc.area = k.area
      LEFT JOIN tgt pt ON pt.indicator = k.indicator AND pt.key = {q(pk)})
    SELECT i.theme, i.priority, i.indicator, {esc('i.name')} AS name, i.area, {label} AS period, i.value, i.target,
      round(i.dev, 1) AS deviation_pct, i.rag, i.direction, coalesce(i.stage, 0) AS stage,
      i.forecast, i.forecast_method, i.forecast_target, {yn(meets('i.forecast', 'i.forecast_target'))} AS on_track,
      CASE WHEN len(i.fc_errs) >= {MINB} AND i.forecast_target IS NOT NULL AND i.polarity <> 'none' THEN
        round(len(list_filter(i.fc_errs, lambda e: CASE WHEN i.polarity = 'higher' THEN i.forecast + e >= i.forecast_target
                                                   ELSE i.forecast + e <= i.forecast_target END)) / len(i.fc_errs), 2) END AS confidence,
      i.plan_forecast, i.plan_target, {yn(meets('i.plan_forecast', 'i.plan_target'))} AS plan_on_track,
      i.prediction, NULL AS challenge, {esc('i.lead')} AS lead, i.organisation, i.status, {esc('i.commentary')} AS commentary
    FROM rep i JOIN areas a USING (area)
    ORDER BY i.ind_order, a.area_order""")


def main():
    a = C.args(__doc__)
    fw = C.load_framework(a.framework)
    con = Timed(duckdb.connect())
    con.execute(f"SET threads = {os.cpu_count()}")
    # spill to the system temp folder, not ./.tmp in whatever folder the peer runs from
    con.execute(f"SET temp_directory = {q(os.path.join(tempfile.gettempdir(), 'duckdb_peer'))}")
    sub = load(con, fw, a.returns)
    rel = validate(con, fw, sub) if a.command == "validate" else report(con, fw, a.quarter, a.year)
    out = "/dev/stdout" if a.output == "-" else a.output
    rel.write_csv(out, header=True)
    print(f"{a.command}: done", file=sys.stderr)


if __name__ == "__main__":
    main()
