import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import { GasPrice, QueryClient, SigningStargateClient, createProtobufRpcClient } from '@cosmjs/stargate'
import { Comet38Client } from '@cosmjs/tendermint-rpc'
import { downloadResult } from '../../gateway/client.ts'
import { ecvrfProve, ecvrfPublicKey } from '../../modules/vss/index.ts'
import { QueryNodeRecordRequest, QueryNodeRecordResponse } from '../../proto/gen/beryl/staking/v1/query.ts'
import { QueryTaskRequest, QueryTaskResponse } from '../../proto/gen/beryl/task/v1/query.ts'
import { type Task, TaskStatus, TaskType } from '../../proto/gen/beryl/task/v1/types.ts'
import { berylRegistry } from '../../sdk/index.ts'
import { ensureBundledModels } from '../../worker/models/store.ts'
import { phashPng } from '../../outputs/phash/phash.ts'
import { BUNDLED_MODEL_IDS } from '../../sdk/models.ts'
import { BERYLD, runBeryld, startTestNode, waitFor } from '../helpers/node.ts'
import { pickPorts } from '../../cli/devnet.ts'
import { createTestWorker, type TestWorker } from '../helpers/worker.ts'

const sha = (...p: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of p) h.update(x)
  return h.digest()
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const IMAGE_MODEL = BUNDLED_MODEL_IDS.image
const freePort = async () => (await pickPorts(true)).p2p

