"""The ``maas-kg`` command line. Every failure is one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from maas_kg import knowledge, settings
from maas_kg.errors import MaasKgError, Misconfigured
from maas_kg.knowledge import taxonomy
from maas_kg.matching.products import ProductError

# every error of the library (maas_kg.errors) and of the files a user names is one line, never a traceback
_EXPECTED = (MaasKgError, FileNotFoundError, PermissionError, IsADirectoryError, json.JSONDecodeError)


class _Group(click.Group):
    """Turns the errors users can cause into one-line messages (exit 2 for usage, 1 otherwise)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _EXPECTED as err:
            raise click.ClickException(str(err)) from None
        except OSError as err:
            raise click.ClickException(f"{err.strerror or err}: {err.filename or ''}".rstrip(": ")) from None


def _read(path: str) -> bytes:
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if file.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a file")
    return file.read_bytes()


def _open(ctx: click.Context, *, sync: bool = True):
    """Open the store named by --store / $MAAS_KG_STORE, bringing the ontology graphs up to date."""
    from maas_kg.knowledge.graphs import sync_ontology
    from maas_kg.store import open_store

    store = open_store(ctx.obj["store"])
    ctx.call_on_close(store.close)
    if sync:
        sync_ontology(store)
        taxonomy.follow(store)  # names of the store's taxonomy extensions resolve too
    return store


def _private(ctx: click.Context):
    """The providers' private values: $MAAS_KG_PRIVATE, else private.sqlite beside the API keys (in memory for a
    memory store)."""
    from maas_kg.catalogue.private_data import PrivateStore, default_private_file

    return PrivateStore(":memory:" if ctx.obj["store"] == "memory" else default_private_file())


def _table(rows: list[dict], columns: list[str]) -> str:
    from prettytable import PrettyTable

    table = PrettyTable(columns)
    table.align = "l"
    for row in rows:
        table.add_row(["" if row.get(c) is None else row.get(c) for c in columns])
    return table.get_string()


def _short(iri: str | None) -> str | None:
    if iri is None:
        return None
    for prefix, ns in (("proc:", str(knowledge.PROC)), ("mat:", str(knowledge.MAT)), ("maas:", str(knowledge.MAAS))):
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return iri


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="maas-kg")
@click.option("--store", envvar="MAAS_KG_STORE", default="var/store", show_default=True,
              help="Store location: a directory (embedded, on disk), 'memory', or an Oxigraph server's URL "
                   "(http://host:7878). Env: MAAS_KG_STORE.")
@click.pass_context
def main(ctx: click.Context, store: str) -> None:
    """MaaS-KG: publish manufacturing services, match products to providers."""
    settings.check()  # a wrong MAAS_KG_* value is one line now, not a failing worker later
    ctx.ensure_object(dict)
    ctx.obj["store"] = store


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--graph", help="Named graph for FILES (default: each file into the default graph).")
@click.option("--force", is_flag=True, help="Reload every ontology module even if unchanged.")
@click.pass_context
def load(ctx: click.Context, files: tuple[str, ...], graph: str | None, force: bool) -> None:
    """Load the ontology modules (changed ones only); with FILES, also load raw RDF without validation."""
    from maas_kg.catalogue.ingest import InputError, format_for
    from maas_kg.knowledge.graphs import sync_ontology

    store = _open(ctx, sync=False)
    loaded = sync_ontology(store, force=force)
    click.echo(f"ontology: {len(loaded)} module(s) loaded" + (f" ({', '.join(loaded)})" if loaded else ", all current"))
    for file in files:
        fmt = format_for(file)
        if fmt == "json":
            raise InputError("raw loading takes RDF; publish plain JSON services with 'maas-kg publish'")
        store.load(_read(file), fmt, graph=graph)
        click.echo(f"loaded {file}" + (f" into <{graph}>" if graph else ""))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["service", "product"]), default="service", show_default=True,
              help="What the plain JSON file describes.")
