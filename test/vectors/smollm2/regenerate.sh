#!/usr/bin/env bash
# Regenerates the SmolLM2 reference vectors (dequant.json, tokenizer.json, greedy.json) with llama.cpp, through the
# pinned llama-cpp-python, loading the same GGUF the worker converts. Needs python3 with pip and a C++
# compiler (pip builds llama.cpp from source: 20 minutes of CPU, 52 on 2 busy cores; pip caches the wheel). The virtualenv is the
# git-ignored .venv-ref/ at the repo root; the GGUF comes from scripts/setup.sh (.models/).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
LLAMA_CPP_PYTHON=0.3.36
GGUF_PY=0.19.0
bash "$ROOT/scripts/setup.sh"
VENV="$ROOT/.venv-ref"
if ! "$VENV/bin/python" -c "import gguf, llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON')" 2>/dev/null; then
  echo "smollm2 vectors: building llama-cpp-python $LLAMA_CPP_PYTHON into .venv-ref/ ..."
  python3 -m venv "$VENV"
  nice -n 10 "$VENV/bin/pip" install --quiet "llama-cpp-python==$LLAMA_CPP_PYTHON" "gguf==$GGUF_PY"
fi
"$VENV/bin/python" "$HERE/gen.py" "$ROOT/.models/SmolLM2-135M-Instruct.Q4_1.gguf" "$HERE"
