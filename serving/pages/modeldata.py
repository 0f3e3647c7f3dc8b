"""What the model page shows, read from the model version's MLflow run and cached per version.

The training run (``training/run.py``) logs ``reports/evaluation.json`` (metrics of the model
and its baselines on the test split: calibration slope and intercept, recall at per-township
capacity, the fairness table), ``explanations/global_importance.json`` (mean |SHAP| per
feature), ``reference/reference.json`` (reference distributions for drift) and the model card.
Drift is the PSI of the latest run's snapshot against the version's reference
(:func:`training.drift.psi`, what ``outreach drift`` computes), cached per (version, snapshot).
Nothing here is personal data: the page is not audited.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from serving.runtime.modelswap import ModelRef
from serving.runtime.service import Service
from serving.store.db import ScoreRun

log = logging.getLogger(__name__)
ARTIFACTS = {
    "evaluation": "reports/evaluation.json",
    "importance": "explanations",
    "reference": "reference",
}


@dataclasses.dataclass(frozen=True)
class ModelData:
    """One version's logged artifacts (``None`` for any that is missing)."""

    version: str
    evaluation: dict[str, Any] | None
    importance: list[dict[str, Any]] | None
    reference: dict[str, Any] | None
    card: str | None


class ModelDataCache:
    """Artifacts per model version and drift per (version, snapshot), computed once each."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], ModelData] = {}
        self._drift: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._lock = threading.Lock()

    def data(self, service: Service, version: str) -> ModelData:
        """The artifacts of a version (read from the registry on first use)."""
        key = (str(service.settings.models_dir), version)
        found = self._data.get(key)
        if found is None:
            found = _load(service, version)
            with self._lock:
                self._data[key] = found
        return found

    def drift(
        self, service: Service, ref: ModelRef, run: ScoreRun, reference: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """PSI of the run's snapshot against the reference; None when it cannot be computed."""
        if reference is None:
            return None
        from serving.runtime.ondemand import SnapshotUnavailable

        try:
            snap = service.snapshots.snapshot(run.as_of)
        except SnapshotUnavailable:
            return None
        key = (ref.version, snap.snapshot_id)
        if key in self._drift:
            return self._drift[key]
        result = None
        if snap.feature_set_version in (None, ref.feature_set_version):
            from training.drift import psi

            try:
                frame = snap.frame
                result = psi(reference, ref.model.matrix(frame), ref.model.predict_proba(frame))
            except (ValueError, KeyError) as exc:
                log.warning("drift not computed (%s)", type(exc).__name__)
        with self._lock:
            self._drift[key] = result
        return result


def _load(service: Service, version: str) -> ModelData:
    from mlflow.exceptions import MlflowException

    from serving.api.model_card import card_text
    from training import model_registry

    store = model_registry.Store.for_settings(service.settings)
    found: dict[str, Any] = {}
    for name, path in ARTIFACTS.items():
        try:
            found[name] = model_registry.run_artifact(store, version, path)
        except (MlflowException, OSError, StopIteration, ValueError) as exc:
            log.warning("model %s: no %s artifact (%s)", version, name, type(exc).__name__)
            found[name] = None
    importance = found["importance"] if isinstance(found["importance"], list) else None
    return ModelData(
        version=version,
        evaluation=found["evaluation"],
        importance=importance,
        reference=found["reference"],
        card=card_text(service, version),
    )
