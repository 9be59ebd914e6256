#!/usr/bin/env python3
"""pmf's validate and report (SPEC 2.3, 3, 4, 5) written the way an analyst would in pandas.

    python pandas_peer.py validate -f pmf.yaml -r returns/ -o problems.csv
    python pandas_peer.py report   -f pmf.yaml -r returns/ --quarter Q4 --year 2024/25 -o report.csv
"""
import sys

import numpy as np
import pandas as pd

import common as C

PERIOD_RE = (r"^(?:(?P<y1>\d{4})[/-](?P<y2>\d{2}|\d{4})(?:[ /-]*(?P<k1>[QH])(?P<n1>[0-9]))?"
             r"|(?P<k2>[QH])(?P<n2>[0-9])[ /-]*(?P<y3>\d{4})[/-](?P<y4>\d{2}|\d{4}))$")
KEY = ["indicator", "area", "idx"]
S = ["indicator", "area"]


def read_returns(path):
    """All returns as one DataFrame of text columns, and whether any file has SPEC 2.3's
    submission columns (status, submitted_by, submitted_on)."""
    frames = []
    sub = False
    for f in C.csv_files(path):
        df = pd.read_csv(f, dtype=str, keep_default_na=False, engine="pyarrow")
        df.columns = [c.lower().replace(" ", "").replace("_", "") for c in df.columns]
        sub = sub or any(c in df for c in C.SUBMISSION)
        for c in ("area", "numerator", "denominator", "commentary", "prediction") + C.SUBMISSION:
            if c not in df:
                df[c] = ""
        nl = sum(df[c].str.count("\n") for c in ("indicator", "period", "area", "value", "commentary"))
        df["line"] = np.arange(len(df)) + 2 + nl.cumsum() - nl
        df["file"] = f
        frames.append(df)
    return pd.concat(frames, ignore_index=True), sub


