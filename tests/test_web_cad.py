"""Matching a CAD file on the web matching form (issue 22): the upload with the fields the file cannot give, the
part's characteristics with how each was found, its 3D preview (three.js served by the application, drawn in the
real browser) and the routes; bad uploads show the form again with what to fix. The upload is never stored."""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from harness import running_service, snapshot, watched_page
from maas_kg.cad.preview import MAX_TRIANGLES, decode, encode, preview_mesh

ROOT = Path(__file__).parents[1]
CAD = ROOT / "examples" / "cad"
THREE = ROOT / "api" / "vendor" / "node_modules" / "three" / "build" / "three.module.js"


# -- the preview mesh --------------------------------------------------------------------------------------------

def test_a_large_mesh_is_simplified_to_the_cap_and_keeps_its_box():
    import trimesh

    torus = trimesh.creation.torus(100, 30, major_sections=600, minor_sections=300)
    assert len(torus.faces) > MAX_TRIANGLES
    vertices, faces = preview_mesh(torus.vertices, torus.faces)
    assert vertices.dtype == np.float32 and faces.dtype == np.uint32
    assert 0.5 * MAX_TRIANGLES < len(faces) <= MAX_TRIANGLES
    assert faces.max() < len(vertices) and len(np.unique(faces)) == len(vertices)  # no unused vertex
    assert np.all(faces[:, 0] != faces[:, 1]) and np.all(faces[:, 1] != faces[:, 2])
    assert np.ptp(vertices, axis=0) == pytest.approx(np.ptp(torus.vertices, axis=0), rel=0.02)
    again = decode(encode(vertices, faces))
    assert np.array_equal(again[0], vertices) and np.array_equal(again[1], faces)


def test_a_small_mesh_is_kept_as_it_is():
    import trimesh

    box = trimesh.creation.box((10, 20, 30))
    vertices, faces = preview_mesh(box.vertices, box.faces)
    assert len(faces) == 12 and len(vertices) == 8


def test_the_child_returns_the_preview_only_when_asked():
    from maas_kg.cad import characterise

    plain = characterise(str(CAD / "milled-bracket.step"))
    assert getattr(plain, "preview", None) is None
    result = characterise(str(CAD / "milled-bracket.step"), preview=True)
    vertices, faces = decode(result.preview)
    assert 0 < len(faces) <= MAX_TRIANGLES
    assert np.ptp(vertices, axis=0) == pytest.approx([120, 80, 40], abs=0.01)
    assert "preview" not in json.dumps(result.as_json())


# -- the form, through the Flask test client ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from api import create_app
    from maas_kg import catalogue
    from maas_kg.catalogue.demo import generate_services

    folder = tmp_path_factory.mktemp("web-cad")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True,
                      "MAX_CONTENT_LENGTH": 5 * 1024 * 1024})
    demo = json.dumps(list(generate_services(120, 1))).encode()
    assert any(r.published for r in catalogue.publish(app.extensions["maas_kg"].catalogue, demo, "json"))
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def _upload(client, name: str, content: bytes | None = None, **fields):
    data = {"source": "cad", **fields}
    if name:
        data["cad_file"] = (io.BytesIO((CAD / name).read_bytes() if content is None else content), name)
    return client.post("/matching", data=data, content_type="multipart/form-data")


def _text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_form_offers_the_cad_upload(client):
    page = client.get("/matching").get_data(as_text=True)
    assert 'id="cad-form"' in page and 'enctype="multipart/form-data"' in page
    assert 'accept=".step,.stp,.stl,.3mf,.obj"' in page
    for name in ("cad_file", "material", "quantity", "tolerance_mm", "roughness_ra_um", "place", "due"):
        assert f'id="c-{name}"' in page and f'for="c-{name}"' in page
    assert "never stored" in page


