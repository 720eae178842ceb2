import assert from 'node:assert/strict'
import { MAX_PEER_ENTRIES, MAX_PENDING_AUTH } from '../../../gateway/gateway.ts'
import { PeerTable, RATE_WINDOW_MS } from '../../../gateway/peers.ts'

// The gateway's defaults (gateway.ts): the table under test is the one every Gateway builds.
const LIMITS = { maxStreamsPerPeer: 4, maxResultsPerMinute: 30, maxPeerEntries: MAX_PEER_ENTRIES, maxPendingAuth: MAX_PENDING_AUTH }
const peerId = (i: number) => `12D3KooW${i.toString(36).padStart(44, '0')}`

describe("the gateway's per-peer tables", () => {
  let now = 1_000_000
  beforeEach(() => {
    now = 1_000_000
  })
  const table = (limits = LIMITS) => new PeerTable(limits, () => now)

  it('10 000 distinct peer ids keep every per-peer map bounded', () => {
    const t = table()
    const caps = { streams: MAX_PEER_ENTRIES, resultRate: MAX_PEER_ENTRIES, pendingAuth: MAX_PENDING_AUTH }
    const within = (where: string) => {
      const s = t.sizes()
      for (const k of Object.keys(caps) as (keyof typeof caps)[]) assert.ok(s[k] <= caps[k], `${where}: ${k} holds ${s[k]} entries, over its cap of ${caps[k]}`)
    }
    const admitted: string[] = []
    let authing = 0
    // Every peer id opens a stream it never closes, starts a challenge it never answers, and makes a result request.
    for (let i = 0; i < 10_000; i++) {
      const p = peerId(i)
      if (t.openStream(p) === undefined) admitted.push(p)
      if (t.beginAuth()) authing++
      assert.equal(t.takeResultRequest(p), true, 'a new peer has its whole budget')
      now += 1
      within(`after peer ${i}`)
    }
    // The tables are full, not empty: they do track peers.
    assert.deepEqual(t.sizes(), caps)
    assert.equal(admitted.length, MAX_PEER_ENTRIES, 'new peers are refused once the stream table is full')
    assert.equal(authing, MAX_PENDING_AUTH, 'new challenges are refused once as many wait as allowed')
    assert.match(t.openStream(peerId(10_001))!, /serves as many peers as it can/)
    // A peer already in the table still gets its other streams (up to its own limit).
    assert.equal(t.openStream(admitted[0]!), undefined)
    // The most recent peers are the ones still rate-tracked: the 10 000th has spent 1 of its 30.
    for (let k = 1; k < LIMITS.maxResultsPerMinute; k++) assert.equal(t.takeResultRequest(peerId(9_999)), true)
    assert.equal(t.takeResultRequest(peerId(9_999)), false, 'its budget is spent')

    // Everything ends: streams close, challenges end, requests leave the window.
    t.closeStream(admitted[0]!)
    for (const p of admitted) t.closeStream(p)
    for (let k = 0; k < authing; k++) t.endAuth()
    now += RATE_WINDOW_MS
    assert.equal(t.prune(), MAX_PEER_ENTRIES)
    assert.deepEqual(t.sizes(), { streams: 0, resultRate: 0, pendingAuth: 0 })
    // And again: a second wave of 10 000 fresh ids is bounded the same way.
    for (let i = 10_000; i < 20_000; i++) {
      t.takeResultRequest(peerId(i))
      if (t.openStream(peerId(i)) === undefined) t.closeStream(peerId(i))
      within(`second wave, peer ${i}`)
    }
    assert.equal(t.sizes().streams, 0, 'a closed stream leaves no entry')
  })

  it('a peer holds at most maxStreamsPerPeer streams; its entry goes with its last stream', () => {
    const t = table()
    for (let k = 0; k < 4; k++) assert.equal(t.openStream('a'), undefined)
    assert.match(t.openStream('a')!, /too many streams from this peer/)
    assert.equal(t.openStream('b'), undefined, 'another peer is not affected')
    for (let k = 0; k < 4; k++) t.closeStream('a')
    assert.deepEqual(t.sizes().streams, 1)
    assert.equal(t.openStream('a'), undefined)
  })

  it('the result budget is per peer and per minute; a full rate table forgets its least recently used peer', () => {
    const t = table({ ...LIMITS, maxResultsPerMinute: 2, maxPeerEntries: 3 })
    assert.equal(t.takeResultRequest('a'), true)
    assert.equal(t.takeResultRequest('a'), true)
    assert.equal(t.takeResultRequest('a'), false)
    now += RATE_WINDOW_MS / 2
    assert.equal(t.takeResultRequest('a'), false, 'still within the minute')
    assert.equal(t.takeResultRequest('b'), true)
    assert.equal(t.takeResultRequest('c'), true)
    now += RATE_WINDOW_MS / 2
    assert.equal(t.takeResultRequest('a'), true, 'a minute later the budget is back')
    // b is now the least recently used: a fourth peer evicts it, not a.
    assert.equal(t.takeResultRequest('d'), true)
    assert.equal(t.sizes().resultRate, 3)
    assert.equal(t.takeResultRequest('a'), true)
    assert.equal(t.takeResultRequest('a'), false, "a's history was kept")
    // Idle entries are pruned; busy ones stay.
    now += RATE_WINDOW_MS - 1
    assert.equal(t.prune(), 1, 'c made its request more than a minute ago')
    assert.equal(t.sizes().resultRate, 2)
    now += 1
    assert.equal(t.prune(), 2, 'a and d, a minute after theirs')
    assert.equal(t.sizes().resultRate, 0)
  })

  it('pending authentications are capped over all peers', () => {
    const t = table({ ...LIMITS, maxPendingAuth: 2 })
    assert.equal(t.beginAuth(), true)
    assert.equal(t.beginAuth(), true)
    assert.equal(t.beginAuth(), false)
    t.endAuth()
    assert.equal(t.beginAuth(), true)
    assert.equal(t.sizes().pendingAuth, 2)
  })
})
