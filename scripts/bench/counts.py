#!/usr/bin/env python3
"""Braid on a raw-count dataset: the data-aware defaults against tuned settings, and the fusion
against its best member, with implicit's ALS beside them on the same files.

Usage: scripts/bench/counts.py [--data FILE] [--out DIR] [--samples N]
Needs a release build (.build/release/braid) and `python3 -m pip install implicit`.
FILE defaults to bench-out/debian-uploads.csv, built by scripts/bench/debian_uploads.py
(user,item,count,timestamp: uploads per person and Debian source package).

Protocol (the README's top-N protocol, without a threshold: every held-out pair is relevant,
whatever its count): a per-user 80/20 random split (seed 1) and a per-user temporal 80/20
split (each person's latest 20% of packages by first upload).
1. Defaults against tuning. Each implicit model is tuned with `braid tune` (random search, N
   samples, over its parameters and how it reads the values) on a validation split carved from
   the random split's training part alone; the best setting and the defaults are then fitted on
   the whole training part and scored on the test part. Target: defaults within 10% of tuned.
2. The fusion (default members) against the best single model at its defaults on both splits,
   paired per user with a bootstrap interval (`braid compare`).
3. implicit's ALS (c = α·r, α = 1, the same 64 factors, 15 iterations) on the same files; its
   confidence is linear in the raw counts, which Braid's data-aware default logs.
"""
import argparse, json, os, subprocess, sys

from common import BRAID, ROOT, braid, fusion_against_best, peer

# Each model's search space: its own parameters and, where it reads values, how.
SPACES = {
    "itemknn": ["neighbors=10:500:int:log", "value-transform=none,log"],
    "userknn": ["neighbors=10:300:int:log", "value-transform=none,log"],
    "rp3beta": ["alpha=0.3:1.5", "beta=0:1", "neighbors=50:500:int:log"],
    "adjacency": ["window=1:20:int:log", "alpha=0.2:1", "half-life=0:30"],
    "ease": ["lambda=5:3000:log", "binarize=true,false"],
    "als": ["factors=16:128:int:log", "regularization=0.001:1:log", "alpha=0.1:30:log", "confidence=linear,log"],
    "bpr": ["factors=16:128:int:log", "learning-rate=0.003:0.05:log", "regularization=0.0005:0.05:log", "iterations=100:3000:int:log"],
}


# Every model on the fusion splits: the fusion is compared with the best of the others, its
# adjacency members alone among them.
MODELS = ["pop", "itemknn", "userknn", "rp3beta", "gfcf", "gfcf(linear=false)", "adjacency", "adjacency(half-life=10)", "ease", "als", "bpr", "fusion"]


def split(data, method, train, test):
    subprocess.run([BRAID, "split", "--data", data, "--split", method, "--ratio", "0.8", "--seed", "1",
                    "--train-out", train, "--test-out", test], check=True, capture_output=True)


def params(setting):
    return [x for key, value in sorted(setting.items()) for x in ("--param", f"{key}={value}")]


def short(value):
    """A tuned value for the table: decimals to three significant digits, anything else as it is."""
    try:
        return f"{float(value):.3g}" if "." in value else value
    except ValueError:
        return value


