"""The name part of IRIs minted from names (``queries/normalise/50-mint.ru``), as a pre-step of the rules.

A provider without an ``id`` gets ``id/provider/<name>-<country>``. SPARQL has no transliteration, and its
``REPLACE(LCASE(?name), "[^a-z0-9]+", "-")`` turned "Bauer Präzisionstechnik GmbH" into ``bauer-pr-zisionstechnik-gmbh``;
so before the rules run, every named blank node gets its name's slug as ``in:nameSlug`` (German umlauts and ß
transliterated, ä -> ae, other accents stripped through Unicode decomposition), which the rule prefers and then
deletes. A name in plain ASCII gives the same slug as the rule alone, so the IRIs minted before stay as they were.
"""

from __future__ import annotations

import re
import unicodedata

import pyoxigraph as ox

from maas_kg.knowledge import MAAS

NAME_SLUG = ox.NamedNode("https://w3id.org/maas-kg/input#nameSlug")
_NAME = ox.NamedNode(str(MAAS.name))

#: letters Unicode decomposition does not take apart into a base letter and an accent
_TRANSLITERATION = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "å": "aa",
                    "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}


def transliterated(text: str) -> str:
    """``text`` in lower case ASCII letters where it can be: umlauts as ae, oe, ue, ß as ss, accents dropped."""
    lower = unicodedata.normalize("NFC", text).lower()
    replaced = "".join(_TRANSLITERATION.get(char, char) for char in lower)
    return "".join(char for char in unicodedata.normalize("NFKD", replaced) if not unicodedata.combining(char))


def slug(text: str) -> str:
    """The part of a minted IRI that a name gives: transliterated, every run of other characters one dash (as the
    rule's ``REPLACE(LCASE(?name), "[^a-z0-9]+", "-")``, which it equals for ASCII names)."""
    return re.sub(r"[^a-z0-9]+", "-", transliterated(text))


def add_name_slugs(store: ox.Store) -> None:
    """Give every blank node of the default graph that has a name the slug of that name (``in:nameSlug``), for the
    minting rule; the rule removes them."""
    slugs = [ox.Quad(quad.subject, NAME_SLUG, ox.Literal(slug(quad.object.value)), ox.DefaultGraph())
             for quad in store.quads_for_pattern(None, _NAME, None, ox.DefaultGraph())
             if isinstance(quad.subject, ox.BlankNode) and isinstance(quad.object, ox.Literal)]
    store.extend(slugs)
