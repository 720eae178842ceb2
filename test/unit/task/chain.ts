import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { QueryBalanceRequest, QueryBalanceResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query'
import type { BerylApp } from '../../../chain/app.ts'
import { ecvrfProve, ecvrfPublicKey } from '../../../modules/vss/ecvrf.ts'
import { QueryNodeRequest } from '../../../proto/gen/beryl/staking/v1/query.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../../proto/gen/beryl/task/v1/query.ts'
import { TaskType, type Task } from '../../../proto/gen/beryl/task/v1/types.ts'
import { BlockRunner, initChain, openApp, wallets, type Wallet } from '../../helpers/chain.ts'
import { genTx } from '../validator/chain.ts'

export const MODEL = 'ab'.repeat(32)
export const T0 = 1_700_000_000n
export const STAKE = 400_000_000n
export const VRF_SK = createHash('sha256').update('creator vrf key').digest()
const VRF_PK = ecvrfPublicKey(VRF_SK)
export const HONEST = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
export const CHEAT = HONEST.map((b) => b ^ 0xff)
export const sha = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return h.digest()
}

/** 1 BERYL: a validator's power is its bond in BERYL. */
export const POWER = 1_000_000n

/**
 * A chain with GPU nodes (six by default), a creator and bonded validators whose operator accounts attest
 * results; `taskParams` goes into the task genesis (min_sampling_rate into vss's). `validatorPowers` are the
 * validators' powers (by default one validator, which alone holds all the power, as on a devnet);
 * `env.attester` is the first validator.
 */
/**
 * A chain of `nodeCount` joined nodes (at STAKE each), a creator and validators. Up to six nodes the wallets are laid
 * out as they always were (creator at index 6); with more, the creator and validators come after the nodes.
 * `stakingParams` overrides the staking module's genesis params (e.g. a lower min_stake).
 */
