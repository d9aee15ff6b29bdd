"""The matching form's CAD part (issue 22): the uploaded file gives the geometry, the form the rest; the result page
shows the part's 3D preview (three.js from the npm package the Makefile installs, served here: no CDN) and the
derived values, then the routes and quotes as for a typed product. The upload is private: read from a temporary
folder deleted before the answer leaves, never stored. ``api.web``'s matching route hands a CAD form to
:func:`match_cad`."""

from __future__ import annotations

import base64
import datetime
import json
import os
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, g, render_template, request, send_from_directory

from api.problems import shortened
from api.state import resources
from maas_kg import cad as cad_files
from maas_kg.cad.product import cad_product
from maas_kg.catalogue.ingest import InputError
from maas_kg.knowledge.vocabulary import AmbiguousTerm, UnknownTerm
from maas_kg.matching import places
from maas_kg.matching.products import ProductError
from maas_kg.matching.report import as_json

bp = Blueprint("cad_pages", __name__)

#: the fields of the CAD form besides the file: what a CAD file cannot say (its name: the file's, unless given)
CAD_FORM_FIELDS = ("name", "material", "quantity", "tolerance_mm", "roughness_ra_um", "finish", "certifications",
                   "place", "max_distance_km", "due")
#: the npm package three (pinned in api/vendor/package-lock.json, `make vendor` runs npm ci), served from here
THREE = Path(__file__).parent / "vendor" / "node_modules" / "three"


@bp.get("/vendor/three/<path:filename>")
def vendor_three(filename: str):
    """three.js for the CAD preview, from the npm package the Makefile installs (no CDN): its ES module build and
    the add-ons (OrbitControls), nothing else of the package."""
    if not filename.startswith(("build/", "examples/jsm/")) or not filename.endswith(".js"):
        abort(404)
    return send_from_directory(THREE, filename, mimetype="text/javascript", max_age=24 * 3600)


def cad_limit() -> int:
    from api.cad import MAX_CAD_BYTES

    return min(MAX_CAD_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or MAX_CAD_BYTES)


def match_cad(context: dict):
    """The CAD form: the uploaded file characterised in a temporary folder (deleted before the answer leaves; nothing
    of it is stored), the product it gives with the form's fields matched as a typed one, the result page with the
    part's 3D preview and characteristics. A bad upload shows the form again with what to fix, never a 500."""
    # the typed form's helpers; imported here because api.web imports this module for its routes
    from api.web import form_from_product, match_form_errors, product_from_form, violations_by_field

    de = g.lang == "de"
    form, today = request.form, datetime.date.today()
    context.update(form={}, cad_values=form)
    errors = context["cad_fields"]
    upload = request.files.get("cad_file")
    filename = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1] if upload else ""
    suffix = os.path.splitext(filename)[1].lower()
    if not filename:
        errors["cad_file"] = ("Eine CAD-Datei wählen (" if de else "choose a CAD file (") + \
            ", ".join(cad_files.SUFFIXES) + ")"
    elif suffix not in cad_files.SUFFIXES:
        errors["cad_file"] = (f"„{filename[:100]}“ ist keine CAD-Datei, die hier gelesen wird: das Teil als STEP "
                              "oder als STL-, 3MF- oder OBJ-Netz exportieren" if de else f"{filename[:100]!r} is not a CAD "
                              "file read here: export the part as STEP (.step, .stp) or as an STL, 3MF or OBJ mesh")
    for name, en, german in (("material", "the material", "den Werkstoff"),
                             ("quantity", "the quantity", "die Stückzahl")):
        if not form.get(name, "").strip():
            errors[name] = (f"{german} angeben: die Datei kann das nicht sagen" if de
                            else f"give {en}: the file cannot say it")
    errors.update(match_form_errors(form, today, g.lang))
    if errors:
        return _cad_refused(context, 400)
    fields = product_from_form(form)
    if not form.get("name", "").strip():
        del fields["name"]  # the file's name
    limit = cad_limit()
    with tempfile.TemporaryDirectory(prefix="maas-kg-cad-") as folder:
        path = os.path.join(folder, "upload" + suffix)
        upload.save(path)
        if os.path.getsize(path) > limit:
            errors["cad_file"] = (f"Die CAD-Datei ist größer als {limit:,} Bytes (die Grenze): das Modell "
                                  "vereinfachen oder seine Teile einzeln senden" if de else f"the CAD file is larger than {limit:,} "
                                  "bytes (the limit): simplify the model or send its parts one by one")
            return _cad_refused(context, 413)
        try:
            product, characteristics = cad_product(path, fields, name=filename, store=resources().catalogue,
                                                   preview=True)
        except cad_files.CadError as err:
            errors["cad_file"] = shortened(str(err))
            return _cad_refused(context, 422)
        except (UnknownTerm, AmbiguousTerm) as err:
            errors["material"] = shortened(str(err))
            return _cad_refused(context, 400)
    state = resources()
    try:
        result = state.workspace.match(json.dumps(product).encode("utf-8"), "json", today=today, k=3)
    except ProductError as err:
        context["error"] = shortened(str(err))
        context["report"] = violations_by_field(err.report.violations) if err.report is not None else None
        for violation in context["report"] or []:  # next to the form's field too, where it has one
            if violation["field"] in CAD_FORM_FIELDS:
                errors.setdefault(violation["field"], violation["message"])
        return render_template("match.html", **context), 422
    except (InputError, UnknownTerm, AmbiguousTerm) as err:
        context["error"] = shortened(str(err))
        return render_template("match.html", **context), 400
    context["result"] = as_json(state.catalogue, result, top=10)
    context["cad"] = cad_view(characteristics, product, g.lang)
    typed = {name: value for name, value in form.items() if name in CAD_FORM_FIELDS and value.strip()}
    context["again"] = {**typed, "cad": "1"}  # "match another product": the CAD form keeps these (not the file)
    # the request summary and the quote requests read the product as the typed form gives it
    context["form"] = {**typed, **{name: value for name, value in form_from_product(product).items()
                          if value and name in ("name", "material", "shape", "envelope_mm", "mass_kg")}}
    place = form.get("place", "").strip()
    if place:
        found = places.resolve(place)
        context["place"] = found.label if found.name else None
    response = current_app.make_response(render_template("match.html", **context))
    response.headers["Cache-Control"] = "private, no-store"  # the part's geometry is the buyer's
    return response


