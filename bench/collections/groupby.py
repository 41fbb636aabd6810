# One process of bench/collections.mjs: groupby-mean over a CSV with Dask's dataframe, computed twice.
import json, sys, time
import dask.dataframe as dd

if __name__ == '__main__':
    path, scheduler = sys.argv[1], sys.argv[2]
    times = []
    for run in range(2):
        t0 = time.perf_counter()
        means = dd.read_csv(path, blocksize='64MB').groupby('category').value.mean().compute(scheduler=scheduler)
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'firstMs': times[0], 'secondMs': times[1], 'groups': len(means)}))
