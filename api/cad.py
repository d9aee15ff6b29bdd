"""``POST /characterise``: product characteristics from an uploaded CAD file (multipart field ``file``, optional
``material``). Private: the upload is parsed from a temporary file that is deleted before the answer leaves, and
nothing is stored. ``saved_upload`` serves ``POST /match`` with a CAD file too."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator

from flask import Blueprint, current_app, jsonify, request

from api.problems import Problem
from api.state import resources
from maas_kg.cad import SUFFIXES, characterise as characterise_file

bp = Blueprint("cad", __name__)

#: the largest CAD file read (bytes), or the app's body limit (MAAS_KG_MAX_BODY_BYTES) where that is smaller: a 50 MB
#: binary STL (1,000,000 triangles) takes 26 s of the 60 s limit of maas_kg.cad.limits (benchmarks/bench_cad.py)
MAX_CAD_BYTES = 50 * 1024 * 1024


@contextlib.contextmanager
def saved_upload() -> Iterator[tuple[str, str]]:
    """(path, file name) of the CAD file in the multipart field ``file``, saved in a temporary folder that is deleted
    when the block ends; a missing, unnamed, oversized or non-CAD upload is a problem response."""
    limit = min(MAX_CAD_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or MAX_CAD_BYTES)
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, "Content too large", f"the CAD file is larger than {limit:,} bytes (the limit): simplify "
                      "the model or send its parts one by one")
    if not request.mimetype.startswith("multipart/form-data"):
        raise Problem(415, "Unsupported media type", "send the CAD file as multipart/form-data in the field 'file'")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Problem(400, "No file", "send the CAD file in the multipart field 'file', with its file name "
                      f"(the extension says the format: {', '.join(SUFFIXES)})")
    suffix = os.path.splitext(upload.filename)[1].lower()
    if suffix not in SUFFIXES:
        raise Problem(415, "Unsupported CAD format", f"the file name {upload.filename[:100]!r} does not end in one of "
                      f"{', '.join(SUFFIXES)}: export the part as STEP or as an STL, 3MF or OBJ mesh")
    with tempfile.TemporaryDirectory(prefix="maas-kg-cad-") as folder:
        path = os.path.join(folder, "upload" + suffix)
        upload.save(path)
        if os.path.getsize(path) > limit:
            raise Problem(413, "Content too large", f"the CAD file is larger than {limit:,} bytes (the limit)")
        yield path, upload.filename.replace("\\", "/").rsplit("/", 1)[-1]


@bp.post("/characterise")
def characterise():
    """The characteristics of the uploaded file (see ``maas-kg characterise --format json``)."""
    material = request.form.get("material") or None
    with saved_upload() as (path, name):
        result = characterise_file(path, name=name, material=material,
                                   store=resources().catalogue if material else None)
    return jsonify(result.as_json())