@click.option("--format", "output", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True)
def validate(file: str, kind: str, output: str) -> None:
    """Validate FILE against the shapes; exit 0 if it conforms, 1 if not."""
    from maas_kg.catalogue import validate_document
    from maas_kg.catalogue.ingest import format_for

    report = validate_document(_read(file), format_for(file), kind=kind)
    if output == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    elif output == "turtle":
        click.echo(report.graph.serialize(format="turtle") if report.graph is not None else "")
    else:
        click.echo(report.as_text())
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--batch-size", default=500, show_default=True, help="Services written per transaction.")
@click.option("--publisher", help="Agent IRI recorded as publisher (default: each service's provider).")
@click.pass_context
def publish(ctx: click.Context, files: tuple[str, ...], batch_size: int, publisher: str | None) -> None:
    """Validate and publish the services in FILES; invalid services are reported and not written."""
    from maas_kg import catalogue
    from maas_kg.catalogue.ingest import format_for

    store, private = _open(ctx), _private(ctx)
    failed = 0
    for file in files:
        data, fmt = _read(file), format_for(file)
        bar = None

        def advance(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = click.progressbar(length=total, label=file, file=sys.stderr)
                bar.__enter__()
            bar.update(done)

        try:
            results = catalogue.publish(store, data, fmt, publisher=publisher, batch_size=batch_size,
                                        progress=advance, private=private)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        ok = [r for r in results if r.published]
        bad = [r for r in results if not r.published]
        failed += len(bad)
        withheld = sum(r.private_values for r in ok)
        click.echo(f"{file}: {len(ok)} published, {len(bad)} rejected"
                   + (f"; {withheld} private value(s) kept out of the catalogue, in {private.path}" if withheld else ""))
        for r in bad:
            click.echo(f"  rejected {r.service}:")
            for v in r.violations:
                click.echo(f"    - {v.message}" + (f" (found {v.value})" if v.value is not None else ""))
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("service")
@click.pass_context
def withdraw(ctx: click.Context, service: str) -> None:
    """Withdraw the service with IRI SERVICE (it stops matching; its history is kept)."""
    from maas_kg import catalogue

    version = catalogue.withdraw(_open(ctx), service, private=_private(ctx))
    click.echo(f"withdrew {service} (version {version})")


@main.command("list")
@click.option("--process", help="Process: DIN notation, ISO/ASTM code, label or IRI (subclasses included).")
@click.option("--material", help="Material: label, designation or IRI.")
@click.option("--country", help="ISO 3166-1 alpha-2 code of the site's country.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def list_(ctx: click.Context, process: str | None, material: str | None, country: str | None, output: str) -> None:
    """List published services."""
    from maas_kg import catalogue
    from maas_kg.catalogue.ingest import term_indexes

    indexes = term_indexes()
    rows = catalogue.list_services(
        _open(ctx),
        process=str(indexes["process"].resolve(process)) if process else None,
        material=str(indexes["material"].resolve(material)) if material else None,
        country=country)
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        row["processType"] = _short(row["processType"])
    click.echo(_table(rows, ["service", "name", "providerName", "country", "processType", "version"]))
    click.echo(f"{len(rows)} service(s)")


@main.command("quote-compare")
@click.argument("service_file", type=click.Path(dir_okay=False))
@click.option("--samples", "samples", multiple=True, type=click.Path(dir_okay=False),
              help="Product JSON files to quote (repeatable; default: the shipped examples/products/*.json).")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def quote_compare(ctx: click.Context, service_file: str, samples: tuple[str, ...], output: str) -> None:
    """Quote sample parts with a service's cost model (or flat price) against the published services of its class."""
    from maas_kg.matching import costing

    document = json.loads(_read(service_file))
    if isinstance(document, dict) and "services" in document:
        document = document["services"]
    if isinstance(document, list):
        if len(document) != 1:
            raise click.ClickException(f"{service_file}: holds {len(document)} services; quote-compare takes one")
        document = document[0]
    parts = {Path(f).stem: json.loads(_read(f)) for f in samples} or None
    try:
        checked = costing.compare_service(_open(ctx), document, parts)
    except costing.ServiceDocumentError as err:
        raise click.ClickException(f"{service_file}: {err}") from None
    process, rows = checked["process"], checked["rows"]
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return

    def money(value):
        return None if value is None else f"{value:,.2f}"

    shown = [{**row, **{k: money(row.get(k)) for k in ("own", "own_per_part", "q1", "median", "q3")},
              "note": "; ".join(filter(None, [
                  row.get("note"),
                  f"peers left out: {row.get('other_currency', 0)} in another currency, {row.get('not_quotable', 0)} "
                  "not quotable" if row.get("other_currency") or row.get("not_quotable") else None]))}
             for row in rows]
    click.echo(f"{_short(process)}: {checked['other_services']} other published service(s) of the class")
    click.echo(_table(shown, ["sample", "quantity", "currency", "own", "own_per_part", "peers", "q1", "median", "q3",
                              "position", "note"]))


@main.command()
@click.argument("query")
@click.option("--format", "output", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--union/--no-union", default=True, show_default=True,
              help="Query the union of all graphs as the default graph.")
@click.pass_context
def sparql(ctx: click.Context, query: str, output: str, union: bool) -> None:
    """Run a SPARQL query given inline or as @file.rq."""
    import pyoxigraph as ox

    text = _read(query[1:]).decode("utf-8") if query.startswith("@") else query
    result = _open(ctx).query(text, union_default_graph=union)
    if isinstance(result, ox.QueryBoolean):
        click.echo("true" if result else "false")
        return
    if isinstance(result, ox.QueryTriples):
        click.echo(result.serialize(format=ox.RdfFormat.N_TRIPLES).decode() if hasattr(result, "serialize")
                   else "\n".join(f"{t} ." for t in result))
        return
    if output in ("json", "csv"):
        fmt = ox.QueryResultsFormat.JSON if output == "json" else ox.QueryResultsFormat.CSV
        click.echo(result.serialize(format=fmt).decode("utf-8"))
        return
    names = [v.value for v in result.variables]
    rows = [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]
    click.echo(_table(rows, names))
    click.echo(f"{len(rows)} row(s)")


@main.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig"]), default=None,
              help="Default: from the file extension (.nq, .trig).")
@click.pass_context
def export_(ctx: click.Context, file: str, fmt: str | None) -> None:
    """Write every graph of the store to FILE (N-Quads or TriG)."""
    store = _open(ctx, sync=False)
    fmt = fmt or ("trig" if file.endswith(".trig") else "nquads")
    store.export(Path(file), fmt)
    click.echo(f"exported {store.quad_count()} quads to {file}")


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig"]), default=None)
@click.pass_context
def import_(ctx: click.Context, file: str, fmt: str | None) -> None:
    """Add the graphs of FILE (N-Quads or TriG, as written by export) to the store, in one transaction."""
    store = _open(ctx, sync=False)
    before = store.quad_count()
    _read(file)  # clear error for a missing file before the store sees it
    store.import_dataset(Path(file), fmt or ("trig" if file.endswith(".trig") else "nquads"))
    click.echo(f"imported {store.quad_count() - before} quads from {file}")


@main.command()
@click.pass_context
def info(ctx: click.Context) -> None:
    """Show store statistics."""
    from maas_kg import catalogue

    store = _open(ctx)
    stats = catalogue.statistics(store)
    graphs = store.named_graphs()
    click.echo(f"store: {store.location}")
    click.echo(f"quads: {store.quad_count()}")
    click.echo(f"named graphs: {len(graphs)}")
    click.echo(f"services: {stats['published']} published, {stats['withdrawn']} withdrawn")


@main.command()
@click.argument("product_file", type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(min=1, max=1000), default=None,
              help="Candidates listed per step (default: 20 for JSON and RDF, 5 for the table); counts and "
                   "relaxations always cover all.")
@click.option("--all", "everything", is_flag=True, help="List every candidate and near miss of every step.")
@click.option("--k", "k", type=click.IntRange(min=1), default=3, show_default=True,
              help="Best assignments of services to the steps of each route.")
@click.option("--format", "output", type=click.Choice(["table", "json", "turtle", "jsonld"]), default="table",
              show_default=True, help="turtle / jsonld: the routes and candidates as RDF.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date the due date and validity are counted from (default: today).")
@click.option("--engine", type=click.Choice(["index", "sparql"]), default="index", show_default=True,
              help="index: must-criteria on the match index (built from the store first); sparql: the reference "
                   "rule in the store.")
@click.option("--material", help="With a CAD file: the part's material (label, designation or IRI).")
@click.option("--quantity", type=click.IntRange(min=1), help="With a CAD file: how many parts.")
@click.option("--fields", "fields_file", type=click.Path(dir_okay=False),
              help="With a CAD file: a JSON object of the other product fields (tolerance_mm, delivery, weights, ...).")
@click.pass_context
def match(ctx: click.Context, product_file: str, top: int | None, k: int, output: str, today, engine: str,
          everything: bool, material: str | None, quantity: int | None, fields_file: str | None) -> None:
    """Route PRODUCT_FILE and match every step to published services. PRODUCT_FILE is a product (JSON, Turtle,
    JSON-LD) or a CAD file (.step, .stp, .stl, .3mf, .obj) with --material and --quantity (and --fields): the file
    gives the geometry, and services with a cost model quote the part from it."""
    from maas_kg.cad import SUFFIXES
    from maas_kg.cad.analysis import suffix_of
    from maas_kg.catalogue.ingest import format_for
    from maas_kg.matching.report import NEAR_MISSES, TOP, as_json, as_rdf, as_text
    from maas_kg.matching.index import snapshot_for
    from maas_kg.matching.workspace import Workspace

    store = _open(ctx)
    if suffix_of(product_file) in SUFFIXES:
        data, format = _cad_product(store, product_file, material, quantity, fields_file), "json"
    elif material is not None or quantity is not None or fields_file is not None:
        raise click.UsageError("--material, --quantity and --fields go with a CAD file; a product file states them")
    else:
        data, format = _read(product_file), format_for(product_file)
    try:
        # the product stays in a private in-memory workspace: it never enters the catalogue store
        workspace = Workspace(store, engine=engine, snapshot=snapshot_for(ctx.obj["store"]))
        result = workspace.match(data, format, today=today.date() if today else None, k=k)
    except ProductError as err:
        if err.report is not None:
            click.echo(err.report.as_text(), err=True)
        raise
    shown = None if everything else (top or (5 if output == "table" else TOP))
    if output in ("turtle", "jsonld"):
        click.echo(as_rdf(result, top=shown).serialize(format="turtle" if output == "turtle" else "json-ld"))
        return
    document = as_json(store, result, top=shown, near_misses=None if everything else NEAR_MISSES)
    if output == "json":
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(as_text(document, top=shown or 10**9, near_misses=10**9 if everything else 5))


def _cad_product(store, path: str, material: str | None, quantity: int | None, fields_file: str | None) -> bytes:
    """The product document of a CAD file and the buyer's fields (maas_kg.cad.product), as JSON bytes."""
    from maas_kg.cad.product import cad_product
    from maas_kg.errors import InvalidInput

    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    fields = {}
    if fields_file is not None:
        try:
            fields = json.loads(_read(fields_file))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InvalidInput(f"{fields_file}: not a JSON object of product fields ({err})") from None
        if not isinstance(fields, dict):
            raise InvalidInput(f"{fields_file}: must be one JSON object of product fields, such as "
                               '{"tolerance_mm": 0.05}')
    fields.update({key: value for key, value in (("material", material), ("quantity", quantity)) if value is not None})
    product, _ = cad_product(path, fields, store=store)
    return json.dumps(product).encode()


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--material", help="Material (label, designation or IRI): adds the mass from its density.")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: the product format's fields, the derived measures, how each was found, and a product.")
@click.pass_context
def characterise(ctx: click.Context, file: str, material: str | None, output: str) -> None:
    """Product characteristics of a CAD FILE (.step, .stp, .stl, .3mf, .obj): envelope, shape class, volume, mass."""
    from maas_kg.cad import characterise as characterise_file

    if not Path(file).is_file():
        raise FileNotFoundError(f"no such file: {file}")
    result = characterise_file(file, material=material, store=_open(ctx) if material else None)
    document = result.as_json()
    if output == "json":
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    rows = [{"measure": key, "value": value, "how": result.methods.get(key, "")} for key, value in document.items()
            if key not in ("methods", "product", "components") and value not in (None, [])]
    click.echo(_table(rows, ["measure", "value", "how"]))
    if result.components:
        click.echo(f"{len(result.components)} bodies: see --format json (components)")


