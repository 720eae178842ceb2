import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ResultStore, resultHash } from '../../../gateway/results.ts'
import { TaskStateStore } from '../../../worker/daemon/state.ts'

const id = (n: number) => n.toString(16).padStart(2, '0').repeat(32)

describe("the gateway's result store", () => {
  let dir: string
  let now = 1_000_000
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-results-'))
    now = 1_000_000
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))
  const open = (limits = { maxTaskBytes: 100, maxTotalBytes: 250, ttlMs: 1000 }) => new ResultStore(dir, limits, () => now)
  const meta = (n: number) => ({ task: id(n), node: 'beryl1node', creator: 'beryl1creator' })

  it('stores content-addressed, shares identical files between tasks, and reads them back', () => {
    const s = open()
    const a = Buffer.alloc(40, 1),
      b = Buffer.alloc(30, 2)
    const e = s.put(meta(1), [a, b])
    assert.equal(e.resultHash, Buffer.from(resultHash([a, b])).toString('hex'))
    assert.equal(s.totalBytes, 70)
    s.put(meta(2), [a])
    assert.equal(s.totalBytes, 70, 'the same bytes are kept once')
    assert.deepEqual(
      s.read(id(1))!.map((f) => Buffer.from(f)),
      [a, b],
    )
    assert.equal(fs.readdirSync(path.join(dir, 'objects')).length, 2)
  })

  it('refuses a task over its size limit and a store over its total, until outputs expire', () => {
    const s = open()
    assert.throws(() => s.put(meta(1), [Buffer.alloc(101)]), /at most 100 per task/)
    s.put(meta(1), [Buffer.alloc(100, 1)])
    s.put(meta(2), [Buffer.alloc(100, 2)])
    assert.throws(() => s.put(meta(3), [Buffer.alloc(100, 3)]), /store is full/)
    assert.equal(s.get(id(3)), undefined, 'nothing stored for a refused upload')
    now += 1000
    assert.equal(s.get(id(1)), undefined, 'expired outputs are gone for readers at once')
    s.put(meta(3), [Buffer.alloc(100, 3)])
    assert.equal(s.totalBytes, 100, 'the expired objects were purged to make room')
  })

  it('a damaged object reads as missing; totals survive a reopen', () => {
    const s = open()
    const e = s.put(meta(1), [Buffer.alloc(10, 7)])
    fs.writeFileSync(path.join(dir, 'objects', e.files[0]!), 'tampered!!')
    assert.equal(s.read(id(1)), undefined)
    assert.equal(open().totalBytes, 10)
    assert.throws(() => s.get('../../etc/passwd'), /invalid task id/)
  })
})

describe("the worker's task state", () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-wstate-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('records survive a new store (a restart), with their outputs; no temporary files are left', () => {
    const s = new TaskStateStore(dir)
    s.put({ task: id(1), taskType: 'image', phase: 'running', deadline: 10 })
    const files = s.saveOutputs(id(1), [Buffer.from('png0'), Buffer.from('png1')], 'png')
    s.update(id(1), { phase: 'computed', score: 'ab'.repeat(16), files })
    const again = new TaskStateStore(dir)
    const r = again.get(id(1))!
    assert.equal(r.phase, 'computed')
    assert.deepEqual(
      again.readOutputs(r)!.map((b) => Buffer.from(b).toString()),
      ['png0', 'png1'],
    )
    assert.deepEqual(
      fs.readdirSync(path.join(dir, id(1))).filter((f) => f.endsWith('.tmp')),
      [],
    )
    assert.throws(() => again.get('../x'), /invalid task id/)
  })

  it('prunes outputs of ended tasks only, keeping the records', async () => {
    const s = new TaskStateStore(dir)
    for (const [n, phase] of [
      [1, 'ended'],
      [2, 'submitted'],
    ] as const) {
      s.put({ task: id(n), taskType: 'text', phase, deadline: 0, files: s.saveOutputs(id(n), [Buffer.from('{}')], 'json') })
    }
    await new Promise((r) => setTimeout(r, 5))
    s.pruneOutputs(0)
    assert.equal(s.readOutputs(s.get(id(1))!), undefined)
    assert.ok(s.readOutputs(s.get(id(2))!))
    assert.equal(s.list().length, 2)
  })
})
