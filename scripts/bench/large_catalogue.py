#!/usr/bin/env python3
"""A large synthetic catalogue, made from a seed: ITEMS items (an id, a title of two to six
invented words with a year, one to three of MovieLens' genres, a description of 10-40 words)
and INTERACTIONS interactions of 100,000 users over them (items drawn from a Pareto tail).
Times, with Braid's binary (BRAID_BIN) and 2 threads:

- `braid train --items --model pop --out`, and `braid recommend --model-file` for one user:
  reading the catalogue, saving it in the model file and loading it back (wall seconds);
- `braid train --model content-tfidf` (its fit, as Braid reports it) beside scikit-learn's
  `TfidfVectorizer.fit_transform` on the same documents, which Braid's TF-IDF matches
  (smoothed idf ln((1 + N)/(1 + df)) + 1, raw counts, rows L2-normalized). The documents are
  Braid's (`ItemRecord.document`: the title, the genres joined by ", ", the description, joined
  by ". "); scikit-learn gets Braid's stop words and a token pattern of runs of word characters,
  which on these ASCII documents gives Braid's terms (letters and digits): the script checks
  that both have the same terms and entries. scikit-learn runs on one thread, in float64.

Prints JSON. Usage: large_catalogue.py WORKDIR [--items 500000] [--interactions 2000000]"""
import csv, json, os, random, re, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BRAID, timed, workdir_arguments

GENRES = ("Action Adventure Animation Children Comedy Crime Documentary Drama Fantasy Film-Noir Horror "
          "Musical Mystery Romance Sci-Fi Thriller War Western").split()
STOP = ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
        "or", "that", "the", "to", "was", "with", "la", "le", "les", "des", "de", "der", "die", "das"]

a = workdir_arguments(items=500_000, interactions=2_000_000)
items_path, interactions_path = os.path.join(a.workdir, "items.csv"), os.path.join(a.workdir, "interactions.tsv")
rng = random.Random(1)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(50_000)]
documents = []
with open(items_path, "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["item", "title", "genres", "description"])
    for i in range(a.items):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(2, 6))).title() + f" ({rng.randint(1950, 2024)})"
        genres = rng.sample(GENRES, rng.randint(1, 3))
        description = " ".join(rng.choice(words) for _ in range(rng.randint(10, 40)))
        out.writerow([f"i{i}", title, "|".join(genres), description])
        documents.append(f"{title}. {', '.join(genres)}. {description}")
with open(interactions_path, "w") as f:
    for n in range(a.interactions):
        f.write(f"u{rng.randint(0, 99_999)}\ti{int(rng.paretovariate(1.2)) % a.items}\t{rng.randint(1, 5)}\t{1_500_000_000 + n}\n")


model = os.path.join(a.workdir, "pop.braid")
train_seconds, _ = timed([BRAID, "train", "--train", interactions_path, "--items", items_path, "--model", "pop", "--out", model, "--threads", "2"])
load_seconds, _ = timed([BRAID, "recommend", "--model-file", model, "--users", "u1", "--threads", "2"])
_, log = timed([BRAID, "train", "--train", interactions_path, "--items", items_path, "--model", "content-tfidf",
                "--out", os.path.join(a.workdir, "tfidf.braid"), "--threads", "2"])
braid_fit = float(re.search(r"fitted in ([0-9.]+) s", log).group(1))

from sklearn.feature_extraction.text import TfidfVectorizer
t0 = time.perf_counter()
matrix = TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b", stop_words=STOP).fit_transform(documents)
sklearn_fit = time.perf_counter() - t0
# Braid's terms: runs of ASCII letters and digits, lowercased, stop words left out.
stop = set(STOP)
terms, entries = set(), 0
for document in documents:
    distinct = {w for w in re.findall("[a-z0-9]+", document.lower()) if w not in stop}
    terms |= distinct
    entries += len(distinct)
print(json.dumps({
    "items": a.items, "interactions": a.interactions, "catalogue_bytes": os.path.getsize(items_path),
    "train_pop_with_items_seconds": round(train_seconds, 2), "model_file_bytes": os.path.getsize(model),
    "recommend_from_model_file_seconds": round(load_seconds, 2),
    "tfidf_fit_seconds": {"braid": braid_fit, "sklearn": round(sklearn_fit, 2)},
    "same_terms_and_entries": [len(terms), entries] == [matrix.shape[1], matrix.nnz],
    "terms": matrix.shape[1], "entries": matrix.nnz,
}, indent=2))
