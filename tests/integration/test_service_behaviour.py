"""Service behaviour on the scored fixture county: persistence across restarts (SQLite and
PostgreSQL), the append-only audit log, hot model swap without mixing versions, lists and
details, and a scan for ID numbers and clear names in every response and log line."""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import threading

import numpy as np
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from support.bare_service import UNLIMITED

from serving.app import create_app
from serving.runtime import auth
from serving.runtime.modelswap import ChampionWatcher
from serving.runtime.service import ServiceOptions
from serving.store import db, tables

pytestmark = pytest.mark.integration

ID_NUMBER = re.compile(r"\d{17}[\dXx]")
KEYED_HASH = re.compile(r"\b[HR][0-9a-f]{20,24}\b")


def _token(settings, role: str, jurisdiction: str | None = None) -> dict[str, str]:
    engine = db.make_engine(settings.service_db_url)
    with engine.begin() as conn:
        token, _ = auth.create_token(conn, role, jurisdiction)
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def test_outcomes_corrections_and_audit_rows_survive_a_restart(service_settings, db_url) -> None:
    from support.service_seed import rescore, subjects

    settings = rescore(service_settings, db_url)
    hid = subjects(settings).own_household
    cw, aud = _token(settings, "caseworker", "330226001"), _token(settings, "auditor")
    outcome = {"visit_date": dt.date.today().isoformat(), "outcome": "in_need",
               "programs_started": ["dibao"], "note": "illness confirmed"}  # fmt: skip
    correction = {"item": "vehicle", "correction": "the car is not theirs", "reason": "sold"}
    with TestClient(create_app(settings)) as first:
        assert (
            first.post(f"/api/v1/households/{hid}/outcomes", headers=cw, json=outcome).status_code
            == 201
        )
        assert (
            first.post(
                f"/api/v1/households/{hid}/corrections", headers=cw, json=correction
            ).status_code
            == 201
        )
        assert first.get(f"/api/v1/households/{hid}", headers=cw).status_code == 200
    with TestClient(create_app(settings)) as second:  # a new app on the same database
        detail = second.get(f"/api/v1/households/{hid}", headers=aud).json()
        assert [v["outcome"] for v in detail["visits"]] == ["in_need"]
        assert detail["visits"][0]["note"] == "illness confirmed"
        found = second.get(f"/api/v1/households/{hid}/corrections", headers=aud).json()["items"]
        assert [c["correction"] for c in found] == ["the car is not theirs"]
        assert found[0]["status"] == "open"
        log = second.get("/api/v1/audit", headers=aud, params={"household_ref": hid}).json()
        actions = {(e["action"], e["resource"]) for e in log["items"]}
        assert {
            ("write", "visit_outcome"),
            ("write", "correction"),
            ("read", "household"),
        } <= actions
        assert all(e["at"].endswith("Z") or e["at"].endswith("+00:00") for e in log["items"])
    engine = db.make_engine(settings.service_db_url)
    try:
        for statement in (tables.audit_log.update().values(purpose="x"), tables.audit_log.delete()):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(statement)
    finally:
        engine.dispose()


def test_lists_state_purpose_reasons_gaps_and_what_to_verify(service_settings) -> None:
    from support.service_seed import OWN_TOWNSHIP

    cw = _token(service_settings, "caseworker", OWN_TOWNSHIP)
    ds = _token(service_settings, "data_scientist")
    with TestClient(create_app(service_settings, ServiceOptions(**UNLIMITED))) as client:
        body = client.get(f"/api/v1/lists/{OWN_TOWNSHIP}", headers=cw).json()
        assert "never a ground to reduce, suspend or reclaim" in body["purpose"]
        assert [e["rank"] for e in body["entries"]] == list(range(1, len(body["entries"]) + 1))
        first = body["entries"][0]
        assert first["reasons"]["model"]["units"] == "log-odds" and first["reasons"]["model"]["zh"]
        assert any(e["masked_name"] for e in body["entries"])
        assert all(e["masked_name"] is None or "*" in e["masked_name"] for e in body["entries"])
        assert all(t["condition"] is None for t in first["reasons"]["trace"])  # verdicts only
        detail = client.get(f"/api/v1/households/{first['household_ref']}", headers=cw).json()
        unknown = [
            (t["program"], t["condition"])
            for t in detail["eligibility"]["trace"]
            if t["condition"] and t["outcome"] == "unknown"
        ]
        to_verify = [
            (v["program"], v["condition"])
            for v in first["verify"]
            if v["kind"] == "eligibility_condition"
        ]
        assert to_verify == unknown
        assert detail["verify"] == first["verify"]
        two = client.get(f"/api/v1/lists/{OWN_TOWNSHIP}", headers=cw, params={"capacity": 2}).json()
        assert [e["household_ref"] for e in two["entries"]] == [
            e["household_ref"] for e in body["entries"][:2]
        ]
        pseudo = client.get(f"/api/v1/lists/{OWN_TOWNSHIP}", headers=ds).json()
        assert all(e["masked_name"] is None for e in pseudo["entries"])