def _cad_refused(context: dict, status: int):
    errors = context["cad_fields"]
    context["error"] = ("Die CAD-Datei wurde nicht zugeordnet: " if g.lang == "de" else
                        "The CAD file was not matched: ") + "; ".join(errors.values())
    return render_template("match.html", **context), status


def _n(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def cad_view(result, product: dict, language: str = "en") -> dict:
    """What the result page shows of the CAD file: the preview mesh (base64, see ``maas_kg.cad.preview``), the
    derived values each with how it was found (the table is also the preview's text alternative), and a one-line
    description for the canvas's label."""
    de = language == "de"
    how = result.methods
    envelope = " × ".join(_n(x, 1) for x in result.envelope_mm) + " mm"
    rows = [("Abmessungen (Achsen der Datei)" if de else "Envelope (the file's axes)", envelope,
             how.get("envelope_mm")),
            ("Orientierte Box" if de else "Oriented box", " × ".join(_n(x, 1) for x in result.obb_mm) + " mm",
             how.get("obb_mm")),
            ("Volumen" if de else "Volume", _n(result.volume_mm3) + " mm³", how.get("volume_mm3")),
            ("Oberfläche" if de else "Surface area", _n(result.area_mm2) + " mm²", how.get("area_mm2"))]
    if result.mass_kg is not None:
        rows.append(("Masse" if de else "Mass", f"{result.mass_kg:,.3f} kg", how.get("mass_kg")))
    else:
        rows.append(("Masse" if de else "Mass", "–", how.get("mass_kg") or (
            "keine Dichte des Werkstoffs bekannt" if de else "no density known for the material")))
    rows.append(("Formklasse" if de else "Shape class", result.shape, how.get("shape")))
    rows.append(("Kleinste Wanddicke" if de else "Minimum wall",
                 "–" if result.min_wall_mm is None else f"{result.min_wall_mm:,.2f} mm", how.get("min_wall_mm")))
    if result.thickness_mm is not None:
        rows.append(("Blechdicke" if de else "Sheet thickness", f"{result.thickness_mm:,.2f} mm",
                     how.get("thickness_mm")))
    if result.cut_length_mm is not None:
        rows.append(("Schnittlänge" if de else "Cut length", _n(result.cut_length_mm) + " mm",
                     how.get("cut_length_mm")))
    if result.bends is not None:
        rows.append(("Biegungen" if de else "Bends", str(result.bends), how.get("bends")))
    holes = ", ".join(f"Ø {h['diameter_mm']:.4g} mm × {h['depth_mm']:.4g} mm" for h in result.holes[:12])
    if len(result.holes) > 12:
        holes += f", … (+{len(result.holes) - 12})"
    rows.append(("Bohrungen" if de else "Holes", f"{len(result.holes)}" + (f": {holes}" if holes else ""),
                 how.get("holes")))
    rows.append(("Zerspanvolumen" if de else "Stock removal",
                 f"{_n(result.stock_removal_mm3)} mm³ ({result.stock_blank})", how.get("stock_removal_mm3")))
    if result.bodies > 1:
        rows.append(("Körper" if de else "Bodies", str(result.bodies), how.get("bodies")))
    mesh = getattr(result, "preview", None)
    label = (f"3D-Vorschau von {product.get('name') or result.source}: {result.shape}, {envelope}; die Tabelle "
             "darunter nennt die abgeleiteten Werte" if de else f"3D preview of {product.get('name') or result.source}"
             f": a {result.shape} part, {envelope}; the table below lists the values derived from the file")
    return {"source": result.source, "rows": [{"label": a, "value": b, "how": c or ""} for a, b, c in rows],
            "mesh": base64.b64encode(mesh).decode("ascii") if mesh else None, "label": label,
            "viewer": (THREE / "build" / "three.module.js").is_file(),  # an install without `npm ci`: no preview
            "envelope": [float(x) for x in result.envelope_mm]}
