"""The auditor's linkage pages on the scored fixture county (issue 17, item 5): a household's
linked records and the waterfall of any pair's match weights, from the model the linkage run
kept; audited, masked, auditor-only, and one sentence for every bad or unknown key."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
from support.pages import audit_rows

from features.linkage.model import make_linker
from features.linkage.pair import explain_pair, read_record, run_model, term_frequencies

pytestmark = pytest.mark.integration
STEP = re.compile(r'<tr data-testid="waterfall-step"><th scope="row">([^<]*)</th>'
                  r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td>'
                  r'<td class="num">([^<]*)</td><td class="num">([^<]*)</td></tr>')  # fmt: skip


def _warehouse(settings):
    return duckdb.connect(str(settings.warehouse_path), read_only=True)


def _probabilistic_pair(settings) -> tuple[str, str]:
    """A record linked probabilistically and a record of the same person linked by ID."""
    with _warehouse(settings) as con:
        row = con.execute("""
            SELECT p.agency || ':' || p.record_id, i.agency || ':' || i.record_id
            FROM links p JOIN links i ON i.person_id = p.person_id AND i.method = 'id'
            WHERE p.method = 'probabilistic' ORDER BY 1, 2 LIMIT 1""").fetchone()  # fmt: skip
    assert row is not None
    return row


def test_the_run_kept_the_model_it_scored_with(service_settings) -> None:
    trained = json.loads((service_settings.data_dir / "linkage" / "model.json").read_text())
    with _warehouse(service_settings) as con:
        model = run_model(con)
        (persons,) = con.execute(
            "SELECT count(DISTINCT person_key) FROM person_records").fetchone()  # fmt: skip
        (tf_rows,) = con.execute("SELECT count(*) FROM link_term_frequencies").fetchone()
    assert model["probability_two_random_records_match"] == pytest.approx(1 / persons)
    assert tf_rows > 100
    for ours, theirs in zip(model["comparisons"], trained["comparisons"], strict=True):
        for a, b in zip(ours["comparison_levels"], theirs["comparison_levels"], strict=True):
            assert a.get("m_probability") == b.get("m_probability")  # the trained m and u
            assert a.get("u_probability") == b.get("u_probability")


def test_the_waterfall_is_splinks_match_weight_for_real_pairs(service_settings) -> None:
    a, b = _probabilistic_pair(service_settings)
    with _warehouse(service_settings) as con:
        found = explain_pair(con, a, b)
        model = run_model(con)
        left, right = read_record(con, a), read_record(con, b)
        tf = term_frequencies(con, model, left, right)
    w = found.waterfall
    assert w.prior_weight + sum(s.weight for s in w.steps) == pytest.approx(w.match_weight)
    # Splink scores the same two prepared records with the kept model and frequencies
    scoring = duckdb.connect()
    rows = []
    for uid, rec, side in (("a", left, 0), ("b", right, 1)):
        cols = {**rec.columns, "unique_id": uid}
        cols |= {f"tf_{c}": pair[side] for c, pair in tf.items()}
        rows.append(cols)
    names = list(rows[0])
    types = {"birth_date": "DATE"}
    select = ", ".join(
        f'CAST(? AS {types.get(n, "DOUBLE" if n.startswith("tf_") else "VARCHAR")}) AS "{n}"'
        for n in names
    )
    scoring.execute(f"CREATE TABLE recs AS SELECT {select} UNION ALL SELECT {select}",
                    [r[n] for r in rows for n in names])  # fmt: skip
    model |= {"blocking_rules_to_generate_predictions": [], "additional_columns_to_retain": []}
    linker = make_linker(scoring, "recs", model)
    sides = [linker.table_management.register_table(
        scoring.sql(f"SELECT * FROM recs WHERE unique_id = '{u}'").to_arrow_table(), f"r_{u}")
        for u in ("a", "b")]  # fmt: skip
    got = linker.inference.score_pair(*sides).as_pandas_dataframe().iloc[0]
    scoring.close()
    assert w.match_weight == pytest.approx(float(got["match_weight"]), abs=1e-6)
    assert w.match_probability == pytest.approx(float(got["match_probability"]), abs=1e-9)


def test_a_household_lists_its_linked_records_masked_and_audited(browsers, s, service_settings):
    r = browsers["auditor"].get(f"/audit/linkage?ref={s.own_household}&lang=en")
    assert r.status_code == 200, r.text[:300]
    assert r.text.count('data-testid="linked-record"') >= 2
    assert s.own_records[0] in r.text and 'action="/audit/linkage/pair"' in r.text
    with _warehouse(service_settings) as con:
        names = [
            n
            for (n,) in con.execute(
                """
            SELECT DISTINCT r.name FROM memberships m JOIN links l ON l.person_id = m.person_id
            JOIN person_records r ON r.agency = l.agency AND r.record_id = l.record_id
            WHERE m.household_id = ? AND r.name IS NOT NULL""",
                [s.own_household],
            ).fetchall()
        ]
    assert names and not any(n in r.text for n in names if len(n) > 1)  # masked, never clear
    (row,) = audit_rows(service_settings, r.headers["x-request-id"])
    assert (row["action"], row["resource"], row["household_id"]) == (
        "read", "linked_records", s.own_household)  # fmt: skip
    assert row["role"] == "auditor" and row["detail"]["records"] >= 2


def test_the_pair_page_shows_the_waterfall_as_a_chart_and_a_table(browsers, service_settings):
    a, b = _probabilistic_pair(service_settings)
    r = browsers["auditor"].get(f"/audit/linkage/pair?a={a}&b={b}&lang=en")
    assert r.status_code == 200, r.text[:300]
    with _warehouse(service_settings) as con:
        w = explain_pair(con, a, b).waterfall
        names = [read_record(con, k).name for k in (a, b)]
    assert '<svg id="match-waterfall"' in r.text and 'role="img"' in r.text
    steps = STEP.findall(r.text)
    assert steps[0][0].startswith("Prior") and steps[-1][0] == "Match probability"
    assert len(steps) == len(w.steps) + 3  # prior, each step, final weight, probability
    totals = [float(t) for *_, t in steps[1:-1]]
    assert totals[-1] == pytest.approx(w.match_weight, abs=1e-3)
    weights = [float(x[3]) for x in steps[1:-2]]
    assert float(steps[0][3]) + sum(weights) == pytest.approx(totals[-1], abs=0.01)
    assert any(label.startswith("Name: ") for label, *_ in steps)
    assert float(steps[-1][4]) == pytest.approx(w.match_probability, abs=1e-4)
    for (_, m, u, *_), step in zip(steps[1:-2], w.steps, strict=True):  # the kept m and u
        assert (m == "") == (step.m is None)
        if step.m is not None:
            assert float(m) == pytest.approx(step.m, rel=1e-3)
            assert float(u) == pytest.approx(step.u, rel=1e-3)
    assert not any(n and len(n) > 1 and n in r.text for n in names)  # names masked
    rows = audit_rows(service_settings, r.headers["x-request-id"])
    assert rows and {x["resource"] for x in rows} == {"link_waterfall"}
    assert rows[0]["detail"]["records"] == [a, b]
    assert all(x["household_id"] for x in rows)  # one row per household of the two persons
    zh = browsers["auditor"].get(f"/audit/linkage/pair?a={a}&b={b}&lang=zh")
    assert zh.status_code == 200 and "匹配权重瀑布图" in zh.text and "姓名: " in zh.text


@pytest.mark.parametrize(
    "query, status, sentence",
    [
        ("a=nonsense&b=x", 422, "A record key is malformed"),
        ("a=civil_registry:1&b=", 422, "A record key is malformed"),
        ("a=planets:1&b=planets:2", 422, "A record key is malformed"),
        ("a=civil_registry:nobody-1&b=civil_registry:nobody-2", 404, "holds no record"),
        ("a=OWN&b=OWN", 422, "Both keys name one record"),
        ("a=%27%3B+DROP+TABLE+links&b=x", 422, "A record key is malformed"),
    ],
)
def test_bad_or_unknown_keys_answer_one_sentence(browsers, s, query, status, sentence):
    query = query.replace("OWN", s.own_records[0])
    r = browsers["auditor"].get(f"/audit/linkage/pair?{query}&lang=en")
    assert r.status_code == status
    (said,) = re.findall(r'data-testid="linkage-error">([^<]*)<', r.text)
    assert sentence in said and said.endswith(".") and ". " not in said  # one sentence
    assert "Traceback" not in r.text


def test_bad_or_unknown_households_answer_one_sentence(browsers):
    r = browsers["auditor"].get("/audit/linkage?ref=nothing&lang=en")
    assert r.status_code == 422 and "household reference is malformed" in r.text
    r = browsers["auditor"].get("/audit/linkage?ref=H" + "0a" * 12 + "&lang=en")
    assert r.status_code == 404 and "no linked records for this household" in r.text
    assert "H" + "0a" * 12 not in r.text  # nothing asked for is echoed


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "data_scientist"])
def test_only_auditors_open_the_linkage_pages(browsers, s, role):
    for url in (f"/audit/linkage?ref={s.own_household}",
                f"/audit/linkage/pair?a={s.own_records[0]}&b={s.own_records[1]}"):  # fmt: skip
        assert browsers[role].get(url).status_code == 403


def test_the_audit_pages_link_to_the_linkage_pages(browsers, s):
    assert 'href="/audit/linkage"' in browsers["auditor"].get("/audit").text
    page = browsers["auditor"].get(f"/audit/households/{s.own_household}").text
    assert f'href="/audit/linkage?ref={s.own_household}"' in page
