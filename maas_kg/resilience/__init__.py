"""Resilience (seed paper section 4.1): a manufacturer's value chain under disruption events.

Owns: the value-chain format (``value_chains``, private like products), disruption events and what they hit
(``events``, with ``queries/resilience/``), R1 impact, exposure, risk and the Monte Carlo simulation
(``assessment``), R2 response scenarios and alternative orchestrations (``responses``), reading what is asked (``requests``).
May import: store, knowledge, catalogue, matching, execution and the leaves (errors, settings, media_types, rdf, geo).
"""

from maas_kg.resilience.assessment import assess
from maas_kg.resilience.responses import respond
from maas_kg.resilience.events import Event, from_library, library, read_events
from maas_kg.resilience.value_chains import ValueChain, read_value_chain

__all__ = ["Event", "ValueChain", "assess", "from_library", "library", "read_events", "read_value_chain", "respond"]
