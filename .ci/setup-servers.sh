#!/usr/bin/env bash
# Installs the real servers the mirror and private-index tests start on 127.0.0.1: nginx
# (Debian package) and pypiserver (PyPI package, in its own tools venv). Idempotent: a second
# run only checks that both are there. The tests find them through PLONK_NGINX and
# PLONK_PYPISERVER, else at the paths below.
set -euo pipefail

TOOLS_VENV="${PLONK_CI_TOOLS:-/opt/plonk-ci-tools}"
PYPISERVER_VERSION="2.4.2"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "== installing nginx (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nginx-light >/dev/null \
        || apt-get install -y -qq --no-install-recommends nginx >/dev/null
    # The package starts a system nginx on port 80; the tests run their own, so stop it.
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now nginx >/dev/null 2>&1 || true
    fi
    if [ -f /run/nginx.pid ]; then
        kill "$(cat /run/nginx.pid)" 2>/dev/null || true
    fi
fi
echo "nginx: $( (command -v nginx || echo /usr/sbin/nginx) )"

if [ ! -x "$TOOLS_VENV/bin/pypi-server" ]; then
    echo "== installing pypiserver $PYPISERVER_VERSION into $TOOLS_VENV"
    python3 -m venv "$TOOLS_VENV"
    "$TOOLS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "pypiserver==$PYPISERVER_VERSION"
fi
echo "pypiserver: $TOOLS_VENV/bin/pypi-server"
