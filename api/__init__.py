"""The MaaS-KG HTTP service: a thin Flask layer over ``maas_kg`` (app factory, blueprints, config objects).

Run it with ``maas-kg serve`` (gunicorn workers sharing one store), or ``flask --app api run`` while developing.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from api import config as default_config
from api.json_provider import OrjsonProvider
from api import (cad, circularity, docs, execution, graph_store, health, matching, negotiation, ontology, price_check, problems,
                 query_slots, resilience, services, sparql, state, web)


class _App(Flask):
    json_provider_class = OrjsonProvider


def create_app(config: object | Mapping | None = None) -> Flask:
    """Build the application; ``config`` is a config object or a mapping that overrides the defaults."""
    app = _App(__name__)
    app.config.update(default_config.defaults())
    if isinstance(config, Mapping):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    app.json.sort_keys = False
    app.url_map.merge_slashes = False  # service IRIs travel percent-encoded in paths: "//" must stay
    problems.register(app)
    app.before_request(negotiation.bound_streamed_body)  # before any blueprint's hooks and handlers
    state.init_app(app)
    query_slots.init_app(app)
    for blueprint in (health.bp, services.bp, price_check.bp, matching.bp, cad.bp, execution.bp, resilience.bp, circularity.bp, ontology.bp, sparql.bp,
                      graph_store.bp, docs.bp, web.bp):
        app.register_blueprint(blueprint)
    state.start_background(app)
    return app
