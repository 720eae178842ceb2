/**
 * Fee distribution: each block, the fee collector's whole balance F is split among the active set
 * by power, in integers.
 *
 * | who | gets |
 * |---|---|
 * | active validator i with power pᵢ (total P) | ⌊F·pᵢ / P⌋ |
 * | the fee collector (remainder rule) | F − Σ⌊F·pᵢ / P⌋ (< number of validators), carried into the next block's F |
 * | the operator, of validator i's share sᵢ | all of sᵢ: with self-bond only (no delegators yet) commission is the operator's anyway; `commission(sᵢ, c)` = ⌊sᵢ·c / 10⁶⌋ is what a delegation issue will split off |
 *
 * Nothing is created or lost: Σ shares + remainder = F.
 */
export function splitByPower(fees: bigint, powers: bigint[]): { shares: bigint[]; remainder: bigint } {
  const total = powers.reduce((a, p) => a + p, 0n)
  if (fees <= 0n || total <= 0n) return { shares: powers.map(() => 0n), remainder: fees > 0n ? fees : 0n }
  const shares = powers.map((p) => (fees * p) / total)
  return { shares, remainder: fees - shares.reduce((a, s) => a + s, 0n) }
}

/** The commission cut of a share, in millionths (rounded down: the rest goes to delegators). */
export function commission(share: bigint, commissionPpm: number): bigint {
  return (share * BigInt(commissionPpm)) / 1_000_000n
}
