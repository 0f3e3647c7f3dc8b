"""Where the pipeline may read the simulator's truth: the one gate of every truth read.

The truth (``truth/`` of a simulation: household months, persons, the records' true persons) is
for evaluation only. :attr:`core.settings.Settings.truth_dir` says where the pipeline may find
it, and every stage that reports truth figures asks :func:`truth_dir_for` first and reads only
below the folder it returns:

- ``"auto"`` (the default): ``<raw>/truth`` when it exists, ``<raw>`` being the raw folder of the
  last ingest (``meta.raw_dir``) or the workspace's; so ``outreach simulate && outreach ingest &&
  ... && outreach train`` keeps its truth figures;
- a folder: that folder (it must exist: asking for truth figures from a folder that is not there
  is an error, not a silent skip);
- ``None`` (``off``): the pipeline reads no truth at all. A county twin keeps the truth outside the
  raw folder and sets this, so the truth figures come from the twin's own evaluator.

Set by ``OUTREACH_TRUTH_DIR`` (``off``, ``auto`` or a folder), ``truth_dir`` in ``outreach.toml``
or ``load_settings(..., truth_dir=...)``.

Example:
    >>> from core.settings import load_settings
    >>> truth_dir_for(load_settings(Path("/tmp/nowhere"), environ={}, truth_dir="off")) is None
    True
"""

from __future__ import annotations

from pathlib import Path

from core.errors import ConfigError
from core.settings import Settings

AUTO = "auto"
OFF = "off"


def truth_dir_for(settings: Settings, raw_dir: Path | str | None = None) -> Path | None:
    """The truth folder the pipeline may read, or None (see the module docstring).

    Args:
        settings: the settings (``truth_dir``).
        raw_dir: the raw folder of the last ingest, for ``auto`` (default: the workspace's).

    Raises:
        ConfigError: ``truth_dir`` names a folder that does not exist.
    """
    chosen = settings.truth_dir
    if chosen is None:
        return None
    if chosen == AUTO:
        folder = Path(raw_dir if raw_dir is not None else settings.raw_dir) / "truth"
        return folder if folder.is_dir() else None
    folder = Path(chosen)
    if not folder.is_dir():
        raise ConfigError(f"truth_dir {folder} is not a folder (set it to a truth folder or off)")
    return folder
