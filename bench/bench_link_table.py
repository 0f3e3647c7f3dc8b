"""Benchmark `outreach link --table` deduplicating a large register-like person table.

Usage:
    python bench/bench_link_table.py [--rows 1000000] [--seed 0] [--keep]

Generates a person table of ``--rows`` rows (Chinese names from common family names and given
characters, birth dates, sex, 12-digit village codes, resident IDs on 70 % of rows; a fifth of the
rows are second records of a person, with a homophone or similar character in the name, a missing
or 1st-of-month birth date, a stale village, a mistyped or transposed ID digit), writes it as
Parquet to a scratch folder, and runs `outreach link --table` on it in a fresh process. Prints
time, peak memory, pairwise precision / recall against the generated truth and, per blocking rule,
its candidate pairs and the most candidates one record got, as JSON. Goal on
1,000,000 rows: at most 15 minutes and 12 GB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _stage import stage  # noqa: E402

from core import idnumber  # noqa: E402
from features.linkage import pairwise_counts  # noqa: E402

FAMILY = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉鹏宇")
SOUND_ALIKE = dict(zip("伟芳娜敏静丽强磊", "玮方那民晶莉墙蕾", strict=True))


def person_table(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The generated table and each row's true person."""
    rng = np.random.default_rng(seed)
    n_people = int(rows / 1.25)
    fam = np.array(FAMILY)[rng.integers(0, len(FAMILY), n_people)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n_people)]
    g2 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n_people)]
    g2 = np.where(rng.random(n_people) < 0.7, g2, "")
    name = np.char.add(np.char.add(fam, g1), g2)
    days = rng.integers(0, 80 * 365, n_people).astype("timedelta64[D]")
    born = np.datetime64("1930-01-01") + days
    male = rng.random(n_people) < 0.5
    seq = rng.integers(0, 500, n_people) * 2 + male
    ids = idnumber.make_ids(np.full(n_people, "330226"), born, seq)
    village = np.char.add("330226", rng.integers(100000, 100300, n_people).astype(str))
    who = np.concatenate([np.arange(n_people), rng.integers(0, n_people, rows - n_people)])
    t = pd.DataFrame(
        {"姓名": name[who], "出生日期": pd.Series(born[who]).dt.strftime("%Y-%m-%d"),
         "性别": np.where(male[who], "男", "女"), "村": village[who], "证件号码": ids[who]}
    )  # fmt: skip
    dup = np.arange(len(t)) >= n_people
    r = rng.random(len(t))
    swap = dup & (r < 0.05)
    t.loc[swap, "姓名"] = [s[:-1] + SOUND_ALIKE.get(s[-1], s[-1]) for s in t.loc[swap, "姓名"]]
    r = rng.random(len(t))
    t.loc[dup & (r < 0.05), "出生日期"] = None
    first = dup & (r >= 0.05) & (r < 0.1)
    t.loc[first, "出生日期"] = t.loc[first, "出生日期"].str[:8] + "01"
    stale = dup & (rng.random(len(t)) < 0.1)
    t.loc[stale, "村"] = village[rng.integers(0, n_people, int(stale.sum()))]
    typo = dup & (rng.random(len(t)) < 0.02)
    t.loc[typo, "证件号码"] = [s[:10] + s[11] + s[10] + s[12:] for s in t.loc[typo, "证件号码"]]
    t.loc[rng.random(len(t)) < 0.3, "证件号码"] = None
    order = rng.permutation(len(t))
    return t.iloc[order].reset_index(drop=True), who[order]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-link-"))
    try:
        table, truth = person_table(args.rows, args.seed)
        src = scratch / "people.parquet"
        table.to_parquet(src, index=False)
        out = scratch / "linked.parquet"
        run = stage(
            ["link", "--table", str(src), "--out", str(out), "--workspace", str(scratch / "ws"),
             "--map", "name=姓名,birth_date=出生日期,sex=性别,address=村,id=证件号码"]
        )  # fmt: skip
        res = pd.read_parquet(out, columns=["cluster_id"])
        c = pairwise_counts(res["cluster_id"].to_numpy(), truth)
        result = {"rows": args.rows, "seconds": round(run["seconds"], 1),
                  "peak_gb": round(run["peak_gb"], 2), "precision": c["precision"],
                  "recall": c["recall"]}  # fmt: skip
        report = json.loads((scratch / "ws/data/reports/link-table/latest.json").read_text())
        result["blocking_rules"] = {
            r["rule"]: [r["candidate_pairs"], r["max_candidates_per_record"]]
            for r in report["blocking_rules"]
        }
        print(json.dumps(result))
        return result
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
