"""Settings and errors are declared once: every setting in maas_kg.settings (and the README's table), every expected
error a MaasKgError that the command line prints as one line and the HTTP layer answers by its kind."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from harness import cli
from maas_kg import errors, settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_the_code_reads_is_a_declared_setting():
    declared = {setting.variable for setting in settings.ALL}
    read = set()
    for path in [*(ROOT / "maas_kg").rglob("*.py"), *(ROOT / "api").rglob("*.py")]:
        read |= set(re.findall(r"\"(MAAS_KG_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    assert read <= declared, read - declared
    assert not re.search(r"os\.environ(\.get)?\(?\[?\"MAAS_KG", "".join(
        p.read_text() for p in (ROOT / "maas_kg").rglob("*.py") if p.name != "settings.py"))


def test_the_readme_names_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [s.variable for s in settings.ALL if s.variable not in readme] == []


@pytest.mark.parametrize("variable,value", [("MAAS_KG_SPARQL_TIMEOUT", "ten"), ("MAAS_KG_MAX_BODY_BYTES", "0"),
                                            ("MAAS_KG_SPARQL_CONCURRENCY", "-2")])
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path, variable, value):
    setting = next(s for s in settings.ALL if s.variable == variable)
    with pytest.raises(settings.SettingError, match=variable):
        setting.value({variable: value})
    env = {**os.environ, "MAAS_KG_STORE": str(tmp_path / "store"), variable: value}
    result = cli(env, "serve", "--port", "1")  # refused before anything starts
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert variable in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_every_library_error_is_a_maas_kg_error_with_an_http_kind():
    from maas_kg import catalogue
    from maas_kg.catalogue import ingest, keys, public_sparql
    from maas_kg.knowledge import extensions, reasoning, vocabulary
    from maas_kg.matching import products, translation
    from maas_kg.store import StoreError, StoreSyntaxError, StoreUnavailable

    kinds = [ingest.InputError, vocabulary.UnknownTerm, vocabulary.AmbiguousTerm, products.ProductError,
             translation.TranslationError, catalogue.CatalogueError, keys.KeyRingError, extensions.ExtensionRejected,
             reasoning.ReasonerUnavailable, StoreError, StoreSyntaxError, StoreUnavailable, settings.SettingError,
             public_sparql.QueryRefused, public_sparql.QueryMalformed, public_sparql.QueryTooLarge,
             public_sparql.QueryTimeout]
    for kind in kinds:
        assert issubclass(kind, errors.MaasKgError), kind
        assert 400 <= kind.status <= 599 and kind.title
    assert (StoreSyntaxError.status, StoreUnavailable.status, public_sparql.QueryTooLarge.status) == (400, 503, 413)
