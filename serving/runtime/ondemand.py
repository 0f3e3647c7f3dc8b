"""On-demand score, explanation and eligibility of one household, with the batch scorer's code.

Batch scoring stores explanations and traces only for listed households; anyone else's are
computed here from the run's snapshot row with the same functions
(:func:`training.explain.explanation_record`, with the contributions and raw score that
:func:`training.explain.explain_row` gets from ``Booster.predict``, here through LightGBM's
single-row fast path: :class:`~serving.runtime.onerow.OneRowPredictor`, identical numbers),
:func:`features.eligibility.engine.evaluate`,
:func:`features.eligibility.trace.household_trace`, :func:`serving.batch.frame.band`).

:class:`SnapshotStore` keeps the latest snapshot in memory, indexed by household, and its model
matrix for the model version in use as the float array LightGBM reads, with a one-row predictor
of that version (built once per version, so one request costs two one-row C calls and the reason
phrases: well under a millisecond, where a pandas row costs ~5 ms of conversion).
Explanations are cached per (model version, snapshot, household): they are deterministic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.eligibility.engine import evaluate
from features.eligibility.trace import household_trace
from features.vectors.build import read_snapshot_metadata, snapshot_path
from policies.parameters import ParameterSet
from serving.batch.frame import REASONS_K, band, programs_summary
from serving.runtime.modelswap import ModelRef
from serving.runtime.onerow import OneRowPredictor
from training.explain import BIAS, UNITS, explanation_record, numeric_matrix


class SnapshotUnavailable(LookupError):
    """The run's snapshot file is missing, or the model's feature set differs from it."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One snapshot in memory."""

    as_of: dt.date
    snapshot_id: str
    feature_set_version: str | None
    frame: pd.DataFrame
    rows: dict[str, int]

    def row(self, household_id: str) -> pd.DataFrame | None:
        """The household's one-row frame, or None."""
        i = self.rows.get(household_id)
        return None if i is None else self.frame.iloc[[i]]


@dataclasses.dataclass(frozen=True)
class _Matrix:
    """A snapshot's model input for one model version, ready for one-row predictions."""

    version: str
    snapshot_id: str
    names: list[str]
    array: np.ndarray  # training.explain.numeric_matrix of the model matrix
    values: dict[str, np.ndarray]  # snapshot columns (object) rendered in reason phrases
    predictor: OneRowPredictor  # the version's booster, set up for one-row calls


