// The gateway's per-peer bookkeeping, all of it: the streams each peer holds open, its recent result
// requests, and how many streams wait for a challenge's answer. A libp2p peer id costs nothing to make,
// so nothing here may grow with the number of peer ids ever seen: every table has a hard cap on its
// entries, and entries go when they stop mattering (a peer's last stream closes, its requests leave
// the rate window).

/** The one rate window of the gateway's per-minute budgets. */
export const RATE_WINDOW_MS = 60_000

export interface PeerTableLimits {
  /** Streams (both protocols) one peer may hold open. */
  maxStreamsPerPeer: number
  /** Result uploads and downloads one peer may make per minute. */
  maxResultsPerMinute: number
  /** Entries each per-peer table may hold (peers with an open stream; peers with a request in the rate window). */
  maxPeerEntries: number
  /** Streams, over all peers, that wait for the answer to their challenge. */
  maxPendingAuth: number
}

/** Entry counts of every per-peer table (what `Gateway.stats()` reports). */
export interface PeerTableSizes {
  /** Peers with at least one open stream. */
  streams: number
  /** Peers with a result request in the rate window. */
  resultRate: number
  /** Streams waiting for the answer to their challenge. */
  pendingAuth: number
}

/**
 * Per-peer state with hard caps. Open streams are live resources, so a new peer is refused while
 * the stream table is full (a stream's count cannot be forgotten while it is open); rate entries
 * are history, so a full rate table forgets its least recently used peer (which at worst gives that
 * peer a fresh budget, as a new peer id would), and `prune` drops the ones whose requests have all
 * left the window.
 */
export class PeerTable {
  private readonly streams = new Map<string, number>()
  /** Request times in the window, per peer; Map order is least recently used first. */
  private readonly resultRate = new Map<string, number[]>()
  private pendingAuth = 0

  constructor(
    private readonly limits: PeerTableLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits a new stream from `peer` (undefined; call `closeStream` when it ends), or the reason it is refused. */
  openStream(peer: string): string | undefined {
    const open = this.streams.get(peer) ?? 0
    if (open >= this.limits.maxStreamsPerPeer) return 'too many streams from this peer'
    if (open === 0 && this.streams.size >= this.limits.maxPeerEntries) return 'the gateway serves as many peers as it can; try later'
    this.streams.set(peer, open + 1)
    return undefined
  }

  closeStream(peer: string): void {
    const left = (this.streams.get(peer) ?? 1) - 1
    if (left > 0) this.streams.set(peer, left)
    else this.streams.delete(peer)
  }

  /** A stream starts waiting for its challenge's answer: false (refuse it) when too many already wait. */
  beginAuth(): boolean {
    if (this.pendingAuth >= this.limits.maxPendingAuth) return false
    this.pendingAuth++
    return true
  }

  /** The answer came, was refused, or the stream ended: once per successful `beginAuth`. */
  endAuth(): void {
    if (this.pendingAuth > 0) this.pendingAuth--
  }

  /** Counts a result request of `peer` against its per-minute budget; false when the budget is spent. */
  takeResultRequest(peer: string): boolean {
    const now = this.now()
    const times = this.resultRate.get(peer) ?? []
    while (times.length && times[0]! <= now - RATE_WINDOW_MS) times.shift()
    // Delete and set again: the peer becomes the most recently used.
    this.resultRate.delete(peer)
    const allowed = times.length < this.limits.maxResultsPerMinute
    if (allowed) times.push(now)
    if (times.length === 0) return allowed
    while (this.resultRate.size >= this.limits.maxPeerEntries) this.resultRate.delete(this.resultRate.keys().next().value!)
    this.resultRate.set(peer, times)
    return allowed
  }

  /** Drops rate entries with no request left in the window; returns how many went. The gateway calls it every minute. */
  prune(): number {
    const since = this.now() - RATE_WINDOW_MS
    let removed = 0
    for (const [peer, times] of this.resultRate) {
      if (times.length === 0 || times.at(-1)! <= since) {
        this.resultRate.delete(peer)
        removed++
      }
    }
    return removed
  }

  sizes(): PeerTableSizes {
    return { streams: this.streams.size, resultRate: this.resultRate.size, pendingAuth: this.pendingAuth }
  }
}
