#!/usr/bin/env python3
"""RecBole's sequential models (SASRec, BERT4Rec) on Braid's leave-last-out files, for the
benchmark: the same users, items and order, the same test item, scored by the same rule.

Braid's `split --split leave-last-out` writes train.tsv (all but each user's latest
interaction) and test.tsv (the latest). RecBole gets one atomic file with every user's train
rows in time order (file order breaking ties, as Braid does) and then the test row, with the
timestamp replaced by that position, and splits it leave-one-out ('LS', valid_and_test): the
latest row is the test item, the one before it the validation item early stopping watches.
That is exactly Braid's split plus the validation item Braid's sequence models hold out of
their training data. NDCG@10 and recall@10 are computed here the way `braid evaluate` does:
full ranking over every item, the user's training items (validation item included) excluded.

Usage: recbole_seq.py TRAIN TEST --model SASRec [--epochs N] [--threads 2] [--json OUT] [--per-user OUT.jsonl]
(--per-user writes each user's NDCG@10 and recall@10 in `braid evaluate --per-user`'s format,
model "recbole-<model>", for a paired `braid compare` against Braid's own per-user file.)
"""
import argparse, json, math, os, shutil, sys, tempfile, time
from collections import defaultdict

ap = argparse.ArgumentParser()
ap.add_argument("train"); ap.add_argument("test")
ap.add_argument("--model", default="SASRec")
ap.add_argument("--epochs", type=int, default=200)
ap.add_argument("--patience", type=int, default=10)
ap.add_argument("--hidden", type=int, default=64)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--heads", type=int, default=2)
ap.add_argument("--inner", type=int, default=256)
ap.add_argument("--max-length", type=int, default=50)
ap.add_argument("--dropout", type=float, default=0.5)
ap.add_argument("--batch", type=int, default=2048)
ap.add_argument("--lr", type=float, default=0.001)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seed", type=int, default=2020)
ap.add_argument("--json")
ap.add_argument("--per-user")
args = ap.parse_args()

import functools
import torch
torch.set_num_threads(args.threads)
# RecBole reloads its own best checkpoint with torch.load, whose default became weights_only=True
# in PyTorch 2.6 and refuses RecBole's file; the file is this run's own, so load it fully.
torch.load = functools.partial(torch.load, weights_only=False)
import numpy as np
# RecBole 1.2.1 predates NumPy 2: give it the aliases it reads (np.float_ and friends).
for old, new in (("float_", np.float64), ("complex_", np.complex128), ("unicode_", np.str_), ("bool8", np.bool_)):
    if not hasattr(np, old):
        setattr(np, old, new)
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import init_seed, get_model, get_trainer

def read(path):
    rows = []
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            rows.append((p[0], p[1], int(float(p[3]))))
    return rows

train, test = read(args.train), read(args.test)
by_user = defaultdict(list)
for n, (u, i, t) in enumerate(train):
    by_user[u].append((t, n, i))
test_item = {u: i for u, i, _ in test}
work = tempfile.mkdtemp(prefix="recbole-")
# RecBole writes its TensorBoard logs under the working directory: keep them in the scratch one.
args.json = args.json and os.path.abspath(args.json)
args.per_user = args.per_user and os.path.abspath(args.per_user)
os.chdir(work)
os.makedirs(f"{work}/braid", exist_ok=True)
with open(f"{work}/braid/braid.inter", "w") as f:
    f.write("user_id:token\titem_id:token\ttimestamp:float\n")
    for u, rows in by_user.items():
        rows.sort()  # by time, then file order
        seq = [i for _, _, i in rows] + ([test_item[u]] if u in test_item else [])
        for k, i in enumerate(seq):
            f.write(f"{u}\t{i}\t{k}\n")

config = Config(model=args.model, dataset="braid", config_dict={
    "data_path": work, "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "TIME_FIELD": "timestamp",
    "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
    "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
    "metrics": ["NDCG", "Recall"], "topk": [10], "valid_metric": "NDCG@10",
    "epochs": args.epochs, "stopping_step": args.patience, "train_batch_size": args.batch, "eval_batch_size": 4096,
    "learning_rate": args.lr, "hidden_size": args.hidden, "n_layers": args.layers, "n_heads": args.heads,
    "inner_size": args.inner, "MAX_ITEM_LIST_LENGTH": args.max_length, "hidden_dropout_prob": args.dropout,
    "attn_dropout_prob": args.dropout, "loss_type": "CE", "train_neg_sample_args": None,
    "device": "cpu", "use_gpu": False, "seed": args.seed, "reproducibility": True, "show_progress": False,
    "checkpoint_dir": f"{work}/saved", "log_wandb": False, "state": os.environ.get("RECBOLE_STATE", "WARNING"),
})
init_seed(config["seed"], config["reproducibility"])
torch.set_num_threads(args.threads)
dataset = create_dataset(config)
train_data, valid_data, test_data = data_preparation(config, dataset)
model = get_model(config["model"])(config, train_data.dataset).to(config["device"])
trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
start = time.time()
best_valid, _ = trainer.fit(train_data, valid_data, saved=True, show_progress=False, verbose=False)
fit_seconds = time.time() - start
own = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
epochs_run = trainer.cur_epoch if hasattr(trainer, "cur_epoch") else None

# Score by Braid's rule: every item ranked, the user's training items (the train file, which
# includes the validation item) excluded, ties counting one half.
model.eval()
uid_field, iid_field = dataset.uid_field, dataset.iid_field
train_items = defaultdict(set)
for u, i, _ in train:
    train_items[u].add(i)
ndcg = recall = 0.0
users = 0
per_user = []
with torch.no_grad():
    for batch in test_data:
        interaction = batch[0]
        scores = model.full_sort_predict(interaction.to(config["device"])).view(len(interaction), -1).cpu().numpy()
        for row, uid in enumerate(interaction[uid_field].cpu().numpy()):
            u = dataset.id2token(uid_field, int(uid))
            target = dataset.token2id(iid_field, test_item[u])
            s = scores[row].astype(np.float64)
            s[0] = -np.inf  # padding
            seen = [dataset.token2id(iid_field, i) for i in train_items[u]]
            t = s[target]
            s[seen] = -np.inf
            higher = float((s > t).sum()); ties = float((s == t).sum()) - 1
            rank = higher + ties / 2
            users += 1
            gain = 1 / math.log2(rank + 2) if rank < 10 else 0.0
            hit = 1.0 if rank < 10 else 0.0
            ndcg += gain
            recall += hit
            per_user.append({"fold": 0, "metrics": {"ndcg@10": gain, "recall@10": hit}, "model": f"recbole-{args.model.lower()}", "user": u})
out = {"model": args.model, "fit_seconds": fit_seconds, "ndcg@10": ndcg / users, "recall@10": recall / users, "users": users,
       "recbole_test": {k: float(v) for k, v in own.items()}, "recbole_best_valid": float(best_valid),
       "threads": args.threads, "epochs_limit": args.epochs}
shutil.rmtree(work, ignore_errors=True)
print(json.dumps(out))
if args.json:
    with open(args.json, "w") as f: json.dump(out, f)
if args.per_user:
    with open(args.per_user, "w") as f:
        for row in per_user: f.write(json.dumps(row) + "\n")
