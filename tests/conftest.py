from __future__ import annotations

import socket
import threading

import pytest
import rdflib

from maas_kg import knowledge


@pytest.fixture(scope="session")
def ontology() -> rdflib.Graph:
    return knowledge.ontology_graph()


@pytest.fixture(scope="session")
def module_graphs() -> dict[str, rdflib.Graph]:
    return {name: rdflib.Graph().parse(path) for name, path in knowledge.ontology_modules().items()}


@pytest.fixture(scope="session")
def examples_dir():
    return knowledge.shapes_dir() / "examples"


class Listener:
    """A local TCP listener that records every connection: nothing may reach it."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
                self.connections += 1
                connection.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.close()
