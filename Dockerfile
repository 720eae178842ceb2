# One image for every Beryl service: `beryld start` (validators), `beryld worker start` (GPU workers),
# `beryld task run` (applications). CometBFT is built with `go install` at the pinned version.
FROM golang:1.26-bookworm AS cometbft
RUN go install github.com/cometbft/cometbft/cmd/cometbft@v0.38.25

FROM node:20-bookworm-slim
WORKDIR /beryl
COPY package.json package-lock.json ./
# onnxruntime-node's CPU build ships in the package; its install script only fetches CUDA libraries.
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --omit=dev --ignore-scripts=false
COPY . .
COPY --from=cometbft /go/bin/cometbft .bin/cometbft
# The bundled beryld (bin/beryld falls back to tsx without it): a third of the start-up time.
RUN node scripts/build-cli.mjs
# 26656 P2P, 26657 CometBFT RPC, 4001 the libp2p gateway (9090 gRPC and 1317 REST are reserved).
EXPOSE 26656 26657 4001
CMD ["./bin/beryld", "--help"]
