#!/usr/bin/env bash
# The report platform's front-end is built with Node.js (Vite 8 needs 20.19 or later) and npm.
set -euo pipefail
need_major=20
need_minor=19
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "Node.js >= ${need_major}.${need_minor} and npm are needed to build the report platform's front-end" >&2
  echo "(frontend/). Install them (e.g. apt-get install nodejs npm, or from nodejs.org) and run make again." >&2
  exit 1
fi
version="$(node --version | sed 's/^v//')"
major="${version%%.*}"
rest="${version#*.}"
minor="${rest%%.*}"
if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
  echo "Node.js ${version} is too old: the front-end needs Node.js >= ${need_major}.${need_minor} (Vite 8)." >&2
  exit 1
fi
