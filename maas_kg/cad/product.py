"""A product from a CAD file and the fields the buyer adds (issue 22: ``maas-kg match PART.step``, ``POST /match``
with an upload, the web matching form): the file gives the geometry, the buyer the rest.

The buyer's fields win over the derived ones (a buyer who knows the part's mass or shape class better than the
mesh does says so). The mass is derived from the buyer's material where the knowledge graph knows its density;
where it does not, the product goes on without a derived mass, and ``methods["mass_kg"]`` says why."""

from __future__ import annotations

from maas_kg.cad.characteristics import Characteristics
from maas_kg.cad.limits import CadError

#: the product fields a buyer adds that a CAD file cannot give: what the error for a missing one lists
BUYER_FIELDS = ("material", "quantity")


def cad_product(path: str, fields: dict, *, name: str | None = None, store=None, preview: bool = False,
                seconds: float | None = None, memory: int | None = None) -> tuple[dict, Characteristics]:
    """(the product document, the file's characteristics): ``fields`` (a plain JSON product's keys, at least
    ``material`` and ``quantity``) over the product pre-filled from the CAD file at ``path``; with ``preview`` the
    characteristics carry the 3D preview's mesh (:mod:`maas_kg.cad.preview`)."""
    from maas_kg.cad import characterise, density

    if not isinstance(fields, dict):
        raise CadError("the product fields must be one JSON object, such as {\"material\": \"S355\", \"quantity\": 50}")
    missing = [key for key in BUYER_FIELDS if fields.get(key) in (None, "")]
    if missing:
        raise CadError(f"{', '.join(missing)}: {'is' if len(missing) == 1 else 'are'} needed besides the CAD file "
                       "(the file gives the geometry; the material, quantity, tolerances and delivery come from you)")
    result = characterise(path, name=name, seconds=seconds, memory=memory, preview=preview)
    material = fields.get("material")
    if isinstance(material, str) and store is not None and fields.get("mass_kg") is None:
        try:
            label, value, source = density(store, material)
        except (CadError, LookupError, ValueError) as err:
            result.methods["mass_kg"] = f"not derived: {err}"
        else:
            result.with_density(label, value, source)
    product = {**result.product(), **fields}
    return product, result
