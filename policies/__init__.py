"""Policies as code: the rule model (tri-state logic, conditions), the dated parameters and
their loader, and the programs' rules (``policies/rules``), kept as data beside their tests.

Imports nothing of ours but :mod:`core`; features, training and the simulator import it.
"""

from pathlib import Path

PARAMS_DIR = Path(__file__).resolve().parent / "params"
