"""The simulator reads, records and fingerprints only the parameters it declares.

So adding, changing or moving any other parameter (an early-warning threshold, a program's
amount) leaves every existing manifest valid, and the world is reused rather than refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import policies
from core.errors import OutputExistsError, ParameterError
from policies.parameters import DatedValue, Parameter, ParameterSet, load_parameters
from simulator.config import SimulationConfig
from simulator.simulation import PARAMETERS_READ, simulate, simulator_parameters

TINY = SimulationConfig(households=60, months=2, burn_in_months=3)


def _with(params: ParameterSet, **changes: Parameter) -> ParameterSet:
    """``params`` with parameters added or replaced (name with ``__`` for ``.``)."""
    found = {n: params.parameter(n) for n in params.names()}
    found.update({k.replace("__", "."): v for k, v in changes.items()})
    return ParameterSet(found)


def _one_value(value: Any, unit: str = "months") -> Parameter:
    return Parameter(
        description="set by this test",
        unit=unit,
        values={date(2016, 1, 1): DatedValue(value=value, source="test only")},
    )


class RecordingParameterSet(ParameterSet):
    """A parameter set that records the name of every value read through it (and its
    selections)."""

    def __init__(self, params: ParameterSet, read: set[str] | None = None) -> None:
        super().__init__({n: params.parameter(n) for n in params.names()})
        self.read: set[str] = set() if read is None else read

    def get(self, name: str, on: date) -> Any:
        self.read.add(name)
        return super().get(name, on)

    def select(self, names: Iterable[str]) -> ParameterSet:
        return RecordingParameterSet(super().select(names), self.read)


@pytest.fixture(scope="module")
def shipped() -> ParameterSet:
    return load_parameters(policies.PARAMS_DIR)


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory, shipped: ParameterSet) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "raw"
    simulate(TINY, shipped, out)
    return out


def test_a_run_reads_exactly_the_declared_parameters(tmp_path: Path, shipped: ParameterSet):
    recording = RecordingParameterSet(shipped)
    result = simulate(TINY, recording, tmp_path / "raw")
    assert recording.read == set(PARAMETERS_READ)
    assert sorted(result.manifest["parameters"]) == sorted(PARAMETERS_READ)


def test_reading_an_undeclared_parameter_fails(shipped: ParameterSet):
    chosen = simulator_parameters(shipped)
    assert "tekun.basic_multiplier" in shipped
    with pytest.raises(ParameterError, match="unknown parameter"):
        chosen.get("tekun.basic_multiplier", date(2024, 1, 1))


def test_unrelated_parameters_leave_the_fingerprint(shipped: ParameterSet):
    added = _with(shipped, early_warning__test_only_threshold=_one_value(3))
    edited = _with(added, tekun__basic_multiplier=_one_value(1.4, "multiple"))
    assert added.fingerprint() != shipped.fingerprint()  # the whole set did change
    assert edited.get("tekun.basic_multiplier", date(2024, 1, 1)) == 1.4
    expected = simulator_parameters(shipped).fingerprint()
    assert simulator_parameters(added).fingerprint() == expected
    assert simulator_parameters(edited).fingerprint() == expected


def test_an_existing_manifest_stays_valid(tiny_world: Path, shipped: ParameterSet):
    before = (tiny_world / "manifest.json").read_text()
    added = _with(shipped, early_warning__test_only_threshold=_one_value(3))
    result = simulate(TINY, added, tiny_world)
    assert result.reused
    assert (tiny_world / "manifest.json").read_text() == before
    assert json.loads(before)["parameters_fingerprint"] == (
        simulator_parameters(added).fingerprint()
    )


def test_a_parameter_the_simulator_reads_invalidates_the_manifest(
    tiny_world: Path, shipped: ParameterSet
):
    standard = shipped.get("dibao.standard_monthly", date(2024, 1, 1))
    raised = _with(shipped, dibao__standard_monthly=_one_value(standard + 1, "CNY/person/month"))
    assert simulator_parameters(raised).fingerprint() != (
        simulator_parameters(shipped).fingerprint()
    )
    with pytest.raises(OutputExistsError):
        simulate(TINY, raised, tiny_world)
