"""The code's layout holds: packages by concern whose imports point one way.

store <- knowledge <- catalogue <- cad <- matching <- execution <- resilience <- circularity <- serving <- cli, with the
leaf modules (errors, settings, media_types, rdf, geo) below them all and the HTTP layer (``api``) beside serving,
which runs it. The check
reads every import statement with ``ast``, function-level imports too, so a lazy import cannot hide an upward edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["store", "knowledge", "catalogue", "cad", "matching", "execution", "resilience", "circularity", "serving",
          "cli"]
LEAVES = {"errors", "settings", "media_types", "rdf", "geo"}
PACKAGES = {"store", "knowledge", "catalogue", "cad", "matching", "execution", "resilience", "circularity"}


def _modules(top: str) -> dict[str, Path]:
    """Dotted module name -> file, for every Python file under ``top``."""
    found = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules("maas_kg")
API = _modules("api")


def _imports(path: Path, known: set[str]) -> list[tuple[str, bool]]:
    """The maas_kg / api modules ``path`` imports, each with whether the import runs at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from maas_kg.knowledge import rules`` imports the submodule when there is one
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                     for alias in node.names]
        else:
            continue
        found += [(name, id(node) in top_level) for name in names if name.split(".")[0] in ("maas_kg", "api")]
    return found


def _unit(module: str) -> str:
    """The unit a module belongs to: its package under maas_kg, a leaf or top-level module, or 'api'."""
    parts = module.split(".")
    if parts[0] == "api":
        return "api"
    return parts[1] if len(parts) > 1 else "maas_kg"


def _rank(unit: str) -> int:
    if unit in LEAVES:
        return -1
    return LAYERS.index(unit)


def test_every_module_belongs_to_a_layer_or_is_a_leaf():
    strays = {m for m in MODULES if _unit(m) not in LAYERS and _unit(m) not in LEAVES and m != "maas_kg"}
    assert not strays, f"place these in a package of LAYERS or declare them leaves: {sorted(strays)}"


def test_imports_point_down_the_layers():
    known = set(MODULES) | set(API)
    upward = []
    for module, path in MODULES.items():
        source = _unit(module)
        for target, _ in _imports(path, known):
            unit = _unit(target)
            if unit == "api":
                if source not in ("serving", "cli"):  # serving runs the HTTP application; nothing below knows it
                    upward.append(f"{module} imports {target}: only serving and the CLI know the HTTP layer")
            elif unit == "maas_kg":
                continue
            elif source in LEAVES and unit not in LEAVES:
                upward.append(f"leaf {module} imports {target}")
            elif source not in LEAVES and source != "maas_kg" and _rank(unit) > _rank(source):
                upward.append(f"{module} ({source}) imports {target} ({unit}), a layer above it")
    assert not upward, "\n".join(upward)


def test_no_import_cycle_at_module_level():
    known = set(MODULES) | set(API)
    graph = {m: {t for t, top in _imports(p, known) if top and t in known and t != m}
             for m, p in {**MODULES, **API}.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle.extend(trail[trail.index(nxt):] + [node, nxt] if nxt in trail else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, trail + [node]):
                return True
        state[node] = 2
        return False

    assert not any(visit(m, []) for m in sorted(graph) if m not in state), " -> ".join(cycle)


@pytest.mark.parametrize("package", sorted(p for p in PACKAGES if f"maas_kg.{p}" in MODULES))
def test_each_package_says_what_it_owns_and_may_import(package):
    doc = ast.get_docstring(ast.parse(MODULES[f"maas_kg.{package}"].read_text(encoding="utf-8"))) or ""
    assert "Owns:" in doc and "May import:" in doc, f"maas_kg/{package}/__init__.py: say what it owns and may import"


def test_the_check_catches_an_upward_import(tmp_path):
    # the rule is not vacuous: a knowledge module importing the catalogue is reported
    sample = tmp_path / "sample.py"
    sample.write_text("def late():\n    from maas_kg.catalogue import publishing\n")
    (target, top), = _imports(sample, set(MODULES))
    assert target == "maas_kg.catalogue.publishing" and not top
    assert _rank(_unit(target)) > _rank(_unit("maas_kg.knowledge.rules"))
