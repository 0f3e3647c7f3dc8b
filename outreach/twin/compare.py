"""Policies compared on the same worlds: paired differences over seeds, with 95 % intervals.

Each seed is one world; every policy runs on it from the same checkpoint with common random
numbers, so a policy's difference from another on that world is a paired difference. Over K
seeds the mean difference gets a t interval with K - 1 degrees of freedom (with one seed, no
interval). The headline is the **unassisted hardship household-months removed** against status
quo; beside it: undiscovered need reached, recall over the last three loop months, time to
help, visits per household newly assisted (also against status quo: extra list visits per
extra household assisted).

Writes ``<out>/compare.json`` (every figure, per seed and pooled, and when it finished, in UTC)
and two plots:
``<out>/cumulative-unassisted.png`` and ``<out>/time-to-help.png``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from outreach.twin.loop import TwinOptions, run_policy
from outreach.twin.policies import Policy

HEADLINES = (
    "unassisted_hardship_household_months",
    "undiscovered_need_reached",
    "undiscovered_need_reached_found_in_need",
    "silent_reached",
    "undiscovered_need_recall_last3",
    "list_visits",
    "list_visits_finding_need_share",
    "newly_assisted_households",
)


def interval(values: list[float]) -> dict[str, Any]:
    """Mean and 95 % t interval over seeds (no interval with fewer than two).

    >>> interval([1.0, 2.0, 3.0])["ci95"]
    [-0.484, 4.484]
    """
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return {"mean": None, "ci95": [None, None], "seeds": 0}
    mean = float(v.mean())
    if len(v) < 2:
        return {"mean": round(mean, 4), "ci95": [None, None], "seeds": 1}
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return {"mean": round(mean, 4), "ci95": [round(mean - half, 3), round(mean + half, 3)],
            "seeds": int(len(v))}  # fmt: skip


def _helped(results: dict[str, Any], k: int) -> float | None:
    return results["time_to_help"].get(f"helped_within_{k}m")


def summarize(per_seed: dict[int, dict[str, dict[str, Any]]], names: list[str]) -> dict[str, Any]:
    """Pooled figures and paired differences from ``{seed: {policy: results}}``."""
    seeds = sorted(per_seed)
    pooled: dict[str, Any] = {}
    for name in names:
        rows = [per_seed[s][name] for s in seeds]
        pooled[name] = {h: interval([r[h] for r in rows]) for h in HEADLINES}
        pooled[name]["helped_within_6m"] = interval([_helped(r, 6) for r in rows])
    paired: dict[str, Any] = {}
    for ref in ("status-quo", "rules"):
        if ref not in names:
            continue
        for name in names:
            if name == ref or name == "status-quo":  # nothing is compared against no lists
                continue
            a = [per_seed[s][ref] for s in seeds]
            b = [per_seed[s][name] for s in seeds]
            key = "unassisted_hardship_household_months"
            removed = [x[key] - y[key] for x, y in zip(a, b, strict=True)]
            reached = [y["undiscovered_need_reached"] - x["undiscovered_need_reached"]
                       for x, y in zip(a, b, strict=True)]  # fmt: skip
            entry = {"unassisted_months_removed": interval(removed),
                     "undiscovered_need_reached_more": interval(reached)}  # fmt: skip
            if ref == "status-quo":
                extra = [
                    (y["list_visits"] / (y["newly_assisted_households"]
                                         - x["newly_assisted_households"]))
                    if y["newly_assisted_households"] > x["newly_assisted_households"]
                    else None
                    for x, y in zip(a, b, strict=True)
                ]  # fmt: skip
                entry["list_visits_per_extra_household_assisted"] = interval(extra)
            paired[f"{name} vs {ref}"] = entry
    return {"seeds": seeds, "pooled": pooled, "paired": paired}


def compare(
    options: TwinOptions,
    policies: list[Policy],
    seeds: int,
    params,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run every policy on worlds ``options.seed .. options.seed + seeds - 1`` and compare."""
    say = say or (lambda _msg: None)
    names = [p.name for p in policies]
    per_seed: dict[int, dict[str, dict[str, Any]]] = {}
    seconds: dict[str, list[float]] = {n: [] for n in names}
    for seed in range(options.seed, options.seed + seeds):
        per_seed[seed] = {}
        for policy in policies:
            report = run_policy(replace(options, policy=policy.name, seed=seed), params, say)
            per_seed[seed][policy.name] = report.results
            seconds[policy.name].append(sum(report.seconds.values()))
    summary = summarize(per_seed, names) | {
        "policies": {
            p.name: {"version": p.version, "description": p.description} for p in policies
        },
        "options": {k: v for k, v in options.world_key().items() if k != "seed"}
        | {"months": options.months, "first_seed": options.seed},
        "per_seed": {str(s): per_seed[s] for s in per_seed},
        "seconds": seconds,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    plot(summary, Path(options.out))
    return summary


def plot(summary: dict[str, Any], out: Path) -> list[Path]:
    """Cumulative unassisted hardship months and time-to-help curves, mean over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    per_seed = summary["per_seed"]
    names = list(summary["policies"])
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        series = [np.cumsum(list(per_seed[s][name]["unassisted_by_month"].values()))
                  for s in per_seed]  # fmt: skip
        ax.plot(np.arange(1, len(series[0]) + 1), np.mean(series, axis=0), label=name)
    ax.set_xlabel("loop month")
    ax.set_ylabel("unassisted hardship household-months (cumulative)")
    ax.legend()
    fig.tight_layout()
    paths.append(out / "cumulative-unassisted.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        curves = [per_seed[s][name]["time_to_help"]["survival"] for s in per_seed]
        curves = [c for c in curves if c]
        if curves:
            helped = 1 - np.mean([c[: min(map(len, curves))] for c in curves], axis=0)
            ax.step(np.arange(1, len(helped) + 1), helped, where="post", label=name)
    ax.set_xlabel("months since silent hardship began")
    ax.set_ylabel("share enrolled (Kaplan-Meier)")
    ax.legend()
    fig.tight_layout()
    paths.append(out / "time-to-help.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths
