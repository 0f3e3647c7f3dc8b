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

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        """The Parquet schema, with the agency and schema version in its metadata."""
        return pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns],
            metadata={"agency": self.agency, "schema_version": self.schema_version},
        )

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)
