// The Beryl explorer: a small static app over this node's REST API (the same paths any Cosmos
// client uses, plus /beryl/<module>/v1/…). Pages are hash routes: #/, #/block/<h>, #/tx/<hash>,
// #/task/<id>, #/node/<address>, #/account/<address>. Everything is built with DOM nodes and
// textContent, never innerHTML, so chain data cannot inject markup.
'use strict'

const FIXED_ONE = 10n ** 18n
const main = document.getElementById('main')

// ---- helpers -----------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'class') el.className = v
    else el.setAttribute(k, v)
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

class ApiError extends Error {
  constructor(status, body) { super(body && body.message ? body.message : `HTTP ${status}`); this.status = status; this.code = body && body.code }
}

async function api(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } })
  let body
  try { body = await res.json() } catch { body = undefined }
  if (!res.ok) throw new ApiError(res.status, body)
  return body
}
const tryApi = (path) => api(path).catch(() => undefined)

const b64ToHex = (b) => Array.from(atob(b || ''), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')
const short = (s, n = 10) => (s && s.length > n + 2 ? `${s.slice(0, n)}…` : s || '')
const enumName = (v, prefix) => String(v || '').replace(prefix, '').toLowerCase().replace(/_/g, ' ')
const when = (unix) => (Number(unix) > 0 ? new Date(Number(unix) * 1000).toISOString().replace('.000Z', 'Z') : '')

/** An 18-decimal fixed-point string as a percentage with up to 4 decimals ("1.23%"). */
function percent(fixed) {
  if (!fixed) return ''
  const bp = (BigInt(fixed) * 1000000n) / FIXED_ONE // millionths
  const whole = bp / 10000n
  const frac = (bp % 10000n).toString().padStart(4, '0').replace(/0+$/, '')
  return `${whole}${frac ? '.' + frac : ''}%`
}
/** An 18-decimal fixed-point string as a decimal ("0.95"). */
function decimal(fixed, digits = 4) {
  if (!fixed) return ''
  const v = BigInt(fixed)
  const scale = 10n ** BigInt(digits)
  const r = (v * scale) / FIXED_ONE
  const frac = (r % scale).toString().padStart(digits, '0').replace(/0+$/, '')
  return `${r / scale}${frac ? '.' + frac : ''}`
}
/** uberyl as BERYL ("1.5 BERYL"). */
function beryl(amount) {
  if (amount === undefined || amount === null || amount === '') return ''
  const m = /^(\d+)(?:uberyl)?$/.exec(String(amount))
  if (!m) return String(amount)
  const v = BigInt(m[1])
  const frac = (v % 1000000n).toString().padStart(6, '0').replace(/0+$/, '')
  return `${v / 1000000n}${frac ? '.' + frac : ''} BERYL`
}

const link = (href, text, cls) => h('a', { href, class: cls }, text)
const addrLink = (a) => (a ? link(`#/account/${a}`, a, 'mono') : '')
const nodeLink = (a) => (a ? link(`#/node/${a}`, a, 'mono') : '')
const taskLink = (hex) => link(`#/task/${hex}`, short(hex, 16), 'mono')

function table(headers, rows, attrs) {
  return h('table', attrs || {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))) : h('tr', {}, h('td', { colspan: String(headers.length), class: 'muted' }, 'none'))))
}
function fields(pairs, attrs) {
  return h('table', attrs || {}, h('tbody', {}, pairs.filter((p) => p[1] !== undefined && p[1] !== '').map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))))
}
const section = (title, id, ...body) => h('section', { id, class: id && id.endsWith('-wide') ? 'wide' : undefined }, h('h2', {}, title), ...body)
/** A page's content; the router puts it in place unless a later navigation started meanwhile. */
const show = (...sections) => sections
let routeToken = 0

// ---- pages -------------------------------------------------------------------------------------

