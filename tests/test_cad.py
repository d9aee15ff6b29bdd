"""Product characteristics from CAD files (maas_kg/cad): the examples of examples/cad/ against their analytic
values, the pre-filled product routing like the hand-typed one, bad files, the limits, the CLI and HTTP."""

from __future__ import annotations

import importlib.util
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from maas_kg.cad import CadError, characterise
from maas_kg.cad.analysis import CadFileError, analyse
from maas_kg.cad.characteristics import ROTATIONAL_AREA_SHARE, ROTATIONAL_WITH_ENDS_SHARE, classify
from maas_kg.cad.mesh import merged, read_mesh
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.matching.products import submit_product
from maas_kg.matching.translation import derive_requirements
from maas_kg.store import open_store

ROOT = Path(__file__).resolve().parents[1]
CAD = ROOT / "examples" / "cad"
PRODUCTS = ROOT / "examples" / "products"
EXPECTED = json.loads((CAD / "expected.json").read_text(encoding="utf-8"))

_spec = importlib.util.spec_from_file_location("make_examples", CAD / "make_examples.py")
make_examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_examples)


@pytest.fixture(scope="module")
def store():
    s = open_store("memory")
    sync_ontology(s)
    return s


@pytest.fixture(scope="module")
def measured(store):
    return {name: characterise(str(CAD / name), material=expected["material"], store=store)
            for name, expected in EXPECTED.items()}




def _is_rotational(shares: tuple[float, float]) -> bool:
    return shares[0] >= ROTATIONAL_AREA_SHARE and shares[1] >= ROTATIONAL_WITH_ENDS_SHARE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_volume_shape_and_envelope_match_the_construction(measured, name):
    result, expected = measured[name], EXPECTED[name]
    assert result.volume_mm3 == pytest.approx(expected["volume_mm3"], rel=0.005)
    assert result.shape == expected["shape"], result.methods["shape"]
    assert result.envelope_mm == pytest.approx(expected["envelope_mm"], rel=1e-3)
    assert result.bodies == expected["bodies"]
    assert set(result.methods) >= {"volume_mm3", "area_mm2", "envelope_mm", "obb_mm", "shape", "min_wall_mm"}


def test_bracket_holes_are_found(measured):
    holes = measured["milled-bracket.step"].holes
    assert holes == [pytest.approx(h) for h in EXPECTED["milled-bracket.step"]["holes"]]


def test_sheet_thickness_bends_and_cut_length(measured):
    sheet = measured["sheet-enclosure.step"]
    assert sheet.thickness_mm == pytest.approx(1.5, rel=0.01)
    assert sheet.min_wall_mm == pytest.approx(1.5, rel=0.05)
    assert sheet.bends == EXPECTED["sheet-enclosure.step"]["bends"]
    s = make_examples.SHEET
    flat_length = make_examples.sheet_volume() / (s["thickness"] * s["width"])
    assert sheet.cut_length_mm == pytest.approx(2 * flat_length + 2 * s["width"], rel=0.01)


def test_shaft_stock_is_a_round_bar(measured):
    shaft = measured["turned-shaft.step"]
    assert "round bar" in shaft.stock_blank
    assert shaft.stock_removal_mm3 == pytest.approx(math.pi * 20 ** 2 * 250 - EXPECTED["turned-shaft.step"]
                                                    ["volume_mm3"], rel=0.005)


def test_shaft_as_stl_measures_like_its_step(measured):
    mesh, step = measured["turned-shaft.stl"], measured["turned-shaft.step"]
    assert mesh.volume_mm3 == pytest.approx(step.volume_mm3, rel=0.005)
    assert mesh.envelope_mm == pytest.approx(step.envelope_mm, rel=1e-3)
    assert mesh.bodies == 1


