#!/usr/bin/env python3
"""LightGBM's lambdarank on the SVMlight files `braid rank` reads, with Braid's LambdaMART
settings, as the peer in the benchmark.

usage: lightgbm_rank.py TRAIN VALID TEST [--leaves 15] [--min-leaf 50] [--trees 200]
                        [--learning-rate 0.05] [--l2 1] [--bins 63] [--patience 30]
                        [--threads 2] [--braid-scores FILE]

Prints one JSON object: LightGBM's fit seconds (lgb.train alone, the files already read),
its trees and NDCG@10 on TEST; with --braid-scores (one score per TEST row, from
`braid rank --scores-out`), that file's NDCG@10 by the same definition.

NDCG@10 here: per query with a relevant row, DCG@10 / ideal DCG@10, gains 2^label - 1,
discount 1/log2(1 + rank), rows of equal score in file order; the mean over those queries.
Both Braid's and LightGBM's scores are measured with this one function.

Where LightGBM is set to match Braid: the gradients are LambdaRank's over every pair of a
query (`lambdarank_truncation_level` above the longest query; Braid's truncation 0), not
normalized per query (`lambdarank_norm` false; Braid divides |ΔNDCG| by the ideal DCG, as
LightGBM also does), the same leaves, minimum leaf rows, shrinkage, L2 on leaf values, bins
per feature, rounds and early stopping on VALID's NDCG@10. What differs: LightGBM builds its
bins from a sample of the rows and has a minimum Hessian per leaf (1e-3); Braid's bins are
quantiles of every row.
"""
import argparse
import json
import math
import sys
import time

import numpy as np


def read(path):
    labels, queries, rows = [], [], []
    width = 0
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            labels.append(float(line[0]))
            queries.append(line[1][4:])
            row = {}
            for token in line[2:]:
                index, value = token.split(":")
                row[int(index) - 1] = float(value)
                width = max(width, int(index))
            rows.append(row)
    return labels, queries, rows, width


def dense(rows, width):
    x = np.zeros((len(rows), width), dtype=np.float32)
    for r, row in enumerate(rows):
        for f, v in row.items():
            x[r, f] = v
    return x


def groups(queries):
    sizes, last = [], None
    for q in queries:
        if q != last:
            sizes.append(0)
            last = q
        sizes[-1] += 1
    return sizes


def ndcg(labels, scores, sizes, cutoff=10):
    total, count, start = 0.0, 0, 0
    for size in sizes:
        lab = labels[start:start + size]
        sc = scores[start:start + size]
        start += size
        ideal = sorted(lab, reverse=True)[:cutoff]
        idcg = sum((2 ** l - 1) / math.log2(k + 2) for k, l in enumerate(ideal))
        if idcg <= 0:
            continue
        order = sorted(range(size), key=lambda k: (-sc[k], k))[:cutoff]
        dcg = sum((2 ** lab[k] - 1) / math.log2(p + 2) for p, k in enumerate(order))
        total += dcg / idcg
        count += 1
    return total / max(1, count)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("train")
    ap.add_argument("valid")
    ap.add_argument("test")
    ap.add_argument("--leaves", type=int, default=15)
    ap.add_argument("--min-leaf", type=int, default=50)
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--learning-rate", type=float, default=0.05)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--bins", type=int, default=63)
    ap.add_argument("--patience", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--braid-scores")
    a = ap.parse_args()
    import lightgbm as lgb

    sets = [read(p) for p in (a.train, a.valid, a.test)]
    width = max(s[3] for s in sets)
    (ytr, qtr, rtr, _), (yva, qva, rva, _), (yte, qte, rte, _) = sets
    longest = max(max(groups(q)) for q in (qtr, qva, qte))
    params = {
        "objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "num_leaves": a.leaves,
        "min_data_in_leaf": a.min_leaf, "learning_rate": a.learning_rate, "lambda_l2": a.l2,
        "max_bin": a.bins, "lambdarank_truncation_level": longest + 1, "lambdarank_norm": False,
        "num_threads": a.threads, "verbosity": -1, "deterministic": True, "force_row_wise": True,
    }
    train = lgb.Dataset(dense(rtr, width), label=ytr, group=groups(qtr), free_raw_data=False)
    valid = lgb.Dataset(dense(rva, width), label=yva, group=groups(qva), reference=train)
    started = time.perf_counter()
    booster = lgb.train(params, train, num_boost_round=a.trees, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(a.patience, verbose=False)])
    seconds = time.perf_counter() - started
    scores = booster.predict(dense(rte, width), num_iteration=booster.best_iteration)
    out = {"lightgbm": {"version": lgb.__version__, "fit_seconds": seconds, "trees": booster.best_iteration,
                        "ndcg@10": ndcg(yte, list(scores), groups(qte))},
           "test": {"rows": len(yte), "queries": len(groups(qte))}}
    if a.braid_scores:
        with open(a.braid_scores) as f:
            theirs = [float(line) for line in f if line.strip()]
        if len(theirs) != len(yte):
            sys.exit(f"{a.braid_scores}: {len(theirs)} scores for {len(yte)} test rows")
        out["braid"] = {"ndcg@10": ndcg(yte, theirs, groups(qte))}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