def measure(data, out, samples=24):
    """Runs the protocol above on `data`, writing its files under `out`. Returns the rows for
    run.py's table (data, model, metric, Braid, peer, peer model, Braid fit s, peer fit s) and
    the raw JSON of every run."""
    os.makedirs(out, exist_ok=True)
    f = lambda name: os.path.join(out, name)
    info = braid("info", data)
    split(data, "user-ratio", f("random.train.csv"), f("random.test.csv"))
    split(data, "user-time", f("temporal.train.csv"), f("temporal.test.csv"))
    split(f("random.train.csv"), "user-ratio", f("dev.train.csv"), f("dev.test.csv"))
    label = f"Debian uploads ({info['users']} people × {info['items']} packages, counts), %s 80/20"
    rows, raw = [], {"info": info}

    # 1. Defaults against the best setting tuned on the validation split.
    for model, space in SPACES.items():
        tuned = braid("tune", "--train", f("dev.train.csv"), "--test", f("dev.test.csv"), "--model", model,
                      *[x for s in space for x in ("--space", s)], "--samples", str(samples), "--seed", "1")
        best = tuned["best"]["parameters"]
        default = braid("evaluate", "--train", f("random.train.csv"), "--test", f("random.test.csv"), "--model", model)
        chosen = braid("evaluate", "--train", f("random.train.csv"), "--test", f("random.test.csv"), "--model", model, *params(best))
        d, t = default["metrics"]["ndcg@10"], chosen["metrics"]["ndcg@10"]
        raw[f"defaults {model}"] = {"tune": tuned, "default": default, "tuned": chosen}
        setting = " ".join(f"{k}={short(v)}" for k, v in sorted(best.items()))
        ratio = f"{d / t:.3f}" if t > 0 else "–"
        rows.append([label % "random", f"{model} at its defaults; peer column: tuned on a validation split of the training part "
                     f"({samples} samples: {setting}); defaults/tuned {ratio}", "NDCG@10",
                     f"{d:.4f}", f"{t:.4f}", f"Braid {model}, tuned", f"{default['fit_seconds']:.2f}", f"{chosen['fit_seconds']:.2f}"])
        print(" | ".join(rows[-1]), file=sys.stderr)

    # 2. The fusion against its best member, paired per user, and implicit's ALS.
    # The fusion's inner split mirrors each test's (`validation=auto`): random folds, then time.
    for name in ("random", "temporal"):
        result, fusion, member, compared = fusion_against_best(f(f"{name}.train.csv"), f(f"{name}.test.csv"), MODELS, [],
                                                                f(f"fusion-{name}.jsonl"))
        c = compared["metrics"]["ndcg@10"]
        by_model = {r["model"]: r for r in result["results"]}
        best = member["model"]
        implicit = peer("--train", f(f"{name}.train.csv"), "--test", f(f"{name}.test.csv"), "--model", "als")
        raw[f"fusion {name}"] = {"braid": result, "compare": compared, "implicit als": implicit}
        rows.append([label % name, f"fusion (default members) against the best single model, {best}: difference "
                     f"{c['difference']:+.4f}, 95% CI [{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]", "NDCG@10",
                     f"{fusion['metrics']['ndcg@10']:.4f}", f"{member['metrics']['ndcg@10']:.4f}", f"Braid {best} (defaults)",
                     f"{fusion['fit_seconds']:.2f}", f"{member['fit_seconds']:.2f}"])
        als = by_model["als"]
        rows.append([label % name, "ALS at its defaults (c = 1 + r, 100 factors, weighted λ 0.2 per interaction); peer: implicit ALS at peers.py's "
                     "(64 factors, constant λ 0.05, c = r)", "NDCG@10", f"{als['metrics']['ndcg@10']:.4f}", f"{implicit['metrics']['ndcg@10']:.4f}",
                     "implicit ALS", f"{als['fit_seconds']:.2f}", f"{implicit['fit_seconds']:.2f}"])
        others = ", ".join(f"{m} {by_model[m]['metrics']['ndcg@10']:.4f}" for m in MODELS if m != "fusion")
        print(name, others, file=sys.stderr)
        raw[f"fusion {name}"]["summary"] = others
    return rows, raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "bench-out", "debian-uploads.csv"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out", "counts"))
    ap.add_argument("--samples", type=int, default=24)
    a = ap.parse_args()
    rows, raw = measure(a.data, a.out, a.samples)
    with open(os.path.join(a.out, "results.json"), "w") as out:
        json.dump(raw, out, indent=1)
    header = ["data", "model", "metric", "Braid", "peer", "peer model", "Braid fit s", "peer fit s"]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    for name in ("random", "temporal"):
        print(f"{name}: {raw[f'fusion {name}']['summary']}")


if __name__ == "__main__":
    main()
