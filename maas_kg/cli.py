"""The ``maas-kg`` command line."""

from __future__ import annotations

import sys

import click

from maas_kg import knowledge


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="maas-kg")
def main() -> None:
    """MaaS-KG: publish manufacturing services, match products to providers."""


@main.group()
def ontology() -> None:
    """Work with the ontology in ontology/ and its QA shapes."""


@ontology.command("check")
@click.option("--reasoner/--no-reasoner", default=True, show_default=True,
              help="Also let HermiT check consistency (needs Java).")
def ontology_check(reasoner: bool) -> None:
    """Run the taxonomy QA shapes (and HermiT) on the shipped ontology; exit 1 on any finding."""
    from maas_kg.reasoning import ReasonerUnavailable, check_consistency
    from maas_kg.validation import validate_taxonomy
    from maas_kg.vocabulary import material_index, process_index

    graph = knowledge.ontology_graph()
    processes, materials = process_index(graph), material_index(graph)
    click.echo(f"modules: {len(knowledge.ontology_modules())}, triples: {len(graph)}, "
               f"process classes: {len(processes.members)}, material classes: {len(materials.members)}")
    report = validate_taxonomy(graph)
    click.echo(f"taxonomy QA: {report.as_text()}")
    failed = not report.conforms
    if reasoner:
        try:
            result = check_consistency(graph)
        except ReasonerUnavailable as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"HermiT: {result.message} ({result.classes} classes)")
        failed = failed or not result.ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
