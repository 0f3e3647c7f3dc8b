"""One-row predictions through LightGBM's single-row fast path (its C API), for on-demand scores.

``Booster.predict`` on one row spends most of its time in Python around the C call: it builds
an ``_InnerPredictor`` (deep-copying the parameters), checks types, allocates the output and
parses the parameter string on every call. LightGBM's ``LGBM_BoosterPredictForMatSingleRowFast``
does that set-up once (``...FastInit``) and then predicts one float64 row into a preallocated
buffer. Same trees, same C++ predictor: the numbers are identical to ``Booster.predict``
(``tests/unit/test_onerow.py``). Treelite cannot replace it here: it compiles predictions but
not TreeSHAP contributions, which every on-demand explanation needs.

Example:
    >>> fast = OneRowPredictor(booster, n_features)                    # doctest: +SKIP
    >>> contrib, raw = fast.contrib_and_raw(row)   # row: float64, shape (n_features,)
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np
from lightgbm.basic import _LIB, _safe_call

_PREDICT_RAW_SCORE = 1  # lightgbm.basic._C_API_PREDICT_RAW_SCORE
_PREDICT_CONTRIB = 3  # lightgbm.basic._C_API_PREDICT_CONTRIB
_DTYPE_FLOAT64 = 1  # lightgbm.basic._C_API_DTYPE_FLOAT64


class OneRowPredictor:
    """Raw score and TreeSHAP contributions of one row, with set-up done once per booster.

    Args:
        booster: a binary ``lightgbm.Booster`` (kept alive as long as this object).
        n_features: columns of the rows to predict (the model's features).

    One call at a time (a lock): the fast configurations hold per-call buffers.
    """

    def __init__(self, booster, n_features: int) -> None:
        self.booster = booster  # the handle below must not outlive it
        self.n_features = n_features
        self._lock = threading.Lock()
        self._contrib = np.zeros(n_features + 1, dtype=np.float64)
        self._raw = np.zeros(1, dtype=np.float64)
        self._out_len = ctypes.c_int64(0)
        self._configs: list[ctypes.c_void_p] = []
        self._contrib_cfg = self._init(_PREDICT_CONTRIB)
        self._raw_cfg = self._init(_PREDICT_RAW_SCORE)

    def _init(self, predict_type: int) -> ctypes.c_void_p:
        cfg = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                self.booster._handle,
                ctypes.c_int(predict_type),
                ctypes.c_int(0),  # start iteration
                ctypes.c_int(-1),  # every tree (the champion holds exactly its best trees)
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(self.n_features),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(cfg),
            )
        )
        self._configs.append(cfg)
        return cfg

    def _predict(self, cfg: ctypes.c_void_p, row: np.ndarray, out: np.ndarray) -> None:
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                cfg,
                row.ctypes.data_as(ctypes.c_void_p),
                ctypes.byref(self._out_len),
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )
        if self._out_len.value != len(out):
            raise RuntimeError(f"LightGBM gave {self._out_len.value} values, {len(out)} expected")

    def contrib_and_raw(self, row: np.ndarray) -> tuple[np.ndarray, float]:
        """``(contributions, raw score)`` of one row: contributions have ``n_features + 1``
        values (the last is the bias), as ``Booster.predict(pred_contrib=True)[0]``; the raw
        score (log-odds) is ``Booster.predict(raw_score=True)[0]``."""
        row = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
        if row.shape[0] != self.n_features:
            raise ValueError(f"a row of {self.n_features} values is needed, got {row.shape[0]}")
        with self._lock:
            self._predict(self._contrib_cfg, row, self._contrib)
            self._predict(self._raw_cfg, row, self._raw)
            return self._contrib.copy(), float(self._raw[0])

    def __del__(self) -> None:
        for cfg in getattr(self, "_configs", []):
            if cfg.value:
                _LIB.LGBM_FastConfigFree(cfg)
