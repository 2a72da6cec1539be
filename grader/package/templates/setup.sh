#!/usr/bin/env bash
# Installs ipcgrade (the wheel beside this script) and the system packages its grades need.
# Gradescope runs it once when it builds the autograder's image; PrairieLearn's Dockerfile
# runs it too. IPCGRADE_VENV: where the virtual environment goes (default below).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${IPCGRADE_VENV:-/opt/ipcgrade-venv}"
packages="gcc make strace procps util-linux python3 python3-venv python3-pip libseccomp2"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
  else
    echo "setup.sh: not root, so these packages stay missing:$missing" >&2
  fi
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check "$here"/ipcgrade-*.whl
# the build log shows which isolation every grade in this container gets
"$venv/bin/grade" --doctor || true
