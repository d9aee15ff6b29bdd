# Providers' published performance (seed paper, activity 3.4): the aggregate of the evaluations of their orders,
# with how many there are, replaces what the performance graph said of them. Only the aggregate is public; the
# evaluations themselves stay in the private ledger (maas_kg.execution.evaluation). The matcher reads this graph for
# the performance can-criterion (queries/matching/provider-performance.rq).
# Placeholder: ROWS, a VALUES block binding (?provider ?score ?count): the provider's IRI, its score in 0..1 as an
# xsd:decimal, and the number of evaluations as an xsd:integer (bound by maas_kg.execution.evaluation through
# maas_kg.knowledge.rules).
PREFIX maas: <https://w3id.org/maas-kg/ns#>

DELETE { GRAPH <https://w3id.org/maas-kg/graph/performance> { ?provider maas:performanceScore ?oldScore ;
                                                                        maas:evaluationCount ?oldCount } }
INSERT { GRAPH <https://w3id.org/maas-kg/graph/performance> { ?provider maas:performanceScore ?score ;
                                                                        maas:evaluationCount ?count } }
WHERE {
  #ROWS#
  OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/performance> { ?provider maas:performanceScore ?oldScore } }
  OPTIONAL { GRAPH <https://w3id.org/maas-kg/graph/performance> { ?provider maas:evaluationCount ?oldCount } }
}
