"""The provider's price check over REST (issue 22, 1.3): what a service's cost model (else its flat price) quotes for
sample parts against the other published services of its process class, to set its prices.

``GET /services/{id}/quote-comparison`` checks a published service with the example products, ``POST`` to the same
address with sample parts of the provider's own; ``POST /quote-comparison`` checks a draft (a service document not
published yet) so that a cost model can be tried before publishing. Only the service's provider (and administrators)
may check a published service; a draft needs a provider's key, as publishing does. The answer is
``maas_kg.matching.costing.compare_service``'s: per sample part the own quote, the peers' count, quartiles and median,
and where the own quote falls.
"""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from api.auth import current_key, key_required
from api.formats import service_iri
from api.problems import Problem
from api.state import resources
from maas_kg import catalogue
from maas_kg.matching import costing

bp = Blueprint("price_check", __name__)

#: at most this many sample parts a request
MAX_SAMPLES = 20
#: a price check's body (a service document and its sample parts) is at most this many bytes
MAX_BODY_BYTES = 256 * 1024


def _index():
    from api.services import catalogue_index

    return catalogue_index()


def _json_body(*, required: bool) -> object:
    """The request's JSON body (None without one, where ``required`` is false): 415 for another media type, 413 over
    ``MAX_BODY_BYTES``, 400 for what is not JSON (NaN and Infinity included)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Problem(413, "Content too large", f"a price check's body is at most {MAX_BODY_BYTES:,} bytes: send "
                      f"fewer or smaller sample parts (at most {MAX_SAMPLES})")
    data = request.get_data(cache=True)
    if not data:
        if required:
            raise Problem(400, "Empty body", "the request needs a body: a service document, or {\"service\": "
                          "{...}, \"samples\": [...]}")
        return None
    if len(data) > MAX_BODY_BYTES:
        raise Problem(413, "Content too large", f"a price check's body is at most {MAX_BODY_BYTES:,} bytes: send "
                      f"fewer or smaller sample parts (at most {MAX_SAMPLES})")
    if request.mimetype not in ("application/json", "application/ld+json") and \
            not request.mimetype.endswith("+json"):
        raise Problem(415, "Unsupported media type", f"send the body as application/json (got "
                      f"{request.mimetype or 'none'})")

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(data, parse_constant=refuse)
    except (ValueError, UnicodeDecodeError) as err:
        raise Problem(400, "Malformed JSON", f"the body is not JSON: {err}") from None


def _samples(document: object) -> list | None:
    """The ``samples`` member of a body: None (the example products) or a list of at most ``MAX_SAMPLES``."""
    samples = document.get("samples") if isinstance(document, dict) else None
    if samples is None:
        return None
    if not isinstance(samples, list):
        raise Problem(422, "Bad samples", "samples: must be a list of product objects (the plain JSON product format)",
                      field="samples")
    if len(samples) > MAX_SAMPLES:
        raise Problem(422, "Too many samples", f"samples: at most {MAX_SAMPLES} sample parts a request (got "
                      f"{len(samples)})", field="samples")
    return samples


def _checked(service, samples) -> dict:
    try:
        return costing.compare_service(resources().catalogue, service, samples, index=_index())
    except costing.ServiceDocumentError as err:
        raise Problem(422, "Cannot price-check the service", str(err)) from None


@bp.route("/services/<path:service_id>/quote-comparison", methods=["GET", "POST"])
@key_required
def service_comparison(service_id: str):
    """A published service's price check, for its provider's keys and administrators: with the example products
    (GET), or with the sample parts of the body, ``{"samples": [product, ...]}`` (POST)."""
    service, key = service_iri(service_id), current_key()
    owner = catalogue.providers_of(resources().catalogue, [service]).get(service)
    if owner is None:
        raise Problem(404, "No such service", f"{service} is not published")
    if not key.may_change(owner):
        raise Problem(403, "Not your service", f"{service} belongs to {owner}: a provider price-checks its own "
                      "services (POST /quote-comparison checks a draft of your own)")
    samples = None
    if request.method == "POST":
        document = _json_body(required=False)
        if document is not None and not isinstance(document, dict):
            raise Problem(400, "Bad body", "the body is {\"samples\": [product, ...]}")
        samples = _samples(document)
    return jsonify(_checked(service, samples))


@bp.post("/quote-comparison")
@key_required
def draft_comparison():
    """A draft service's price check before publishing: the body is a service document in the plain JSON format
    (``process`` and ``cost_model`` or ``price``), or ``{"service": {...}, "samples": [product, ...]}``."""
    key = current_key()
    if not (key.provider or key.admin):
        raise Problem(403, "Providers only", "a price check is for a provider's key (or an administrator's)")
    document = _json_body(required=True)
    if not isinstance(document, dict):
        raise Problem(400, "Bad body", "the body is a service document (a JSON object), or {\"service\": {...}, "
                      "\"samples\": [...]}")
    wrapped = "service" in document
    service = document["service"] if wrapped else document
    if not isinstance(service, dict):
        raise Problem(422, "Cannot price-check the service", "service: must be one service document (a JSON "
                      "object)", field="service")
    provider = service.get("provider")
    provider_id = provider.get("id") if isinstance(provider, dict) else provider
    if isinstance(provider_id, str) and not key.may_change(provider_id):
        raise Problem(403, "Not your service", "you may only price-check services of your own organisation (the "
                      f"draft names the provider {provider_id})")
    iri = service.get("id")
    if isinstance(iri, str):
        owner = catalogue.owners_of(resources().catalogue, [iri]).get(iri) if _is_iri(iri) else None
        if owner is not None and not key.may_change(owner):
            raise Problem(403, "Not your service", f"{iri} belongs to {owner}")
    return jsonify(_checked(service, _samples(document)))


def _is_iri(text: str) -> bool:
    import pyoxigraph as ox

    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True