export function chain(taskParams: Record<string, string>, nodeCount = 6, validatorPowers: bigint[] = [100n], stakingParams?: Record<string, string>) {
  const env = {} as {
    app: BerylApp
    close: () => Promise<void>
    w: Wallet[]
    nodes: Wallet[]
    creator: Wallet
    attester: Wallet
    validators: Wallet[]
    blocks: BlockRunner
    /** The last block's time. */
    readonly now: bigint
  }
  beforeEach(async () => {
    const base = Math.max(7, nodeCount + 1)
    env.w = await wallets(base + validatorPowers.length)
    env.nodes = env.w.slice(0, nodeCount)
    env.creator = env.w[Math.max(6, nodeCount)]!
    env.validators = env.w.slice(base)
    env.attester = env.validators[0]!
    ;({ app: env.app, close: env.close } = await openApp())
    const { min_sampling_rate, ...rest } = taskParams
    // The genesis ceremony bonds each validator's power in BERYL out of its 1000 BERYL.
    const genTxs = await Promise.all(env.validators.map((v, i) => genTx(base + i, v.address, validatorPowers[i]! * POWER, `val${i}`)))
    await initChain(
      env.app,
      env.w.map((x) => x.address),
      {
        task: { params: { min_eligible_nodes: '3', ...rest } },
        validator: { params: { min_self_bond: POWER.toString() }, gen_txs: genTxs },
        ...(min_sampling_rate !== undefined ? { vss: { params: { min_sampling_rate } } } : {}),
        ...(stakingParams ? { staking: { params: stakingParams } } : {}),
      },
    )
    env.blocks = new BlockRunner(env.app, T0, { gas: '3000000', fee: '100000' })
    Object.defineProperty(env, 'now', { get: () => env.blocks.now, configurable: true })
    await run([])
    const r = await run(
      env.nodes.map((n) => [
        n,
        {
          typeUrl: '/beryl.staking.v1.MsgJoin',
          value: { address: n.address, gpuName: 'NVIDIA GeForce RTX 4090', gpuVramGb: 24, runnerVersion: '1.0.0', modelIds: [MODEL], stake: STAKE.toString() },
        },
      ]),
    )
    assert.ok(r.every((x) => x.code === 0))
  })
  afterEach(async () => {
    await env.close()
  })

  async function run(txs: Array<[Wallet, unknown]>, t?: bigint) {
    return env.blocks.run(txs, t)
  }
  const query = async (path: string, data: Uint8Array) => env.app.query({ path, data, height: 0n, prove: false })
  const task = async (c: Uint8Array): Promise<Task> =>
    QueryTaskResponse.decode((await query('/beryl.task.v1.Query/Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).value!).task!
  const balance = async (address: string) =>
    BigInt(
      QueryBalanceResponse.decode((await query('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: 'uberyl' }).finish())).value!)
        .balance!.amount,
    )
  const nodeExists = async (address: string) => (await query('/beryl.staking.v1.Query/Node', QueryNodeRequest.encode({ address }).finish())).code === 0
  const createMsg = (taskId: Uint8Array, nonceTag: string, fee: bigint, args = JSON.stringify({ prompt: 'a lighthouse' })) => {
    const nonce = sha(Buffer.from(nonceTag))
    const commitment = sha(taskId, nonce)
    return {
      commitment,
      msg: {
        typeUrl: '/beryl.task.v1.MsgCreateTask',
        value: {
          creator: env.creator.address,
          taskIdCommitment: commitment,
          nonce,
          taskType: TaskType.TASK_TYPE_IMAGE,
          args,
          modelIds: [MODEL],
          minVramGb: 8,
          requiredGpu: '',
          requiredGpuVramGb: 0,
          taskVersion: '1.0.0',
          fee: fee.toString(),
          vrfPublicKey: VRF_PK,
        },
      },
    }
  }
  const nodeOf = (t: Task) => env.nodes.find((n) => n.address === t.selectedNode)!
  /** What each node committed to, by task: the score (empty for an error report) and its salt. */
  const answers = new Map<string, { score: Uint8Array; salt: Uint8Array }>()
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
  /** The node commits to `s` (MsgSubmitScore with sha256(s ‖ salt)); `error` commits an error report. */
  const score = (t: Task, s: Uint8Array | 'error') => {
    const answer = { score: s === 'error' ? new Uint8Array() : s, salt: sha(Buffer.from('salt'), t.taskIdCommitment) }
    answers.set(hex(t.taskIdCommitment), answer)
    return [
      nodeOf(t),
      {
        typeUrl: '/beryl.task.v1.MsgSubmitScore',
        value: { node: t.selectedNode, taskIdCommitment: t.taskIdCommitment, scoreCommitment: sha(answer.score, answer.salt) },
      },
    ] as [Wallet, unknown]
  }
  /** The node opens its commitment (or, with `as`, tries to open it with another answer). */
  const reveal = (t: Task, as?: { score: Uint8Array; salt?: Uint8Array }) => {
    const a = answers.get(hex(t.taskIdCommitment))!
    return [
      nodeOf(t),
      {
        typeUrl: '/beryl.task.v1.MsgRevealResult',
        value: { node: t.selectedNode, taskIdCommitment: t.taskIdCommitment, score: as?.score ?? a.score, salt: as?.salt ?? a.salt },
      },
    ] as [Wallet, unknown]
  }
  const validateMsg = async (commitments: Uint8Array[], taskId: Uint8Array) => {
    const first = await task(commitments[0]!)
    return [
      env.creator,
      {
        typeUrl: '/beryl.task.v1.MsgValidateTask',
        value: { creator: env.creator.address, taskIdCommitments: commitments, taskId, vrfProof: ecvrfProve(VRF_SK, first.samplingSeed) },
      },
    ] as [Wallet, unknown]
  }
  /** The result hash honest gateways compute for every upload in these tests. */
  const RESULT_HASH = new Uint8Array(32).fill(9)
  /**
   * A validator's gateway confirms the upload (by default the first validator, which on the default chain holds
   * all the power); a validated single task's attestation carries the node's reveal.
   */
  const attest = (c: Uint8Array, reveal = answers.get(hex(c)), by: Wallet = env.attester, resultHash: Uint8Array = RESULT_HASH) =>
    [
      by,
      {
        typeUrl: '/beryl.task.v1.MsgAttestResult',
        value: { attester: by.address, taskIdCommitment: c, resultHash, score: reveal?.score, salt: reveal?.salt },
      },
    ] as [Wallet, unknown]
  /**
   * A sampled task's whole group: T1 created and committed (`answer(0)`), validated by its creator, the
   * chain's two seats committed one block apart (`answer(1)`, `answer(2)`), then all three revealed in
   * one block. Returns the members as they were before the reveals (T1 first) and the reveal results.
   */
  const runGroup = async (tag: string, answer: (i: number) => Uint8Array | 'error', fee = 1_700_003n) => {
    const taskId = sha(Buffer.from(tag))
    const m = createMsg(taskId, tag, fee)
    await run([[env.creator, m.msg]])
    await run([score(await task(m.commitment), answer(0))])
    const [v] = await run([await validateMsg([m.commitment], taskId)])
    assert.equal(v!.code, 0, v!.log)
    const seats = (await task(m.commitment)).validationTasks
    assert.equal(seats.length, 2, 'the task was selected: two validation tasks')
    for (let i = 0; i < 2; i++) await run([score(await task(seats[i]!), answer(i + 1))])
    const members = await Promise.all([m.commitment, ...seats].map((x) => task(x)))
    const reveals = await run(members.map((t) => reveal(t)))
    return { taskId, members, reveals }
  }
  return { env, run, task, balance, nodeExists, createMsg, nodeOf, score, reveal, answers, validateMsg, attest, RESULT_HASH, query, runGroup }
}
