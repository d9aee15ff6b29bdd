"""Fixtures and the end-of-run check; the helpers the tests share are in ``harness.py``."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
import rdflib

import harness
from harness import CHROMIUM, CHROMIUM_ARGS, Listener, marked_processes
from maas_kg import knowledge


def pytest_sessionfinish(session, exitstatus):
    """No process may outlive the suite, whatever the tests' outcome: the ones still running are killed and fail the
    run."""
    harness.stop_virtuoso()
    deadline = time.monotonic() + 15  # a server a fixture just stopped may take a moment to exit
    left = marked_processes()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = marked_processes()
    if not left:
        return
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"{len(left)} process(es) outlived the tests (killed now):", red=True)
        for pid, command in sorted(left.items()):
            reporter.write_line(f"  {pid} {command[:200]}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def ontology() -> rdflib.Graph:
    return knowledge.ontology_graph()


@pytest.fixture(scope="session")
def module_graphs() -> dict[str, rdflib.Graph]:
    return {name: rdflib.Graph().parse(path) for name, path in knowledge.ontology_modules().items()}


@pytest.fixture(scope="session")
def examples_dir():
    return knowledge.shapes_dir() / "examples"


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright, for the modules whose tests use the web pages."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: `make test` (or `make browser`) installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)  # the browser tests must not be skipped in CI
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