def _shifted(model):
    """The same model with a different calibration: a 'version 2' that scores differently."""
    other = copy.copy(model)
    base = model.calibrator

    class Shifted:
        def predict(self, raw):
            return base.predict(np.asarray(raw) + 1.0)

    other.calibrator = Shifted()
    return other


def test_moving_champion_swaps_the_model_without_restart_and_never_mixes(service_settings) -> None:
    from support.service_seed import subjects

    from training import model_registry

    model, _ = model_registry.load_version(model_registry.Store.for_settings(service_settings))
    models = {"1": model, "2": _shifted(model)}
    alias = {"version": "1"}
    watcher = ChampionWatcher(lambda: alias["version"], lambda v: (models[v], v), poll_seconds=0.05)
    hid = subjects(service_settings).own_household
    aud = _token(service_settings, "auditor")
    options = ServiceOptions(poll_seconds=0.05, **UNLIMITED)
    app = create_app(service_settings, options, watcher=watcher)
    with TestClient(app) as client:
        url = f"/api/v1/households/{hid}/score"
        v1 = client.get(url, headers=aud).json()
        assert v1["model_version"] == "1"
        alias["version"] = "2"
        watcher.poll()
        v2 = client.get(url, headers=aud).json()
        assert v2["model_version"] == "2" and v2["score"] > v1["score"]
        assert v2["explanation"] == v1["explanation"]  # same trees, other calibration
        expected = {"1": v1["score"], "2": v2["score"]}
        seen, errors = [], []

        def hammer() -> None:
            for _ in range(40):
                r = client.get(url, headers=aud)
                if r.status_code != 200:
                    errors.append(r.status_code)
                else:
                    seen.append((r.json()["model_version"], r.json()["score"]))

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(20):
            alias["version"] = "1" if i % 2 else "2"
            watcher.poll()
        for t in threads:
            t.join()
        assert errors == []
        assert all(score == expected[version] for version, score in seen)
        assert client.get("/api/v1/model", headers=aud).json()["model_version"] in ("1", "2")


def test_no_id_number_or_clear_name_in_responses_or_logs(
    service_settings, tokens, fixture_world, caplog
) -> None:
    from support.service_seed import OWN_TOWNSHIP, subjects
    from test_service_authz import BODIES, ROLES, TARGETS, app_routes, subject_path

    persons = pq.read_table(fixture_world / "truth" / "persons.parquet").to_pandas()
    names = {n for n in persons["name"].dropna().astype(str) if len(n) >= 2}
    s = subjects(service_settings)
    caplog.set_level(logging.DEBUG)
    texts = []
    with TestClient(create_app(service_settings, ServiceOptions(**UNLIMITED))) as client:
        for method, path in sorted(app_routes(client.app)):
            for role in ROLES:
                for target in TARGETS:
                    url = subject_path(path, role, target, s)
                    auth_header = {"Authorization": f"Bearer {tokens[role]}"}
                    r = client.request(method, url, json=BODIES.get(path), headers=auth_header)
                    texts.append(r.text)
        auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
        texts.append(client.get(f"/api/v1/lists/{OWN_TOWNSHIP}", headers=auditor).text)
        bad = {"visit_date": dt.date.today().isoformat(), "outcome": "visited",
               "note": "ID 330226198306113456"}  # fmt: skip
        caseworker = {"Authorization": f"Bearer {tokens['caseworker']}"}
        url = f"/api/v1/households/{s.own_household}/outcomes"
        r = client.post(url, json=bad, headers=caseworker)
        assert r.status_code == 422 and "ID number" in r.json()["detail"]
        texts.append(r.text)
    texts.extend(rec.getMessage() for rec in caplog.records)
    # keyed hashes (household refs, run ids) are hex and may hold digit runs: not ID numbers
    blob = KEYED_HASH.sub("<key>", "\n".join(texts))
    found = ID_NUMBER.search(blob)
    assert found is None, blob[max(0, found.start() - 200) : found.end() + 50]
    leaked = [n for n in names if n in blob]
    assert leaked == []