@main.command("index")
@click.option("--rebuild", is_flag=True, help="Read every service again, even where a snapshot is up to date.")
@click.pass_context
def index_command(ctx: click.Context, rebuild: bool) -> None:
    """Bring the match index's snapshot up to date with the store (workers then start from it in seconds)."""
    import time

    from maas_kg.matching.index import MatchIndex, snapshot_for

    store = _open(ctx)
    path = snapshot_for(ctx.obj["store"])
    if path is None:
        raise Misconfigured("this store keeps no match index snapshot: set MAAS_KG_MATCH_INDEX to a file")
    start = time.perf_counter()
    index = MatchIndex(snapshot=path) if rebuild else MatchIndex.opened(path)
    index.follow(store, force=True)
    index.save(path)
    click.echo(f"match index: {index.size:,} services, change {index.change_count}, "
               f"{time.perf_counter() - start:.1f} s, saved to {path}")


@main.command()
@click.option("--providers", default=300, show_default=True, help="Number of demo providers (2-6 services each).")
@click.option("--seed", default=1, show_default=True, help="Same seed, same catalogue.")
@click.option("--batch-size", default=500, show_default=True, help="Services written per transaction.")
@click.option("--initial-load", is_flag=True,
              help="Into an empty catalogue: validate as usual, then write everything with one bulk load (faster "
                   "for large catalogues; not transactional, so rerun into a fresh store if interrupted).")
