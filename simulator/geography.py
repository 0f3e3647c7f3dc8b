"""Geography of the simulated county: townships and villages with real-format division codes.

Codes are strings: 6-digit county, 9-digit township (county + 3 digits), 12-digit village
(township + 3 digits). Communities (居委会) take village suffixes 001-099, administrative villages
(村委会) 200 and up, as in the national statistical division codes. The default county is modeled
on Ninghai County, Zhejiang (330226): its 18 township-level units by name, with illustrative
suffixes, population weights and remoteness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# (name_zh, name_en, kind, suffix, population weight, remoteness 0..1)
NINGHAI_TOWNSHIPS: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("跃龙街道", "Yuelong", "subdistrict", "001", 0.130, 0.00),
    ("桃源街道", "Taoyuan", "subdistrict", "002", 0.110, 0.05),
    ("梅林街道", "Meilin", "subdistrict", "003", 0.070, 0.15),
    ("桥头胡街道", "Qiaotouhu", "subdistrict", "004", 0.060, 0.15),
    ("长街镇", "Changjie", "town", "101", 0.075, 0.55),
    ("力洋镇", "Liyang", "town", "102", 0.045, 0.55),
    ("一市镇", "Yishi", "town", "103", 0.045, 0.60),
    ("岔路镇", "Chalu", "town", "104", 0.045, 0.70),
    ("前童镇", "Qiantong", "town", "105", 0.040, 0.45),
    ("桑洲镇", "Sangzhou", "town", "106", 0.025, 0.90),
    ("黄坛镇", "Huangtan", "town", "107", 0.040, 0.65),
    ("大佳何镇", "Dajiahe", "town", "108", 0.040, 0.50),
    ("强蛟镇", "Qiangjiao", "town", "109", 0.030, 0.50),
    ("西店镇", "Xidian", "town", "110", 0.070, 0.35),
    ("深甽镇", "Shenzhen", "town", "111", 0.055, 0.45),
    ("胡陈乡", "Huchen", "township", "201", 0.025, 0.75),
    ("茶院乡", "Chayuan", "township", "202", 0.025, 0.70),
    ("越溪乡", "Yuexi", "township", "203", 0.025, 0.65),
)

VILLAGES_AT_FULL_SCALE = 385  # about 360 administrative villages and 25 communities
HOUSEHOLDS_PER_VILLAGE_MIN = 40


@dataclass(frozen=True)
class Geography:
    """Townships and villages as aligned arrays (index = position in the table)."""

    townships: pd.DataFrame  # township_code, name_zh, name_en, kind, weight, remoteness
    villages: pd.DataFrame  # village_code, township_idx, township_code, urban, remoteness, weight


def build_geography(county_code: str, households: int, rng: np.random.Generator) -> Geography:
    """Lay out the county's townships and villages for a world of ``households`` households.

    The number of villages grows with the world (about one per 50 households) up to the real
    county's count, so small test worlds still have several households per village.
    """
    rows = [
        {
            "township_code": county_code + suffix,
            "name_zh": zh,
            "name_en": en,
            "kind": kind,
            "weight": weight,
            "remoteness": remote,
        }
        for zh, en, kind, suffix, weight, remote in NINGHAI_TOWNSHIPS
    ]
    towns = pd.DataFrame(rows)
    towns["weight"] = towns["weight"] / towns["weight"].sum()
    n_villages = int(
        np.clip(households // HOUSEHOLDS_PER_VILLAGE_MIN, 2 * len(towns), VILLAGES_AT_FULL_SCALE)
    )
    per_town = np.maximum(2, np.round(towns["weight"].to_numpy() * n_villages)).astype(int)
    villages = []
    for t_idx, town in towns.iterrows():
        k = int(per_town[t_idx])
        if town["kind"] == "subdistrict":
            n_comm = max(1, int(round(k * 0.7)))
        elif town["kind"] == "town":
            n_comm = 1
        else:
            n_comm = 0
        for j in range(k):
            community = j < n_comm
            suffix = f"{j + 1:03d}" if community else f"{200 + j - n_comm:03d}"
            remote = float(
                np.clip(town["remoteness"] + rng.normal(0, 0.08) + (0 if community else 0.1), 0, 1)
            )
            villages.append(
                {
                    "village_code": town["township_code"] + suffix,
                    "township_idx": t_idx,
                    "township_code": town["township_code"],
                    "urban": community,
                    "remoteness": round(remote, 3),
                    # communities are denser than villages
                    "weight": float(rng.uniform(0.6, 1.4) * (1.6 if community else 1.0)),
                }
            )
    vill = pd.DataFrame(villages)
    # household weight: township share split over its villages
    vill["weight"] = vill["weight"] / vill.groupby("township_idx")["weight"].transform("sum")
    vill["weight"] = vill["weight"] * towns["weight"].to_numpy()[vill["township_idx"].to_numpy()]
    return Geography(townships=towns, villages=vill)
