#!/usr/bin/env bash
# Builds the Python package from this clone into a fresh virtual environment and tests it
# as a student would get it: the wheel (not an editable install), its type stubs (mypy), the
# tests (pytest python/tests) and every notebook (pytest --nbmake notebooks/).
#
#   bash python/ci.sh            # from anywhere in the clone
#
# Needs python3 (≥ 3.9, with venv), cargo, and the package registries (PyPI, crates.io).
# The environment lives in python/target/ci-venv and is made anew on every run; cargo's
# build cache in python/target is kept, so a second run builds only what changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/python/target/ci-venv"
WHEELS="$ROOT/python/target/ci-wheels"
PY="${PYTHON:-python3}"

step() { printf '\n== %s (%ds so far)\n' "$1" "$SECONDS"; }

step "fresh virtual environment in python/target/ci-venv"
rm -rf "$VENV" "$WHEELS"
mkdir -p "$ROOT/python/target"
"$PY" -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -r python/requirements-ci.txt

step "building the wheel (maturin, release)"
started=$SECONDS
maturin build --release --manifest-path python/Cargo.toml --out "$WHEELS"
echo "wheel built in $((SECONDS - started))s"
python -m pip install --quiet --force-reinstall --no-deps "$WHEELS"/microsim_des-*.whl
# The tests must exercise the installed wheel, not the source folder.
python - <<'PY'
import microsim
assert "site-packages" in microsim.__file__, microsim.__file__
print("installed microsim", microsim.__version__, "from", microsim.__file__)
PY

step "type stubs and annotations (mypy)"
(cd python && python -m mypy)

step "tests (pytest python/tests)"
started=$SECONDS
pytest -q python/tests
echo "tests ran in $((SECONDS - started))s"

step "notebooks (pytest --nbmake notebooks/)"
shopt -s nullglob
notebooks=(notebooks/*.ipynb notebooks/*/*.ipynb)
if ((${#notebooks[@]})); then
    started=$SECONDS
    pytest -q --nbmake --nbmake-timeout=120 "${notebooks[@]}"
    echo "notebooks ran in $((SECONDS - started))s"
else
    echo "no notebooks yet"
fi

step "done"
