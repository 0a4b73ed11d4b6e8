#!/usr/bin/env python3
"""Braid's text encoder beside sentence-transformers itself (PyTorch), on the same texts in the
same run: how far apart the vectors are, text by text, and how fast each encodes.

  PYTHON_WITH_ST=/path/to/python sentence_transformers_peer.py MODEL_DIR TEXTS.jsonl [--threads 2] [--batch 32]

TEXTS.jsonl holds one {"text": ...} per line (JSON, so that any character survives, line
separators included). Braid runs as `braid embed --input TEXTS.jsonl --no-cache --json` (BRAID_BIN
or .build/release/braid); sentence-transformers runs in the Python given by PYTHON_WITH_ST (or
this one), which must have `sentence-transformers` and `torch` installed
(`pip install sentence-transformers`), with torch held to --threads threads as Braid is.
Prints JSON: each side's seconds and texts per second (the model loaded before the clock
starts, on both sides), and the agreement: the largest absolute difference of any value, the
smallest cosine, how many texts fall below a cosine of 0.9999, and the texts furthest apart."""
import argparse, json, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BRAID, run_json

PEER = r"""
import json, sys, time, torch, numpy as np
from sentence_transformers import SentenceTransformer
import sentence_transformers, transformers
model_dir, texts_path, threads, batch, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)
texts = [json.loads(line)["text"] for line in open(texts_path, encoding="utf-8") if line.strip()]
model = SentenceTransformer(model_dir, device="cpu")
model.encode(texts[:batch], batch_size=batch)  # warm-up, as Braid's model is loaded before its clock
t0 = time.perf_counter()
vectors = model.encode(texts, batch_size=batch, convert_to_numpy=True)
seconds = time.perf_counter() - t0
np.save(out, vectors.astype(np.float32))
print(json.dumps({"peer": f"sentence-transformers {sentence_transformers.__version__} (transformers {transformers.__version__}, torch {torch.__version__})",
                  "texts": len(texts), "seconds": seconds, "texts_per_second": len(texts) / seconds,
                  "tokens": [model.tokenizer(t, truncation=True, max_length=model.max_seq_length)["input_ids"] for t in texts]}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model"); ap.add_argument("texts")
    ap.add_argument("--threads", type=int, default=2); ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--worst", type=int, default=10)
    a = ap.parse_args()
    import numpy as np

    texts = [json.loads(line)["text"] for line in open(a.texts, encoding="utf-8") if line.strip()]
    env = dict(os.environ, BRAID_THREADS=str(a.threads), OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    t0 = time.perf_counter()
    ours = subprocess.run([BRAID, "embed", "--text-model", a.model, "--input", a.texts, "--no-cache", "--json"],
                          capture_output=True, text=True, env=env)
    if ours.returncode != 0:
        sys.exit(f"braid embed failed:\n{ours.stderr}")
    braid_wall = time.perf_counter() - t0
    line = [l for l in ours.stderr.splitlines() if l.startswith("encoded")][0]
    braid_seconds = float(line.split()[4])
    braid_vectors = np.array(json.loads(ours.stdout)["embeddings"], dtype=np.float64)

    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "peer.npy")
        python = os.environ.get("PYTHON_WITH_ST", sys.executable)
        peer = run_json([python, "-c", PEER, a.model, a.texts, str(a.threads), str(a.batch), out], env=env)
        peer_vectors = np.load(out).astype(np.float64)

    if braid_vectors.shape != peer_vectors.shape:
        sys.exit(f"the two gave {braid_vectors.shape} and {peer_vectors.shape} values")
    cosines = (braid_vectors * peer_vectors).sum(1) / (np.linalg.norm(braid_vectors, axis=1) * np.linalg.norm(peer_vectors, axis=1))
    differences = np.abs(braid_vectors - peer_vectors).max(1)
    order = np.argsort(cosines)
    print(json.dumps({
        "texts": len(texts), "threads": a.threads, "batch": a.batch,
        "braid": {"seconds": braid_seconds, "texts_per_second": len(texts) / braid_seconds, "wall_seconds_with_load_and_json": braid_wall},
        "peer": {k: v for k, v in peer.items() if k != "tokens"},
        "largest_absolute_difference": float(differences.max()),
        "median_absolute_difference": float(np.median(differences)),
        "smallest_cosine": float(cosines.min()),
        "texts_below_cosine_0.9999": int((cosines < 0.9999).sum()),
        "furthest": [{"text": texts[i][:120], "cosine": float(cosines[i]), "largest_difference": float(differences[i]),
                      "peer_tokens": peer["tokens"][i][:40]} for i in order[: a.worst]],
    }, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
