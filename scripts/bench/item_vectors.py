#!/usr/bin/env python3
"""Item vectors in JSON Lines, made from a seed: ITEMS items' vectors of DIMENSION Gaussian values
(σ 0.1) as Python's `json.dumps` writes them (17 significant digits, exponents for small values),
and 200,000 interactions over those items. Times, with Braid's binary (BRAID_BIN) on 2 threads:

- `braid train --item-vectors FILE --model pop` less the same `train` without the vectors: what
  reading, checking and storing the vectors costs;
- beside it, in the same run, Python reading the file with `json.loads` per line into NumPy
  float32 arrays, and pandas' `read_json(lines=True)` stacked into one float32 matrix.

Prints JSON. Usage: item_vectors.py WORKDIR [--items 100000] [--dimension 64]"""
import json, os, random, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BRAID, timed, workdir_arguments

a = workdir_arguments(items=100_000, dimension=64)
vectors_path, interactions_path = os.path.join(a.workdir, "vectors.jsonl"), os.path.join(a.workdir, "interactions.tsv")
rng = random.Random(5)
with open(vectors_path, "w") as f:
    for i in range(a.items):
        f.write(json.dumps({"item": f"i{i}", "vector": [rng.gauss(0, 0.1) for _ in range(a.dimension)]}) + "\n")
with open(interactions_path, "w") as f:
    for n in range(200_000):
        f.write(f"u{rng.randint(0, 49_999)}\ti{int(a.items * rng.random() ** 2)}\t1\t{1_500_000_000 + n}\n")


train = [BRAID, "train", "--train", interactions_path, "--model", "pop", "--threads", "2"]
with_vectors, _ = timed(train + ["--item-vectors", vectors_path, "--out", os.path.join(a.workdir, "with.braid")])
without, _ = timed(train + ["--out", os.path.join(a.workdir, "without.braid")])

import numpy as np
t0 = time.perf_counter()
loaded = {}
with open(vectors_path) as f:
    for line in f:
        record = json.loads(line)
        loaded[record["item"]] = np.asarray(record["vector"], dtype=np.float32)
python_seconds = time.perf_counter() - t0
import pandas as pd
t0 = time.perf_counter()
frame = pd.read_json(vectors_path, lines=True)
matrix = np.stack(frame["vector"].to_numpy()).astype(np.float32)
pandas_seconds = time.perf_counter() - t0
print(json.dumps({
    "items": a.items, "dimension": a.dimension, "file_bytes": os.path.getsize(vectors_path),
    "braid_train_seconds": {"with_vectors": round(with_vectors, 2), "without": round(without, 2),
                            "vectors": round(with_vectors - without, 2)},
    "python_json_numpy_seconds": round(python_seconds, 2), "pandas_read_json_seconds": round(pandas_seconds, 2),
    "same_shape": [len(loaded), a.dimension] == list(matrix.shape),
}, indent=2))
