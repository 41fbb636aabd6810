# One process of bench/collections.mjs: the mean of a 10,000 x 10,000 random array in
# 1,000 x 1,000 chunks with Dask's array (threads, its default for arrays), computed twice.
import json, sys, time
import dask.array as da

if __name__ == '__main__':
    scheduler = sys.argv[1] if len(sys.argv) > 1 else 'threads'
    times = []
    for run in range(2):
        t0 = time.perf_counter()
        mean = float(da.random.random((10000, 10000), chunks=(1000, 1000)).mean().compute(scheduler=scheduler))
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'firstMs': times[0], 'secondMs': times[1], 'mean': mean}))
