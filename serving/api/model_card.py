"""The model in service: ``GET /api/v1/model`` and its model card ``GET /api/v1/model/card``.

The card is the Markdown the training run logged as an MLflow artifact (``model_card/
model_card.md``), read once per version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query

from serving.api.common import API, CONFLICT, ERRORS, require
from serving.api.deps import PrincipalDep, ServiceDep
from serving.api.problems import ApiError
from serving.api.schemas import ModelCard, ModelInfo, RunInfo
from serving.runtime.masking import shorten_decimals
from serving.runtime.service import Service

router = APIRouter(prefix=API, tags=["model"], responses=ERRORS)
_CARDS: dict[tuple[str, str], str] = {}


@router.get("/model", response_model=ModelInfo)
async def model_info(principal: PrincipalDep, service: ServiceDep) -> ModelInfo:
    """The model version used for on-demand scores and the latest complete run."""
    require(principal, "read")
    ref = service.watcher.current()
    run = service.run()
    return ModelInfo(
        model_version=ref.version if ref else None,
        feature_set_version=ref.feature_set_version if ref else None,
        latest_run=None
        if run is None
        else RunInfo(
            run_id=run.run_id,
            as_of=run.as_of,
            model_version=run.model_version,
            finished_at=run.finished_at,
        ),  # fmt: skip
    )


@router.get("/model/card", response_model=ModelCard, responses=CONFLICT)
def model_card(
    principal: PrincipalDep,
    service: ServiceDep,
    version: Annotated[
        str | None, Query(pattern=r"^[1-9][0-9]{0,8}$", description="default: the champion")
    ] = None,
) -> ModelCard:
    """The model card of the champion (or of a given version) as Markdown."""
    require(principal, "read")
    if version is None:
        ref = service.watcher.current()
        if ref is None:
            raise ApiError(409, "no champion model is loaded")
        version = ref.version
    text = card_text(service, version)
    if text is None:
        raise ApiError(404, "no model card for this version")
    return ModelCard(model_version=version, text=text)


def card_text(service: Service, version: str) -> str | None:
    """The card of a version (cached), or None when the version or its card does not exist."""
    key = (str(service.settings.models_dir), version)
    if key in _CARDS:
        return _CARDS[key]
    from mlflow.exceptions import MlflowException

    from training import model_registry

    store = model_registry.Store.for_settings(service.settings)
    client = store.client()
    try:
        run_id = client.get_model_version(model_registry.MODEL_NAME, version).run_id
        with tempfile.TemporaryDirectory() as tmp:
            import mlflow

            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path="model_card/model_card.md", dst_path=tmp
            )
            text = shorten_decimals(Path(path).read_text(encoding="utf-8"))
    except (MlflowException, OSError):
        return None
    _CARDS[key] = text
    return text
