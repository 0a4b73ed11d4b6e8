#!/usr/bin/env python3
"""Braid's benchmarks beside the peers, in one run on the same files.

Usage: scripts/bench/run.py [--datasets DIR] [--out DIR] [--scale]
Needs a release build (.build/release/braid) and `python3 -m pip install implicit scikit-surprise`.
Writes bench-out/results.md and bench-out/results.json and prints the table.

1. ml-100k top-N: ratings >= 4 as positives, per-user 80/20 random holdout (braid split, seed 1).
2. ml-100k rating prediction: the official folds u1..u5, mean RMSE (fit seconds summed).
3. ALS, BPR, EASE top-N quality on ml-100k and ml-latest-small (same protocol as 1).
4. Fit speed: ALS on synthetic 100k users x 20k items x 1.6M interactions (braid datasets synth);
   EASE on ml-latest-small positives against NumPy (float64 inv, 2 BLAS threads).
5. Serving: top-10 for every user of ml-latest-small from a saved model.
6. With --scale: ALS on 50M synthetic interactions, time and peak memory.
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
    ap.add_argument("--scale", action="store_true")
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
        ("svd (Surprise defaults: 100 factors, 20 epochs)", ["--model", "svd"], ("peers", "surprise-svd"), "Surprise SVD"),
        ("svdpp (Surprise defaults: 20 factors, 20 epochs)", ["--model", "svdpp"], ("peers", "surprise-svdpp"), "Surprise SVDpp"),
        ("biasedmf (tuned defaults)", ["--model", "biasedmf"], None, None),
        ("blend of 8 models (fusion)", ["--model", "blend"], None, None),
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

    # 3. Latent-factor and linear top-N quality, both datasets.
    mls = os.path.join(ROOT, "Sources", "BraidDemoData", "Resources", "ml-latest-small", "ratings.csv")
    mls_train, mls_test = os.path.join(a.out, "mls.train.tsv"), os.path.join(a.out, "mls.test.tsv")
    subprocess.run([BRAID, "split", "--data", mls, "--split", "user-ratio", "--ratio", "0.8", "--seed", "1",
                    "--train-out", mls_train, "--test-out", mls_test], check=True, capture_output=True)
    factor_models = [
        ("ALS, 64 factors, 15 iterations, reg 0.05", ["--model", "als", "--param", "factors=64", "--param", "iterations=15", "--param", "regularization=0.05"],
         ["--model", "als", "--factors", "64", "--iterations", "15", "--reg", "0.05"], "implicit ALS"),
        ("BPR, 64 factors, 100 iterations (uniform negatives)", ["--model", "bpr", "--param", "factors=64"],
         ["--model", "bpr", "--factors", "64", "--iterations", "100", "--reg", "0.01"], "implicit BPR"),
        ("EASE, λ=500", ["--model", "ease"], ["--model", "ease"], "NumPy EASE"),
    ]
    for name, (tr, te) in (("ml-100k", (train, test)), ("ml-latest-small", (mls_train, mls_test))):
        for label, ours, theirs, peer_name in factor_models:
            b = braid("evaluate", "--train", tr, "--test", te, "--threshold", "4", *ours)
            p = peer("--train", tr, "--test", te, "--threshold", "4", *theirs)
            raw[f"factor {name} {label}"] = {"braid": b, "peer": p}
            rows.append([f"{name} 80/20, ≥4★", label, "NDCG@10", f"{b['metrics']['ndcg@10']:.4f}", f"{p['metrics']['ndcg@10']:.4f}",
                         peer_name, f"{b['fit_seconds']:.3f}", f"{p['fit_seconds']:.3f}"])

    # 4. Fit speed.
    synth = os.path.join(a.out, "synth-1.6m.tsv")
    if not os.path.exists(synth):
        subprocess.run([BRAID, "datasets", "synth", "--users", "100000", "--items", "20000", "--interactions", "1600000",
                        "--out", synth], check=True, capture_output=True)
    ours = braid("train", "--train", synth, "--model", "als", "--param", "factors=64", "--param", "iterations=15",
                 "--param", "regularization=0.05", "--out", os.path.join(a.out, "synth-als.braid"), "--threads", "2")
    theirs = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "implicit_fit.py"), synth, "--threads", "2"])
    raw["speed als synthetic"] = {"braid": ours, "peer": theirs}
    rows.append(["synthetic 100k×20k, 1.6M", "ALS fit, 64 factors, 15 iterations, 2 threads", "fit s",
                 f"{ours['fit_seconds']:.2f}", f"{theirs['fit_seconds']:.2f}", "implicit ALS", f"{ours['fit_seconds']:.2f}", f"{theirs['fit_seconds']:.2f}"])
    ease = braid("train", "--train", mls_train, "--threshold", "4", "--model", "ease", "--out", os.path.join(a.out, "mls-ease.braid"), "--threads", "2")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    env.pop("OPENBLAS_CORETYPE", None); env.pop("OPENBLAS_L2_SIZE", None)
    numpy_ease = json.loads(subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench", "numpy_ease.py"), mls_train, "4"],
                                           check=True, capture_output=True, text=True, env=env).stdout)
    raw["speed ease"] = {"braid": ease, "peer": numpy_ease}
    rows.append(["ml-latest-small ≥4★ train", f"EASE fit ({ease['items']} items, λ=500), 2 threads", "fit s",
                 f"{ease['fit_seconds']:.2f}", f"{numpy_ease['fit_seconds']:.2f}", "NumPy EASE (float64 inv)",
                 f"{ease['fit_seconds']:.2f}", f"{numpy_ease['fit_seconds']:.2f}"])

    # 5. Serving: top-10 for every user of ml-latest-small from saved models.
    for model, params in (("als", ["--param", "factors=64"]), ("ease", []), ("itemknn", []), ("userknn", [])):
        path = os.path.join(a.out, f"mls-{model}.braid")
        braid("train", "--train", mls_train, "--threshold", "4", "--model", model, *params, "--out", path)
        rec = braid("recommend", "--model-file", path, "--users", "all", "--k", "10")
        n = len(rec["recommendations"])
        peer_rate = "–"
        if model == "als":
            imp = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "implicit_fit.py"), mls_train, "--threshold", "4",
                            "--recommend"])
            peer_rate = f"{imp['users'] / imp['recommend_seconds']:.0f}"
        rows.append(["ml-latest-small, all users", f"top-10 serving from a saved {model} model", "users/s",
                     f"{n / rec['seconds']:.0f}", peer_rate, "implicit ALS recommend" if model == "als" else "–", "–", "–"])

    # 6. Scale.
    if a.scale:
        out = subprocess.run(["/usr/bin/time", "-v", BRAID, "train", "--train", "synth:users=1000000,items=200000,interactions=50000000",
                              "--model", "als", "--param", "factors=64", "--param", "iterations=15", "--out", os.path.join(a.out, "scale.braid"), "--json"],
                             check=True, capture_output=True, text=True)
        fit = json.loads(out.stdout)["fit_seconds"]
        rss = [l for l in out.stderr.splitlines() if "Maximum resident" in l][0].split()[-1]
        rows.append(["synthetic 1M×200k, ~50M", "ALS fit, 64 factors, 15 iterations", "fit s / peak RSS",
                     f"{fit:.1f} s / {int(rss) / 1048576:.2f} GiB", "–", "–", f"{fit:.1f}", "–"])

    header = ["data", "model", "metric", "Braid", "peer", "peer model", "Braid fit s", "peer fit s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    open(os.path.join(a.out, "results.md"), "w").write(table + "\n")
    json.dump(raw, open(os.path.join(a.out, "results.json"), "w"), indent=1)
    print(table)


if __name__ == "__main__":
    main()
