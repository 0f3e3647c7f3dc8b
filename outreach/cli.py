"""The ``outreach`` command line: one sub-command per pipeline stage.

Every command takes ``--workspace``; user errors print one line on stderr and exit non-zero.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from core.errors import OutreachError
from core.settings import Settings, load_settings
from outreach.cli_options import Workspace

app = typer.Typer(
    name="outreach",
    help="Outreach: find households sliding into hardship before they have to ask for help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


from serving.outcomes_cli import outcomes_app  # noqa: E402

app.add_typer(outcomes_app, name="outcomes")


def _settings(workspace: Path | None) -> Settings:
    return load_settings(workspace)


def _console() -> Console:
    return Console(stderr=False)


@app.command()
def simulate(
    households: Annotated[int, typer.Option(help="Households at the start.")] = 20_000,
    months: Annotated[int, typer.Option(help="Months to deliver, from 2023-01.")] = 36,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default: <workspace>/data/raw)."),
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            "--rate",
            help="Defect-rate override AGENCY.DEFECT=VALUE (AGENCY may be '*'); repeatable.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing simulation in --out.")] = False,
    workspace: Workspace = None,
) -> None:
    """Simulate a county observed by its agencies: monthly deliveries plus the ground truth."""
    from policies.parameters import load_parameters
    from simulator.config import build_config
    from simulator.simulation import simulate as run_simulation

    settings = _settings(workspace)
    config = build_config(households, months, seed, rate)
    params = load_parameters(settings.params_dir)
    target = out if out is not None else settings.raw_dir
    console = _console()
    with _bar(console, "simulate") as bar:
        task = bar.add_task("months (incl. burn-in)", total=None)

        def progress(_: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_simulation(config, params, target, force=force, progress=progress)
    if result.reused:
        console.print(f"{result.out} already holds this simulation; nothing to do.")
    _print_summary(console, result.manifest, result.out)


def _print_summary(console: Console, manifest: dict, out: Path) -> None:
    s = manifest["summary"]
    c = manifest["config"]
    table = Table(title=f"Simulated county {c['county_code']} (seed {c['seed']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("households at start", f"{c['households']:,}"),
        ("households ever", f"{manifest['counts']['households_ever']:,}"),
        ("persons ever", f"{manifest['counts']['persons_ever']:,}"),
        ("months delivered", f"{s['months']} from {c['start_month']}"),
        ("hardship share of household-months", f"{s['hardship_share']:.2%}"),
        ("onset share of household-months", f"{s['onset_share']:.2%}"),
        ("silent share of hardship months", f"{s['silent_share_of_hardship']:.1%}"),
        ("enrolled (dibao or tekun)", f"{s['enrolled_share']:.2%}"),
        (
            "mean p_onset_6m",
            "n/a" if s["mean_p_onset_6m"] is None else f"{s['mean_p_onset_6m']:.3f}",
        ),
    ]
    for agency, n in manifest["counts"]["records_by_agency"].items():
        rows.append((f"records: {agency}", f"{n:,}"))
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    console.print(f"written to {out} (manifest: {out / 'manifest.json'})")


@app.command()
def contracts(
    check: Annotated[
        bool, typer.Option(help="Fail if the file differs from the code instead of writing it.")
    ] = False,
    path: Annotated[Path, typer.Option(help="Where the Markdown goes.")] = Path(
        "docs/data-contracts.md"
    ),
    workspace: Workspace = None,
) -> None:
    """Render the agency data contracts to Markdown (docs/data-contracts.md)."""
    from core.contracts import render_markdown
    from core.errors import DataContractError

    text = render_markdown() + "\n"
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise DataContractError(f"{path} is out of date; run `outreach contracts`")
        typer.echo(f"{path} is up to date")
        return
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")


def _bar(console: Console, label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}[/bold] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def _write_report(settings: Settings, stage: str, report: dict) -> Path:
    """Write a stage's JSON report to ``reports/<stage>/<UTC time>.json`` and ``latest.json``."""
    import json
    from datetime import UTC, datetime

    folder = settings.reports_dir / stage
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    text = json.dumps(report, ensure_ascii=False, indent=2, default=str)
    path = folder / f"{stamp}.json"
    path.write_text(text, encoding="utf-8")
    (folder / "latest.json").write_text(text, encoding="utf-8")
    return path


