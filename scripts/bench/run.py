#!/usr/bin/env python3
"""Braid's benchmarks beside the peers, in one run on the same files.

Usage: scripts/bench/run.py [--datasets DIR] [--out DIR] [--scale]
Needs a release build (.build/release/braid, or the binary BRAID_BIN names) and `python3 -m pip install implicit scikit-surprise`.
Writes bench-out/results.md and bench-out/results.json and prints the table.

1. ml-100k top-N: ratings >= 4 as positives, per-user 80/20 random holdout (braid split, seed 1).
2. ml-100k rating prediction: the official folds u1..u5, mean RMSE (fit seconds summed); then
   ml-latest-small 80/20 ratings, where biasedmf and the blend (tuned on ml-100k u1.base) are
   measured on data disjoint from their tuning.
3. ALS, BPR, EASE top-N quality on ml-100k and ml-latest-small (same protocol as 1), ALS also at
   equal objectives (implicit's confidence is c = α·r, Braid's 1 + α·r) and BPR with each
   library's negative sampling (means over seeds 1–8 on both sides); GF-CF beside a NumPy/SciPy GF-CF with exact singular vectors
   (scripts/bench/numpy_gfcf.py). The fusion against the best single model on random and
   temporal splits; the random ones again with the ratings below 4 seen (`--below-threshold
   seen`), beside NumPy EASE under that protocol (scripts/bench/seen_ease.py).
4. Fit speed: ALS on synthetic 100k users x 20k items x 1.6M interactions (braid datasets synth);
   EASE on ml-latest-small positives against NumPy (float64 inv, 2 BLAS threads); LambdaMART
   (`braid rank`) against LightGBM's lambdarank on the fusion's exported candidates, five parts
   of the lists each the test once (scripts/bench/lightgbm_rank.py; installs lightgbm 4.7.0
   from PyPI when missing).
5. Serving: top-10 for every user of ml-latest-small from a saved model, the median of seven
   runs on each side (a run of the cheap scorers takes a few milliseconds, so fewer runs measure
   the host's noise), ALS beside implicit's recommend and EASE beside NumPy/SciPy
   (scripts/bench/numpy_ease.py --recommend: the history rows times B in float32, the faster of
   sparse and dense).
6. With --scale: ALS on 50M synthetic interactions, time and peak memory.
7. Text: sentences per second encoding the 9,742 ml-latest-small titles with their genres
   (Braid vs a batched float32 NumPy implementation of the same model, 2 BLAS threads, on the
   first 2,000 titles), 256-token passages in GFLOP/s beside NumPy's sgemm peak, and cold-item
   NDCG@10 of the content models (10% of items with >= 5 positive ratings held out); the
   hybrid against BM25 and LightFM among cold items, and with warm and cold items in one list
   (`--protocol mixed`, 20% of each user's other interactions held out too). LightFM 1.17 is
   installed from its patched sdist when missing (scripts/bench/install_lightfm.sh), before the
   first row. New users (scripts/bench/new_users.py): ml-100k with 10% of its users held out
   whole, popularity among users who share their u.user attributes against popularity and
   LightFM with the same attributes as user features. Cold items from sentence embeddings
   (scripts/bench/cold_vectors.py): the hybrid over `--item-vectors text` against BM25, the
   hybrid over BM25 and LightFM with the same embeddings as item features.
8. `braid create --budget 120` on the training part of ml-latest-small's temporal 80/20 split:
   wall time, and the chosen model's test NDCG@10 beside every family at its defaults.
9. Raw counts (scripts/bench/counts.py): Debian uploads per person and source package (built
   by scripts/bench/debian_uploads.py from deb.debian.org when missing): each implicit model at
   its defaults beside its setting tuned on a validation split, and the fusion against the best
   single model on a random and a temporal 80/20 split, with implicit's ALS.
"""
import argparse, json, os, statistics, subprocess, sys, time

import cold_vectors, counts, new_users
from common import BRAID, ROOT, braid, fusion_against_best, peer, run_json, text_model_directory


# The fusion's default members on timestamped data, each evaluated alone beside it, with item kNN
# (a member until 2026-12-03) and GF-CF whole (the fusion uses its ideal filter alone).
MEMBERS = ["ease", "itemknn", "userknn", "als", "rp3beta", "gfcf", "gfcf(linear=false)", "adjacency", "adjacency(half-life=10)"]


