#!/usr/bin/env python3
"""LightFM with user features (the users' attributes, plus one identity feature per training
user) on a new-users train/test split, under Braid's new-users protocol, printed as JSON.

Usage: lightfm_new_users.py TRAIN TEST USERS [--threshold 4] [--components 64] [--epochs 30] [--loss warp] [--given K]

USERS is MovieLens 100k's u.user (id|age|gender|occupation|zip). The features are the tokens
Braid's `AttributePopularity` reads from it: gender=, occupation=, zip= as given, and the age's
bin among five whose inner edges are the type-7 quantiles at 0.2 … 0.8 of the training users'
ages (NumPy's default quantile). Each user's features are normalized to sum to 1, as LightFM's
docs advise for hybrid models.

Protocol (Braid's `--protocol new-users`, see ../../README.md): training positives are rows with
value >= threshold; the users evaluated are those with no training positive and a test
positive; candidates are the items with training positives; relevant items are all of the
user's test positives; NDCG@10 with binary gains, averaged over the users evaluated.

With --given K (Braid's `--new-user-history K`): each new user's first K test rows by timestamp
(ties in file order) are given: their positives join LightFM's training interactions (the user
then gets an identity feature too, as any user with interactions), so LightFM is refitted with
them, as it would have to be; every given item leaves the user's list, and the given rows are
never relevant.
"""
import argparse, json, sys, time
import numpy as np, scipy.sparse as sp
from lightfm import LightFM
from common import read_rows

ap = argparse.ArgumentParser()
ap.add_argument("train"); ap.add_argument("test"); ap.add_argument("users")
ap.add_argument("--threshold", type=float, default=4); ap.add_argument("--components", type=int, default=64)
ap.add_argument("--epochs", type=int, default=30); ap.add_argument("--loss", default="warp")
ap.add_argument("--no-identity", action="store_true", help="attribute features only (no per-user identity feature)")
ap.add_argument("--seed", type=int, default=1); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--given", type=int, default=0, help="each new user's first K test rows given (see above)")
a = ap.parse_args()

rows = read_rows

attributes = {}
for line in open(a.users, encoding="latin-1"):
    f = line.rstrip("\n").split("|")
    if len(f) == 5: attributes[f[0]] = (float(f[1]), f[2], f[3], f[4])

train = [(u, i) for u, i, v in rows(a.train) if v >= a.threshold]
trained = sorted({u for u, _ in train})
trained_set_before = set(trained)  # the users with training positives before any row is given
# The test rows with their timestamps, in file order; the given ones (first K by time per new user).
timed = []
for line in open(a.test):
    p = line.rstrip("\n").split("\t")
    try: timed.append((p[0], p[1], float(p[2]), int(p[3]) if len(p) > 3 else 0))
    except ValueError: pass
given_rows = set()
if a.given > 0:
    by_user = {}
    for k, (u, _, _, t) in enumerate(timed):
        if u not in trained_set_before: by_user.setdefault(u, []).append((t, k))
    for u, entries in by_user.items(): given_rows.update(k for _, k in sorted(entries)[:a.given])
seen = {}
for k in given_rows: seen.setdefault(timed[k][0], set()).add(timed[k][1])
train_items = {i for _, i in train}
given_train = [(timed[k][0], timed[k][1]) for k in sorted(given_rows) if timed[k][2] >= a.threshold and timed[k][1] in train_items]
test = [(u, i) for k, (u, i, v, _) in enumerate(timed) if v >= a.threshold and k not in given_rows]
train = train + given_train
trained = sorted(set(trained) | {u for u, _ in given_train})
# Age bins over the training users, as Braid's (the new users' given rows do not move them).
ages = np.array([attributes[u][0] for u in sorted(trained_set_before) if u in attributes])
edges = [e for k, e in enumerate(np.quantile(ages, [0.2, 0.4, 0.6, 0.8]))]
inner = []
for e in edges:
    if e > (inner[-1] if inner else -np.inf) and e > ages.min(): inner.append(e)

def tokens(u):
    if u not in attributes: return []
    age, gender, occupation, zipcode = attributes[u]
    return [f"gender={gender}", f"occupation={occupation}", f"zip={zipcode}", f"age bin {sum(age >= e for e in inner)}"]

users = {}
for u in trained + sorted({u for u, _ in test}): users.setdefault(u, len(users))
items = {}
for _, i in train: items.setdefault(i, len(items))
vocab = {}
for u in users:
    for t in tokens(u): vocab.setdefault(t, len(vocab))
feat_rows, feat_cols = [], []
identity = not a.no_identity
trained_set = set(trained)
for u, k in users.items():
    if identity and u in trained_set:
        feat_rows.append(k); feat_cols.append(len(vocab) + k)
    for t in tokens(u):
        feat_rows.append(k); feat_cols.append(vocab[t])
F = sp.csr_matrix((np.ones(len(feat_rows), dtype=np.float32), (feat_rows, feat_cols)),
                  shape=(len(users), len(vocab) + (len(users) if identity else 0)))
F = sp.diags(1 / np.maximum(np.asarray(F.sum(1)).ravel(), 1)) @ F
X = sp.coo_matrix((np.ones(len(train), dtype=np.float32), ([users[u] for u, _ in train], [items[i] for _, i in train])),
                  shape=(len(users), len(items))).tocsr()
X.data[:] = 1

start = time.time()
model = LightFM(no_components=a.components, loss=a.loss, random_state=a.seed)
model.fit(X, user_features=F, epochs=a.epochs, num_threads=a.threads)
fit_seconds = time.time() - start

relevant = {}
for u, i in test:
    if u not in trained_set_before and i not in seen.get(u, ()): relevant.setdefault(u, set()).add(i)
ids = np.array(list(items))
discounts = 1 / np.log2(np.arange(2, 12))
ndcgs = []
for u, rel in relevant.items():
    scores = model.predict(users[u], np.arange(len(items)), user_features=F, num_threads=a.threads)
    for i in seen.get(u, ()):
        if i in items: scores[items[i]] = -np.inf
    top = ids[np.argsort(-scores, kind="stable")[:10]]
    dcg = sum(discounts[p] for p, i in enumerate(top) if i in rel)
    ndcgs.append(dcg / discounts[:min(10, len(rel))].sum())
print(json.dumps({"model": f"LightFM {a.loss} ({a.components} components, {a.epochs} epochs, user features"
                  + (" + identity" if identity else "") + (f", first {a.given} test rows given" if a.given else "") + ")",
                  "metrics": {"ndcg@10": float(np.mean(ndcgs))}, "users_evaluated": len(ndcgs), "fit_seconds": fit_seconds}))
