import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BYTES_FIELDS, FIXED_POINT_FIELDS, fixedToDecimal, fixedToPercent, readable } from '../../cli/format.ts'
import { commitmentFor } from '../../cli/task-ids.ts'
import { Task, TaskStatus } from '../../proto/gen/beryl/task/v1/types.ts'
import { TaskKeyStore } from '../../sdk/keystore.ts'

describe('CLI output people can read (cli/format.ts)', () => {
  it('fixed-point integers print as decimals, exactly', () => {
    assert.equal(fixedToDecimal('12345679012345680'), '0.01234567901234568')
    assert.equal(fixedToDecimal('1000000000000000000'), '1')
    assert.equal(fixedToDecimal('0'), '0')
    assert.equal(fixedToDecimal('2500000000000000000'), '2.5')
    assert.equal(fixedToDecimal('-7', 0), '-7')
    assert.equal(fixedToDecimal('-1500000000000000000000000000000000000', 36), '-1.5')
    assert.equal(fixedToDecimal('not a number'), 'not a number')
  })
  it('rates print as percentages in text', () => {
    assert.equal(fixedToPercent('12345679012345680'), '1.23%')
    assert.equal(fixedToPercent('1000000000000000000'), '100%')
    assert.equal(fixedToPercent('10000000000000000'), '1%')
  })
  it('a task as JSON: ids and hashes in hex, the sampling rate as a decimal, the status by name', () => {
    const commitment = Buffer.alloc(32, 0xab)
    const json = readable(
      Task.toJSON(
        Task.fromPartial({
          taskIdCommitment: commitment,
          samplingRate: '12345679012345680',
          status: TaskStatus.TASK_STATUS_END_SUCCESS,
          fee: '2000000',
          creator: 'beryl1x',
        }),
      ),
    ) as Record<string, unknown>
    assert.equal(json.taskIdCommitment, commitment.toString('hex'))
    assert.equal(json.samplingRate, '0.01234567901234568')
    assert.equal(json.status, 'TASK_STATUS_END_SUCCESS')
    assert.equal(json.fee, '2000000', 'amounts stay whole uberyl')
    assert.equal(json.creator, 'beryl1x')
  })
  it('keys the caller already converted (snake_case) are left alone', () => {
    assert.deepEqual(readable({ next_key: 'abcd', q_long: '0.5' }), { next_key: 'abcd', q_long: '0.5' })
  })
  it('the field lists match the protos: every bytes field found, every fixed-point field a string field', () => {
    for (const f of ['taskIdCommitment', 'nonce', 'score', 'resultHash', 'samplingSeed', 'vrfPublicKey', 'taskId', 'taskIdCommitments'])
      assert.ok(BYTES_FIELDS.has(f), f)
    const protos = (fs.readdirSync(path.join(import.meta.dirname, '..', '..', 'proto', 'beryl'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.proto'))
      .map((f) => fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'proto', 'beryl', f), 'utf8'))
      .join('\n')
    const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
    for (const f of Object.keys(FIXED_POINT_FIELDS)) assert.match(protos, new RegExp(`^\\s*string ${snake(f)} = \\d+;`, 'm'), `${f} is a string field`)
  })
  it("task show takes the task id `task run` printed: the home's key store maps it to the first commitment", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-ids-'))
    try {
      const taskId = 'cd'.repeat(32),
        first = 'ef'.repeat(32)
      new TaskKeyStore(path.join(home, 'sdk-tasks')).save({
        taskId,
        vrfSecretKey: '00'.repeat(32),
        creator: 'beryl1x',
        chainId: 'c',
        type: 'image',
        args: '{}',
        fee: '1',
        requirements: { modelIds: [], minVramGb: 0, requiredGpu: '', requiredGpuVramGb: 0, taskVersion: '1.0.0' },
        members: [{ commitment: first, nonce: '11'.repeat(32) }],
        createdAt: 0,
      } as Parameters<TaskKeyStore['save']>[0])
      assert.equal(commitmentFor(home, taskId), first)
      assert.equal(commitmentFor(home, taskId.toUpperCase()), first)
      assert.equal(commitmentFor(home, first), first, 'a commitment is itself')
      assert.equal(commitmentFor(home, 'zz'), 'zz', 'anything else is left to the command to refuse')
    } finally {
      fs.rmSync(home, { recursive: true, force: true })
    }
  })
})
