"""Product characteristics from CAD files (issue 22, activity 2.2): STEP through Open CASCADE (:mod:`.step`), STL,
3MF and OBJ meshes (:mod:`.mesh`), measured in a child process with a time and memory limit (:mod:`.limits`),
classified in the product format's shape vocabulary (:mod:`.characteristics`), the mass from the material's density
in the knowledge graph (``queries/cad/densities.rq``).

Owns: reading CAD files (``step``, ``mesh``), running that under limits (``limits``), deriving and classifying the
characteristics (``analysis``, ``characteristics``).

May import: ``maas_kg.store``, ``maas_kg.knowledge``, ``maas_kg.catalogue`` (the vocabulary's term indexes) and the
leaf modules; never matching or the stages above it, the CLI or the HTTP layer.
"""

from __future__ import annotations

from maas_kg.cad.analysis import SUFFIXES, suffix_of
from maas_kg.cad.characteristics import Characteristics
from maas_kg.cad.limits import CadError, run

__all__ = ["CadError", "Characteristics", "SUFFIXES", "characterise", "density"]


def characterise(path: str, *, name: str | None = None, material: str | None = None, store=None,
                 seconds: float | None = None, memory: int | None = None,
                 preview: bool = False) -> Characteristics:
    """The characteristics of the CAD file at ``path`` (its format from the extension of ``name`` or ``path``);
    with ``material`` (label, designation or IRI) and ``store`` (holding the ontology) also the mass; with
    ``preview`` also ``result.preview``, the encoded mesh of the 3D preview
    (:mod:`maas_kg.cad.preview`; not part of ``as_json``)."""
    name = name or path
    suffix = suffix_of(name)
    if suffix not in SUFFIXES:
        raise CadError(f"{suffix or 'a file without an extension'} is not a CAD format read here: send a file "
                       f"ending in {', '.join(SUFFIXES)}")
    result = run(path, suffix, name.rsplit("/", 1)[-1], seconds=seconds, memory=memory, preview=preview)
    if material is not None:
        label, value, source = density(store, material)
        result.with_density(label, value, source)
    return result


def density(store, material: str) -> tuple[str, float, str]:
    """(the material's label, its density in kg/m3, the source) from the nearest density record above it."""
    from maas_kg.catalogue.ingest import term_indexes
    from maas_kg.knowledge import rules

    iri = str(term_indexes()["material"].resolve(material))
    rows = rules.select(store, "cad/densities.rq", MATERIALS=rules.values(["material"], [[iri]]))
    row = rows[0] if rows else {}
    if row.get("density") is None:
        raise CadError(f"no density is known for material {material!r} or a class above it: give a material of the "
                       "taxonomy with a density (steels, aluminium and titanium alloys, PA12, ABS), or leave the "
                       "material out to get the measures without the mass")
    return material, float(row["density"].value), row["source"].value if row.get("source") else "no source"
