"""What the blueprints share about representations: RDF serialised in a negotiated media type, ``?format=`` for
download links, and the URL of a service's resource (and back). Blueprints import this, not each other."""

from __future__ import annotations

import io
import urllib.parse

import pyoxigraph as ox
from flask import request, url_for

from api.negotiation import best_response
from api.problems import Problem
from maas_kg import media_types

# IRIs minted by MaaS-KG (and the demo's) are addressed by their path under this base; others by the whole IRI,
# percent-encoded
ID_BASE = "https://w3id.org/maas-kg/id/"
def service_iri(service_id: str) -> str:
    """The IRI a ``/services/{id}`` path names. The routing has percent-decoded the path once already, which undoes
    exactly the quoting of ``service_url``: the id is not decoded again (a service IRI may contain "%3E")."""
    if service_id.startswith(("http://", "https://", "urn:")):
        iri = service_id
    elif service_id.startswith(("http:/", "https:/")):  # a client or proxy merged the slashes of '://'
        scheme, rest = service_id.split(":/", 1)
        iri = f"{scheme}://{rest}"
    else:
        iri = ID_BASE + service_id
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise Problem(404, "No such service", f"{service_id!r} does not name a service: use the path under "
                      f"{ID_BASE} or the whole IRI, percent-encoded") from None
    return iri


def service_url(service: str) -> str:
    """The path of ``service``'s resource: its part under ``ID_BASE`` where that reads back as the same IRI, else the
    whole IRI; percent-encoded either way, so that ``service_iri`` of the decoded path is ``service`` again."""
    local = service[len(ID_BASE):] if service.startswith(ID_BASE) else None
    if local is None or not _short_path_reads_back(local):
        local = urllib.parse.quote(service, safe="")
    else:
        local = urllib.parse.quote(local, safe="/")
    return url_for("services.list_services") + "/" + local


def _short_path_reads_back(local: str) -> bool:
    """Whether the path under ``ID_BASE`` names the same IRI: not if it looks like a whole IRI, and not if clients
    would rewrite it (an empty, "." or ".." segment)."""
    segments = local.split("/")
    return bool(local) and not local.startswith(("http:/", "https:/", "urn:")) \
        and not any(segment in ("", ".", "..") for segment in segments)



# prefixes that make served Turtle readable
_TURTLE_PREFIXES = {"maas": "https://w3id.org/maas-kg/ns#", "proc": "https://w3id.org/maas-kg/process#",
                    "mat": "https://w3id.org/maas-kg/material#", "xsd": "http://www.w3.org/2001/XMLSchema#",
                    "prov": "http://www.w3.org/ns/prov#"}


def serialise(triples, media_type: str) -> bytes:
    """``triples`` ((s, p, o) of pyoxigraph terms) in an RDF media type."""
    fmt = media_types.rdf_syntax(media_type).oxigraph
    output = io.BytesIO()
    extra = {"prefixes": _TURTLE_PREFIXES} if fmt == ox.RdfFormat.TURTLE else {}
    ox.serialize([ox.Triple(*t) for t in triples], output, format=fmt, **extra)
    return output.getvalue()


def download_type(available: list[str]) -> str:
    """The media type to answer in: the one ``?format=`` names (links that cannot set Accept, such as downloads:
    ``json`` for ``application/json``, else a short name of ``media_types``), else the best for Accept."""
    name = request.args.get("format")
    if name is None:
        return best_response(available)
    named = {("json" if t == "application/json" else media_types.input_syntax(t).name): t for t in available}
    if name not in named:
        raise Problem(400, "Bad format", f"format is one of {', '.join(named)}")
    return named[name]


def download_name(service: str, media_type: str) -> str:
    """A file name for a download of ``service`` in ``media_type``."""
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in service.rstrip("/").rsplit("/", 1)[-1])[:60]
    return stem + media_types.input_syntax(media_type).extensions[0]