class SnapshotStore:
    """The latest snapshot and its model matrices (see the module docstring).

    Args:
        snapshots_dir: ``<workspace>/data/snapshots``.
        cache_size: explanations kept (0 disables the cache).
    """

    def __init__(self, snapshots_dir: Path, cache_size: int = 50_000) -> None:
        self.snapshots_dir = snapshots_dir
        self.cache_size = cache_size
        self._snapshot: Snapshot | None = None
        self._matrix: _Matrix | None = None
        self._explained: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def snapshot(self, as_of: dt.date) -> Snapshot:
        """The snapshot of a date (loaded once).

        Raises:
            SnapshotUnavailable: no snapshot file for the date.
        """
        snap = self._snapshot
        if snap is not None and snap.as_of == as_of:
            return snap
        with self._lock:
            if self._snapshot is not None and self._snapshot.as_of == as_of:
                return self._snapshot
            path = snapshot_path(self.snapshots_dir, as_of)
            if not path.exists():
                raise SnapshotUnavailable(f"no snapshot for {as_of}")
            import pyarrow.parquet as pq

            meta = read_snapshot_metadata(path)
            frame = pq.read_table(path).to_pandas().reset_index(drop=True)
            ids = frame["household_id"].astype(str).tolist()
            snap = Snapshot(
                as_of, str(meta.get("snapshot_id")), meta.get("feature_set_version"), frame,
                {h: i for i, h in enumerate(ids)},
            )  # fmt: skip
            self._snapshot, self._matrix = snap, None
            self._explained.clear()
            return snap

    def _model_matrix(self, ref: ModelRef, snap: Snapshot) -> _Matrix:
        m = self._matrix
        if m is not None and m.version == ref.version and m.snapshot_id == snap.snapshot_id:
            return m
        if snap.feature_set_version not in (None, ref.feature_set_version):
            raise SnapshotUnavailable(
                f"model version {ref.version} uses feature set {ref.feature_set_version}, the "
                f"snapshot of {snap.as_of} has {snap.feature_set_version}"
            )
        X = ref.model.matrix(snap.frame)
        names = [str(c) for c in X.columns]
        shown = [n for n in names if n in snap.frame.columns]
        values = {n: snap.frame[n].to_numpy(dtype=object) for n in shown}
        m = _Matrix(ref.version, snap.snapshot_id, names, numeric_matrix(X), values,
                    OneRowPredictor(ref.model.booster, len(names)))  # fmt: skip
        with self._lock:
            self._matrix = m
        return m

    def warm(self, ref: ModelRef, snap: Snapshot) -> None:
        """Build the model matrix of a snapshot for a model version ahead of requests."""
        self._model_matrix(ref, snap)

    def ready(self, ref: ModelRef, snap: Snapshot) -> bool:
        """Whether the model matrix of ``snap`` for ``ref`` is built (an explanation then costs
        well under a millisecond and may run on the event loop)."""
        m = self._matrix
        return m is not None and m.version == ref.version and m.snapshot_id == snap.snapshot_id

    def cached(self, ref: ModelRef, as_of: dt.date, household_id: str) -> dict[str, Any] | None:
        """A cached explanation for the loaded snapshot of ``as_of``, without computing."""
        snap = self._snapshot
        if snap is None or snap.as_of != as_of:
            return None
        return self._explained.get((ref.version, snap.snapshot_id, household_id))

    def loaded(self, as_of: dt.date) -> Snapshot | None:
        """The snapshot of ``as_of`` if it is the one in memory."""
        snap = self._snapshot
        return snap if snap is not None and snap.as_of == as_of else None

    def explain(self, ref: ModelRef, snap: Snapshot, household_id: str) -> dict[str, Any] | None:
        """Score and explanation of one household with one model version, or None if absent.

        Returns:
            ``model_version``, ``score`` (calibrated probability), ``raw_score`` (log-odds),
            ``band``, ``base_value``, ``units`` and ``reasons`` ``{zh, en}``.

        Raises:
            SnapshotUnavailable: the model's feature set differs from the snapshot's.
        """
        key = (ref.version, snap.snapshot_id, household_id)
        hit = self._explained.get(key)
        if hit is not None:
            return hit
        i = snap.rows.get(household_id)
        if i is None:
            return None
        m = self._model_matrix(ref, snap)
        contrib, raw = m.predictor.contrib_and_raw(m.array[i])
        e = explanation_record(household_id, [*m.names, BIAS], contrib, raw,
                               _RowValues(m.values, i), k=REASONS_K)  # fmt: skip
        p = float(ref.model.calibrator.predict(np.array([e["raw_score"]]))[0])
        out = {
            "model_version": ref.version,
            "score": p,
            "raw_score": float(e["raw_score"]),
            "band": str(band(np.array([p]))[0]),
            "base_value": float(e["base_value"]),
            "units": UNITS,
            "reasons": e["reasons"],
        }
        if self.cache_size > 0:
            with self._lock:
                self._explained[key] = out
                while len(self._explained) > self.cache_size:
                    self._explained.popitem(last=False)
        return out


class _RowValues:
    """One row's values, read only for the features that become reason candidates (a few of
    the ~60 columns), instead of a dict of every column per request."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: dict[str, np.ndarray], i: int) -> None:
        self._columns, self._i = columns, i

    def get(self, name: str, default: Any = None) -> Any:
        col = self._columns.get(name)
        return default if col is None else col[self._i]


def eligibility_of(
    snap: Snapshot, household_id: str, params: ParameterSet
) -> tuple[dict[str, dict], list[dict]] | None:
    """Programs summary and full trace of one household on the snapshot's date, or None."""
    row = snap.row(household_id)
    if row is None:
        return None
    result = evaluate(row, params, snap.as_of)
    lines = household_trace(result, row, household_id, params)
    return programs_summary(result, 0), [line.as_dict() for line in lines]
