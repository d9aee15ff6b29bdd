"""MaaS-KG: a semantic knowledge-graph matching service for Manufacturing-as-a-Service."""

__version__ = "0.1.0"
