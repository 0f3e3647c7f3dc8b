"""``outreach train`` and ``outreach drift``: the hardship model and its drift report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import ConfigError
from core.reports import write_report
from outreach.cli.app import app
from outreach.cli.common import (
    Workspace,
    as_of_dates,
    new_console,
    parse_day,
    progress_bar,
    settings_for,
)

if TYPE_CHECKING:
    from training.stage import TableReport, TrainReport


@app.command()
def train(
    as_of: Annotated[
        list[str] | None,
        typer.Option("--as-of", help="Snapshot dates to use (default: every snapshot)."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First snapshot date to use (with --to).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last snapshot date to use.")] = None,
    table: Annotated[
        Path | None,
        typer.Option(
            "--table",
            help="Train and evaluate on this household table (CSV or Parquet) instead of the "
            "snapshots; nothing is registered.",
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", help="With --table: the label column (0/1 or true/false)."),
    ] = None,
    id_: Annotated[
        str | None, typer.Option("--id", help="With --table: the unique household id column.")
    ] = None,
    time: Annotated[
        str | None,
        typer.Option(
            "--time",
            help="With --table: a date or number column; test on the latest 20%, validate on "
            "the 20% before (default: 5-fold stratified cross-validation).",
        ),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group", help="With --table: report lists and fairness by this column; repeatable."
        ),
    ] = None,
    positive: Annotated[
        str | None,
        typer.Option(
            "--positive",
            help="With --table: the label classes that count as hardship, comma-separated.",
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="With --table: list every dropped column, one a line."),
    ] = False,
    need_now: Annotated[
        bool,
        typer.Option(
            "--need-now",
            help="Train the need-now model on visit outcomes (selection-corrected) instead; "
            "saved under models/need-now/<cutoff>, not registered.",
        ),
    ] = False,
    workspace: Workspace = None,
) -> None:
    """Train the hardship model on the snapshots, evaluate it, log and register it in MLflow
    (or train and evaluate on any household table with --table, or the need-now model with
    --need-now)."""
    from training import stage
    from training.table_columns import parse_positive

    settings = settings_for(workspace)
    table_flags = [f for f, v in (("--label", label), ("--id", id_), ("--time", time),
                                  ("--group", group), ("--positive", positive)) if v]  # fmt: skip
    if table is None and table_flags:
        raise ConfigError(f"{', '.join(table_flags)} need --table")
    console = new_console()
    if need_now and table is not None:
        raise ConfigError("--need-now trains on the snapshots: it does not take --table")
    if table is not None:
        if as_of or start or end:
            raise ConfigError("--as-of, --from and --to do not apply to --table")
        if label is None or id_ is None:
            raise ConfigError("--table needs --label and --id")
        options = stage.TableOptions(
            table, label, id_, time, tuple(group or ()), parse_positive(positive)
        )
        with progress_bar(console, "train") as bar:
            bar.add_task(table.name, total=None)
            report = stage.run_table(settings, options)
        path = write_report(settings.reports_dir, stage.TRAIN_TABLE, report.as_dict())
        _print_table(console, report, table.name, verbose)
        console.print(f"report: {path}")
        return
    dates = as_of_dates(as_of, start, end) if (as_of or start or end) else None
    options = stage.TrainOptions(tuple(dates) if dates else None)
    if need_now:
        with progress_bar(console, "train") as bar:
            bar.add_task("need-now", total=None)
            body = stage.run_need_now(settings, options)
        path = write_report(settings.reports_dir, stage.TRAIN_NEED_NOW, body)
        _print_need_now(console, body)
        console.print(f"report: {path}")
        return
    with progress_bar(console, "train") as bar:
        task = bar.add_task("", total=None)
        report = stage.run(settings, options, progress=lambda m: bar.update(task, description=m))
    path = write_report(settings.reports_dir, stage.TRAIN, report.as_dict())
    _print_train(console, report)
    console.print(f"evaluation: {path}")


def _print_table(console: Console, report: TableReport, name: str, verbose: bool = False) -> None:
    v, r = report.validation, report.rows
    out = Table(title=f"{name}: {v['method']}, evaluated on {v['evaluated_on']}")
    for c in ("score", "ROC-AUC", "PR-AUC", "Brier", "ECE", "slope", "precision@5%",
              "recall@5%"):  # fmt: skip
        out.add_column(c, justify="left" if c == "score" else "right")
    for score, m in report.metrics["scores"].items():
        cap = m["capacity"].get("0.05", {}).get("county", {})
        out.add_row(score, *("" if x is None else f"{x:.3f}" for x in (
            m["roc_auc"], m["pr_auc"], m["brier"], m["ece"], m["calibration_slope"],
            cap.get("precision"), cap.get("recall"))))  # fmt: skip
    console.print(out)
    n_features = len(report.features["numeric"]) + len(report.features["categorical"])
    console.print(
        f"rows used {r['used']:,} of {r['read']:,} ({r['positive']:,} positive); "
        f"features {n_features}"
    )
    for line in note_lines(report.notes, report.features.get("dropped", []), verbose):
        console.print(line, markup=False, highlight=False)


MAX_NAMES = 3
"""Dropped columns named per reason in the summary line (``--verbose`` names them all)."""


def _print_need_now(console: Console, body: dict) -> None:
    """The need-now run in a few lines: months, rows per channel, the exploration check."""
    console.print(
        f"need-now model {body['version']}: cutoff {body['cutoff']}, "
        f"{len(body['train_months'])} training months, validated on "
        f"{', '.join(body['valid_months'])}"
    )
    t = Table("channel", "visits labelled", "found in need")
    for channel, row in body["labels_by_channel"].items():
        t.add_row(channel, f"{row['rows']:,}", f"{row['in_need_rate']:.3f}")
    console.print(t)
    checks = Table("model", "exploration rows", "AUC", "ECE", "slope")

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for name, c in body["checks"].items():
        checks.add_row(name, str(c["rows"]), fmt(c["roc_auc"]), fmt(c["ece"]),
                       fmt(c["calibration_slope"]))  # fmt: skip
    console.print(checks)
    console.print(f"model: {body['model_path']}")


def note_lines(notes: list[str], dropped: list[dict], verbose: bool = False) -> list[str]:
    """The notes as printed, each once: the dropped columns summarised in one line (every one
    on its own line with ``verbose``), then the other notes.

    Example:
        >>> note_lines(["dropped column 'a': constant", "x"], [{"column": "a",
        ...     "reason": "constant"}])
        ['note: 1 column dropped: constant (a)', 'note: x']
    """
    about = {f"dropped column '{d['column']}': {d['reason']}" for d in dropped}
    others = [n for n in dict.fromkeys(notes) if n not in about]
    columns = list({d["column"]: d for d in dropped}.values())
    out = []
    if columns and verbose:
        out += [f"note: dropped column '{d['column']}': {d['reason']}" for d in columns]
    elif columns:
        by_reason: dict[str, list[str]] = {}
        for d in columns:
            by_reason.setdefault(d["reason"], []).append(d["column"])
        parts = []
        for reason, names in by_reason.items():
            shown = ", ".join(names[:MAX_NAMES]) + (", …" if len(names) > MAX_NAMES else "")
            parts.append(f"{reason} ({len(names)}: {shown})" if len(names) > 1
                         else f"{reason} ({shown})")  # fmt: skip
        word = "column" if len(columns) == 1 else "columns"
        more = "" if verbose else " (--verbose lists them)" if len(columns) > MAX_NAMES else ""
        out.append(f"note: {len(columns)} {word} dropped: {'; '.join(parts)}{more}")
    return out + [f"note: {n}" for n in others]


def _print_train(console: Console, report: TrainReport) -> None:
    m = report.metrics
    table = Table(title="Test split: observable label (and true onset, on simulated data)")
    cols = ("score", "ROC-AUC", "PR-AUC", "ECE", "slope", "recall@5%", "true-onset AUC",
            "true recall@5%", "silent found@5%")  # fmt: skip
    for c in cols:
        table.add_column(c, justify="left" if c == "score" else "right")

    def f(v) -> str:
        return "" if v is None else f"{v:.3f}"

    truth = (m.get("truth") or {}).get("scores", {})
    names = list(m["observed"]["scores"]) + [n for n in truth if n not in m["observed"]["scores"]]
    for name in names:
        o = m["observed"]["scores"].get(name, {})
        t = truth.get(name, {})
        oc = o.get("capacity", {}).get("0.05", {})
        tc = t.get("capacity", {}).get("0.05", {})
        table.add_row(name, f(o.get("roc_auc")), f(o.get("pr_auc")), f(o.get("ece")),
                      f(o.get("calibration_slope")), f(oc.get("recall")), f(t.get("roc_auc")),
                      f(tc.get("recall")), f(tc.get("silent_found_share")))  # fmt: skip
    console.print(table)
    if "gap" in m:
        g = m["gap"]
        console.print(
            f"AUC on the observable label {g['auc_observed']:.3f} vs on true onset "
            f"{g['auc_true_onset']:.3f} (gap {g['auc_observed_minus_true']:+.3f})"
        )
    r = report.registered
    console.print(f"model version {r['version']}: {r['alias']} ({r['reason']})")


@app.command()
def drift(
    as_of: Annotated[str, typer.Option("--as-of", help="The snapshot date to compare.")],
    workspace: Workspace = None,
) -> None:
    """Compare a snapshot with the champion's reference distributions (PSI per feature)."""
    from training import stage

    settings = settings_for(workspace)
    day = parse_day(as_of, "--as-of")
    report = stage.run_drift(settings, stage.DriftOptions(day))
    out = write_report(settings.reports_dir, stage.DRIFT, report.as_dict())
    console = new_console()
    table = Table(title=f"Drift of {day} against model version {report.model_version}'s "
                  "reference (PSI)")  # fmt: skip
    for c in ("feature", "PSI", "band"):
        table.add_column(c, justify="right" if c == "PSI" else "left")
    score = report.psi.get("score")
    if score:
        table.add_row("(score)", f"{score['psi']:.3f}", score["band"])
    for row in report.psi["features"][:15]:
        table.add_row(row["feature"], f"{row['psi']:.3f}", row["band"])
    console.print(table)
    console.print(report.label_lag["note"])
    console.print(f"report: {out}")
