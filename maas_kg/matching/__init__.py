"""Matching a customer's product to the catalogue (mission activities 2.1 to 2.5).

Owns: customers' products, validated and kept private (``products``), the translation of product characteristics
into process requirements and routes (``translation``), the must-criteria as the ontology declares them
(``criteria``), the match index that evaluates them on columns (``index``), a step's answer as columns with its
scores (``step``), candidates per route step (``matcher``), the choice of one service per step (``orchestration``), the match result in the output contract
(``report``), the private workspace a match runs in (``workspace``), the catalogue's listing served from the match
index (``catalogue_index``) and the quotes of cost models from part characteristics (``costing``).

May import: ``maas_kg.store``, ``maas_kg.knowledge``, ``maas_kg.catalogue`` and the leaf modules; never the stages
above it (execution, resilience, circularity), the CLI or the HTTP layer. The names below are the package's public
face; its modules import each other by module, never through this file.
"""

from maas_kg.matching.criteria import CanCriterion, MustCriterion, can_criteria, must_criteria, must_names
from maas_kg.matching.index import MatchIndex
from maas_kg.matching.matcher import (PERFORMANCE_GRAPH, MatchResult, Request, RouteMatch, match_product, match_step,
                                      must_criteria_query, provider_performance, read_request)
from maas_kg.matching.step import Candidate, ProviderPerformance, StepMatch

__all__ = ["PERFORMANCE_GRAPH", "CanCriterion", "Candidate", "MatchIndex", "MatchResult", "MustCriterion",
           "ProviderPerformance", "Request", "RouteMatch", "StepMatch", "can_criteria", "match_product", "match_step",
           "must_criteria", "must_criteria_query", "must_names", "provider_performance", "read_request"]
