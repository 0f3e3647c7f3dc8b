"""Evaluation plots logged with every training run (PNG, matplotlib's Agg backend).

Pure drawing: each function takes plain arrays or the JSON-ready metrics and writes one file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def calibration_plot(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: Path, bins=20):
    """Observed rate against mean predicted probability in equal-mass bins, one line per score.

    Args:
        curves: name -> (label 0/1, probability).
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 5))
    top = 0.0
    for name, (label, prob) in curves.items():
        label, prob = np.asarray(label, float), np.asarray(prob, float)
        order = np.argsort(prob, kind="stable")
        parts = np.array_split(order, bins)
        x = [prob[p].mean() for p in parts if len(p)]
        y = [label[p].mean() for p in parts if len(p)]
        top = max(top, max(x), max(y))
        ax.plot(x, y, marker="o", ms=3, label=name)
    ax.plot([0, top], [0, top], ls="--", color="grey", lw=1, label="perfect")
    ax.set_xlabel("mean predicted probability (20 equal-mass bins)")
    ax.set_ylabel("observed rate")
    ax.set_title("Calibration on the test split")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def capacity_plot(recall: Mapping[str, Mapping[str, float]], path: Path, title: str):
    """Recall at per-township capacity: ``recall[name][capacity] = value`` (capacity as '0.05')."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, by_cap in recall.items():
        caps = sorted(by_cap, key=float)
        ax.plot([float(c) * 100 for c in caps], [by_cap[c] for c in caps], marker="o", label=name)
    ax.set_xlabel("capacity: top % of each township's households")
    ax.set_ylabel("recall")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def fairness_markdown(rows: list[Mapping]) -> str:
    """The fairness table as Markdown (rows: group, value, n, positives, recall, ratio, ci...)."""
    if not rows:
        return "No fairness rows.\n"
    cols = list(rows[0].keys())
    out = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"
