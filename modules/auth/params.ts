import type { Params } from 'cosmjs-types/cosmos/auth/v1beta1/auth'

export const BECH32_PREFIX = 'beryl'

export const DEFAULT_PARAMS: Params = {
  maxMemoCharacters: 256n,
  txSigLimit: 7n,
  txSizeCostPerByte: 10n,
  sigVerifyCostEd25519: 590n,
  sigVerifyCostSecp256k1: 1000n,
}

/** The genesis names of the parameters (Cosmos' snake_case), unsigned integer strings. */
export interface GenesisParams {
  max_memo_characters?: string
  tx_sig_limit?: string
  tx_size_cost_per_byte?: string
  sig_verify_cost_secp256k1?: string
}

export function paramsFromGenesis(p: GenesisParams = {}): Params {
  const known = new Set(['max_memo_characters', 'tx_sig_limit', 'tx_size_cost_per_byte', 'sig_verify_cost_secp256k1', 'sig_verify_cost_ed25519'])
  for (const k of Object.keys(p)) if (!known.has(k)) throw new Error(`auth.params: unknown parameter ${JSON.stringify(k)}`)
  const num = (v: string | undefined, d: bigint, name: string) => {
    if (v === undefined) return d
    if (!/^\d+$/.test(String(v))) throw new Error(`auth.params.${name} must be an unsigned integer string`)
    return BigInt(v)
  }
  return {
    maxMemoCharacters: num(p.max_memo_characters, DEFAULT_PARAMS.maxMemoCharacters, 'max_memo_characters'),
    txSigLimit: num(p.tx_sig_limit, DEFAULT_PARAMS.txSigLimit, 'tx_sig_limit'),
    txSizeCostPerByte: num(p.tx_size_cost_per_byte, DEFAULT_PARAMS.txSizeCostPerByte, 'tx_size_cost_per_byte'),
    sigVerifyCostEd25519: DEFAULT_PARAMS.sigVerifyCostEd25519,
    sigVerifyCostSecp256k1: num(p.sig_verify_cost_secp256k1, DEFAULT_PARAMS.sigVerifyCostSecp256k1, 'sig_verify_cost_secp256k1'),
  }
}

export function paramsToGenesis(p: Params): GenesisParams {
  return {
    max_memo_characters: p.maxMemoCharacters.toString(),
    tx_sig_limit: p.txSigLimit.toString(),
    tx_size_cost_per_byte: p.txSizeCostPerByte.toString(),
    sig_verify_cost_secp256k1: p.sigVerifyCostSecp256k1.toString(),
  }
}
