"""The OpenAPI 3 document (``/openapi.json``) and interactive docs (``/docs``) that work offline: Swagger UI's
assets come from the ``swagger-ui-bundle`` package and are served from here, never from a CDN."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, abort, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs", __name__)

_SPEC = Path(__file__).with_name("openapi.json")

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>MaaS-KG API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="docs/assets/docs-init.js"></script>
</body>
</html>
"""

_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
    validatorUrl: null});
};
"""


@bp.get("/openapi.json")
def openapi():
    return jsonify(json.loads(_SPEC.read_text(encoding="utf-8")))


@bp.get("/docs")
def docs():
    return Response(_PAGE, mimetype="text/html")


@bp.get("/docs/assets/docs-init.js")
def docs_init():
    return Response(_INIT, mimetype="text/javascript")


@bp.get("/docs/assets/<path:name>")
def docs_asset(name: str):
    if not name.endswith((".js", ".css", ".png")):
        abort(404)
    return send_from_directory(swagger_ui_path, name)