async function home() {
  const latest = await api('/cosmos/base/tendermint/v1beta1/blocks/latest')
  const height = Number(latest.block.header.height)
  document.getElementById('chain').textContent = `${latest.block.header.chain_id} · height ${height}`
  const heights = []
  for (let x = height; x > 0 && heights.length < 10; x--) heights.push(x)
  const blocks = await Promise.all(heights.map((x) => (x === height ? latest : tryApi(`/cosmos/base/tendermint/v1beta1/blocks/${x}`))))
  const from = Math.max(1, height - 200)
  const [txs, nodes, vals] = await Promise.all([
    tryApi(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`tx.height>=${from}`)}&order_by=ORDER_BY_DESC&limit=10`),
    tryApi('/beryl/staking/v1/nodes?limit=100'),
    tryApi('/cosmos/base/tendermint/v1beta1/validatorsets/latest'),
  ])
  const rate = h('div', { id: 'rate-result', class: 'muted' })
  const form = h('form', { id: 'rate-form' }, h('input', { id: 'rate-fee', placeholder: 'fee in BERYL, e.g. 2.5', 'aria-label': 'fee' }), ' ', h('button', { type: 'submit' }, 'Sampling rate'))
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const v = document.getElementById('rate-fee').value.trim()
    const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(v)
    if (!m) { rate.textContent = 'give a fee in BERYL (up to 6 decimals)'; return }
    const fee = BigInt(m[1]) * 1000000n + BigInt((m[2] || '').padEnd(6, '0') || '0')
    try {
      const r = await api(`/beryl/vss/v1/sampling_rate?fee=${fee}`)
      rate.replaceChildren(r.error
        ? h('span', { class: 'bad' }, r.error)
        : fields([['sampling rate', h('b', { id: 'rate-value' }, percent(r.rate))], ['attacker majority probability', percent(r.attacker_majority_probability)],
          ['eligible nodes', r.eligible_nodes], ['largest securable fee', r.max_securable_fee ? beryl(r.max_securable_fee) : 'unbounded']]))
    } catch (err) { rate.replaceChildren(h('span', { class: 'bad' }, err.message)) }
  })
  return show(
    section('Latest blocks', 'blocks', table(['height', 'time', 'txs', 'proposer'], blocks.filter(Boolean).map((b) => [
      link(`#/block/${b.block.header.height}`, b.block.header.height), b.block.header.time.replace(/\.\d+Z$/, 'Z'),
      String(b.block.data.txs.length), h('span', { class: 'mono' }, short(b64ToHex(b.block.header.proposer_address), 12)),
    ]))),
    section('Latest transactions', 'txs', table(['hash', 'height', 'messages', 'result'], (txs ? txs.tx_responses : []).map((t, i) => [
      link(`#/tx/${t.txhash}`, short(t.txhash, 12), 'mono'), link(`#/block/${t.height}`, t.height),
      txs.txs[i] && txs.txs[i].body ? txs.txs[i].body.messages.map((m) => m['@type'].split('.').pop()).join(', ') : '',
      t.code ? h('span', { class: 'bad' }, `code ${t.code}`) : h('span', { class: 'ok' }, 'ok'),
    ]))),
    section('GPU nodes', 'nodes', table(['node', 'GPU', 'stake', 'status'], (nodes ? nodes.nodes : []).map((n) => [
      nodeLink(n.address), `${n.gpu_name} (${n.gpu_vram_gb} GB)`, beryl(n.stake), enumName(n.status, 'NODE_STATUS_'),
    ]))),
    section('Validators', 'validators', table(['consensus address', 'voting power'], (vals ? vals.validators : []).map((v) => [
      h('span', { class: 'mono' }, v.address), v.voting_power,
    ]))),
    section('Sampling rate for a fee', 'sampling', form, rate),
  )
}

