#!/usr/bin/env bash
# The genesis ceremony of docker-compose.yml, run once by its `ceremony` service into the named
# volumes (/data/<service>): four validator homes, three worker homes and the demo's key, every
# operator and worker funded in validator-0's genesis, a gentx per validator, collect-gentxs, and
# the same genesis copied to every validator. Only `beryld` commands, as an operator would type them.
# Runs again harmlessly: a finished ceremony (validator-0 has a genesis with gen_txs) is left alone.
# DATA and IP_PREFIX can be changed to rehearse it outside Docker (the compose test does).
set -euo pipefail
DATA="${DATA:-/data}"
IP_PREFIX="${IP_PREFIX:-172.28.0}"   # validators 172.28.0.10-13, as in docker-compose.yml
CHAIN_ID="${CHAIN_ID:-beryl-docker-1}"
BERYLD="${BERYLD:-./bin/beryld}"
VALIDATORS=4
WORKERS=3
FUNDS=1000000beryl

if [ -f "$DATA/validator-0/config/genesis.json" ] && grep -q '"gen_txs"' "$DATA/validator-0/config/genesis.json"; then
  echo "ceremony: already done"; exit 0
fi

ip() { echo "$IP_PREFIX.$((10 + $1))"; }

for i in $(seq 0 $((VALIDATORS - 1))); do
  home="$DATA/validator-$i"
  ipaddr=$(ip "$i")
  $BERYLD init "validator-$i" --home "$home" --chain-id "$CHAIN_ID" --listen-host "$ipaddr" --rpc-host 0.0.0.0 \
    --attester-key validator --gateway-keyring-backend test --overwrite
  $BERYLD keys add validator --home "$home" --keyring-backend test -o json > "$home/validator-key.json"
done
# The demo application's key, in validator-0's keyring (the demo service reads that home read-only).
$BERYLD keys add demo --home "$DATA/validator-0" --keyring-backend test -o json > "$DATA/validator-0/demo-key.json"

coord="$DATA/validator-0"
addr() { $BERYLD keys show "$2" -a --home "$1" --keyring-backend test; }
for i in $(seq 0 $((VALIDATORS - 1))); do
  $BERYLD genesis add-account "$(addr "$DATA/validator-$i" validator)" "$FUNDS" --home "$coord"
done
$BERYLD genesis add-account "$(addr "$coord" demo)" "$FUNDS" --home "$coord"

gateways=""
for i in $(seq 0 $((VALIDATORS - 1))); do gateways="$gateways $($BERYLD gateway address --home "$DATA/validator-$i")"; done
for w in $(seq 1 $WORKERS); do
  node="http://$(ip $(((w - 1) % VALIDATORS))):26657"   # worker w talks to validator (w-1) mod 4
  # shellcheck disable=SC2086
  $BERYLD worker init --home "$DATA/worker-$w" --chain-id "$CHAIN_ID" --node "$node" --gateway $gateways --keyring-backend test --overwrite
  $BERYLD genesis add-account "$(addr "$DATA/worker-$w" worker)" "$FUNDS" --home "$coord"
done

# Every validator's gateway attests with its operator key (init --attester-key names it); a task settles once
# validators with 2/3 of the bonded power attested its output (docs/decisions/0023).
mkdir -p "$DATA/gentx"
for i in $(seq 0 $((VALIDATORS - 1))); do
  home="$DATA/validator-$i"
  [ "$i" -eq 0 ] || cp "$coord/config/genesis.json" "$home/config/genesis.json"
  ipaddr=$(ip "$i")
  $BERYLD genesis gentx validator 10000beryl --moniker "validator-$i" --ip "$ipaddr" --home "$home" --keyring-backend test
  cp "$home"/config/gentx/gentx-*.json "$DATA/gentx/"
done
$BERYLD genesis collect-gentxs --gentx-dir "$DATA/gentx" --home "$coord"
$BERYLD genesis validate --home "$coord"
for i in $(seq 1 $((VALIDATORS - 1))); do
  cp "$coord/config/genesis.json" "$DATA/validator-$i/config/genesis.json"
  $BERYLD genesis collect-gentxs --gentx-dir "$DATA/gentx" --home "$DATA/validator-$i"
done
echo "ceremony: done ($VALIDATORS validators, $WORKERS workers, chain $CHAIN_ID)"
