#!/usr/bin/env python3
"""A diagnostic, not a result: how far could ANY linear blend of the members' scores go on a
test split if its weights were chosen on that very test split? It bounds what the fusion's
ranker (which never sees the test split) can gain from these members.

Usage: blend_ceiling.py --train TRAIN --test TEST [--items FILE] --members ease,itemknn,als@factors=64,...
[--weights 1,0.35,...] (a member's parameters after `@`, separated by `;`). With --weights the
blend is not searched: those weights (chosen elsewhere, e.g. on a development split) are scored,
which shows whether a blend carries over from one split to another.
Each member is fitted by `braid recommend --k 300` on TRAIN (ratings >= 4); per user, each
member's top-300 scores are standardized over that list (items a member does not list get
its lowest standardized score minus one), and the blend is ranked by Σ w_m z_m with EASE's
weight fixed at 1 (the first member's). Weights: a grid over {0, .1, .2, .35, .5, .75, 1} for
up to four members, then coordinate ascent over {0, .05, …, 1.5}. NDCG@10 as peers.py defines
it, over users with a test rating >= 4.
"""
import argparse, itertools, json, os, subprocess

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRAID = os.environ.get("BRAID_BIN", os.path.join(ROOT, ".build", "release", "braid"))  # as serve.py


def member_lists(a, member):
    name, _, parameters = member.partition("@")
    cmd = [BRAID, "recommend", "--train", a.train, "--threshold", "4", "--model", name, "--users", "all", "--k", "300", "--json"]
    for pair in filter(None, parameters.split(";")):
        cmd += ["--param", pair]
    if a.items:
        cmd += ["--items", a.items]
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return {r["user"]: {e["item"]: e["score"] for e in r["items"]} for r in out["recommendations"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--items")
    ap.add_argument("--members", required=True)
    ap.add_argument("--weights", help="score these weights, one per member, instead of searching")
    a = ap.parse_args()
    members = a.members.split(",")
    relevant = {}
    for line in open(a.test):
        user, item, value = line.split("\t")[:3]
        if float(value) >= 4:
            relevant.setdefault(user, set()).add(item)
    lists = {m: member_lists(a, m) for m in members}
    users = [u for u in relevant if all(u in lists[m] for m in members)]
    discount = 1 / np.log2(np.arange(2, 12))

    def query(user):
        items = sorted(set().union(*(lists[m][user] for m in members)))
        columns = []
        for m in members:
            scores = lists[m][user]
            values = np.array(list(scores.values()))
            mean, deviation = values.mean(), values.std() + 1e-9
            floor = (values.min() - mean) / deviation - 1
            columns.append(np.array([(scores[i] - mean) / deviation if i in scores else floor for i in items]))
        labels = np.array([i in relevant[user] for i in items], dtype=float)
        return np.stack(columns, 1), labels, discount[:min(10, len(relevant[user]))].sum()

    queries = [query(u) for u in users]

    def ndcg(w):
        total = 0.0
        for x, labels, ideal in queries:
            top = np.argsort(-(x @ w), kind="stable")[:10]
            total += (labels[top] * discount[:len(top)]).sum() / ideal
        return total / len(queries)

    alone = [ndcg(np.eye(len(members))[k]) for k in range(len(members))]
    if a.weights:
        w = np.array([float(x) for x in a.weights.split(",")])
        if len(w) != len(members):
            raise SystemExit(f"--weights has {len(w)} values for {len(members)} members")
        fixed = ndcg(w)
        print(json.dumps({"members": members, "alone": dict(zip(members, [round(v, 4) for v in alone])), "weights": dict(zip(members, w.tolist())),
                          "fixed_blend": round(fixed, 4), "ratio_to_first": round(fixed / alone[0], 4), "users": len(queries)}, indent=1))
        return
    best, weights = alone[0], np.eye(len(members))[0]
    if len(members) <= 4:
        for rest in itertools.product([0, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0], repeat=len(members) - 1):
            w = np.array((1.0,) + rest)
            v = ndcg(w)
            if v > best:
                best, weights = v, w
    for _ in range(3):
        for k in range(1, len(members)):
            for value in [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5]:
                w = weights.copy()
                w[k] = value
                v = ndcg(w)
                if v > best + 1e-6:
                    best, weights = v, w
    print(json.dumps({"members": members, "alone": dict(zip(members, [round(v, 4) for v in alone])),
                      "test_chosen_blend": round(best, 4), "weights": dict(zip(members, weights.tolist())),
                      "ratio_to_first": round(best / alone[0], 4), "users": len(queries)}, indent=1))


if __name__ == "__main__":
    main()
