"""Primary-process candidates from product characteristics and the (derived) capability profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib.namespace import RDFS

from maas_kg import knowledge
from maas_kg.ingest import read_input
from maas_kg.ontology_graphs import DERIVED_GRAPH_BASE, sync_ontology
from maas_kg.store import Changes, open_store
from maas_kg.translation import primary_process_candidates

PRODUCTS = Path(__file__).parents[1] / "examples" / "products"
PROC = str(knowledge.PROC)


@pytest.fixture(scope="module")
def store():
    s = open_store("memory")
    sync_ontology(s)
    return s


def candidates(store, name, **changes):
    doc = {**json.loads((PRODUCTS / f"{name}.json").read_text()), **changes}
    normalised = read_input(json.dumps(doc).encode(), "json", kind="product")
    changes_ = Changes()
    changes_.replace_graph(f"https://w3id.org/maas-kg/graph/test/{name}",
                           [(t.subject, t.predicate, t.object) for t in normalised.triples])
    store.commit(changes_)
    return {c.process[len(PROC):]: c for c in primary_process_candidates(store, doc["id"])}


def test_derived_profiles_are_loaded_with_the_ontology(store):
    assert DERIVED_GRAPH_BASE + "profiles" in store.named_graphs()


def test_shaft_in_42crmo4_is_turned_never_cast_in_a_die(store):
    found = candidates(store, "turned-ground-shaft")
    assert "Turning" in found and "DieCasting" not in found and "InjectionMoulding" not in found


def test_pa12_lattice_goes_to_powder_bed_fusion_only(store):
    found = candidates(store, "pa12-lattice-part")
    pbf = set(knowledge.ontology_graph().transitive_subjects(RDFS.subClassOf, knowledge.PROC.PowderBedFusion))
    assert found and all(knowledge.PROC[name] in pbf for name in found)


def test_fifty_thousand_abs_housings_are_injection_moulded(store):
    found = candidates(store, "injection-moulded-housing")
    assert "InjectionMoulding" in found and "Milling" not in found and "FusedFilamentFabrication" not in found


def test_steel_never_goes_to_die_casting(store):
    assert "DieCasting" in candidates(store, "die-cast-housing")
    assert "DieCasting" not in candidates(store, "die-cast-housing", material="S355J2")


def test_one_unit_never_goes_to_a_process_needing_a_mould(store):
    found = candidates(store, "one-off-prototype")
    assert found and not [name for name, c in found.items() if c.needs_tooling]