def test_shaft_as_stl_lies_on_surfaces_of_revolution():
    triangles = read_mesh(str(CAD / "turned-shaft.stl"), ".stl")
    revolution = triangles.revolution()
    assert _is_rotational(revolution.shares), revolution.shares
    assert abs(revolution.direction[2]) == pytest.approx(1, abs=1e-6)  # the shaft's axis: z through x = y = 0
    assert revolution.origin[:2] == pytest.approx([0, 0], abs=1e-6)
    shape, why = classify(area=triangles.area(), volume=triangles.volume(), openings=triangles.genus(),
                          sheet_thickness=None, reach_per_wall=math.inf, rotational_shares=revolution.shares,
                          analytic_share=None, axis_share=0.0)
    assert shape == "rotational" and "surfaces of revolution" in why


def test_shaft_as_stl_classifies_rotational(measured):
    result = measured["turned-shaft.stl"]
    assert result.shape == "rotational", result.methods["shape"]


def test_shaft_turned_off_the_file_axes_is_still_found():
    import numpy as np

    triangles = read_mesh(str(CAD / "turned-shaft.stl"), ".stl")
    angle = 0.7
    turn = np.array([[1, 0, 0], [0, math.cos(angle), -math.sin(angle)], [0, math.sin(angle), math.cos(angle)]])
    turned = merged(triangles.vertices @ turn.T + [5.0, -7.0, 11.0], triangles.faces)
    revolution = turned.revolution()
    assert _is_rotational(revolution.shares), revolution.shares
    assert abs(revolution.direction @ turn[:, 2]) == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("name, builder", [("bracket", "bracket"), ("sheet", "sheet_enclosure"),
                                           ("box", None), ("lattice", None)])
def test_parts_that_are_not_turned_do_not_lie_on_surfaces_of_revolution(name, builder):
    import numpy as np
    import trimesh

    if builder:
        triangles = merged(*make_examples.tessellate(getattr(make_examples, builder)()))
    elif name == "box":  # a square bar: its end faces are square to the long axis, its sides' normals are not
        box = trimesh.creation.box((20, 20, 100))  # square to the tangent except on the centre lines
        triangles = merged(np.asarray(box.vertices), np.asarray(box.faces))
    else:
        triangles = read_mesh(str(CAD / "lattice-cube.stl"), ".stl")
    shares = triangles.revolution().shares
    assert not _is_rotational(shares), shares
    assert shares[0] < 0.1


def test_bracket_as_stl_stays_prismatic(tmp_path):
    path = tmp_path / "milled-bracket.stl"
    make_examples.write_stl(make_examples.bracket(), path)
    result = characterise(str(path))
    assert result.shape == "prismatic", result.methods["shape"]
    assert result.volume_mm3 == pytest.approx(EXPECTED["milled-bracket.step"]["volume_mm3"], rel=0.005)


def test_meshes_say_holes_are_not_detected(measured):
    assert "not detected" in measured["lattice-cube.stl"].methods["holes"]


def test_mass_comes_from_the_density_in_the_ontology(measured):
    bracket = measured["milled-bracket.step"]
    assert bracket.density_kg_m3 == 2700
    assert bracket.mass_kg == pytest.approx(EXPECTED["milled-bracket.step"]["volume_mm3"] * 1e-9 * 2700, rel=0.005)
    assert "EN 1999-1-1" in bracket.methods["mass_kg"]
    assert measured["turned-shaft.step"].density_kg_m3 == 7850  # 42CrMo4 takes steel's, the nearest class above


def test_a_material_without_density_is_a_clear_error(store):
    with pytest.raises(CadError, match="no density is known"):
        characterise(str(CAD / "milled-bracket.step"), material="CFRP", store=store)


@pytest.mark.parametrize("name, hand_typed", [("turned-shaft.step", "turned-ground-shaft"),
                                              ("milled-bracket.step", "milled-bracket"),
                                              ("sheet-enclosure.step", "sheet-metal-enclosure")])