@app.command()
def ingest(
    raw: Annotated[
        Path | None,
        typer.Option(
            help="Folder holding agencies/<agency>/<YYYY-MM>.parquet|csv "
            "(default: <workspace>/data/raw)."
        ),
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="Encoding of CSV deliveries: auto (UTF-8, else GBK), utf-8 or gbk.")
    ] = "auto",
    workspace: Workspace = None,
) -> None:
    """Validate agency deliveries into the warehouse: quarantine bad rows, reconcile every file."""
    from features import warehouse
    from features.ingest import ingest as run_ingest
    from features.ingest import summarize
    from features.pseudonym import load_pseudonymizer

    settings = _settings(workspace)
    source = raw if raw is not None else settings.raw_dir
    keys = load_pseudonymizer(settings.secret_path)
    console = _console()
    with warehouse.connect(settings.warehouse_path) as con, _bar(console, "ingest") as bar:
        task = bar.add_task("deliveries", total=None)
        results = run_ingest(
            con, source, keys, encoding,
            progress=lambda done, total, agency: bar.update(
                task, completed=done, total=total, description=agency
            ),
        )  # fmt: skip
    report = summarize(results)
    path = _write_report(settings, "ingest", report)
    _print_ingest(console, report)
    for line in report["rejected"]:
        print(f"rejected: {line}", file=sys.stderr)
    console.print(f"report: {path}")
    if not report["reconciles"]:
        raise OutreachError("the reconciliation failed: received != accepted + quarantined")
    if report["rejected"]:
        raise OutreachError(f"{len(report['rejected'])} deliveries rejected (see above)")


def _print_ingest(console: Console, report: dict) -> None:
    table = Table(title="Reconciliation: rows received = accepted + quarantined")
    for col in ("agency", "files", "new", "unchanged", "rejected", "received", "accepted",
                "quarantined"):  # fmt: skip
        table.add_column(col, justify="left" if col == "agency" else "right")
    for agency, a in report["by_agency"].items():
        table.add_row(
            agency, str(a["deliveries"]), str(a["accepted"]), str(a["unchanged"]),
            str(a["rejected"]), f"{a['rows_received']:,}", f"{a['rows_accepted']:,}",
            f"{a['rows_quarantined']:,}",
        )  # fmt: skip
    console.print(table)
    if report["quarantine_by_reason"]:
        reasons = Table(title="Quarantined rows by reason")
        reasons.add_column("reason")
        reasons.add_column("rows", justify="right")
        reasons.add_column("meaning")
        for k, v in report["quarantine_by_reason"].items():
            reasons.add_row(k, f"{v:,}", report["reason_codes"][k])
        console.print(reasons)


@app.command()
def link(
    table: Annotated[
        Path | None,
        typer.Option(help="Link this person table (CSV or Parquet) instead of the warehouse."),
    ] = None,
    map_: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="With --table: name=COL,birth_date=COL,sex=COL,address=COL[,id=COL] (any subset).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="With --table: the output file (.csv or .parquet).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="With a CSV --table: auto, utf-8 or gbk.")] = "auto",
    retrain: Annotated[
        bool, typer.Option(help="Learn the match model again instead of reusing the saved one.")
    ] = False,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Simulator truth to measure against (default: <raw>/truth of the last ingest, "
            "when present)."
        ),
    ] = None,
    workspace: Workspace = None,
) -> None:
    """Resolve records to persons and persons to households (or deduplicate any person table)."""
    from features.pseudonym import load_pseudonymizer

    settings = _settings(workspace)
    keys = load_pseudonymizer(settings.secret_path)
    console = _console()
    if table is not None or map_ is not None or out is not None:
        _link_table(console, settings, keys, table, map_, out, encoding)
        return
    from features import warehouse
    from features.linkage import link as run_link

    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    if truth is not None and not (truth / "records").is_dir():
        raise OutreachError(f"--truth {truth} has no records/ folder")
    with warehouse.connect(settings.warehouse_path) as con, _bar(console, "link") as bar:
        if truth is None:
            row = warehouse.fetch_one(con, "SELECT value FROM meta WHERE key = 'raw_dir'")
            truth = Path(row[0]) / "truth" if row else None
        task = bar.add_task("", total=None)
        report = run_link(
            con,
            keys,
            settings.data_dir / "linkage" / "model.json",
            retrain=retrain,
            truth_dir=truth if truth is not None and truth.is_dir() else None,
            progress=lambda msg: bar.update(task, description=msg),
        )
    data = report.as_dict()
    path = _write_report(settings, "link", data)
    _print_link(console, data)
    console.print(f"report: {path}")


