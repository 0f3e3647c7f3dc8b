"""The one typed settings object that flows from the CLI (or the app factory) into every stage.

Everything configurable lives here: paths, the service database, the MLflow store, the secret
keys, and the model and scoring configuration. It is read **once**, by :func:`load_settings`,
from (highest first) explicit overrides (the CLI's flags), environment variables, an optional
workspace config file (``<workspace>/outreach.toml``) and the defaults below, and then passed
down. No stage reads the environment for its settings.

Nothing here runs on import, and this module imports nothing of ours but :mod:`core.errors`.

| setting | environment | ``outreach.toml`` |
| --- | --- | --- |
| ``workspace`` | ``OUTREACH_WORKSPACE`` | (the file lives in it) |
| ``db_url`` | ``OUTREACH_DB_URL`` | ``db_url`` |
| ``mlflow_uri`` | ``OUTREACH_MLFLOW_URI`` | ``mlflow_uri`` |
| ``hmac_key`` | ``OUTREACH_HMAC_KEY`` | never (a secret) |
| ``session_key`` | ``OUTREACH_SESSION_KEY`` | never (a secret) |
| ``truth_dir`` | ``OUTREACH_TRUTH_DIR`` | ``truth_dir`` |
| ``metrics_token`` | ``OUTREACH_METRICS_TOKEN`` | never (a secret) |
| ``service.*`` | | ``[service]`` |
| ``retention.*`` | | ``[retention]`` |
| ``model.*`` | | ``[model]`` |
| ``scoring.*`` | | ``[scoring]`` |
| ``need_now.*`` | | ``[need_now]`` |

Example:
    >>> s = load_settings(Path("/tmp/ws"), environ={})
    >>> s.raw_dir, s.scoring.capacity_share
    (PosixPath('/tmp/ws/data/raw'), 0.05)
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from core.errors import ConfigError

WORKSPACE_ENV = "OUTREACH_WORKSPACE"
DB_URL_ENV = "OUTREACH_DB_URL"
MLFLOW_URI_ENV = "OUTREACH_MLFLOW_URI"
HMAC_KEY_ENV = "OUTREACH_HMAC_KEY"
SESSION_KEY_ENV = "OUTREACH_SESSION_KEY"
TRUTH_DIR_ENV = "OUTREACH_TRUTH_DIR"
METRICS_TOKEN_ENV = "OUTREACH_METRICS_TOKEN"
CONFIG_FILE = "outreach.toml"
"""The optional workspace config file (TOML), read by :func:`load_settings`."""


class ModelConfig(BaseModel):
    """How the hardship model is trained (``[model]`` in ``outreach.toml``).

    Attributes:
        seed: the seed of every random draw of training (LightGBM, splits, bootstrap).
        capacities: the list sizes, as shares of households, at which metrics are reported.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 20240601
    capacities: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)