def test_prefilled_product_validates_and_routes_like_the_hand_typed_one(store, measured, name, hand_typed):
    typed = json.loads((PRODUCTS / f"{hand_typed}.json").read_text())
    prefilled = {**typed, **measured[name].product(), "id": typed["id"] + "-from-cad"}
    assert {"volume_mm3", "area_mm2", "mass_kg"} <= set(prefilled)

    def routes(document):
        product = submit_product(store, json.dumps(document).encode(), "json")
        return [[step.process for step in route.steps]
                for route in derive_requirements(store, product, record=False).routes]

    typed_routes, prefilled_routes = routes(typed), routes(prefilled)
    if name == "sheet-enclosure.step":
        # a sheet part's cutting is bounded by its sheet thickness (1.5 mm, from the file), not by its envelope's
        # shortest edge (queries/translation/primary-processes.rq): laser and water-jet cutting both cut 1.5 mm, and
        # the route order differs from the typed box's; the typed first route (laser cutting, bending, powder
        # coating) is among the routes
        assert typed_routes[0] in prefilled_routes
    else:
        assert prefilled_routes[0] == typed_routes[0]


def test_a_product_with_an_invalid_derived_measure_names_the_field(store):
    typed = json.loads((PRODUCTS / "milled-bracket.json").read_text())
    with pytest.raises(Exception, match="volume_mm3"):
        submit_product(store, json.dumps({**typed, "volume_mm3": -1}).encode(), "json")


# -- bad files -------------------------------------------------------------------------------------------------------

def test_random_bytes_are_not_step(tmp_path):
    path = tmp_path / "noise.step"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CadError, match="not a STEP file"):
        characterise(str(path))


def test_truncated_step_says_so(tmp_path):
    data = (CAD / "turned-shaft.step").read_bytes()
    path = tmp_path / "cut.step"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CadError, match="truncated"):
        characterise(str(path))


def test_open_shell_is_no_solid(tmp_path):
    path = tmp_path / "shell.step"
    make_examples.write_step(make_examples.open_shell(), path)
    with pytest.raises(CadError, match="no closed solid"):
        characterise(str(path))


def test_open_mesh_is_refused(tmp_path):
    import trimesh

    box = trimesh.creation.box((10, 10, 10))
    open_box = trimesh.Trimesh(box.vertices, box.faces[:-2], process=False)
    path = tmp_path / "open.stl"
    open_box.export(path)
    with pytest.raises(CadError, match="not closed"):
        characterise(str(path))


def test_unconnected_solids_become_components(tmp_path):
    path = tmp_path / "two.step"
    make_examples.write_step(make_examples.two_boxes(), path)
    result = characterise(str(path))
    assert result.bodies == 2
    assert [c.volume_mm3 for c in result.components] == pytest.approx([1000, 8000], rel=1e-6) or \
        sorted(c.volume_mm3 for c in result.components) == pytest.approx([1000, 8000], rel=1e-6)
    assert result.volume_mm3 == pytest.approx(9000)
    assert "unconnected" in result.methods["bodies"]
    assert len(result.as_json()["components"]) == 2


def test_unknown_extension_names_the_formats(tmp_path):
    path = tmp_path / "part.dwg"
    path.write_bytes(b"AC1032")
    with pytest.raises(CadError, match=r"\.step"):
        characterise(str(path))


def test_time_limit_stops_a_parse():
    with pytest.raises(CadError, match="longer than 0.01 s"):
        characterise(str(CAD / "sheet-enclosure.step"), seconds=0.01)


def test_memory_limit_stops_a_parse():
    # importing Open CASCADE alone maps about 540 MB of address space
    with pytest.raises(CadError, match="more than 400 MB of memory"):
        characterise(str(CAD / "milled-bracket.step"), memory=400 * 1024 ** 2)


def test_peak_memory_and_time_are_measured(measured):
    for result in measured.values():
        assert 0 < result.peak_memory_mb < 2048
        assert 0 < result.seconds < 60


# -- invariants --------------------------------------------------------------------------------------------------------

