"""A real Virtuoso 7 server for the tests (Debian's ``virtuoso-opensource``, installed by ``make test``), started in a
folder of its own on free loopback ports, with SPARQL updates granted to its anonymous ``SPARQL`` user."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import requests

from maas_kg.serving import free_port

_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
DirsAllowed = ., {folder}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
ServerThreads = 4

[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 120
"""

GRANTS = "GRANT SPARQL_UPDATE TO \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"


def installed() -> bool:
    return shutil.which("virtuoso-t") is not None and shutil.which("isql-vt") is not None


class VirtuosoServer:
    """``with VirtuosoServer(folder) as server: open_store(server.location)``."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.sql_port, self.http_port = free_port(), free_port()
        self.location = f"virtuoso+http://127.0.0.1:{self.http_port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "VirtuosoServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        ini.write_text(_INI.format(folder=self.folder, sql_port=self.sql_port, http_port=self.http_port))
        self.process = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", str(ini)], cwd=self.folder,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{self.http_port}/sparql", params={"query": "ASK {}"}, timeout=2)
                break
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.folder / "virtuoso.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"Virtuoso did not start:\n{log}") from None
                time.sleep(0.3)
        subprocess.run(["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={GRANTS}"], check=True,
                       capture_output=True, timeout=60)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
