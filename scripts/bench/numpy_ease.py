#!/usr/bin/env python3
"""Fit-only timing of NumPy EASE (float64 inv, as ../shared/tools/peers.py computes it) on the
positives (value >= threshold) of a TSV train file, over the items that have training
positives. Run with OPENBLAS_NUM_THREADS set to the thread count wanted. Prints JSON."""
import json, sys, time
import numpy as np, scipy.sparse as sp

path, threshold, lam = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 500.0
users, items, rows, cols = {}, {}, [], []
for line in open(path):
    p = line.rstrip("\n").split("\t")
    if float(p[2]) >= threshold:
        rows.append(users.setdefault(p[0], len(users))); cols.append(items.setdefault(p[1], len(items)))
X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(users), len(items)))
t0 = time.perf_counter()
G = (X.T @ X).toarray(); G[np.diag_indices(len(items))] += lam
P = np.linalg.inv(G); B = P / (-np.diag(P)); B[np.diag_indices(len(items))] = 0
t = time.perf_counter() - t0
try:
    from threadpoolctl import threadpool_info
    blas = [(i.get("internal_api"), i.get("num_threads"), i.get("architecture")) for i in threadpool_info()]
except Exception:
    blas = None
print(json.dumps({"peer": "numpy-ease", "fit_seconds": t, "items": len(items), "blas": blas}))