async function blockPage(height) {
  const b = await api(`/cosmos/base/tendermint/v1beta1/blocks/${encodeURIComponent(height)}`)
  const txs = await tryApi(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`tx.height=${b.block.header.height}`)}&limit=100`)
  return show(section(`Block ${b.block.header.height}`, 'block-wide', fields([
    ['hash', h('span', { class: 'mono' }, b64ToHex(b.block_id.hash).toUpperCase())], ['time', b.block.header.time], ['chain', b.block.header.chain_id],
    ['proposer', h('span', { class: 'mono' }, b64ToHex(b.block.header.proposer_address).toUpperCase())], ['app hash', h('span', { class: 'mono' }, b64ToHex(b.block.header.app_hash).toUpperCase())],
    ['transactions', String(b.block.data.txs.length)],
  ]), table(['hash', 'result', 'gas used'], (txs ? txs.tx_responses : []).map((t) => [link(`#/tx/${t.txhash}`, t.txhash, 'mono'), t.code ? `code ${t.code}` : 'ok', t.gas_used]))))
}

async function txPage(hash) {
  const r = await api(`/cosmos/tx/v1beta1/txs/${encodeURIComponent(hash)}`)
  const t = r.tx_response
  const msgs = r.tx && r.tx.body ? r.tx.body.messages : []
  return show(section(`Transaction ${short(t.txhash, 16)}`, 'tx-wide', fields([
    ['hash', h('span', { class: 'mono' }, t.txhash)], ['height', link(`#/block/${t.height}`, t.height)], ['time', t.timestamp],
    ['result', t.code ? h('span', { class: 'bad' }, `code ${t.code} (${t.codespace}): ${t.raw_log}`) : h('span', { class: 'ok' }, 'ok')],
    ['gas', `${t.gas_used} used of ${t.gas_wanted}`], ['memo', r.tx && r.tx.body ? r.tx.body.memo : ''],
  ]), h('h2', {}, 'Messages'), ...msgs.map((m) => h('pre', { class: 'mono' }, JSON.stringify(m, null, 2))),
  h('h2', {}, 'Events'), table(['type', 'attributes'], t.events.map((e) => [e.type, e.attributes.map((a) => `${a.key}=${a.value}`).join('  ')]))))
}

const STEPS = [
  ['created', 'create_time'], ['dispatched', 'start_time'], ['scored', 'score_ready_time'], ['validated', 'validated_time'], ['attested', 'end_time'],
]

async function taskPage(id) {
  const hex = id.toLowerCase()
  const r = await api(`/beryl/task/v1/task?task_id_commitment=${hex}`)
  const t = r.task
  const payments = await tryApi(`/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`task_payment.task='${hex}'`)}&limit=100`)
  const paid = []
  for (const tr of payments ? payments.tx_responses : []) {
    for (const e of tr.events) {
      if (e.type !== 'task_payment') continue
      const a = Object.fromEntries(e.attributes.map((x) => [x.key, x.value]))
      if (a.task === hex) paid.push({ height: tr.height, txhash: tr.txhash, ...a })
    }
  }
  const status = String(t.status)
  const failed = /INVALIDATED|ABORTED|REFUND/.test(status)
  const steps = STEPS.map(([name, key]) => ({ name, at: Number(t[key]) }))
  steps.push({ name: 'paid', at: paid.length ? Number(t.end_time) : 0 })
  const timeline = h('ol', { class: 'timeline', id: 'timeline' }, steps.map((s) => h('li', {
    class: s.at ? 'done' : failed && s.name !== 'created' ? 'failed' : undefined, 'data-step': s.name,
  }, h('b', {}, s.name), ' ', s.at ? when(s.at) : h('span', { class: 'muted' }, failed ? 'never' : 'pending'),
  s.name === 'dispatched' && t.selected_node ? [' → node ', nodeLink(t.selected_node)] : '')))
  return show(
    section(`Task ${short(hex, 16)}`, 'task', fields([
      ['task id commitment', h('span', { class: 'mono', id: 'task-id' }, hex)], ['status', h('b', { id: 'task-status' }, enumName(status, 'TASK_STATUS_'))],
      ['type', enumName(t.task_type, 'TASK_TYPE_')], ['creator', addrLink(t.creator)], ['node', h('span', { id: 'task-node' }, nodeLink(t.selected_node))],
      ['fee', beryl(t.fee)], ['sampling rate', percent(t.sampling_rate)],
      ['abort reason', t.abort_reason && t.abort_reason !== 'ABORT_REASON_NONE' ? enumName(t.abort_reason, 'ABORT_REASON_') : ''],
      ['result hash', t.result_hash ? h('span', { class: 'mono' }, b64ToHex(t.result_hash)) : ''],
      ['models', t.model_ids.join(', ')], ['arguments', h('span', { class: 'mono' }, t.args)],
    ])),
    section('Timeline', 'timeline-section', timeline),
    section('Payments', 'payments', table(['to', 'amount', 'reason', 'tx'], paid.map((p) => [
      p.to && p.to.startsWith('node:') ? nodeLink(p.to.slice(5)) : p.to, beryl(p.amount), p.reason, link(`#/tx/${p.txhash}`, short(p.txhash, 10), 'mono'),
    ]), { id: 'payments-table' })),
    section('Validation group', 'group', t.group_payees.length
      ? table(['member task', 'node', 'QoS score'], t.group_payees.map((g) => [taskLink(b64ToHex(g.task_id_commitment)), nodeLink(g.node), String(g.qos_score)]))
      : h('p', { class: 'muted' }, 'Not cross-validated in a group (or not yet).')),
  )
}

