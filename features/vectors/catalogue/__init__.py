"""The feature catalogue: every household feature, declared once.

One registry feeds the build (column names, order, types and SQL), the docs
(``docs/features.md``, rendered by :func:`render_markdown`), the reason phrases shown beside a
score and the drift report. Windows count back from the as-of date by calendar months: ``12m``
means an event date ``d`` with ``as_of - 12 months < d <= as_of``; a record counts only once it
was recorded (``recorded_date <= as_of``) and linked (``links.evidence_date <= as_of``).

Layout: :mod:`.declaration` holds the :class:`Feature` type, groups and keys; one module per
feature group holds its declarations (:mod:`.illness`, :mod:`.disability`, :mod:`.school`,
:mod:`.unemployment`, :mod:`.income`, :mod:`.medical`, :mod:`.structure`, :mod:`.assets`,
:mod:`.assistance`, :mod:`.visits`, :mod:`.arrears`, :mod:`.area`, :mod:`.linkage`);
:mod:`.registry` joins them in column order; :mod:`.docs` renders the Markdown.

Example:
    >>> reason("serious_illness_members_12m", 2, "en")
    '2 members had claims for a serious illness in the last 12 months'
"""

from features.vectors.catalogue.declaration import (
    DERIVED,
    DTYPES,
    FEATURE_SET_VERSION,
    GROUPS,
    KEYS,
    ROW_SOURCES,
    Feature,
)
from features.vectors.catalogue.docs import DOCS_PATH, render_markdown, write_docs
from features.vectors.catalogue.registry import (
    FEATURES,
    feature,
    feature_names,
    is_context,
    reason,
    registry_json,
)

__all__ = [
    "DERIVED",
    "DOCS_PATH",
    "DTYPES",
    "FEATURES",
    "FEATURE_SET_VERSION",
    "GROUPS",
    "KEYS",
    "ROW_SOURCES",
    "Feature",
    "feature",
    "feature_names",
    "is_context",
    "reason",
    "registry_json",
    "render_markdown",
    "write_docs",
]
