#!/usr/bin/env bash
# Regenerates the SmolLM2 reference vectors, each from an implementation other than Beryl's loading the same GGUF
# the worker converts (scripts/setup.sh fetches it into .models/):
#   llama.cpp     dequant.json, tokenizer.json, greedy.json (gen.py): llama-cpp-python and the gguf package in the
#                 git-ignored .venv-ref/ (pip builds llama.cpp from source: 20 minutes of CPU, 52 on 2 busy cores;
#                 pip caches the wheel). Needs a C++ compiler.
#   transformers  transformers.json (gen_transformers.py; reads greedy.json's prompt ids): SmolLM2's reference
#                 implementation, in the git-ignored .venv-tiny-sd/ that scripts/tiny-sd/regenerate.sh uses too
#                 (same torch and transformers pins; torch from PyPI brings its CUDA wheels, about 3 GB, unused).
# usage: regenerate.sh [all|llama.cpp|transformers]   (npm run vectors:smollm2 runs all)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WHAT="${1:-all}"
LLAMA_CPP_PYTHON=0.3.36
GGUF_PY=0.19.0
HF_PINS=(torch==2.8.0 transformers==4.57.1 accelerate==1.11.0 "gguf==$GGUF_PY")
GGUF="$ROOT/.models/SmolLM2-135M-Instruct.Q4_1.gguf"
bash "$ROOT/scripts/setup.sh"

if [[ "$WHAT" == all || "$WHAT" == llama.cpp ]]; then
  VENV="$ROOT/.venv-ref"
  if ! "$VENV/bin/python" -c "import gguf, llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_CPP_PYTHON')" 2>/dev/null; then
    echo "smollm2 vectors: building llama-cpp-python $LLAMA_CPP_PYTHON into .venv-ref/ ..."
    python3 -m venv "$VENV"
    nice -n 10 "$VENV/bin/pip" install --quiet "llama-cpp-python==$LLAMA_CPP_PYTHON" "gguf==$GGUF_PY"
  fi
  nice -n 10 "$VENV/bin/python" "$HERE/gen.py" "$GGUF" "$HERE"
fi

if [[ "$WHAT" == all || "$WHAT" == transformers ]]; then
  VENV="$ROOT/.venv-tiny-sd"
  if ! "$VENV/bin/python" -c "
import importlib.metadata as m, sys
want = dict(p.split('==') for p in sys.argv[1:])
sys.exit(any(m.version(k) != v for k, v in want.items()))" "${HF_PINS[@]}" 2>/dev/null; then
    echo "smollm2 vectors: installing ${HF_PINS[*]} into .venv-tiny-sd/ ..."
    python3 -m venv "$VENV"
    nice -n 10 "$VENV/bin/pip" install --quiet "${HF_PINS[@]}"
  fi
  nice -n 10 "$VENV/bin/python" "$HERE/gen_transformers.py" "$GGUF" "$HERE"
fi
