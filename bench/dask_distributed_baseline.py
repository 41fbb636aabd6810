# Dask distributed on the bench shapes (bench/shapes.mjs builds the same graphs): a LocalCluster
# with its default sizing (`Client()`), `client.get(graph, key)` per run; and `Client()` to the
# first result, in a fresh interpreter each time (the process start is not counted).
# Prints one JSON object: {"version", "usPerTask": {shape: median}, "firstResultMs": median}.
# Usage: python3 bench/dask_distributed_baseline.py RUNS WARMUP [first]
import json
import os
import sys
import time

# the task functions live in dask_baseline.py: the worker processes import it from here too
BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
os.environ["PYTHONPATH"] = BENCH + os.pathsep + os.environ.get("PYTHONPATH", "")

import distributed  # noqa: E402
from distributed import Client  # noqa: E402
from dask_baseline import inc, time_shapes  # noqa: E402


def first_result():
    t0 = time.perf_counter()
    with Client() as client:
        assert client.get({"x": 1, "y": (inc, "x")}, "y") == 2
        return (time.perf_counter() - t0) * 1000


def main():
    if len(sys.argv) > 3 and sys.argv[3] == "first":
        print(json.dumps({"firstResultMs": first_result()}))
        return
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    with Client() as client:
        out = time_shapes(client.get, runs, warmup)
    print(json.dumps({"version": distributed.__version__, "usPerTask": out}))


if __name__ == "__main__":
    main()
