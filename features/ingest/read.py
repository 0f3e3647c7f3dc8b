"""Reading delivery files and user tables: finding the files, decoding CSV, reading Parquet.

A delivery is ``<raw>/agencies/<agency>/<YYYY-MM>[-<source>].parquet|csv`` (CSV in UTF-8 or GBK);
a file that cannot be read is refused whole with :class:`RejectedDelivery` (one line naming the
file and the problem).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.errors import ConfigError, DataContractError

ENCODINGS = ("auto", "utf-8", "gbk")
"""Encodings of CSV deliveries: ``auto`` tries UTF-8, then GBK."""
FILE_NAME = re.compile(r"^(\d{4})-(\d{2})(?:-([a-z][a-z0-9_]{0,31}))?\.(parquet|csv)$")
"""A delivery file name: ``YYYY-MM`` with an optional ``-<source>`` suffix (see
:mod:`features.ingest`)."""


class RejectedDelivery(DataContractError):
    """A whole delivery file is refused."""


def find_deliveries(raw: Path) -> list[tuple[str, Path]]:
    """Every delivery file under ``raw/agencies/<agency>/``, in agency and file order.

    Folders of unknown agencies are reported as rejected deliveries by
    :func:`features.ingest.load.ingest`.
    """
    root = raw / "agencies"
    if not root.is_dir():
        raise ConfigError(f"{raw} has no agencies/ folder of deliveries")
    out: list[tuple[str, Path]] = []
    for agency_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(agency_dir.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                out.append((agency_dir.name, f))
    return out


def _decode(data: bytes, encoding: str, name: str) -> str:
    if encoding == "auto":
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise RejectedDelivery(
                    f"{name}: neither UTF-8 nor GBK (bad byte at offset {exc.start})"
                ) from None
    codec = {"utf-8": "utf-8-sig", "gbk": "gb18030"}[encoding]
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        other = "gbk" if encoding == "utf-8" else "utf-8"
        raise RejectedDelivery(
            f"{name}: not valid {encoding.upper()} (bad byte at offset {exc.start}); "
            f"declare --encoding {other} or auto"
        ) from None


def read_delivery(path: Path, encoding: str = "auto") -> pa.Table | pd.DataFrame:
    """Read one delivery: Parquet as an Arrow table (its own column types, checked later against
    the contract), CSV as a frame of text values.

    Raises:
        RejectedDelivery: the file cannot be read.
    """
    name = f"{path.parent.name}/{path.name}"
    if path.stat().st_size == 0:
        raise RejectedDelivery(f"{name}: empty file")
    if path.suffix == ".parquet":
        try:
            return pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise RejectedDelivery(f"{name}: not a readable Parquet file ({first})") from None
    text = _decode(path.read_bytes(), encoding, name)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RejectedDelivery(f"{name}: not a readable CSV file ({exc})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise RejectedDelivery(f"{name}: no header row")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r]
    if any(len(r) != len(header) for r in body):
        bad = next(i for i, r in enumerate(body, start=2) if len(r) != len(header))
        raise RejectedDelivery(
            f"{name}: line {bad} has a different number of fields than the header"
        )
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return frame.mask(frame == "", None)


def read_table(path: Path, encoding: str = "auto") -> pd.DataFrame:
    """Any user table (CSV as text in UTF-8 or GBK, or Parquet) as a frame, for the commands
    that take ``--table``.

    Raises:
        ConfigError: the path is not a .csv or .parquet file.
        DataContractError: the file cannot be read or has no rows (one line).
    """
    if not path.is_file():
        raise ConfigError(f"--table {path} is not a file")
    if path.suffix not in (".csv", ".parquet"):
        raise ConfigError("--table must be a .csv or .parquet file")
    try:
        raw = read_delivery(path, encoding)
    except RejectedDelivery as exc:
        raise DataContractError(str(exc).replace(f"{path.parent.name}/", "", 1)) from None
    frame = raw.to_pandas() if isinstance(raw, pa.Table) else raw
    if len(frame) == 0:
        raise DataContractError(f"{path.name}: no rows")
    return frame.reset_index(drop=True)
