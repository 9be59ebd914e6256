#!/usr/bin/env python3
"""Generate the Riverside partner returns (returns/*.csv) and print the story.

Deterministic: no randomness, no clock. Run from anywhere:

    python3 examples/riverside/generate.py          # writes returns/*.csv
    python3 examples/riverside/generate.py --story  # also prints RAG/stage/forecast at 2025/26 Q2

The story check re-implements SPEC 4.1-4.6 in a few lines so that the README can say what
`pmf report --period "2025/26 Q2" --as-of 2025-11-15` should show. It is a cross-check, not the
reference implementation.
"""
import csv
import datetime as dt
import io
import os
import sys
from decimal import Decimal as D, ROUND_HALF_UP

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "returns")
FW = yaml.safe_load(open(os.path.join(HERE, "pmf.yaml"), encoding="utf-8"))
AREAS = ["RV-N", "RV-C", "RV-E", "RV-W"]

# ---------------------------------------------------------------- periods
QUARTERS = [f"{y}/{(y + 1) % 100:02d} Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)][:10]
MONTHS = [f"{y:04d}-{m:02d}" for y, m in
          [((2023 * 12 + 3 + i) // 12, (3 + i) % 12 + 1) for i in range(30)]]  # 2023-04 .. 2025-09
HALVES = [f"{y}/{(y + 1) % 100:02d} H{h}" for y in (2023, 2024, 2025) for h in (1, 2)][:5]
YEARS = ["2022/23", "2023/24", "2024/25"]


def period_end(p):
    if len(p) == 7 and p[4] == "-":  # month
        y, m = int(p[:4]), int(p[5:])
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    y = int(p[:4])
    if p.endswith(("Q1",)):
        return dt.date(y, 6, 30)
    if p.endswith(("Q2", "H1")):
        return dt.date(y, 9, 30)
    if p.endswith("Q3"):
        return dt.date(y, 12, 31)
    return dt.date(y + 1, 3, 31)  # Q4, H2, year


def year_of(p):
    if len(p) == 7 and p[4] == "-":
        y, m = int(p[:4]), int(p[5:])
        y = y if m >= 4 else y - 1
        return f"{y}/{(y + 1) % 100:02d}"
    return p[:7]


def fraction_elapsed(p):
    """Fraction of the financial year elapsed at the period's end (cumulative targets)."""
    if len(p) == 7 and p[4] == "-":
        return D((int(p[5:]) - 4) % 12 + 1) / 12
    return {"Q1": D(1) / 4, "Q2": D(1) / 2, "H1": D(1) / 2, "Q3": D(3) / 4}.get(p[-2:], D(1))


# ---------------------------------------------------------------- the plan
# Top-area-only series are given as the value wanted per period; ratio indicators also carry
# the denominators, and the numerator is chosen so that numerator/denominator*100 rounds to
# the wanted value. By-area series give one list per child area.
def q(*vals):
    return dict(zip(QUARTERS, vals))


def mth(*vals):
    return dict(zip(MONTHS, vals))


def hy(*vals):
    return dict(zip(HALVES, vals))


def yr(*vals):
    return dict(zip(YEARS, vals))


PLAN = {
    # ---- council (RBC)
    "NI 62": dict(want=q(9.9, 9.7, 9.8, 9.6, 9.4, 9.3, 9.2, 9.6, 9.4, 10.1),
                  den=q(352, 348, 355, 361, 358, 364, 369, 366, 371, 376)),
    "NI 63": dict(want=q(67.4, 68.1, 68.5, 68.9, 69.3, 69.8, 70.1, 70.4, 70.6, 71.2),
                  den=q(138, 141, 139, 142, 144, 146, 143, 147, 149, 151)),
    "NI 147": dict(want=q(89.6, 90.8, 91.5, 90.2, 91.3, 91.9, 92.4, 92.8, 92.4, 88.9),
                   den=q(125, 127, 129, 132, 130, 134, 136, 138, 137, 140)),
    "NI 148": dict(want=q(53.1, 54.3, 54.8, 55.2, 55.9, 56.1, 56.5, 56.2, 57.5, 59.1),
                   den=q(125, 127, 129, 132, 130, 134, 136, 138, 137, 140)),
    "NI 64": dict(want=q(4.3, 3.9, 4.1, 3.6, 3.8, 3.3, 3.7, 3.4, 3.6, 4.3),
                  den=q(70, 77, 73, 83, 79, 91, 82, 87, 83, 70)),
    "CF 03": dict(want=mth(84.2, 85.1, 86.0, 85.3, 86.4, 87.2, 85.7, 84.9, 86.1, 86.8, 87.5, 88.1,
                           87.4, 88.0, 88.3, 87.9, 88.6, 89.1, 87.3, 86.2, 87.8, 88.4, 89.0, 89.3,
                           88.9, 88.2, 87.6, 88.5, 81.5, 83.0),
                  den=mth(152, 147, 160, 141, 155, 149, 163, 131, 158, 171, 146, 166,
                          159, 162, 151, 143, 168, 157, 170, 128, 161, 175, 154, 169,
                          166, 158, 172, 149, 162, 176)),
    "CF 08": dict(want=mth(51.6, 53.1, 56.4, 54.8, 57.1, 55.9, 52.4, 58.3, 56.2, 57.9, 59.4, 58.8,
                           59.5, 61.3, 60.4, 62.2, 61.0, 63.6, 60.6, 62.1, 64.0, 63.3, 61.8, 64.7,
                           65.8, 66.2, 64.9, 63.3, 65.9, 66.7),
                  den=mth(31, 32, 39, 31, 35, 34, 21, 36, 32, 38, 37, 34,
                          37, 31, 48, 37, 41, 44, 33, 29, 25, 30, 34, 34,
                          38, 38, 37, 30, 41, 45)),
    # by area: re-referrals, children on a CP plan (count), NEET
    "NI 65": dict(area=True,
                  want={"RV-N": q(19.8, 19.6, 19.2, 18.9, 18.7, 18.5, 19.6, 20.3, 21.0, 21.8),
                        "RV-C": q(21.6, 21.2, 20.9, 20.5, 20.2, 20.0, 21.2, 21.9, 22.6, 23.4),
                        "RV-E": q(22.3, 21.9, 21.5, 21.3, 20.9, 20.6, 21.9, 22.6, 23.3, 24.5),
                        "RV-W": q(19.1, 18.8, 18.5, 18.2, 18.0, 17.9, 19.1, 19.8, 20.5, 21.2)},
                  den={"RV-N": q(281, 276, 290, 268, 284, 279, 291, 272, 288, 294),
                       "RV-C": q(342, 335, 351, 329, 347, 340, 356, 333, 352, 360),
                       "RV-E": q(398, 389, 407, 383, 401, 395, 412, 387, 409, 418),
                       "RV-W": q(226, 219, 234, 214, 229, 223, 236, 218, 232, 238)}),
    "CF 02": dict(area=True, count=True,
                  want={"RV-N": q(48, 51, 47, 44, 46, 49, 52, 50, 47, 45),
                        "RV-C": q(63, 66, 70, 68, 64, 61, 65, 69, 72, 70),
                        "RV-E": q(81, 79, 84, 88, 85, 83, 86, 91, 94, 97),
                        "RV-W": q(29, 31, 28, 26, 30, 33, 31, 28, 27, 29)}),
    "NI 117": dict(area=True,
                   want={"RV-N": q(4.9, 5.6, 4.6, 4.4, 4.5, 5.3, 4.3, 4.2, 4.1, 5.7),
                         "RV-C": q(5.6, 6.4, 5.3, 5.1, 5.2, 6.0, 5.0, 4.8, 4.7, 6.5),
                         "RV-E": q(7.3, 8.1, 6.9, 6.7, 6.8, 7.7, 6.6, 6.4, 6.3, 7.9),
                         "RV-W": q(4.1, 4.9, 3.9, 3.7, 3.8, 4.6, 3.6, 3.5, 3.4, 5.0)},
                   den={"RV-N": q(1412, 1398, 1405, 1409, 1431, 1426, 1437, 1440, 1452, 1447),
                        "RV-C": q(1686, 1671, 1679, 1684, 1702, 1695, 1708, 1711, 1723, 1719),
                        "RV-E": q(1934, 1917, 1925, 1931, 1950, 1942, 1957, 1961, 1973, 1968),
                        "RV-W": q(1128, 1117, 1122, 1126, 1140, 1135, 1144, 1147, 1156, 1152)}),
    # ---- NHS trust (RVFT)
    "NI 53": dict(area=True,
                  want={"RV-N": q(47.9, 48.6, 49.1, 48.4, 49.3, 49.8, 50.2, 50.6, 52.4, 54.6),
                        "RV-C": q(44.1, 44.8, 45.2, 44.9, 45.6, 46.2, 46.5, 47.1, 48.9, 51.4),
                        "RV-E": q(38.6, 39.2, 39.9, 39.5, 40.4, 41.1, 41.6, 42.3, 44.8, 47.6),
                        "RV-W": ["[c]", 51.5, 52.2, 51.8, 52.6, 53.1, 53.7, 54.2, 56.3, 59.0]},
                  den={"RV-N": q(176, 183, 171, 165, 179, 186, 173, 168, 181, 188),
                       "RV-C": q(214, 221, 208, 199, 217, 226, 211, 203, 219, 229),
                       "RV-E": q(247, 256, 240, 231, 251, 262, 243, 236, 254, 265),
                       "RV-W": q(131, 136, 127, 122, 134, 139, 129, 125, 135, 141)}),
    "CF 05": dict(want=q(10.9, 10.8, 10.6, 10.7, 10.3, 10.1, 9.8, 10.2, None, 9.9),
                  den=q(652, 671, 640, 618, 659, 684, 646, 627, None, 697)),
    "NI 55": dict(want=yr(10.9, 10.6, 9.9), den=yr(2841, 2796, 2763)),
    "CF 04": dict(count=True, thousands=True,
                  want=mth(1241, 1198, 1176, 1230, 1152, 1213, 1287, 1339, 1402, 1358, 1321, 1296,
                           1226, 1204, 1169, 1211, 1147, 1198, 1262, 1316, 1371, 1329, 1288, 1259,
                           1218, 1197, 1163, 1210, 1150, 1187)),
    "CF 06": dict(want=mth(72.1, 72.8, 73.5, 74.0, 73.1, 72.6, 73.9, "[x]", 75.2, 75.8, 76.3, 76.9,
                           77.4, 78.1, 78.9, 79.3, 80.2, 80.6, 79.8, 80.4, 81.1, 80.7, 81.5, 81.9,
                           80.5, 81.0, 81.6, 82.1, 83.0, 83.8),
                  den=mth(118, 124, 131, 109, 127, 122, 135, None, 126, 133, 129, 137,
                          121, 128, 134, 116, 130, 125, 139, 120, 131, 136, 132, 140,
                          127, 133, 138, 119, 135, 142)),
    # ---- police (RVPOL)
    "NI 111": dict(count=True, want=q(16, 33, 50, 66, 15, 31, 47, 62, 14, 38)),
    "NI 19": dict(want=hy(35.4, 34.6, 33.9, 32.5, 30.8), den=hy(82, 78, 85, 80, 78)),
    "CF 10": dict(count=True,
                  want=mth(94, 101, 88, 107, 112, 96, 83, 79, 91, 98, 103, 110,
                           97, 104, 92, 109, 116, 99, 86, 81, 95, 100, 108, 114,
                           102, 99, 94, 118, 121, 106)),
    # ---- schools (RSP)
    "CF 07": dict(want=hy(92.8, 92.6, 93.6, 93.4, 94.3),
                  den=hy(5318240, 5896410, 5344870, 5921360, 5361550)),
    "NI 73": dict(want=yr(57.0, 58.6, 59.4), den=yr(2718, 2754, 2779)),
    "CF 09": dict(area=True, count=True,
                  want={"RV-N": q(82, 131, 230, 318, 79, 127, 221, 309, 84, 133),
                        "RV-C": q(101, 163, 281, 389, 96, 156, 272, 378, 104, 166),
                        "RV-E": q(129, 208, 357, 494, 121, 197, 344, 479, 131, 211),
                        "RV-W": q(63, 101, 176, 243, 58, 95, 167, 232, 62, None)}),
}


def fit(want, den):
    """(denominator, numerator) nearest to `den` whose ratio rounds to `want` at one decimal.

    Small cohorts cannot produce every percentage, so the denominator moves by the least
    amount that can."""
    w = D(str(want))
    for step in range(0, 200):
        for d in (den + step, den - step):
            n = int((w * d / 100).to_integral_value(rounding=ROUND_HALF_UP))
            if d > 0 and 0 <= n <= d and value_of(n, d) == w:
                return d, n
    raise ValueError(f"no numerator for {want} near {den}")


def value_of(n, den, scale=100):
    return (D(n) * scale / D(den)).quantize(D("0.1"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- the rows
def build():
    """rows[(code, area or None, period)] = dict(value, num, den)."""
    rows = {}
    for code, spec in PLAN.items():
        areas = AREAS if spec.get("area") else [None]
        for area in areas:
            want = spec["want"][area] if area else spec["want"]
            den = (spec.get("den") or {})
            den = den.get(area, {}) if area else den
            if isinstance(want, list):
                want = dict(zip(QUARTERS, want))
            for period, w in want.items():
                if w is None:
                    continue  # absent return (a gap, or the missing one)
                if isinstance(w, str):
                    rows[(code, area, period)] = dict(value=w, num=None, den=None)
                elif spec.get("count"):
                    rows[(code, area, period)] = dict(value=D(w), num=None, den=None)
                else:
                    d, n = fit(w, den[period])
                    rows[(code, area, period)] = dict(value=value_of(n, d), num=n, den=d)
    return rows


# ---------------------------------------------------------------- writing
def iso(d):
    return d.isoformat()


def uk(d):
    return d.strftime("%d/%m/%Y")


def submitted(period, days, late_from=None):
    end = period_end(period)
    if late_from and end >= late_from[0]:
        return late_from[1]
    return end + dt.timedelta(days=days)


def fmt(v, thousands=False):
    if isinstance(v, str):
        return v
    if thousands:
        return f"{int(v):,}"
    return str(v)


COMMENTARY = {}   # (code, area, period) -> text
PREDICTION = {}   # (code, area, period) -> on track | off track | at risk
ACTION = {}       # (code, area, period) -> yes | no
STATUS = {}       # (code, area, period) -> provisional
Q2 = "2025/26 Q2"


def story_text():
    C, P, A = COMMENTARY, PREDICTION, ACTION
    C[("NI 62", None, Q2)] = ("12 children had a third placement move this quarter, 7 of them teenagers "
                              "placed out of borough after two in-house foster carers resigned. "
                              "Placement stability panel now meets fortnightly; recruitment campaign "
                              "relaunched in September.")
    P[("NI 62", None, Q2)] = "off track"; A[("NI 62", None, Q2)] = "yes"
    C[("NI 62", None, "2025/26 Q1")] = "Slight improvement but still above the 9.0% target."
    C[("NI 63", None, Q2)] = "Continued steady improvement; long-term matching reviews completed for all eligible children."
    P[("NI 63", None, Q2)] = "on track"
    C[("NI 147", None, Q2)] = ("Five care leavers moved into unsuitable accommodation (two in custody, "
                               "three sofa-surfing) after the supported lodgings provider gave notice. "
                               "Housing options protocol being reviewed with Housing Needs.")
    P[("NI 147", None, Q2)] = "at risk"
    C[("NI 148", None, Q2)] = "Second quarter of improvement: 11 care leavers started the Council's apprenticeship ring-fence in September."
    P[("NI 148", None, Q2)] = "on track"
    C[("NI 64", None, Q2)] = ("3 of the 70 plans that ended this quarter had lasted more than two years "
                              "(one sibling group). Each has been reviewed by the Head of Safeguarding; "
                              "no drift identified in current plans over 18 months.")
    P[("NI 64", None, Q2)] = "at risk"; A[("NI 64", None, Q2)] = "yes"
    C[("CF 03", None, "2025-09")] = ("Recovering from the August dip (two team managers on leave, agency "
                                     "cover started 8 September). Backlog of 21 assessments cleared by 26 September.")
    C[("CF 03", None, "2025-08")] = "Staffing gaps in the Assessment Team during the summer; backlog rising."
    C[("CF 08", None, "2025-09")] = "30 of 45 new plans issued within 20 weeks; educational psychology capacity restored."
    P[("CF 08", None, "2025-09")] = "on track"
    for a, t in {"RV-N": "Rise linked to domestic abuse re-referrals; MARAC audit under way.",
                 "RV-C": "Re-referrals after early help step-down continue to rise.",
                 "RV-E": ("Highest rate in the borough. Audit of 40 re-referrals found 60% closed "
                          "without a multi-agency plan. Front door practice review reports in December."),
                 "RV-W": "Small numbers; increase concentrated in two families."}.items():
        C[("NI 65", a, Q2)] = t
        P[("NI 65", a, Q2)] = "off track"; A[("NI 65", a, Q2)] = "yes"
    for a in AREAS:
        C[("CF 02", a, Q2)] = {"RV-E": "Four large sibling groups became subject to plans in July.",
                               }.get(a, "")
        C[("NI 117", a, Q2)] = {"RV-N": "Seasonal rise: September destinations still being confirmed.",
                                "RV-C": "Seasonal rise; 38 'not known' to be tracked by end of October.",
                                "RV-E": ("Seasonal rise on top of a high base. Eastfield College course "
                                         "closures left 22 young people without a place."),
                                "RV-W": "Seasonal rise, in line with last year."}[a]
    C[("NI 53", "RV-E", Q2)] = "Eastfield above target for the first time: peer supporters now in both family hubs."
    C[("NI 53", "RV-W", Q2)] = "Best quarter on record for Westmoor."
    C[("CF 05", None, Q2)] = ("No Q1 figure: the maternity system migration (Badger to Euroking) lost the "
                              "smoking status field for April-June. Q2 back on the new system.")
    P[("CF 05", None, Q2)] = "at risk"; A[("CF 05", None, Q2)] = "yes"
    C[("NI 55", None, "2024/25")] = "NCMP 2024/25: 271 of 2,763 Reception children measured were obese."
    P[("NI 55", None, "2024/25")] = "at risk"
    C[("CF 04", None, "2025-09")] = "Provisional: SUS data for late September not yet complete."
    STATUS[("CF 04", None, "2025-09")] = "provisional"
    C[("CF 06", None, "2025-09")] = "Sixth month of improvement since the single point of access opened in April."
    P[("CF 06", None, "2025-09")] = "at risk"
    C[("NI 111", None, Q2)] = ("24 first time entrants this quarter, most from a single incident in "
                               "Castlegate in August (9 young people, \"affray\"). Excluding that, we're on "
                               "track,\nand the Turnaround programme is now taking referrals.")
    P[("NI 111", None, Q2)] = "on track"; A[("NI 111", None, Q2)] = "no"
    C[("NI 19", None, "2025/26 H1")] = "Cohort of 78; reoffending down for the second half-year running."
    C[("CF 10", None, "2025-09")] = ("3 children accounted for 31 episodes; all have a \"philomena\" "
                                     "protocol profile, and return home interviews were offered in 94% of episodes.")
    C[("CF 07", None, "2025/26 H1")] = "Summer term 2025 plus September. Persistent absence also down, to 17.9%."
    C[("NI 73", None, "2024/25")] = "Validated results of the summer 2024 tests; 1,651 of 2,779 pupils met the expected standard."
    for a in ("RV-N", "RV-C", "RV-E"):
        C[("CF 09", a, Q2)] = "September only: most suspensions were in the first three weeks of term."


def write_council(rows):
    codes = ["NI 62", "NI 63", "NI 147", "NI 148", "NI 65", "NI 64", "CF 02", "CF 03", "CF 08", "NI 117"]
    header = ["Indicator", "Period", "Area", "Value", "Numerator", "Denominator", "Commentary",
              "Prediction", "Action Plan", "Status", "Submitted By", "Submitted On"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for (code, area, period), r in rows.items():
        if code not in codes:
            continue
        k = (code, area, period)
        w.writerow([code, period, area or "RV", fmt(r["value"]), r["num"] or "", r["den"] or "",
                    COMMENTARY.get(k, ""), PREDICTION.get(k, ""), ACTION.get(k, ""),
                    STATUS.get(k, "final"), "RBC", iso(submitted(period, 19))])
    with open(os.path.join(OUT, "council.csv"), "w", encoding="utf-8-sig", newline="") as f:
        f.write(buf.getvalue())


def write_nhs(rows):
    codes = ["NI 53", "CF 05", "NI 55", "CF 04", "CF 06"]
    header = ["indicator", "period", "area", "value", "numerator", "denominator", "commentary",
              "prediction", "action_plan", "status", "submitted_by", "submitted_on"]
    with open(os.path.join(OUT, "nhs.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for (code, area, period), r in rows.items():
            if code not in codes:
                continue
            k = (code, area, period)
            num = "" if r["num"] is None else f"{r['num']:,}"
            den = "" if r["den"] is None else f"{r['den']:,}"
            when = submitted(period, 20 if code == "NI 55" else 16)
            w.writerow([code, period, area or "", fmt(r["value"], thousands=code == "CF 04"), num, den,
                        COMMENTARY.get(k, ""), PREDICTION.get(k, ""), ACTION.get(k, ""),
                        STATUS.get(k, ""), "RVFT", uk(when)])


def lenient_police(period):
    if period.startswith("2024/25 Q"):
        return f"2024/25-{period[-2:]}"
    return period


def write_police(rows):
    codes = ["NI 111", "NI 19", "CF 10"]
    header = ["Indicator", "Period", "Value", "Numerator", "Denominator", "Commentary", "Prediction",
              "Action_Plan", "Status", "Submitted_By", "Submitted_On"]
    late = (dt.date(2025, 7, 31), dt.date(2025, 11, 4))  # Q2 2025/26 sent late, in one batch
    with open(os.path.join(OUT, "police.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for (code, area, period), r in rows.items():
            if code not in codes:
                continue
            k = (code, area, period)
            w.writerow([code, lenient_police(period), fmt(r["value"]), r["num"] or "", r["den"] or "",
                        COMMENTARY.get(k, ""), PREDICTION.get(k, ""), ACTION.get(k, ""),
                        STATUS.get(k, ""), "RVPOL", iso(submitted(period, 14, late))])


def lenient_schools(period):
    if period.startswith("2024/25 Q"):
        return f"{period[-2:]} {period[:7]}"             # Q1 2024/25
    if len(period) == 7 and period[4] == "/":
        return f"{period[:4]}-{period[5:]}"              # 2024-25
    if period == "2023/24 H2":
        return "2023/24 h2"
    return period


def write_schools(rows):
    codes = ["CF 07", "NI 73", "CF 09"]
    header = ["Indicator", "Period", "Area", "Value", "Numerator", "Denominator", "Commentary",
              "Submitted by", "Submitted on"]
    with open(os.path.join(OUT, "schools.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for (code, area, period), r in rows.items():
            if code not in codes:
                continue
            k = (code, area, period)
            value = fmt(r["value"]) + ("%" if code == "CF 07" else "")
            when = submitted(period, 24 if code == "NI 73" else 21)
            w.writerow([code, lenient_schools(period), area or "RV", value, r["num"] or "", r["den"] or "",
                        COMMENTARY.get(k, ""), "RSP", uk(when)])


# ---------------------------------------------------------------- story check (SPEC 4)
def indicators():
    return {i["code"]: i for t in FW["themes"] for p in t["priorities"] for i in p["indicators"]}


def series_periods(ind):
    return {"monthly": MONTHS, "quarterly": QUARTERS, "half-yearly": HALVES,
            "annual": YEARS}[ind.get("frequency", "quarterly")]


def target(ind, area, period):
    ts = (ind.get("area_targets") or {}).get(area) or ind.get("targets") or {}
    ts = {str(k): D(str(v)) for k, v in ts.items()}
    if period in ts:
        return ts[period]
    t = ts.get(year_of(period))
    if t is None:
        return None
    if ind.get("measure") == "cumulative":
        return t * fraction_elapsed(period)
    return t


def dev_pct(ind, v, t):
    if ind["polarity"] == "higher":
        return (v - t) / abs(t) * 100
    return (t - v) / abs(t) * 100


def rag(ind, v, t):
    if ind["polarity"] == "none" or v is None or t is None:
        return "N/A"
    if t == 0:
        better = v >= t if ind["polarity"] == "higher" else v <= t
        return "GREEN" if better else "RED"
    dev = dev_pct(ind, v, t)
    scheme = (FW.get("rag_schemes") or {}).get(ind.get("rag", "")) or {"kind": ind.get("rag", "achievement")}
    kind = scheme["kind"]
    if kind == "achievement":
        ach = 100 + dev
        g, a = D(str(scheme.get("green", 95))), D(str(scheme.get("amber", 90)))
        return "GREEN" if ach >= g else "AMBER" if ach >= a else "RED"
    if kind == "deviation":
        r, b = D(str(scheme.get("red", -10))), D(str(scheme.get("blue", 10)))
        return "RED" if dev <= r else "BLUE" if dev >= b else "AMBER" if dev < 0 else "GREEN"
    return "GREEN" if dev >= 0 else "RED"


def rolled(ind, rows, code, period):
    vals = [rows.get((code, a, period)) for a in AREAS]
    missing = [a for a, r in zip(AREAS, vals) if r is None or isinstance(r["value"], str)]
    if missing:
        return None, missing
    if ind.get("aggregate") == "ratio":
        n = sum(r["num"] for r in vals); d = sum(r["den"] for r in vals)
        return D(n) * D(str(ind.get("scale", 1))) / D(d), []
    return sum(r["value"] for r in vals), []


def series(ind, rows, code, area):
    out = {}
    for p in series_periods(ind):
        if area == "RV" and PLAN[code].get("area"):
            v, _ = rolled(ind, rows, code, p)
        else:
            r = rows.get((code, None if area == "RV" else area, p))
            v = None if r is None or isinstance(r["value"], str) else r["value"]
        if v is not None:
            out[p] = v
    return out


def direction(ind, s, periods, p):
    if ind["polarity"] == "none":
        return "n/a"
    i = periods.index(p)
    step = {"monthly": 12, "quarterly": 4, "half-yearly": 2, "annual": 1}[ind.get("frequency", "quarterly")]
    prev_i = i - step if ind.get("measure") == "cumulative" else i - 1
    if prev_i < 0 or periods[prev_i] not in s or p not in s:
        return "n/a"
    a, b = s[periods[prev_i]], s[p]
    if a == b:
        return "no change"
    better = b > a if ind["polarity"] == "higher" else b < a
    return "improving" if better else "worsening"


def stage(ind, s, periods, upto, area):
    esc = FW.get("escalation") or {}
    act, inter = esc.get("action_after", 2), esc.get("intervention_after", 1)
    ft = ind.get("fast_track", 0)
    st, run, since2 = 0, 0, None
    for p in periods[: periods.index(upto) + 1]:
        if p not in s:
            continue
        t = target(ind, area, p)
        if ind["polarity"] == "none" or t is None or dev_pct(ind, s[p], t) >= 0:
            st, run, since2 = 0, 0, None
            continue
        run += 1
        improving = direction(ind, s, periods, p) == "improving"
        if st >= 2:
            since2 += 1
            if since2 >= inter:
                st = 3
        elif run >= act and not improving:
            st, since2 = 2, 0
        else:
            st = max(st, 1)
        if ft and st < ft:
            if ft >= 2 and since2 is None:
                since2 = 0
            st = ft
    return st


def forecast(ind, s, periods, fperiod):
    """SPEC 4.5 for a series reported at its last value."""
    fcfg = FW.get("forecast") or {}
    window, minb, margin = fcfg.get("window", 8), fcfg.get("min_backtests", 4), D(str(fcfg.get("margin", 0.8)))
    allp = periods + [x for x in future_periods(ind) if x not in periods]
    idx = {p: i for i, p in enumerate(allp)}
    pts = sorted((idx[p], v) for p, v in s.items())
    last_i = pts[-1][0]
    if fperiod in s:
        return s[fperiod], "actual"
    if ind.get("measure") == "cumulative":
        lastp = allp[last_i]
        return pts[-1][1] / fraction_elapsed(lastp), "run-rate"
    h = idx[fperiod] - last_i

    def cands(upto, at):
        w = [pt for pt in pts if pt[0] <= upto][-window:]
        last = w[-1][1]
        mean = sum(v for _, v in w) / len(w)
        if len(w) < 3:
            tr = last
        else:
            n = len(w); mx = D(sum(x for x, _ in w)) / n; my = mean
            sxx = sum((x - mx) ** 2 for x, _ in w)
            b = sum((x - mx) * (v - my) for x, v in w) / sxx
            tr = my + b * (at - mx)
        return {"last": last, "mean": mean, "trend": tr}

    errs = {"last": [], "mean": [], "trend": []}
    vals = dict(pts)
    for k, (i, v) in enumerate(pts):
        if k < 2 or i + h not in vals:
            continue
        c = cands(i, i + h)
        for m in errs:
            errs[m].append(vals[i + h] - c[m])
    mae = {m: (sum(abs(e) for e in es) / len(es) if es else None) for m, es in errs.items()}
    choice = "last"
    ok = [m for m in ("mean", "trend") if len(errs[m]) >= minb and mae["last"] is not None
          and mae[m] < margin * mae["last"]]
    if ok:
        choice = min(ok, key=lambda m: (mae[m], m != "mean"))
    return cands(last_i, idx[fperiod])[choice], choice


def future_periods(ind):
    f = ind.get("frequency", "quarterly")
    return {"monthly": [f"2025-{m:02d}" for m in range(10, 13)] + ["2026-01", "2026-02", "2026-03"],
            "quarterly": ["2025/26 Q3", "2025/26 Q4"], "half-yearly": ["2025/26 H2"],
            "annual": ["2025/26"]}[f]


def reported_at(ind):
    return {"monthly": "2025-09", "quarterly": Q2, "half-yearly": "2025/26 H1",
            "annual": "2024/25"}[ind.get("frequency", "quarterly")]


def final_period(ind):
    return {"monthly": "2026-03", "quarterly": "2025/26 Q4", "half-yearly": "2025/26 H2",
            "annual": "2025/26"}[ind.get("frequency", "quarterly")]


def story(rows):
    inds = indicators()
    counts = {}
    print(f"{'code':7} {'area':5} {'period':11} {'value':>8} {'target':>8} {'dev%':>7} {'rag':6} "
          f"{'direction':10} st {'forecast':>9} {'method':8} on  pred       challenge")
    for code, ind in inds.items():
        areas = ["RV"] + (AREAS if PLAN[code].get("area") else [])
        for area in areas:
            periods = series_periods(ind)
            s = series(ind, rows, code, area)
            p = reported_at(ind)
            v = s.get(p)
            t = target(ind, area, p)
            r = rag(ind, v, t)
            dv = "" if v is None or t is None or ind["polarity"] == "none" else f"{dev_pct(ind, v, t):.1f}"
            d = direction(ind, s, periods, p) if v is not None else "n/a"
            i = periods.index(p)
            d0 = direction(ind, s, periods, periods[i - 1]) if periods[i - 1] in s else "n/a"
            d = f"{d[:5]}/{d0[:5]}"
            st = stage(ind, s, periods, p, area)
            fp = final_period(ind)
            fv, fm = forecast(ind, s, periods, fp) if s else (None, "")
            ft = target(ind, area, fp)
            on = ""
            if fv is not None and ft is not None and ind["polarity"] != "none":
                on = "yes" if (fv >= ft if ind["polarity"] == "higher" else fv <= ft) else "no"
            k = (code, None if area == "RV" and not PLAN[code].get("area") else area, p)
            pred = PREDICTION.get(k, "")
            ch = ""
            if pred and on:
                ch = "yes" if (pred == "on track") != (on == "yes") else "no"
            if area == "RV":
                counts[r] = counts.get(r, 0) + 1
            vs = "" if v is None else f"{v:.1f}"
            ts = "" if t is None else f"{t:.1f}"
            fs = "" if fv is None else f"{fv:.2f}"
            print(f"{code:7} {area:5} {p:11} {vs:>8} {ts:>8} {dv:>7} {r:6} {d:10} {st}  {fs:>9} "
                  f"{fm:8} {on:3} {pred:10} {ch}")
    print("RAG counts (top area RV):", counts)


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = build()
    story_text()
    write_council(rows)
    write_nhs(rows)
    write_police(rows)
    write_schools(rows)
    if "--story" in sys.argv:
        story(rows)


if __name__ == "__main__":
    main()
