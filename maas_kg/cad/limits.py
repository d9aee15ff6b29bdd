"""Parsing a CAD file in a child process with a time and a memory limit, so that a bad file never crashes or hangs
the worker that received it: Open CASCADE is C++ (a corrupt file can abort the process or allocate without bound)
and a 1,000,000-triangle mesh holds about 100 MB of arrays.

The child (``python -m maas_kg.cad.limits FILE SUFFIX NAME``) sets ``RLIMIT_AS`` on itself before importing Open
CASCADE, characterises the file and prints the result as one pickle on stdout; the parent kills it at the time
limit. Importing OCP and trimesh alone maps 700 MB of address space (measured: VmPeak 697 MB), so the limit must
stay well above that."""

from __future__ import annotations

import os
import pickle
import resource
import subprocess
import sys
import time

from maas_kg import settings
from maas_kg.errors import Unprocessable

class CadError(Unprocessable):
    """The CAD file cannot be characterised; the message says what to fix."""

    title = "Unreadable CAD file"


def run(path: str, suffix: str, name: str, *, seconds: float | None = None, memory: int | None = None,
        preview: bool = False):
    """:class:`~maas_kg.cad.characteristics.Characteristics` of the file, measured in a limited child process,
    with ``seconds`` and ``peak_memory_mb`` filled in; with ``preview`` also ``preview``, the compact mesh of the 3D
    preview that the child makes from the tessellation it measured (:mod:`maas_kg.cad.preview`)."""
    seconds = settings.CAD_SECONDS.value() if seconds is None else seconds  # MAAS_KG_CAD_SECONDS, measured there
    memory = settings.CAD_MEMORY.value() if memory is None else memory
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "maas_kg.cad.limits", path, suffix, name, str(memory),
                               *(["preview"] if preview else [])], capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        raise CadError(f"reading the file took longer than {seconds:g} s (the limit): simplify the model (fewer "
                       "faces or triangles) or split it into its parts") from None
    kind, value = _answer(done)
    if kind == "error":
        raise CadError(value)
    if kind == "memory":
        raise CadError(f"reading the file needed more than {memory / 1024 ** 2:,.0f} MB of memory (the limit): "
                       "simplify the model (fewer faces or triangles) or split it into its parts")
    value.seconds = time.perf_counter() - started
    return value


def _answer(done: subprocess.CompletedProcess):
    try:
        return pickle.loads(done.stdout)
    except Exception:  # a child that died (abort, signal) leaves no answer: say so, with what it printed
        stderr = done.stderr.decode("utf-8", "replace")
        if any(sign in stderr for sign in ("MemoryError", "bad_alloc", "Cannot allocate memory",
                                                     "failed to map segment")) or \
                done.returncode in (-6, -9):
            return "memory", None
        if done.returncode < 0:  # measured: Open CASCADE meshing a face with 1936 holes at the 2 GB limit dies of SIGSEGV
            return "error", (f"the CAD reader crashed on this file (signal {-done.returncode}), most often because it "
                             "ran out of the memory allowed: simplify the model (fewer faces, holes or triangles) "
                             "or split it into its parts")
        return "error", ("the CAD reader stopped on this file (exit status "
                         f"{done.returncode}): export it again as STEP AP214/AP242 or as a binary STL")


def _child(path: str, suffix: str, name: str, memory: int, preview: bool = False) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Open CASCADE prints its transfer statistics to file descriptor 1: the answer gets a descriptor of its own
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        from maas_kg.cad.analysis import CadFileError, analyse

        try:
            result = analyse(path, suffix, name, preview=preview)
        except CadFileError as err:
            answer = ("error", str(err))
        else:
            result.peak_memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            for part in [result, *result.components]:
                part.__dict__.pop("_low", None)
                part.__dict__.pop("_high", None)
                part.__dict__.pop("_mesh", None)
            answer = ("ok", result)
    except MemoryError:
        answer = ("memory", None)
    out.write(pickle.dumps(answer))
    out.flush()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), preview=sys.argv[5:6] == ["preview"])
