#!/usr/bin/env python3
"""LensKit (lkpy) as a peer on any train/test files, scored with the top-N protocol and metric
code of ../shared/tools/peers.py (imported, so the definitions are the same lines), so its rows
stand beside Braid's `evaluate` on the same split files.

  PYTHON_WITH_LENSKIT=/path/to/python lenskit_peer.py --train T --test S --threshold 4 --model itemknn [--param k=20]

Models (LensKit 2025's scorers, implicit feedback: the training rows at or above the threshold,
each as 1): itemknn (ItemKNNScorer), userknn (UserKNNScorer), ease (EASEScorer), implicit-mf
(ImplicitMFScorer), pop. `--param name=value` sets a scorer's configuration field (as LensKit
names it: max_nbrs, regularization, embedding_size, weight, epochs, ...). Runs itself again in
the Python given by PYTHON_WITH_LENSKIT when this one has no `lenskit` (pip install lenskit).
Prints JSON: the metrics at --k, fit seconds, scoring seconds, LensKit's version and the
configuration it ran with."""
import argparse, json, os, subprocess, sys, time

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "tools", "peers.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True); ap.add_argument("--test", required=True)
    ap.add_argument("--model", required=True, choices=["itemknn", "userknn", "ease", "implicit-mf", "pop"])
    ap.add_argument("--threshold", type=float, default=None); ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--param", action="append", default=[]); ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    try:
        import lenskit  # noqa: F401
    except ImportError:
        python = os.environ.get("PYTHON_WITH_LENSKIT")
        if not python or os.environ.get("LENSKIT_PEER_CHILD"):
            sys.exit("lenskit is not installed here: pip install lenskit, or set PYTHON_WITH_LENSKIT to a Python that has it")
        sys.exit(subprocess.run([python, *sys.argv], env=dict(os.environ, LENSKIT_PEER_CHILD="1")).returncode)
    os.environ.setdefault("LK_NUM_THREADS", str(a.threads))
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    import numpy as np, pandas as pd, torch, lenskit
    torch.set_num_threads(a.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(PEERS)))
    from peers import read, ranking_metrics
    from lenskit.data import from_interactions_df, ItemList, RecQuery
    import scipy.sparse as sp

    train_rows, test_rows = read(a.train), read(a.test)
    thr = a.threshold
    users, items = {}, {}
    for u, i, _ in train_rows + test_rows:
        users.setdefault(u, len(users)); items.setdefault(i, len(items))
    positives = sorted({(users[u], items[i]) for u, i, v in train_rows if thr is None or v >= thr})
    U = np.array([p[0] for p in positives]); I = np.array([p[1] for p in positives])
    binary = sp.csr_matrix((np.ones(len(U)), (U, I)), shape=(len(users), len(items)))
    test_pos = {}
    in_train = set(U.tolist())
    for u, i, v in test_rows:
        if (thr is None or v >= thr) and users[u] in in_train:
            test_pos.setdefault(users[u], set()).add(items[i])

    config = {}
    for p in a.param:
        name, value = p.split("=", 1)
        config[name] = json.loads(value) if value[:1] in "-0123456789.[{tf" else value
    from lenskit.knn import ItemKNNScorer, UserKNNScorer, EASEScorer
    from lenskit.als import ImplicitMFScorer
    from lenskit.basic import PopScorer
    make = {"itemknn": lambda: ItemKNNScorer(feedback="implicit", **config), "userknn": lambda: UserKNNScorer(feedback="implicit", **config),
            "ease": lambda: EASEScorer(**config), "implicit-mf": lambda: ImplicitMFScorer(**config), "pop": lambda: PopScorer(**config)}
    scorer = make[a.model]()
    data = from_interactions_df(pd.DataFrame({"user_id": U, "item_id": I}), user_col="user_id", item_col="item_id")
    t0 = time.perf_counter(); scorer.train(data); fit = time.perf_counter() - t0

    all_items = np.arange(len(items))
    candidates = ItemList(item_ids=all_items)

    def scores(u):
        history = binary[u].indices
        if a.model == "pop":
            out = scorer(candidates)
        else:
            out = scorer(RecQuery(user_id=u, user_items=ItemList(item_ids=history)), candidates)
        s = np.asarray(out.scores(), dtype=np.float64)
        s[np.isnan(s)] = -np.inf
        return s

    t0 = time.perf_counter()
    metrics, evaluated = ranking_metrics(scores, binary, test_pos, len(items), a.k)
    scoring = time.perf_counter() - t0
    print(json.dumps({"peer": f"lenskit {lenskit.__version__} {type(scorer).__name__}", "config": scorer.config.model_dump(mode="json"),
                      "fit_seconds": fit, "scoring_seconds": scoring, "users_evaluated": evaluated, "metrics": metrics}, indent=1))


if __name__ == "__main__":
    main()
