#!/usr/bin/env bash
# Browser tests of the web app (Tests/Browser): headless Chromium from Debian's packages, driven by Playwright for
# Python (pinned in Tests/Browser/requirements.txt, in a venv under .build/browser-venv), against a real
# `reelbase serve` on a fresh SQLite file and a `reelbase worker`, both started by the tests themselves.
# Installs what it lacks (apt-get needs root, as in CI) and fails loudly if it cannot; a browser that cannot start
# fails the run. Never runs `playwright install` (it downloads browsers of its own, which this network refuses).
#
#   scripts/browser-test.sh [pytest arguments]      e.g. -k smoke, -x
#
# Screenshots land in .build/browser-screenshots/ (390x844 and 1280x800).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

fail() { echo "browser-test.sh: $*" >&2; exit 1; }

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  [ "$(id -u)" -eq 0 ] || fail "$chromium is missing and installing it needs root (apt-get install -y chromium)"
  echo "browser-test.sh: installing chromium from Debian's packages"
  apt-get update -q || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || fail "apt-get install chromium failed"
fi
[ -x "$chromium" ] || fail "$chromium is still missing after apt-get install chromium"
# A real headless start (root needs --no-sandbox), not just --version: a browser that cannot start fails the run.
if ! probe=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --dump-dom about:blank 2>&1) || [[ "$probe" != *"<html>"* ]]; then
  fail "$chromium cannot start headless: $(tail -n 5 <<<"$probe")"
fi

venv=.build/browser-venv
requirements=Tests/Browser/requirements.txt
# The venv is rebuilt when the pinned requirements change (a stamp holds the file it was built from).
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements.stamp"; then
  echo "browser-test.sh: creating $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || fail "python3 -m venv failed (apt-get install -y python3-venv)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" || fail "pip install -r $requirements failed"
  cp "$requirements" "$venv/requirements.stamp"
fi

swift build || fail "swift build failed"
[ -x .build/debug/reelbase ] || fail ".build/debug/reelbase is missing after swift build"

export CHROMIUM="$chromium"
set +e
"$venv/bin/python" -m pytest Tests/Browser -p no:cacheprovider "$@"
status=$?
set -e
echo "browser-test.sh: $((SECONDS - started)) s, screenshots in .build/browser-screenshots/"
# pytest's exit 5 (no test collected) is a failure here: the run must test something.
exit $status
