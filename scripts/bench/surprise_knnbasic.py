#!/usr/bin/env python3
"""Surprise's KNNBasic (user-based, its default MSD similarity, k=40) on one train/test pair,
scored like ../shared/tools/peers.py scores the other Surprise models: RMSE and MAE over the
test rows whose user and item occur in training. Prints one JSON object."""
import json, sys, time
from surprise import Dataset, KNNBasic, Reader, accuracy

train, test = sys.argv[1], sys.argv[2]
reader = Reader(line_format="user item rating timestamp", sep="\t", rating_scale=(1, 5))
trainset = Dataset.load_from_file(train, reader).build_full_trainset()
algo = KNNBasic(sim_options={"user_based": True}, verbose=False)
t0 = time.perf_counter(); algo.fit(trainset); fit = time.perf_counter() - t0
rows = [line.split("\t")[:3] for line in open(test) if line.strip()]
known = [(u, i, float(r)) for u, i, r in rows if u in trainset._raw2inner_id_users and i in trainset._raw2inner_id_items]
pred = algo.test(known)
print(json.dumps({"peer": "surprise-knnbasic", "fit_seconds": fit, "rated_rows": len(known),
                  "metrics": {"rmse": accuracy.rmse(pred, verbose=False), "mae": accuracy.mae(pred, verbose=False)}}))
