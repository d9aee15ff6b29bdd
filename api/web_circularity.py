"""The circularity page (``/circularity``): a take-back product to circular value chains, for people.

A thin layer over ``maas_kg.circularity``, as ``api/circularity.py`` is over JSON: the form (an example of
``examples/take-back/``, an uploaded or pasted take-back document) is read and planned exactly as
``POST /circularity/plan`` does, and the page arranges what ``plan`` returns: the strategies side by side (a table
and a bar chart of the MCI and the material recovered), the strategy chosen per condition grade, each strategy's
chain of providers per step, and a map of the collection points and the chosen chain.

Bad input appears next to the take-back field with the API's status (400 for JSON that cannot be read, 422 for a
document that breaks the take-back format), and the text stays in the form. Nothing is stored.

The map is an inline SVG (equirectangular over the bounding box of what it shows, no tiles): the collection points,
and the sites of the chosen chain's providers where the planner's steps carry ``lat`` and ``lon``, joined in the
order of the steps.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from flask import Blueprint, render_template, request

from api.problems import shortened
from api.state import resources
from maas_kg import knowledge
from maas_kg.catalogue.ingest import InputError, parse_json
from maas_kg.circularity.planning import plan
from maas_kg.circularity.take_back import read_take_back
from maas_kg.errors import MaasKgError
from maas_kg.execution import fields

#: nested in the ``web`` blueprint (``api/web.py`` registers it): a web page, endpoint ``web.circularity.page``
bp = Blueprint("circularity", __name__)

DEFAULT_EXAMPLE = "industrial-gearbox"
SOURCES = ("example", "file", "paste")

# -- the map: equirectangular over the bounding box of its points, padded so that one point has room around it,
# widened to fill the frame
MAP_WIDTH, MAP_HEIGHT = 560.0, 380.0
MIN_SPAN_DEGREES = 4.0
PAD_DEGREES = 1.0
MIN_ASPECT = 0.1  # near a pole a degree of longitude shrinks to nothing: the map would span the globe


class FormProblem(Exception):
    """Input of the form that cannot be planned: shown next to the take-back field with ``status``."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message, self.status = message, status


def example_take_backs() -> dict[str, dict]:
    """The example take-back documents of ``examples/take-back/`` by file stem, with their names."""
    found = {}
    for path in sorted((knowledge.examples_dir() / "take-back").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        found[path.stem] = {"path": path, "name": document.get("name", path.stem)}
    return found


def _form_values() -> dict:
    if request.method == "GET":
        example = request.args.get("example", DEFAULT_EXAMPLE)
        return {"source": "example", "example": example if example in example_take_backs() else DEFAULT_EXAMPLE,
                "take_back": ""}
    source = request.form.get("source", "example")
    upload = request.files.get("file")
    if upload and upload.filename:
        source = "file"  # choosing a file is always deliberate (the field comes back empty); the page has no script
    return {"source": source if source in SOURCES else "example", "example": request.form.get("example", ""),
            "take_back": request.form.get("take_back", "")}


def _document(values: dict) -> object:
    """The take-back document the form names; an uploaded file's text moves into the paste field, so that the page
    shown next keeps it."""
    if values["source"] == "example":
        examples = example_take_backs()
        if values["example"] not in examples:
            raise FormProblem("choose one of the example take-back products, or upload or paste one", 400)
        return json.loads(examples[values["example"]]["path"].read_text(encoding="utf-8"))
    if values["source"] == "file":
        upload = request.files.get("file")
        if not upload or not upload.filename:
            raise FormProblem("choose a take-back file (JSON) to upload", 400)
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FormProblem("the take-back file is not UTF-8 text: upload the JSON file", 400) from None
        values.update(source="paste", take_back=text)
    if not values["take_back"].strip():
        raise FormProblem("paste a take-back product in the plain JSON take-back format", 400)
    try:
        return parse_json(values["take_back"], "take-back document")
    except InputError as err:
        raise FormProblem(shortened(str(err)), err.status) from None


def _planned(document: object) -> tuple[dict, list[dict]]:
    """What ``POST /circularity/plan`` answers for ``document`` (read the same way), and the collection points."""
    today = fields.date(document, "today", required=False) if isinstance(document, dict) else None
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k != "today"}
    state = resources()
    take_back = read_take_back(document, state.catalogue)
    return plan(state.workspace, state.catalogue, take_back, today=today), list(take_back.collection)


# -- arranging the plan for display ------------------------------------------------------------------------------

