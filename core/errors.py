"""User-facing error types.

Every error a user can cause (bad flags, bad files, bad parameters) is raised as one of these
types with a one-line message. The CLI turns them into one line on stderr and a non-zero exit;
the API (later) turns them into a 4xx problem response. Messages never contain ID numbers or
names.
"""

from __future__ import annotations


class OutreachError(Exception):
    """Base class of every error caused by input the user controls."""

    exit_code: int = 2


class ConfigError(OutreachError):
    """A flag, setting or configuration value is invalid."""


class ParameterError(OutreachError):
    """A policy parameter file is malformed or has no value in force on a date."""


class OutputExistsError(OutreachError):
    """The output location already holds data that the command would overwrite."""


class DataContractError(OutreachError):
    """A file does not meet its data contract."""


class EligibilityInputError(DataContractError):
    """A household table lacks a column that an eligibility rule reads, or cannot be evaluated
    as one snapshot (several as-of dates, no date)."""


class CaseTableError(OutreachError):
    """An eligibility test-case table (``policies/rules/*.cases.yaml``) is malformed."""
