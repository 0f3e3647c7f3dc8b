"""The types of a data contract: a :class:`Column` and an agency's :class:`Contract`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

SCHEMA_VERSION = "1.0"

_ARROW = {
    "string": pa.string(),
    "date": pa.date32(),
    "int": pa.int32(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class Column:
    """One column of a delivery file."""

    name: str
    dtype: str  # one of _ARROW's keys
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pii: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.dtype]


@dataclass(frozen=True)
class Contract:
    """The schema of one agency's monthly delivery."""

    agency: str
    name_zh: str
    description: str
    columns: tuple[Column, ...]
    keys: tuple[str, ...] = ("record_id",)
    defects: tuple[str, ...] = ()
    baseline: bool = False
    schema_version: str = SCHEMA_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)
    optional: tuple[Column, ...] = ()
    """Columns a delivery may carry or leave out (nullable; absent means null): added to a
    contract after deliveries without them existed, or carried only by some sources (e.g. the
    list entry behind an exported visit). The agency's own files (and the simulator's) hold
    :attr:`columns` only."""

    def __post_init__(self) -> None:
        if any(not c.nullable for c in self.optional):
            raise ValueError(f"{self.agency}: an optional column must be nullable")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """:attr:`columns`, then :attr:`optional`: what ingest checks and keeps."""
        return self.columns + self.optional

    def arrow_schema(self, optional: bool = False) -> pa.Schema:
        """The Parquet schema, with the agency and schema version in its metadata (with the
        optional columns when ``optional``)."""
        cols = self.all_columns if optional else self.columns
        return pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in cols],
            metadata={"agency": self.agency, "schema_version": self.schema_version},
        )

    def column(self, name: str) -> Column:
        for c in self.all_columns:
            if c.name == name:
                return c
        raise KeyError(name)
