#!/usr/bin/env python3
"""NumPy/SciPy GF-CF (Shen et al. 2021), the peer of Braid's `gfcf`: on the positives (value >=
THRESHOLD) of TRAIN as 0/1, R~ = D_U^-1/2 R D_I^-1/2, and a user's scores
r (R~^T R~ + alpha D_I^-1/2 V V^T D_I^1/2) with V the FACTORS leading right singular vectors of R~
from scipy.sparse.linalg.svds (ARPACK, exact to its tolerance, where Braid uses randomized
subspace iteration). Items without training positives have degree 0 and score 0 (the paper's
code sets their inverse degrees to 0). Metrics by ../shared/tools/peers.py's ranking_metrics,
the protocol its docstring defines. Prints JSON.

Usage: numpy_gfcf.py TRAIN TEST [--threshold 4] [--factors 48] [--alpha 0.3] [--no-linear]"""
import argparse, json, os, sys, time

import numpy as np, scipy.sparse as sp
from scipy.sparse.linalg import svds

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "tools"))
from peers import read, ranking_metrics  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("train"); ap.add_argument("test")
ap.add_argument("--threshold", type=float, default=4)
ap.add_argument("--factors", type=int, default=48)
ap.add_argument("--alpha", type=float, default=0.3)
ap.add_argument("--no-linear", action="store_true")
a = ap.parse_args()
train_rows, test_rows = read(a.train), read(a.test)
users, items = {}, {}
for u, i, _ in train_rows + test_rows:
    users.setdefault(u, len(users)); items.setdefault(i, len(items))
pos = [(users[u], items[i]) for u, i, v in train_rows if v >= a.threshold]
R = sp.csr_matrix((np.ones(len(pos)), tuple(zip(*pos))), shape=(len(users), len(items)))
R.data[:] = 1  # a repeated pair counts once
start = time.perf_counter()
du, di = np.asarray(R.sum(axis=1)).ravel(), np.asarray(R.sum(axis=0)).ravel()
inv_u = np.where(du > 0, 1 / np.sqrt(np.maximum(du, 1)), 0)
inv_i = np.where(di > 0, 1 / np.sqrt(np.maximum(di, 1)), 0)
Rn = sp.diags(inv_u) @ R @ sp.diags(inv_i)
_, _, vt = svds(Rn.tocsc(), k=a.factors)
V = vt.T
linear = None if a.no_linear else (Rn.T @ Rn).toarray()
left, right = V * inv_i[:, None], V * np.sqrt(di)[:, None]
fit = time.perf_counter() - start
train_rows_by_user = R.tocsr()
test_pos = {}
for u, i, v in test_rows:
    if v >= a.threshold and u in users and train_rows_by_user[users[u]].nnz > 0:
        test_pos.setdefault(users[u], set()).add(items[i])

def scores_for(u):
    r = train_rows_by_user[u]
    s = a.alpha * ((r @ left) @ right.T).ravel()
    if linear is not None:
        # R~^T R~ is symmetric, so its transpose serves: SciPy 1.17 gives the product as CSC,
        # whose dense form is column-major, and a sparse row times a column-major matrix copies
        # the whole matrix on every call (minutes on ml-latest-small); the transpose is row-major.
        s += np.asarray(r @ linear.T).ravel()
    return s

metrics, evaluated = ranking_metrics(scores_for, train_rows_by_user, test_pos, len(items), 10)
print(json.dumps({"peer": "numpy-gfcf", "factors": a.factors, "alpha": a.alpha, "linear": not a.no_linear,
                  "fit_seconds": fit, "users_evaluated": evaluated, **metrics}))
