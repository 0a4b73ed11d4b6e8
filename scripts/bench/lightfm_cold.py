#!/usr/bin/env python3
"""LightFM's hybrid (item features = title words + genres, plus one identity feature per item)
on a cold-item train/test split, under Braid's cold-items protocol, printed as JSON.

Usage: lightfm_cold.py TRAIN TEST MOVIES_CSV [--threshold 4] [--components 64] [--epochs 30] [--loss warp] [--mixed] [--vectors FILE]

Protocol (Braid's `--protocol cold-items`, see ../../README.md): training positives are rows
with value >= threshold; candidates are the items that occur in the test file and never in
training; relevant items are a user's test rows with value >= threshold among them; users
without training positives are skipped; NDCG@10 with binary gains, averaged over users with a
relevant item. With --mixed, Braid's `--protocol mixed`: the candidates are every item with
training positives and every cold item, minus the user's training positives, and every test
positive is relevant; cold-share@10 is the share of list places holding cold items.
Install: LightFM 1.17's sdist needs `import builtins` in its setup.py (see
scripts/bench/install_lightfm.sh).
"""
import argparse, csv, json, re, sys, time
import numpy as np, scipy.sparse as sp
from lightfm import LightFM
from common import read_rows

ap = argparse.ArgumentParser()
ap.add_argument("train"); ap.add_argument("test"); ap.add_argument("movies")
ap.add_argument("--threshold", type=float, default=4); ap.add_argument("--components", type=int, default=64)
ap.add_argument("--epochs", type=int, default=30); ap.add_argument("--loss", default="warp")
ap.add_argument("--no-identity", action="store_true", help="content features only (no per-item identity feature)")
ap.add_argument("--mixed", action="store_true", help="warm and cold items in one list (Braid's --protocol mixed)")
ap.add_argument("--seed", type=int, default=1); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--vectors", help="JSON Lines {item, vector}: dense item features (e.g. the sentence embeddings of "
                "`braid ... --item-vectors text`) in place of the title words and genres")
a = ap.parse_args()

rows = read_rows

train, test = rows(a.train), rows(a.test)
users, items = {}, {}
for u, i, _ in train + test:
    users.setdefault(u, len(users)); items.setdefault(i, len(items))
text = {}
for r in csv.DictReader(open(a.movies, encoding="utf-8")):
    words = re.findall(r"[a-z0-9]+", r["title"].lower())
    genres = ["genre:" + g for g in r["genres"].split("|") if g and g != "(no genres listed)"]
    text[r["movieId"]] = words + genres
vocab = {}
feat_rows, feat_cols = [], []
for item, k in items.items():
    if not a.no_identity:
        feat_rows.append(k); feat_cols.append(k)  # identity feature
    for t in text.get(item, []):
        feat_rows.append(k); feat_cols.append(len(items) + vocab.setdefault(t, len(vocab)))
F = sp.csr_matrix((np.ones(len(feat_rows), dtype=np.float32), (feat_rows, feat_cols)), shape=(len(items), len(items) + len(vocab)))
# Normalize each item's features to sum to 1, as LightFM's docs advise for hybrid models.
F = sp.diags(1 / np.maximum(np.asarray(F.sum(1)).ravel(), 1)) @ F
if a.vectors:
    # Dense features: each item's embedding (unit length, as the encoder gives it), beside its
    # identity feature; the identity and the embedding weigh one each.
    vectors = {}
    for line in open(a.vectors):
        if line.strip():
            o = json.loads(line); vectors[o["item"]] = np.asarray(o["vector"], dtype=np.float32)
    dim = len(next(iter(vectors.values())))
    D = np.zeros((len(items), dim), dtype=np.float32)
    for item, k in items.items():
        if item in vectors: D[k] = vectors[item]
    parts = [sp.csr_matrix(D)] if a.no_identity else [sp.identity(len(items), dtype=np.float32, format="csr"), sp.csr_matrix(D)]
    F = sp.hstack(parts).tocsr()
pos = [(users[u], items[i]) for u, i, v in train if v >= a.threshold]
X = sp.coo_matrix((np.ones(len(pos), dtype=np.float32), ([p[0] for p in pos], [p[1] for p in pos])), shape=(len(users), len(items))).tocsr()
X.data[:] = 1
model = LightFM(no_components=a.components, loss=a.loss, random_state=a.seed)
t0 = time.perf_counter()
model.fit(X.tocoo(), item_features=F, epochs=a.epochs, num_threads=a.threads)
fit = time.perf_counter() - t0
trained = set(items[i] for _, i, _ in train)
cold_set = set(items[i] for _, i, _ in test) - trained
cold = np.array(sorted(cold_set))
# Under --mixed the candidates are the items with training positives (Braid's: items with
# training interactions after the threshold) and the cold ones.
candidates = np.array(sorted(set(i for _, i in pos) | cold_set)) if a.mixed else cold
rel = {}
train_users = set(u for u, _ in pos)  # Braid skips users without training positives
for u, i, v in test:
    if v >= a.threshold and (a.mixed or items[i] not in trained) and users[u] in train_users:
        rel.setdefault(users[u], set()).add(items[i])
seen = {}
for u, i in pos:
    seen.setdefault(u, set()).add(i)
disc = 1 / np.log2(np.arange(2, 12))
ndcgs, cold_places, places = [], 0, 0
for u, relevant in rel.items():
    s = model.predict(u, candidates, item_features=F, num_threads=a.threads)
    if a.mixed:
        s[np.isin(candidates, list(seen.get(u, ())))] = -np.inf
    top = candidates[np.argsort(-s, kind="stable")[:10]]
    dcg = sum(disc[k] for k, t in enumerate(top) if t in relevant)
    ideal = disc[:min(10, len(relevant))].sum()
    ndcgs.append(dcg / ideal)
    cold_places += sum(1 for t in top if t in cold_set)
    places += len(top)
metrics = {"ndcg@10": float(np.mean(ndcgs))}
if a.mixed:
    metrics["cold-share@10"] = cold_places / places
print(json.dumps({"model": f"lightfm-{a.loss}" + ("-content-only" if a.no_identity else "") + ("-vectors" if a.vectors else ""), "users_evaluated": len(ndcgs), "cold_items": int(len(cold)),
                  "metrics": metrics, "fit_seconds": fit}))