async function nodePage(address) {
  const [n, q, rec, bal] = await Promise.all([
    tryApi(`/beryl/staking/v1/node?address=${encodeURIComponent(address)}`),
    tryApi(`/beryl/qos/v1/node_qos?node=${encodeURIComponent(address)}`),
    tryApi(`/beryl/staking/v1/node_record?address=${encodeURIComponent(address)}`),
    tryApi(`/cosmos/bank/v1beta1/balances/${encodeURIComponent(address)}`),
  ])
  if (!n && !rec) throw new ApiError(404, { message: `${address} is not a GPU node and never was` })
  const node = n ? n.node : undefined
  const r = rec ? rec.record : undefined
  const tasks = await tryApi(`/beryl/task/v1/tasks?node=${encodeURIComponent(address)}&limit=20`)
  return show(
    section('GPU node', 'node', fields([
      ['address', addrLink(address)], ['status', node ? enumName(node.status, 'NODE_STATUS_') : 'not a node now'],
      ['GPU class', node ? h('span', { id: 'node-gpu' }, `${node.gpu_name} (${node.gpu_vram_gb} GB)`) : ''], ['stake', node ? beryl(node.stake) : ''],
      ['models', node ? node.model_ids.map((m) => short(m, 12)).join(', ') : ''], ['joined', node ? when(node.joined_at) : ''],
      ['balance', bal ? bal.balances.map((c) => (c.denom === 'uberyl' ? beryl(c.amount) : `${c.amount} ${c.denom}`)).join(', ') : ''],
    ])),
    section('Quality of service', 'qos', q ? fields([
      ['QoS', h('b', { id: 'qos-value' }, decimal(q.qos_value))], ['health', h('span', { id: 'qos-health' }, decimal(q.health))], ['long-term score', decimal(q.q_long)],
      ['excluded from dispatch', q.qos && q.qos.excluded ? h('span', { class: 'bad' }, `yes, until ${when(q.qos.excluded_until)}`) : 'no'],
      ['recent group scores', q.qos ? q.qos.scores.join(' ') : ''],
    ]) : h('p', { class: 'muted' }, 'no QoS record')),
    section('Earnings and slashes', 'earnings', r ? fields([
      ['earned', h('span', { id: 'node-earned' }, beryl(r.earned))], ['tasks paid', r.tasks_paid], ['slashes', r.slash_count],
      ['slashed', beryl(r.slashed_amount)],
      ['last slash', Number(r.last_slash_time) ? [when(r.last_slash_time), ': ', r.last_slash_reason, ' (task ', r.last_slash_task ? taskLink(r.last_slash_task) : '', ')'] : 'never'],
      ['kicked out', Number(r.kicked_out_time) ? `${when(r.kicked_out_time)}: ${r.kicked_out_reason}` : 'never'],
    ]) : h('p', { class: 'muted' }, 'no record yet')),
    section('Recent tasks', 'node-tasks', table(['task', 'status', 'fee'], (tasks ? tasks.tasks : []).map((t) => [taskLink(b64ToHex(t.task_id_commitment)), enumName(t.status, 'TASK_STATUS_'), beryl(t.fee)]))),
  )
}

