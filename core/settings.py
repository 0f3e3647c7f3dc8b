"""The one typed settings object that flows from the CLI (or the app factory) into every stage.

Nothing here runs on import: :func:`load_settings` is called by the composition root.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

WORKSPACE_ENV = "OUTREACH_WORKSPACE"
DB_URL_ENV = "OUTREACH_DB_URL"


class Settings(BaseModel):
    """Paths and defaults shared by every command.

    Attributes:
        workspace: the folder that holds all generated state.
        params_dir: the dated policy parameter files (read by the simulator and the rules);
            ``None`` means the ones shipped in ``policies/params``.
        db_url: the service database URL when not the workspace's SQLite file
            (``OUTREACH_DB_URL``, e.g. ``postgresql://user@host/db``); secret, as it may hold a
            password.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    workspace: Path
    params_dir: Path | None = None
    db_url: SecretStr | None = None

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
    def service_db_url(self) -> str:
        """The service database written by scoring and read by the service (may hold a password:
        log it only through ``serving.store.db.safe_url``)."""
        if self.db_url is not None:
            return self.db_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'service.sqlite3'}"


def load_settings(workspace: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build the settings: an explicit workspace wins, then ``OUTREACH_WORKSPACE``, then the cwd.

    The service database is ``OUTREACH_DB_URL`` when set, else a SQLite file in the workspace.

    Example:
        >>> load_settings(Path("/tmp/ws"), environ={}).raw_dir
        PosixPath('/tmp/ws/data/raw')
    """
    env = os.environ if environ is None else environ
    if workspace is None:
        workspace = Path(env[WORKSPACE_ENV]) if env.get(WORKSPACE_ENV) else Path.cwd()
    return Settings(
        workspace=workspace.expanduser().absolute(),
        db_url=env.get(DB_URL_ENV) or None,
    )
