#!/usr/bin/env python3
"""Fit-only timing of implicit's ALS or BPR on a TSV of user, item, value[, timestamp]
(rows with value >= --threshold, as binary positives), and optionally the time to recommend
the top 10 for every user. Usage:
  implicit_fit.py FILE [--model als|bpr] [--factors 64] [--iterations 15] [--threads 2] [--recommend]
Prints one JSON object."""
import argparse, json, os, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np, scipy.sparse as sp

ap = argparse.ArgumentParser()
ap.add_argument("file"); ap.add_argument("--model", default="als")
ap.add_argument("--factors", type=int, default=64); ap.add_argument("--iterations", type=int, default=15)
ap.add_argument("--threads", type=int, default=2); ap.add_argument("--reg", type=float, default=0.05)
ap.add_argument("--alpha", type=float, default=1.0); ap.add_argument("--lr", type=float, default=0.01)
ap.add_argument("--threshold", type=float, default=None); ap.add_argument("--recommend", action="store_true")
a = ap.parse_args()
users, items, rows, cols = {}, {}, [], []
with open(a.file) as f:
    for line in f:
        p = line.split("\t")
        if a.threshold is not None and float(p[2]) < a.threshold:
            continue
        rows.append(users.setdefault(p[0], len(users))); cols.append(items.setdefault(p[1], len(items)))
m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items)))
m.sum_duplicates(); m.data[:] = 1
if a.model == "als":
    from implicit.als import AlternatingLeastSquares as M
    model = M(factors=a.factors, iterations=a.iterations, regularization=a.reg, alpha=a.alpha, num_threads=a.threads, random_state=1)
else:
    from implicit.bpr import BayesianPersonalizedRanking as M
    model = M(factors=a.factors, iterations=a.iterations, regularization=a.reg, learning_rate=a.lr, num_threads=a.threads, random_state=1)
t0 = time.perf_counter(); model.fit(m, show_progress=False); t = time.perf_counter() - t0
out = {"peer": f"implicit-{a.model}", "fit_seconds": t, "users": len(users), "items": len(items), "nnz": int(m.nnz)}
if a.recommend:
    ids = np.arange(len(users))
    t0 = time.perf_counter(); model.recommend(ids, m[ids], N=10, filter_already_liked_items=True); out["recommend_seconds"] = time.perf_counter() - t0
print(json.dumps(out))
