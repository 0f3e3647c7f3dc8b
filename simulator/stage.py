"""The world as a stage: ``run(settings, options) -> SimulateReport`` behind ``outreach simulate``.

Example:
    >>> from core.settings import load_settings
    >>> report = run(load_settings(tmp_path), SimulateOptions(households=300, months=6))
    ... # doctest: +SKIP
    >>> report.as_dict()["out"]  # doctest: +SKIP
    '/.../data/raw'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings
from policies.parameters import load_parameters
from simulator.config import build_config
from simulator.simulation import Progress, simulate


@dataclass(frozen=True)
class SimulateOptions:
    """What to simulate and where (the flags of ``outreach simulate``).

    Attributes:
        households: households at the start.
        months: months to deliver, from the config's start month.
        seed: the random seed.
        rates: defect-rate overrides ``AGENCY.DEFECT=VALUE`` (``*`` for every agency).
        out: the output folder; ``None`` means the workspace's raw folder.
        force: replace a different simulation already in ``out``.
        defects: the defect profile, ``default`` or ``hard`` (real-register errors on top, see
            :mod:`simulator.defects_hard`); recorded in the manifest's config when ``hard``.
    """

    households: int = 20_000
    months: int = 36
    seed: int = 0
    rates: tuple[str, ...] = ()
    out: Path | None = None
    force: bool = False
    defects: str = "default"


@dataclass(frozen=True)
class SimulateReport:
    """What a simulation produced: its folder, whether it was reused, and its manifest."""

    out: Path
    reused: bool
    manifest: dict[str, Any] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the manifest's config, counts and summary)."""
        m = self.manifest
        return {
            "out": str(self.out),
            "reused": self.reused,
            "manifest": str(self.out / "manifest.json"),
            "config": m["config"],
            "parameters_fingerprint": m["parameters_fingerprint"],
            "counts": m["counts"],
            "summary": m["summary"],
        }


def run(
    settings: Settings, options: SimulateOptions, progress: Progress | None = None
) -> SimulateReport:
    """Simulate the county of ``options`` (or reuse the identical world already there).

    Args:
        settings: the workspace settings (the raw folder and the parameter folder).
        options: what to simulate and where.
        progress: called with ``("months", done, total)`` after each simulated month.

    Raises:
        ConfigError: an invalid option or an unwritable output folder.
        OutputExistsError: ``out`` holds something else and ``force`` is not set.
    """
    config = build_config(
        options.households, options.months, options.seed, list(options.rates), options.defects
    )
    params = load_parameters(settings.params_dir)
    target = options.out if options.out is not None else settings.raw_dir
    result = simulate(config, params, target, force=options.force, progress=progress)
    return SimulateReport(result.out, result.reused, result.manifest)
