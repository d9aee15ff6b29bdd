from __future__ import annotations

import pytest
import rdflib

from maas_kg import knowledge


@pytest.fixture(scope="session")
def ontology() -> rdflib.Graph:
    return knowledge.ontology_graph()


@pytest.fixture(scope="session")
def module_graphs() -> dict[str, rdflib.Graph]:
    return {name: rdflib.Graph().parse(path) for name, path in knowledge.ontology_modules().items()}


@pytest.fixture(scope="session")
def examples_dir():
    return knowledge.shapes_dir() / "examples"
