#!/usr/bin/env bash
# Creates the next numbered goose migration for a service:
#   scripts/new-migration.sh intake add_something
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
service="${1:?usage: new-migration.sh SERVICE NAME}"
name="${2:?usage: new-migration.sh SERVICE NAME}"
dir="$ROOT/services/$service/migrations"
[[ -d "$dir" ]] || { echo "no migrations folder for $service" >&2; exit 1; }
last=$(ls "$dir" | grep -E '^[0-9]{5}_' | sort | tail -1 | cut -c1-5 || true)
next=$(printf '%05d' $((10#${last:-0} + 1)))
file="$dir/${next}_${name}.sql"
cat > "$file" <<SQL
-- +goose Up
-- Why this change is needed:

-- +goose Down
SQL
echo "$file"
