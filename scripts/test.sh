#!/usr/bin/env bash
# The README's test command (after scripts/bootstrap.sh): the Rust tests, then the Python package
# built from this tree into the repo's venv (.venv), its pytest suite, and the quick-start
# notebook executed top to bottom. .ci/run calls this same script.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
cargo test --release

# The wheel reuses the release build above: same target directory, same features of archscope,
# so only pyo3 and the bindings crate compile. Its time is printed for the README.
py=.venv/bin/python
if [ ! -x "$py" ]; then
  echo "test.sh: no .venv; run scripts/bootstrap.sh --python first" >&2
  exit 1
fi
start=$(date +%s%N)
PATH="$PWD/.venv/bin:$PATH" "$py" -m pip install --quiet --no-build-isolation --no-deps --force-reinstall .
echo "test.sh: wheel built and installed in $(( ($(date +%s%N) - start) / 1000000 )) ms after the Rust build"
# The tests compare with the CLI that `cargo test --release` built.
target=${CARGO_TARGET_DIR:-target}
ARCHSCOPE_BIN="$target/release/archscope" "$py" -m pytest -q python/tests
"$py" scripts/run-notebook.py examples/quickstart.ipynb