def test_a_step_file_is_characterised_previewed_and_matched(client, monkeypatch):
    folders = []
    original = tempfile.TemporaryDirectory

    def recorded(*args, **kwargs):
        folder = original(*args, **kwargs)
        folders.append(folder.name)
        return folder

    monkeypatch.setattr("api.web_cad.tempfile.TemporaryDirectory", recorded)
    response = _upload(client, "milled-bracket.step", material="EN AW-6082", quantity="50", tolerance_mm="0.05",
                       place="Munich")
    assert response.status_code == 200, _text(response)[:2000]
    page, text = response.get_data(as_text=True), _text(response)
    # the upload lived in a temporary folder that is gone before the answer, and the answer is not cached
    assert folders and not any(os.path.exists(folder) for folder in folders)
    assert "no-store" in response.headers["Cache-Control"]
    # the characteristics, each with how it was found
    assert "The part from milled-bracket.step" in text
    for measure, value, how in (("Envelope", "120.0 × 80.0 × 40.0 mm", "axis-aligned box"),
                                ("Volume", "200,183 mm³", "BRepGProp"), ("Surface area", "mm²", "BRepGProp"),
                                ("Mass", "0.540 kg", "density 2700"),
                                ("Shape class", "prismatic", "planes and cylinders"),
                                ("Minimum wall", "mm", "rays"), ("Holes", "4: Ø 9 mm × 15 mm", "concave cylindrical"),
                                ("Stock removal", "mm³ (block of the axis-aligned box)", "blank")):
        row = re.search(rf"<th scope=\"row\">{measure}[^<]*</th><td>(.*?)</td><td><small>(.*?)</small>", page)
        assert row, measure
        assert value in html.unescape(row[1]) and how in html.unescape(row[2]), (measure, row.groups())
    # the preview: the part's tessellation in the page, three.js from the application through an import map
    mesh = re.search(r'data-mesh="([A-Za-z0-9+/=]+)"', page)[1]
    vertices, faces = decode(base64.b64decode(mesh))
    assert 0 < len(faces) <= MAX_TRIANGLES
    assert np.ptp(vertices, axis=0) == pytest.approx([120, 80, 40], abs=0.01)
    assert 'role="img"' in page and 'aria-describedby="cad-table"' in page
    assert '"three": "/vendor/three/build/three.module.js"' in page
    assert '"three/addons/": "/vendor/three/examples/jsm/"' in page
    assert 'src="/static/cad-preview.js"' in page and "cdn" not in page.lower()
    # the request as matched, and the routes with their candidates as the typed form shows them
    assert "EN AW-6082 · prismatic" in text and "Munich" in text
    assert 'id="route-1"' in page and "candidate(s)" in text
    assert 'name="pick"' in page  # candidates to request quotes from
    assert 'id="keep-form"' not in page  # keeping re-matches from the form: without the file it cannot
    assert "/matching?" in page and "cad=1" in page  # match another part: the CAD form keeps its values
    again = client.get("/matching?cad=1&material=EN+AW-6082&quantity=50").get_data(as_text=True)
    assert re.search(r'id="c-material" name="material" type="text" value="EN AW-6082"', again)


def test_a_lattice_stl_is_characterised_and_matched(client):
    response = _upload(client, "lattice-cube.stl", material="PA12", quantity="20")
    assert response.status_code == 200, _text(response)[:2000]
    text = _text(response)
    assert "The part from lattice-cube.stl" in text and "lattice" in text
    assert "not detected on meshes" in text  # holes: how a mesh answers
    assert 'id="route-1"' in response.get_data(as_text=True)


@pytest.mark.parametrize("name, content, status, message", [
    ("drawing.pdf", b"%PDF-1.4", 400, "is not a CAD file read here"),
    ("part.step", b"solid nonsense\nendsolid\n", 422, "not a STEP file"),
    ("part.stl", b"\x00" * 40, 422, "STL"),
])
def test_a_bad_file_shows_the_form_again_with_what_to_fix(client, name, content, status, message):
    data = {"source": "cad", "material": "S355J2", "quantity": "5",
            "cad_file": (io.BytesIO(content), name)}
    response = client.post("/matching", data=data, content_type="multipart/form-data")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert 'class="notice failure" role="alert"' in page and message in html.unescape(page)
    assert 'id="cad-form"' in page and 'aria-invalid="true" aria-errormessage="ce-cad_file"' in page
    assert 'value="S355J2"' in page  # the form keeps what was typed


