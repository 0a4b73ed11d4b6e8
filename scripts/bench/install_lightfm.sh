#!/usr/bin/env bash
# Installs LightFM 1.17 (the cold-start peer) from its PyPI sdist. Its setup.py assigns to
# `__builtins__.__LIGHTFM_SETUP__`, which fails when __builtins__ is a dict (as under pip's
# build backend); the one-line patch sets the same flag through the `builtins` module.
set -euo pipefail
python3 -c "import lightfm" 2>/dev/null && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip install -q setuptools wheel cython numpy scipy
python3 -m pip download -q --no-deps --no-binary :all: lightfm==1.17 -d "$work" || \
  python3 -c "import urllib.request,sys; urllib.request.urlretrieve('https://files.pythonhosted.org/packages/1f/96/5ec230f5c27811534af0faaa8525f11c1000ee1c24c8a82c0546d0724aea/lightfm-1.17.tar.gz', sys.argv[1] + '/lightfm-1.17.tar.gz')" "$work"
tar xzf "$work"/lightfm-1.17.tar.gz -C "$work"
sed -i 's/^__builtins__.__LIGHTFM_SETUP__ = True/import builtins; builtins.__LIGHTFM_SETUP__ = True/' "$work"/lightfm-1.17/setup.py
python3 -m pip install -q --no-build-isolation "$work"/lightfm-1.17