@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.tuples(*[st.floats(min_value=5, max_value=400, allow_nan=False)] * 3))
def test_a_box_is_its_dimensions(tmp_path, dimensions):
    path = tmp_path / "box.step"
    make_examples.write_step(make_examples.box(*dimensions), path)
    result = analyse(str(path), ".step", "box.step")
    assert result.envelope_mm == pytest.approx(list(dimensions), rel=1e-6)
    assert result.volume_mm3 == pytest.approx(math.prod(dimensions), rel=1e-6)
    assert sorted(result.obb_mm) == pytest.approx(sorted(dimensions), rel=1e-6)
    assert result.stock_removal_mm3 == pytest.approx(0, abs=1e-6 * math.prod(dimensions))
    longest, middle, shortest = sorted(dimensions, reverse=True)
    if shortest > 0.05 * middle:  # thinner boxes are plates: sheet
        assert result.shape == "prismatic"


def test_analyse_refuses_unknown_suffix(tmp_path):
    with pytest.raises(CadFileError):
        analyse(str(tmp_path / "x.igs"), ".igs", "x.igs")


# -- the command line and HTTP ---------------------------------------------------------------------------------------

def test_cli_characterise_json():
    from maas_kg.cli import main

    result = CliRunner().invoke(main, ["--store", "memory", "characterise", str(CAD / "milled-bracket.step"),
                                       "--material", "EN AW-6082", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["shape"] == "prismatic" and document["mass_kg"] > 0
    assert document["product"]["material"] == "EN AW-6082"
    assert len(document["holes"]) == 4 and "holes" in document["methods"]


def test_cli_bad_file_is_one_line(tmp_path):
    from maas_kg.cli import main

    path = tmp_path / "noise.stp"
    path.write_bytes(b"\x00\x01garbage" * 100)
    result = CliRunner().invoke(main, ["--store", "memory", "characterise", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "not a STEP file" in result.output


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from api import create_app

    folder = tmp_path_factory.mktemp("cad-api")
    app = create_app({"STORE": "memory", "KEYS_FILE": str(folder / "keys.sqlite"), "TESTING": True,
                      "MAX_CONTENT_LENGTH": 300 * 1024 * 1024})
    return app.test_client()


def test_http_characterise(client):
    data = {"file": (io.BytesIO((CAD / "turned-shaft.step").read_bytes()), "turned-shaft.step"),
            "material": "42CrMo4"}
    response = client.post("/characterise", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert document["shape"] == "rotational" and document["product"]["shape"] == "rotational"
    assert document["mass_kg"] == pytest.approx(EXPECTED["turned-shaft.step"]["volume_mm3"] * 7.85e-6, rel=0.005)


def test_http_bad_file_is_a_problem(client):
    data = {"file": (io.BytesIO(b"hello"), "part.step")}
    response = client.post("/characterise", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "not a STEP file" in response.get_json()["detail"]


def test_http_without_file_and_wrong_extension(client):
    assert client.post("/characterise", data={}, content_type="multipart/form-data").status_code == 400
    data = {"file": (io.BytesIO(b"x"), "part.docx")}
    assert client.post("/characterise", data=data, content_type="multipart/form-data").status_code == 415


@pytest.mark.slow
def test_http_over_the_cad_limit_is_413(client):
    data = {"file": (io.BytesIO(b"\0" * (51 * 1024 * 1024)), "big.stl")}
    response = client.post("/characterise", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than" in response.get_json()["detail"]


def _box_3mf(path: Path, size: tuple[float, float, float]) -> None:
    import trimesh

    box = trimesh.creation.box(size)
    make_examples.write_3mf([(box.vertices, box.faces)], path)


@pytest.mark.parametrize("suffix", [".3mf", ".obj", ".stl"])
def test_mesh_formats_read_a_box(tmp_path, suffix):
    import trimesh

    path = tmp_path / f"box{suffix}"
    if suffix == ".3mf":
        _box_3mf(path, (30, 20, 10))
    else:
        trimesh.creation.box((30, 20, 10)).export(path)
    result = analyse(str(path), suffix, path.name)
    assert result.volume_mm3 == pytest.approx(6000)
    assert result.envelope_mm == pytest.approx([30, 20, 10])
    assert result.shape == "prismatic"
    assert result.bodies == 1


def test_a_zip_that_is_no_3mf_names_the_fix(tmp_path):
    path = tmp_path / "part.3mf"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CadFileError, match="3MF"):
        analyse(str(path), ".3mf", "part.3mf")


def test_3mf_of_two_objects_is_two_bodies(tmp_path):
    import trimesh

    small, large = trimesh.creation.box((10, 10, 10)), trimesh.creation.box((20, 20, 20))
    path = tmp_path / "two.3mf"
    make_examples.write_3mf([(small.vertices, small.faces), (large.vertices + [50, 0, 0], large.faces)], path)
    result = characterise(str(path))
    assert result.bodies == 2 and len(result.components) == 2
    assert sorted(c.volume_mm3 for c in result.components) == pytest.approx([1000, 8000])
    assert result.volume_mm3 == pytest.approx(9000)
    assert result.envelope_mm == pytest.approx([65, 20, 20])
    assert [c.source for c in result.components] == ["two.3mf body 1", "two.3mf body 2"]


_BOX_MODEL = ('<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="{ns}"><resources><object id="1" '
              'type="model"><mesh><vertices>{vertices}</vertices><triangles><triangle v1="0" v2="1" v3="{last}"/>'
              '</triangles></mesh></object></resources><build><item objectid="1"/></build></model>')


@pytest.mark.parametrize("case, match", [
    ("no model", "no 3D model part"),
    ("malformed XML", "cannot read the file as 3MF"),
    ("not a 3MF model", "no 3MF model"),
    ("vertex without z", "without valid coordinates"),
    ("index out of range", "naming vertices it does not have"),
    ("no mesh", "holds no mesh object"),
])
def test_broken_3mf_is_a_clear_error(tmp_path, case, match):
    import zipfile

    path = tmp_path / "broken.3mf"
    points = '<vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/>'
    ns = make_examples.NS_3MF
    if case == "no model":
        with zipfile.ZipFile(path, "w") as package:
            package.writestr("[Content_Types].xml", make_examples.CONTENT_TYPES_3MF)
            package.writestr("_rels/.rels", make_examples.RELS_3MF)
    else:
        model = {
            "malformed XML": _BOX_MODEL.format(ns=ns, vertices=points, last=2)[:-30],
            "not a 3MF model": _BOX_MODEL.format(ns="http://example.org/not-3mf", vertices=points, last=2),
            "vertex without z": _BOX_MODEL.format(ns=ns, vertices=points.replace(' z="0"/>', "/>", 1), last=2),
            "index out of range": _BOX_MODEL.format(ns=ns, vertices=points, last=7),
            "no mesh": f'<?xml version="1.0"?><model xmlns="{ns}"><resources/><build/></model>',
        }[case]
        make_examples.write_3mf([], path, model=model)
    with pytest.raises(CadError, match=match) as raised:
        characterise(str(path))
    assert "Traceback" not in str(raised.value) and "3MF" in str(raised.value)


# -- matching from a CAD file: CLI and HTTP --------------------------------------------------------------------------

def test_http_match_takes_a_cad_file_and_the_missing_fields(client):
    data = {"file": (io.BytesIO((CAD / "milled-bracket.step").read_bytes()), "milled-bracket.step"),
            "product": json.dumps({"material": "EN AW-6082", "tolerance_mm": 0.05}), "quantity": "20"}
    response = client.post("/match", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.get_json()
    document = response.get_json()
    assert document["request"]["quantity"] == 20
    measured = document["request"]["characteristics"]
    assert measured["volume_mm3"] == pytest.approx(EXPECTED["milled-bracket.step"]["volume_mm3"], rel=0.005)
    assert measured["holes"] == 4
    assert any(step["process"]["iri"].endswith("#Milling") for route in document["routes"] for step in route["steps"])


@pytest.mark.parametrize("fields, status, words", [
    ({"product": json.dumps({"material": "EN AW-6082"})}, 422, "quantity"),
    ({"product": "{not json"}, 400, "not JSON"),
    ({"product": "[1]"}, 400, "one JSON object"),
    ({"product": json.dumps({"material": "EN AW-6082"}), "quantity": "many"}, 400, "whole number"),
])
def test_http_match_with_a_cad_file_names_what_is_missing(client, fields, status, words):
    data = {"file": (io.BytesIO((CAD / "milled-bracket.step").read_bytes()), "milled-bracket.step"), **fields}
    response = client.post("/match", data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["detail"]


def test_cli_match_a_cad_file_quotes_by_cost_model(tmp_path):
    """A milling service with a cost model quotes the bracket from its measured stock and area; the CLI takes the
    file with --material, --quantity and --fields."""
    from maas_kg.cli import main

    weber = json.loads((Path(__file__).parent / "data" / "service-weber.json").read_text())
    weber["materials"] = ["EN AW-6082"]
    weber["cost_model"] = {"machine_hour_rate": 90, "currency": "EUR"}
    (tmp_path / "service.json").write_text(json.dumps(weber))
    (tmp_path / "fields.json").write_text(json.dumps({"tolerance_mm": 0.05, "name": "bracket from CAD"}))
    store = str(tmp_path / "store")
    runner = CliRunner()
    published = runner.invoke(main, ["--store", store, "publish", str(tmp_path / "service.json")])
    assert published.exit_code == 0, published.output
    answer = runner.invoke(main, ["--store", store, "match", str(CAD / "milled-bracket.step"), "--material",
                                  "EN AW-6082", "--quantity", "20", "--fields", str(tmp_path / "fields.json"),
                                  "--format", "json", "--today", "2026-12-01"])
    assert answer.exit_code == 0, answer.output
    document = json.loads(answer.output)
    quote = next(c["quote"] for route in document["routes"] for step in route["steps"] for c in step["candidates"]
                 if c["service"] == weber["id"])
    assert quote["basis"] == "cost model"
    removal = quote["breakdown"]["time_per_part_min"]["terms"][0]["how"]
    stock = document["request"]["characteristics"]["stock_removal_mm3"]  # as the file measured it
    assert removal.startswith("stock_removal_mm3 = ")
    assert float(removal.split()[2]) == pytest.approx(stock, rel=1e-5)
    assert stock == pytest.approx(120 * 80 * 40 - EXPECTED["milled-bracket.step"]["volume_mm3"], rel=0.01)
    table = runner.invoke(main, ["--store", store, "match", str(CAD / "milled-bracket.step"), "--material",
                                 "EN AW-6082", "--quantity", "20", "--today", "2026-12-01"])
    assert table.exit_code == 0 and "(cost model)" in table.output
    wrong = runner.invoke(main, ["--store", store, "match", "examples/products/milled-bracket.json", "--quantity", "2"])
    assert wrong.exit_code == 2 and "go with a CAD file" in wrong.output


def test_axis_index_finds_the_group_the_scan_of_all_groups_finds():
    """step._AxisIndex (hash of each axis line's point nearest the part's centre) answers as the scan of all groups
    in order did: coaxial copies with float noise, near-parallel lines, lines off the part and far out."""
    import numpy as np

    from maas_kg.cad import step

    rng = np.random.default_rng(7)
    diagonal, centre = 1000.0, np.array([500.0, 500.0, 5.0])
    lines = []
    for _ in range(300):
        direction = rng.normal(size=3) if rng.random() < 0.3 else np.eye(3)[rng.integers(3)]
        direction /= np.linalg.norm(direction)
        origin = centre + rng.uniform(-700, 700, size=3) * (10 if rng.random() < 0.05 else 1)
        lines.append((origin, direction))
        for _ in range(rng.integers(0, 3)):  # the same axis again: shifted along it, with noise, or flipped
            tilt = rng.normal(size=3) * rng.choice([1e-12, 1e-9, 1e-5])
            copy = direction * rng.choice([1, -1]) + tilt
            noise = rng.normal(size=3) * rng.choice([1e-9, 1e-3, 0.02])
            lines.append((origin + direction * rng.uniform(-500, 500) + noise, copy / np.linalg.norm(copy)))
    order = rng.permutation(len(lines))
    indexed, scanned, index = [], [], step._AxisIndex(centre, diagonal)
    for number in order:
        origin, direction = lines[number]
        found = step._group(indexed, origin, direction, diagonal, index)
        expected = next((g for g in scanned if step._same_line(origin, direction, g, diagonal)), None)
        if expected is None:
            scanned.append(step.RevolutionGroup(origin, direction))
            expected = scanned[-1]
        position = next(i for i, group in enumerate(indexed) if group is found)
        assert position == next(i for i, group in enumerate(scanned) if group is expected)
    assert len(indexed) == len(scanned) < len(lines)


def test_step_transfer_gets_the_shape_fix_parameters():
    """The self-intersecting-wire repair (quadratic in a face's wires) is off in the transfer's actor, which only
    exists after ReadFile."""
    from OCP.STEPControl import STEPControl_Reader
    from OCP.TCollection import TCollection_AsciiString

    from maas_kg.cad import step

    reader = STEPControl_Reader()
    reader.ReadFile(str(CAD / "milled-bracket.step"))
    step._set_shape_fix(reader)
    bound = reader.WS().TransferReader().Actor().GetShapeFixParameters()
    for key, value in step.SHAPE_FIX.items():
        assert bound.Find(TCollection_AsciiString(key)).ToCString() == value


# -- 3MF objects made of other objects (components), as slicers write them ----------------------------------------

_PRODUCTION = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"


def _box_xml(size: float) -> str:
    import trimesh

    box = trimesh.creation.box((size, size, size))
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in box.vertices)
    triangles = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in box.faces)
    return f"<mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles></mesh>"


def _package(path: Path, parts: dict[str, str]) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as package:
        package.writestr("[Content_Types].xml", make_examples.CONTENT_TYPES_3MF)
        package.writestr("_rels/.rels", make_examples.RELS_3MF)
        for name, text in parts.items():
            package.writestr(name, text)


def _model(resources: str, build: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="{make_examples.NS_3MF}" '
            f'xmlns:p="{_PRODUCTION}"><resources>{resources}</resources><build>{build}</build></model>')


def test_3mf_components_are_placed_with_their_transforms(tmp_path):
    """Object 2 is made of object 1 (a 10 mm cube) twice, moved 30 mm apart, and the build item moves it by 100 mm
    in z: two bodies of 1000 mm3, the box 40 x 10 x 10 from z 95."""
    path = tmp_path / "assembly.3mf"
    resources = (f'<object id="1" type="model">{_box_xml(10)}</object>'
                 '<object id="2" type="model"><components><component objectid="1"/>'
                 '<component objectid="1" transform="1 0 0 0 1 0 0 0 1 30 0 0"/></components></object>')
    _package(path, {"3D/3dmodel.model": _model(resources, '<item objectid="2" transform="1 0 0 0 1 0 0 0 1 0 0 100"/>')})
    result = characterise(str(path))
    assert result.bodies == 2 and result.volume_mm3 == pytest.approx(2000)
    assert result.envelope_mm == pytest.approx([40, 10, 10])


def test_3mf_components_in_another_model_part(tmp_path):
    """The production extension's p:path: the mesh lives in 3D/Objects/object_1.model, as some slicers write it."""
    path = tmp_path / "sliced.3mf"
    inner = _model(f'<object id="7" type="model">{_box_xml(20)}</object>', "")
    outer = _model('<object id="1" type="model"><components>'
                   '<component p:path="/3D/Objects/object_1.model" objectid="7"/></components></object>',
                   '<item objectid="1"/>')
    _package(path, {"3D/3dmodel.model": outer, "3D/Objects/object_1.model": inner})
    result = characterise(str(path))
    assert result.bodies == 1 and result.volume_mm3 == pytest.approx(8000)


def test_3mf_components_that_refer_to_themselves_are_refused(tmp_path):
    path = tmp_path / "loop.3mf"
    resources = ('<object id="1" type="model"><components><component objectid="2"/></components></object>'
                 '<object id="2" type="model"><components><component objectid="1"/></components></object>')
    _package(path, {"3D/3dmodel.model": _model(resources, '<item objectid="1"/>')})
    with pytest.raises(CadError, match="nest deeper"):
        characterise(str(path))
