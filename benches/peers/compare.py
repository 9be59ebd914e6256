#!/usr/bin/env python3
"""Compare two report CSVs (or two problem CSVs) written by the peers: which columns disagree, how often.

    python compare.py report a.csv b.csv | python compare.py problems a.csv b.csv
"""
import sys

import polars as pl

kind, a, b = sys.argv[1:4]
A = pl.read_csv(a, infer_schema=False).with_columns(pl.all().fill_null(""))
B = pl.read_csv(b, infer_schema=False).with_columns(pl.all().fill_null(""))
print(f"{a}: {A.height} rows, {b}: {B.height} rows")
if kind == "problems":
    key = ["file", "line", "code", "indicator", "area"]
    A, B = (x.with_columns(pl.col("file").str.split("/").list.last()) for x in (A, B))
    print("only in first:", A.join(B, on=key, how="anti", nulls_equal=True).height,
          " only in second:", B.join(A, on=key, how="anti", nulls_equal=True).height)
    sys.exit(0)
key = ["indicator", "area"]
J = A.join(B, on=key, how="full", suffix="_b", coalesce=True)
print("unmatched:", J.filter(pl.col("theme").is_null() | pl.col("theme_b").is_null()).height)
J = J.filter(pl.col("theme").is_not_null() & pl.col("theme_b").is_not_null())
for c in A.columns:
    if c in key:
        continue
    x, y = pl.col(c), pl.col(c + "_b")
    fx, fy = x.cast(pl.Float64, strict=False), y.cast(pl.Float64, strict=False)
    same = ((fx - fy).abs() <= 1e-6 * (1 + fx.abs())) | (x.fill_null("") == y.fill_null(""))
    n = J.filter(~same.fill_null(False)).height
    if n:
        ex = J.filter(~same.fill_null(False)).select(*key, c, c + "_b").head(3).rows()
        print(f"  {c}: {n} differ, e.g. {ex}")
