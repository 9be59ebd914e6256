"""Framework loading and small helpers shared by the three peers (the cheap part: a few thousand
YAML nodes). The row-level work is written separately, idiomatically, in each tool."""
import argparse
import datetime as dt
import glob
import os

import yaml

OUT_COLUMNS = [
    "theme", "priority", "indicator", "name", "area", "period", "value", "target", "deviation_pct",
    "rag", "direction", "stage", "forecast", "forecast_method", "forecast_target", "on_track",
    "confidence", "plan_forecast", "plan_target", "plan_on_track", "prediction", "challenge", "lead",
    "organisation", "status", "commentary",
]
PROBLEM_COLUMNS = ["file", "line", "column", "code", "severity", "indicator", "area", "period", "message"]
PPY = {"quarterly": 4, "monthly": 12, "half-yearly": 2, "annual": 1}
SUPPRESS = ["*", "c", "[c]", "x", "[x]", "z", "[z]", "..", ":", "-", "n/a", "na"]
# SPEC 2.3 submitted_on: 2024-07-21 or 21/07/2024 (pmf also reads 21-07-2024 and one-digit days and
# months), a real date in the years 1900-2999; groups: year, month, day of each form
DATE_RE = (r"^(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})/(\d{1,2})/(\d{4})|(\d{1,2})-(\d{1,2})-(\d{4}))$")
DATE_YEARS = (1900, 2999)
STATUS = ["", "final", "provisional"]  # lower case, trimmed; empty means final
SUBMISSION = ("status", "submittedby", "submittedon")  # normalised header names
WARNINGS = {"unknown-column", "blank-row", "encoding", "delimiter", "normalised-value", "duplicate-row",
            "missing-return", "late-return"}


def args(desc):
    ap = argparse.ArgumentParser(description=desc)
    ap.add_argument("command", choices=["validate", "report"])
    ap.add_argument("-f", "--framework", required=True)
    ap.add_argument("-r", "--returns", required=True, help="folder of *.csv or one file")
    ap.add_argument("--quarter", default="Q4")
    ap.add_argument("--year", default="2024/25")
    ap.add_argument("-o", "--output", default="-")
    return ap.parse_args()


def csv_files(path):
    return sorted(glob.glob(os.path.join(path, "*.csv"))) if os.path.isdir(path) else [path]


def load_framework(path):
    with open(path) as f:
        fw = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    assert fw.get("year_start", "april") == "april", "the peers handle april years only"
    areas = []  # (code, parent, depth, order)

    def walk(nodes, parent, depth):
        for a in nodes:
            areas.append({"area": a["code"], "parent": parent, "depth": depth, "area_order": len(areas)})
            walk(a.get("areas", []), a["code"], depth + 1)

    walk(fw.get("areas") or [{"code": "ALL"}], None, 0)
    inds, targets = [], []
    for t in fw["themes"]:
        for p in t["priorities"]:
            for i in p["indicators"]:
                unit = i.get("unit", "number")
                agg = i.get("aggregate") or ("sum" if unit == "count" else "none")
                lead = i.get("lead") or {}
                inds.append({
                    "indicator": i["code"], "theme": t["code"], "priority": p["code"], "name": i["name"],
                    "unit": unit, "polarity": i["polarity"], "frequency": i.get("frequency", "quarterly"),
                    "measure": i.get("measure", "snapshot"), "aggregate": agg,
                    "scale": float(i.get("scale", 1)), "fast_track": int(i.get("fast_track", 0)),
                    "lead": lead.get("name", ""), "organisation": lead.get("organisation", ""),
                    "provider": i.get("provider", lead.get("organisation", "")),
                    "ind_order": len(inds),
                })
                for k, v in (i.get("targets") or {}).items():
                    targets.append({"indicator": i["code"], "key": str(k), "target": float(v)})
    esc = fw.get("escalation") or {}
    fc = fw.get("forecast") or {}
    plan = fw.get("plan")
    return {
        "name": fw["name"], "areas": areas, "indicators": inds, "targets": targets,
        "default_area": areas[0]["area"],
        "action_after": int(esc.get("action_after", 2)), "intervention_after": int(esc.get("intervention_after", 1)),
        "window": int(fc.get("window", 8)), "min_backtests": int(fc.get("min_backtests", 4)),
        "margin": float(fc.get("margin", 0.8)),
        "plan_end_year": int(str(plan["end"])[:4]) if plan else None,
        "deadline_days": int(fw.get("deadline_days", 28)),
    }


def report_end_month(quarter, year):
    """Month number (year*12 + month-1, calendar) of the last month of the report quarter."""
    fy = int(year[:4])
    q = int(quarter[1])
    return fy * 12 + 3 + 3 * q - 1


def deadline(endm, days):
    """The deadline of a return for a period ending in month endm (year*12 + month-1): the
    period's last day plus the framework's deadline_days."""
    first_after = dt.date((endm + 1) // 12, (endm + 1) % 12 + 1, 1)
    return first_after - dt.timedelta(days=1) + dt.timedelta(days=days)


def today_month():
    d = dt.date.today()
    return d.year * 12 + d.month - 1
