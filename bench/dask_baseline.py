# Dask's threaded scheduler on the bench shapes (bench/shapes.mjs builds the same graphs), with
# its default options: `dask.threaded.get(graph, key)`, whose pool lives for the whole process.
# Prints one JSON object: {"version": ..., "usPerTask": {shape: median µs per task}}.
# Usage: python3 bench/dask_baseline.py RUNS WARMUP
import json
import statistics
import sys
import time

import dask
from dask.threaded import get


def inc(x):
    return x + 1


def add(a, b):
    return a + b


def total(*xs):
    return sum(xs)


def wide(n=10_000):
    g = {f"inc-{i}": (inc, i) for i in range(n)}
    g["total"] = (total, *list(g))
    return g, "total", n + 1


def chain(n=2_000):
    g = {"inc-0": (inc, 0)}
    for i in range(1, n):
        g[f"inc-{i}"] = (inc, f"inc-{i - 1}")
    return g, f"inc-{n - 1}", n


def tree(leaves=4_096):
    g = {}
    level = []
    for i in range(leaves):
        g[f"leaf-{i}"] = (inc, i)
        level.append(f"leaf-{i}")
    depth = 0
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            key = f"add-{depth}-{i // 2}"
            g[key] = (add, level[i], level[i + 1])
            nxt.append(key)
        level = nxt
        depth += 1
    return g, level[0], len(g)


def fan(n=1_000):
    g = {"source": (inc, 0)}
    for i in range(n):
        g[f"mid-{i}"] = (add, "source", i)
    g["total"] = (total, *[f"mid-{i}" for i in range(n)])
    return g, "total", n + 2


SHAPES = (("wide", wide), ("chain", chain), ("tree", tree), ("fan", fan))


def time_shapes(run, runs, warmup):
    """Median µs per task of `run(graph, key)` on each shape, after `warmup` untimed runs."""
    out = {}
    for name, build in SHAPES:
        samples = []
        for r in range(warmup + runs):
            g, key, n = build()
            t0 = time.perf_counter()
            run(g, key)
            us = (time.perf_counter() - t0) * 1e6 / n
            if r >= warmup:
                samples.append(us)
        out[name] = statistics.median(samples)
    return out


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    print(json.dumps({"version": dask.__version__, "usPerTask": time_shapes(get, runs, warmup)}))


if __name__ == "__main__":
    main()
