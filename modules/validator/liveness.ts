/**
 * Liveness from `decided_last_commit`: a validator is counted from its start height, over a
 * sliding window of the last `signed_blocks_window` blocks (a ring bitmap of missed blocks).
 *
 * | rule | value |
 * |---|---|
 * | signed | the vote's block id flag is COMMIT (2) or NIL (3); ABSENT (1) is a miss |
 * | max missed | ⌊window · max_missed_ppm / 10⁶⌋ |
 * | jailed for downtime | counted for more than `window` blocks and missed > max missed |
 * | then | slashed `downtime_slash_ppm`, jailed `downtime_jail_seconds`, counters and bitmap reset |
 */
export const BLOCK_ID_FLAG_COMMIT = 2
export const BLOCK_ID_FLAG_NIL = 3

export function maxMissed(window: bigint, maxMissedPpm: number): bigint {
  return (window * BigInt(maxMissedPpm)) / 1_000_000n
}

export function isDown(counted: bigint, missed: bigint, window: bigint, maxMissedPpm: number): boolean {
  return counted > window && missed > maxMissed(window, maxMissedPpm)
}
