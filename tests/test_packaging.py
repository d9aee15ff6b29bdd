"""A wheel built from the repository (not an editable install) carries the knowledge folders, and the installed
package finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "--wheel-dir", str(out), str(ROOT)], check=True, cwd=out)
    wheels = list(out.glob("maas_kg-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_carries_ontology_shapes_and_queries(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, pattern in (("ontology", "*.ttl"), ("shapes", "*.ttl"), ("queries", "**/*.rq"), ("queries", "**/*.ru")):
        for path in (ROOT / folder).glob(pattern):
            assert f"maas_kg/{folder}/{path.relative_to(ROOT / folder)}" in names, path
    assert "maas_kg/ontology/catalog-v001.xml" in names
    # every module of the library, in every package
    for path in (ROOT / "maas_kg").rglob("*.py"):
        assert str(path.relative_to(ROOT)) in names, path
    for path in [*(ROOT / "examples" / "value-chains").glob("*.json"), *(ROOT / "examples" / "events").glob("*.json")]:
        assert f"maas_kg/{path.relative_to(ROOT)}" in names, path
    assert "maas_kg/shapes/examples/service-valid.ttl" in names
    # the web pages: templates, static assets and the example products the match page offers
    for path in [*(ROOT / "api" / "templates").glob("*.html"), *(ROOT / "api" / "static").glob("*")]:
        assert str(path.relative_to(ROOT)) in names, path
    for path in (ROOT / "examples" / "products").glob("*.json"):
        assert f"maas_kg/examples/products/{path.name}" in names, path


def test_installed_package_finds_its_knowledge(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = ("import maas_kg, maas_kg.knowledge as k; "
             "print(maas_kg.__file__); print(k.ontology_dir()); print(k.shapes_dir()); print(k.queries_dir()); "
             "print(len(k.load_ontology()))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=env,
                         cwd=tmp_path).stdout.split()
    assert all(line.startswith(str(site)) for line in out[:4]), out
    assert int(out[4]) > 5_000
