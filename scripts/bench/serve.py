#!/usr/bin/env python3
"""Load and latency of `braid serve` on loopback, with ml-latest-small (Braid's demo data).

Usage: scripts/bench/serve.py [--duration 20] [--rate 1000] [--soak 60] [--out bench-out]

Builds .build/release/braid and the load generator (scripts/bench/load, AsyncHTTPClient +
hdrhistogram-swift), fits EASE, ALS and the fusion on all ml-latest-small ratings >= 4, and for
each model starts a server with a fresh SQLite store and drives it:

1. mixed: an open-loop schedule of `--rate` requests/s for `--duration` s, 90% GET
   /users/{id}/recommendations?n=10, 9% POST /feedback (10 events), 1% POST /items; latency
   from the moment each request was due (no coordinated omission). Twice per model: as served
   by default (a user's history and best items kept between their lists while their feedback
   and the model are unchanged; the share of lists served so, from /metrics, is reported) and
   with `--history-cache 0` (every list read from the store and scored live).
2. feedback: batches of 1,000 events on 4 connections as fast as they are acknowledged (EASE).
3. erase: DELETE /users/{id} for 200 users on an ALS server (the store's part: ALS cannot forget
   exactly, so the model's part waits for a retrain), then 20 users on an EASE server, where each
   deletion also downdates EASE exactly before it answers.
4. soak: the mixed load for `--soak` s on EASE, sampling the server's resident memory.

The load generator runs on the same 2 cores as the server. Prints and writes
bench-out/serve.json and bench-out/serve.md.
"""
import argparse, json, os, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# BRAID_BIN runs another build side by side (an A/B of two versions in one session).
BRAID = os.environ.get("BRAID_BIN", os.path.join(ROOT, ".build", "release", "braid"))
LOAD_DIR = os.path.join(ROOT, "scripts", "bench", "load")
LOAD = os.path.join(LOAD_DIR, ".build", "release", "braid-load")
DATA = os.path.join(ROOT, "Sources", "BraidDemoData", "Resources", "ml-latest-small", "ratings.csv")


def build():
    subprocess.run(["swift", "build", "-c", "release", "--product", "braid"], cwd=ROOT, check=True)
    subprocess.run(["swift", "build", "-c", "release"], cwd=LOAD_DIR, check=True)