async function accountPage(address) {
  const [acc, bal, node, tasks] = await Promise.all([
    tryApi(`/cosmos/auth/v1beta1/accounts/${encodeURIComponent(address)}`),
    api(`/cosmos/bank/v1beta1/balances/${encodeURIComponent(address)}`),
    tryApi(`/beryl/staking/v1/node?address=${encodeURIComponent(address)}`),
    tryApi(`/beryl/task/v1/tasks?creator=${encodeURIComponent(address)}&limit=20`),
  ])
  return show(
    section('Account', 'account', fields([
      ['address', h('span', { class: 'mono' }, address)], ['account number', acc ? acc.account.account_number : 'not on chain yet'], ['sequence', acc ? acc.account.sequence : ''],
      ['balance', bal.balances.length ? bal.balances.map((c) => (c.denom === 'uberyl' ? beryl(c.amount) : `${c.amount} ${c.denom}`)).join(', ') : '0'],
      ['GPU node', node ? nodeLink(address) : 'no'],
    ])),
    section('Tasks created', 'account-tasks', table(['task', 'status', 'node', 'fee'], (tasks ? tasks.tasks : []).map((t) => [
      taskLink(b64ToHex(t.task_id_commitment)), enumName(t.status, 'TASK_STATUS_'), nodeLink(t.selected_node), beryl(t.fee),
    ]))),
  )
}

/** Search: a height, an address, or 64 hex digits (a task id commitment, else a tx hash). */
async function search(q) {
  q = q.trim()
  if (/^\d+$/.test(q)) return `#/block/${q}`
  if (/^beryl1[02-9ac-hj-np-z]{38,}$/.test(q)) {
    const n = await tryApi(`/beryl/staking/v1/node?address=${q}`)
    return n ? `#/node/${q}` : `#/account/${q}`
  }
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(q)) {
    const hex = q.replace(/^0x/, '').toLowerCase()
    const t = await tryApi(`/beryl/task/v1/task?task_id_commitment=${hex}`)
    return t ? `#/task/${hex}` : `#/tx/${hex.toUpperCase()}`
  }
  return undefined
}

// ---- router ------------------------------------------------------------------------------------

async function route() {
  const [, page, arg] = (location.hash || '#/').split('/')
  const pages = { '': home, block: blockPage, tx: txPage, task: taskPage, node: nodePage, account: accountPage }
  const fn = pages[page || ''] || home
  const mine = ++routeToken
  const render = (sections) => { if (mine === routeToken) main.replaceChildren(...sections) }
  main.setAttribute('data-page', page || 'home')
  main.setAttribute('aria-busy', 'true')
  try {
    render(await fn(decodeURIComponent(arg || '')))
  } catch (err) {
    render(show(section('Not found', 'error', h('p', { class: 'bad', id: 'error-message' }, err.message))))
  } finally {
    if (mine === routeToken) main.removeAttribute('aria-busy')
  }
}

document.getElementById('search').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  const target = await search(document.getElementById('q').value)
  if (target) location.hash = target
  else ++routeToken, main.replaceChildren(section('Search', 'error', h('p', { class: 'bad', id: 'error-message' }, 'Give an address (beryl1…), a task id, a tx hash or a block height.')))
})
window.addEventListener('hashchange', route)
route()