def label(idx, freq, ppy):
    idx = idx.astype("Int64")
    fy = idx // ppy
    yy = ((fy + 1) % 100).astype(str).str.zfill(2)
    out = fy.astype(str) + "/" + yy
    out = out.mask(ppy == 4, out + " Q" + (idx % 4 + 1).astype(str))
    out = out.mask(ppy == 2, out + " H" + (idx % 2 + 1).astype(str))
    return out.mask(freq == "monthly", ((idx + 3) // 12).astype(str) + "-" + ((idx + 3) % 12 + 1).astype(str).str.zfill(2))


def parse(fw, path):
    inds = pd.DataFrame(fw["indicators"])
    areas = pd.DataFrame(fw["areas"])
    df, sub = read_returns(path)
    df["indicator"] = df["indicator"].str.strip()
    df["area"] = df["area"].str.strip().replace("", fw["default_area"])
    df = df.merge(inds[["indicator", "frequency", "unit", "scale", "measure"]], on="indicator", how="left")
    df["known_area"] = df["area"].isin(areas["area"])
    p = df["period"].str.strip().str.upper()
    g = p.str.extract(PERIOD_RE)
    y = g["y1"].fillna(g["y3"]).astype("Int64")
    yy = g["y2"].fillna(g["y4"])
    kind = g["k1"].fillna(g["k2"])
    n = g["n1"].fillna(g["n2"]).astype("Int64")
    yyi = yy.astype("Int64")
    year_ok = ((yy.str.len() == 2) & (yyi == (y + 1) % 100)) | ((yy.str.len() == 4) & (yyi == y + 1))
    year_ok = year_ok.fillna(False).astype(bool)
    is_month = (kind.isna() & p.str.match(r"^\d{4}-\d{2}$") & yyi.between(1, 12).fillna(False)
                & ((df["frequency"] == "monthly") | ~year_ok)).fillna(False).astype(bool)
    pfreq = pd.Series(np.select(
        [is_month, year_ok & (kind == "Q").fillna(False) & n.between(1, 4).fillna(False),
         year_ok & (kind == "H").fillna(False) & n.between(1, 2).fillna(False), year_ok & kind.isna()],
        ["monthly", "quarterly", "half-yearly", "annual"], default=None), index=df.index)
    df["pfreq"] = pfreq
    df["fy"] = y.where(~is_month, y.where(yyi >= 4, y - 1))
    df["k"] = n.where(kind.notna(), 1).where(~is_month, (yyi - 4) % 12 + 1)
    ppy = pfreq.map(C.PPY).astype("Int64")
    df["idx"] = df["fy"] * ppy + df["k"] - 1
    df["endm"] = df["fy"] * 12 + 3 + df["k"] * (12 // ppy) - 1
    df["canon"] = label(df["idx"], pfreq, ppy).where(pfreq.notna())
    vs = df["value"].str.strip()
    v = vs.str.replace(r"^£", "", regex=True)
    th = v.str.match(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
    v = v.where(~th, v.str.replace(",", "", regex=False))
    v = v.where(df["unit"] != "percent", v.str.replace(r"%$", "", regex=True))
    df["vs"], df["vnorm"] = vs, v
    df["suppressed"] = vs.str.lower().isin(C.SUPPRESS)
    df["empty"] = vs == ""
    df["normalised"] = (v != df["value"]) & (vs != "")
    df["val"] = pd.to_numeric(v, errors="coerce").astype(float)
    df["num"] = pd.to_numeric(df["numerator"].str.strip(), errors="coerce").astype(float)
    df["den"] = pd.to_numeric(df["denominator"].str.strip(), errors="coerce").astype(float)
    dec = v.str.extract(r"\.(\d+)$")[0].str.len().fillna(0).astype(float)
    if sub:
        # submission columns: status final/provisional (empty: final), submitted_on a real date
        df["status"] = df["status"].str.strip()
        st = df["status"].str.lower()
        ds = df["submittedon"].str.strip()
        d = ds.str.extract(C.DATE_RE)  # year, month, day of each of the three forms
        iso = (d[0].fillna(d[5]).fillna(d[8]) + "-" + d[1].fillna(d[4]).fillna(d[7]).str.zfill(2)
               + "-" + d[2].fillna(d[3]).fillna(d[6]).str.zfill(2))
        on = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
        df["sub_on"] = on.where(on.dt.year.between(*C.DATE_YEARS))
        df["ds"] = ds
        df["e_date"] = (ds != "") & df["sub_on"].isna()
        df["e_status"] = ~st.isin(C.STATUS)
        df["st"] = st.replace("", "final")
    else:
        df["st"] = "final"
    tm = C.today_month()
    df["e_ind"] = df["frequency"].isna()
    df["e_area"] = ~df["known_area"]
    df["e_period"] = pfreq.isna()
    df["e_freq"] = (pfreq.notna() & df["frequency"].notna() & (pfreq != df["frequency"])).astype(bool)
    df["e_future"] = (df["endm"] >= tm).fillna(False).astype(bool)
    df["e_missing"] = df["empty"]
    df["e_type"] = ~df["empty"] & ~df["suppressed"] & df["val"].isna()
    df["e_range"] = (((df["unit"] == "percent") & ((df["val"] < 0) | (df["val"] > 100)))
                     | ((df["unit"] == "count") & (df["val"] < 0)) | (df["den"] == 0))
    df["e_mismatch"] = (df["val"].notna() & df["num"].notna() & (df["den"] > 0)
                        & ((df["val"] - df["num"] / df["den"] * df["scale"]).abs() > 0.5 * 10.0 ** (-dec) + 1e-9))
    keyed = ~(df["e_ind"] | df["e_area"] | df["e_period"] | df["e_freq"])
    gb = df[keyed].groupby(KEY, sort=False)
    grp = gb["vs"].transform("size").reindex(df.index)
    nuniq = gb["vs"].transform("nunique").reindex(df.index)
    first = gb["line"].transform("min").reindex(df.index)
    df["e_conflict"] = (keyed & (grp > 1) & (nuniq > 1)).astype(bool)
    df["w_dup"] = (keyed & (grp > 1) & (nuniq == 1) & (df["line"] != first)).astype(bool)
    errs = ["e_ind", "e_area", "e_period", "e_freq", "e_future", "e_missing", "e_type", "e_range", "e_mismatch", "e_conflict"]
    df["bad"] = df[errs + (["e_status", "e_date"] if sub else [])].any(axis=1)
    return df, sub


def f(fmt, df, *cols):
    """A message per row from a format with {} slots filled from columns."""
    parts = fmt.split("{}")
    out = pd.Series(parts[0], index=df.index)
    for c, tail in zip(cols, parts[1:]):
        out = out + df[c].astype(str) + tail
    return out


PROBLEMS = [
    ("e_ind", "unknown-indicator", "indicator", ("indicator '{}' is not in the framework", "indicator")),
    ("e_area", "unknown-area", "area", ("area '{}' is not in the framework", "area")),
    ("e_period", "bad-period", "period", ("'{}' is not a period (use 2024/25 Q1, 2024/25 H1, 2024-04 or 2024/25)", "period")),
    ("e_freq", "wrong-frequency", "period", ("{} is a {} period but the indicator is {}", "canon", "pfreq", "frequency")),
    ("e_future", "future-period", "period", ("{} has not ended yet", "canon")),
    ("e_missing", "missing-value", "value", ("the value is empty; use a suppression marker such as [x] if there is no value",)),
    ("e_type", "type-error", "value", ("'{}' is not a number", "value")),
    ("e_range", "out-of-range", "value", ("{} is out of range for this indicator", "value")),
    ("e_mismatch", "numerator-mismatch", "value", ("value {} differs from numerator/denominator ({}/{})", "value", "numerator", "denominator")),
    ("e_conflict", "conflicting-row", "value", ("another row has the same indicator, area and period with a different value",)),
    ("w_dup", "duplicate-row", "", ("this row repeats an earlier one",)),
    ("normalised", "normalised-value", "value", ("'{}' was read as {}", "value", "vnorm")),
    # only when the returns have the submission columns
    ("e_status", "type-error", "status", ("the status '{}' is not final or provisional", "status")),
    ("e_date", "bad-date", "submitted_on", ("'{}' is not a date (write dates as 2024-07-21 or 21/07/2024)", "ds")),
]


def validate(fw, df, sub):
    parts = []
    for flag, code, col, msg in PROBLEMS:
        if flag not in df:  # the submission checks, without submission columns
            continue
        d = df[df[flag]]
        parts.append(pd.DataFrame({
            "file": d["file"], "line": d["line"], "column": col, "code": code,
            "severity": "warning" if code in C.WARNINGS else "error", "indicator": d["indicator"],
            "area": d["area"], "period": d["canon"].fillna(d["period"]), "message": f(msg[0], d, *msg[1:])}))
    ok = df[~df["bad"]]
    inds = pd.DataFrame(fw["indicators"])
    inds["ppy"] = inds["frequency"].map(C.PPY)
    last = ok["endm"].max()
    due = ok.loc[ok["val"].notna(), S].drop_duplicates().merge(inds[["indicator", "frequency", "ppy", "provider", "lead"]])
    L = 12 // due["ppy"]
    due = due[(last - 2) % L == 0].copy()
    due["idx"] = (last - 2) // (12 // due["ppy"]) - 1
    m = due.merge(ok[KEY].drop_duplicates(), on=KEY, how="left", indicator=True)
    m = m[m["_merge"] == "left_only"]
    parts.append(pd.DataFrame({
        "file": "", "line": pd.NA, "column": "", "code": "missing-return", "severity": "warning",
        "indicator": m["indicator"], "area": m["area"], "period": label(m["idx"], m["frequency"], m["ppy"]),
        "message": f("no return from {} (lead {})", m, "provider", "lead")}))
    if sub:
        # the due returns (the last row of a repeated key) that arrived after the deadline
        deadline = pd.Timestamp(C.deadline(int(last), fw["deadline_days"]))
        r = due.merge(ok[KEY + ["file", "line", "sub_on"]], on=KEY).sort_values("line").drop_duplicates(KEY, keep="last")
        r = r[r["sub_on"] > deadline].copy()
        r["period"] = label(r["idx"], r["frequency"], r["ppy"])
        r["deadline"] = deadline.strftime("%Y-%m-%d")
        r["on"] = r["sub_on"].dt.strftime("%Y-%m-%d")
        r["days"] = (r["sub_on"] - deadline).dt.days
        parts.append(pd.DataFrame({
            "file": r["file"], "line": r["line"], "column": "submitted_on", "code": "late-return", "severity": "warning",
            "indicator": r["indicator"], "area": r["area"], "period": r["period"],
            "message": f("{} was due by {} and arrived on {}, {} days late: provider {}, lead {}", r,
                         "period", "deadline", "on", "days", "provider", "lead")}))
    out = pd.concat(parts, ignore_index=True)
    out["line"] = out["line"].astype("Int64")
    return out.sort_values(["file", "line"], na_position="last", kind="stable")


def report(fw, df, quarter, year):
    W, MINB, MARGIN = fw["window"], fw["min_backtests"], fw["margin"]
    A, I = fw["action_after"], fw["intervention_after"]
    inds = pd.DataFrame(fw["indicators"])
    inds["ppy"] = inds["frequency"].map(C.PPY)
    R = C.report_end_month(quarter, year)
    fy_r, pe = int(year[:4]), fw["plan_end_year"]
    inds["rep_idx"] = (R - 2) // (12 // inds["ppy"]) - 1
    inds["fc_idx"] = fy_r * inds["ppy"] + inds["ppy"] - 1
    inds["plan_idx"] = pe * inds["ppy"] + inds["ppy"] - 1 if pe else np.nan
    good = df.loc[~df["bad"] & ~df["w_dup"], ["indicator", "area", "idx", "fy", "k", "val", "num", "den", "commentary", "prediction", "st"]]
    good = good.rename(columns={"val": "value", "st": "status"}).astype({"idx": "int64", "fy": "int64", "k": "int64"})
    # roll-ups (4.6)
    a = pd.DataFrame(fw["areas"])
    nchild = a.groupby("parent").size().rename("nchild")
    levels, cur = [good], good
    aggs = inds.set_index("indicator")[["aggregate", "scale"]]
    for depth in range(a["depth"].max() - 1, -1, -1):
        kids = a.loc[a["depth"] == depth + 1, ["area", "parent"]]
        c = cur.merge(kids, on="area").join(aggs, on="indicator")
        c = c[c["aggregate"] != "none"]
        c["hasnd"] = c["num"].notna() & c["den"].notna()
        u = (c.groupby(["indicator", "parent", "idx", "fy", "k"], sort=False)
             .agg(n=("value", "count"), nr=("hasnd", "sum"), s=("value", "sum"), sn=("num", "sum"), sd=("den", "sum"),
                  agg=("aggregate", "first"), scale=("scale", "first"))
             .reset_index().rename(columns={"parent": "area"}).join(nchild, on="area"))
        full, fullnd = u["n"] == u["nchild"], u["nr"] == u["nchild"]
        u["value"] = np.where(~full, np.nan, np.where(u["agg"] == "sum", u["s"],
                              np.where(fullnd & (u["sd"] > 0), u["sn"] / u["sd"].where(u["sd"] > 0) * u["scale"], np.nan)))
        u["num"] = u["sn"].where(fullnd)
        u["den"] = u["sd"].where(fullnd)
        u[["commentary", "prediction", "status"]] = ""
        own = good[good["area"].isin(kids["parent"])]
        u = u.merge(own[KEY], on=KEY, how="left", indicator=True)
        u = u.loc[u["_merge"] == "left_only", good.columns]
        levels.append(u)
        cur = pd.concat([own, u])
    v = pd.concat(levels, ignore_index=True).merge(inds, on="indicator")
    v = v[v.groupby(S)["value"].transform("count") > 0]
    # targets (4.1)
    t = pd.DataFrame(fw["targets"]).set_index(["indicator", "key"])["target"]
    yy = ((v["fy"] + 1) % 100).astype(str).str.zfill(2)
    ykey = v["fy"].astype(str) + "/" + yy
    pkey = ykey + " " + np.where(v["ppy"] == 4, "Q", "H") + v["k"].astype(str)
    yt = t.reindex(pd.MultiIndex.from_arrays([v["indicator"], ykey])).to_numpy()
    pt = t.reindex(pd.MultiIndex.from_arrays([v["indicator"], pkey])).to_numpy()
    yt = np.where(v["measure"] == "cumulative", yt * v["k"] / v["ppy"], yt)
    v["target"] = np.where(np.isnan(pt), yt, pt)
    hi = v["polarity"] == "higher"
    better = np.where(hi, v["value"] - v["target"], v["target"] - v["value"])
    v["dev"] = np.where(v["polarity"] != "none", np.round(better / np.abs(v["target"]) * 100, 9), np.nan)
    v["below"] = (v["polarity"] != "none") & (better < 0)
    v["prev_idx"] = np.where(v["measure"] == "cumulative", v["idx"] - v["ppy"], v["idx"] - 1)
    prev = v[["indicator", "area", "idx", "value"]].rename(columns={"idx": "prev_idx", "value": "prev"})
    v = v.merge(prev, on=["indicator", "area", "prev_idx"], how="left")
    hi = v["polarity"] == "higher"
    diff = np.where(hi, v["value"] - v["prev"], v["prev"] - v["value"])
    ach = v["dev"] + 100
    v["rag"] = np.select([v["dev"].isna() | v["value"].isna(), v["target"] == 0, ach >= 95, ach >= 90],
                         ["N/A", np.where(v["below"], "RED", "GREEN"), "GREEN", "AMBER"], "RED")
    v["direction"] = np.select([(v["polarity"] == "none") | v["prev"].isna() | v["value"].isna(), diff > 0, diff < 0],
                               ["n/a", "improving", "worsening"], "no change")
    v = v.sort_values(["indicator", "area", "idx"], ignore_index=True)
    # escalation walk (4.4)
    w = v.loc[v["value"].notna() & (v["idx"] <= v["rep_idx"]), S + ["idx", "below", "direction", "fast_track"]].copy()
    w["run"] = (~w["below"]).astype(int).groupby([w["indicator"], w["area"]], sort=False).cumsum()
    w["pos"] = w["below"].astype(int).groupby([w["indicator"], w["area"], w["run"]], sort=False).cumsum()
    k2 = np.where(w["fast_track"] >= 2, 1, np.where((w["pos"] >= A) & (w["direction"] != "improving"), w["pos"], 1 << 30))
    w["k2"] = pd.Series(k2, index=w.index).groupby([w["indicator"], w["area"], w["run"]], sort=False).cummin()
    st = np.select([~w["below"], w["pos"] < w["k2"], w["pos"] - w["k2"] < I], [0, 1, 2], 3)
    w["stage"] = np.where(w["below"], np.maximum(st, w["fast_track"]), st)
    walk = w.groupby(S, sort=False)["stage"].last()
    # forecasts (4.5) on a dense grid of periods; rolling sums as differences of group cumulative sums
    ser = v.groupby(S, sort=False).agg(lo=("idx", "min"), hi=("idx", "max"))
    ser["last_idx"] = v[v["value"].notna()].groupby(S, sort=False)["idx"].max()
    ser = ser.reset_index()
    lens = (ser["hi"] - ser["lo"] + 1).to_numpy()
    grid = pd.DataFrame({"indicator": np.repeat(ser["indicator"].to_numpy(), lens), "area": np.repeat(ser["area"].to_numpy(), lens)})
    start = np.repeat(np.cumsum(lens) - lens, lens)
    grid["idx"] = np.repeat(ser["lo"].to_numpy(), lens) + np.arange(lens.sum()) - start
    grid["x"] = (grid["idx"] - np.repeat(ser["lo"].to_numpy(), lens)).astype(float)
    grid["sid"] = np.repeat(np.arange(len(ser)), lens)
    grid = grid.merge(v[["indicator", "area", "idx", "value"]], on=KEY, how="left")
    has = grid["value"].notna()
    y = grid["value"].fillna(0.0)
    xx = grid["x"].where(has, 0.0)
    gk = grid["sid"]

    def roll(col):
        cs = col.groupby(gk).cumsum()
        return cs - cs.groupby(gk).shift(W).fillna(0.0)

    grid["n"], grid["sy"], grid["sx"] = roll(has.astype(float)), roll(y), roll(xx)
    grid["sxy"], grid["sxx"] = roll(xx * y), roll(xx * xx)
    grid["before"] = has.astype(int).groupby(gk).cumsum() - has.astype(int)
    b = (grid["n"] * grid["sxy"] - grid["sx"] * grid["sy"]) / (grid["n"] * grid["sxx"] - grid["sx"] ** 2)
    grid["b"], grid["a"] = b, (grid["sy"] - b * grid["sx"]) / grid["n"]
    grid["mean"] = grid["sy"] / grid["n"]

    def forecast(tcol):
        s = ser.merge(inds[["indicator", "ppy", "measure", tcol]], on="indicator")
        s["hh"] = s[tcol] - s["last_idx"]
        g = grid.merge(s[S + ["hh"]], on=S)
        trend = lambda d: np.where(d["n"] >= 3, d["a"] + d["b"] * (d["x"] + d["hh"]), d["value"])
        o = g[g["value"].notna() & (g["before"] >= 2)].copy()
        o["tidx"] = o["idx"] + o["hh"]
        o = o.merge(g[KEY + ["value"]].rename(columns={"idx": "tidx", "value": "actual"}), on=S + ["tidx"])
        o = o[o["actual"].notna()]
        o["el"], o["em"], o["et"] = o["actual"] - o["value"], o["actual"] - o["mean"], o["actual"] - trend(o)
        for c in ("el", "em", "et"):
            o["a" + c] = o[c].abs()
        bt = o.groupby(S, sort=False).agg(nb=("el", "size"), ml=("ael", "mean"), mm=("aem", "mean"), mt=("aet", "mean"))
        end = g.merge(s[S + ["last_idx", "ppy", "measure"]], on=S)
        end = end[end["idx"] == end["last_idx"]].copy()
        end["f_trend"] = trend(end)
        end = end.join(bt, on=S)
        qm = ((end["nb"] >= MINB) & (end["mm"] < MARGIN * end["ml"])).fillna(False)
        qt = ((end["nb"] >= MINB) & (end["mt"] < MARGIN * end["ml"])).fillna(False)
        end["method"] = np.select([end["hh"] == 0, end["measure"] == "cumulative", qm & qt, qm, qt],
                                  ["actual", "run-rate", np.where(end["mt"] < end["mm"], "trend", "mean"), "mean", "trend"], "last")
        end["fc"] = np.select([end["method"] == "actual", end["method"] == "run-rate", end["method"] == "mean", end["method"] == "trend"],
                              [end["value"], end["value"] * end["ppy"] / (end["idx"] % end["ppy"] + 1), end["mean"], end["f_trend"]],
                              end["value"])
        errs = o.merge(end[S + ["method"]], on=S)
        errs["e"] = np.select([errs["method"] == "mean", errs["method"] == "trend", errs["method"] == "last"],
                              [errs["em"], errs["et"], errs["el"]], np.nan)
        return end.set_index(S)[["fc", "method"]], errs.loc[errs["e"].notna(), S + ["e"]]

    fc, fc_errs = forecast("fc_idx")
    keys = v[S].drop_duplicates().merge(inds, on="indicator")
    rep = keys.merge(v[KEY + ["value", "target", "dev", "rag", "direction", "prediction", "status", "commentary"]],
                     left_on=S + ["rep_idx"], right_on=KEY, how="left")
    rep = rep.join(walk, on=S).join(fc, on=S)
    rep = rep.merge(v[KEY + ["target"]].rename(columns={"idx": "fc_idx", "target": "forecast_target"}), on=S + ["fc_idx"], how="left")
    if pe:
        pfc, _ = forecast("plan_idx")
        rep = rep.join(pfc.rename(columns={"fc": "plan_forecast", "method": "plan_method"}), on=S)
        rep["plan_target"] = t.reindex(pd.MultiIndex.from_arrays([rep["indicator"], pd.Series(f"{pe}/{(pe + 1) % 100:02d}", index=rep.index)])).to_numpy()
    else:
        rep["plan_forecast"] = rep["plan_target"] = np.nan

    def yn(fc, tg):
        ok = np.where(rep["polarity"] == "higher", fc >= tg, fc <= tg)
        return np.where((rep["polarity"] == "none") | fc.isna() | tg.isna(), "", np.where(ok, "yes", "no"))

    rep["on_track"] = yn(rep["fc"], rep["forecast_target"])
    rep["plan_on_track"] = yn(rep["plan_forecast"], rep["plan_target"])
    e = fc_errs.merge(rep[S + ["fc", "forecast_target", "polarity"]], on=S)
    e["ok"] = np.where(e["polarity"] == "higher", e["fc"] + e["e"] >= e["forecast_target"], e["fc"] + e["e"] <= e["forecast_target"])
    cf = e.groupby(S, sort=False).agg(nb=("ok", "size"), ok=("ok", "sum"))
    rep = rep.join(cf, on=S)
    rep["confidence"] = np.where((rep["nb"] >= MINB) & rep["forecast_target"].notna() & (rep["polarity"] != "none"),
                                 np.round(rep["ok"] / rep["nb"], 2), np.nan)
    rep = rep.merge(a[["area", "area_order"]], on="area").sort_values(["ind_order", "area_order"])
    for c in ("name", "lead", "commentary"):
        s = rep[c].fillna("")
        rep[c] = s.where(~s.str.match(r"^[=+\-@\t\r]"), "'" + s)
    rep["period"] = label(rep["rep_idx"], rep["frequency"], rep["ppy"])
    rep["deviation_pct"] = np.sign(rep["dev"]) * np.floor(rep["dev"].abs() * 10 + 0.5) / 10  # half away from zero
    rep["stage"] = rep["stage"].fillna(0).astype(int)
    rep["challenge"] = ""
    rep = rep.rename(columns={"fc": "forecast", "method": "forecast_method"})
    return rep[C.OUT_COLUMNS]


def main():
    a = C.args(__doc__)
    fw = C.load_framework(a.framework)
    df, sub = parse(fw, a.returns)
    out = validate(fw, df, sub) if a.command == "validate" else report(fw, df, a.quarter, a.year)
    out.to_csv(sys.stdout if a.output == "-" else a.output, index=False)
    print(f"{a.command}: {len(out)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