def _link_table(console, settings, keys, table, map_, out, encoding) -> None:
    from core.errors import ConfigError
    from features.ingest import read_table
    from features.linkage import link_table, parse_map

    if table is None or map_ is None or out is None:
        raise ConfigError("--table, --map and --out go together")
    if out.suffix not in (".csv", ".parquet"):
        raise ConfigError("--out must end in .csv or .parquet")
    if out.resolve() == table.resolve():
        raise ConfigError("--out must differ from --table (the input is never changed)")
    frame = read_table(table, encoding)
    mapping = parse_map(map_, list(frame.columns))
    with _bar(console, "link") as bar:
        bar.add_task(f"{len(frame):,} rows", total=None)
        result, notes = link_table(frame, mapping, keys)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        result.to_csv(out, index=False, encoding="utf-8")
    else:
        result.to_parquet(out, index=False)
    table_ = Table(title=f"Linked {table.name}")
    table_.add_column("figure")
    table_.add_column("value", justify="right")
    for k, v in notes.items():
        table_.add_row(k, str(v))
    console.print(table_)
    path = _write_report(settings, "link-table", {"input": table.name, "output": str(out), **notes})
    console.print(f"wrote {out} (report: {path})")


def _print_link(console: Console, data: dict) -> None:
    table = Table(title="Linkage: records by agency and method")
    methods = ("id", "probabilistic", "singleton")
    table.add_column("agency")
    for m in methods:
        table.add_column(m, justify="right")
    for agency, counts in data["by_agency_method"].items():
        table.add_row(agency, *(f"{counts.get(m, 0):,}" for m in methods))
    console.print(table)
    summary = Table(title="Persons and households")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    for m, n in data["persons_by_method"].items():
        summary.add_row(f"persons ({m})", f"{n:,}")
    summary.add_row(
        f"links below {data['low_confidence_below']}", f"{data['low_confidence_links']:,}"
    )
    summary.add_row("households", f"{data['households']:,}")
    summary.add_row("households resting on a low-confidence link",
                    f"{data['households_low_confidence']:,}")  # fmt: skip
    q = data.get("quality")
    if q:
        for part in ("overall", "without_usable_id"):
            summary.add_row(f"pairwise precision ({part})", f"{q[part]['precision']:.4f}")
            summary.add_row(f"pairwise recall ({part})", f"{q[part]['recall']:.4f}")
    console.print(summary)


def _parse_day(text: str, flag: str):
    from datetime import date

    from core.errors import ConfigError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} '{text}' is not a date YYYY-MM-DD") from None


def as_of_dates(as_of: list[str] | None, start: str | None, end: str | None) -> list:
    """The snapshot dates: every ``--as-of``, plus monthly dates from ``--from`` to ``--to``
    (the same day each month; month ends when ``--from`` is a month end)."""
    import calendar
    from datetime import date

    from core.errors import ConfigError

    days = {_parse_day(a, "--as-of") for a in as_of or []}
    if (start is None) != (end is None):
        raise ConfigError("--from and --to go together")
    if start is not None:
        first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
        if last < first:
            raise ConfigError("--to is before --from")
        month_end = first.day == calendar.monthrange(first.year, first.month)[1]
        y, m = first.year, first.month
        while True:
            dim = calendar.monthrange(y, m)[1]
            day = date(y, m, dim if month_end else min(first.day, dim))
            if day > last:
                break
            days.add(day)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if not days:
        raise ConfigError("give --as-of DATE (repeatable) or --from DATE --to DATE")
    return sorted(days)