def _chains(result: dict) -> list[dict]:
    """Each strategy that has a chain of providers, its steps labelled, with the condition grades it was chosen for."""
    chosen_for: dict[str, list[str]] = {}
    for grade in result["per_grade"]:
        if grade["chosen"]:
            chosen_for.setdefault(grade["chosen"], []).append(grade["grade"])
    shown = []
    for strategy in result["strategies"]:
        if not strategy["chain"]:
            continue
        labels = {p["process"]: p["label"] for p in strategy["processes"]}
        steps = [{**step, "label": labels.get(step["process"], step["process"])}
                 for step in strategy["chain"]["services"]]
        shown.append({"strategy": strategy, "chain": strategy["chain"], "steps": steps,
                      "chosen_for": chosen_for.get(strategy["label"], [])})
    return shown


def _mapped_chain(chains: list[dict]) -> dict | None:
    """The chain the map shows: the most circular one that involves providers (the planner lists the strategies in
    the order of the 10R ladder, the most circular first), else the most circular one at all."""
    with_steps = [c for c in chains if c["steps"]]
    return (with_steps or chains or [None])[0]


def _site_map(collection: list[dict], chain: dict | None) -> dict:
    """The map's points (collection points, then the located steps of ``chain``), projected, and the route of the
    chain: from its collection point through its located steps in order."""
    start = chain["chain"]["collection_point"] if chain else None
    points = [{"kind": "collection", "label": p.get("place") or f"{p['lat']:g}, {p['lon']:g}", "lat": p["lat"],
               "lon": p["lon"], "start": start is not None and (p["lat"], p["lon"]) == (start["lat"], start["lon"])}
              for p in collection]
    steps = [s for s in (chain["steps"] if chain else []) if s.get("lat") is not None and s.get("lon") is not None]
    for number, step in enumerate(steps, start=1):
        points.append({"kind": "provider", "label": f"{number}. {step['label']}", "provider": step["provider"],
                       "lat": step["lat"], "lon": step["lon"], "start": False})
    frame = Frame.around([p["lat"] for p in points], [p["lon"] for p in points])
    for point in points:
        point["x"], point["y"] = frame.xy(point["lat"], point["lon"])
    route = [p for p in points if p["start"]][:1] + [p for p in points if p["kind"] == "provider"]
    span = max(frame.north - frame.south, frame.east - frame.west)
    step = next((step for step in (1, 2, 5, 10, 20) if span / step <= 10), 45)
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "points": points, "route": route if len(route) > 1 else [],
            "parallels": [(lat, frame.xy(lat, frame.west)[1])
                          for lat in range(math.ceil(frame.south / step) * step, math.floor(frame.north) + 1, step)],
            "meridians": [(lon, frame.xy(frame.north, lon)[0])
                          for lon in range(math.ceil(frame.west / step) * step, math.floor(frame.east) + 1, step)],
            "unlocated_steps": len(chain["steps"]) - len(steps) if chain else 0}


@dataclass(frozen=True)
class Frame:
    """What the map shows: equirectangular, a degree of longitude shrunk by the cosine of the middle latitude."""
    south: float
    north: float
    west: float
    east: float
    scale: float  # pixels per degree of latitude
    aspect: float

    @classmethod
    def around(cls, lats: list[float], lons: list[float]) -> Frame:
        """The frame of MAP_WIDTH x MAP_HEIGHT pixels that holds these places with room around them."""
        lat_middle, lon_middle = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
        aspect = max(math.cos(math.radians(lat_middle)), MIN_ASPECT)
        lat_span = max(max(lats) - min(lats), MIN_SPAN_DEGREES) + 2 * PAD_DEGREES
        lon_span = max(max(lons) - min(lons), MIN_SPAN_DEGREES) + 2 * PAD_DEGREES
        scale = min(MAP_WIDTH / (lon_span * aspect), MAP_HEIGHT / lat_span)
        lat_half, lon_half = MAP_HEIGHT / scale / 2, MAP_WIDTH / (scale * aspect) / 2
        return cls(lat_middle - lat_half, lat_middle + lat_half, lon_middle - lon_half, lon_middle + lon_half, scale,
                   aspect)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return round((lon - self.west) * self.aspect * self.scale, 1), round((self.north - lat) * self.scale, 1)


@bp.route("/circularity", methods=["GET", "POST"])
def page():
    values = _form_values()
    context: dict = {"form": values, "examples": example_take_backs(), "error": None, "field_error": None,
                     "result": None}
    status = 200
    if request.method == "POST":
        try:
            result, collection = _planned(_document(values))
        except FormProblem as err:
            context["field_error"], status = err.message, err.status
        except MaasKgError as err:
            if err.status >= 500:
                raise  # not the form's fault: the error page says so and keeps what was typed (api/problems.py)
            if err.status in (400, 422):
                context["field_error"] = shortened(str(err))
            else:
                context["error"] = str(err)
            status = err.status
        else:
            chains = _chains(result)
            mapped = _mapped_chain(chains)
            context.update(result=result, chains=chains, mapped=mapped, sites=_site_map(collection, mapped))
    return render_template("circularity.html", **context), status
