"""The model card: what the model is for, what it was trained on, how well and how fairly it works.

:func:`render_model_card` turns a plain dict (assembled by the training command from the
evaluation, fairness and explanation reports) into Markdown, logged with every registered version
and served to auditors. Every section is always present; a part that was not supplied says so
instead of disappearing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from features.vectors.catalogue import FEATURE_SET_VERSION

SECTIONS = (
    "Intended use",
    "Out-of-scope uses",
    "Data",
    "Label",
    "Performance",
    "Calibration",
    "Capacity",
    "Fairness",
    "Explanations",
    "Limits",
    "Version",
)
"""Second-level headings of the card, in order."""

INTENDED_USE = (
    "The model ranks households by the risk of falling into hardship so that caseworkers can "
    "**visit** them before they have to ask for help. It **proposes visits**; a caseworker decides "
    "whom to visit and what to do. Visit priority combines this risk with the eligibility gap "
    "(qualifies, not receiving). The model **never reduces, suspends or denies a benefit**, and no "
    "benefit is granted by it: every decision on assistance follows the normal application and "
    "means test, made by people."
)

OUT_OF_SCOPE = (
    "Deciding eligibility, or reducing, suspending, denying or ending any benefit.",
    "Fraud detection, investigation or any sanction against a household or person.",
    "Judging or ranking caseworkers, villages or townships.",
    "Scoring individual persons, or any use outside social-assistance outreach.",
    "Use in another county, under other policy parameters or another feature-set version "
    "without re-validation (training, calibration and fairness checks on that population).",
)

EXPLANATION = (
    "Each score is explained with exact TreeSHAP contributions from LightGBM "
    "(`pred_contrib`), in **log-odds**: the contributions plus the base value sum to the raw "
    "score (checked per household); calibration is a monotone map applied afterwards. The "
    "reasons shown beside a score are the features pushing that household's risk **up** most "
    "(largest positive contribution), rendered in Chinese and English with the household's own "
    "value from the feature registry. A missing value is never a reason, except for features "
    "where a null has a meaning (e.g. never visited). Explanations describe the model, not the "
    "household's causes of hardship."
)


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:
            return "—"
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.2e}"
        return f"{v:,.3f}"
    if isinstance(v, list | tuple):
        return ", ".join(_fmt(x) for x in v)
    return str(v).replace("|", "\\|").replace("\n", " ")


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        cols += [c for c in row if c not in cols]
    return cols


def _table(rows: Mapping[str, Mapping[str, Any]], first: str) -> list[str]:
    """Rows named by key (e.g. model -> metrics) as a Markdown table."""
    cols = _columns(rows.values())
    out = [f"| {first} | " + " | ".join(cols) + " |", "|" + " --- |" * (len(cols) + 1)]
    for name, row in rows.items():
        out.append(f"| {_fmt(name)} | " + " | ".join(_fmt(row.get(c)) for c in cols) + " |")
    return [*out, ""]


def _records(rows: list[Mapping[str, Any]]) -> list[str]:
    cols = _columns(rows)
    out = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    out += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return [*out, ""]


def _pairs(d: Mapping[str, Any]) -> list[str]:
    return [f"- {k}: {_fmt(v)}" for k, v in d.items()]


def _mixed(d: Mapping[str, Any], first: str) -> list[str]:
    """Scalars as a list, nested dicts as a table."""
    scalars = {k: v for k, v in d.items() if not isinstance(v, Mapping)}
    nested = {k: v for k, v in d.items() if isinstance(v, Mapping)}
    out = _pairs(scalars) + ([""] if scalars else [])
    return out + (_table(nested, first) if nested else [])


def _is_simulated(info: Mapping[str, Any]) -> bool:
    data = info.get("data") or {}
    return bool(info.get("simulated", data.get("source") == "simulated"))


def _data(info: Mapping[str, Any]) -> list[str]:
    data = dict(info.get("data") or {})
    sim = _is_simulated(info)
    out = [
        "Household feature vectors from point-in-time snapshots: each snapshot uses only the "
        "agency records recorded and linked by its as-of date.",
        "",
        f"- Source: {'simulated county (the project simulator)' if sim else 'agency deliveries'}",
        f"- Feature-set version: {_fmt(info.get('feature_set_version', FEATURE_SET_VERSION))}",
    ]
    snaps = data.pop("snapshots", None)
    if snaps:
        out.append(f"- Snapshots: {len(snaps)} ({_fmt(snaps[0])} to {_fmt(snaps[-1])})")
    splits = data.pop("splits", None)
    data.pop("source", None)
    out += _pairs(data) + [""]
    if splits:
        out += ["Splits (the evaluated model):", "", *_table(splits, "split")]
    out += _deployment(info.get("deployment"))
    return out


def _deployment(dep: Mapping[str, Any] | None) -> list[str]:
    """What the deployed model was trained and calibrated on, and how old that is."""
    if not dep or not dep.get("refit"):
        return ["The deployed model is the evaluated model (no refit).", ""]
    train, calib = dep["training_window"], dep["calibration_window"]
    return [
        "**Deployed model: refit.** After selection, the chosen settings "
        f"({_fmt(dep.get('trees'))} trees) were refit on every labelled month and calibrated on "
        "the latest labelled window:",
        "",
        f"- Training window: {_fmt(train['first'])} to {_fmt(train['last'])} "
        f"({_fmt(train['n_dates'])} as-of dates, {_fmt(train['rows'])} rows, "
        f"{_fmt(train['positives'])} positives)",
        f"- Calibration window: {_fmt(calib['first'])} to {_fmt(calib['last'])} "
        f"({_fmt(calib['n_dates'])} as-of dates, {_fmt(calib['rows'])} rows; "
        f"{_fmt(calib.get('households', ''))})",
        f"- Data cutoff: {_fmt(dep.get('data_cutoff'))}; the latest labelled month is "
        f"{_fmt(dep.get('age_months_at_cutoff'))} months older than the cutoff",
        "",
    ]


def _label(info: Mapping[str, Any]) -> list[str]:
    label = dict(info.get("label") or {})
    if not label:
        return ["Not supplied.", ""]
    out = []
    if "definition" in label:
        out += [f"**{_fmt(label.pop('name', 'label'))}**: {label.pop('definition')}", ""]
    gap = label.pop("gap", None)
    out += _pairs(label) + ([""] if label else [])
    out += [
        "The label is what the records can observe (new enrolments, visits finding need), not "
        "true need: households in need that never apply or are never visited count as negatives.",
        "",
    ]
    if isinstance(gap, Mapping):
        out += ["Gap between the observable label and true need:", "", *_pairs(gap), ""]
    elif gap:
        out += [f"Gap between the observable label and true need: {gap}", ""]
    else:
        out += ["The gap to true need was not measured for this version.", ""]
    return out


def _performance(info: Mapping[str, Any]) -> list[str]:
    metrics = info.get("metrics") or {}
    out = []
    observed = metrics.get("observed")
    out += ["### Observable label (test split)", ""]
    out += _table(observed, "model") if observed else ["Not supplied.", ""]
    out += ["### True onset of hardship (simulated ground truth)", ""]
    truth = metrics.get("truth")
    if truth:
        out += _table(truth, "model")
    else:
        out += [
            "Not available: ground truth exists only for simulated data, and none was supplied "
            "for this version.",
            "",
        ]
    return out


def _capacity(info: Mapping[str, Any]) -> list[str]:
    cap = dict(info.get("capacity") or {})
    if not cap:
        return ["Not supplied.", ""]
    note = cap.pop("note", None)
    out = [note, ""] if note else []
    for metric, by_model in cap.items():
        if isinstance(by_model, Mapping) and all(isinstance(v, Mapping) for v in by_model.values()):
            out += [f"**{metric}** at capacity (share of households visited):", ""]
            out += _table(by_model, "model")
        else:
            out.append(f"- {metric}: {_fmt(by_model)}")
    return out if out and out[-1] == "" else [*out, ""]


def _fairness(info: Mapping[str, Any]) -> list[str]:
    fair = dict(info.get("fairness") or {})
    if not fair:
        return [
            "No fairness report was supplied for this version: it must not be promoted until one "
            "is reviewed.",
            "",
        ]
    out = []
    if summary := fair.pop("summary", None):
        out += [summary, ""]
    flagged = fair.pop("flagged", None) or []
    groups = fair.pop("groups", None)
    out += _pairs(fair) + ([""] if fair else [])
    if flagged:
        out += [f"**Flagged groups ({len(flagged)})**:", "", *_records(list(flagged))]
    else:
        out += ["No group was flagged.", ""]
    if groups:
        out += ["All groups:", "", *_records(list(groups))]
    return out


def _explanations(info: Mapping[str, Any]) -> list[str]:
    exp = info.get("explanation") or {}
    out = [exp.get("method", EXPLANATION), ""]
    top = exp.get("top_features")
    if top:
        out += ["Global importance (mean |SHAP|, log-odds):", "", *_records(list(top))]
    return out


def _limits(info: Mapping[str, Any]) -> list[str]:
    sim = _is_simulated(info)
    out = [
        "- **Selective labels.** Outcomes exist only where a household applied or was visited; "
        "the model learns who gets noticed as well as who is in need. A random share of every "
        "list explores to keep the feedback honest.",
        "- **Label lag.** Enrolments and visit outcomes arrive months after the hardship starts, "
        "so the newest snapshots have incomplete labels and the model always trails the present.",
        "- **Simulated data.** "
        + (
            "This version was trained and evaluated on a simulated county; its figures show the "
            "method works where the simulator's assumptions hold, not that it works on real "
            "households."
            if sim
            else "Figures measured on simulated data do not transfer; those above are from "
            "agency data."
        ),
        "- **Linkage confidence.** Records are joined to households by probabilistic linkage; "
        "a wrong link moves a record to another household. Households with low-confidence "
        "links are flagged for checking by hand.",
    ]
    linkage = info.get("linkage")
    if linkage:
        out += [f"  - {k}: {_fmt(v)}" for k, v in linkage.items()]
    out += [f"- {x}" for x in info.get("limits") or ()]
    return [*out, ""]


def render_model_card(info: Mapping[str, Any]) -> str:
    """Render the model card as Markdown.

    Args:
        info: a plain dict; only ``name`` and ``version`` are expected, every other key is
            optional (its section says "not supplied"). Keys:

            - ``name`` (str), ``version`` (str | int), ``date`` (ISO date of training),
              ``run_id`` (str), ``feature_set_version`` (default: the registry's),
              ``model`` (dict of scalars, e.g. ``{"type": "LightGBM", "trees": 300}``).
            - ``simulated`` (bool; default ``data["source"] == "simulated"``).
            - ``data``: ``{"source": "simulated" | "agency", "snapshots": [as-of dates],
              "splits": {split: {column: value}}, ...other scalars}``.
            - ``label``: ``{"name", "definition", "horizon_months", ..., "gap": dict | str}``;
              ``gap`` measures the observable label against true need.
            - ``metrics``: ``{"observed": {model: {metric: value}}, "truth": {model: {metric:
              value}}}`` for the model and its baselines; ``truth`` (true onset, simulated
              data only) may be absent.
            - ``calibration``: scalars (``method``, ``brier``...) and/or ``{name: {metric:
              value}}`` tables.
            - ``capacity``: ``{metric: {model: {capacity: value}}}`` (e.g. recall at the top 5 %
              of each township) and an optional ``note``.
            - ``fairness``: ``{"summary": str, "flagged": [dict], "groups": [dict], ...scalars}``;
              absent: the card says no report was supplied.
            - ``explanation``: ``{"method": str, "top_features": [dict]}`` (both optional).
            - ``deployment``: the refit (:func:`training.refit.refit_for_deployment`): ``refit``,
              ``trees``, ``training_window`` and ``calibration_window`` (``first``, ``last``,
              ``n_dates``, ``rows``, ``positives``), ``data_cutoff``, ``age_months_at_cutoff``.
            - ``linkage``: scalars on link quality (e.g. ``low_confidence_share``).
            - ``limits``: extra limits (list of str).

    Returns:
        Markdown with the headings of :data:`SECTIONS`, in order.
    """
    name, version = info.get("name", "model"), info.get("version", "?")
    out = [f"# Model card: {_fmt(name)} (version {_fmt(version)})", ""]
    if info.get("date"):
        out += [f"Trained {_fmt(info['date'])}.", ""]
    if _is_simulated(info):
        out += ["> Trained and evaluated on **simulated** data.", ""]
    parts = {
        "Intended use": [INTENDED_USE, ""],
        "Out-of-scope uses": [*(f"- {x}" for x in OUT_OF_SCOPE), ""],
        "Data": _data(info),
        "Label": _label(info),
        "Performance": _performance(info),
        "Calibration": _mixed(info["calibration"], "score")
        if info.get("calibration")
        else ["Not supplied.", ""],
        "Capacity": _capacity(info),
        "Fairness": _fairness(info),
        "Explanations": _explanations(info),
        "Limits": _limits(info),
        "Version": _pairs(
            {
                "model": name,
                "version": version,
                "date": info.get("date"),
                "run id": info.get("run_id"),
                "feature-set version": info.get("feature_set_version", FEATURE_SET_VERSION),
                **(info.get("model") or {}),
            }
        )
        + [""],
    }
    for title in SECTIONS:
        out += [f"## {title}", "", *parts[title]]
    return "\n".join(out).rstrip() + "\n"
