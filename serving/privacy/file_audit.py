"""Audit rows for files of personal data that a command writes or reads outside the service:
the clerical-review file of ``outreach link --table --review N`` and the marks read back with
``--labels``.

The link stage (``features.linkage.stage.run_table``) lives below the service and cannot write
the audit log itself: it is handed a recorder (:func:`recorder`), called once per file with the
resource and a small detail (the file name and counts; never a name or a birth date). The row
is appended to the workspace's service database under the audit chain's lock, committed before
the command goes on; the command refuses to go on without it (a database that cannot be
written is one line, :class:`~core.errors.ConfigError`, and the review file is removed again).

Rows: actor ``outreach-link``, role ``system`` (a command, not a token), action ``read`` (as
every export is: the data left the warehouse for a person to read); resource ``link_review``
(a review file written: ``detail.file``, ``detail.pairs``, ``detail.channel``) or
``link_labels`` (marks read back: ``detail.file``, ``detail.kind``, ``detail.matches``,
``detail.non_matches`` or ``detail.records``); ``detail.run_by`` is the operating-system user
who ran the command.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from core.errors import ConfigError
from core.settings import Settings
from serving.store import db

ACTOR = "outreach-link"
PURPOSES = {
    "link_review": "clerical review of record linkage (outreach link --review)",
    "link_labels": "clerical-review marks fed back to record linkage (outreach link --labels)",
}

Recorder = Callable[[str, Mapping[str, Any]], None]
"""Called with ``(resource, detail)``; appends and commits one audit row."""


def run_by() -> str:
    """The operating-system user running the command (its uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def recorder(settings: Settings, now: Callable[[], dt.datetime] | None = None) -> Recorder:
    """A recorder appending to ``settings``' service database (see the module docstring)."""
    clock = now or (lambda: dt.datetime.now(dt.UTC))

    def record(resource: str, detail: Mapping[str, Any]) -> None:
        if resource not in PURPOSES:
            raise ValueError(f"no audit purpose for resource {resource!r}")
        event = db.AuditEvent(
            actor=ACTOR, role="system", action="read", resource=resource,
            purpose=PURPOSES[resource], detail={**detail, "run_by": run_by()}, at=clock(),
        )  # fmt: skip
        engine = db.make_engine(settings.service_db_url)
        try:
            db.upgrade(engine)
            with engine.begin() as conn:
                db.append_audit(conn, [event])
        except (sa.exc.SQLAlchemyError, OSError) as exc:  # one line, never the URL (a password)
            raise ConfigError(
                f"the audit log cannot be written ({type(exc).__name__}): nothing was exported"
            ) from None
        finally:
            engine.dispose()

    return record
