"""The browser tests' fixture county: codes and dates (imported by conftest and the tests)."""

import re

AS_OF = "2024-12-31"
COUNTY = "330226"
TOWNSHIP = "330226001"  # the caseworker's
NEIGHBOUR = "330226002"  # the same county, not the caseworker's
NO_TOWNSHIP = "330226999"
NOBODY = "H" + "0a" * 12
ROLES = ("caseworker", "supervisor", "auditor", "data_scientist")

# request ids (uuid or long hex) differ between two otherwise identical error pages
REQUEST_ID = re.compile(r"[0-9a-f]{8}(?:-?[0-9a-f]{4}){3}-?[0-9a-f]{12}|[0-9a-f]{16,}")


def comparable(text: str, asked: str) -> str:
    """A page's text with the code or reference asked for and any request id blanked out."""
    return REQUEST_ID.sub("<id>", text.replace(asked, "<asked>"))