@click.option("--workers", default=1, show_default=True, help="Processes preparing an initial load.")
@click.pass_context
def demo(ctx: click.Context, providers: int, seed: int, batch_size: int, initial_load: bool, workers: int) -> None:
    """Fill the store with the deterministic demo catalogue (validated and published like any other input)."""
    import itertools

    from maas_kg import catalogue
    from maas_kg.catalogue.demo import generate_services
    from maas_kg.catalogue.initial_load import initial_load as load_initially

    store = _open(ctx)
    stream = generate_services(providers, seed)
    published = rejected = 0
    chunks = iter(lambda: list(itertools.islice(stream, batch_size)), [])
    with click.progressbar(length=providers, label="demo providers", file=sys.stderr) as bar:
        def count(results: list) -> None:
            nonlocal published, rejected
            published += sum(r.published for r in results)
            rejected += sum(not r.published for r in results)
            for r in results:
                if not r.published:
                    click.echo(f"rejected {r.service}: {r.violations[0].message}", err=True)
            bar.update(len({r.service.rsplit("/service/", 1)[0] for r in results}))

        if initial_load:
            load_initially(store, (json.dumps(chunk).encode("utf-8") for chunk in chunks), "json", workers=workers,
                           progress=count)
        else:
            for chunk in chunks:
                count(catalogue.publish(store, json.dumps(chunk).encode("utf-8"), "json", batch_size=batch_size))
    click.echo(f"demo catalogue: {published} services published, {rejected} rejected ({providers} providers, seed {seed})")
    sys.exit(1 if rejected else 0)


@main.group()
def ontology() -> None:
    """Work with the ontology in ontology/ and its QA shapes."""


@ontology.command("check")
@click.option("--reasoner/--no-reasoner", default=True, show_default=True,
              help="Also let HermiT check consistency (needs Java).")
def ontology_check(reasoner: bool) -> None:
    """Run the taxonomy QA shapes (and HermiT) on the shipped ontology; exit 1 on any finding."""
    from maas_kg.knowledge.reasoning import ReasonerUnavailable, check_consistency, load_via_catalog
    from maas_kg.knowledge.validation import validate_taxonomy
    from maas_kg.knowledge.vocabulary import material_index, process_index

    # the ontology as Protégé opens it: maas.ttl and its imports, resolved through catalog-v001.xml
    graph, _ = load_via_catalog(knowledge.ontology_dir() / "maas.ttl")
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn worker processes.")
@click.option("--threads", default=None, type=click.IntRange(1, 64),
              help="Threads of each worker (default: see WORKER_THREADS in maas_kg/serving.py).")
@click.option("--sparql-timeout", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds before a SPARQL query is stopped.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, threads: int | None, sparql_timeout: float) -> None:
    """Run the HTTP service (REST API, SPARQL endpoints, docs) under gunicorn until stopped with Ctrl-C."""
    from maas_kg.serving import WORKER_THREADS, serve as run

    run(ctx.obj["store"], host=host, port=port, workers=workers, threads=threads or WORKER_THREADS,
        sparql_timeout=sparql_timeout)


@main.group()
@click.option("--keys", "keys_file", envvar="MAAS_KG_KEYS", default="var/keys.sqlite", show_default=True,
              help="The key file (SQLite; only hashes of keys are kept). Env: MAAS_KG_KEYS.")
@click.pass_context
def keys(ctx: click.Context, keys_file: str) -> None:
    """API keys: one per provider organisation, or for administrators."""
    ctx.obj["keys"] = keys_file


def _keyring(ctx: click.Context):
    from maas_kg.catalogue.keys import KeyRing

    return KeyRing(ctx.obj["keys"])


@keys.command("create")
@click.option("--provider", help="The provider organisation's IRI: the key may change only its services and answers "
                                 "the requests for quotation addressed to it.")