@app.command()
def features(
    as_of: Annotated[
        list[str] | None, typer.Option("--as-of", help="Snapshot date YYYY-MM-DD; repeatable.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First monthly snapshot date (with --to).")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last monthly snapshot date.")] = None,
    workspace: Workspace = None,
) -> None:
    """Build point-in-time household vectors, one Parquet snapshot per as-of date."""
    from features import warehouse
    from features.vectors.build import (
        build_snapshot,
        delivery_ids,
        read_snapshot_metadata,
        snapshot_report,
        write_snapshot,
    )
    from features.vectors.catalogue import FEATURE_SET_VERSION
    from policies.parameters import load_parameters

    settings = _settings(workspace)
    days = as_of_dates(as_of, start, end)
    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    params = load_parameters(settings.params_dir)
    console = _console()
    reports = []
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        if warehouse.fetch_one(con, "SELECT count(*) FROM links")[0] == 0:
            raise OutreachError("the warehouse has no links yet; run `outreach link`")
        with _bar(console, "features") as bar:
            task = bar.add_task("snapshots", total=len(days))
            for day in days:
                bar.update(task, description=day.isoformat())
                table = build_snapshot(con, day, params)
                path = write_snapshot(table, settings.snapshots_dir, day, delivery_ids(con, day))
                meta = read_snapshot_metadata(path)
                rep = snapshot_report(table)
                reports.append(
                    {
                        "as_of": day.isoformat(),
                        "snapshot_id": meta["snapshot_id"],
                        "path": str(path),
                        "deliveries": len(meta["delivery_ids"]),
                        **rep,
                    }
                )
                bar.advance(task)
    report = {"feature_set_version": FEATURE_SET_VERSION, "snapshots": reports}
    out = _write_report(settings, "features", report)
    table = Table(title=f"Household vectors (feature set {FEATURE_SET_VERSION})")
    for col in ("as of", "snapshot id", "households", "deliveries used", "low-confidence"):
        table.add_column(col, justify="left" if col in ("as of", "snapshot id") else "right")
    for r in reports:
        low = r["features"]["low_confidence_link"]["mean"] or 0.0
        table.add_row(r["as_of"], r["snapshot_id"], f"{r['households']:,}", str(r["deliveries"]),
                      f"{low:.1%}")  # fmt: skip
    console.print(table)
    console.print(f"snapshots: {settings.snapshots_dir}  report: {out}")


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
    workspace: Workspace = None,
) -> None:
    """Train the hardship model on the snapshots, evaluate it, log and register it in MLflow
    (or train and evaluate on any household table with --table)."""
    from core.errors import ConfigError

    settings = _settings(workspace)
    table_flags = [f for f, v in (("--label", label), ("--id", id_), ("--time", time),
                                  ("--group", group), ("--positive", positive)) if v]  # fmt: skip
    if table is None and table_flags:
        raise ConfigError(f"{', '.join(table_flags)} need --table")
    if table is not None:
        from training.model_registry import Store
        from training.table import TableSpec, load_table, log_run, parse_positive, train_table

        if as_of or start or end:
            raise ConfigError("--as-of, --from and --to do not apply to --table")
        if label is None or id_ is None:
            raise ConfigError("--table needs --label and --id")
        spec = TableSpec(label, id_, time, tuple(group or ()), parse_positive(positive))
        frame = load_table(table)
        console = _console()
        with _bar(console, "train") as bar:
            bar.add_task(f"{table.name}: {len(frame):,} rows", total=None)
            report = train_table(frame, spec)
            report["input"] = str(table)
            report["mlflow_run_id"] = log_run(
                Store.for_workspace(settings.models_dir), report, table.name
            )
        path = _write_report(settings, "train-table", report)
        v, r = report["validation"], report["rows"]
        out = Table(title=f"{table.name}: {v['method']}, evaluated on {v['evaluated_on']}")
        for c in ("score", "ROC-AUC", "PR-AUC", "Brier", "ECE", "slope", "precision@5%",
                  "recall@5%"):  # fmt: skip
            out.add_column(c, justify="left" if c == "score" else "right")
        for name, m in report["metrics"]["scores"].items():
            cap = m["capacity"].get("0.05", {}).get("county", {})
            out.add_row(name, *("" if x is None else f"{x:.3f}" for x in (
                m["roc_auc"], m["pr_auc"], m["brier"], m["ece"], m["calibration_slope"],
                cap.get("precision"), cap.get("recall"))))  # fmt: skip
        console.print(out)
        n_features = len(report["features"]["numeric"]) + len(report["features"]["categorical"])
        console.print(
            f"rows used {r['used']:,} of {r['read']:,} ({r['positive']:,} positive); "
            f"features {n_features}"
        )
        for note in report["notes"]:
            console.print(f"note: {note}")
        console.print(f"report: {path}")
        return
    from training.run import run

    dates = as_of_dates(as_of, start, end) if (as_of or start or end) else None
    if not settings.warehouse_path.exists():
        raise OutreachError(f"no warehouse at {settings.warehouse_path}; run `outreach ingest`")
    console = _console()
    with _bar(console, "train") as bar:
        task = bar.add_task("", total=None)
        outcome = run(settings, dates, progress=lambda m: bar.update(task, description=m))
    _print_train(console, outcome.report)
    console.print(f"evaluation: {outcome.report_path}")


def _print_train(console: Console, report: dict) -> None:
    m = report["metrics"]
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
    r = report["registered"]
    console.print(f"model version {r['version']}: {r['alias']} ({r['reason']})")


