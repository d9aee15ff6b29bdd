"""The service catalogue: what providers publish and what everyone may read of it.

Owns: reading input documents into normalised RDF (``ingest``), validation of services as SPARQL (``shacl_sparql``),
publishing, withdrawal and reconciliation in one transaction each (``publishing``), the listing, facets and totals
(``listing``), the initial bulk load (``initial_load``), providers' private values (``private_data``), API keys and
namespace grants (``keys``), the demo catalogue (``demo``), the browse views (``browse``) and what the public SPARQL
endpoint may run (``public_sparql``).

May import: ``maas_kg.store``, ``maas_kg.knowledge`` and the leaf modules (errors, settings, media_types, rdf, geo);
never matching or the stages above it. The names below are the package's public face; its modules import each
other by module, never through this file.
"""

from maas_kg.catalogue.listing import facet_counts, list_services, statistics
from maas_kg.catalogue.publishing import (CATALOGUE_GRAPH, HISTORY_GRAPH, SERVICE_GRAPH_BASE, CatalogueError,
                                          PublishResult, ServiceConflict, UnknownService, archived_triples, change_record,
                                          check_document, critical_section, current_versions, owners_of, private_values,
                                          providers_of, publish, read_services, reconcile_private, service_graph,
                                          validate_document, validate_services, withdraw)

__all__ = ["CATALOGUE_GRAPH", "HISTORY_GRAPH", "SERVICE_GRAPH_BASE", "CatalogueError", "PublishResult",
           "ServiceConflict", "UnknownService", "archived_triples", "change_record", "check_document", "critical_section",
           "current_versions", "facet_counts", "list_services", "owners_of", "private_values", "providers_of",
           "publish", "read_services", "reconcile_private", "service_graph", "statistics", "validate_document",
           "validate_services", "withdraw"]
