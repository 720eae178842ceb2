// Outputs held and attested by the validator set (docs/decisions/0023), on a real 4-validator network (gentx
// ceremony, four `beryld start` processes with their gateways replicating from each other), three real worker
// processes and the SDK. Every task is sampled (a group of three), so its attestation needs no reveal and a
// validator can be made to attest a wrong hash by hand.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { downloadResult } from '../../gateway/client.ts'
import { BerylClient } from '../../sdk/index.ts'
import { type Task, TaskStatus } from '../../proto/gen/beryl/task/v1/types.ts'
import { ensureBundledModels } from '../../worker/models/store.ts'
import { pickPorts } from '../../cli/devnet.ts'
import { homePaths } from '../../chain/node/config.ts'
import { waitFor } from '../helpers/node.ts'
import { FAST_VALIDATOR_PARAMS, fee, heightOf, rpcGet, startTestNetwork, waitForSetSize, type TestNetwork } from '../helpers/network.ts'
import { createTestWorker, type TestWorker } from '../helpers/worker.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const ARGS = { prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 2, seed: 7 }

describe('outputs attested by ≥ 2/3 of the validator set, on a real 4-validator network', function () {
  this.timeout(900_000)
  let net: TestNetwork
  let workers: TestWorker[] = []
  let client: BerylClient
  let creator: string
  let creatorWallet: DirectSecp256k1HdWallet
  let keyStoreDir: string
  const gateways = () => net.validators.map((v) => v.gateway)

  before(async () => {
    net = await startTestNetwork({
      validators: 4,
      accounts: 4,
      genesis: (s) => {
        // A validator stopped for a test is not jailed for it (a 20-block window would jail it in 4 s): with one
        // validator jailed and another killed, the remaining 2/3 exactly could not commit blocks (CometBFT needs more).
        s.validator = { params: { ...FAST_VALIDATOR_PARAMS, signed_blocks_window: '10000' } }
        s.task = { params: { min_eligible_nodes: 3 } }
        s.vss = { params: { min_sampling_rate: '1000000000000000000' } }
      },
    })
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-models-'))
    await ensureBundledModels(modelDir)
    // Each worker uploads to validator 0's gateway first (its own), and fails over down the list.
    for (let i = 0; i < 3; i++)
      workers.push(
        await createTestWorker({ chainId: net.chainId, rpc: net.validators[1]!.rpc, gateways: gateways(), mnemonic: net.accounts[i]!.mnemonic, modelDir }),
      )
    workers.forEach((w) => w.start())
    await Promise.all(workers.map((w) => w.waitForLog(/gateway: session open/, 180_000)))
    creatorWallet = await DirectSecp256k1HdWallet.fromMnemonic(net.accounts[3]!.mnemonic, { prefix: 'beryl' })
    creator = net.accounts[3]!.address
    keyStoreDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-sdk-'))
    client = await BerylClient.connect(net.validators[1]!.rpc, creatorWallet, { gateways: gateways().slice(1), keyStoreDir })
  })
  // On a failure, what each validator and worker said (the network's folder goes with the cleanup).
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-attestation-logs-'))
    for (const v of net.validators) fs.copyFileSync(path.join(homePaths(v.home).logs, 'beryld.log'), path.join(dir, `${v.moniker}.log`))
    workers.forEach((w, i) => fs.writeFileSync(path.join(dir, `worker-${i}.log`), w.output()))
    console.log(`logs of the failed test: ${dir}`)
  })
  after(async () => {
    client?.disconnect()
    await Promise.all(workers.map((w) => w.cleanup()))
    await net?.cleanup()
  })

  /** The task's representative (the member that delivers the output) after a run. */
  const settledEvent = async (t: Task) => {
    const r = await rpcGet(net.validators[1]!.rpc, `tx_search?query="result_settled.task='${hex(t.taskIdCommitment)}'"`)
    const attrs = (r.txs[0]?.tx_result?.events ?? []).find((e: { type: string }) => e.type === 'result_settled')?.attributes ?? []
    return Object.fromEntries(attrs.map((a: { key: string; value: string }) => [a.key, a.value])) as Record<string, string>
  }
  const operators = () => net.validators.map((v) => v.account)

  it('a task settles with attestations from ≥ 3 of 4 validators, the event names them; a download before settlement is refused', async () => {
    let refused = ''
    const r = await client.runTask({
      type: 'image',
      args: ARGS,
      fee: 2_000_000n,
      onProgress: async (p) => {
        if (p.stage !== 'validated' || refused) return
        refused = 'asking'
        // The group's members: the one waiting for its output is the one a creator would download.
        const members = await Promise.all(p.commitments.map((c) => client.query.task.task(c)))
        const t = members.find((m) => m.status === TaskStatus.TASK_STATUS_GROUP_VALIDATED)
        if (!t) return void (refused = `no member waits for its output: ${members.map((m) => TaskStatus[m.status]).join(', ')}`)
        refused = await downloadResult(gateways()[2]!, { chainId: net.chainId, signer: creatorWallet, address: creator }, t.taskIdCommitment).then(
          () => 'delivered',
          (err: Error) => err.message,
        )
      },
    })
    assert.match(refused, /not settled yet/)
    const t = r.task
    assert.ok([TaskStatus.TASK_STATUS_END_SUCCESS, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS].includes(t.status))
    const e = await settledEvent(t)
    const named = (e.validators ?? '').split(',').filter(Boolean)
    assert.ok(named.length >= 3, `settled by ${named.length} validators: ${JSON.stringify(e)}`)
    assert.ok(named.every((a) => operators().includes(a)))
    assert.equal(e.result_hash, hex(t.resultHash))
    assert.ok(t.attestations.filter((a) => hex(a.resultHash) === hex(t.resultHash)).length >= 3)
  })

  it('one validator attesting a wrong hash changes nothing, and its attestation is visible in the task query', async () => {
    const v3 = net.validators[3]!
    // Validator 3's own gateway attests with the same operator key: it would race the wrong attestation (and win,
    // the attestation then being unchangeable). Its node is stopped for this test (3 of 4 still settle) and the
    // wrong attestation goes through validator 1's RPC, signed with validator 3's operator key.
    await net.procs[3]!.stop()
    try {
      await attestWrong(v3)
    } finally {
      net.procs[3]!.start()
    }
  })
  const attestWrong = async (v3: TestNetwork['validators'][number]) => {
    const { client: op } = await net.client(v3.home, 'validator', net.validators[1]!.rpc)
    const wrong = new Uint8Array(32).fill(0xee)
    let sent = false
    const r = await client.runTask({
      type: 'image',
      args: { ...ARGS, seed: 8 },
      fee: 2_000_000n,
      onProgress: async (p) => {
        if (p.stage !== 'validated' || sent) return
        sent = true
        // The member waiting for its output: in a group, the fastest member represents it (not always the first task).
        const members = await Promise.all(p.commitments.map((c) => client.query.task.task(c)))
        const rep = members.find((m) => [TaskStatus.TASK_STATUS_VALIDATED, TaskStatus.TASK_STATUS_GROUP_VALIDATED].includes(m.status))!
        const res = await op.signAndBroadcast(
          v3.account,
          [{ typeUrl: '/beryl.task.v1.MsgAttestResult', value: { attester: v3.account, taskIdCommitment: rep.taskIdCommitment, resultHash: wrong } }],
          fee(40_000, 1_500_000),
        )
        assert.equal(res.code, 0, res.rawLog)
      },
    })
    assert.ok(sent)
    const t = await client.query.task.task(hex(r.task.taskIdCommitment))
    assert.equal(t.status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
    assert.notEqual(hex(t.resultHash), hex(wrong))
    const mine = t.attestations.find((a) => a.validator === v3.account)
    assert.equal(mine && hex(mine.resultHash), hex(wrong), 'the wrong attestation is kept, visible')
    const named = (await settledEvent(t)).validators!.split(',')
    assert.ok(!named.includes(v3.account))
    assert.equal(named.length, 3)
  }

  it('the SDK retries across gateways: with one gateway down the output comes from another', async () => {
    const down = `/ip4/127.0.0.1/tcp/${(await pickPorts(true)).p2p}/p2p/${gateways()[1]!.split('/p2p/')[1]}`
    const c = await BerylClient.connect(net.validators[2]!.rpc, creatorWallet, { gateways: [down, ...gateways().slice(2)], keyStoreDir })
    try {
      const r = await c.runTask({ type: 'image', args: { ...ARGS, seed: 9 }, fee: 2_000_000n })
      assert.notEqual(r.gateway, down)
      assert.ok(gateways().includes(r.gateway))
      assert.equal(r.outputs.length, 1)
    } finally {
      c.disconnect()
    }
  })

  it('with one validator down (3 of 4 = 75 % of the power) tasks keep settling', async () => {
    await net.procs[3]!.stop()
    try {
      const r = await client.runTask({ type: 'image', args: { ...ARGS, seed: 10 }, fee: 2_000_000n })
      const named = (await settledEvent(r.task)).validators!.split(',')
      assert.deepEqual(named.sort(), operators().slice(0, 3).sort())
    } finally {
      net.procs[3]!.start()
    }
  })

  it("with the worker's own gateway killed right after its upload, the others attest the replicated output and the creator downloads it from another", async () => {
    const v0 = net.validators[0]!
    // Validator 3, restarted by the previous test, must be back in step: without it, killing validator 0 would leave 50 %.
    const h = await heightOf(net.validators[1]!.rpc)
    await waitFor('validator 3 caught up', async () => ((await heightOf(net.validators[3]!.rpc).catch(() => 0n)) >= h ? true : undefined), 120_000)
    await waitForSetSize(net.validators[1]!.rpc, 4)
    // The worker uploads to validator 0's gateway (every worker's first); as soon as that gateway has stored the
    // output, validator 0 is killed: the worker fails over to the next gateway, which asks for the output again,
    // and the others replicate it from there.
    let commitments: string[] = []
    const run = client.runTask({
      type: 'image',
      args: { ...ARGS, seed: 11 },
      fee: 2_000_000n,
      onProgress: (p) => {
        commitments = p.commitments
      },
    })
    const logFile = path.join(homePaths(v0.home).logs, 'beryld.log')
    await waitFor(
      "validator 0's gateway storing the output",
      async () => (commitments.some((c) => fs.readFileSync(logFile, 'utf8').includes(`stored the output of task ${c}`)) ? true : undefined),
      300_000,
    )
    await net.procs[0]!.kill()
    const r = await run
    assert.notEqual(r.gateway, v0.gateway)
    const named = (await settledEvent(r.task)).validators!.split(',')
    assert.ok(named.length >= 3)
    assert.ok(named.filter((a) => a !== v0.account).length >= 2, 'the others attested the output they replicated')
  })
})
