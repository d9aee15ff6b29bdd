"""Every CLI command through click's runner, including the error cases (one line, non-zero exit, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from maas_kg import knowledge
from maas_kg.cli import main
from maas_kg.knowledge import PROC
from maas_kg.store import open_store

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parents[1] / "shapes" / "examples"
WEBER = "https://w3id.org/maas-kg/id/service/weber-5axis"


@pytest.fixture
def run(tmp_path):
    store = str(tmp_path / "store")

    def invoke(*args, expect=0):
        result = CliRunner().invoke(main, ["--store", store, *args], catch_exceptions=False)
        assert result.exit_code == expect, result.output
        assert "Traceback" not in result.output
        return result.output
    invoke.store = store
    return invoke


def test_load_reports_modules_then_nothing_to_do(run):
    assert "module(s) loaded" in run("load")
    assert "all current" in run("load")
    assert f"{len(knowledge.ontology_modules())} module(s) loaded" in run("load", "--force")  # every module again


def test_validate_exit_codes_and_formats(run):
    assert run("validate", str(EXAMPLES / "service-valid.ttl")).strip() == "conforms"
    out = run("validate", str(EXAMPLES / "service-invalid-process.ttl"), expect=1)
    assert "process must name exactly one process" in out
    report = json.loads(run("validate", "--format", "json", str(DATA / "services-mixed.json"), expect=1))
    assert report["conforms"] is False and {"focus", "path", "value", "message"} <= set(report["violations"][0])
    assert "sh:ValidationReport" in run("validate", "--format", "turtle", str(EXAMPLES / "service-invalid-process.ttl"),
                                         expect=1)


def test_publish_list_withdraw_info_export_import(run, tmp_path):
    out = run("publish", str(DATA / "service-weber.json"))
    assert "1 published, 0 rejected" in out
    out = run("publish", str(DATA / "services-mixed.json"), expect=1)
    assert "1 published, 2 rejected" in out and "envelope_z must be a positive length in mm" in out
    assert "weber-5axis" in run("list", "--process", "3.2.3")
    assert "weber-5axis" not in run("list", "--process", "turning")
    assert "nowak-laser" in run("list", "--country", "PL")
    rows = json.loads(run("list", "--material", "aluminium alloy", "--format", "json"))
    assert [r["service"] for r in rows] == [WEBER]
    assert "services: 2 published, 0 withdrawn" in run("info")
    assert "withdrew" in run("withdraw", WEBER)
    assert "weber-5axis" not in run("list")
    dump = tmp_path / "dump.nq"
    assert "exported" in run("export", str(dump))
    fresh = CliRunner().invoke(main, ["--store", str(tmp_path / "other"), "import", str(dump)])
    assert fresh.exit_code == 0 and "imported" in fresh.output


def test_sparql_formats_and_query_files(run, tmp_path):
    run("load")
    query = "SELECT ?c WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> \"3.2.3\" }"
    assert "Milling" in run("sparql", query)
    assert json.loads(run("sparql", "--format", "json", query))["results"]["bindings"]
    assert run("sparql", "--format", "csv", query).split()[:2] == ["c", str(PROC.Milling)]
    file = tmp_path / "q.rq"
    file.write_text(query)
    assert "Milling" in run("sparql", f"@{file}")
    assert run("sparql", "ASK { ?s ?p ?o }").strip() == "true"


@pytest.mark.parametrize("args, message", [
    (["validate", "missing.ttl"], "no such file: missing.ttl"),
    (["publish", "missing.json"], "no such file: missing.json"),
    (["sparql", "SELEC x"], "SPARQL syntax error"),
    (["list", "--process", "laser beam cuting"], "closest known: laser beam cutting"),
    (["list", "--material", "42CrMo5"], "closest known: 42crmo4"),
    (["withdraw", "https://w3id.org/maas-kg/id/service/none"], "no service"),
    (["validate", "--kind", "service", "README.md"], "unknown input format"),
])
def test_errors_are_one_clear_line(run, args, message):
    out = run(*args, expect=1)
    assert message in out
    assert out.count("\n") <= 2


def test_malformed_rdf_names_line_and_column(run, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix maas: <https://w3id.org/maas-kg/ns#> .\n\n<a> maas:name \"unterminated .\n")
    out = run("validate", str(bad), expect=1)
    assert "malformed turtle" in out and "line 3" in out


def test_a_locked_store_is_reported(run):
    run("load")
    holder = open_store(run.store)
    try:
        out = run("info", expect=1)
        assert "locked by another process" in out
    finally:
        holder.close()


PRODUCTS = Path(__file__).parents[1] / "examples" / "products"


def test_match_shows_ranked_providers_per_step_then_near_misses_and_json(run, tmp_path):
    run("demo", "--providers", "60", "--seed", "1")
    out = run("match", str(PRODUCTS / "turned-ground-shaft.json"), "--today", "2026-11-22", "--top", "2")
    assert "route 1: turning -> grinding with a rotating tool" in out
    assert "step 1: turning [3.2.1]" in out and "| provider" in out and "near misses" in out
    assert "assignment 1: total" in out
    document = json.loads(run("match", str(PRODUCTS / "pa12-lattice-part.json"), "--format", "json",
                              "--today", "2026-11-22"))
    assert document["product"].endswith("pa12-lattice-part")
    assert {"rank", "score", "reasons", "steps", "assignments"} <= set(document["routes"][0])
    assert document["routes"][0]["steps"][0]["process"]["iri"].startswith(str(PROC))
    import rdflib

    graph = rdflib.Graph().parse(data=run("match", str(PRODUCTS / "pa12-lattice-part.json"), "--format", "turtle",
                                          "--today", "2026-11-22"), format="turtle")
    maas = rdflib.Namespace("https://w3id.org/maas-kg/ns#")
    candidates = set(graph.subjects(rdflib.RDF.type, maas.ServiceCandidate))
    assert len(candidates) == document["routes"][0]["steps"][0]["candidate_count"]
    assert all((c, maas.candidateFor, None) in graph for c in candidates)
    # the products stayed in the private workspace: the catalogue store has none of them
    products = "ASK { GRAPH ?g { ?p a <https://w3id.org/maas-kg/ns#Product> } }"
    assert run("sparql", products).strip() == "false"


def test_match_errors_are_one_line(run, tmp_path):
    assert "no such file" in run("match", str(tmp_path / "missing.json"), expect=1)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "material": "unobtainium", "shape": "rotational",
                               "envelope_mm": [1, 2, 3], "quantity": 1}))
    out = run("match", str(bad), expect=1)
    assert "unobtainium" in out and "closest known" in out
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"name": "x", "material": "C45", "shape": "rotational",
                                   "envelope_mm": [1, 2, -3], "quantity": 0}))
    out = run("match", str(invalid), expect=1)
    assert "Error: the product is invalid" in out and "quantity" in out
    bad_date = run("match", str(PRODUCTS / "turned-ground-shaft.json"), "--today", "22.11.2026", expect=2)
    assert "Invalid value for '--today'" in bad_date


def test_keys_are_created_listed_and_revoked_and_only_hashes_are_kept(run, tmp_path):
    keys = str(tmp_path / "keys.sqlite")
    token = run("keys", "--keys", keys, "create", "--provider", "https://w3id.org/maas-kg/id/provider/weber",
                "--label", "Weber's ERP").splitlines()[0]
    assert token.startswith("mkg_")
    key_id = token.split("_")[1]
    listing = run("keys", "--keys", keys, "list")
    assert key_id in listing and "Weber's ERP" in listing and token not in listing
    assert token.encode() not in Path(keys).read_bytes()  # only the hash is stored
    assert f"revoked key {key_id}" in run("keys", "--keys", keys, "revoke", key_id)
    from maas_kg.catalogue.keys import KeyRing

    assert KeyRing(keys).authenticate(token) is None
    # errors are one line
    assert "already revoked" in run("keys", "--keys", keys, "revoke", key_id, expect=1)
    assert "no key nope" in run("keys", "--keys", keys, "revoke", "nope", expect=1)
    assert "--provider" in run("keys", "--keys", keys, "create", expect=1)
    assert "must be an IRI" in run("keys", "--keys", keys, "create", "--provider", "weber", expect=1)
    assert run("keys", "--keys", keys, "create", "--admin").startswith("mkg_")


def test_serve_refuses_what_cannot_work(run):
    assert "cannot be shared by several workers" in run("--store", "memory", "serve", "--workers", "2", expect=1)
