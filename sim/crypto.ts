import { createHash } from 'node:crypto'
import type { BerylModules } from '../modules/index.ts'
import { ecvrfProofToHash, ecvrfProve, ecvrfPublicKey, isSelectedForValidation } from '../modules/vss/index.ts'

/**
 * The creator's VRF, real or fast. `real` is ECVRF-EDWARDS25519-SHA512-TAI as the chain verifies it
 * (about 9 ms to prove and 5 ms to verify here: 14 ms of every task, the twin's largest single
 * cost). `fast` replaces it, on both sides, with a keyed hash of the same shape (an 80-byte proof
 * whose first 64 bytes are beta = SHA-512(pk ‖ seed)), for the scale runs only: selection is still
 * "beta < rate · 2^512" on a uniform beta fixed after the seed, so every sampling decision has the
 * same distribution. What fast mode gives up is unforgeability, which no agent of the twin tries:
 * a creator who could choose beta is not among the strategies.
 */
export type VrfMode = 'real' | 'fast'

export interface Vrf {
  publicKey(secretKey: Uint8Array): Uint8Array
  prove(secretKey: Uint8Array, seed: Uint8Array): Uint8Array
  /** beta of a proof (what the creator reads to know whether it is sampled). */
  beta(proof: Uint8Array): Uint8Array
}

const fastBeta = (pk: Uint8Array, seed: Uint8Array) => new Uint8Array(createHash('sha512').update(pk).update(seed).digest())

export function vrf(mode: VrfMode): Vrf {
  if (mode === 'real') return { publicKey: ecvrfPublicKey, prove: ecvrfProve, beta: (p) => ecvrfProofToHash(p)! }
  return {
    publicKey: (sk) => new Uint8Array(createHash('sha256').update('beryl-sim-fast-vrf').update(sk).digest()),
    prove: (sk, seed) => {
      const pk = new Uint8Array(createHash('sha256').update('beryl-sim-fast-vrf').update(sk).digest())
      const out = new Uint8Array(80)
      out.set(fastBeta(pk, seed))
      return out
    },
    beta: (p) => p.subarray(0, 64),
  }
}

/** In fast mode the vss keeper checks the fast proof; the rest of the module is untouched. */
export function patchVrf(mode: VrfMode): ((m: BerylModules) => void) | undefined {
  if (mode === 'real') return undefined
  return (m) => {
    m.keepers.vss.selected = (pk, proof, seed, rate) => {
      const beta = fastBeta(pk, seed)
      if (proof.length !== 80 || Buffer.compare(Buffer.from(proof.subarray(0, 64)), Buffer.from(beta)) !== 0) return undefined
      return isSelectedForValidation(beta, rate)
    }
  }
}
