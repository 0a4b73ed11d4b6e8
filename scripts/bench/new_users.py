#!/usr/bin/env python3
"""New users known by their attributes: Braid's popularity among users who share them against
popularity and LightFM with the same attributes as user features, on the same files; then their
first clicks given (`--new-user-history 1` and `3`), folded in and leaning on that list, against
LightFM refitted with them.

Usage: scripts/bench/new_users.py [--datasets DIR] [--out DIR]
Needs a release build (.build/release/braid) and LightFM (scripts/bench/install_lightfm.sh).

Protocol (the README's `--protocol new-users`): ml-100k's users split by `braid split --split
new-users --ratio 0.9 --seed 1` (10% of the users held out whole); training positives are the
ratings >= 4; each held-out user with a test positive is ranked over every item with training
positives and scored on all their test positives (NDCG@10). Braid's popularity without and
with `--user-attributes u.user`, paired per user with a bootstrap interval (`braid compare`);
LightFM (WARP, 64 components, 30 epochs, the same tokens as user features plus an identity
feature per training user) under three seeds, as its Hogwild training varies from run to run.
"""
import argparse, json, os, subprocess, sys

from common import BRAID, ROOT, braid, run_json


def measure(ml, out):
    """Runs the protocol above on the ml-100k directory `ml`, writing its files under `out`.
    Returns the rows for run.py's table and the raw JSON of every run."""
    os.makedirs(out, exist_ok=True)
    f = lambda name: os.path.join(out, name)
    subprocess.run([BRAID, "split", "--data", os.path.join(ml, "u.data"), "--split", "new-users", "--ratio", "0.9", "--seed", "1",
                    "--train-out", f("new-users.train.tsv"), "--test-out", f("new-users.test.tsv")], check=True, capture_output=True)
    common = ["--train", f("new-users.train.tsv"), "--test", f("new-users.test.tsv"), "--threshold", "4", "--protocol", "new-users", "--model", "pop"]
    plain = braid("evaluate", *common, "--per-user", f("new-users-pop.jsonl"))
    described = braid("evaluate", *common, "--user-attributes", os.path.join(ml, "u.user"), "--per-user", f("new-users-attributes.jsonl"))
    compared = braid("compare", f("new-users-attributes.jsonl"), f("new-users-pop.jsonl"), "--model-a", "pop", "--model-b", "pop", "--metric", "ndcg@10")
    lightfm = [run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "lightfm_new_users.py"), f("new-users.train.tsv"),
                         f("new-users.test.tsv"), os.path.join(ml, "u.user"), "--seed", str(seed)]) for seed in (1, 2, 3)]
    scores = [r["metrics"]["ndcg@10"] for r in lightfm]
    ndcg = lambda r: r["metrics"]["ndcg@10"]
    c = compared["metrics"]["ndcg@10"]
    label = (f"popularity among the training users who share the new user's u.user attributes (gender, occupation, zip code, age in "
             f"five bins; {described['users_evaluated']} new users); against popularity {ndcg(plain):.4f}: difference "
             f"{c['difference']:+.4f}, 95% CI [{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]")
    peer_name = (f"LightFM 1.17 WARP, the same attributes as user features (+ identity), seeds 1–3: "
                 f"{' / '.join(f'{s:.4f}' for s in scores)}")
    rows = [["ml-100k, 10% of users held out whole (new users), ≥4★", label, "NDCG@10", f"{ndcg(described):.4f}",
             f"{sum(scores) / len(scores):.4f}", peer_name, f"{described['fit_seconds']:.2f}",
             f"{sum(r['fit_seconds'] for r in lightfm) / len(lightfm):.2f}"]]
    raw = {"popularity": plain, "attributes": described, "compare": compared, "lightfm": lightfm}
    # Their first clicks: the first K test rows given, folded in and leaning on the attributes'
    # list (`--history-prior`, default) or not (off), or that list alone (a weight of 1000: the
    # fold-in only breaks its ties); LightFM refitted with the given rows.
    attributes = ["--user-attributes", os.path.join(ml, "u.user")]
    for k in (1, 3):
        base, tail = common[:-2], ["--new-user-history", str(k), *attributes]
        given = base + ["--model", "itemknn,ease,als,fusion"] + tail
        leaning = braid("evaluate", *given, "--per-user", f(f"new-users-k{k}-prior.jsonl"))
        alone = braid("evaluate", *given, "--history-prior", "off", "--per-user", f(f"new-users-k{k}-off.jsonl"))
        listed = braid("evaluate", *base, "--model", "pop", *tail, "--history-prior", "1000,10", "--per-user", f(f"new-users-k{k}-list.jsonl"))
        by = lambda run: {r["model"]: ndcg(r) for r in run["results"]}
        best = max(by(leaning).items(), key=lambda x: x[1])[0]
        against_off = braid("compare", f(f"new-users-k{k}-prior.jsonl"), f(f"new-users-k{k}-off.jsonl"), "--model-a", best, "--model-b", best, "--metric", "ndcg@10")
        against_list = braid("compare", f(f"new-users-k{k}-prior.jsonl"), f(f"new-users-k{k}-list.jsonl"), "--model-a", best, "--model-b", "pop", "--metric", "ndcg@10")
        peers = [run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "lightfm_new_users.py"), f("new-users.train.tsv"),
                           f("new-users.test.tsv"), os.path.join(ml, "u.user"), "--given", str(k), "--seed", str(seed)]) for seed in (1, 2, 3)]
        peer_scores = [r["metrics"]["ndcg@10"] for r in peers]
        lean, off, alone_list = by(leaning), by(alone), ndcg(listed.get("results", [listed])[0])
        o, l = against_off["metrics"]["ndcg@10"], against_list["metrics"]["ndcg@10"]
        label = (f"new users' first {k} test interaction(s) folded in, leaning on the attributes' list (`--history-prior 4,10`), best of "
                 f"{', '.join(f'{m} {v:.4f}' for m, v in lean.items())}; without the prior "
                 f"{', '.join(f'{m} {v:.4f}' for m, v in off.items())} ({best}: {o['difference']:+.4f}, CI [{o['ci95'][0]:+.4f}, {o['ci95'][1]:+.4f}]); "
                 f"the attributes' list alone {alone_list:.4f} ({l['difference']:+.4f}, CI [{l['ci95'][0]:+.4f}, {l['ci95'][1]:+.4f}])")
        peer_label = f"LightFM WARP refitted with the given rows, user features + identity, seeds 1–3: {' / '.join(f'{x:.4f}' for x in peer_scores)}"
        fit = next(r for r in leaning["results"] if r["model"] == best)["fit_seconds"]
        rows.append([f"ml-100k new users, first {k} click(s) given, ≥4★", label, "NDCG@10", f"{lean[best]:.4f}",
                     f"{sum(peer_scores) / 3:.4f}", peer_label, f"{fit:.2f}", f"{sum(r['fit_seconds'] for r in peers) / 3:.2f}"])
        raw[f"given {k}"] = {"prior": leaning, "off": alone, "list": listed, "compare_off": against_off, "compare_list": against_list, "lightfm": peers}
    return rows, raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    a = ap.parse_args()
    rows, raw = measure(os.path.join(a.datasets, "ml-100k"), a.out)
    for row in rows: print("| " + " | ".join(row) + " |")
    json.dump(raw, open(os.path.join(a.out, "new-users.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