class NeedNowConfig(BaseModel):
    """How the need-now model learns from visit outcomes (``[need_now]`` in ``outreach.toml``;
    :mod:`training.need_now`).

    Attributes:
        visit_sensitivity: P(a visit reports need | the household is in need and was found).
        visit_false_need: P(a visit reports need | the household is not in need and was found).
            Both describe the visit protocol (in a county: measured by re-visit audits); the
            defaults are the simulated county's (0.85 and 4 %). They turn the calibrated
            probability that a visit reports need into the probability of need.
        propensity_floor: inclusion probabilities below this are raised to it before weighting.
        weight_cap: stabilised weights (mean 1) above this are cut to it.
        min_exploration: exploration outcomes (with both findings among them) needed to
            calibrate on them; with fewer, the weighted validation visits calibrate.
        propensity_months: the world's visit propensity is fitted on the last this many
            training months complete for the world's visits (its practice drifts; the recent
            months describe it best, and the fit stays small).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    visit_sensitivity: float = Field(0.85, gt=0, le=1)
    visit_false_need: float = Field(0.04, ge=0, lt=1)
    propensity_floor: float = Field(0.001, gt=0, le=1)
    weight_cap: float = Field(100.0, ge=1)
    min_exploration: int = Field(50, ge=2)
    propensity_months: int = Field(12, ge=1)

    @model_validator(mode="after")
    def _informative(self) -> NeedNowConfig:
        if self.visit_false_need >= self.visit_sensitivity:
            raise ValueError("visit_false_need must be below visit_sensitivity")
        return self


class ScoringConfig(BaseModel):
    """How lists are cut (``[scoring]`` in ``outreach.toml``; ``outreach score``'s flags win).

    Attributes:
        level: the jurisdiction of a list: ``township`` (9-digit code) or ``village`` (12-digit).
        capacity_share: list size as a share of the jurisdiction's households.
        capacity: a fixed list size per jurisdiction (overrides the share).
        exploration_share: the share of each list drawn at random.
        seed: the seed of the exploration draws.
        chunk_rows: households per committed chunk (a killed run resumes after the last one).
        ranking: what orders the discovery entries: ``model`` (the champion's priority) or
            ``rules`` (the early-warning rules' score, :func:`policies.early_warning.
            rules_baseline`: the county's practice without a model, under the same population,
            suppression, program-gap path, sizes and exploration; the twin's ``rules`` policy).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: str = Field("township", pattern="^(township|village)$")
    capacity_share: float = Field(0.05, gt=0, le=1)
    capacity: int | None = Field(None, ge=1)
    exploration_share: float = Field(0.03, ge=0, lt=1)
    seed: int = 0
    chunk_rows: int = Field(50_000, ge=1)
    ranking: str = Field("model", pattern="^(model|rules)$")


class ServiceConfig(BaseModel):
    """How the service meets the network and keeps sessions (``[service]`` in ``outreach.toml``).

    Attributes:
        trusted_proxies: addresses or networks (``10.0.0.5``, ``10.0.0.0/24``) of reverse
            proxies whose ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed: behind one
            that terminates TLS, the session cookie is then ``Secure``, HSTS is sent and the
            client's own address is the one rate-limited and audited. Empty (the default):
            forwarded headers are ignored from everyone.
        session_idle_minutes: a web session unused this long ends.
        session_hours: a web session ends this long after sign-in, however used.
        api_docs: serve the API document (``/docs``, ``/openapi.json``) from packaged assets.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    trusted_proxies: tuple[str, ...] = ()
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_hours: float = Field(12.0, gt=0, le=24 * 7)
    api_docs: bool = True

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value


class RetentionConfig(BaseModel):
    """How long each kind of record is kept (``[retention]`` in ``outreach.toml``), enforced by
    ``outreach purge`` (see ``docs/privacy.md`` for the reasons behind each period).

    Attributes:
        runs_months: score runs (their scores, eligibility and lists) scored longer ago than
            this are removed, unless a visit outcome names the run or it is the latest.
        snapshots_months: household vectors (``data/snapshots/<date>``) older than this are
            removed; the runs scored from them are marked as no longer replayable.
        outcomes_years: visit outcomes and corrections recorded longer ago than this.
        sessions_days: ended or expired web sessions.
        audit_years: audit log rows (a checkpoint row keeps the chain verifiable), and tokens
            that expired or were revoked longer ago than this.
        records_months: warehouse agency records (with names, birth dates, raw ID numbers),
            links, memberships and persons recorded longer ago than this, and the raw
            delivery files of those months (``features.retention``); a person's household as of
            the cut is kept.
        quarantine_days: quarantined rows (raw values) older than this.
        personal_files_days: files of personal data written for a person to read, older than
            this by the UTC time in their name: clerical-review files
            (``data/reports/review/``) and access-request reports (``data/reports/subject/``).
            30 days: a request is answered within that, and a review is marked and fed back
            within the monthly run it came from (an older one describes a table since changed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    runs_months: int = Field(24, ge=1)
    snapshots_months: int = Field(36, ge=1)
    outcomes_years: int = Field(5, ge=1)
    sessions_days: int = Field(30, ge=1)
    audit_years: int = Field(3, ge=1)
    records_months: int = Field(36, ge=25)
    quarantine_days: int = Field(90, ge=1)
    personal_files_days: int = Field(30, ge=1)


class Settings(BaseModel):
    """Paths, stores, secrets and configs shared by every command.

    Attributes:
        workspace: the folder that holds all generated state.
        params_dir: the dated policy parameter files (read by the simulator and the rules);
            ``None`` means the ones shipped in ``policies/params``.
        db_url: the service database URL when not the workspace's SQLite file
            (e.g. ``postgresql://user@host/db``); secret, as it may hold a password.
        mlflow_uri: the MLflow tracking and registry URI when not the workspace's SQLite store.
        hmac_key: the key of the pseudonymous person and household keys, when given in the
            environment; else it is kept in :attr:`secret_path`.
        session_key: the key that signs page sessions, when given in the environment; else it
            is kept in :attr:`session_key_path`.
        metrics_token: a bearer token that opens ``/metrics`` from anywhere (a Prometheus
            scraper's); without it ``/metrics`` answers only direct loopback callers.
        model: the model configuration.
        scoring: the scoring configuration.
        need_now: the need-now model's configuration (visit noise, weighting).
        truth_dir: where the pipeline may read the simulator's truth (evaluation only):
            ``"auto"`` (``<raw>/truth`` when it exists), a folder, or ``None`` (``"off"``: never).
            Every truth read asks :func:`core.truth.truth_dir_for`.
        service: the service's network and session configuration.
        retention: how long each kind of record is kept (``outreach purge``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace: Path
    params_dir: Path | None = None
    db_url: SecretStr | None = None
    mlflow_uri: SecretStr | None = None
    hmac_key: SecretStr | None = None
    session_key: SecretStr | None = None
    metrics_token: SecretStr | None = Field(None, min_length=32)
    model: ModelConfig = ModelConfig()
    scoring: ScoringConfig = ScoringConfig()
    need_now: NeedNowConfig = NeedNowConfig()
    truth_dir: Path | Literal["auto"] | None = "auto"

    @field_validator("truth_dir", mode="before")
    @classmethod
    def _truth_dir(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("off", "none", ""):
            return None
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        return value

    service: ServiceConfig = ServiceConfig()
    retention: RetentionConfig = RetentionConfig()

    @property
    def data_dir(self) -> Path:
        """Raw deliveries, the warehouse and snapshots."""
        return self.workspace / "data"

    @property
    def models_dir(self) -> Path:
        """The local MLflow store."""
        return self.workspace / "models"

    @property
    def raw_dir(self) -> Path:
        """Where `outreach simulate` writes by default and `outreach ingest` reads by default."""
        return self.data_dir / "raw"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB warehouse written by ingest and link, read by features."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def snapshots_dir(self) -> Path:
        """Household vectors: ``snapshots/<YYYY-MM-DD>/features.parquet``."""
        return self.data_dir / "snapshots"

    @property
    def reports_dir(self) -> Path:
        """JSON reports of every stage: ``reports/<stage>/...``."""
        return self.data_dir / "reports"

    @property
    def secret_path(self) -> Path:
        """The HMAC key of the pseudonymous keys (generated on first use, mode 0600)."""
        return self.workspace / "secrets" / "hmac.key"

    @property
    def session_key_path(self) -> Path:
        """The key that signs page sessions (generated on first use, mode 0600)."""
        return self.workspace / "secrets" / "session.key"

    @property
    def service_db_url(self) -> str:
        """The service database written by scoring and read by the service (may hold a password:
        log it only through ``serving.store.db.safe_url``)."""
        if self.db_url is not None:
            return self.db_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'service.sqlite3'}"

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking and registry URI (may hold a password)."""
        if self.mlflow_uri is not None:
            return self.mlflow_uri.get_secret_value()
        return f"sqlite:///{(self.models_dir / 'mlflow.db').absolute()}"

    def key_environ(self) -> dict[str, str]:
        """The secret keys given in the environment, as the key loaders read them."""
        out = {}
        if self.hmac_key is not None:
            out[HMAC_KEY_ENV] = self.hmac_key.get_secret_value()
        if self.session_key is not None:
            out[SESSION_KEY_ENV] = self.session_key.get_secret_value()
        return out

    def config_hash(self, *sections: str) -> str:
        """A short hash of configuration sections (``"model"``, ``"scoring"``), recorded by
        training and scoring runs so that a run says which configuration made it.

        Secrets and paths never enter it: two workspaces with the same configuration have the
        same hash.

        Example:
            >>> load_settings(Path("/a"), environ={}).config_hash("scoring") == load_settings(
            ...     Path("/b"), environ={}).config_hash("scoring")
            True
        """
        parts = {name: getattr(self, name).model_dump(mode="json") for name in sections}
        text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
        return "C" + hashlib.sha256(text.encode()).hexdigest()[:16]


_TRUTH_WORDS = ("auto", "off", "none", "")


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a TOML file ({' '.join(str(exc).split())})") from None
    allowed = {"db_url", "mlflow_uri", "params_dir", "model", "scoring", "truth_dir",
               "service", "retention", "need_now"}  # fmt: skip
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: {sorted(allowed)})")
    return data


def load_settings(
    workspace: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings once: overrides, then the environment, then ``outreach.toml``.

    Args:
        workspace: an explicit workspace (``--workspace``); else ``OUTREACH_WORKSPACE``, else
            the current folder.
        environ: the environment to read (default: the process's).
        overrides: settings given by flags (``scoring={...}`` merges into the scoring section).

    Raises:
        ConfigError: a malformed config file or an invalid value, in one line.
    """
    env = os.environ if environ is None else environ
    if workspace is None:
        workspace = Path(env[WORKSPACE_ENV]) if env.get(WORKSPACE_ENV) else Path.cwd()
    workspace = workspace.expanduser().absolute()
    values: dict[str, Any] = _read_config_file(workspace / CONFIG_FILE)
    for key, var in (
        ("db_url", DB_URL_ENV),
        ("mlflow_uri", MLFLOW_URI_ENV),
        ("hmac_key", HMAC_KEY_ENV),
        ("session_key", SESSION_KEY_ENV),
        ("truth_dir", TRUTH_DIR_ENV),
        ("metrics_token", METRICS_TOKEN_ENV),
    ):
        if env.get(var):
            values[key] = env[var]
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(values.get(key), Mapping):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    truth = values.get("truth_dir")
    if isinstance(truth, str | Path) and str(truth).strip().lower() not in _TRUTH_WORDS:
        values["truth_dir"] = workspace / Path(truth).expanduser()  # relative: to the workspace
    try:
        return Settings(workspace=workspace, **values)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"setting {where}: {err['msg']}") from None