class Server:
    def __init__(self, model, store, extra=()):
        self.process = subprocess.Popen([BRAID, "serve", "--model-file", model, "--store", store, "--port", "0", "--json", "--quiet", *extra],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = json.loads(self.process.stdout.readline())["port"]
        self.url = f"http://127.0.0.1:{self.port}"

    def rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    def counters(self):
        """The server's list counters from /metrics (kept histories, kept lists, store reads)."""
        import urllib.request
        text = urllib.request.urlopen(self.url + "/metrics").read().decode()
        wanted = ("braid_history_cache_hits_total", "braid_list_cache_hits_total", "braid_history_reads_total")
        return {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line.split(" ")[0] in wanted}

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def load(url, mode, users, items, **options):
    args = [LOAD, "--url", url, "--mode", mode, "--users", users, "--items", items]
    for key, value in options.items():
        args += ["--" + key.replace("_", "-"), str(value)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--soak", type=float, default=60)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if not a.no_build:
        build()
    work = tempfile.mkdtemp(prefix="braid-serve-bench-")
    users, items = os.path.join(work, "users.txt"), os.path.join(work, "items.txt")
    us, its = set(), set()
    with open(DATA) as f:
        next(f)
        for line in f:
            u, i, r, _ = line.strip().split(",")
            us.add(u)
            its.add(i)
    open(users, "w").write("\n".join(sorted(us)) + "\n")
    open(items, "w").write("\n".join(sorted(its)) + "\n")

    models = {}
    for name, params in (("ease", []), ("als", ["--param", "factors=64"]), ("fusion", [])):
        path = os.path.join(work, name + ".braid")
        started = time.time()
        subprocess.run([BRAID, "train", "--train", DATA, "--threshold", "4", "--model", name, *params, "--out", path, "--quiet"], check=True)
        models[name] = path
        print(f"fitted {name} in {time.time() - started:.1f} s", file=sys.stderr)

    results = {"rate": a.rate, "duration": a.duration}
    for name, path in models.items():
        live = Server(path, os.path.join(work, f"{name}-live.sqlite"), ["--history-cache", "0"])
        load(live.url, "mixed", users, items, duration=2, rate=200)  # warm up
        results[f"mixed {name}, scored live"] = load(live.url, "mixed", users, items, duration=a.duration, rate=a.rate)
        print(name, "live", json.dumps(results[f"mixed {name}, scored live"]["results"]), file=sys.stderr)
        live.stop()
        server = Server(path, os.path.join(work, f"{name}.sqlite"))
        load(server.url, "mixed", users, items, duration=2, rate=200)  # warm up
        before = server.counters()
        results[f"mixed {name}"] = load(server.url, "mixed", users, items, duration=a.duration, rate=a.rate)
        results[f"mixed {name}"]["rss_mb"] = server.rss_mb()
        after = server.counters()
        counted = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        lists = counted.get("braid_history_cache_hits_total", 0) + counted.get("braid_history_reads_total", 0)
        results[f"mixed {name}"]["kept"] = {"lists": lists, "history kept": counted.get("braid_history_cache_hits_total", 0),
                                            "list kept": counted.get("braid_list_cache_hits_total", 0)}
        print(name, json.dumps(results[f"mixed {name}"]["results"]), results[f"mixed {name}"]["kept"], file=sys.stderr)
        if name == "ease":
            results["feedback"] = load(server.url, "feedback", users, items, duration=a.duration / 2, batch=1000, connections=4)
            print("feedback", results["feedback"]["events_per_second"], file=sys.stderr)
            results["erase ease (store + exact model downdate)"] = load(server.url, "erase", users, items, count=20)
        if name == "als":
            results["erase als (store; model at next retrain)"] = load(server.url, "erase", users, items, count=200)
        server.stop()

    if a.soak > 0:
        server = Server(models["ease"], os.path.join(work, "soak.sqlite"))
        samples = []
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append((round(time.time(), 1), server.rss_mb()))
                time.sleep(5)

        sampler = threading.Thread(target=sample)
        sampler.start()
        soak = load(server.url, "mixed", users, items, duration=a.soak, rate=a.rate)
        done.set()
        sampler.join()
        soak["rss_mb_samples"] = [mb for _, mb in samples]
        results["soak ease"] = soak
        server.stop()

    json.dump(results, open(os.path.join(a.out, "serve.json"), "w"), indent=2)
    lines = ["| load | requests/s | p50 ms | p99 ms | p99.9 ms | errors |", "|---|---|---|---|---|---|"]
    for key, value in results.items():
        if not isinstance(value, dict):
            continue
        for kind, r in value["results"].items():
            lines.append(f"| {key}: {kind} | {r['per_second']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['p99_9_ms']:.2f} | {r['errors']} |")
    for key, value in results.items():
        if isinstance(value, dict) and value.get("kept", {}).get("lists"):
            kept = value["kept"]
            lines.append(f"\n{key}: of {kept['lists']:.0f} lists, {kept['history kept'] / kept['lists']:.0%} from a kept history, "
                         f"{kept['list kept'] / kept['lists']:.0%} chosen from kept best items")
    if "feedback" in results:
        lines.append(f"\nfeedback events acknowledged per second (batches of 1,000, 4 connections): {results['feedback']['events_per_second']:.0f}")
    if "soak ease" in results:
        lines.append(f"soak RSS MB every 5 s: {results['soak ease']['rss_mb_samples']}")
    table = "\n".join(lines)
    open(os.path.join(a.out, "serve.md"), "w").write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
