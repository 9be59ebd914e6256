#!/usr/bin/env python3
"""pmf's validate and report (SPEC 2.3, 3, 4, 5) written the way an analyst would in polars.

    python polars_peer.py validate -f pmf.yaml -r returns/ -o problems.csv
    python polars_peer.py report   -f pmf.yaml -r returns/ --quarter Q4 --year 2024/25 -o report.csv
"""
import sys

import polars as pl

import common as C

PERIOD_RE = (r"^(?:(\d{4})[/-](\d{2}|\d{4})(?:[ /-]*([QH])([0-9]))?"
             r"|([QH])([0-9])[ /-]*(\d{4})[/-](\d{2}|\d{4}))$")
ERR_KEY = ["indicator", "area", "idx"]


def label(idx):
    """Canonical period label from a frequency index (needs columns frequency and ppy)."""
    i, ppy = pl.col(idx), pl.col("ppy")
    yy = ((i // ppy + 1) % 100).cast(pl.String).str.zfill(2)
    return (pl.when(pl.col("frequency") == "monthly")
            .then(pl.format("{}-{}", (i + 3) // 12, ((i + 3) % 12 + 1).cast(pl.String).str.zfill(2)))
            .when(ppy == 4).then(pl.format("{}/{} Q{}", i // ppy, yy, i % 4 + 1))
            .when(ppy == 2).then(pl.format("{}/{} H{}", i // ppy, yy, i % 2 + 1))
            .otherwise(pl.format("{}/{}", i // ppy, yy)))


def read_returns(path):
    """All returns as one LazyFrame of text columns, and whether any file has SPEC 2.3's
    submission columns (status, submitted_by, submitted_on)."""
    frames = []
    sub = False
    for f in C.csv_files(path):
        lf = pl.scan_csv(f, infer_schema=False)
        cols = {c.lower().replace(" ", "").replace("_", ""): c for c in lf.collect_schema().names()}
        sub = sub or any(c in cols for c in C.SUBMISSION)
        lf = lf.select(*[pl.col(orig).fill_null("").alias(norm) for norm, orig in cols.items()])
        for c in ("area", "numerator", "denominator", "commentary", "prediction") + C.SUBMISSION:
            if c not in cols:
                lf = lf.with_columns(pl.lit("").alias(c))
        # physical line of each record: header is line 1; embedded newlines push later records down
        nl = pl.sum_horizontal(pl.col(c).str.count_matches("\n") for c in
                               ("indicator", "period", "area", "value", "commentary"))
        lf = (lf.with_row_index("row")
              .with_columns(file=pl.lit(f), line=(pl.col("row") + 2 + nl.cum_sum() - nl).cast(pl.Int64)))
        frames.append(lf)
    return pl.concat(frames), sub


def parse(fw, path):
    inds = pl.LazyFrame(fw["indicators"])
    areas = pl.LazyFrame(fw["areas"]).select("area", "depth")
    lf, sub = read_returns(path)
    lf = lf.with_columns(
        pl.col("indicator").str.strip_chars(),
        pl.col("area").str.strip_chars().replace("", fw["default_area"]),
    )
    lf = (lf.join(inds.select("indicator", "frequency", "unit", "scale", "measure"), on="indicator", how="left")
          .join(areas.select("area", known_area=pl.lit(True)), on="area", how="left"))
    lf = lf.with_columns(p=pl.col("period").str.strip_chars().str.to_uppercase())
    lf = lf.with_columns(g=pl.col("p").str.extract_groups(PERIOD_RE))
    g = pl.col("g")
    lf = lf.with_columns(
        y=pl.coalesce(g.struct.field("1"), g.struct.field("7")).cast(pl.Int32),
        y2=pl.coalesce(g.struct.field("2"), g.struct.field("8")),
        kind=pl.coalesce(g.struct.field("3"), g.struct.field("5")),
        n=pl.coalesce(g.struct.field("4"), g.struct.field("6")).cast(pl.Int32),
    ).with_columns(
        year_ok=pl.when(pl.col("y2").str.len_chars() == 2).then(pl.col("y2").cast(pl.Int32) == (pl.col("y") + 1) % 100)
        .otherwise(pl.col("y2").cast(pl.Int32) == pl.col("y") + 1),
        mm=pl.col("y2").cast(pl.Int32),
    ).with_columns(
        is_month=pl.col("kind").is_null() & pl.col("p").str.contains(r"^\d{4}-\d{2}$") & pl.col("mm").is_between(1, 12)
        & ((pl.col("frequency") == "monthly") | ~pl.col("year_ok")),
    )
    y, kind, n, mm, year_ok, is_month = (pl.col(c) for c in ("y", "kind", "n", "mm", "year_ok", "is_month"))
    lf = lf.with_columns(
        pfreq=pl.when(is_month).then(pl.lit("monthly"))
        .when(year_ok & (kind == "Q") & n.is_between(1, 4)).then(pl.lit("quarterly"))
        .when(year_ok & (kind == "H") & n.is_between(1, 2)).then(pl.lit("half-yearly"))
        .when(year_ok & kind.is_null()).then(pl.lit("annual")),
        fy=pl.when(is_month).then(pl.when(mm >= 4).then(y).otherwise(y - 1)).otherwise(y),
        k=pl.when(is_month).then((mm - 4) % 12 + 1).when(kind.is_null()).then(1).otherwise(n),
    ).drop("g", "p", "y", "y2", "kind", "n", "mm", "year_ok", "is_month")
    ppy = pl.col("pfreq").replace_strict(C.PPY, default=None, return_dtype=pl.Int32)
    lf = lf.with_columns(
        idx=pl.col("fy") * ppy + pl.col("k") - 1,
        endm=pl.col("fy") * 12 + 3 + pl.col("k") * (12 // ppy) - 1,
        canon=pl.when(pl.col("pfreq").is_null()).then(None).when(pl.col("pfreq") == "monthly")
        .then(pl.format("{}-{}", pl.col("fy") + ((pl.col("k") + 3) // 13),
                        (((pl.col("k") + 2) % 12) + 1).cast(pl.String).str.zfill(2)))
        .when(pl.col("pfreq") == "annual")
        .then(pl.format("{}/{}", pl.col("fy"), ((pl.col("fy") + 1) % 100).cast(pl.String).str.zfill(2)))
        .otherwise(pl.format("{}/{} {}{}", pl.col("fy"), ((pl.col("fy") + 1) % 100).cast(pl.String).str.zfill(2),
                             pl.when(pl.col("pfreq") == "quarterly").then(pl.lit("Q")).otherwise(pl.lit("H")),
                             pl.col("k"))),
    )
    # values
    lf = (lf.with_columns(vs=pl.col("value").str.strip_chars())
          .with_columns(v1=pl.col("vs").str.replace(r"^£", ""))
          .with_columns(v1=pl.when(pl.col("v1").str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$"))
                        .then(pl.col("v1").str.replace_all(",", "")).otherwise("v1"))
          .with_columns(vnorm=pl.when(pl.col("unit") == "percent").then(pl.col("v1").str.replace(r"%$", ""))
                        .otherwise("v1")).drop("v1"))
    lf = lf.with_columns(
        suppressed=pl.col("vs").str.to_lowercase().is_in(C.SUPPRESS),
        empty=pl.col("vs") == "",
        normalised=(pl.col("vnorm") != pl.col("value")) & (pl.col("vs") != ""),
        val=pl.col("vnorm").cast(pl.Float64, strict=False),
        num=pl.col("numerator").str.strip_chars().cast(pl.Float64, strict=False),
        den=pl.col("denominator").str.strip_chars().cast(pl.Float64, strict=False),
        decimals=pl.col("vnorm").str.extract(r"\.(\d+)$").str.len_chars().fill_null(0).cast(pl.Int32),
    )
    if sub:
        # submission columns: status final/provisional (empty: final), submitted_on a real date
        lf = lf.with_columns(st=pl.col("status").str.strip_chars().str.to_lowercase(),
                             ds=pl.col("submittedon").str.strip_chars())
        d = pl.col("ds").str.extract_groups(C.DATE_RE)
        part = lambda *k: pl.coalesce(*(d.struct.field(str(i)) for i in k))
        lf = lf.with_columns(on=pl.format("{}-{}-{}", part(1, 6, 9), part(2, 5, 8).str.zfill(2), part(3, 4, 7).str.zfill(2))
                             .str.to_date("%Y-%m-%d", strict=False))
        lf = lf.with_columns(on=pl.when(pl.col("on").dt.year().is_between(*C.DATE_YEARS)).then("on"))
        lf = lf.with_columns(e_date=(pl.col("ds") != "") & pl.col("on").is_null(),
                             e_status=~pl.col("st").is_in(C.STATUS),
                             st=pl.col("st").replace("", "final"))
    else:
        lf = lf.with_columns(st=pl.lit("final"))
    tm = C.today_month()
    lf = lf.with_columns(
        e_ind=pl.col("frequency").is_null(),
        e_area=pl.col("known_area").is_null(),
        e_period=pl.col("pfreq").is_null(),
        e_freq=pl.col("pfreq").is_not_null() & pl.col("frequency").is_not_null() & (pl.col("pfreq") != pl.col("frequency")),
        e_future=pl.col("endm") >= tm,
        e_missing=pl.col("empty"),
        e_type=~pl.col("empty") & ~pl.col("suppressed") & pl.col("val").is_null(),
        e_range=((pl.col("unit") == "percent") & ~pl.col("val").is_between(0, 100))
        | ((pl.col("unit") == "count") & (pl.col("val") < 0)) | (pl.col("den") == 0),
        e_mismatch=pl.col("val").is_not_null() & pl.col("num").is_not_null() & (pl.col("den") > 0)
        & ((pl.col("val") - pl.col("num") / pl.col("den") * pl.col("scale")).abs()
           > 0.5 * 10.0 ** (-pl.col("decimals")) + 1e-9),
    )
    keyed = ~(pl.col("e_ind") | pl.col("e_area") | pl.col("e_period") | pl.col("e_freq"))
    grp = pl.len().over(ERR_KEY)
    nuniq = pl.col("vs").n_unique().over(ERR_KEY)
    lf = lf.with_columns(
        e_conflict=keyed & (grp > 1) & (nuniq > 1),
        w_dup=keyed & (grp > 1) & (nuniq == 1) & (pl.col("line") != pl.col("line").min().over(ERR_KEY)),
    )
    errs = [c for c in ("e_ind", "e_area", "e_period", "e_freq", "e_future", "e_missing", "e_type",
                        "e_range", "e_mismatch", "e_conflict")] + (["e_status", "e_date"] if sub else [])
    return lf.with_columns(bad=pl.any_horizontal(pl.col(c).fill_null(False) for c in errs)), sub


PROBLEMS = [  # flag, code, column, message
    ("e_ind", "unknown-indicator", "indicator", pl.format("indicator '{}' is not in the framework", "indicator")),
    ("e_area", "unknown-area", "area", pl.format("area '{}' is not in the framework", "area")),
    ("e_period", "bad-period", "period", pl.format("'{}' is not a period (use 2024/25 Q1, 2024/25 H1, 2024-04 or 2024/25)", "period")),
    ("e_freq", "wrong-frequency", "period", pl.format("{} is a {} period but the indicator is {}", "canon", "pfreq", "frequency")),
    ("e_future", "future-period", "period", pl.format("{} has not ended yet", "canon")),
    ("e_missing", "missing-value", "value", pl.lit("the value is empty; use a suppression marker such as [x] if there is no value")),
    ("e_type", "type-error", "value", pl.format("'{}' is not a number", "value")),
    ("e_range", "out-of-range", "value", pl.format("{} is out of range for this indicator", "value")),
    ("e_mismatch", "numerator-mismatch", "value", pl.format("value {} differs from numerator/denominator ({}/{})", "value", "numerator", "denominator")),
    ("e_conflict", "conflicting-row", "value", pl.lit("another row has the same indicator, area and period with a different value")),
    ("w_dup", "duplicate-row", "", pl.lit("this row repeats an earlier one")),
    ("normalised", "normalised-value", "value", pl.format("'{}' was read as {}", "value", "vnorm")),
    # only when the returns have the submission columns
    ("e_status", "type-error", "status", pl.format("the status '{}' is not final or provisional", pl.col("status").str.strip_chars())),
    ("e_date", "bad-date", "submitted_on", pl.format("'{}' is not a date (write dates as 2024-07-21 or 21/07/2024)", "ds")),
]


def validate(fw, lf, sub):
    lf = lf.cache()
    parts = [lf.filter(pl.col(flag).fill_null(False)).select(
        "file", "line", column=pl.lit(col), code=pl.lit(code),
        severity=pl.lit("warning" if code in C.WARNINGS else "error"),
        indicator="indicator", area="area", period=pl.coalesce("canon", "period"), message=msg)
        for flag, code, col, msg in PROBLEMS if sub or flag not in ("e_status", "e_date")]
    # completeness at the latest period: each (indicator, area) that ever sent a value must have
    # a row for its period ending with the latest period's end month
    ok = lf.filter(~pl.col("bad"))
    last = ok.select(pl.col("endm").max())
    inds = pl.LazyFrame(fw["indicators"]).select("indicator", "frequency", "provider", "lead")
    due = (ok.filter(pl.col("val").is_not_null()).select("indicator", "area").unique()
           .join(inds, on="indicator").join(last, how="cross")
           .with_columns(ppy=pl.col("frequency").replace_strict(C.PPY, return_dtype=pl.Int32))
           .with_columns(L=12 // pl.col("ppy"))
           .filter((pl.col("endm") - 2) % pl.col("L") == 0)
           .with_columns(idx=(pl.col("endm") - 2) // pl.col("L") - 1))
    missing = (due.join(ok.select("indicator", "area", "idx"), on=["indicator", "area", "idx"], how="anti")
               .select(file=pl.lit(""), line=pl.lit(None, pl.Int64), column=pl.lit(""), code=pl.lit("missing-return"),
                       severity=pl.lit("warning"), indicator="indicator", area="area",
                       period=label("idx"),
                       message=pl.format("no return from {} (lead {})", "provider", "lead")))
    parts.append(missing)
    if sub:
        # the due returns (the last row of a repeated key) that arrived after the period's end +
        # deadline_days
        deadline = (pl.date(pl.col("endm") // 12, pl.col("endm") % 12 + 1, 1).dt.month_end()
                    + pl.duration(days=fw["deadline_days"]))
        late = (due.join(ok.select("indicator", "area", "idx", "file", "line", "on"), on=["indicator", "area", "idx"])
                .filter(pl.col("line") == pl.col("line").max().over("indicator", "area", "idx"))
                .with_columns(deadline=deadline).filter(pl.col("on") > pl.col("deadline"))
                .select("file", "line", column=pl.lit("submitted_on"), code=pl.lit("late-return"),
                        severity=pl.lit("warning"), indicator="indicator", area="area", period=label("idx"),
                        message=pl.format("{} was due by {} and arrived on {}, {} days late: provider {}, lead {}",
                                          label("idx"), "deadline", "on",
                                          (pl.col("on") - pl.col("deadline")).dt.total_days(), "provider", "lead")))
        parts.append(late)
    out = pl.concat(parts).sort("file", "line", nulls_last=True)
    return out.collect(engine="streaming")


def report(fw, lf, quarter, year):
    W, MINB, MARGIN = fw["window"], fw["min_backtests"], fw["margin"]
    A, I = fw["action_after"], fw["intervention_after"]
    inds = pl.LazyFrame(fw["indicators"]).with_columns(
        ppy=pl.col("frequency").replace_strict(C.PPY, return_dtype=pl.Int32))
    areas = pl.LazyFrame(fw["areas"])
    R = C.report_end_month(quarter, year)
    fy_r = int(year[:4])
    inds = inds.with_columns(
        L=12 // pl.col("ppy"),
    ).with_columns(
        rep_idx=(R - 2) // pl.col("L") - 1,
        fc_idx=fy_r * pl.col("ppy") + pl.col("ppy") - 1,
        plan_idx=(fw["plan_end_year"] * pl.col("ppy") + pl.col("ppy") - 1) if fw["plan_end_year"] else pl.lit(None),
    )
    good = (lf.filter(~pl.col("bad") & ~pl.col("w_dup"))
            .select("indicator", "area", "idx", "fy", "k", value="val", num="num", den="den",
                    commentary="commentary", prediction="prediction", status="st")
            .collect().lazy())
    # roll-up: wards -> districts -> counties -> England (4.6)
    a = pl.DataFrame(fw["areas"])
    nchild = a.group_by("parent").len("nchild").rename({"parent": "area"})
    levels = [good]
    cur = good
    for depth in range(int(a["depth"].max()) - 1, -1, -1):
        kids = a.lazy().filter(pl.col("depth") == depth + 1).select("area", "parent")
        up = (cur.join(kids, on="area").join(inds.select("indicator", "aggregate", "scale"), on="indicator")
              .filter(pl.col("aggregate") != "none")
              .group_by("indicator", "parent", "idx", "fy", "k")
              .agg(n=pl.col("value").is_not_null().sum(), nr=(pl.col("num").is_not_null() & pl.col("den").is_not_null()).sum(),
                   s=pl.col("value").sum(), sn=pl.col("num").sum(), sd=pl.col("den").sum(),
                   agg=pl.col("aggregate").first(), scale=pl.col("scale").first())
              .rename({"parent": "area"}).join(nchild.lazy(), on="area")
              .with_columns(value=pl.when(pl.col("n") < pl.col("nchild")).then(None)
                            .when(pl.col("agg") == "sum").then(pl.col("s"))
                            .when((pl.col("nr") == pl.col("nchild")) & (pl.col("sd") > 0)).then(pl.col("sn") / pl.col("sd") * pl.col("scale")),
                            num=pl.when(pl.col("nr") == pl.col("nchild")).then(pl.col("sn")),
                            den=pl.when(pl.col("nr") == pl.col("nchild")).then(pl.col("sd")))
              .select("indicator", "area", "idx", "fy", "k", "value", "num", "den",
                      commentary=pl.lit(""), prediction=pl.lit(""), status=pl.lit("")))
        own = good.join(kids.select(pl.col("parent").alias("area")).unique(), on="area", how="semi")
        up = up.join(own, on=["indicator", "area", "idx"], how="anti")
        levels.append(up)
        cur = pl.concat([own, up])
    allv = pl.concat(levels, how="vertical_relaxed").join(inds, on="indicator")
    # series must have at least one value
    allv = allv.filter(pl.col("value").is_not_null().any().over("indicator", "area"))
    # targets (4.1): a period key wins over the year's; cumulative year targets pro rata
    t = pl.LazyFrame(fw["targets"])
    allv = (allv.with_columns(ykey=pl.format("{}/{}", "fy", ((pl.col("fy") + 1) % 100).cast(pl.String).str.zfill(2)),
                              pkey=pl.format("{}/{} {}{}", "fy", ((pl.col("fy") + 1) % 100).cast(pl.String).str.zfill(2),
                                             pl.when(pl.col("ppy") == 4).then(pl.lit("Q")).otherwise(pl.lit("H")), "k"))
            .join(t.rename({"key": "ykey", "target": "yt"}), on=["indicator", "ykey"], how="left")
            .join(t.rename({"key": "pkey", "target": "pt"}), on=["indicator", "pkey"], how="left")
            .with_columns(target=pl.coalesce("pt", pl.when(pl.col("measure") == "cumulative")
                                             .then(pl.col("yt") * pl.col("k") / pl.col("ppy")).otherwise("yt"))))
    hi = pl.col("polarity") == "higher"
    better = pl.when(hi).then(pl.col("value") - pl.col("target")).otherwise(pl.col("target") - pl.col("value"))
    allv = allv.with_columns(
        dev=pl.when(pl.col("polarity") != "none").then((better / pl.col("target").abs() * 100).round(9)),
        below=pl.when(pl.col("polarity") == "none").then(False).otherwise(better < 0),
        prev_idx=pl.when(pl.col("measure") == "cumulative").then(pl.col("idx") - pl.col("ppy")).otherwise(pl.col("idx") - 1),
    )
    allv = allv.join(allv.select("indicator", "area", prev_idx="idx", prev="value"), on=["indicator", "area", "prev_idx"], how="left")
    diff = pl.when(hi).then(pl.col("value") - pl.col("prev")).otherwise(pl.col("prev") - pl.col("value"))
    allv = allv.with_columns(
        rag=pl.when(pl.col("dev").is_null() | pl.col("value").is_null()).then(pl.lit("N/A"))
        .when(pl.col("target") == 0).then(pl.when(pl.col("below")).then(pl.lit("RED")).otherwise(pl.lit("GREEN")))
        .when(pl.col("dev") + 100 >= 95).then(pl.lit("GREEN")).when(pl.col("dev") + 100 >= 90).then(pl.lit("AMBER"))
        .otherwise(pl.lit("RED")),
        direction=pl.when((pl.col("polarity") == "none") | pl.col("prev").is_null() | pl.col("value").is_null()).then(pl.lit("n/a"))
        .when(diff > 0).then(pl.lit("improving")).when(diff < 0).then(pl.lit("worsening")).otherwise(pl.lit("no change")),
    ).sort("indicator", "area", "idx").collect().lazy()
    # escalation walk (4.4) over the valued periods, vectorised as runs of below-target periods
    S = ["indicator", "area"]
    walk = (allv.filter(pl.col("value").is_not_null() & (pl.col("idx") <= pl.col("rep_idx")))
            .select(*S, "idx", "below", "direction", "fast_track")
            .with_columns(below=pl.col("below").fill_null(False))
            .with_columns(run=(~pl.col("below")).cast(pl.Int32).cum_sum().over(S))
            .with_columns(pos=pl.col("below").cast(pl.Int32).cum_sum().over(S + ["run"]))
            .with_columns(k2=pl.when(pl.col("fast_track") >= 2).then(1)
                          .when((pl.col("pos") >= A) & (pl.col("direction") != "improving")).then(pl.col("pos"))
                          .otherwise(1 << 30).cum_min().over(S + ["run"]))  # not reached yet: "infinity"
            .with_columns(stage=pl.when(~pl.col("below")).then(0)
                          .when(pl.col("k2").is_null() | (pl.col("pos") < pl.col("k2"))).then(1)
                          .when(pl.col("pos") - pl.col("k2") < I).then(2).otherwise(3))
            .with_columns(stage=pl.when(pl.col("below")).then(pl.max_horizontal("stage", "fast_track")).otherwise("stage"))
            .group_by(S).agg(pl.col("stage").last()))
    # forecasts (4.5): back-test last / mean / trend on a dense grid of periods
    series = allv.group_by(S).agg(lo=pl.col("idx").min(), hi=pl.col("idx").max(),
                                  last_idx=pl.col("idx").filter(pl.col("value").is_not_null()).max())
    grid = (series.with_columns(idx=pl.int_ranges("lo", pl.col("hi") + 1)).explode("idx")
            .join(allv.select(*S, "idx", "value"), on=S + ["idx"], how="left").sort(*S, "idx"))
    has = pl.col("value").is_not_null()
    x = (pl.col("idx") - pl.col("lo")).cast(pl.Float64)
    grid = grid.with_columns(h=has.cast(pl.Float64), y=pl.col("value").fill_null(0.0),
                             xx=pl.when(has).then(x).otherwise(0.0)).with_columns(
        n=pl.col("h").rolling_sum(W, min_samples=1).over(S),
        sy=pl.col("y").rolling_sum(W, min_samples=1).over(S),
        sx=pl.col("xx").rolling_sum(W, min_samples=1).over(S),
        sxy=(pl.col("xx") * pl.col("y")).rolling_sum(W, min_samples=1).over(S),
        sxx=(pl.col("xx") ** 2).rolling_sum(W, min_samples=1).over(S),
        before=pl.col("h").cum_sum().over(S) - pl.col("h"),
        x=x)
    b = (pl.col("n") * pl.col("sxy") - pl.col("sx") * pl.col("sy")) / (pl.col("n") * pl.col("sxx") - pl.col("sx") ** 2)
    grid = grid.with_columns(mean=pl.col("sy") / pl.col("n"), b=b, a=(pl.col("sy") - b * pl.col("sx")) / pl.col("n"))

    def candidates(df, h):
        return df.with_columns(f_last=pl.col("value"), f_mean=pl.col("mean"),
                               f_trend=pl.when(pl.col("n") >= 3).then(pl.col("a") + pl.col("b") * (pl.col("x") + h)).otherwise(pl.col("value")))

    def forecast(target_col, name):
        tgt = inds.select("indicator", "ppy", "measure", target_col)
        s = series.join(tgt, on="indicator").with_columns(hh=pl.col(target_col) - pl.col("last_idx"))
        g = grid.join(s.select(*S, "hh"), on=S)
        origins = candidates(g.filter(has & (pl.col("before") >= 2)), pl.col("hh"))
        origins = origins.with_columns(tidx=pl.col("idx") + pl.col("hh")).join(
            g.select(*S, tidx="idx", actual="value"), on=S + ["tidx"]).filter(pl.col("actual").is_not_null())
        errs = origins.with_columns(e_last=pl.col("actual") - pl.col("f_last"), e_mean=pl.col("actual") - pl.col("f_mean"),
                                    e_trend=pl.col("actual") - pl.col("f_trend"))
        bt = errs.group_by(S).agg(nb=pl.len(), m_last=pl.col("e_last").abs().mean(), m_mean=pl.col("e_mean").abs().mean(),
                                  m_trend=pl.col("e_trend").abs().mean(), el=pl.col("e_last"), em=pl.col("e_mean"), et=pl.col("e_trend"))
        end = candidates(g.filter(pl.col("idx") == pl.col("last_idx")), pl.col("hh")).select(*S, "f_last", "f_mean", "f_trend", "value", "idx")
        q_mean = (pl.col("nb") >= MINB) & (pl.col("m_mean") < MARGIN * pl.col("m_last"))
        q_trend = (pl.col("nb") >= MINB) & (pl.col("m_trend") < MARGIN * pl.col("m_last"))
        f = (end.join(s, on=S).join(bt, on=S, how="left")
             .with_columns(method=pl.when(pl.col("hh") == 0).then(pl.lit("actual"))
                           .when(pl.col("measure") == "cumulative").then(pl.lit("run-rate"))
                           .when(q_mean.fill_null(False) & q_trend.fill_null(False))
                           .then(pl.when(pl.col("m_trend") < pl.col("m_mean")).then(pl.lit("trend")).otherwise(pl.lit("mean")))
                           .when(q_mean.fill_null(False)).then(pl.lit("mean")).when(q_trend.fill_null(False)).then(pl.lit("trend"))
                           .otherwise(pl.lit("last")))
             .with_columns(fc=pl.when(pl.col("method") == "actual").then("value")
                           .when(pl.col("method") == "run-rate").then(pl.col("value") * pl.col("ppy") / (pl.col("idx") % pl.col("ppy") + 1))
                           .when(pl.col("method") == "mean").then("f_mean").when(pl.col("method") == "trend").then("f_trend")
                           .otherwise("f_last"),
                           errs=pl.when(pl.col("method") == "mean").then("em").when(pl.col("method") == "trend").then("et")
                           .when(pl.col("method") == "last").then("el")))
        return f.select(*S, pl.col("fc").alias(name), pl.col("method").alias(name + "_method"), pl.col("errs").alias(name + "_errs"))

    fc = forecast("fc_idx", "forecast")
    pfc = forecast("plan_idx", "plan_forecast") if fw["plan_end_year"] else None
    # the reported row of each series, with its targets at the forecast and plan periods
    keys = allv.select(*S).unique().join(inds, on="indicator")
    rep = keys.join(allv.select(*S, "idx", "value", "target", "dev", "rag", "direction", "prediction", "status", "commentary"),
                    left_on=S + ["rep_idx"], right_on=S + ["idx"], how="left")
    tgt_at = allv.select(*S, "idx", "target")
    rep = (rep.join(walk, on=S, how="left").join(fc, on=S, how="left")
           .join(tgt_at.rename({"idx": "fc_idx", "target": "forecast_target"}), on=S + ["fc_idx"], how="left"))
    if pfc is not None:
        rep = rep.join(pfc, on=S, how="left")
        # the plan period usually has no row yet: its target comes from the framework
        t = pl.LazyFrame(fw["targets"])
        rep = (rep.with_columns(pk=pl.format("{}/{}", pl.lit(fw["plan_end_year"]), pl.lit(f"{(fw['plan_end_year'] + 1) % 100:02d}")))
               .join(t.rename({"key": "pk", "target": "plan_target"}), on=["indicator", "pk"], how="left"))
    else:
        rep = rep.with_columns(plan_forecast=pl.lit(None, pl.Float64), plan_target=pl.lit(None, pl.Float64))

    def meets(f, t):
        return pl.when(pl.col("polarity") == "none").then(None).when(pl.col("polarity") == "higher").then(f >= t).otherwise(f <= t)

    yn = lambda e: pl.when(e).then(pl.lit("yes")).when(~e).then(pl.lit("no"))
    on_track = meets(pl.col("forecast"), pl.col("forecast_target"))
    rep = rep.with_columns(
        on_track=yn(on_track),
        plan_on_track=yn(meets(pl.col("plan_forecast"), pl.col("plan_target"))),
    ).collect().lazy()
    # share of back-test errors that, added to the forecast, still meet the target
    ex = (rep.select(*S, "forecast", "forecast_target", "polarity", "forecast_errs").explode("forecast_errs")
          .filter(pl.col("forecast_errs").is_not_null())
          .group_by(S).agg(nb=pl.len(), ok=pl.when(pl.col("polarity") == "higher")
                           .then(pl.col("forecast") + pl.col("forecast_errs") >= pl.col("forecast_target"))
                           .otherwise(pl.col("forecast") + pl.col("forecast_errs") <= pl.col("forecast_target")).sum()))
    rep = rep.join(ex, on=S, how="left").with_columns(
        confidence=pl.when((pl.col("nb") >= MINB) & pl.col("forecast_target").is_not_null() & (pl.col("polarity") != "none"))
        .then((pl.col("ok") / pl.col("nb")).round(2)))
    a_order = pl.LazyFrame(fw["areas"]).select("area", "area_order")
    esc = lambda c: pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
    period = label("rep_idx")
    out = (rep.join(a_order, on="area").sort("ind_order", "area_order")
           .select("theme", "priority", "indicator", esc("name"), "area", period.alias("period"), "value", "target",
                   pl.col("dev").round(1, mode="half_away_from_zero").alias("deviation_pct"), "rag", "direction", pl.col("stage").fill_null(0),
                   "forecast", pl.col("forecast_method"), "forecast_target", "on_track", "confidence",
                   "plan_forecast", "plan_target", "plan_on_track", "prediction",
                   pl.lit(None, pl.String).alias("challenge"), esc("lead"), "organisation", "status", esc("commentary")))
    return out.collect()


def main():
    a = C.args(__doc__)
    fw = C.load_framework(a.framework)
    lf, sub = parse(fw, a.returns)
    if a.command == "validate":
        out = validate(fw, lf, sub)
    else:
        out = report(fw, lf, a.quarter, a.year)
    if a.output == "-":
        out.write_csv(sys.stdout)
    else:
        out.write_csv(a.output)
    print(f"{a.command}: {out.height} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
