import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { readAppConfig } from '../../chain/node/config.ts'
import { workerHome } from '../../cli/devnet.ts'
import { loadWorkerConfig } from '../../worker/daemon/config.ts'
import { BerylClient, TaskStatus, type TaskResult } from '../../sdk/index.ts'
import { startTestDevnet, type TestDevnet } from '../helpers/devnet.ts'
import { ROOT } from '../helpers/node.ts'

/** Where screenshots go (kept after the run, git-ignored): $BERYL_TEST_ARTIFACTS or test/artifacts/. */
const ARTIFACTS = process.env.BERYL_TEST_ARTIFACTS ?? path.join(ROOT, 'test', 'artifacts')
const CHROMIUM = process.env.BERYL_CHROMIUM ?? '/usr/bin/chromium'

/** One sample's value from Prometheus text (`name{labels} value`, every given label matching). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

describe('web explorer in headless Chromium, against a devnet that runs a cross-validated task', function () {
  this.timeout(300_000)
  let net: TestDevnet
  let api: string
  let browser: Browser
  let page: Page
  let result: TaskResult
  let metricsBefore: string
  const text = (sel: string) => page.$eval(sel, (e: any) => e.innerText as string)
  const shot = async (name: string) => {
    fs.mkdirSync(ARTIFACTS, { recursive: true })
    const file = path.join(ARTIFACTS, `explorer-${name}.png`)
    await page.screenshot({ path: file, fullPage: true })
    assert.ok(fs.statSync(file).size > 1000, `${file} written`)
  }
  const go = async (hash: string, waitFor: string) => {
    await page.goto(`${api}/${hash}`, { waitUntil: 'domcontentloaded' })
    await page.waitForSelector(waitFor, { timeout: 30_000 })
  }

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (npm run setup installs Debian's package; BERYL_CHROMIUM overrides)`)
    net = await startTestDevnet(['--sample-all', '--quiet'])
    api = readAppConfig(net.home).api.address.replace(/^tcp:\/\//, 'http://')
    metricsBefore = await (await fetch(`${api}/metrics`)).text()
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(net.info.accounts[0]!.mnemonic, { prefix: 'beryl' })
    const client = await BerylClient.connect(net.info.rpc, wallet, {
      gateways: [net.info.gateway],
      keyStoreDir: path.join(net.home, 'sdk-keys'),
    })
    try {
      result = await client.runTask({
        type: 'image',
        args: { prompt: 'a lighthouse seen from an explorer', width: 128, height: 128, steps: 8, seed: 3 },
        fee: 2_000_000n,
      })
    } finally {
      client.disconnect()
    }
    assert.equal(result.task.status, TaskStatus.TASK_STATUS_END_GROUP_SUCCESS)
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    page = await browser.newPage()
    await page.setViewport({ width: 1280, height: 900 })
    page.on('pageerror', (err) => {
      throw err
    })
  })
  after(async () => {
    await browser?.close()
    await net?.stop()
  })

  it('home: latest blocks and transactions, the three GPU nodes and the validator', async () => {
    await go('#/', '#nodes table')
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll('#blocks tbody tr').length >= 5)
    assert.match(await text('#chain'), /beryl-devnet-1 · height \d+/)
    const nodes = await page.$$eval('#nodes tbody tr', (rows: any[]) => rows.map((r) => r.innerText as string))
    assert.equal(nodes.length, 3)
    for (const w of net.info.workers)
      assert.ok(
        nodes.some((n) => n.includes(w)),
        `node ${w} listed`,
      )
    assert.match(nodes[0]!, /BERYL/)
    assert.equal(await page.$$eval('#validators tbody tr', (r) => r.length), 1)
    assert.ok((await page.$$eval('#txs tbody tr', (r) => r.length)) >= 1, 'transactions listed')
    await shot('home')
  })

  it('the sampling rate for a fee typed in the form', async () => {
    await page.type('#rate-fee', '2.5')
    await page.click('#rate-form button')
    await page.waitForSelector('#rate-value')
    assert.equal(await text('#rate-value'), '100%', '--sample-all: every task is cross-validated')
  })

  it('search by task id shows the task: its node, the whole timeline, the payment and the group', async () => {
    const hex = Buffer.from(result.task.taskIdCommitment).toString('hex')
    await page.click('#q', { count: 3 })
    await page.type('#q', hex)
    await page.keyboard.press('Enter')
    await page.waitForSelector('#task-status')
    assert.equal(await text('#task-id'), hex)
    assert.equal(await text('#task-status'), 'end group success')
    assert.equal(await text('#task-node'), result.task.selectedNode)
    const steps = await page.$$eval('#timeline li', (lis: any[]) =>
      lis.map((li) => ({ step: li.getAttribute('data-step') as string, done: li.classList.contains('done') as boolean, text: li.innerText as string })),
    )
    assert.deepEqual(
      steps.map((s) => s.step),
      ['created', 'dispatched', 'scored', 'validated', 'attested', 'paid'],
    )
    for (const s of steps) assert.ok(s.done, `${s.step} is done: ${s.text}`)
    assert.ok(steps[1]!.text.includes(result.task.selectedNode), 'dispatched to its node')
    const payments = await page.$$eval('#payments-table tbody tr', (rows: any[]) => rows.map((r) => r.innerText as string))
    assert.ok(
      payments.some((p) => p.includes(result.task.selectedNode) && /BERYL/.test(p)),
      `a payment to the node: ${payments.join(' | ')}`,
    )
    const group = await page.$$eval('#group tbody tr', (rows: any[]) => rows.map((r) => r.innerText as string))
    assert.equal(group.length, 3)
    await shot('task')
  })

  it("a node's page: GPU class, stake, QoS and health, earnings", async () => {
    const node = result.task.selectedNode
    await go(`#/node/${node}`, '#qos-value')
    assert.match(await text('#node-gpu'), /\(\d+ GB\)/)
    assert.match(await text('#qos-value'), /^\d(\.\d+)?$/)
    assert.match(await text('#qos-health'), /^\d(\.\d+)?$/)
    assert.match(await text('#node-earned'), /^\d+(\.\d+)? BERYL$/)
    assert.notEqual(await text('#node-earned'), '0 BERYL')
    await shot('node')
  })

  it('search by height and by address; a bad search says what to type', async () => {
    await go('#/', '#q')
    await page.click('#q', { count: 3 })
    await page.type('#q', '2')
    await page.keyboard.press('Enter')
    await page.waitForFunction(() => (globalThis as any).document.querySelector('#block-wide h2')?.textContent === 'Block 2')
    await go(`#/account/${net.info.accounts[0]!.address}`, '#account-tasks table')
    const tasks = await page.$$eval('#account-tasks tbody tr', (rows) => rows.length)
    assert.ok(tasks >= 3, 'the task and its two validation tasks')
    await page.click('#q', { count: 3 })
    await page.type('#q', 'not a thing')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#error-message')
    assert.match(await text('#error-message'), /address .* task id, a tx hash or a block height/)
  })

  it('/metrics: the task counters moved', async () => {
    const after = await (await fetch(`${api}/metrics`)).text()
    assert.equal(sample(metricsBefore, 'beryl_tasks', { status: 'TASK_STATUS_END_GROUP_SUCCESS' }), 0)
    assert.equal(sample(after, 'beryl_tasks', { status: 'TASK_STATUS_END_GROUP_SUCCESS' }), 1)
    assert.equal(sample(after, 'beryl_tasks', { status: 'TASK_STATUS_END_GROUP_REFUND' }), 2)
    assert.ok(sample(after, 'beryl_txs_total')! > sample(metricsBefore, 'beryl_txs_total')!)
    assert.ok(sample(after, 'beryl_gas_used_total')! > sample(metricsBefore, 'beryl_gas_used_total')!)
    assert.equal(sample(after, 'beryl_gateway_sessions'), 3, 'the three workers hold sessions')
    assert.equal(sample(after, 'beryl_gateway_uploads_total'), 1, 'the representative uploaded its output')
    assert.ok(sample(after, 'beryl_gateway_downloads_total')! >= 1, 'the creator downloaded it')
  })

  it("each worker's /metrics ([metrics] address): its run, its inference time, its score, its earnings", async () => {
    let uploads = 0
    for (let i = 1; i <= 3; i++) {
      const cfg = loadWorkerConfig(workerHome(net.home, i))
      assert.ok(cfg.metricsAddress, 'the devnet gives each worker a metrics address')
      const text = await (await fetch(`http://${cfg.metricsAddress}/metrics`)).text()
      parsePrometheusTextFormat(text)
      const model = result.task.modelIds[0]!
      assert.equal(sample(text, 'beryl_worker_tasks_run_total', { model, kind: 'image', outcome: 'ok' }), 1, `worker ${i} ran its member of the group`)
      assert.equal(sample(text, 'beryl_worker_inference_seconds_count', { model, kind: 'image' }), 1)
      assert.ok(sample(text, 'beryl_worker_inference_seconds_sum', { model, kind: 'image' })! > 0)
      assert.equal(sample(text, 'beryl_worker_score_submissions_total', { what: 'score', accepted: 'true' }), 1)
      assert.ok(sample(text, 'beryl_worker_earned_beryl')! > 0, 'every matching member of the group is paid')
      assert.equal(sample(text, 'beryl_worker_slashes'), 0)
      uploads += sample(text, 'beryl_worker_uploads_total', { accepted: 'true' }) ?? 0
    }
    assert.equal(uploads, 1, 'one upload, by the representative')
  })
})
