"""The prioritisation policies the twin compares: small, named, versioned objects.

Every policy gets the same capacity: lists of ``capacity_share`` of each township's households
(``ListSpec.size``), visited in the month after they are made.

| policy | lists | what orders them |
| --- | --- | --- |
| ``status-quo`` | none | (the world's own visits only) |
| ``rules`` | the pipeline's, ``ranking=rules`` | the early-warning rules' score |
| ``model`` | the pipeline's, ``ranking=model`` | today's champion and priority |
| ``oracle`` | the evaluation's reference | truth-eligible, not enrolled or pending; |
| | | undiscovered need first |
| ``learning`` | not yet | plugs in with the learning-from-visits work |

The oracle is a reference, not a proven ceiling: it knows who qualifies but not who a visit
will find, and it ignores onset risk; a policy that beats it is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError


@dataclass(frozen=True)
class Policy:
    """A prioritisation policy.

    Attributes:
        name: the policy's name on the command line.
        version: bumped whenever what the policy does changes.
        lists: ``none``, ``pipeline`` (scored by the project's pipeline each month) or
            ``oracle`` (built by the evaluation from the truth).
        ranking: for pipeline lists, what orders them (``ScoringConfig.ranking``).
        description: one line for tables and docs.
    """

    name: str
    version: str
    lists: str
    ranking: str
    description: str

    @property
    def runs_pipeline(self) -> bool:
        return self.lists == "pipeline"


POLICIES: dict[str, Policy] = {
    p.name: p
    for p in (
        Policy("status-quo", "1", "none", "", "no lists: the world's own visits only"),
        Policy("rules", "1", "pipeline", "rules", "the early-warning rules' lists"),
        Policy("model", "1", "pipeline", "model", "today's champion and priority"),
        Policy(
            "oracle",
            "1",
            "oracle",
            "",
            "truth-eligible, not enrolled or pending, undiscovered need first; no re-listing "
            "within 6 months",
        ),
    )
}
PLANNED = {"learning": "the learning policy plugs in with the learning-from-visits work"}


def get_policy(name: str) -> Policy:
    """The policy called ``name``.

    Raises:
        ConfigError: an unknown policy, or one not available yet.
    """
    if name in POLICIES:
        return POLICIES[name]
    if name in PLANNED:
        raise ConfigError(f"policy {name!r} is not available yet: {PLANNED[name]}")
    known = ", ".join(POLICIES)
    raise ConfigError(f"unknown policy {name!r} (known: {known})")


def parse_policies(text: str) -> list[Policy]:
    """``a,b,c`` into policies (each once, in order).

    Raises:
        ConfigError: an empty list or an unknown policy.
    """
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--policies names no policy")
    return [get_policy(n) for n in dict.fromkeys(names)]
