#!/usr/bin/env bash
# The front-end's TypeScript types (frontend/src/api/schema.d.ts) are generated from the API's
# OpenAPI schema by openapi-typescript. This fails when the committed file differs from a fresh
# generation; with --write it regenerates the file instead (`make api-types`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" scripts/openapi.py > "$tmp/openapi.json"
(cd frontend && npx --no-install openapi-typescript "$tmp/openapi.json" -o "$tmp/schema.d.ts" >/dev/null 2>&1)
target=frontend/src/api/schema.d.ts
if [ "${1:-}" = "--write" ]; then
  cp "$tmp/schema.d.ts" "$target"
  echo "wrote $target"
  exit 0
fi
if ! diff -u "$target" "$tmp/schema.d.ts" > "$tmp/diff"; then
  echo "$target is not the API's current schema: run 'make api-types' and commit the result." >&2
  head -n 60 "$tmp/diff" >&2
  exit 1
fi
echo "API types match the schema"
