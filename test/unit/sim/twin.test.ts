// The digital twin (sim/): it drives the real modules, it is deterministic, it agrees with the
// closed form where the closed form holds, honest nodes are not slashed, and every adversary
// actually attempts its attack. Small networks and task counts: each `it` runs in seconds.
import assert from 'node:assert/strict'
import { ADVERSARY_NAMES, estimate, reportJson, runMatrix, run, type MatrixSpec } from '../../../sim/index.ts'
import { replayThroughApp } from '../../../sim/replay.ts'
import { simulate } from '../../../sim/scenario.ts'

const small = { nodes: 16, tasks: 40, vrf: 'fast' as const, params: { 'task.min_eligible_nodes': '3' } }
const EVERY_TASK = '1000000000000000000'

describe('the digital twin (sim/)', function () {
  this.timeout(600_000)

  it("drives the real modules: replaying the twin's blocks through the real ABCI app (LevelDB, signed txs) gives the same app hash at every block", async () => {
    const { w, cfg } = await simulate({
      ...small,
      nodes: 12,
      tasks: 16,
      seed: 'replay',
      vrf: 'real',
      appHash: true,
      record: true,
      textShare: 0.25,
      params: { 'task.min_eligible_nodes': '3', 'vss.min_sampling_rate': '300000000000000000' },
    })
    assert.ok(w.chain.recorded.length > 50 && w.chain.totals.txs > 50, 'a real run: blocks and txs')
    const r = await replayThroughApp({
      chainId: w.chain.opts.chainId,
      genesisTime: w.chain.opts.genesisTime,
      appState: w.chain.opts.appState,
      blocks: w.chain.recorded,
      identities: w.identitiesByAddress(),
      txFee: BigInt(cfg.txFee),
      txGas: w.chain.opts.txGas,
      patchKeepers: w.chain.opts.patchKeepers,
    })
    assert.deepEqual(r.mismatches, [], 'every block has the twin’s app hash')
    assert.equal(Buffer.from(r.lastAppHash).toString('hex'), Buffer.from(w.chain.appHash).toString('hex'))
  })

  it('a protocol parameter changes the results with no edit to the twin (min_sampling_rate 1: every task is cross-validated)', async () => {
    const base = await run({ ...small, seed: 'swap' })
    const all = await run({ ...small, seed: 'swap', params: { ...small.params, 'vss.min_sampling_rate': EVERY_TASK } })
    const groups = (o: Record<string, number>) => (o.END_GROUP_SUCCESS ?? 0) + (o.END_GROUP_REFUND ?? 0)
    assert.ok(groups(all.outcomes) > groups(base.outcomes) + 10, `${JSON.stringify(base.outcomes)} → ${JSON.stringify(all.outcomes)}`)
    assert.ok(all.chainWork.txsPerTask > base.chainWork.txsPerTask, 'cross-validation costs transactions')
  })

  it('the same seed gives a byte-identical report.json; another seed does not', async () => {
    const spec = (seeds: string[]): MatrixSpec => ({ presets: ['beryl'], adversaries: ['lazy'], shares: [0.2], fees: [5], seeds, base: small })
    const a = reportJson(await runMatrix(spec(['d1', 'd2'])), spec(['d1', 'd2']))
    const b = reportJson(await runMatrix(spec(['d1', 'd2'])), spec(['d1', 'd2']))
    const c = reportJson(await runMatrix(spec(['d3', 'd2'])), spec(['d1', 'd2']))
    assert.equal(a, b)
    assert.notEqual(a, c)
  })

  /** The plain Sybil at one fee, three seeds pooled: per attacked T1, what the ring got against the closed form. */
  const closedFormRuns = async (fee: number, split: boolean) => {
    // A setting where sampling is frequent enough for a few hundred attacked tasks to measure E:
    // a 40 BERYL stake, a 20% floor, every task validated, no crashes (a crashed seat is a case E does not model).
    // Three seeds pooled (about 400 attacked tasks): one seed's ~130 tasks leave the interval at the mercy of a
    // few lucky groups (at fee 10 after a change of the runs' paths, 2 of 6 single seeds excluded the closed form,
    // their pooled interval did not), and a real disagreement of a few BERYL per task shows at this size.
    const runs = await Promise.all(
      ['a', 'b', 'c'].map((k) =>
        run({
          nodes: 40,
          tasks: 700,
          seed: `closed-${fee}-${k}`,
          vrf: 'fast',
          adversary: 'sybil',
          share: 0.2,
          fees: [{ fee, weight: 1 }],
          textShare: 0,
          validateShare: 1,
          crashRate: 0,
          cancelAfter: 0,
          txFee: 0,
          params: {
            'task.min_eligible_nodes': '3',
            'staking.min_stake': '40000000',
            'vss.min_sampling_rate': '200000000000000000',
            'vss.split_group_fee': String(split),
          },
        }),
      ),
    )
    const perTask = runs.flatMap((r) => r.closedForm!.perTask)
    assert.ok(perTask.length >= 300, `attacked T1s: ${perTask.length}`)
    return { expected: perTask.reduce((a, x) => a + x.e, 0) / perTask.length, e: estimate(perTask.map((x) => x.sim)) }
  }

  // The closed form prices a captured group at one fee: the relay's rule (split_group_fee).
  for (const fee of [2, 10, 30]) {
    it(`the plain Sybil's simulated profit agrees with the closed form E = (1−r)k + r(qk − (1−q)s) at fee ${fee} BERYL (one fee per group)`, async () => {
      const { expected, e } = await closedFormRuns(fee, true)
      assert.ok(e.lo <= expected && expected <= e.hi, `closed form ${expected.toFixed(3)} outside the simulated 95% interval [${e.lo}, ${e.hi}] (n = ${e.n})`)
    })
  }
  // Every matching run paid (the chain's rule, docs/decisions/0025): a captured group pays g = q + 2(d−1)/(n−1) fees.
  for (const fee of [2, 10]) {
    it(`with every matching run paid the simulated profit agrees with E = (1−r)k + r(gk − (1−q)s) at fee ${fee} BERYL`, async () => {
      const { expected, e } = await closedFormRuns(fee, false)
      assert.ok(e.lo <= expected && expected <= e.hi, `closed form ${expected.toFixed(3)} outside the simulated 95% interval [${e.lo}, ${e.hi}] (n = ${e.n})`)
    })
  }
  it('with every matching run paid, at fee 30 BERYL the ring earns no more than the closed form says (its seats fall short of the uniform draw the form assumes)', async () => {
    // Measured: the ring holds a seat in ~19–25% of its sampled groups against the form's q ≈ 0.30 (its identities
    // are re-funded after each slash and start with a new node's QoS, below the honest nodes'; a ring node slashed
    // in one group loses the seats it held in others). With seats paid each missed capture costs k(1 + seats) + s,
    // so the form overstates the ring here by more than the interval. The security claim is this direction.
    const { expected, e } = await closedFormRuns(30, false)
    assert.ok(e.mean <= expected, `the ring earned ${e.mean} per attacked T1, above the closed form ${expected.toFixed(3)}`)
  })

  it('with no adversary no honest node is slashed, with pHash jitter at the threshold’s edge (11 bits each side of 24)', async () => {
    const tasks = Number(process.env.SIM_HONEST_TASKS ?? 1500)
    const r = await run({
      nodes: 40,
      tasks,
      seed: 'honest',
      vrf: 'fast',
      jitterBits: 11,
      params: { 'task.min_eligible_nodes': '3', 'vss.min_sampling_rate': '200000000000000000' },
    })
    assert.equal(r.honestSlashes, 0)
    assert.ok((r.outcomes.END_GROUP_SUCCESS ?? 0) + (r.outcomes.END_GROUP_REFUND ?? 0) > tasks / 10, 'many groups compared honest scores')
    assert.ok(r.delivered > tasks * 0.8, `delivered ${r.delivered} of ${tasks}`)
  })

  // What each strategy must be seen doing (its attempts), so a strategy that silently does nothing fails.
  const MUST: Record<string, string[]> = {
    lazy: ['fake'],
    'sampling-aware': ['watch', 'fake'],
    sybil: ['fake-t1', 'seat-captured'],
    'timeout-gamer': ['fake-t1', 'seat-timed-out'],
    // Under commit–reveal there is nothing to copy before the copycat's own commitment: it looks, finds nothing.
    copycat: ['seat', 'looked'],
    'error-abuser': ['error-report'],
    spoofer: ['claimed-class', 'self-task', 'fake'],
    // The chain creates the group: the creator's choice is refused by the protocol.
    slasher: ['candidate-task', 'colluding-answer', 'refused-by-protocol'],
    flooder: ['flood-task', 'paused-class'],
    'self-dealer': ['self-task', 'self-served'],
  }
  it("the closed form's inputs: the ring's eligible nodes are a part of the task's eligible nodes (text tasks pinned to T1's class are left out)", async () => {
    // A third of the nodes in the ring, text tasks among the images: before, d was the ring's size whatever the task's
    // filters, and a text task's n (its smallest GPU class) could be 4 with d = 13, which made the closed form −136
    // where the ring earned +25 per task.
    const { sim } = await simulate({ ...small, nodes: 30, tasks: 120, seed: 'inputs', adversary: 'sybil', share: 0.33, textShare: 0.5 })
    const recs = sim.measures.attacks.filter((r) => r.strategy === 'sybil')
    assert.ok(recs.length >= 10, `attacked T1s: ${recs.length}`)
    for (const r of recs) assert.ok(r.attackerEligible <= r.eligible, `d = ${r.attackerEligible} > n = ${r.eligible}`)
  })

  it('every adversary has a list of attempts to show', () => assert.deepEqual(Object.keys(MUST).sort(), [...ADVERSARY_NAMES].sort()))
  for (const adversary of ADVERSARY_NAMES) {
    it(`${adversary} actually attempts its attack`, async () => {
      const r = await run({
        ...small,
        nodes: 30,
        tasks: 120,
        seed: `attempt-${adversary}`,
        adversary,
        share: 0.3,
        fees: [{ fee: 50, weight: 1 }],
        params: { 'task.min_eligible_nodes': '3', 'vss.min_sampling_rate': '500000000000000000' },
      })
      const got = r.strategies[adversary]?.attempts ?? {}
      for (const k of MUST[adversary]!) assert.ok((got[k] ?? 0) > 0, `${adversary} never did "${k}": ${JSON.stringify(got)}`)
    })
  }
})
