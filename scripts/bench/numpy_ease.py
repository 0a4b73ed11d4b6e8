#!/usr/bin/env python3
"""NumPy EASE (float64 inv, as ../shared/tools/peers.py computes it) on the positives
(value >= threshold) of a TSV train file, over the items that have training positives: the
fit's time, and with --recommend the time to serve the top 10 unseen items to every user.

Serving scores with B in float32, as Braid keeps it, two ways, and reports the faster:
SciPy's sparse history rows times B (single-threaded), and the histories as a dense 0/1
matrix times B through BLAS (OPENBLAS_NUM_THREADS threads), in blocks of 256 users, each way
three times (the median); seen items are set to -inf and the top 10 taken by argpartition,
then sorted. Run with OPENBLAS_NUM_THREADS set to the thread count wanted. Prints JSON.

Usage: numpy_ease.py TRAIN.tsv THRESHOLD [LAMBDA|auto] [--recommend]"""
import argparse, json, time
import numpy as np, scipy.sparse as sp

ap = argparse.ArgumentParser()
ap.add_argument("path"); ap.add_argument("threshold", type=float)
ap.add_argument("lam", nargs="?", default="500", help="the L2 weight, or auto for Braid's rule (3 * sum of squared item counts / sum of counts)")
ap.add_argument("--recommend", action="store_true")
a = ap.parse_args()
users, items, rows, cols = {}, {}, [], []
for line in open(a.path):
    p = line.rstrip("\n").split("\t")
    if float(p[2]) >= a.threshold:
        rows.append(users.setdefault(p[0], len(users))); cols.append(items.setdefault(p[1], len(items)))
X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(users), len(items)))
counts = np.asarray(X.sum(axis=0)).ravel()
lam = 3 * (counts ** 2).sum() / counts.sum() if a.lam == "auto" else float(a.lam)
t0 = time.perf_counter()
G = (X.T @ X).toarray(); G[np.diag_indices(len(items))] += lam
P = np.linalg.inv(G); B = P / (-np.diag(P)); B[np.diag_indices(len(items))] = 0
t = time.perf_counter() - t0
try:
    from threadpoolctl import threadpool_info
    blas = [(i.get("internal_api"), i.get("num_threads"), i.get("architecture")) for i in threadpool_info()]
except Exception:
    blas = None
out = {"peer": "numpy-ease", "fit_seconds": t, "items": len(items), "users": len(users), "lambda": lam, "blas": blas}
if a.recommend:
    B32 = np.ascontiguousarray(B, dtype=np.float32)
    X32 = X.astype(np.float32)

    def serve(score):
        lists = []
        start = time.perf_counter()
        for lo in range(0, X32.shape[0], 256):
            block = X32[lo:lo + 256]
            S = score(block)
            S[block.nonzero()] = -np.inf
            top = np.argpartition(-S, 10, axis=1)[:, :10]
            order = np.argsort(-np.take_along_axis(S, top, axis=1), axis=1)
            lists.append(np.take_along_axis(top, order, axis=1))
        return time.perf_counter() - start, np.vstack(lists)

    # Each way three times; the median time.
    sparse = [serve(lambda block: np.asarray(block @ B32)) for _ in range(3)]
    dense = [serve(lambda block: block.toarray() @ B32) for _ in range(3)]
    sparse_seconds, dense_seconds = (sorted(t for t, _ in runs)[1] for runs in (sparse, dense))
    first, second = sparse[0][1], dense[0][1]
    out.update(recommend_seconds=min(sparse_seconds, dense_seconds), sparse_seconds=sparse_seconds, dense_seconds=dense_seconds,
               lists_agree=float(np.mean(first == second)))
print(json.dumps(out))
