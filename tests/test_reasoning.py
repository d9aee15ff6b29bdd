"""The whole ontology is OWL 2 DL that HermiT finds consistent, with no unsatisfiable class."""

from __future__ import annotations

import shutil

import pytest
import rdflib

from maas_kg.knowledge.reasoning import check_consistency

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs a Java runtime (java not on PATH)")


def test_hermit_finds_the_ontology_consistent(ontology):
    result = check_consistency(ontology)
    assert result.consistent, result.message
    assert not result.unsatisfiable, result.unsatisfiable
    assert result.classes > 200


def test_hermit_detects_an_inconsistent_extension(ontology):
    clash = rdflib.Graph().parse(data="""
        @prefix maas: <https://w3id.org/maas-kg/ns#> .
        @prefix owl:  <http://www.w3.org/2002/07/owl#> .
        <https://w3id.org/maas-kg/id/thing> a owl:NamedIndividual , maas:Provider , maas:ManufacturingService .
    """, format="turtle")
    result = check_consistency(ontology + clash)
    assert not result.ok