def test_material_and_quantity_are_needed_besides_the_file(client):
    response = _upload(client, "milled-bracket.step")
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "give the material: the file cannot say it" in page and "give the quantity" in page
    assert 'aria-errormessage="ce-material"' in page and 'aria-errormessage="ce-quantity"' in page
    missing = client.post("/matching", data={"source": "cad", "material": "S355J2", "quantity": "1"},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and "choose a CAD file" in missing.get_data(as_text=True)


def test_a_past_due_date_is_refused_next_to_its_field(client):
    response = _upload(client, "milled-bracket.step", material="EN AW-6082", quantity="5", due="2001-01-01")
    assert response.status_code == 400
    assert 'aria-errormessage="ce-due"' in response.get_data(as_text=True)


def test_an_unknown_material_is_said(client):
    response = _upload(client, "milled-bracket.step", material="unobtainium", quantity="5")
    assert response.status_code in (400, 422)
    assert "unobtainium" in html.unescape(response.get_data(as_text=True))


def test_a_file_over_the_limits_is_refused_with_the_form(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100_000)  # the body limit: the body is never read
    response = _upload(client, "lattice-cube.stl", material="PA12", quantity="2")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "larger than 100,000 bytes" in page and 'id="cad-form"' in page
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 5 * 1024 * 1024)
    monkeypatch.setattr("api.cad.MAX_CAD_BYTES", 200_000)  # the CAD limit, below the body limit
    response = _upload(client, "lattice-cube.stl", material="PA12", quantity="2")
    assert response.status_code == 413
    assert "the CAD file is larger than 200,000 bytes" in response.get_data(as_text=True)


def test_a_quote_breakdown_is_shown_when_the_answer_has_one(app):
    from flask import render_template_string

    breakdown = {"setup": {"value": 106.25, "how": "cost_model.setup_hours = 1.25 h x machine_hour_rate 85 = 106.25"},
                 "time_per_part_min": {"value": 12.5, "how": "roughing 10 + finishing 2.5 = 12.5 min",
                                       "terms": [{"name": "roughing", "minutes": 10.0, "how": "removal 400 / rate 40"},
                                                 {"name": "finishing", "minutes": 2.5, "how": "area / rate"}]},
                 "processing": {"value": 885.42, "how": "12.5 min / 60 x machine_hour_rate 85 x quantity 50"},
                 "material": {"value": None, "how": "the cost model states no material_price_per_kg"},
                 "tooling": {"value": None, "per_part": None, "how": "no mould_cost"},
                 "total": 991.67, "per_part": 19.83, "currency": "EUR", "quantity": 50}
    template = '{% from "cad_macros.html" import quote_breakdown %}{{ quote_breakdown(quote, "en") }}'
    with app.test_request_context("/matching"):
        shown = render_template_string(template, quote={"total": 991.67, "currency": "EUR", "basis": "cost model",
                                                        "breakdown": breakdown})
        flat = render_template_string(template, quote={"total": 500.0, "currency": "EUR", "basis": "flat price",
                                                       "breakdown": None})
        before = render_template_string(template, quote={"total": 500.0, "currency": "EUR", "total_eur": 500.0})
    text = html.unescape(re.sub(r"<[^>]+>", " ", shown))
    assert "<details" in shown and "cost model" in text
    for part in ("Setup", "106.25 EUR", "machine_hour_rate 85", "Time per part", "12.50 min", "roughing",
                 "Processing", "885.42 EUR", "Material", "no material_price_per_kg", "Tooling", "991.67 EUR",
                 "50 parts", "19.83 per part"):
        assert part in text, part
    assert "<details" not in flat and "flat price" in flat
    assert before.strip() == ""