/** A chain with its gateway, three real worker processes and a cosmjs creator (account 3). */
async function network(o: { sampleEverything: boolean; faults?: (string | undefined)[] }) {
  const node = await startTestNode({
    accounts: 4,
    genesis: (s) => {
      if (o.sampleEverything) s.vss = { params: { min_sampling_rate: '1000000000000000000' } }
    },
  })
  const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-models-'))
  await ensureBundledModels(modelDir)
  const gw = await runBeryld(['gateway', 'address', '--home', node.home])
  assert.equal(gw.code, 0, gw.stderr)
  const gateway = gw.stdout.trim()
  assert.match(gateway, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/)
  const workers: TestWorker[] = []
  // Worker 2 lists a gateway that is down first: it must fail over to the live one.
  const down = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${gateway.split('/p2p/')[1]}`
  for (let i = 0; i < 3; i++) {
    workers.push(
      await createTestWorker({
        chainId: node.chainId,
        rpc: node.rpc,
        gateways: i === 2 ? [down, gateway] : [gateway],
        mnemonic: node.accounts[i]!.mnemonic,
        modelDir,
      }),
    )
  }
  workers.forEach((w, i) => w.start(o.faults?.[i]))
  await Promise.all(workers.map((w) => w.waitForLog(/gateway: session open/)))
  assert.match(
    workers[2]!.output(),
    /cannot open a session with \/ip4\/127\.0\.0\.1\/tcp\/\d+[^\n]*\n[^\n]*session open with \/ip4/,
    'fail-over to the next gateway',
  )

  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(node.accounts[3]!.mnemonic, { prefix: 'beryl' })
  const creator = node.accounts[3]!.address
  const client = await SigningStargateClient.connectWithSigner(node.rpc, wallet, {
    registry: berylRegistry(),
    gasPrice: GasPrice.fromString('0.025uberyl'),
    broadcastPollIntervalMs: 200,
  })
  const comet = await Comet38Client.connect(node.rpc)
  const rpc = createProtobufRpcClient(QueryClient.withExtensions(comet))
  const task = async (c: Uint8Array): Promise<Task> =>
    QueryTaskResponse.decode(await rpc.request('beryl.task.v1.Query', 'Task', QueryTaskRequest.encode({ taskIdCommitment: c }).finish())).task!
  const record = async (a: string) =>
    QueryNodeRecordResponse.decode(await rpc.request('beryl.staking.v1.Query', 'NodeRecord', QueryNodeRecordRequest.encode({ address: a }).finish())).record!
  const send = async (msgs: Array<{ typeUrl: string; value: unknown }>) => {
    const r = await client.signAndBroadcast(creator, msgs, 'auto')
    assert.equal(r.code, 0, r.rawLog)
  }
  const balance = async (a: string) => BigInt((await client.getBalance(a, 'uberyl')).amount)
  const create = (taskId: Uint8Array, vrfKey: Uint8Array, args: object, fee: bigint, type = TaskType.TASK_TYPE_IMAGE) => {
    const nonce = randomBytes(32)
    const commitment = sha(taskId, nonce)
    return {
      commitment,
      msg: {
        typeUrl: '/beryl.task.v1.MsgCreateTask',
        value: {
          creator,
          taskIdCommitment: commitment,
          nonce,
          taskType: type,
          args: JSON.stringify(args),
          modelIds: [type === TaskType.TASK_TYPE_IMAGE ? IMAGE_MODEL : BUNDLED_MODEL_IDS.text],
          minVramGb: 0,
          requiredGpu: '',
          requiredGpuVramGb: 0,
          taskVersion: '0.1.0',
          fee: fee.toString(),
          vrfPublicKey: ecvrfPublicKey(vrfKey),
        },
      },
    }
  }
  const until = (c: Uint8Array, want: (t: Task) => boolean, what: string) =>
    waitFor(
      what,
      async () => {
        const t = await task(c)
        return want(t) ? t : undefined
      },
      90_000,
    )
  const close = async () => {
    client.disconnect()
    comet.disconnect()
    await Promise.all(workers.map((w) => w.cleanup()))
    await node.cleanup()
    fs.rmSync(modelDir, { recursive: true, force: true })
  }
  return { node, workers, creator, wallet, gateway, task, record, send, balance, create, until, close }
}

describe('end to end: a chain, its gateway and three worker processes over libp2p', function () {
  this.timeout(300_000)

  describe('an unsampled task', () => {
    let net: Awaited<ReturnType<typeof network>>
    before(async () => {
      net = await network({ sampleEverything: false })
    })
    after(async () => {
      await net?.close()
    })

    it('is assigned, run by ONNX, scored, validated, uploaded, attested and paid; the creator downloads what the score says', async () => {
      const taskId = randomBytes(32)
      const vrfKey = randomBytes(32)
      const c = net.create(taskId, vrfKey, { prompt: 'a lighthouse at dusk', width: 128, height: 128, steps: 8, seed: 7 }, 1n)
      await net.send([c.msg])
      const scored = await net.until(c.commitment, (t) => t.status === TaskStatus.TASK_STATUS_SCORE_READY, 'the score')
      const w = net.workers.find((x) => x.address === scored.selectedNode)!
      assert.ok(w, 'the task ran on one of the workers')
      assert.match(w.output(), new RegExp(`task ${hex(c.commitment).slice(0, 12)}: computed 1 output`))
      const nodeBefore = await net.balance(scored.selectedNode)

      const proof = ecvrfProve(vrfKey, scored.samplingSeed)
      await net.send([
        { typeUrl: '/beryl.task.v1.MsgValidateTask', value: { creator: net.creator, taskIdCommitments: [c.commitment], taskId, vrfProof: proof } },
      ])
      const ended = await net.until(
        c.commitment,
        (t) => t.status >= TaskStatus.TASK_STATUS_END_INVALIDATED && t.status <= TaskStatus.TASK_STATUS_END_GROUP_SUCCESS,
        'the end of the task',
      )
      assert.equal(ended.status, TaskStatus.TASK_STATUS_END_SUCCESS, "attested by the gateway's attester")
      assert.equal(ended.resultHash.length, 32)
      assert.ok((await net.balance(scored.selectedNode)) > nodeBefore, 'the node is paid')
      assert.equal((await net.record(scored.selectedNode)).tasksPaid, 1n)
      await w.waitForLog(/output uploaded/)

      const d = await downloadResult(net.gateway, { chainId: net.node.chainId, signer: net.wallet, address: net.creator }, c.commitment)
      assert.equal(d.files.length, 1)
      assert.deepEqual(Buffer.from(await phashPng(d.files[0]!)), Buffer.from(ended.score), "the downloaded image's pHash is the score on chain")
      assert.deepEqual(Buffer.from(d.resultHash), Buffer.from(ended.resultHash), 'and its hash is the one attested')

      const status = await runBeryld(['worker', 'status', '--home', w.home, '--output', 'json'])
      assert.equal(status.code, 0, status.stderr)
      const s = JSON.parse(status.stdout)
      assert.equal(s.record.tasksPaid, '1')
      assert.equal(s.daemon.running, true)
    })

    it('beryld task run text writes the completion into <home>/outputs unless --out says otherwise, and prints its path', async () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-cwd-'))
      try {
        const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(
            BERYLD,
            [
              'task',
              'run',
              'text',
              '--prompt',
              'Write a haiku about rain',
              '--max-tokens',
              '8',
              '--from',
              net.node.accounts[3]!.name,
              '--home',
              net.node.home,
              '--keyring-backend',
              'test',
              '-o',
              'json',
            ],
            { cwd, timeout: 240_000 },
            (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          )
        })
        assert.equal(r.code, 0, r.stderr)
        const out = JSON.parse(r.stdout) as { files: string[]; text: string }
        assert.equal(out.files.length, 1)
        assert.equal(path.dirname(out.files[0]!), path.join(net.node.home, 'outputs'))
        assert.equal(JSON.parse(fs.readFileSync(out.files[0]!, 'utf8')).choices[0].message.content, out.text)
        assert.deepEqual(fs.readdirSync(cwd), [], 'nothing is written into the working directory')
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true })
      }
    })

    it('beryld worker init writes a config and a key; worker status explains a key that has not joined', async () => {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-winit-'))
      try {
        const init = await runBeryld([
          'worker',
          'init',
          '--home',
          home,
          '--chain-id',
          net.node.chainId,
          '--node',
          net.node.rpc,
          '--gateway',
          net.gateway,
          '--keyring-backend',
          'test',
          '--output',
          'json',
        ])
        assert.equal(init.code, 0, init.stderr)
        const out = JSON.parse(init.stdout)
        assert.match(out.address, /^beryl1/)
        assert.equal(out.mnemonic.split(' ').length, 24)
        assert.match(fs.readFileSync(path.join(home, 'config', 'worker.toml'), 'utf8'), new RegExp(`gateways = \\[ "${net.gateway}" \\]|${net.gateway}`))
        const again = await runBeryld(['worker', 'init', '--home', home, '--chain-id', net.node.chainId, '--gateway', net.gateway, '--keyring-backend', 'test'])
        assert.notEqual(again.code, 0)
        assert.match(again.stderr, /already exists/)
        const status = await runBeryld(['worker', 'status', '--home', home])
        assert.equal(status.code, 0, status.stderr)
        assert.match(status.stdout, /node\s+not joined/)
        assert.match(status.stdout, /daemon\s+not running/)
        assert.match(status.stdout, /earnings\s+none yet/)
        const start = await runBeryld(['worker', 'start', '--home', home])
        assert.notEqual(start.code, 0, 'an unfunded key cannot join')
        assert.match(start.stderr + start.stdout, /fund the account first|does not exist on chain yet/)
      } finally {
        fs.rmSync(home, { recursive: true, force: true })
      }
    })

    /** Every worker runs with `fault`; whichever gets the task dies; restarted without it, it must finish the task. */
    async function crashAndResume(fault: string, prompt: string) {
      await Promise.all(net.workers.map((w) => w.kill9()))
      const marks = net.workers.map((w) => w.output().length)
      net.workers.forEach((w) => w.start(fault))
      await Promise.all(net.workers.map((w, i) => waitFor('a new session', async () => /gateway: session open/.test(w.output().slice(marks[i])) || undefined)))
      const c = net.create(randomBytes(32), randomBytes(32), { prompt, width: 128, height: 128, steps: 8, seed: 11 }, 1n)
      await net.send([c.msg])
      const victim = await waitFor(
        'a worker to crash',
        async () => net.workers.find((w) => w.process!.exitCode !== null || w.process!.signalCode !== null),
        60_000,
      )
      const crashed = victim.output().slice(marks[net.workers.indexOf(victim)])
      const before = await net.task(c.commitment)
      assert.equal(before.status, TaskStatus.TASK_STATUS_STARTED, 'killed before the score was sent')
      assert.equal(before.selectedNode, victim.address)
      const mark = victim.output().length
      victim.start()
      const t = await net.until(c.commitment, (x) => x.status === TaskStatus.TASK_STATUS_SCORE_READY, 'the resumed score')
      // The others restart without the fault for the next tests.
      await Promise.all(
        net.workers
          .filter((w) => w !== victim)
          .map(async (w) => {
            await w.kill9()
            w.start()
          }),
      )
      return { crashed, resumed: victim.output().slice(mark), score: hex(t.score) }
    }

    it('a worker killed in the middle of a run resumes on restart: it runs the task again and submits the score', async () => {
      const r = await crashAndResume('crash-while-running', 'a grey heron')
      assert.match(r.crashed, /assigned/)
      assert.doesNotMatch(r.crashed, /computed 1 output/)
      assert.match(r.resumed, /resuming \(running/)
      assert.match(r.resumed, new RegExp(`computed 1 output[^\\n]*score ${r.score}`))
      assert.match(r.resumed, /score submitted/)
    })

    it('a worker killed after computing resumes on restart: the recorded score is submitted, nothing is computed twice', async () => {
      const r = await crashAndResume('crash-after-compute', 'a red fox')
      assert.match(r.crashed, /computed 1 output/)
      assert.equal(r.score, /score ([0-9a-f]{16})/.exec(r.crashed)![1], 'the score computed before the crash')
      assert.match(r.resumed, /resuming \(computed/)
      assert.match(r.resumed, /score submitted/)
      assert.doesNotMatch(r.resumed, /computed 1 output/, 'the task is not run again')
    })
  })

  describe('forced-sampled validation groups through commit and reveal, with a worker lazy on images', () => {
    let net: Awaited<ReturnType<typeof network>>
    // Worker 0 returns random images instead of running the model (it runs text tasks honestly).
    before(async () => {
      net = await network({ sampleEverything: true, faults: ['random-images'] })
    })
    after(async () => {
      await net?.close()
    })
    const ENDED = new Set([7, 8, 9, 10, 11])

    /** T1 created; once its commitment is in a block the creator validates; the chain runs the group; every member ends. */
    async function group(type: TaskType, args: object) {
      const taskId = randomBytes(32)
      const vrfKey = randomBytes(32)
      const t1 = net.create(taskId, vrfKey, args, 3_000_000n, type)
      await net.send([t1.msg])
      const committed = await net.until(t1.commitment, (t) => t.status === TaskStatus.TASK_STATUS_SCORE_READY, "T1's commitment")
      assert.equal(committed.score.length, 0, 'only a commitment on chain')
      await net.send([
        {
          typeUrl: '/beryl.task.v1.MsgValidateTask',
          value: { creator: net.creator, taskIdCommitments: [t1.commitment], taskId, vrfProof: ecvrfProve(vrfKey, committed.samplingSeed) },
        },
      ])
      const root = await net.task(t1.commitment)
      assert.equal(root.status, TaskStatus.TASK_STATUS_GROUP_PENDING)
      const ids = [t1.commitment, ...root.validationTasks]
      // The workers commit, the gateway asks each to reveal, the chain judges; the representative uploads.
      const ended = await Promise.all(
        ids.map((c) => net.until(c, (t) => ENDED.has(t.status) && t.status !== TaskStatus.TASK_STATUS_GROUP_VALIDATED, "the group's end")),
      ).catch(async (err: Error) => {
        // What each member and worker was doing, for the failure's message.
        const now = await Promise.all(ids.map((c) => net.task(c)))
        const states = now.map((t) => `${hex(t.taskIdCommitment).slice(0, 12)} ${TaskStatus[t.status]} on ${t.selectedNode} reveal_start ${t.revealStart}`)
        const logs = net.workers.map((w) => `--- ${w.address}\n${w.output().split('\n').slice(-12).join('\n')}`)
        throw new Error(`${err.message}\n${states.join('\n')}\n${logs.join('\n')}`)
      })
      assert.equal(new Set(ended.map((t) => t.selectedNode)).size, 3, 'three different nodes')
      return ended
    }

    it('a text task completes through the group: three byte-identical completions, one delivered and checked by its hash', async () => {
      const ended = await group(TaskType.TASK_TYPE_TEXT, { prompt: 'Write a haiku about rain', max_new_tokens: 8 })
      assert.deepEqual(
        ended.map((t) => t.status).sort(),
        [TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS].sort(),
      )
      assert.equal(new Set(ended.map((t) => Buffer.from(t.score).toString('hex'))).size, 1, 'the three revealed the same hash')
      const delivered = ended.find((t) => t.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)!
      const d = await downloadResult(net.gateway, { chainId: net.node.chainId, signer: net.wallet, address: net.creator }, delivered.taskIdCommitment)
      assert.deepEqual(createHash('sha256').update(d.files[0]!).digest(), Buffer.from(delivered.score))
    })

    it('an image task: the lazy worker is slashed with the evidence queryable, the honest two are paid', async () => {
      const lazy = net.workers[0]!.address
      const honest = net.workers.slice(1).map((w) => w.address)
      const before = await Promise.all(honest.map((a) => net.balance(a)))
      const ended = await group(TaskType.TASK_TYPE_IMAGE, { prompt: 'a quiet harbour', width: 128, height: 128, steps: 8, seed: 3 })
      const byNode = new Map(ended.map((t) => [t.selectedNode, t]))
      assert.equal(byNode.get(lazy)!.status, TaskStatus.TASK_STATUS_END_INVALIDATED)
      const rec = await net.record(lazy)
      assert.equal(rec.slashCount, 1, 'the lazy worker is slashed')
      assert.deepEqual(
        honest.map((a) => byNode.get(a)!.status).sort(),
        [TaskStatus.TASK_STATUS_END_GROUP_REFUND, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS].sort(),
      )
      const after = await Promise.all(honest.map((a) => net.balance(a)))
      after.forEach((b, i) => assert.ok(b > before[i]!, `honest node ${i} is paid`))
      await net.workers[0]!.waitForLog(/no longer a node: slashed/)
      // The evidence, through the CLI: every member's commitment opens with its salt and revealed score.
      const q = await runBeryld(['query', 'staking', 'slashes', '--gpu-node', lazy, '--home', net.node.home, '-o', 'json'])
      assert.equal(q.code, 0, q.stderr)
      const [slash] = JSON.parse(q.stdout).slashes
      assert.equal(slash.groupTasks.length, 3)
      slash.groupTasks.forEach((_: string, i: number) => {
        const opened = createHash('sha256').update(Buffer.from(slash.groupScores[i], 'hex')).update(Buffer.from(slash.groupSalts[i], 'hex')).digest('hex')
        assert.equal(opened, slash.groupCommitments[i])
      })

      const delivered = ended.find((t) => t.status === TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)!
      const d = await downloadResult(net.gateway, { chainId: net.node.chainId, signer: net.wallet, address: net.creator }, delivered.taskIdCommitment)
      assert.deepEqual(Buffer.from(await phashPng(d.files[0]!)), Buffer.from(delivered.score))
    })
  })
})
