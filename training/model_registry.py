"""The model registry: MLflow tracking, registered versions, and the ``champion`` alias.

Defaults need no setup: a SQLite tracking and registry store, ``<workspace>/models/mlflow.db``,
and artifacts under ``<workspace>/models/artifacts``; any tracking URI through the settings
(``Settings.tracking_uri``: ``mlflow_uri`` in ``outreach.toml`` or ``OUTREACH_MLFLOW_URI``).
Every training run logs its parameters, metrics, plots and reports, and registers the model as
a new version of :data:`MODEL_NAME`. The alias ``champion`` names the version that scores
households; ``challenger`` the latest that did not beat it.

Alias moves are recorded in the registered model's tag ``champion_history`` (a JSON list of
versions, oldest first), so :func:`rollback` restores exactly the previous champion.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError

if TYPE_CHECKING:
    from core.settings import Settings

MODEL_NAME = "outreach-hardship"
EXPERIMENT = "outreach"
CHAMPION = "champion"
CHALLENGER = "challenger"
HISTORY_TAG = "champion_history"
PIP_REQUIREMENTS = ["lightgbm", "scikit-learn", "pandas", "numpy", "pyarrow"]


def _quiet() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import logging

    # MLflow's hints are for models logged without a signature; ours always has one
    warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method.*")
    warnings.filterwarnings("ignore", message=".*Inferred schema contains integer column.*")
    for name in ("mlflow", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)


@dataclass(frozen=True)
class Store:
    """Where runs and models live."""

    tracking_uri: str
    artifact_root: str

    @classmethod
    def for_settings(cls, settings: Settings) -> Store:
        """The store the settings name: ``settings.tracking_uri``, artifacts in the workspace."""
        settings.models_dir.mkdir(parents=True, exist_ok=True)
        artifacts = (settings.models_dir / "artifacts").absolute().as_uri()
        return cls(settings.tracking_uri, artifacts)

    def client(self):
        _quiet()
        import mlflow
        from mlflow import MlflowClient

        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return MlflowClient(self.tracking_uri, self.tracking_uri)

    def experiment_id(self) -> str:
        client = self.client()
        exp = client.get_experiment_by_name(EXPERIMENT)
        if exp is not None:
            return exp.experiment_id
        return client.create_experiment(EXPERIMENT, artifact_location=self.artifact_root)


def _pyfunc_class():
    import mlflow.pyfunc

    class OutreachPyfunc(mlflow.pyfunc.PythonModel):
        """Calibrated probability of hardship from a household vector (snapshot columns)."""

        def load_context(self, context):
            from training.estimators import OutreachModel

            self.model = OutreachModel.load(Path(context.artifacts["model_dir"]))

        def predict(self, context, model_input, params=None):
            from training.estimators import model_matrix

            return self.model.predict_proba(model_matrix(model_input))

    return OutreachPyfunc


@dataclass
class Registered:
    run_id: str
    version: str
    alias: str  # champion | challenger
    reason: str


def _flatten(prefix: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, bool | int | float) and value == value:  # NaN is skipped
        out[prefix] = float(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)


def flat_metrics(metrics: Mapping) -> dict[str, float]:
    """Nested metrics as MLflow metric names (``test.model.roc_auc``); keys sanitized."""
    out: dict[str, float] = {}
    _flatten("", metrics, out)
    clean = {}
    for k, v in out.items():
        name = "".join(c if c.isalnum() or c in "._-/ " else "_" for c in k)
        clean[name[:250]] = v
    return clean


def log_and_register(
    store: Store,
    model,
    *,
    params: Mapping[str, Any],
    metrics: Mapping,
    tags: Mapping[str, str],
    artifacts: list[tuple[str, Path]],
    input_example,
    example_output,
    validation_score: float,
    challenger_beats: bool | None = None,
) -> Registered:
    """Log one training run, register its model, and move an alias.

    Args:
        model: an object with ``save(dir)`` (``training.estimators.OutreachModel``).
        params / metrics / tags: logged as they are (metrics flattened).
        artifacts: (folder, file) pairs to log (plots, reports, model card, reference
            distributions); the file keeps its name inside the folder.
        input_example: a few rows of the model's input (snapshot columns), for the signature;
            ``example_output`` the model's probabilities for them.
        validation_score: the new model's validation metric (higher is better), logged as
            ``valid_score``.
        challenger_beats: whether the new model beats the champion on the new validation data
            (decided by the caller, who can score the champion there); None: compare the stored
            ``valid_score`` of the champion's run.
    """
    import mlflow
    from mlflow.models import infer_signature

    client = store.client()
    exp = store.experiment_id()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLflow's hints about type hints and integer columns
        model_dir = Path(tmp) / "model_dir"
        model.save(model_dir)
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.log_params({k: _param(v) for k, v in params.items()})
            mlflow.set_tags(dict(tags))
            mlflow.log_metrics(flat_metrics(metrics))
            mlflow.log_metric("valid_score", float(validation_score))
            for folder, path in artifacts:
                mlflow.log_artifact(str(path), artifact_path=folder)
            signature = infer_signature(input_example, example_output)
            with warnings.catch_warnings():  # the signature is given: no type hints needed
                warnings.simplefilter("ignore")
                mlflow.pyfunc.log_model(
                    name="model",
                    python_model=_pyfunc_class()(),
                    artifacts={"model_dir": str(model_dir)},
                    signature=signature,
                    input_example=input_example,
                    pip_requirements=PIP_REQUIREMENTS,
                )
            run_id = run.info.run_id
    mv = mlflow.register_model(f"runs:/{run_id}/model", MODEL_NAME)
    version = str(mv.version)
    client.set_model_version_tag(MODEL_NAME, version, "run_id", run_id)
    champion = champion_version(store)
    if champion is None:
        promote(store, version)
        return Registered(run_id, version, CHAMPION, "first model: champion")
    if challenger_beats is None:
        old = client.get_run(client.get_model_version(MODEL_NAME, champion).run_id)
        old_score = old.data.metrics.get("valid_score", float("-inf"))
        challenger_beats = validation_score > old_score
    if challenger_beats:
        promote(store, version)
        return Registered(run_id, version, CHAMPION, f"beats version {champion} on validation")
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    return Registered(
        run_id, version, CHALLENGER, f"does not beat version {champion}; champion kept"
    )


def _param(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, default=str)
    return text[:6000]


def champion_version(store: Store) -> str | None:
    """The version the alias ``champion`` names, or None."""
    from mlflow.exceptions import MlflowException

    client = store.client()
    try:
        return str(client.get_model_version_by_alias(MODEL_NAME, CHAMPION).version)
    except MlflowException:
        return None


def _history(client) -> list[str]:
    from mlflow.exceptions import MlflowException

    try:
        rm = client.get_registered_model(MODEL_NAME)
    except MlflowException:
        return []
    return json.loads(rm.tags.get(HISTORY_TAG, "[]"))


def promote(store: Store, version: str) -> str | None:
    """Point ``champion`` at ``version``; returns the previous champion (kept in the history)."""
    from mlflow.exceptions import MlflowException

    client = store.client()
    try:
        client.get_model_version(MODEL_NAME, str(version))
    except MlflowException:
        raise ConfigError(f"model version {version} does not exist") from None
    previous = champion_version(store)
    if previous == str(version):
        return previous
    history = _history(client)
    history.append(str(version))
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, str(version))
    client.set_registered_model_tag(MODEL_NAME, HISTORY_TAG, json.dumps(history))
    return previous


def rollback(store: Store) -> tuple[str, str]:
    """Move ``champion`` back to the version it named before; returns (from, to)."""
    client = store.client()
    history = _history(client)
    current = champion_version(store)
    if current is None or len(history) < 2:
        raise ConfigError("there is no earlier champion to roll back to")
    history.pop()
    target = history[-1]
    client.set_registered_model_alias(MODEL_NAME, CHAMPION, target)
    client.set_registered_model_tag(MODEL_NAME, HISTORY_TAG, json.dumps(history))
    return current, target


def load_version(store: Store, version: str | None = None):
    """The ``OutreachModel`` of a version (default: the champion) and its version string."""
    import mlflow

    from training.estimators import OutreachModel

    client = store.client()
    if version is None:
        version = champion_version(store)
        if version is None:
            raise ConfigError("no champion model yet; run `outreach train`")
    mv = client.get_model_version(MODEL_NAME, str(version))
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{MODEL_NAME}/{version}", dst_path=tmp
        )
        model = OutreachModel.load(Path(path) / "artifacts" / "model_dir")
    return model, str(mv.version)


def run_artifact(store: Store, version: str, name: str) -> dict:
    """A JSON artifact logged with a version's run (e.g. reference distributions)."""
    import mlflow

    client = store.client()
    run_id = client.get_model_version(MODEL_NAME, str(version)).run_id
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=name, dst_path=tmp)
        p = Path(path)
        if p.is_dir():
            p = next(p.glob("*.json"))
        return json.loads(p.read_text(encoding="utf-8"))


def run_artifact_text(store: Store, version: str, path: str) -> str:
    """The text of one artifact file logged with a version's run (e.g. the model card,
    ``model_card/model_card.md``)."""
    import mlflow

    run_id = store.client().get_model_version(MODEL_NAME, str(version)).run_id
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, dst_path=tmp)
        return Path(local).read_text(encoding="utf-8")


def versions(store: Store) -> list[dict]:
    """Every registered version with its aliases and validation score."""
    client = store.client()
    out = []
    for found in sorted(
        client.search_model_versions(f"name='{MODEL_NAME}'"), key=lambda m: int(m.version)
    ):
        mv = client.get_model_version(MODEL_NAME, found.version)  # search omits aliases
        run = client.get_run(mv.run_id)
        out.append(
            {
                "version": str(mv.version),
                "aliases": list(getattr(mv, "aliases", []) or []),
                "valid_score": run.data.metrics.get("valid_score"),
                "run_id": mv.run_id,
                "created": mv.creation_timestamp,
            }
        )
    return out
