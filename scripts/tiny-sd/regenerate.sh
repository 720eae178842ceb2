#!/usr/bin/env bash
# Regenerates test/vectors/tiny-sd/: a tiny random-weight Stable Diffusion pipeline exported to ONNX in diffusers'
# layout by Optimum's exporter (scripts/tiny-sd/export.py). The pinned PyTorch stack goes into the git-ignored
# .venv-tiny-sd/ at the repo root: torch comes from PyPI with its CUDA runtime wheels (about 3 GB on disk, none of
# it used: the export runs on the CPU).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$ROOT/.venv-tiny-sd"
PINS=(torch==2.8.0 transformers==4.57.1 diffusers==0.35.2 optimum-onnx==0.1.0 onnx==1.23.2 onnxruntime==1.23.2)
if ! "$VENV/bin/python" -c "
import importlib.metadata as m, sys
want = dict(p.split('==') for p in sys.argv[1:])
sys.exit(any(m.version(k) != v for k, v in want.items()))" "${PINS[@]}" 2>/dev/null; then
  echo "tiny-sd: installing ${PINS[*]} into .venv-tiny-sd/ ..."
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "${PINS[@]}"
fi
# The initial latents of task seed 42 for a 64x64 image (4 latent channels of 8x8), as Beryl's runner draws them.
LATENTS="$(mktemp)"
trap 'rm -f "$LATENTS"' EXIT
(cd "$ROOT" && node --import tsx scripts/tiny-sd/latents.ts 42 4 8 8 > "$LATENTS")
"$VENV/bin/python" "$HERE/export.py" "$ROOT/test/vectors/tiny-sd" "$LATENTS"
