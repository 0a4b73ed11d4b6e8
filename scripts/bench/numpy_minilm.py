#!/usr/bin/env python3
"""A batched float32 NumPy implementation of all-MiniLM-L6-v2 (BERT tokenizer, 6-layer encoder,
mean pooling, L2 normalization), the peer for `braid embed`. Usage:
  OPENBLAS_NUM_THREADS=2 numpy_minilm.py MODEL_DIR TEXT_FILE [--limit N] [--batch 32]
Prints JSON: texts per second, and the model-card similarities as a correctness check."""
import argparse, json, math, struct, time, unicodedata
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("model"); ap.add_argument("texts"); ap.add_argument("--limit", type=int, default=2000)
ap.add_argument("--batch", type=int, default=32)
a = ap.parse_args()

with open(f"{a.model}/model.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); blob = f.read()
W = {k: np.frombuffer(blob[v["data_offsets"][0]:v["data_offsets"][1]], dtype=np.float32).reshape(v["shape"])
     for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32"}
vocab = {t: i for i, t in enumerate(open(f"{a.model}/vocab.txt", encoding="utf-8").read().split("\n"))}

def is_punct(c):
    o = ord(c)
    return 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126 or unicodedata.category(c).startswith("P")

def tokenize(text, max_len=256):
    out = []
    text = "".join(" " if c.isspace() else c for c in text if not (unicodedata.category(c) in ("Cc", "Cf") and c not in "\t\n\r"))
    text = "".join(f" {c} " if 0x4E00 <= ord(c) <= 0x9FFF else c for c in text)
    for word in text.split():
        word = "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")
        pieces, cur = [], ""
        for c in word:
            if is_punct(c):
                if cur: pieces.append(cur); cur = ""
                pieces.append(c)
            else: cur += c
        if cur: pieces.append(cur)
        for p in pieces:
            start, sub = 0, []
            while start < len(p):
                end = len(p); found = None
                while start < end:
                    s = ("##" if start else "") + p[start:end]
                    if s in vocab: found = s; break
                    end -= 1
                if found is None: sub = ["[UNK]"]; break
                sub.append(found); start = end
            out += sub
    return [vocab["[CLS]"]] + [vocab[t] for t in out[: max_len - 2]] + [vocab["[SEP]"]]

def layer_norm(x, g, b, eps=1e-12):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b

from scipy.special import erf  # vectorized, so the peer is not slowed by Python loops

def encode(batch_ids):
    L = max(len(i) for i in batch_ids); B = len(batch_ids)
    ids = np.zeros((B, L), dtype=np.int64); mask = np.zeros((B, L), dtype=np.float32)
    for r, i in enumerate(batch_ids): ids[r, :len(i)] = i; mask[r, :len(i)] = 1
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:L] + W["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    H, heads = 384, 12; d = H // heads
    bias = (1 - mask)[:, None, None, :] * -1e9
    for l in range(6):
        p = f"encoder.layer.{l}."
        q = x @ W[p + "attention.self.query.weight"].T + W[p + "attention.self.query.bias"]
        k = x @ W[p + "attention.self.key.weight"].T + W[p + "attention.self.key.bias"]
        v = x @ W[p + "attention.self.value.weight"].T + W[p + "attention.self.value.bias"]
        q, k, v = (t.reshape(B, L, heads, d).transpose(0, 2, 1, 3) for t in (q, k, v))
        s = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(d)) + bias
        s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
        c = (s @ v).transpose(0, 2, 1, 3).reshape(B, L, H)
        x = layer_norm(c @ W[p + "attention.output.dense.weight"].T + W[p + "attention.output.dense.bias"] + x,
                       W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
        h = x @ W[p + "intermediate.dense.weight"].T + W[p + "intermediate.dense.bias"]
        h = 0.5 * h * (1 + erf(h / np.float32(math.sqrt(2))))
        x = layer_norm(h @ W[p + "output.dense.weight"].T + W[p + "output.dense.bias"] + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
    e = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return e / np.linalg.norm(e, axis=1, keepdims=True)

check = encode([tokenize(t) for t in ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]])
texts = [t for t in open(a.texts, encoding="utf-8").read().split("\n") if t.strip()][: a.limit]
t0 = time.perf_counter()
ids = sorted((tokenize(t) for t in texts), key=len)
for s in range(0, len(ids), a.batch): encode(ids[s:s + a.batch])
t = time.perf_counter() - t0
print(json.dumps({"peer": "numpy-minilm", "texts": len(texts), "seconds": t, "texts_per_second": len(texts) / t,
                  "similarities": [float(check[0] @ check[1]), float(check[0] @ check[2]), float(check[1] @ check[2])]}))
