#!/usr/bin/env python3
"""Braid beside LensKit (lkpy) on the same split files, in one run: popularity, item and user
kNN, EASE and implicit ALS, each pair once with the same settings (the same definition: Braid's
kNN with `neighborhood=per-item`) and once at each library's defaults. The benchmark's protocol: ml-100k and
ml-latest-small, each user's ratings split 80/20 at random (seed 1), ratings of 4★ and up as
positives; LensKit's lists are scored by ../shared/tools/peers.py's metric code, the definitions
Braid's evaluator documents.

  PYTHON_WITH_LENSKIT=/path/to/python lenskit_compare.py [--datasets ../shared/datasets] [--out bench-out/lenskit]

Prints a Markdown table and writes results.json into --out."""
import argparse, json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BRAID, ROOT, braid, run_json

LENSKIT = os.path.join(ROOT, "scripts", "bench", "lenskit_peer.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "lenskit"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = dict(os.environ, BRAID_THREADS="2")
    sources = {"ml-100k": os.path.join(a.datasets, "ml-100k", "u.data"),
               "ml-latest-small": os.path.join(ROOT, "Sources", "BraidDemoData", "Resources", "ml-latest-small", "ratings.csv")}
    rows, raw = [], {}
    for name, source in sources.items():
        train, test = os.path.join(a.out, f"{name}.train.tsv"), os.path.join(a.out, f"{name}.test.tsv")
        subprocess.run([BRAID, "split", "--data", source, "--split", "user-ratio", "--ratio", "0.8", "--seed", "1",
                        "--train-out", train, "--test-out", test], check=True, capture_output=True)
        model = os.path.join(a.out, f"{name}.ease.braid")
        subprocess.run([BRAID, "train", "--train", train, "--threshold", "4", "--model", "ease", "--out", model], check=True, capture_output=True, env=env)
        lam = braid("info", model)["configuration"]["lambda"]
        als = "als(factors=50,regularization-scaling=none,regularization=0.1,alpha=40,iterations=10,solver=cholesky)"
        pairs = [
            ("popularity", "pop", ["--model", "pop"]),
            ("item kNN as LensKit defines it: cosine, each candidate's 20 nearest in the history, every similarity kept",
             "itemknn(neighbors=20,neighborhood=per-item,saved-neighbors=0)", ["--model", "itemknn"]),
            ("user kNN as LensKit defines it: cosine, the 20 nearest users who have the candidate, every similarity kept",
             "userknn(neighbors=20,neighborhood=per-item,saved-neighbors=0)", ["--model", "userknn"]),
            ("item kNN, 20 neighbours, Braid's fixed neighbourhoods (each history item's 20 nearest)", "itemknn(neighbors=20)", ["--model", "itemknn"]),
            ("user kNN, 20 neighbours, Braid's fixed neighbourhoods (the user's 20 nearest)", "userknn(neighbors=20)", ["--model", "userknn"]),
            (f"EASE, λ = {lam:.1f} both (Braid's rule)", "ease", ["--model", "ease", "--param", f"regularization={lam}"]),
            ("implicit ALS, one objective: 50 factors, λ 0.1 on every row, confidence 1 + 40, 10 sweeps, Cholesky", als,
             ["--model", "implicit-mf"]),
            ("item kNN, each at its defaults (Braid 40 neighbours, LensKit 20)", "itemknn", ["--model", "itemknn"]),
            ("user kNN, each at its defaults (Braid 40, LensKit 20)", "userknn", ["--model", "userknn"]),
            ("EASE, each at its defaults (Braid's λ rule, LensKit λ = 1)", "ease", ["--model", "ease"]),
            ("implicit ALS, each at its defaults", "als", ["--model", "implicit-mf"]),
        ]
        for label, ours, theirs in pairs:
            b = run_json([BRAID, "evaluate", "--train", train, "--test", test, "--threshold", "4", "--model", ours, "--json"], env=env)
            p = run_json([sys.executable, LENSKIT, "--train", train, "--test", test, "--threshold", "4", *theirs])
            raw[f"{name} {label}"] = {"braid": b, "lenskit": p}
            rows.append([name, label, f"{b['metrics']['ndcg@10']:.4f}", f"{p['metrics']['ndcg@10']:.4f}",
                         f"{b['fit_seconds']:.3f} + {b['evaluate_seconds']:.2f}", f"{p['fit_seconds']:.3f} + {p['scoring_seconds']:.2f}",
                         f"{b['users_evaluated']} / {p['users_evaluated']}"])
            print(" | ".join(rows[-1]), file=sys.stderr)
    version = next(iter(raw.values()))["lenskit"]["peer"].split()[1]
    print(f"| data | model | Braid NDCG@10 | LensKit {version} NDCG@10 | Braid fit + lists s | LensKit fit + lists s | users Braid / LensKit |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
