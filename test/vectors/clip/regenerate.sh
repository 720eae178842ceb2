#!/usr/bin/env bash
# Regenerates the CLIP tokenizer vectors (vocab.json, merges.txt, prompts.json) with OpenAI's reference tokenizer
# (PyPI openai-clip 1.0.1, installed without its torch dependency, plus ftfy and regex which the tokenizer uses)
# in the git-ignored .venv-ref/ at the repo root.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="$ROOT/.venv-ref"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('clip') and u.find_spec('ftfy') and u.find_spec('regex') else 1)" 2>/dev/null \
  || { "$VENV/bin/pip" install --quiet --no-deps openai-clip==1.0.1 && "$VENV/bin/pip" install --quiet ftfy==6.3.1 regex==2026.11.15; }
"$VENV/bin/python" "$HERE/gen.py" "$HERE"
