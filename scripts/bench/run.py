#!/usr/bin/env python3
"""Braid's benchmarks beside the peers, in one run on the same files.

Usage: scripts/bench/run.py [--datasets DIR] [--out DIR]
Needs a release build (.build/release/braid) and `python3 -m pip install implicit scikit-surprise`.
Writes bench-out/results.md and bench-out/results.json and prints the table.

1. ml-100k top-N: ratings >= 4 as positives, per-user 80/20 random holdout (braid split, seed 1).
2. ml-100k rating prediction: the official folds u1..u5, mean RMSE.
"""
import argparse, json, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRAID = os.path.join(ROOT, ".build", "release", "braid")
PEERS = os.path.join(ROOT, "..", "shared", "tools", "peers.py")


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{"):])


def braid(*args):
    return run_json([BRAID, *args, "--json"])


def peer(*args):
    return run_json([sys.executable, PEERS, *args])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    ml = os.path.join(a.datasets, "ml-100k")
    rows, raw = [], {}

    # 1. Top-N on a per-user 80/20 holdout, ratings >= 4 as positives.
    train, test = os.path.join(a.out, "ml100k.train.tsv"), os.path.join(a.out, "ml100k.test.tsv")
    subprocess.run([BRAID, "split", "--data", os.path.join(ml, "u.data"), "--split", "user-ratio", "--ratio", "0.8",
                    "--seed", "1", "--train-out", train, "--test-out", test], check=True, capture_output=True)
    topn = [
        ("popularity", ["--model", "pop"], ["--model", "pop"]),
        ("item-item cosine, K=100", ["--model", "itemknn", "--param", "neighbors=100"], ["--model", "itemknn", "--neighbors", "100"]),
        ("item-item cosine, K=200", ["--model", "itemknn", "--param", "neighbors=200"], ["--model", "itemknn", "--neighbors", "200"]),
        ("item-item cosine, K=500", ["--model", "itemknn", "--param", "neighbors=500"], None),
        ("user-user cosine, k=60", ["--model", "userknn", "--param", "neighbors=60"], None),
    ]
    for label, ours, theirs in topn:
        b = braid("evaluate", "--train", train, "--test", test, "--threshold", "4", *ours)
        p = peer("--train", train, "--test", test, "--threshold", "4", *theirs) if theirs else None
        raw[f"topn {label}"] = {"braid": b, "peer": p}
        rows.append(["ml-100k 80/20, ≥4★", label, "NDCG@10",
                     f"{b['metrics']['ndcg@10']:.4f}", f"{p['metrics']['ndcg@10']:.4f}" if p else "–",
                     "implicit" if p and "itemknn" in ours else ("peers.py pop" if p else "–"),
                     f"{b['fit_seconds']:.3f}", f"{p['fit_seconds']:.3f}" if p else "–"])

    # 2. Rating prediction on the official folds.
    folds = [(os.path.join(ml, f"u{f}.base"), os.path.join(ml, f"u{f}.test")) for f in range(1, 6)]
    rating = [
        ("baseline (biases)", ["--model", "baseline"], ("peers", "surprise-baseline"), "Surprise BaselineOnly"),
        ("user kNN (Braid: cosine, mean-centred)", ["--model", "userknn"], ("knnbasic", None), "Surprise KNNBasic (user, msd)"),
        ("item kNN, pearson-baseline, baseline-adjusted", ["--model", "itemknn", "--param", "similarity=pearson-baseline"],
         ("peers", "surprise-knnbaseline"), "Surprise KNNBaseline (item)"),
        ("user kNN, pearson-baseline, baseline-adjusted", ["--model", "userknn", "--param", "similarity=pearson-baseline"], None, None),
        ("item kNN, cosine, mean-centred", ["--model", "itemknn"], None, None),
    ]
    for label, ours, theirs, peer_name in rating:
        ours_r, ours_t, peer_r, peer_t = [], 0.0, [], 0.0
        for base, tst in folds:
            b = braid("evaluate", "--train", base, "--test", tst, *ours)
            ours_r.append(b["metrics"]["rmse"]); ours_t += b["fit_seconds"]
            if theirs:
                kind, name = theirs
                p = peer("--train", base, "--test", tst, "--model", name) if kind == "peers" else \
                    run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "surprise_knnbasic.py"), base, tst])
                peer_r.append(p["metrics"]["rmse"]); peer_t += p["fit_seconds"]
        raw[f"rating {label}"] = {"braid": ours_r, "peer": peer_r}
        rows.append(["ml-100k u1–u5", label, "RMSE", f"{statistics.mean(ours_r):.4f}",
                     f"{statistics.mean(peer_r):.4f}" if peer_r else "–", peer_name or "–",
                     f"{ours_t:.3f}", f"{peer_t:.3f}" if peer_r else "–"])

    header = ["data", "model", "metric", "Braid", "peer", "peer model", "Braid fit s", "peer fit s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    open(os.path.join(a.out, "results.md"), "w").write(table + "\n")
    json.dump(raw, open(os.path.join(a.out, "results.json"), "w"), indent=1)
    print(table)


if __name__ == "__main__":
    main()