@app.command()
def drift(
    as_of: Annotated[str, typer.Option("--as-of", help="The snapshot date to compare.")],
    workspace: Workspace = None,
) -> None:
    """Compare a snapshot with the champion's reference distributions (PSI per feature)."""
    import pyarrow.parquet as pq

    from features import warehouse
    from features.vectors.build import snapshot_path
    from training import model_registry
    from training.drift import psi
    from training.labels import HORIZON_MONTHS, is_labelled, label_cutoff, reporting_delay_p99

    settings = _settings(workspace)
    day = _parse_day(as_of, "--as-of")
    path = snapshot_path(settings.snapshots_dir, day)
    if not path.exists():
        raise OutreachError(f"no snapshot for {day}; run `outreach features --as-of {day}`")
    store = _store(settings)
    model, version = model_registry.load_version(store)
    reference = model_registry.run_artifact(store, version, "reference")
    frame = pq.read_table(path).to_pandas()
    result = psi(reference, model.matrix(frame), model.predict_proba(frame))
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        cutoff = label_cutoff(con)
        delay = reporting_delay_p99(con, cutoff)
    labelled = is_labelled(day, cutoff, delay, HORIZON_MONTHS)
    result["label_lag"] = {
        "cutoff": cutoff.isoformat(),
        "reporting_delay_p99_days": delay,
        "labelled": labelled,
        "note": (
            "outcomes of this snapshot are complete"
            if labelled
            else f"outcomes of this snapshot are not yet observable: its {HORIZON_MONTHS}-month "
            f"window plus the {delay}-day reporting delay runs past the data cutoff {cutoff}; "
            "drift in the score cannot yet be checked against outcomes"
        ),
    }
    result.update({"as_of": day.isoformat(), "model_version": version})
    out = _write_report(settings, "drift", result)
    console = _console()
    table = Table(title=f"Drift of {day} against model version {version}'s reference (PSI)")
    for c in ("feature", "PSI", "band"):
        table.add_column(c, justify="right" if c == "PSI" else "left")
    score = result.get("score")
    if score:
        table.add_row("(score)", f"{score['psi']:.3f}", score["band"])
    for row in result["features"][:15]:
        table.add_row(row["feature"], f"{row['psi']:.3f}", row["band"])
    console.print(table)
    console.print(result["label_lag"]["note"])
    console.print(f"report: {out}")


@app.command()
def score(
    as_of: Annotated[str, typer.Option("--as-of", help="The snapshot date to score.")],
    level: Annotated[
        str, typer.Option(help="Jurisdiction of a visit list: township or village.")
    ] = "township",
    capacity_share: Annotated[
        float, typer.Option(help="List size as a share of the jurisdiction's households.")
    ] = 0.05,
    capacity: Annotated[
        int | None, typer.Option(help="Fixed list size per jurisdiction (overrides the share).")
    ] = None,
    exploration: Annotated[
        float, typer.Option(help="Share of each list drawn at random (exploration).")
    ] = 0.03,
    seed: Annotated[int, typer.Option(help="Seed of the exploration draws.")] = 0,
    chunk_rows: Annotated[
        int, typer.Option(help="Households per committed chunk (a killed run resumes after it).")
    ] = 50_000,
    workspace: Workspace = None,
) -> None:
    """Score every household with the champion, match programs, prioritise and write visit
    lists to the service database (idempotent; resumable)."""
    import pyarrow.parquet as pq

    from features import warehouse
    from features.pseudonym import load_pseudonymizer
    from features.vectors.build import snapshot_path
    from serving.batch.priority import ListSpec
    from serving.batch.report import report
    from serving.batch.scoring import score as run_score
    from training.pipeline import raw_dir_from_meta

    settings = _settings(workspace)
    day = _parse_day(as_of, "--as-of")
    if chunk_rows < 1:
        raise OutreachError("--chunk-rows must be at least 1")
    try:
        spec = ListSpec(level, capacity_share, capacity, exploration, seed)
    except ValueError as exc:
        raise OutreachError(f"bad list option: {exc}") from None
    console = _console()
    with _bar(console, "score") as bar:
        task = bar.add_task("score", total=None)
        outcome = run_score(
            settings, day, spec, chunk_rows, lambda msg: bar.update(task, description=msg)
        )
    run = {
        "run_id": outcome.run_id, "as_of": day, "model_version": outcome.model_version,
        "snapshot_id": outcome.snapshot_id, "status": outcome.status,
        "households": outcome.n_households, "listed": outcome.n_listed,
        "exploration": outcome.n_exploration, "chunks": outcome.chunks,
        "corrections_applied": outcome.corrections_applied,
        "timings": outcome.timings, "lists": spec.as_dict(),
    }  # fmt: skip
    frame = raw_dir = pseudonymizer = None
    if outcome.scored is not None:
        frame = pq.read_table(snapshot_path(settings.snapshots_dir, day)).to_pandas()
        with warehouse.connect(settings.warehouse_path, read_only=True) as con:
            raw_dir = raw_dir_from_meta(con)
        pseudonymizer = load_pseudonymizer(settings.secret_path)
    data = report(outcome.scored, run, frame, raw_dir, pseudonymizer, level)
    out = _write_report(settings, "score", data)
    _print_score(console, data)
    console.print(f"report: {out}")


