"""Circularity (seed paper section 4.2): take-back products to circular value chains (C1).

Owns: the take-back format (``take_back``), the feasible end-of-life strategies and the circular processes each needs
from the EoL ontology (``strategies``), the providers of those processes near the collection points and the
comparison of the strategies (``planning``), the Material Circularity Indicator (``mci``).
May import: store, knowledge, catalogue, matching, execution, resilience and the leaves.
"""
