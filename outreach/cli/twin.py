"""``outreach twin``: the county twin (run one policy; compare policies over seeds)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from core.errors import ConfigError
from core.reports import write_report
from outreach.cli.app import app
from outreach.cli.common import Workspace, new_console, settings_for

twin_app = typer.Typer(
    help="The county twin: run the whole system month after month against the simulated "
    "county and compare policies by the people they help.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Months = Annotated[int, typer.Option("--months", help="Loop months after 2025-12.")]
Seed = Annotated[int, typer.Option("--seed", help="The (first) world's seed.")]
Households = Annotated[int, typer.Option("--households", help="Households of the world.")]
Capacity = Annotated[
    float, typer.Option("--capacity", help="List size as a share of each township's households.")
]
Exploration = Annotated[
    float, typer.Option("--exploration", help="Share of each pipeline list drawn at random.")
]
Retrain = Annotated[
    int, typer.Option("--retrain-every", help="Retrain every N loop months (0: never).")
]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="The twin's folder [default: <workspace>/data/twin].",
                 file_okay=False),
]  # fmt: skip


@twin_app.callback()
def _group() -> None:
    """The county twin: run policies month after month and compare them."""


def _options(settings, policy, months, seed, households, capacity, exploration, retrain, out):
    from outreach.twin.loop import TwinOptions

    folder = out if out is not None else settings.workspace / "data" / "twin"
    return TwinOptions(policy=policy, out=folder.absolute(), months=months, seed=seed,
                       households=households, capacity=capacity, exploration=exploration,
                       retrain_every=retrain)  # fmt: skip


def _params(settings):
    from policies.parameters import load_parameters

    return load_parameters(settings.params_dir)


@twin_app.command("run")
def run(
    policy: Annotated[str, typer.Option("--policy", help="status-quo, rules, model or oracle.")],
    months: Months = 12,
    seed: Seed = 0,
    households: Households = 20_000,
    capacity: Capacity = 0.05,
    exploration: Exploration = 0.03,
    retrain_every: Retrain = 0,
    out: Out = None,
    workspace: Workspace = None,
) -> None:
    """Run one policy for --months loop months (a killed run resumes after its last month)."""
    from outreach.twin.loop import run_policy

    settings = settings_for(workspace)
    options = _options(settings, policy, months, seed, households, capacity, exploration,
                       retrain_every, out)  # fmt: skip
    console = new_console()
    report = run_policy(options, _params(settings), console.print)
    data = report.as_dict()
    path = write_report(settings.reports_dir, "twin-run", data)
    r = report.results
    table = Table(title=f"Twin: {report.policy} (v{report.policy_version}), {len(report.months)} "
                  f"months, seed {seed}")  # fmt: skip
    table.add_column("figure")
    table.add_column("value", justify="right")
    recall = r["undiscovered_need_recall_last3"]
    for name, value in (
        ("unassisted hardship household-months", f"{r['unassisted_hardship_household_months']:,}"),
        ("undiscovered need reached", f"{r['undiscovered_need_reached']:,}"),
        ("  of them found in need", f"{r['undiscovered_need_reached_found_in_need']:,}"),
        ("silent reached", f"{r['silent_reached']:,}"),
        ("undiscovered-need recall, last 3 months", "-" if recall is None else f"{recall:.3f}"),
        ("list visits", f"{r['list_visits']:,}"),
        ("newly assisted households", f"{r['newly_assisted_households']:,}"),
        ("helped within 6 months (KM)", str(r["time_to_help"]["helped_within_6m"])),
    ):
        table.add_row(name, value)
    console.print(table)
    console.print(f"seconds: {report.seconds}; report: {path}")


@twin_app.command("compare")
def compare(
    policies: Annotated[
        str, typer.Option("--policies", help="Comma-separated policies, e.g. status-quo,model.")
    ] = "status-quo,rules,model,oracle",
    seeds: Annotated[int, typer.Option("--seeds", help="Worlds (seeds) to run.")] = 5,
    months: Months = 12,
    seed: Seed = 0,
    households: Households = 20_000,
    capacity: Capacity = 0.05,
    exploration: Exploration = 0.03,
    retrain_every: Retrain = 0,
    out: Out = None,
    workspace: Workspace = None,
) -> None:
    """Run the policies on the same worlds and compare them: paired differences over seeds."""
    from outreach.twin.compare import compare as run_compare
    from outreach.twin.policies import parse_policies

    if seeds < 1:
        raise ConfigError("--seeds must be at least 1")
    settings = settings_for(workspace)
    chosen = parse_policies(policies)
    options = _options(settings, chosen[0].name, months, seed, households, capacity,
                       exploration, retrain_every, out)  # fmt: skip
    console = new_console()
    summary = run_compare(options, chosen, seeds, _params(settings), console.print)
    path = write_report(settings.reports_dir, "twin-compare", summary)
    (options.out / "compare.json").write_text(
        __import__("json").dumps(summary, indent=2, default=str), encoding="utf-8"
    )
    print_comparison(console, summary)
    console.print(f"report: {path}; plots in {options.out}")


def _fmt(cell: dict) -> str:
    if cell["mean"] is None:
        return "-"
    lo, hi = cell["ci95"]
    return f"{cell['mean']:,.1f}" + ("" if lo is None else f" [{lo:,.1f}, {hi:,.1f}]")


def print_comparison(console, summary: dict) -> None:
    table = Table(title=f"Policies over {len(summary['seeds'])} seeds (mean [95 % interval])")
    table.add_column("policy")
    for col in ("unassisted months", "undiscovered reached", "found in need", "recall last 3",
                "list visits", "newly assisted"):  # fmt: skip
        table.add_column(col, justify="right")
    for name, p in summary["pooled"].items():
        table.add_row(name, _fmt(p["unassisted_hardship_household_months"]),
                      _fmt(p["undiscovered_need_reached"]),
                      _fmt(p["undiscovered_need_reached_found_in_need"]),
                      _fmt(p["undiscovered_need_recall_last3"]), _fmt(p["list_visits"]),
                      _fmt(p["newly_assisted_households"]))  # fmt: skip
    console.print(table)
    diff = Table(title="Paired differences (mean [95 % interval])")
    diff.add_column("comparison")
    diff.add_column("unassisted months removed", justify="right")
    diff.add_column("more undiscovered need reached", justify="right")
    for name, d in summary["paired"].items():
        diff.add_row(name, _fmt(d["unassisted_months_removed"]),
                     _fmt(d["undiscovered_need_reached_more"]))  # fmt: skip
    console.print(diff)


app.add_typer(twin_app, name="twin")
