"""Simulation configuration: the frozen defaults and their validation.

The defaults here are the project's reference world. They are frozen once the simulator issue
closes: later stages report against them and never change them to meet a goal.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from core.errors import ConfigError

Rate = Annotated[float, Field(ge=0.0, le=1.0)]

# Agencies that still hold 15-digit legacy ID numbers for some of their older records.
LEGACY_ID_AGENCIES = frozenset({"utility_arrears", "property_registry", "vehicle_registry"})


class DefectRates(BaseModel):
    """Per-agency defect rates (shares of records, or of monthly deliveries for missing_month)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mistyped_id: Rate = 0.02
    legacy_id: Rate = 0.0
    missing_id: Rate = 0.03
    name_variant: Rate = 0.05
    duplicate: Rate = 0.01
    missing_month: Rate = 0.03
    mean_delay_months: Annotated[float, Field(ge=0.0, le=12.0)] = 0.3

    @model_validator(mode="after")
    def _id_defects_fit(self) -> DefectRates:
        if self.mistyped_id + self.legacy_id + self.missing_id > 1.0:
            raise ValueError("mistyped_id + legacy_id + missing_id must not exceed 1")
        return self


def _default_defects() -> dict[str, DefectRates]:
    from core.contracts import AGENCIES

    delays = {
        "civil_registry": 0.2,
        "civil_assistance": 0.3,
        "medical_claims": 0.8,
        "disability_registry": 0.5,
        "education": 0.2,
        "hr_unemployment": 0.3,
        "hr_contributions": 0.1,
        "vehicle_registry": 0.2,
        "property_registry": 0.5,
        "business_registry": 0.3,
        "utility_arrears": 0.2,
        "rural_monitoring": 0.5,
        "visits": 0.3,
    }
    return {
        a: DefectRates(
            legacy_id=0.05 if a in LEGACY_ID_AGENCIES else 0.0,
            mean_delay_months=delays.get(a, 0.3),
        )
        for a in AGENCIES
    }


class SimulationConfig(BaseModel):
    """Everything that determines a simulated world. Same config + seed → identical files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    households: Annotated[int, Field(ge=1, le=5_000_000)] = 20_000
    months: Annotated[int, Field(ge=1, le=120)] = 36
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    start_month: str = "2023-01"
    burn_in_months: Annotated[int, Field(ge=3, le=120)] = 24
    county_code: str = "330226"
    defects: dict[str, DefectRates] = Field(default_factory=_default_defects)
    defect_profile: Literal["default", "hard"] = "default"
    """``hard`` adds the real-register errors of :mod:`simulator.defects_hard` on top of
    ``defects``. Written to the manifest only when not ``default``, so a default world's manifest
    is the same to the byte as before the profile existed."""

    @model_serializer(mode="wrap")
    def _omit_default_profile(self, handler: SerializerFunctionWrapHandler) -> dict:
        data = handler(self)
        if data.get("defect_profile") == "default":
            del data["defect_profile"]
        return data

    @model_validator(mode="after")
    def _check(self) -> SimulationConfig:
        if len(self.county_code) != 6 or not self.county_code.isdigit():
            raise ValueError("county_code must be 6 digits")
        y, _, mo = self.start_month.partition("-")
        if not (len(y) == 4 and y.isdigit() and mo.isdigit() and 1 <= int(mo) <= 12):
            raise ValueError("start_month must be YYYY-MM")
        from core.contracts import AGENCIES

        unknown = sorted(set(self.defects) - set(AGENCIES))
        if unknown:
            raise ValueError(f"unknown agency {unknown[0]!r} (known: {', '.join(AGENCIES)})")
        return self


def build_config(
    households: int = 20_000,
    months: int = 36,
    seed: int = 0,
    rate_overrides: list[str] | None = None,
    defect_profile: str = "default",
) -> SimulationConfig:
    """Build a config from CLI-style values, turning every problem into one ConfigError line.

    ``rate_overrides`` are strings ``AGENCY.DEFECT=VALUE`` (``*.DEFECT=VALUE`` for every agency);
    ``defect_profile`` is ``default`` or ``hard`` (:mod:`simulator.defects_hard`).
    """
    if defect_profile not in ("default", "hard"):
        raise ConfigError(f"unknown defect profile {defect_profile!r} (known: default, hard)")
    try:
        base = SimulationConfig(households=households, months=months, seed=seed)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None
    defects = {a: d.model_dump() for a, d in base.defects.items()}
    for text in rate_overrides or []:
        key, sep, value = text.partition("=")
        agency, dot, defect = key.strip().partition(".")
        if not sep or not dot:
            raise ConfigError(f"rate override {text!r} is not AGENCY.DEFECT=VALUE")
        targets = list(defects) if agency == "*" else [agency]
        if agency != "*" and agency not in defects:
            raise ConfigError(
                f"unknown agency {agency!r} in rate override (known: {', '.join(defects)})"
            )
        if defect not in DefectRates.model_fields:
            raise ConfigError(
                f"unknown defect {defect!r} in rate override "
                f"(known: {', '.join(DefectRates.model_fields)})"
            )
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"rate override {text!r}: {value!r} is not a number") from None
        for a in targets:
            defects[a][defect] = number
    try:
        return SimulationConfig(
            households=households,
            months=months,
            seed=seed,
            defects={a: DefectRates(**d) for a, d in defects.items()},
            defect_profile=defect_profile,
        )
    except ValidationError as exc:
        raise ConfigError(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "config"
    msg = err["msg"].removeprefix("Value error, ")
    return f"invalid {where}: {msg}"
