# One process of bench/collections.mjs: with Dask's array (threads, its default for arrays),
# computed twice: `mean`, the mean of a 10,000 x 10,000 random array in 1,000 x 1,000 chunks;
# `sum`, the mean of the sum of two such arrays.
import json, sys, time
import dask.array as da

if __name__ == '__main__':
    scheduler = sys.argv[1] if len(sys.argv) > 1 else 'threads'
    workload = sys.argv[2] if len(sys.argv) > 2 else 'mean'
    random = lambda: da.random.random((10000, 10000), chunks=(1000, 1000))
    times = []
    for run in range(2):
        t0 = time.perf_counter()
        x = random() + random() if workload == 'sum' else random()
        mean = float(x.mean().compute(scheduler=scheduler))
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'firstMs': times[0], 'secondMs': times[1], 'mean': mean}))
