#!/usr/bin/env python3
"""A raw-count dataset from public Debian data: who uploaded which source package, how often.

Usage: scripts/bench/debian_uploads.py [--out FILE] [--cache DIR] [--suites bookworm,trixie] [--core K]

Downloads the suites' source indexes (Sources.xz) from deb.debian.org, then each source
package's debian.tar.xz, and reads its debian/changelog (the whole history of the package's
uploads): every entry is one upload, signed by
the person on its trailer line (" -- Name <email>  date"); entries dated before Debian
existed or in the future (typos) are left out. Writes CSV rows
    user,item,count,timestamp
one per (uploader, source package): the number of uploads that person signed, and the time of
their first one (Unix seconds), so a temporal split holds out the packages each person took
up last. Users are pseudonymous: the first 12 hex digits of the SHA-256 of the e-mail address.
Only people with at least K packages and packages with at least K such people are kept
(repeated until both hold; K = 5).

The counts are heavy-tailed (most pairs are one or two uploads, a few are hundreds), which is
what the fusion's and the data-aware defaults' raw-count targets need. Changelogs are cached
in DIR, so a second run reads no network. Packages whose file the mirror no longer serves
are skipped and counted. Nothing here is committed: the changelogs carry names and addresses.
"""
import argparse, collections, concurrent.futures, email.utils, hashlib, io, lzma, os, re, sys, tarfile, time, urllib.error, urllib.request

MIRROR = "http://deb.debian.org/debian/"
HEADER = re.compile(r"^([a-z0-9][a-z0-9+.-]+) \(([^)]+)\)")
FOUNDED = 744163200  # 1993-08-01, the month Debian was announced
TRAILER = re.compile(r"^ -- (.+?) <([^>]+)>\s+(.+)$")


def fetch(url, timeout=20):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def sources(suites):
    """(source package, [path of its debian.tar.xz in the pool, per suite that has one]) for
    every 3.0 (quilt) source of the suites, in the suites' order."""
    paths = {}
    for suite in suites:
        text = lzma.decompress(fetch(f"{MIRROR}dists/{suite}/main/source/Sources.xz", timeout=120)).decode("utf-8", "replace")
        for stanza in text.split("\n\n"):
            name = re.search(r"^Package: (.+)$", stanza, re.M)
            directory = re.search(r"^Directory: (.+)$", stanza, re.M)
            tarball = re.search(r"^ \S+ \d+ (\S+\.debian\.tar\.xz)$", stanza, re.M)
            if name and directory and tarball:
                path = f"{directory.group(1)}/{tarball.group(1)}"
                if path not in paths.setdefault(name.group(1), []):
                    paths[name.group(1)].append(path)
    return sorted(paths.items())


def changelog(job, cache):
    """The package's debian/changelog, from the cache or the mirror (the first of its paths the
    mirror serves); None where it serves none. A package's `.missing` file lists the paths that
    answered 404, so a later run with another suite tries only the new ones."""
    name, paths = job
    cached, missing = os.path.join(cache, name), os.path.join(cache, name + ".missing")
    if os.path.exists(cached):
        return open(cached, "rb").read()
    absent = set(open(missing).read().split()) if os.path.exists(missing) else set()
    for path in paths:
        if path in absent:
            continue
        try:
            data = fetch(MIRROR + path)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:xz") as archive:
                text = archive.extractfile("debian/changelog").read()
        except urllib.error.HTTPError as error:
            if error.code == 404:
                absent.add(path)
                with open(missing, "w") as out:
                    out.write("\n".join(sorted(absent)) + "\n")
            continue
        except (OSError, KeyError, tarfile.TarError, lzma.LZMAError):
            continue
        with open(cached + ".tmp", "wb") as out:
            out.write(text)
        os.replace(cached + ".tmp", cached)
        return text
    return None


def uploads(text):
    """(e-mail, source, Unix time) per changelog entry, each (source, version) once."""
    source = version = None
    seen = set()
    for line in text.decode("utf-8", "replace").splitlines():
        header = HEADER.match(line)
        if header:
            source, version = header.group(1), header.group(2)
            continue
        trailer = TRAILER.match(line)
        if trailer and source and (source, version) not in seen:
            seen.add((source, version))
            try:
                when = int(email.utils.parsedate_to_datetime(trailer.group(3).strip()).timestamp())
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
            if not FOUNDED <= when <= time.time():
                continue  # a mistyped date (1970, or a year ahead)
            yield trailer.group(2).strip().lower(), source, when


def core(pairs, k):
    """Drop users and items with fewer than k partners until none is left."""
    while True:
        users = collections.Counter(u for u, _ in pairs)
        items = collections.Counter(i for _, i in pairs)
        kept = {p: v for p, v in pairs.items() if users[p[0]] >= k and items[p[1]] >= k}
        if len(kept) == len(pairs):
            return kept
        pairs = kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench-out/debian-uploads.csv")
    ap.add_argument("--cache", default="bench-out/debian-changelogs")
    ap.add_argument("--suites", default="bookworm,trixie", help="comma-separated; a package's file is taken from the first suite the mirror serves it for")
    ap.add_argument("--core", type=int, default=5)
    ap.add_argument("--workers", type=int, default=8, help="downloads at once (the mirror stalls above a few)")
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    jobs = sources(a.suites.split(","))
    print(f"{len(jobs)} source packages in {a.suites}", file=sys.stderr)
    counts, first = collections.Counter(), {}
    missing = 0
    with concurrent.futures.ThreadPoolExecutor(a.workers) as pool:
        for n, text in enumerate(pool.map(lambda job: changelog(job, a.cache), jobs), 1):
            if text is None:
                missing += 1
            else:
                for who, source, when in uploads(text):
                    key = (who, source)
                    counts[key] += 1
                    first[key] = min(first.get(key, when), when)
            if n % 2000 == 0:
                print(f"  {n} of {len(jobs)} packages read, {missing} not on the mirror", file=sys.stderr)
    kept = core(dict(counts), a.core)
    users = {u for u, _ in kept}
    print(f"{sum(counts.values())} uploads by {len({u for u, _ in counts})} people to {len({i for _, i in counts})} packages "
          f"({missing} packages not on the mirror); {a.core}-core: {len(kept)} pairs, {len(users)} people, "
          f"{len({i for _, i in kept})} packages", file=sys.stderr)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as out:
        out.write("user,item,count,timestamp\n")
        for (who, source), count in sorted(kept.items()):
            out.write(f"{hashlib.sha256(who.encode()).hexdigest()[:12]},{source},{count},{first[(who, source)]}\n")
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
