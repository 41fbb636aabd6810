# One process of bench/collections.mjs: word frequencies with Dask's bag, computed twice.
import json, sys, time
import dask.bag as db

if __name__ == '__main__':
    glob, scheduler = sys.argv[1], sys.argv[2]
    times = []
    for run in range(2):
        t0 = time.perf_counter()
        freq = db.read_text(glob, blocksize='16MB').str.split().flatten().frequencies().compute(scheduler=scheduler)
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'firstMs': times[0], 'secondMs': times[1], 'words': len(freq)}))