@click.option("--buyer", help="A buyer organisation's IRI: the key requests quotes, accepts offers and evaluates "
                              "its orders.")
@click.option("--admin", is_flag=True, help="An administrator's key (SPARQL update, graph store, extensions).")
@click.option("--label", help="A note for the listing, e.g. who holds the key.")
@click.pass_context
def keys_create(ctx: click.Context, provider: str | None, buyer: str | None, admin: bool, label: str | None) -> None:
    """Create a key and print it once (only its hash is stored)."""
    token, record = _keyring(ctx).create(provider=provider, buyer=buyer, admin=admin, label=label)
    click.echo(token)
    click.echo(f"key id {record.key_id} for {'administrators' if admin else provider or buyer}: keep the key secret, "
               "it is shown only now", err=True)


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """List the keys (ids, owners, dates; never the keys themselves)."""
    rows = [{"key id": k.key_id, "provider": k.provider, "buyer": k.buyer, "admin": "yes" if k.admin else "",
             "label": k.label, "created": k.created, "revoked": k.revoked} for k in _keyring(ctx).list()]
    click.echo(_table(rows, ["key id", "provider", "buyer", "admin", "label", "created", "revoked"]))


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key at once (every server worker sees it on the next request)."""
    record = _keyring(ctx).revoke(key_id)
    click.echo(f"revoked key {record.key_id} ({record.provider or record.buyer or 'administrator'})")


@keys.command("grant")
@click.option("--provider", required=True, help="The provider organisation's IRI.")
@click.option("--namespace", required=True,
              help="An IRI prefix under which the provider's keys may publish services, besides the provider IRI "
                   "followed by '/' (which is always its own), e.g. https://example.org/acme/service/.")
@click.pass_context
def keys_grant(ctx: click.Context, provider: str, namespace: str) -> None:
    """Let a provider's keys publish services under another IRI namespace (services already published there keep
    their owners)."""
    _keyring(ctx).grant(provider, namespace)
    click.echo(f"{provider} may publish services under {namespace}")


@keys.command("grants")
@click.pass_context
def keys_grants(ctx: click.Context) -> None:
    """List the namespaces granted to providers."""
    rows = [{"provider": p, "namespace": n, "granted": g} for p, n, g in _keyring(ctx).grants()]
    click.echo(_table(rows, ["provider", "namespace", "granted"]))


# -- stage 3: requests for quotation and orders (the operator's view, or acting for one party) -------------------

def _party_options(function):
    function = click.option("--provider", "as_provider", help="Act as this provider organisation (its IRI).")(function)
    function = click.option("--buyer", "as_buyer", help="Act as this buyer organisation (its IRI).")(function)
    return click.option("--transactions", "transactions", envvar="MAAS_KG_TRANSACTIONS", default=None,
                        help="The ledger (SQLite). Env: MAAS_KG_TRANSACTIONS; default transactions.sqlite beside "
                             "the key file.")(function)


def _ledger_and_party(ctx: click.Context):
    from maas_kg.execution import Ledger, Party, default_ledger_file

    options = ctx.find_root().obj
    if options.get("as_buyer") and options.get("as_provider"):
        raise click.UsageError("act as a buyer or as a provider, not both")
    party = Party(options["as_buyer"], "buyer") if options.get("as_buyer") else \
        Party(options["as_provider"], "provider") if options.get("as_provider") else Party(None, "admin")
    return Ledger(options.get("transactions") or default_ledger_file(settings.KEYS.value())), party


def _document(path: str) -> dict:
    from maas_kg.catalogue.ingest import parse_json

    return parse_json(_read(path), path)


def _rdf_or_json(path: str):
    """A value-chain or take-back file: the plain JSON document (.json), else an ``RdfDocument`` in the syntax its
    extension names (.ttl, .nt, .rdf, .jsonld), as product files are read."""
    from maas_kg.catalogue.ingest import format_for
    from maas_kg.resilience.value_chains import RdfDocument

    fmt = format_for(path)
    return _document(path) if fmt == "json" else RdfDocument(_read(path), fmt)


@main.group()
@_party_options
@click.pass_context
def rfq(ctx: click.Context, transactions: str | None, as_buyer: str | None, as_provider: str | None) -> None:
    """Requests for quotation and their offers: as the operator (every request), or --buyer / --provider IRI."""
    ctx.obj.update(transactions=transactions, as_buyer=as_buyer, as_provider=as_provider)


@rfq.command("send")
@click.argument("document", type=click.Path(dir_okay=False))
@click.pass_context
def rfq_send(ctx: click.Context, document: str) -> None:
    """Send the requests of a JSON inquiry (title, quantity, due, delivery, items of service, step, requirements)."""
    from maas_kg.execution import request_quotes

    ledger, party = _ledger_and_party(ctx)
    sent = request_quotes(ledger, _open(ctx), party, _document(document))
    click.echo(json.dumps(sent, indent=2, ensure_ascii=False))


@rfq.command("list")
@click.option("--state", help="Only requests in this state (requested, offered, countered, accepted, ...).")
@click.option("--inquiry", help="Only the requests of this inquiry.")
@click.pass_context
def rfq_list(ctx: click.Context, state: str | None, inquiry: str | None) -> None:
    """The requests, newest first (a provider's inbox with --provider)."""
    from maas_kg.execution.negotiation import listing

    ledger, party = _ledger_and_party(ctx)
    rows = listing(ledger, party, state=state, inquiry=inquiry, limit=1000)
    click.echo(_table(rows, ["id", "inquiry", "step", "service", "provider", "buyer", "quantity", "due", "state"]))


@rfq.command("show")
@click.argument("rfq_id")
@click.pass_context
def rfq_show(ctx: click.Context, rfq_id: str) -> None:
    """One request with its offers and their plans, as JSON."""
    from maas_kg.execution.negotiation import view

    ledger, party = _ledger_and_party(ctx)
    click.echo(json.dumps(view(ledger, party, rfq_id), indent=2, ensure_ascii=False))


@rfq.command("offer")
@click.argument("rfq_id")
@click.argument("document", type=click.Path(dir_okay=False))
@click.option("--counter", is_flag=True, help="A buyer's counter-offer (with --buyer).")
@click.pass_context
def rfq_offer(ctx: click.Context, rfq_id: str, document: str, counter: bool) -> None:
    """Offer on a request (with --provider), or counter an offer (--counter with --buyer): the terms from a JSON
    file (price, currency, lead_time_days, valid_until, incoterm, conditions)."""
    from maas_kg.execution import counter as counter_offer
    from maas_kg.execution import offer

    ledger, party = _ledger_and_party(ctx)
    made = (counter_offer if counter else offer)(ledger, party, rfq_id, _document(document))
    click.echo(f"{rfq_id}: {made['state']}, offer version {made['offers'][-1]['version']}")


@rfq.command("accept")
@click.argument("rfq_id")
@click.option("--version", type=int, required=True, help="The offer version to accept.")
@click.pass_context
def rfq_accept(ctx: click.Context, rfq_id: str, version: int) -> None:
    """Accept an offer (with --buyer): prints the order made."""
    from maas_kg.execution import accept

    ledger, party = _ledger_and_party(ctx)
    click.echo(accept(ledger, party, rfq_id, {"version": version})["order"])


@main.group()
@_party_options
@click.pass_context
def orders(ctx: click.Context, transactions: str | None, as_buyer: str | None, as_provider: str | None) -> None:
    """Orders (accepted offers): timelines, plans, status events, evaluations."""
    ctx.obj.update(transactions=transactions, as_buyer=as_buyer, as_provider=as_provider)


@orders.command("list")
@click.option("--state", type=click.Choice(["open", "delivered", "cancelled"]), help="Only orders in this state.")
@click.pass_context
def orders_list(ctx: click.Context, state: str | None) -> None:
    from maas_kg.execution.tracking import orders as orders_of

    ledger, party = _ledger_and_party(ctx)
    rows = [{**o, "price": f"{o['terms']['price']} {o['terms']['currency']}",
             "delivery date": o["terms"]["delivery_date"]} for o in orders_of(ledger, party, state=state, limit=1000)]
    click.echo(_table(rows, ["id", "step", "provider", "buyer", "price", "delivery date", "state", "accepted"]))


@orders.command("show")
@click.argument("order_id")
@click.option("--format", "fmt", type=click.Choice(["json", "turtle", "jsonld"]), default="json", show_default=True,
              help="json: the order with its timeline; turtle/jsonld: the agreement as RDF (schema.org, PROV).")
@click.pass_context
def orders_show(ctx: click.Context, order_id: str, fmt: str) -> None:
    from maas_kg.execution.records import agreement_graph
    from maas_kg.execution.tracking import timeline

    ledger, party = _ledger_and_party(ctx)
    order = timeline(ledger, party, order_id)
    if fmt == "json":
        click.echo(json.dumps(order, indent=2, ensure_ascii=False))
    else:
        click.echo(agreement_graph(order).serialize(format="turtle" if fmt == "turtle" else "json-ld"))


@orders.command("plan")
@click.argument("inquiry")
@click.option("--ics", type=click.Path(dir_okay=False, writable=True), help="Also write the plan as iCalendar here.")
@click.pass_context
def orders_plan(ctx: click.Context, inquiry: str, ics: str | None) -> None:
    """The schedule of an inquiry's chain of steps, backwards from its due date, with slack."""
    from maas_kg.execution.planning import as_icalendar, plan

    ledger, party = _ledger_and_party(ctx)
    schedule = plan(ledger, _open(ctx), party, inquiry)
    click.echo(_table(schedule["steps"], ["position", "step", "provider", "lead_time_days", "earliest_finish",
                                          "latest_finish", "slack_days"]))
    for warning in schedule["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    if ics:
        Path(ics).write_bytes(as_icalendar(schedule))


@orders.command("event")
@click.argument("order_id")
@click.option("--kind", required=True, help="accepted, material_received, started, finished, shipped, delivered, "
                                            "delayed, cancelled")
@click.option("--date", "happened", help="When it happened (YYYY-MM-DD; default today).")
@click.option("--new-date", help="For a delay: the new expected date.")
@click.option("--note")
@click.pass_context
def orders_event(ctx: click.Context, order_id: str, kind: str, happened: str | None, new_date: str | None,
                 note: str | None) -> None:
    """Report a status event of an order (with --provider)."""
    from maas_kg.execution import post_event

    ledger, party = _ledger_and_party(ctx)
    doc = {key: value for key, value in (("kind", kind), ("date", happened), ("new_date", new_date), ("note", note))
           if value is not None}
    order = post_event(ledger, party, order_id, doc)
    click.echo(f"{order_id}: {order['stage']}, expected {order['expected_date']}")
    for warning in order["warnings"]:
        click.echo(f"warning: {warning}", err=True)


@orders.command("evaluate")
@click.argument("order_id")
@click.argument("document", type=click.Path(dir_okay=False))
@click.pass_context
def orders_evaluate(ctx: click.Context, order_id: str, document: str) -> None:
    """Evaluate a delivered order (with --buyer) from a JSON file (conforming, defects, communication, documents)."""
    from maas_kg.execution import evaluate

    ledger, party = _ledger_and_party(ctx)
    rated = evaluate(ledger, _open(ctx), party, order_id, _document(document))
    click.echo(f"{order_id}: score {rated['score']}, on time: {'yes' if rated['on_time'] else 'no'}")


@orders.command("publish-performance")
@click.pass_context
def orders_publish_performance(ctx: click.Context) -> None:
    """Write every evaluated provider's aggregate into the catalogue store again (after a restore, say)."""
    from maas_kg.execution.evaluation import publish_performance

    ledger, _ = _ledger_and_party(ctx)
    click.echo(f"{publish_performance(ledger, _open(ctx))} providers' performance published")


# -- resilience: a value chain under disruption events (R1 assess, R2 respond) -------------------------------------

def _resilience_request(ctx: click.Context, value_chain: str, events_file: str | None, event_ids: tuple[str, ...],
                        runs: int, seed: int, today: str | None, *, events_required: bool):
    from maas_kg.resilience.requests import read_request

    doc: dict = {"value_chain": _rdf_or_json(value_chain), "library_events": list(event_ids), "runs": runs,
                 "seed": seed}
    if events_file:
        doc["events"] = _document(events_file)
    if today:
        doc["today"] = today
    store = _open(ctx)
    return store, read_request(doc, store, events_required=events_required)


def _workspace(ctx: click.Context, store):
    from maas_kg.matching.index import snapshot_for
    from maas_kg.matching.workspace import Workspace

    return Workspace(store, snapshot=snapshot_for(ctx.obj["store"]))


@main.group()
def resilience() -> None:
    """A value chain under disruption events: impact, exposure and risk (assess), response scenarios (respond)."""


def _resilience_options(function):
    for option in reversed([
            click.argument("value_chain", type=click.Path(dir_okay=False)),
            click.option("--events", "events_file", type=click.Path(dir_okay=False),
                         help="A JSON file of events (one, a list, or {\"events\": [...]})."),
            click.option("--event", "event_ids", multiple=True,
                         help="An example event by id ('maas-kg resilience events' lists them); repeatable."),
            click.option("--runs", type=int, default=10_000, show_default=True, help="Monte Carlo runs."),
            click.option("--seed", type=int, default=1, show_default=True, help="The simulation's seed."),
            click.option("--today", help="The day to assess from (YYYY-MM-DD; default today)."),
            click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                         show_default=True)]):
        function = option(function)
    return click.pass_context(function)


@resilience.command("assess")
@_resilience_options
def resilience_assess(ctx, value_chain, events_file, event_ids, runs, seed, today, fmt) -> None:
    """R1: exposure of the value chain, impact and risk of each event, the simulated on-time probability."""
    from maas_kg.resilience import assess

    store, (chain, events, options) = _resilience_request(ctx, value_chain, events_file, event_ids, runs, seed,
                                                          today, events_required=False)
    result = assess(_workspace(ctx, store), store, chain, events, **options)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    click.echo(_table(result["exposure"]["steps"], ["product", "step", "suppliers", "single_sourced",
                                                    "qualified_alternatives", "hhi_provider", "hhi_country"]))
    rows = [{"event": e["event"]["id"], "probability": e["event"]["probability_per_year"],
             "revenue at risk": f"{e['revenue_at_risk']:,.0f} {result['currency']}", "max delay": e["max_delay_days"],
             "risk": f"{e['risk']:,.0f}", "likelihood": e["likelihood"], "severity": e["severity"]}
            for e in result["events"]]
    if rows:
        click.echo(_table(rows, ["event", "probability", "revenue at risk", "max delay", "risk", "likelihood",
                                 "severity"]))
        click.echo(_table(result["simulation"]["products"], ["product", "on_time_probability", "mean_delay_days",
                                                             "p90_delay_days", "p99_delay_days"]))
    for line in result["exposure"]["vulnerabilities"]:
        click.echo(f"- {line}")


@resilience.command("respond")
@_resilience_options
@click.option("--take-back", "take_back", type=click.Path(dir_okay=False),
              help="A take-back product whose remanufactured components can supply products of the chain.")
@click.option("--supplies", multiple=True, metavar="COMPONENT=PRODUCT",
              help="Which component of the take-back product supplies which product of the chain (its id or name).")
def resilience_respond(ctx, value_chain, events_file, event_ids, runs, seed, today, fmt, take_back, supplies) -> None:
    """R2: per step the events hit, the alternatives (best first), a split where capacity lacks, other routes, the
    remanufactured supply of a take-back product (with --take-back), and a request for quotation for 'maas-kg rfq
    send'."""
    from maas_kg.circularity.criticality import read_sources, reman_supply
    from maas_kg.resilience import respond

    store, (chain, events, options) = _resilience_request(ctx, value_chain, events_file, event_ids, runs, seed,
                                                          today, events_required=True)
    workspace = _workspace(ctx, store)
    sources = read_sources(_take_back_entries(take_back, supplies), chain, store)
    reman = reman_supply(workspace, store, sources, today=options["today"]) if sources else None
    result = respond(workspace, store, chain, events, today=options["today"], reman=reman)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if result["unaffected"]:
        click.echo("no step of the value chain loses capacity to these events")
    for step in result["steps"]:
        click.echo(f"{step['product']}, {step['step']}: {step['share_lost']:.0%} of the volume lost; "
                   f"{step['response']['kind']}: {step['response']['why']}")
        click.echo(_table([{**o, "service": _short(o["service"])} for o in step["options"]],
                          ["service", "country", "delivery_days", "meets_due_date", "price_eur", "distance_km",
                           "score"]))
        for supply in step["remanufactured_supply"]:
            click.echo(f"- remanufactured supply: {'; '.join(supply['reasons'])}")


def _take_back_entries(take_back: str | None, supplies: tuple[str, ...]) -> list[dict]:
    """The ``take_back`` entries (the format of POST /circularity/criticality) of --take-back and --supplies."""
    if supplies and not take_back:
        raise click.UsageError("--supplies names components of the --take-back product: give it too")
    pairs = []
    for pair in supplies:
        component, separator, product = pair.partition("=")
        if not separator or not component or not product:
            raise click.UsageError(f"--supplies takes COMPONENT=PRODUCT, not {pair!r}")
        pairs.append({"component": component, "product": product})
    return [{"document": _rdf_or_json(take_back), "supplies": pairs}] if take_back else []


@resilience.command("events")
def resilience_events() -> None:
    """The example disruption events (examples/events/), by id."""
    from maas_kg.resilience import library

    rows = [{"id": e["id"], "type": e["type"], "name": e["name"], "probability": e["probability_per_year"],
             "days": e["duration_days"]} for e in library().values()]
    click.echo(_table(rows, ["id", "type", "name", "probability", "days"]))


# -- circularity: take-back products to circular value chains (C1) -------------------------------------------------

@main.group()
def circular() -> None:
    """Circular value chains for take-back products: strategies, processes, providers, comparison."""


@circular.command("plan")
@click.argument("take_back", type=click.Path(dir_okay=False))
@click.option("--today", help="The day to plan from (YYYY-MM-DD; default today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def circular_plan(ctx: click.Context, take_back: str, today: str | None, fmt: str) -> None:
    """Per condition grade the feasible end-of-life strategies; per strategy its circular processes, the providers
    near the collection points, its cost, material recovered and Material Circularity Indicator."""
    import datetime

    from maas_kg.circularity.planning import plan
    from maas_kg.circularity.take_back import read_take_back
    from maas_kg.matching.index import snapshot_for
    from maas_kg.matching.workspace import Workspace

    store = _open(ctx)
    day = datetime.date.fromisoformat(today) if today else None
    result = plan(Workspace(store, snapshot=snapshot_for(ctx.obj["store"])), store,
                  read_take_back(_rdf_or_json(take_back), store), today=day)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    rows = [{"strategy": f"{s['notation']} {s['label']}", "returns": f"{s['share_of_returns']:.0%}",
             "providers": "yes" if s["feasible_here"] else "no",
             "cost/unit": s["chain"]["cost_per_unit_eur"] if s["chain"] else None,
             "recovered": f"{s['material_recovered_share']:.0%}", "MCI": s["mci"],
             "CO2 avoided/unit": f"{s['co2_avoided_kg_per_unit']:.1f} kg"} for s in result["strategies"]]
    click.echo(_table(rows, ["strategy", "returns", "providers", "cost/unit", "recovered", "MCI", "CO2 avoided/unit"]))
    for grade in result["per_grade"]:
        click.echo(f"- {grade['grade']} ({grade['share']:.0%}): {grade['chosen'] or 'none'}: {grade['why']}")



@circular.command("criticality")
@click.argument("value_chain", type=click.Path(dir_okay=False))
@click.option("--take-back", "take_back", type=click.Path(dir_okay=False),
              help="A take-back product whose components can supply products of the value chain.")
@click.option("--supplies", multiple=True, metavar="COMPONENT=PRODUCT",
              help="Which component of the take-back product supplies which product of the chain (its id or name).")
@click.option("--today", help="The day to assess from (YYYY-MM-DD; default today).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def circular_criticality(ctx: click.Context, value_chain: str, take_back: str | None, supplies: tuple[str, ...],
                         today: str | None, fmt: str) -> None:
    """C2: how critical each product of a value chain is (supply risk from its qualified alternatives, single
    sourcing and concentration; importance from its revenue), and the remanufactured supply take-back offers it."""
    import datetime

    from maas_kg.circularity.criticality import criticality, read_request
    from maas_kg.matching.index import snapshot_for
    from maas_kg.matching.workspace import Workspace

    request = {"value_chain": _rdf_or_json(value_chain), "take_back": _take_back_entries(take_back, supplies)}
    store = _open(ctx)
    chain, sources = read_request(request, store)
    day = datetime.date.fromisoformat(today) if today else None
    result = criticality(Workspace(store, snapshot=snapshot_for(ctx.obj["store"])), store, chain, sources, today=day)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    rows = [{"product": c["name"], "level": c["level"], "supply risk": c["supply_risk"],
             "importance": f"{c['importance']:.0%}", "alternatives": c["qualified_alternatives"],
             "reman/year": sum(s["units_per_year"] for s in c["reman_supply"]) or None} for c in result["components"]]
    click.echo(_table(rows, ["product", "level", "supply risk", "importance", "alternatives", "reman/year"]))
    for component in result["components"]:
        for stream in component["reman_supply"]:
            click.echo(f"- {component['name']}: {'; '.join(stream['reasons'])}")

if __name__ == "__main__":
    main()
