"""CAD characterisation benchmark (issue 22, activity 2.2): characterise a ~10 MB STEP (a 1000 x 1000 x 10 mm plate
with a grid of through holes, made by extruding a face with one circle per hole, no booleans) and a
1,000,000-triangle binary STL (a torus of 1000 x 500 sections), each end to end as ``maas-kg characterise`` runs it:
in the limited child process (maas_kg/cad/limits.py), file read, measures, classification. Nothing here asserts a
time. Each file is measured with the limits raised (600 s, 8 GB) and once under the service's limits (60 s,
2 GB), whose answer is recorded. Results go to benchmarks/results/cad-<date>.json (cad-<date>-2.json and so on
when a run of that day is there already: a run never overwrites another).

    python benchmarks/bench_cad.py [--holes-per-side 44] [--repeats 3] [--folder var/bench/cad]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maas_kg.cad import CadError, characterise  # noqa: E402


def plate_with_holes(path: Path, per_side: int) -> int:
    """A 1000 x 1000 x 10 mm plate with per_side^2 holes of 5 mm; returns the number of holes."""
    from OCP.BRepBuilderAPI import BRepBuilderAPI_MakeEdge, BRepBuilderAPI_MakeFace, BRepBuilderAPI_MakePolygon, \
        BRepBuilderAPI_MakeWire
    from OCP.BRepPrimAPI import BRepPrimAPI_MakePrism
    from OCP.gp import gp_Ax2, gp_Circ, gp_Dir, gp_Pnt, gp_Vec

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "cad"))
    from make_examples import write_step

    outline = BRepBuilderAPI_MakePolygon()
    for x, y in ((0, 0), (1000, 0), (1000, 1000), (0, 1000)):
        outline.Add(gp_Pnt(x, y, 0))
    outline.Close()
    face = BRepBuilderAPI_MakeFace(outline.Wire())
    pitch = 1000 / per_side
    for i in range(per_side):
        for j in range(per_side):
            circle = gp_Circ(gp_Ax2(gp_Pnt((i + 0.5) * pitch, (j + 0.5) * pitch, 0), gp_Dir(0, 0, -1)), 2.5)
            face.Add(BRepBuilderAPI_MakeWire(BRepBuilderAPI_MakeEdge(circle).Edge()).Wire())
    write_step(BRepPrimAPI_MakePrism(face.Face(), gp_Vec(0, 0, 10)).Shape(), path)
    return per_side ** 2


def torus_stl(path: Path) -> int:
    import trimesh

    mesh = trimesh.creation.torus(major_radius=100, minor_radius=20, major_sections=1000, minor_sections=500)
    mesh.export(path)
    return len(mesh.faces)


def within_default_limits(path: Path) -> str:
    """What the service answers for the file under its limits (60 s, 2 GB): "characterised" or the error."""
    try:
        characterise(str(path))
    except CadError as err:
        return str(err)
    return "characterised"


def timed(path: Path, repeats: int) -> dict:
    """Medians with the limits raised (600 s, 8 GB), to measure what the file costs."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = characterise(str(path), seconds=600, memory=8 * 1024 ** 3)
        runs.append((time.perf_counter() - started, result))
    seconds = [s for s, _ in runs]
    result = runs[-1][1]
    return {"file": path.name, "bytes": path.stat().st_size, "median_s": round(statistics.median(seconds), 2),
            "runs_s": [round(s, 2) for s in seconds], "peak_memory_mb": round(result.peak_memory_mb, 1),
            "shape": result.shape, "volume_mm3": round(result.volume_mm3, 1), "holes": len(result.holes),
            "min_wall_mm": result.min_wall_mm, "default_limits": within_default_limits(path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holes-per-side", type=int, default=44)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", default="var/bench/cad")
    args = parser.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    step, stl = folder / "plate-with-holes.step", folder / "torus-1m.stl"
    holes = plate_with_holes(step, args.holes_per_side)
    triangles = torus_stl(stl)
    results = {"date": datetime.date.today().isoformat(), "machine": "2 cores", "repeats": args.repeats,
               "step": {**timed(step, args.repeats), "holes_made": holes,
                        "volume_expected_mm3": round(1000 * 1000 * 10 - holes * math.pi * 2.5 ** 2 * 10, 1)},
               "stl": {**timed(stl, args.repeats), "triangles": triangles}}
    out = Path(__file__).parent / "results" / f"cad-{results['date']}.json"
    number = 1
    while out.exists():
        number += 1
        out = out.with_name(f"cad-{results['date']}-{number}.json")
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
