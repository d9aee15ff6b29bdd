"""The SPARQL page (/query) through Flask's test client: download links that name their files, the example menu
(full titles, the chosen example kept after Run) and syntax errors with their line, column and text."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from api import create_app
from maas_kg.catalogue import browse

SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 2"
CONSTRUCT = "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-query")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True})
    return app.test_client()


def download_links(page: str) -> dict[str, str]:
    """The page's download links by label."""
    return {label: html.unescape(href) for href, label in re.findall(r'<a href="([^"]*)" download>([^<]+)</a>', page)}


def selected_example(page: str) -> str | None:
    found = re.search(r'<option value="([^"]*)"[^>]*\sselected>', page)
    return found[1] if found else None


def alert(page: str) -> str:
    found = re.search(r'<div class="notice failure" role="alert">(.*?)</div>', page, re.S)
    assert found, "no error shown"
    return html.unescape(found[1])


@pytest.mark.parametrize("query, expected", [
    (SELECT, {"JSON": "results.srj", "XML": "results.srx", "CSV": "results.csv", "TSV": "results.tsv"}),
    (CONSTRUCT, {"Turtle": "results.ttl", "N-Triples": "results.nt", "JSON-LD": "results.jsonld",
                 "RDF/XML": "results.rdf"}),
])
def test_downloads_are_attachments_named_by_their_format(client, query, expected):
    page = client.post("/query", data={"query": query}).get_data(as_text=True)
    links = download_links(page)
    assert set(links) == set(expected)
    for label, filename in expected.items():
        response = client.get(links[label])
        assert response.status_code == 200, label
        assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'


def test_downloads_of_an_example_carry_its_name(client):
    example = next(e for e in browse.example_queries() if e.name == "services-per-country")
    page = client.post("/query", data={"query": example.text, "example": example.name}).get_data(as_text=True)
    names = {label: client.get(href).headers["Content-Disposition"] for label, href in download_links(page).items()}
    assert names == {label: f'attachment; filename="services-per-country.{extension}"' for label, extension in
                     (("JSON", "srj"), ("XML", "srx"), ("CSV", "csv"), ("TSV", "tsv"))}


def test_the_endpoint_answers_inline_unless_a_download_is_asked_for(client):
    assert "Content-Disposition" not in client.get("/sparql", query_string={"query": SELECT}).headers
    assert "Content-Disposition" not in client.get("/sparql", query_string={"query": SELECT,
                                                                           "format": "csv"}).headers
    response = client.post("/sparql", data={"query": SELECT, "download": "mine"}, headers={"Accept": "text/csv"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="mine.csv"'
    for name, filename in (("../../etc/passwd", "etc-passwd.tsv"), ('a"b\r\nX-Evil: 1', "a-b-X-Evil-1.tsv"),
                           ("", "results.tsv"), ("ü" * 300, "results.tsv"), ("x" * 300, "x" * 80 + ".tsv")):
        response = client.get("/sparql", query_string={"query": SELECT, "format": "tsv", "download": name})
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
        assert "X-Evil" not in response.headers


def test_the_example_menu_shows_full_titles(client):
    page = client.get("/query").get_data(as_text=True)
    page_without_texts = re.sub(r'data-query="[^"]*"', "", page)
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', page_without_texts))
    assert options["five-axis-milling-near-munich"] == html.escape(
        "5-axis milling services (the class and its subclasses) with their provider, site and price, nearest to "
        "Munich (48.14 N, 11.58 E) first.", quote=True)
    assert "code), English and German label, and its parent." in options["process-taxonomy"]
    assert "so a take-back network can be planned close to the end users." in options["remanufacturing-providers"]
    assert set(options) == {e.name for e in browse.example_queries()}
    assert selected_example(page) is None  # nothing chosen yet: the first example's text, the menu at "—"


def test_the_chosen_example_stays_selected_after_run(client):
    example = next(e for e in browse.example_queries() if e.name == "materials")
    page = client.post("/query", data={"query": example.text, "example": example.name}).get_data(as_text=True)
    assert selected_example(page) == "materials"
    assert 'id="query-results"' in page
    textarea = re.search(r'<textarea id="f-query" name="query"[^>]*>(.*?)</textarea>', page, re.S)[1]
    assert html.unescape(textarea) == example.text
    assert selected_example(client.get("/query?example=materials").get_data(as_text=True)) == "materials"
    assert selected_example(client.post("/query", data={"query": SELECT, "example": "<nope>"})
                            .get_data(as_text=True)) is None


@pytest.mark.parametrize("query, line, column, excerpt", [
    ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?s\nWHERE { ?s ?p ?o } LIMIT many", 3, 26,
     "WHERE { ?s ?p ?o } LIMIT many"),
    ("SELECT *\r\nWHERE { ?s <http://a b> ?o }", 2, 24, "WHERE { ?s <http://a b> ?o }"),
    ("ASK { ?s ?p ?o } }", 1, 18, "ASK { ?s ?p ?o } }"),  # past what Oxigraph reads: rdflib's position
])
def test_a_syntax_error_shows_line_column_and_the_text_there(client, query, line, column, excerpt):
    response = client.post("/query", data={"query": query})
    assert response.status_code == 200
    shown = alert(response.get_data(as_text=True))
    assert f"SPARQL syntax error at line {line}, column {column}: " in shown
    lines = re.search(r"<pre[^>]*>(.*)</pre>", shown, re.S)[1].split("\n")
    assert lines[0] == excerpt and lines[1] == " " * (column - 1) + "^"


def test_a_syntax_error_in_a_long_line_shows_an_escaped_excerpt(client):
    query = 'SELECT * WHERE { ?s ?p "' + "x" * 200 + '" } LIMIT <script>alert(1)</script> ' + "y" * 100
    page = client.post("/query", data={"query": query}).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)" in page
    shown = alert(page)
    column = int(re.search(r"column (\d+)", shown)[1])
    excerpt, caret = re.search(r"<pre[^>]*>(.*)</pre>", shown, re.S)[1].split("\n")
    assert excerpt.startswith("…") and excerpt.endswith("…") and len(excerpt) <= 82
    assert excerpt[caret.index("^")] == query[column - 1] == "<"


@pytest.mark.parametrize("query", ["SELEC", "}", "\x00", '"""', "SELECT * WHERE { ?s ?p ?o LATERAL { } }",
                                   "SELECT * WHERE {\n" * 60, "\n\n\n", "# only a comment", "SELECT ?x\r"])
def test_bad_queries_never_fail_the_page(client, query):
    response = client.post("/query", data={"query": query, "example": "materials"})
    assert response.status_code == 200
    assert alert(response.get_data(as_text=True))
