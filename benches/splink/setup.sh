#!/usr/bin/env bash
# Create benches/splink/.venv with Splink 5 (DuckDB backend). Idempotent.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if "$venv/bin/python" -c 'import splink, sys; sys.exit(0 if splink.__version__.startswith("5.") else 1)' 2>/dev/null; then
  echo "splink $("$venv/bin/python" -c 'import splink; print(splink.__version__)') already installed in $venv"
  exit 0
fi
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet 'splink==5.*'
"$venv/bin/python" -c 'import splink, duckdb; print("splink", splink.__version__, "duckdb", duckdb.__version__)'
