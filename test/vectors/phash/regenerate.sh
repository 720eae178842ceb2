#!/usr/bin/env bash
# Regenerates the pHash test vectors:
#   images/       synthetic PNG corpus (written by ./gen) plus real image-runner outputs (runner_*.png, written by runner-outputs.ts)
#   edge/         edge-case files, mostly malformed, for decoder accept/reject parity
#   vectors.json  goimagehash v1.1.0 PerceptionHash of every file in images/
#   edge.json     hash or png.Decode error for every file in edge/
# Needs Go (>= 1.21; modules come from the Go module proxy) and the project's npm dependencies (for the runner outputs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

echo "phash vectors: $(go version)"
echo "phash vectors: generating images/ and edge/ ..."
go run ./gen -out images -edge edge
echo "phash vectors: rendering image-runner outputs into images/ ..."
node --import tsx ./runner-outputs.ts images
echo "phash vectors: hashing images/ with goimagehash ..."
go run . -dir images -out vectors.json
echo "phash vectors: hashing edge/ with goimagehash ..."
go run . -dir edge -out edge.json
echo "phash vectors: done: $(ls images/*.png | wc -l) images ($(du -sh images | cut -f1)), $(ls edge/*.png | wc -l) edge files"
