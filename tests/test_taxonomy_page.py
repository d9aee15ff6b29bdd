"""The taxonomy page's data (issue 21, items 15 and 16): natural sorting of notations, the profile rule with labels,
units and the class each value is inherited from, a class's facts, the search filter and the breadcrumb path."""

from __future__ import annotations

import pytest

from maas_kg.catalogue import browse
from maas_kg.knowledge import MAT, PROC
from maas_kg.knowledge.graphs import sync_ontology
from maas_kg.store import open_store


@pytest.fixture(scope="module")
def store():
    opened = open_store("memory")
    sync_ontology(opened)
    return opened


@pytest.fixture(scope="module")
def processes(store):
    return browse.taxonomy(store, str(PROC.ManufacturingProcess))


def test_natural_key_orders_the_numbers_of_a_notation_by_value():
    assert sorted(["1.10", "1.2", "1.9", "1.1"], key=browse.natural_key) == ["1.1", "1.2", "1.9", "1.10"]
    assert sorted(["3.2.10", "3.2.9", "3.10", "3.2"], key=browse.natural_key) == ["3.2", "3.2.9", "3.2.10", "3.10"]
    # letters (ISO/ASTM 52900 categories) after numbers of the same position, no notation last
    assert sorted([None, "PBF", "1.10", "BJT", ""], key=browse.natural_key) == ["1.10", "BJT", "PBF", None, ""]


def test_siblings_in_the_tree_are_sorted_naturally(processes):
    shaping = browse.find(processes, str(PROC.PrimaryShaping))
    notations = [child.notation for child in shaping.children]
    assert notations == sorted(notations, key=browse.natural_key)
    assert notations[-1] == "1.10"


def profile_by_property(rows):
    found: dict = {}
    for row in rows:
        found.setdefault(row["property"].rsplit("#", 1)[-1], []).append(row)
    return found


def test_profile_rule_gives_labels_units_and_the_class_each_value_comes_from(store):
    profile = profile_by_property(browse.class_profile(store, str(PROC.Honing)))
    (best,) = profile["profileRaBest"]
    assert (best["propertyLabel"], best["value"], best["unit"], best["unitLabel"]) == \
        ("profile best Ra", "0.1", "µm", "micrometre")
    assert best["holder"] == str(PROC.Honing)  # stated on honing itself
    # materials are not stated on honing: inherited from its nearest ancestor that states them
    assert {row["holder"] for row in profile["profileMaterial"]} == {str(PROC.MachiningUndefinedEdge)}
    assert {row["valueLabel"] for row in profile["profileMaterial"]} >= {"ferrous metal"}
    (batch,) = profile["profileBatchMin"]
    assert batch["unit"] is None and batch["unitLabel"] == "number"  # a count has no symbol
    assert "profiledClass" not in profile


def test_profile_rule_in_german(store):
    profile = profile_by_property(browse.class_profile(store, str(PROC.Honing), "de"))
    (best,) = profile["profileRaBest"]
    assert (best["propertyLabel"], best["unit"], best["unitLabel"]) == ("Profil beste Rauheit Ra", "µm", "Mikrometer")
    assert "Eisenwerkstoff" in {row["valueLabel"] for row in profile["profileMaterial"]}


def test_profile_rule_names_the_nearest_ancestor_that_states_a_property(store):
    """Every inherited value's holder is an ancestor that states the property, and no class in between does."""
    profile = browse.class_profile(store, str(PROC.FiveAxisMilling))
    holders = {row["holder"] for row in profile}
    assert None not in holders
    tree = browse.taxonomy(store, str(PROC.ManufacturingProcess))
    ancestors = [node.iri for node in browse.path_to(tree, str(PROC.FiveAxisMilling))]
    assert holders <= set(ancestors)


def test_facts_of_a_material(store):
    facts = browse.class_facts(store, str(MAT.Steel42CrMo4))
    assert facts["notations"] == ["1.7225"]
    assert {"AISI 4140", "SAE 4140", "1.7225"} <= {text for text, _ in facts["synonyms"]}
    assert facts["definition"].startswith("Chromium-molybdenum steel")
    assert browse.class_facts(store, str(MAT.Steel42CrMo4), "de")["definition"].startswith("Chrom-Molybdän")
    # no German definition: the English one
    assert browse.class_facts(store, str(PROC.Honing), "de")["definition"].startswith("Finishing bores")
    # a process's profile values with units are the profile's, not repeated as facts
    assert browse.class_facts(store, str(PROC.Honing))["quantities"] == []
    assert browse.class_facts(store, str(PROC.Honing))["sources"] == ["DIN 8589-14"]


def test_search_keeps_matches_and_their_ancestors(store, processes):
    terms = browse.synonyms(store, str(PROC.ManufacturingProcess))
    tree, found = browse.filtered(processes, "honing", terms)
    kept = {node.iri for node in browse.walk(tree)}
    assert found == {str(PROC.Honing)}
    assert {str(PROC.Separating), str(PROC.MachiningUndefinedEdge), str(PROC.Honing)} <= kept
    assert str(PROC.Milling) not in kept
    # German labels, synonyms and notations match too, case-insensitively
    assert str(PROC.Honing) in browse.filtered(processes, "HONEN", terms)[1]
    assert str(PROC.Honing) in browse.filtered(processes, "3.3.4", terms)[1]
    materials = browse.taxonomy(store, str(MAT.Material))
    assert str(MAT.Steel42CrMo4) in browse.filtered(materials, "aisi 4140",
                                                     browse.synonyms(store, str(MAT.Material)))[1]
    # nothing matches: an empty tree, the original untouched
    empty, none = browse.filtered(processes, "xyzzy", terms)
    assert not empty.children and not none and processes.children


def test_path_and_parents(processes):
    path = [node.iri for node in browse.path_to(processes, str(PROC.Honing))]
    assert path == [str(PROC.ManufacturingProcess), str(PROC.Separating), str(PROC.MachiningUndefinedEdge),
                    str(PROC.Honing)]
    assert [p.iri for p in browse.parents(processes, str(PROC.Honing))] == [str(PROC.MachiningUndefinedEdge)]
    assert browse.path_to(processes, str(MAT.Steel42CrMo4)) == []
