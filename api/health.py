"""``/health``: is the store reachable, which ontology version is loaded, how many services are published."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from api.state import resources
from maas_kg import catalogue
from maas_kg.knowledge import ontology_version
from maas_kg.store import StoreError

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    try:
        counts = catalogue.statistics(resources().catalogue)
    except StoreError as err:  # includes an unreachable remote store
        log.warning("health: %s", err)
        return jsonify({"status": "unavailable", "store": "unreachable", "detail": err.public_detail or str(err)}), 503
    return jsonify({"status": "ok", "store": "reachable", "ontology_version": ontology_version(),
                    "services": counts["published"], "withdrawn": counts["withdrawn"]})