def _print_score(console: Console, data: dict) -> None:
    run = data["run"]
    if run["status"] == "unchanged":
        console.print(
            f"run {run['run_id']} ({run['as_of']}, model {run['model_version']}) is already "
            "complete: nothing changed"
        )
        return
    console.print(
        f"run {run['run_id']}: {run['households']:,} households scored with model "
        f"{run['model_version']} ({run['status']}); {run['listed']:,} listed "
        f"({run['exploration']:,} exploration); {run.get('corrections_applied', 0)} "
        "caseworker correction(s) applied"
    )
    table = Table(title="Eligibility by program")
    for c in ("program", "likely", "verify", "not eligible", "receiving", "gap likely",
              "gap verify"):  # fmt: skip
        table.add_column(c, justify="left" if c == "program" else "right")
    for code, c in data.get("eligibility", {}).items():
        table.add_row(
            code, *(f"{c[k]:,}" for k in ("likely", "needs_verification", "not_eligible",
                                          "receiving", "gap_likely", "gap_verify"))
        )  # fmt: skip
    console.print(table)
    truth = data.get("truth")
    if truth:
        d = truth["eligibility"].get("dibao", {})
        for kind in ("likely", "likely_or_verify"):
            x = d.get(kind, {})
            console.print(
                f"dibao '{kind}' vs true eligibility: precision {x.get('precision') or 0:.3f}, "
                f"recall {x.get('recall') or 0:.3f} ({x.get('predicted', 0):,} predicted, "
                f"{x.get('true', 0):,} truly eligible)"
            )
        s = truth["silent_reached"]
        ratio = s["ratio_vs_rules"]
        console.print(
            f"silent households reached: lists {s['lists']:,} vs early-warning-rules lists "
            f"{s['rules_lists']:,} ({'n/a' if ratio is None else f'{ratio:.2f}x'}) of "
            f"{truth['silent_households']:,} silent households"
        )


def _store(settings: Settings):
    from training.model_registry import Store

    return Store.for_workspace(settings.models_dir)


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="The model version to make champion.")],
    workspace: Workspace = None,
) -> None:
    """Point the `champion` alias at a model version (the previous one can be rolled back to)."""
    from training.model_registry import promote as run_promote

    settings = _settings(workspace)
    if not version.isdigit():
        raise OutreachError(f"version must be a number, not '{version}'")
    previous = run_promote(_store(settings), version)
    typer.echo(f"champion: version {version} (was {previous or 'none'})")


@app.command()
def rollback(workspace: Workspace = None) -> None:
    """Move the `champion` alias back to the version it named before."""
    from training.model_registry import rollback as run_rollback

    settings = _settings(workspace)
    current, target = run_rollback(_store(settings))
    typer.echo(f"champion: version {target} (was {current})")


@app.command()
def models(workspace: Workspace = None) -> None:
    """List the registered model versions with their aliases and validation scores."""
    from training.model_registry import versions

    settings = _settings(workspace)
    table = Table(title="Registered models (outreach-hardship)")
    for col in ("version", "aliases", "validation score", "run"):
        table.add_column(col)
    for v in versions(_store(settings)):
        score = "" if v["valid_score"] is None else f"{v['valid_score']:.4f}"
        table.add_row(v["version"], ", ".join(v["aliases"]), score, v["run_id"][:12])
    _console().print(table)


from serving.commands import register as register_service  # noqa: E402

register_service(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning user errors into one line and a non-zero exit."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="outreach")
    except typer.TyperException as exc:  # bad flags and values (click's UsageError family)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx else ""
        print(f"error: {' '.join(message.split())}{hint}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2) or 2)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 130
    except OutreachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
