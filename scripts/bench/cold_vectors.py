#!/usr/bin/env python3
"""Cold items from sentence embeddings of their titles and genres: Braid's hybrid and two-tower
model reading `--item-vectors text` (the items' texts embedded by the native MiniLM encoder)
against BM25, the hybrid over BM25, and LightFM with the same embeddings as item features, on
the benchmark's cold-item files.

Usage: scripts/bench/cold_vectors.py [--datasets DIR] [--out DIR] [--skip-lightfm]
Needs a release build, the text model (scripts/setup) and LightFM (scripts/bench/install_lightfm.sh).

Protocol (the README's `--protocol cold-items`): ml-latest-small split by `braid split --split
cold-items --ratio 0.9 --cold-minimum 5 --cold-minimum-value 4 --seed 1` (10% of the items with
at least five ≥4★ ratings held out whole); training positives are the ratings ≥ 4; each user with
training positives and a relevant cold item ranks the cold items (NDCG@10). Item text: titles and
genres only (movies.csv, no tags.csv beside it). The hybrid's regularization (5, its default) was
checked on a development split carved from the training file (`--seed 2` of it): λ = 1, 5, 20
within 0.0045. LightFM gets each item's embedding (the one Braid embeds: `braid embed` of the
same documents, "Title. Genre, Genre") as 384 dense item features beside its identity feature.
"""
import argparse, csv, json, os, shutil, subprocess, sys

from common import BRAID, ROOT, braid, run_json


def documents(movies, path):
    """Each movie's document as Braid's ItemRecord.document builds it from movies.csv (title,
    then the genres joined by ", "), one per line, and the ids in order."""
    ids = []
    with open(movies, encoding="utf-8") as f, open(path, "w") as out:
        for r in csv.DictReader(f):
            genres = [g for g in r["genres"].split("|") if g and g != "(no genres listed)"]
            out.write(r["title"] + (". " + ", ".join(genres) if genres else "") + "\n")
            ids.append(r["movieId"])
    return ids


def measure(mls, out, lightfm=True):
    os.makedirs(out, exist_ok=True)
    f = lambda name: os.path.join(out, name)
    tg = f("titles-genres")
    os.makedirs(tg, exist_ok=True)
    shutil.copy(os.path.join(mls, "movies.csv"), tg)  # no tags.csv beside it
    movies = os.path.join(tg, "movies.csv")
    subprocess.run([BRAID, "split", "--data", os.path.join(mls, "ratings.csv"), "--split", "cold-items", "--ratio", "0.9", "--cold-minimum", "5",
                    "--cold-minimum-value", "4", "--seed", "1", "--train-out", f("cold.train.tsv"), "--test-out", f("cold.test.tsv")],
                   check=True, capture_output=True)
    per_user = f("cold-vectors.jsonl")
    if os.path.exists(per_user): os.remove(per_user)
    models = "content-bm25,content-dense,hybrid(content=bm25),hybrid(content=vectors),twotower(content=vectors)"
    run = braid("evaluate", "--train", f("cold.train.tsv"), "--test", f("cold.test.tsv"), "--threshold", "4", "--protocol", "cold-items",
                "--items", movies, "--item-vectors", "text", "--model", models, "--per-user", per_user)
    compare = lambda a, b: braid("compare", per_user, per_user, "--model-a", a, "--model-b", b, "--metric", "ndcg@10")["metrics"]["ndcg@10"]
    against = {b: compare("hybrid(content=vectors)", b) for b in ("content-bm25", "hybrid(content=bm25)", "content-dense")}
    raw = {"braid": run, "compare": against}
    peer = None
    if lightfm:
        texts = f("cold-documents.txt")
        ids = documents(movies, texts)
        embedded = run_json([BRAID, "embed", "--input", texts, "--json", "--quiet"])["embeddings"]
        with open(f("cold-minilm.jsonl"), "w") as v:
            for item, vector in zip(ids, embedded): v.write(json.dumps({"item": item, "vector": vector}) + "\n")
        peer = run_json([sys.executable, os.path.join(ROOT, "scripts", "bench", "lightfm_cold.py"), f("cold.train.tsv"), f("cold.test.tsv"),
                         movies, "--vectors", f("cold-minilm.jsonl")])
        raw["lightfm"] = peer
    ndcg = {r["model"]: r["metrics"]["ndcg@10"] for r in run["results"]}
    fit = {r["model"]: r["fit_seconds"] for r in run["results"]}
    ci = lambda c: f"{c['difference']:+.4f}, 95% CI [{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]"
    label = (f"hybrid(content=vectors) with `--item-vectors text` (MiniLM embeddings of title + genres) among cold items; "
             f"vs content-bm25 {ndcg['content-bm25']:.4f}: {ci(against['content-bm25'])} ({ndcg['hybrid(content=vectors)'] / ndcg['content-bm25']:.2f}×); "
             f"vs the hybrid over BM25 {ndcg['hybrid(content=bm25)']:.4f}: {ci(against['hybrid(content=bm25)'])}; content-dense (the same vectors) {ndcg['content-dense']:.4f}; "
             f"twotower(content=vectors) {ndcg['twotower(content=vectors)']:.4f}")
    rows = [["ml-latest-small, 10% cold items, titles + genres only", label, "NDCG@10", f"{ndcg['hybrid(content=vectors)']:.4f}",
             f"{peer['metrics']['ndcg@10']:.4f}" if peer else "–",
             "LightFM 1.17 WARP, the same MiniLM embeddings as item features + identity" if peer else "–",
             f"{fit['hybrid(content=vectors)']:.2f}", f"{peer['fit_seconds']:.2f}" if peer else "–"]]
    return rows, raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(ROOT, "..", "shared", "datasets"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    ap.add_argument("--skip-lightfm", action="store_true", help="Braid's rows only (LightFM's dense fit takes minutes)")
    a = ap.parse_args()
    rows, raw = measure(os.path.join(a.datasets, "ml-latest-small"), a.out, lightfm=not a.skip_lightfm)
    for row in rows: print("| " + " | ".join(row) + " |")
    json.dump(raw, open(os.path.join(a.out, "cold-vectors.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