def seeded_row(data, label, train, test, ours, theirs, peer_name, seeds=range(1, 9)):
    """A top-N row for a stochastic model: Braid (`--param seed=s`) and the peer (`--seed s`)
    under the same seeds, each side's NDCG@10 as mean ± standard deviation and its mean fit
    seconds. Returns the row and the runs."""
    runs = [(braid("evaluate", "--train", train, "--test", test, "--threshold", "4", *ours, "--param", f"seed={s}"),
             peer("--train", train, "--test", test, "--threshold", "4", *theirs, "--seed", str(s))) for s in seeds]
    def summary(side):
        values = [run[side]["metrics"]["ndcg@10"] for run in runs]
        return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"
    fit = lambda side: statistics.mean(run[side]["fit_seconds"] for run in runs)
    return ([data, f"{label}; mean ± sd over seeds {seeds[0]}–{seeds[-1]}", "NDCG@10", summary(0), summary(1), peer_name,
             f"{fit(0):.3f}", f"{fit(1):.3f}"],
            {"seeds": list(seeds), "braid": [r[0] for r in runs], "peer": [r[1] for r in runs]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    ap.add_argument("--scale", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    # The peers that are not in peers.py, installed before the first row rather than found
    # missing after most of the run: LightGBM from its wheel, LightFM from its patched sdist.
    if subprocess.run([sys.executable, "-c", "import lightgbm"], capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "lightgbm==4.7.0"], check=True)
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "bench", "install_lightfm.sh")], check=True)
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

    mls = os.path.join(ROOT, "Sources", "BraidDemoData", "Resources", "ml-latest-small", "ratings.csv")
    mls_train, mls_test = os.path.join(a.out, "mls.train.tsv"), os.path.join(a.out, "mls.test.tsv")
    subprocess.run([BRAID, "split", "--data", mls, "--split", "user-ratio", "--ratio", "0.8", "--seed", "1",
                    "--train-out", mls_train, "--test-out", mls_test], check=True, capture_output=True)
    # 2b. Rating prediction on ml-latest-small (80/20 per user): data disjoint from ml-100k's
    # u1.base, on which biasedmf's defaults and the blend's members were chosen.
    mls_r = [
        ("baseline (biases)", ["--model", "baseline"], "surprise-baseline", "Surprise BaselineOnly"),
        ("svd (Surprise defaults)", ["--model", "svd"], "surprise-svd", "Surprise SVD"),
        ("biasedmf (defaults tuned on ml-100k u1.base)", ["--model", "biasedmf"], None, None),
        ("blend of 8 models (fusion)", ["--model", "blend"], None, None),
    ]
    for label, ours, theirs, peer_name in mls_r:
        b = braid("evaluate", "--train", mls_train, "--test", mls_test, *ours)
        p = peer("--train", mls_train, "--test", mls_test, "--model", theirs) if theirs else None
        raw[f"rating mls {label}"] = {"braid": b, "peer": p}
        rows.append(["ml-latest-small 80/20 ratings", label, "RMSE", f"{b['metrics']['rmse']:.4f}",
                     f"{p['metrics']['rmse']:.4f}" if p else "–", peer_name or "–",
                     f"{b['fit_seconds']:.3f}", f"{p['fit_seconds']:.3f}" if p else "–"])

    # 3. Latent-factor and linear top-N quality, both datasets.
    factor_models = [
        ("ALS at Braid's defaults (100 factors, weighted λ 0.2 per interaction, c = 1 + r = 2) vs implicit's (100 factors, constant λ 0.01, c = r = 1): different objectives",
         ["--model", "als"], ["--model", "als", "--factors", "100", "--iterations", "15", "--reg", "0.01"], "implicit ALS"),
        ("ALS, 64 factors, 15 iterations, constant reg 0.05 (regularization-scaling=none), defaults (Braid c = 1 + r = 2, implicit c = r = 1: different objectives)",
         ["--model", "als", "--param", "factors=64", "--param", "iterations=15", "--param", "regularization=0.05", "--param", "regularization-scaling=none"],
         ["--model", "als", "--factors", "64", "--iterations", "15", "--reg", "0.05"], "implicit ALS"),
        ("ALS as above, equal objective c = 2 (Braid α = 1, implicit α = 2)",
         ["--model", "als", "--param", "factors=64", "--param", "iterations=15", "--param", "regularization=0.05", "--param", "regularization-scaling=none", "--param", "alpha=1"],
         ["--model", "als", "--factors", "64", "--iterations", "15", "--reg", "0.05", "--alpha", "2"], "implicit ALS"),
        ("ALS as above, equal objective c = 1 (Braid α = 0, implicit α = 1)",
         ["--model", "als", "--param", "factors=64", "--param", "iterations=15", "--param", "regularization=0.05", "--param", "regularization-scaling=none", "--param", "alpha=0"],
         ["--model", "als", "--factors", "64", "--iterations", "15", "--reg", "0.05", "--alpha", "1"], "implicit ALS"),
        ("EASE, λ=500", ["--model", "ease", "--param", "lambda=500"], ["--model", "ease"], "NumPy EASE"),
    ]
    # BPR's SGD moves NDCG@10 by ±1% from one seed to the next on either side (a single run
    # once read as Braid 3% behind implicit), so its rows are means over the same eight seeds.
    bpr_models = [
        ("BPR, 64 factors, 100 iterations, uniform negatives (the paper; implicit samples by popularity)", ["--model", "bpr", "--param", "factors=64", "--param", "iterations=100"],
         ["--model", "bpr", "--factors", "64", "--iterations", "100", "--reg", "0.01"], "implicit BPR"),
        ("BPR as above, popularity negatives, a drawn positive skipped (implicit's sampling)",
         ["--model", "bpr", "--param", "factors=64", "--param", "iterations=100", "--param", "negative-sampling=popularity"],
         ["--model", "bpr", "--factors", "64", "--iterations", "100", "--reg", "0.01"], "implicit BPR"),
    ]
    for name, (tr, te) in (("ml-100k", (train, test)), ("ml-latest-small", (mls_train, mls_test))):
        for label, ours, theirs, peer_name in factor_models:
            b = braid("evaluate", "--train", tr, "--test", te, "--threshold", "4", *ours)
            p = peer("--train", tr, "--test", te, "--threshold", "4", *theirs)
            raw[f"factor {name} {label}"] = {"braid": b, "peer": p}
            rows.append([f"{name} 80/20, ≥4★", label, "NDCG@10", f"{b['metrics']['ndcg@10']:.4f}", f"{p['metrics']['ndcg@10']:.4f}",
                         peer_name, f"{b['fit_seconds']:.3f}", f"{p['fit_seconds']:.3f}"])
        for label, ours, theirs, peer_name in bpr_models:
            row, raw[f"factor {name} {label}"] = seeded_row(f"{name} 80/20, ≥4★", label, tr, te, ours, theirs, peer_name)
            rows.append(row)
        # GF-CF beside a NumPy/SciPy GF-CF with exact singular vectors (ARPACK), same files.
        b = braid("evaluate", "--train", tr, "--test", te, "--threshold", "4", "--model", "gfcf")
        p = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "numpy_gfcf.py"), tr, te, "--threshold", "4"])
        raw[f"factor {name} gfcf"] = {"braid": b, "peer": p}
        rows.append([f"{name} 80/20, ≥4★", "GF-CF at the defaults (48 singular vectors, α = 0.3; Braid's by randomized subspace iteration, the peer's by ARPACK)",
                     "NDCG@10", f"{b['metrics']['ndcg@10']:.4f}", f"{p['ndcg@10']:.4f}", "NumPy/SciPy GF-CF", f"{b['fit_seconds']:.3f}", f"{p['fit_seconds']:.3f}"])

    # 3b. Fusion against its best member (EASE), paired per user, both inner-split choices.
    # Also on a temporal split (each user's latest 20% held out), where the default temporal
    # inner split matches the protocol.
    temporal = {}
    for name, source in (("ml-100k", os.path.join(ml, "u.data")), ("ml-latest-small", mls)):
        tr, te = os.path.join(a.out, f"{name}.time.train.tsv"), os.path.join(a.out, f"{name}.time.test.tsv")
        subprocess.run([BRAID, "split", "--data", source, "--split", "user-time", "--ratio", "0.8", "--train-out", tr, "--test-out", te],
                       check=True, capture_output=True)
        temporal[name] = (tr, te)
    # The items' titles and genres only (no users' tags): with item text the fusion adds BM25
    # similarity to the history as a feature (`content-feature`, on by default).
    import shutil
    mls_dir = os.path.dirname(mls)
    tg_dir = os.path.join(a.out, "titles-genres")
    os.makedirs(tg_dir, exist_ok=True)
    shutil.copy(os.path.join(mls_dir, "movies.csv"), tg_dir)  # no tags.csv beside it
    item_text = {"ml-100k": os.path.join(ml, "u.item"), "ml-latest-small": os.path.join(tg_dir, "movies.csv")}
    # At its defaults the fusion's inner split mirrors the test's (`validation=auto`): random
    # folds on the random splits, each user's latest share on the temporal ones.
    fusion_splits = [("ml-100k", "80/20", (train, test), "10 random inner folds, LambdaRank pairs within the first 10"), ("ml-latest-small", "80/20", (mls_train, mls_test), "10 random inner folds, LambdaRank pairs within the first 10")]
    fusion_splits += [(name, "temporal 80/20", temporal[name], "temporal inner split") for name in temporal]
    fusion_runs = [(name, protocol, files, variant, label, extra) for name, protocol, files, inner in fusion_splits
                   for variant, (label, extra) in enumerate(((f"fusion (default members, trees on the linear ranker; {inner})", []),
                                                             (f"fusion with item text (default members + BM25 feature; {inner})", ["--items", item_text[name]])))]
    for name, protocol, (tr, te), variant, label, extra in fusion_runs:
        per_user = os.path.join(a.out, f"fusion-{name}-{protocol.replace(' ', '-').replace('/', '-')}-{variant}.jsonl")
        # Every default member alone (ALS with the fusion's 64 factors, and the two adjacency
        # members the fit adds on timestamped data), then the fusion against the best of them.
        b, fused, best, c = fusion_against_best(tr, te, MEMBERS + ["fusion"],
                                                ["--threshold", "4", "--param", "als.factors=64", *extra], per_user)
        m = c["metrics"]["ndcg@10"]
        raw[f"fusion {name} {protocol} {label}"] = {"braid": b, "compare": c}
        rows.append([f"{name} {protocol}, ≥4★", f"{label} vs {best['model']}: difference {m['difference']:+.4f}, 95% CI [{m['ci95'][0]:+.4f}, {m['ci95'][1]:+.4f}]",
                     "NDCG@10", f"{fused['metrics']['ndcg@10']:.4f}", f"{best['metrics']['ndcg@10']:.4f}", f"Braid {best['model']} (best member)",
                     f"{fused['fit_seconds']:.2f}", f"{best['fit_seconds']:.2f}"])

    # 3c. The random splits again with the ratings below the threshold seen (`--below-threshold
    # seen`: left out of the user's candidates, as in served lists), where the fusion adds EASE
    # fitted on every rated item as a member. NumPy EASE under the same protocol checks it (on
    # the positives it must equal Braid's) and shows EASE fitted on every rating's value, which
    # no Braid single model is.
    for name, protocol, files, _ in fusion_splits[:2]:
        tr, te = files
        for variant, (label, extra) in enumerate(((f"fusion, low ratings seen (default members + ease(below-threshold=true); 10 random inner folds, pairs within the first 10)", []),
                                                  (f"fusion with item text, low ratings seen (+ ease(below-threshold=true) and BM25 feature)", ["--items", item_text[name]]))):
            per_user = os.path.join(a.out, f"fusion-seen-{name}-{variant}.jsonl")
            b, fused, best, c = fusion_against_best(tr, te, MEMBERS + ["fusion"],
                                                    ["--threshold", "4", "--below-threshold", "seen", "--param", "als.factors=64", *extra], per_user)
            m = c["metrics"]["ndcg@10"]
            raw[f"fusion seen {name} {label}"] = {"braid": b, "compare": c}
            rows.append([f"{name} {protocol}, ≥4★, low ratings seen", f"{label} vs {best['model']}: difference {m['difference']:+.4f}, 95% CI [{m['ci95'][0]:+.4f}, {m['ci95'][1]:+.4f}]",
                         "NDCG@10", f"{fused['metrics']['ndcg@10']:.4f}", f"{best['metrics']['ndcg@10']:.4f}", f"Braid {best['model']} (best member alone)",
                         f"{fused['fit_seconds']:.2f}", f"{best['fit_seconds']:.2f}"])
        ref = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "seen_ease.py"), tr, te, "4"])
        raw[f"seen numpy ease {name}"] = ref
        for kind, fitted in (("positives", "the positives as 1 (Braid's ease)"),
                             ("every rated item as 1", "every rated item as 1 (the fusion's member ease(below-threshold=true) alone)"),
                             ("every rating's value", "every training rating's value (no Braid single model)")):
            rows.append([f"{name} {protocol}, ≥4★, low ratings seen", f"EASE fitted on {fitted}, λ by Braid's rule ({ref[kind]['lambda']:.0f})", "NDCG@10",
                         "–", f"{ref[kind]['ndcg@10']:.4f}", "NumPy EASE", "–", "–"])

    # 4. Fit speed.
    synth = os.path.join(a.out, "synth-1.6m.tsv")
    if not os.path.exists(synth):
        subprocess.run([BRAID, "datasets", "synth", "--users", "100000", "--items", "20000", "--interactions", "1600000",
                        "--out", synth], check=True, capture_output=True)
    ours = braid("train", "--train", synth, "--model", "als", "--param", "factors=64", "--param", "iterations=15",
                 "--param", "regularization=0.05", "--param", "regularization-scaling=none", "--out", os.path.join(a.out, "synth-als.braid"), "--threads", "2")
    theirs = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "implicit_fit.py"), synth, "--threads", "2"])
    raw["speed als synthetic"] = {"braid": ours, "peer": theirs}
    rows.append(["synthetic 100k×20k, 1.6M", "ALS fit, 64 factors, 15 iterations, 2 threads", "fit s",
                 f"{ours['fit_seconds']:.2f}", f"{theirs['fit_seconds']:.2f}", "implicit ALS", f"{ours['fit_seconds']:.2f}", f"{theirs['fit_seconds']:.2f}"])
    ease = braid("train", "--train", mls_train, "--threshold", "4", "--model", "ease", "--param", "lambda=500", "--out", os.path.join(a.out, "mls-ease.braid"), "--threads", "2")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    env.pop("OPENBLAS_CORETYPE", None); env.pop("OPENBLAS_L2_SIZE", None)
    numpy_ease = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "numpy_ease.py"), mls_train, "4"], env=env)
    raw["speed ease"] = {"braid": ease, "peer": numpy_ease}
    rows.append(["ml-latest-small ≥4★ train", f"EASE fit ({ease['items']} items, λ=500), 2 threads", "fit s",
                 f"{ease['fit_seconds']:.2f}", f"{numpy_ease['fit_seconds']:.2f}", "NumPy EASE (float64 inv)",
                 f"{ease['fit_seconds']:.2f}", f"{numpy_ease['fit_seconds']:.2f}"])

    # 4b. LambdaMART, the fusion's second stage, beside LightGBM's lambdarank on the same rows:
    # the candidates and features of the fusion's ten random inner folds on ml-100k's training
    # part (`ranker-data`), cut by query id into five parts that are each the test once, the
    # fusion's own early-stopping users for early stopping, the fusion's tree settings on both
    # sides; the row gives the means over the five.
    ltr = os.path.join(a.out, "ltr")
    os.makedirs(ltr, exist_ok=True)
    braid("train", "--train", train, "--threshold", "4", "--model", "fusion", "--param", "validation=random",
          "--param", f"ranker-data={os.path.join(ltr, 'ml100k')}", "--out", os.path.join(ltr, "fusion.braid"))
    with open(os.path.join(ltr, "ml100k.train.svm")) as f:
        lines = f.readlines()
    settings = {"leaves": 15, "min-leaf": 50, "trees": 200, "learning-rate": 0.05, "l2": 1, "bins": 63, "patience": 30}
    parts = []
    for part in range(5):
        files = [os.path.join(ltr, f"train{part}.svm"), os.path.join(ltr, "ml100k.valid.svm"), os.path.join(ltr, f"test{part}.svm")]
        with open(files[0], "w") as tr, open(files[2], "w") as te:
            for line in lines:
                (te if int(line.split()[1][4:]) % 5 == part else tr).write(line)
        scores = os.path.join(ltr, f"braid{part}.scores")
        ours = braid("rank", "--train", files[0], "--validation", files[1], "--test", files[2], "--scores-out", scores, "--threads", "2",
                     *[x for k, v in settings.items() for x in ("--param", f"{k}={v}")])
        theirs = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "lightgbm_rank.py"), *files, "--braid-scores", scores, "--threads", "2",
                           *[x for k, v in settings.items() for x in (f"--{k}", str(v))]])
        parts.append({"braid": ours, "peer": theirs})
    raw["lambdamart fusion candidates"] = parts
    ndcg = [statistics.mean(p["peer"][side]["ndcg@10"] for p in parts) for side in ("braid", "lightgbm")]
    fit = [statistics.mean(p["braid"]["fit_seconds"] for p in parts), statistics.mean(p["peer"]["lightgbm"]["fit_seconds"] for p in parts)]
    ahead = sum(p["peer"]["braid"]["ndcg@10"] > p["peer"]["lightgbm"]["ndcg@10"] for p in parts)
    label = (f"LambdaMART on the fusion's candidates ({parts[0]['braid']['queries']['training'] + parts[0]['braid']['queries']['test']} users' lists, "
             f"{parts[0]['braid']['features']} features; 15 leaves of ≥ 50 rows, early stopping), mean of 5 parts each the test once; Braid ahead on {ahead} of 5; "
             f"trees kept: Braid {', '.join(str(p['braid']['trees']) for p in parts)}, LightGBM {', '.join(str(p['peer']['lightgbm']['trees']) for p in parts)}")
    rows.append(["ml-100k 80/20 train, fusion's inner folds", label, "NDCG@10",
                 f"{ndcg[0]:.4f}", f"{ndcg[1]:.4f}", f"LightGBM {parts[0]['peer']['lightgbm']['version']} lambdarank",
                 f"{fit[0]:.2f}", f"{fit[1]:.2f}"])

    # 5. Serving: top-10 for every user of ml-latest-small from saved models; each side's
    # median of seven runs (a run of item or user kNN takes 3-4 ms, so the host's noise shows).
    runs = 7
    def median_rate(results, users, seconds):
        rates = [r[users] / r[seconds] for r in results]
        return statistics.median(rates), rates
    for model, params in (("als", ["--param", "factors=64"]), ("ease", []), ("itemknn", []), ("userknn", [])):
        path = os.path.join(a.out, f"mls-{model}.braid")
        braid("train", "--train", mls_train, "--threshold", "4", "--model", model, *params, "--out", path)
        recs = [braid("recommend", "--model-file", path, "--users", "all", "--k", "10") for _ in range(runs)]
        for r in recs: r["users"] = len(r["recommendations"])
        rate, rates = median_rate(recs, "users", "seconds")
        raw[f"serving {model}"] = {"braid users/s": rates}
        peer_rate, peer_name = "–", "–"
        if model == "als":
            imps = [run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "implicit_fit.py"), mls_train, "--threshold", "4",
                              "--recommend"]) for _ in range(runs)]
            peer_rate, peer_name = f"{median_rate(imps, 'users', 'recommend_seconds')[0]:.0f}", "implicit ALS recommend"
        elif model == "ease":
            served = [run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "numpy_ease.py"), mls_train, "4", "auto", "--recommend"], env=env)
                      for _ in range(runs)]
            raw["serving ease"]["peer"] = served
            peer_rate, peer_name = f"{median_rate(served, 'users', 'recommend_seconds')[0]:.0f}", "NumPy/SciPy x·B, float32 B"
        rows.append(["ml-latest-small, all users", f"top-10 serving from a saved {model} model", "users/s",
                     f"{rate:.0f}", peer_rate, peer_name, "–", "–"])

    # 6. Scale.
    if a.scale:
        out = subprocess.run(["/usr/bin/time", "-v", BRAID, "train", "--train", "synth:users=1000000,items=200000,interactions=50000000",
                              "--model", "als", "--param", "factors=64", "--param", "iterations=15", "--out", os.path.join(a.out, "scale.braid"), "--json"],
                             check=True, capture_output=True, text=True)
        fit = json.loads(out.stdout)["fit_seconds"]
        rss = [l for l in out.stderr.splitlines() if "Maximum resident" in l][0].split()[-1]
        rows.append(["synthetic 1M×200k, ~50M", "ALS fit, 64 factors, 15 iterations", "fit s / peak RSS",
                     f"{fit:.1f} s / {int(rss) / 1048576:.2f} GiB", "–", "–", f"{fit:.1f}", "–"])

    # 7. Text encoder and content models.
    titles, passages, first = (os.path.join(a.out, n) for n in ("titles.txt", "passages.txt", "titles-2000.txt"))
    import csv, random
    movies = list(csv.reader(open(os.path.join(mls_dir, "movies.csv"), encoding="utf-8")))[1:]
    lines = [f"{m[1]} {m[2].replace('|', ' ')}" for m in movies]
    open(titles, "w").write("\n".join(lines) + "\n")
    open(first, "w").write("\n".join(lines[:2000]) + "\n")
    rng = random.Random(1)
    long_texts = []
    for _ in range(200):
        words = []
        while len(words) < 400: words += rng.choice(lines).split()
        long_texts.append(" ".join(words))
    open(passages, "w").write("\n".join(long_texts) + "\n")
    def embed_rate(path):
        out = subprocess.run([BRAID, "embed", "--input", path, "--no-cache"], check=True, capture_output=True, text=True)
        line = [l for l in out.stderr.splitlines() if l.startswith("encoded")][0]
        return int(line.split()[1]), float(line.split()[4])
    n_all, s_all = embed_rate(titles)
    n_first, s_first = embed_rate(first)
    model_dir = text_model_directory()
    numpy_text = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "numpy_minilm.py"), model_dir, first], env=env)
    rows.append(["ml-latest-small titles + genres", f"text encoder, all {n_all} titles", "texts/s", f"{n_all / s_all:.0f}", "–", "–", f"{s_all:.2f}", "–"])
    rows.append(["ml-latest-small titles + genres", "text encoder, first 2,000 titles", "texts/s", f"{n_first / s_first:.0f}",
                 f"{numpy_text['texts_per_second']:.0f}", "NumPy float32 MiniLM", f"{s_first:.2f}", f"{numpy_text['seconds']:.2f}"])
    n_long, s_long = embed_rate(passages)
    peak = json.loads(subprocess.run([sys.executable, "-c", "import numpy as np, time, json\n"
                                      "a=np.random.rand(4096,4096).astype(np.float32); b=a.copy(); a@b\n"
                                      "t=time.perf_counter()\nfor _ in range(3): a@b\n"
                                      "print(json.dumps(2*4096**3/((time.perf_counter()-t)/3)/1e9))"],
                                     check=True, capture_output=True, text=True, env=env).stdout)
    gflops = n_long * 256 * 21e6 / s_long / 1e9
    rows.append(["200 passages of 256 tokens", "text encoder throughput (21 MFLOP/token)", "GFLOP/s",
                 f"{gflops:.1f} ({100 * gflops / peak:.0f}% of peak)", f"{peak:.0f}", "sgemm peak (NumPy, 4096², 2 threads)", f"{s_long:.2f}", "–"])
    cold = braid("evaluate", "--data", mls, "--split", "cold-items", "--ratio", "0.9", "--cold-minimum", "5", "--cold-minimum-value", "4",
                 "--seed", "1", "--threshold", "4", "--protocol", "cold-items", "--items", os.path.join(mls_dir, "movies.csv"),
                 "--model", "random,content-attributes,content-tfidf,content-bm25,content-dense")
    for result in cold["results"]:
        rows.append(["ml-latest-small, 10% cold items", f"{result['model']} among cold items", "NDCG@10",
                     f"{result['metrics']['ndcg@10']:.4f}", "–", "–", f"{result['fit_seconds']:.2f}", "–"])

    # 7b. Cold start from titles and genres only (no users' tags): the hybrid (content mapped
    # into ALS's item space) against pure content models and LightFM's hybrid, same split files.
    cold_train, cold_test = os.path.join(a.out, "cold.train.tsv"), os.path.join(a.out, "cold.test.tsv")
    subprocess.run([BRAID, "split", "--data", mls, "--split", "cold-items", "--ratio", "0.9", "--cold-minimum", "5",
                    "--cold-minimum-value", "4", "--seed", "1", "--train-out", cold_train, "--test-out", cold_test], check=True, capture_output=True)
    per_user = os.path.join(a.out, "cold-hybrid.jsonl")
    if os.path.exists(per_user): os.remove(per_user)
    hy = braid("evaluate", "--train", cold_train, "--test", cold_test, "--threshold", "4", "--protocol", "cold-items",
               "--items", os.path.join(tg_dir, "movies.csv"), "--model", "random,content-tfidf,content-bm25,hybrid,twotower", "--per-user", per_user)
    cmp = braid("compare", per_user, per_user, "--model-a", "hybrid", "--model-b", "content-bm25", "--metric", "ndcg@10")["metrics"]["ndcg@10"]
    cmp_tt = braid("compare", per_user, per_user, "--model-a", "twotower", "--model-b", "content-bm25", "--metric", "ndcg@10")["metrics"]["ndcg@10"]
    lfm = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "lightfm_cold.py"), cold_train, cold_test,
                    os.path.join(tg_dir, "movies.csv"), "--loss", "warp"])
    raw["cold titles-genres"] = {"braid": hy, "compare": cmp, "compare twotower": cmp_tt, "lightfm": lfm}
    def against_bm25(c):
        return f"vs content-bm25 {c['difference']:+.4f}, 95% CI [{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]"
    for result in hy["results"]:
        is_hybrid = result["model"] == "hybrid"
        label = {"hybrid": f"hybrid (ALS 64 at a constant λ + BM25 ridge map; warm items by the default ALS) among cold items; {against_bm25(cmp)}",
                 "twotower": f"twotower (ridge map into the item tower's space) among cold items; {against_bm25(cmp_tt)}"
                 }.get(result["model"], f"{result['model']} among cold items")
        rows.append(["ml-latest-small, 10% cold items, titles + genres only", label, "NDCG@10", f"{result['metrics']['ndcg@10']:.4f}",
                     f"{lfm['metrics']['ndcg@10']:.4f}" if is_hybrid else "–", "LightFM 1.17 WARP, title words + genres + identity" if is_hybrid else "–",
                     f"{result['fit_seconds']:.2f}", f"{lfm['fit_seconds']:.2f}" if is_hybrid else "–"])

    # 7c. Warm and cold items in one list (`--protocol mixed`): the same cold items held out
    # whole, and 20% of each user's other interactions; the hybrid beside ALS (which leaves cold
    # items out), BM25 and LightFM's hybrid scoring both kinds, same split files.
    mixed_train, mixed_test = os.path.join(a.out, "mixed.train.tsv"), os.path.join(a.out, "mixed.test.tsv")
    subprocess.run([BRAID, "split", "--data", mls, "--split", "cold-items", "--ratio", "0.9", "--warm-ratio", "0.8", "--cold-minimum", "5",
                    "--cold-minimum-value", "4", "--seed", "1", "--train-out", mixed_train, "--test-out", mixed_test], check=True, capture_output=True)
    mixed = braid("evaluate", "--train", mixed_train, "--test", mixed_test, "--threshold", "4", "--protocol", "mixed",
                  "--items", os.path.join(tg_dir, "movies.csv"), "--model", "als,content-bm25,hybrid,fusion")
    lfm_mixed = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "lightfm_cold.py"), mixed_train, mixed_test,
                          os.path.join(tg_dir, "movies.csv"), "--loss", "warp", "--mixed"])
    raw["mixed warm and cold"] = {"braid": mixed, "lightfm": lfm_mixed}
    for result in mixed["results"]:
        is_hybrid = result["model"] == "hybrid"
        m = result["metrics"]
        rows.append(["ml-latest-small, warm + 10% cold items in one list, titles + genres only",
                     f"{result['model']} (cold items {100 * m['cold-share@10']:.2f}% of list places)", "NDCG@10", f"{m['ndcg@10']:.4f}",
                     f"{lfm_mixed['metrics']['ndcg@10']:.4f}" if is_hybrid else "–",
                     f"LightFM 1.17 WARP (cold items {100 * lfm_mixed['metrics']['cold-share@10']:.2f}% of places)" if is_hybrid else "–",
                     f"{result['fit_seconds']:.2f}", f"{lfm_mixed['fit_seconds']:.2f}" if is_hybrid else "–"])

    # 7d. New users known by their attributes (ml-100k's u.user), against popularity and
    # LightFM with the same attributes as user features, same files (new_users.py).
    new_user_rows, raw["new users"] = new_users.measure(ml, a.out)
    rows += new_user_rows
    # 7e. Cold items from MiniLM embeddings of their titles and genres (`--item-vectors text`),
    # the hybrid against BM25 and LightFM with the same embeddings (cold_vectors.py).
    vector_rows, raw["cold vectors"] = cold_vectors.measure(mls_dir, a.out)
    rows += vector_rows

    # 8. `braid create`: one command from data to a model, on the training part of the temporal
    # 80/20 split of ml-latest-small (titles and genres), 120 s budget; the model it chose is then
    # fitted and scored on the untouched test part at >= 4 stars beside every family at its defaults.
    tr, te = temporal["ml-latest-small"]
    started = time.time()
    created = braid("create", "--data", tr, "--items", os.path.join(tg_dir, "movies.csv"), "--out", os.path.join(a.out, "created.braid"),
                    "--budget", "120", "--report", os.path.join(a.out, "created.html"), "--threads", "2")
    create_seconds = time.time() - started
    chosen = [arg for k, v in sorted(created["parameters"].items()) for arg in ("--param", f"{created['model']}.{k}={v}")]
    families = ["pop", "itemknn", "userknn", "rp3beta", "gfcf", "adjacency", "adjacency(half-life=10)", "ease", "als", "bpr", "content-bm25", "hybrid"]
    default_run = braid("evaluate", "--train", tr, "--test", te, "--threshold", "4", "--items", os.path.join(tg_dir, "movies.csv"),
                        "--model", ",".join(families))
    chosen_run = braid("evaluate", "--train", tr, "--test", te, "--threshold", "4", "--items", os.path.join(tg_dir, "movies.csv"),
                       "--model", created["model"], *chosen)
    best_default = max(default_run["results"], key=lambda r: r["metrics"]["ndcg@10"])
    chosen_result = chosen_run["results"][0] if "results" in chosen_run else chosen_run  # one model: a flat object
    raw["create"] = {"create": created, "wall_seconds": create_seconds, "defaults": default_run, "chosen": chosen_run}
    described = ", ".join(f"{k}={v}" for k, v in sorted(created["parameters"].items()))
    rows.append(["ml-latest-small temporal 80/20, ≥4★ test", f"braid create --budget 120 (chose {created['model']} {described}; "
                 f"{create_seconds:.1f} s wall); peer column: best family at defaults, {best_default['model']}", "NDCG@10",
                 f"{chosen_result['metrics']['ndcg@10']:.4f}", f"{best_default['metrics']['ndcg@10']:.4f}",
                 f"Braid {best_default['model']} (defaults)", f"{create_seconds:.1f}", f"{best_default['fit_seconds']:.2f}"])

    # 9. Raw counts: the data-aware defaults and the fusion on Debian uploads.
    uploads = os.path.join(a.out, "debian-uploads.csv")
    if not os.path.exists(uploads):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench", "debian_uploads.py"), "--out", uploads,
                        "--cache", os.path.join(a.out, "debian-changelogs")], check=True)
    count_rows, raw["counts"] = counts.measure(uploads, os.path.join(a.out, "counts"))
    rows += count_rows

    header = ["data", "model", "metric", "Braid", "peer", "peer model", "Braid fit s", "peer fit s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    open(os.path.join(a.out, "results.md"), "w").write(table + "\n")
    json.dump(raw, open(os.path.join(a.out, "results.json"), "w"), indent=1)
    print(table)


if __name__ == "__main__":
    main()