def test_three_is_served_by_the_application(client):
    if not THREE.exists():
        pytest.fail(f"no three.js at {THREE}: `make test` and `make run` install it (npm ci --prefix api/vendor)")
    module = client.get("/vendor/three/build/three.module.js")
    assert module.status_code == 200 and "javascript" in module.content_type
    controls = client.get("/vendor/three/examples/jsm/controls/OrbitControls.js")
    assert controls.status_code == 200 and b"OrbitControls" in controls.data
    for elsewhere in ("/vendor/three/package.json", "/vendor/three/../../package.json", "/vendor/three/src/Three.js"):
        assert client.get(elsewhere).status_code == 404


# -- the real browser: upload, WebGL preview, accessibility -------------------------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if not THREE.exists():
        pytest.fail(f"no three.js at {THREE}: `make test` installs it (npm ci --prefix api/vendor)")
    with running_service(tmp_path_factory.mktemp("web-cad"), providers=60, seed=1) as running:
        yield running


def upload_in_the_browser(page, name: str = "milled-bracket.step", material: str = "EN AW-6082") -> None:
    """On /matching: choose the CAD file, type material and quantity, match, and wait for the preview's first
    frame (the module sets data-rendered)."""
    page.goto("/matching")
    page.set_input_files("#c-cad_file", str(CAD / name))
    page.fill("#c-material", material)
    page.fill("#c-quantity", "40")
    page.click("#cad-form button[type=submit]")
    page.locator("#cad-preview[data-rendered='true']").wait_for(timeout=60_000)


@pytest.mark.slow
def test_a_step_upload_is_drawn_in_webgl_and_passes_axe(browser, service):
    from test_web_axe import AXE, WIDTHS, serious_violations

    if not AXE.exists():
        pytest.fail(f"no axe-core at {AXE}: `make test` installs it (npm ci --prefix tests/axe)")
    with watched_page(browser, service["base"]) as page:  # no JavaScript error, nothing loaded from elsewhere
        page.set_default_timeout(60_000)
        upload_in_the_browser(page)
        canvas = page.locator("canvas#cad-canvas")
        assert canvas.get_attribute("role") == "img" and "milled-bracket.step" in canvas.get_attribute("aria-label")
        drawn = page.evaluate("""() => {
            const canvas = document.getElementById('cad-canvas');
            const gl = canvas.getContext('webgl2') || canvas.getContext('webgl');
            return {gl: !!gl, width: canvas.width, height: canvas.height,
                    drawing: gl ? [gl.drawingBufferWidth, gl.drawingBufferHeight] : null};
        }""")
        assert drawn["gl"] and drawn["width"] > 100 and drawn["height"] > 100, drawn
        assert page.locator("#cad-no-webgl").is_hidden()
        assert "prismatic" in page.locator("#cad-table").inner_text()
        page.locator("section.route").first.wait_for()
        # turning the part re-renders without an error; reset brings the view back
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 30)
        page.mouse.up()
        page.click("#cad-reset")
        violations = serious_violations(page)
        snapshot(page, "cad-preview-desktop")
        assert not violations, json.dumps(violations, indent=1)
    with watched_page(browser, service["base"]) as page:
        page.set_viewport_size(WIDTHS["phone"])
        page.set_default_timeout(60_000)
        upload_in_the_browser(page, "lattice-cube.stl", "PA12")
        violations = serious_violations(page)
        overflow = page.evaluate("document.documentElement.scrollWidth") - WIDTHS["phone"]["width"]
        snapshot(page, "cad-preview-phone")
        assert not violations, json.dumps(violations, indent=1)
        assert overflow <= 0, f"the page is {overflow} px wider than a phone"


@pytest.mark.slow
def test_a_bad_upload_in_the_browser_shows_the_error_next_to_the_file(browser, service, tmp_path):
    wrong = tmp_path / "part.step"
    wrong.write_text("not a step file")
    with watched_page(browser, service["base"]) as page:
        page.goto("/matching")
        page.set_input_files("#c-cad_file", str(wrong))
        page.fill("#c-material", "S355J2")
        page.fill("#c-quantity", "3")
        page.click("#cad-form button[type=submit]")
        error = page.locator("#ce-cad_file")
        error.wait_for()
        assert "not a STEP file" in error.inner_text()
        assert page.input_value("#c-material") == "S355J2"
