#!/usr/bin/env python3
"""NumPy EASE under `braid evaluate --below-threshold seen`: NDCG@10 on a TSV train/test split
with ratings >= THRESHOLD relevant, every item the user rated in training (below the threshold
too) left out of their candidates, and candidates the items with training positives. Fits EASE
(float64 inverse) on (a) the positives as 1, as Braid's `ease` does under a threshold, (b) every
rated item as 1, as the fusion's added member `ease(below-threshold=true)` does (so that member
alone is in the comparison too), and (c) every training rating with its value, which no Braid
single model does; lambda by Braid's
data-aware rule, 3 * sum(d^2) / sum(d) over the Gram matrix's diagonal d. Prints JSON.

Usage: seen_ease.py TRAIN TEST [THRESHOLD]"""
import json, sys
import numpy as np

train, test = sys.argv[1], sys.argv[2]
threshold = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
users, items = {}, {}
def read(path):
    rows = []
    for line in open(path):
        p = line.rstrip("\n").split("\t")
        rows.append((users.setdefault(p[0], len(users)), items.setdefault(p[1], len(items)), float(p[2])))
    return rows
tr, te = read(train), read(test)
n_u, n_i = len(users), len(items)
rated, positives, values = np.zeros((n_u, n_i)), np.zeros((n_u, n_i)), np.zeros((n_u, n_i))
for u, i, v in tr:  # the last row of a repeated pair wins, as Braid's default duplicate policy
    rated[u, i] = 1; values[u, i] = v; positives[u, i] = 1.0 if v >= threshold else 0.0
relevant = {}
for u, i, v in te:
    if v >= threshold and rated[u, i] == 0: relevant.setdefault(u, set()).add(i)
candidate = positives.sum(0) > 0
discount = 1 / np.log2(np.arange(2, 12))

def ease(x):
    d = (x * x).sum(0)
    lam = 3 * (d * d).sum() / d.sum()
    g = x.T @ x; g[np.diag_indices(n_i)] += lam
    p = np.linalg.inv(g); b = p / (-np.diag(p)); b[np.diag_indices(n_i)] = 0
    return x @ b, lam

def ndcg(scores):
    out = []
    for u, rel in relevant.items():
        if positives[u].sum() == 0: continue  # no training data: skipped, as Braid does
        s = np.where(candidate & (rated[u] == 0), scores[u], -np.inf)
        top = np.argsort(-s, kind="stable")[:10]
        gain = sum(discount[k] for k, i in enumerate(top) if i in rel)
        out.append(gain / discount[:min(10, len(rel))].sum())
    return float(np.mean(out)), len(out)

result = {}
for name, x in (("positives", positives), ("every rated item as 1", rated), ("every rating's value", values)):
    s, lam = ease(x)
    value, count = ndcg(s)
    result[name] = {"ndcg@10": value, "lambda": lam, "users": count}
print(json.dumps(result))
