import fs from 'node:fs'
import path from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml'

/** A GPU (or CPU) profile as written in the config: a name and VRAM in GB. */
export interface DeclaredProfile {
  name: string
  vramGb: number
}

/** The worker daemon's settings, from `<home>/config/worker.toml`. */
export interface WorkerConfig {
  home: string
  chainId: string
  /** CometBFT RPC (http or https) used for queries and for joining. */
  nodeRpc: string
  /** Gateway multiaddrs, each ending in /p2p/<peer id>. */
  gateways: string[]
  /** Key name in the worker's keyring. */
  key: string
  keyringBackend: 'file' | 'test'
  /** Absolute. */
  modelDir: string
  executionProvider: 'cpu' | 'cuda'
  gasPrice: string
  /** uberyl staked on auto-join; absent = the chain's minimum. */
  stake?: string
  /** Overrides GPU detection. */
  gpu?: DeclaredProfile
  /** Reported when there is no GPU. */
  cpuProfile: DeclaredProfile
  /** `host:port` of the Prometheus `/metrics` endpoint (`[metrics] address`); absent = off. */
  metricsAddress?: string
}

type Defaulted = 'key' | 'keyringBackend' | 'executionProvider' | 'gasPrice' | 'cpuProfile'
/** What `renderWorkerConfig` needs: keys with defaults may be left out; `modelDir` as written (may be relative). */
export type WorkerConfigInput = Omit<WorkerConfig, 'home' | 'modelDir' | Defaulted> & Partial<Pick<WorkerConfig, Defaulted>> & { modelDir?: string }

/** Values given on the command line (camelCase), applied over the file's and validated like them. */
export type WorkerConfigOverrides = Partial<Omit<WorkerConfig, 'home'>>

export const WORKER_CONFIG_FILE = 'config/worker.toml'
export const WORKER_CONFIG_DEFAULTS = {
  key: 'worker',
  keyringBackend: 'file',
  modelDir: 'models',
  executionProvider: 'cpu',
  gasPrice: '0.025uberyl',
  stake: '',
  cpuProfile: { name: 'CPU', vramGb: 8 },
} as const

export function workerConfigPath(home: string): string {
  return path.join(home, WORKER_CONFIG_FILE)
}

/** TOML key of each WorkerConfig field, in file order. */
const TOML_KEYS = {
  chainId: 'chain_id',
  nodeRpc: 'node_rpc',
  gateways: 'gateways',
  key: 'key',
  keyringBackend: 'keyring_backend',
  modelDir: 'model_dir',
  executionProvider: 'execution_provider',
  gasPrice: 'gas_price',
  stake: 'stake',
  gpu: 'gpu',
  cpuProfile: 'cpu_profile',
  metricsAddress: 'metrics',
} as const
const KNOWN_KEYS = new Set<string>(Object.values(TOML_KEYS))
const PROFILE_KEYS = new Set(['name', 'vram_gb'])
const HOST_PORT = /^[A-Za-z0-9.:[\]-]{1,253}:\d{1,5}$/

const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/
const GAS_PRICE = /^\d+(\.\d+)?[a-z][a-z0-9/]{1,127}$/
const STAKE = /^\d{1,40}$/
const MAX_CHAIN_ID = 50 // CometBFT's limit

/** `key = value` in TOML syntax. */
const kv = (key: string, value: unknown) => stringifyToml({ [key]: value }).trim()

/** The commented worker.toml for `c`, with defaults filled in. */
export function renderWorkerConfig(c: WorkerConfigInput): string {
  const d = WORKER_CONFIG_DEFAULTS
  const cpu = c.cpuProfile ?? d.cpuProfile
  const lines = [
    '# Beryl worker daemon configuration (`beryld worker start`).',
    "# Relative paths are resolved against the worker's home folder.",
    '',
    '# Chain id of the network the worker serves.',
    kv('chain_id', c.chainId),
    '',
    '# CometBFT RPC address (http or https) of a node, used for queries and for joining.',
    kv('node_rpc', c.nodeRpc),
    '',
    '# Gateways that push tasks to the worker: libp2p multiaddrs ending in /p2p/<peer id>.',
    kv('gateways', c.gateways),
    '',
    "# Name of the worker's key in its keyring (<home>/keyring-<backend>/).",
    kv('key', c.key ?? d.key),
    '',
    '# Keyring backend: "file" (encrypted; passphrase from BERYL_KEYRING_PASSPHRASE or a prompt) or "test" (plain, devnets only).',
    kv('keyring_backend', c.keyringBackend ?? d.keyringBackend),
    '',
    '# Folder of the models, one sub-folder per model id.',
    kv('model_dir', c.modelDir ?? d.modelDir),
    '',
    '# ONNX Runtime execution provider: "cpu" or "cuda".',
    kv('execution_provider', c.executionProvider ?? d.executionProvider),
    '',
    "# Gas price of the worker's transactions: an amount followed by a denom.",
    kv('gas_price', c.gasPrice ?? d.gasPrice),
    '',
    '# uberyl staked when the worker joins the network by itself; "" stakes the chain\'s minimum.',
    kv('stake', c.stake ?? d.stake),
    '',
  ]
  if (c.gpu) {
    lines.push(
      '# GPU reported to the chain instead of the one detected with nvidia-smi.',
      '[gpu]',
      '# Card name.',
      kv('name', c.gpu.name),
      '# VRAM in GB (a whole number, 1..4096).',
      kv('vram_gb', c.gpu.vramGb),
    )
  } else {
    lines.push(
      '# GPU reported to the chain instead of the one detected with nvidia-smi: the card name and its VRAM in GB.',
      '# Uncomment the three lines below to use it.',
      '# [gpu]',
      '# name = "NVIDIA GeForce RTX 4090"',
      '# vram_gb = 24',
    )
  }
  lines.push(
    '',
    '# Prometheus metrics: tasks run, inference time by model, scores, uploads, earnings, slashes.',
    '[metrics]',
    '# host:port serving http://<address>/metrics (e.g. "127.0.0.1:9464"); "" turns them off.',
    kv('address', c.metricsAddress ?? ''),
    '',
    '# Profile reported to the chain when no GPU is detected or configured.',
    '[cpu_profile]',
    '# Name reported in place of a card name.',
    kv('name', cpu.name),
    '# Memory in GB offered to models (a whole number, 1..4096).',
    kv('vram_gb', cpu.vramGb),
    '',
  )
  return lines.join('\n')
}

/**
 * Writes `<home>/config/worker.toml` (creating the folder) and returns its path. The values are validated
 * first, and an existing file is kept unless `overwrite` is set.
 */
export function writeWorkerConfig(home: string, c: WorkerConfigInput, opts: { overwrite?: boolean } = {}): string {
  const file = workerConfigPath(home)
  const text = renderWorkerConfig(c)
  validate(parseToml(text), file, home, new Set())
  fs.mkdirSync(path.dirname(file), { recursive: true })
  try {
    fs.writeFileSync(file, text, { flag: opts.overwrite ? 'w' : 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} already exists; refusing to overwrite it`)
    throw err
  }
  return file
}

/** Reads and validates `<home>/config/worker.toml`; `overrides` replace the file's values and are validated too. */
export function loadWorkerConfig(home: string, overrides: WorkerConfigOverrides = {}): WorkerConfig {
  const file = workerConfigPath(home)
  if (!fs.existsSync(file)) throw new Error(`no worker configuration at ${file}; run \`beryld worker init --home ${home}\` first`)
  let raw: Record<string, unknown>
  try {
    raw = parseToml(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`${file}: not valid TOML: ${(err as Error).message}`)
  }
  const overridden = new Set<string>()
  for (const [field, value] of Object.entries(overrides)) {
    if (value === undefined) continue
    const key = (TOML_KEYS as Record<string, string>)[field]
    if (!key) throw new Error(`unknown worker configuration override ${JSON.stringify(field)}`)
    const profile = value as DeclaredProfile
    raw[key] = key === 'gpu' || key === 'cpu_profile' ? { name: profile.name, vram_gb: profile.vramGb } : key === 'metrics' ? { address: value } : value
    overridden.add(key)
  }
  return validate(raw, file, home, overridden)
}

/** How a bad value is shown in an error message. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing (the key is missing)'
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v)
  if (Array.isArray(v)) return 'an array'
  if (v instanceof Date) return 'a date'
  if (typeof v === 'object' && v !== null) return 'a table'
  return String(v)
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)

/** Checks the parsed file (snake_case keys) and builds the WorkerConfig; errors name `file` and the key. */
function validate(raw: Record<string, unknown>, file: string, home: string, overridden: Set<string>): WorkerConfig {
  const label = (key: string) => (overridden.has(key.split(/[.[]/)[0]!) ? `${key} (as overridden)` : key)
  const fail = (key: string, expected: string, got: unknown): never => {
    throw new Error(`${file}: ${label(key)} must be ${expected}, got ${show(got)}`)
  }
  const unknownKey = (key: string, known: Iterable<string>): never => {
    throw new Error(`${file}: unknown key ${key} (known keys: ${[...known].join(', ')})`)
  }
  for (const k of Object.keys(raw)) if (!KNOWN_KEYS.has(k)) unknownKey(k, KNOWN_KEYS)

  const str = (key: string, v: unknown, expected: string, ok: (s: string) => boolean): string => (typeof v === 'string' && ok(v) ? v : fail(key, expected, v))
  const oneOf = <T extends string>(key: string, v: unknown, values: readonly T[]): T =>
    values.includes(v as T) ? (v as T) : fail(key, values.map((x) => JSON.stringify(x)).join(' or '), v)
  const profile = (key: string, v: unknown, dflt?: DeclaredProfile): DeclaredProfile => {
    if (!isTable(v)) return fail(key, 'a table with name and vram_gb', v)
    for (const k of Object.keys(v)) if (!PROFILE_KEYS.has(k)) unknownKey(`${key}.${k}`, PROFILE_KEYS)
    const name = str(
      `${key}.name`,
      v.name ?? dflt?.name,
      'a name of 1..128 printable characters',
      (s) => s.length <= 128 && s.trim() !== '' && !/\p{C}/u.test(s),
    )
    const vramGb = v.vram_gb ?? dflt?.vramGb
    if (typeof vramGb !== 'number' || !Number.isInteger(vramGb) || vramGb < 1 || vramGb > 4096) {
      return fail(`${key}.vram_gb`, 'a whole number of GB from 1 to 4096', vramGb)
    }
    return { name, vramGb }
  }
  const d = WORKER_CONFIG_DEFAULTS

  const chainId = str('chain_id', raw.chain_id, `a non-empty chain id of at most ${MAX_CHAIN_ID} characters`, (s) => s.length > 0 && s.length <= MAX_CHAIN_ID)
  const nodeRpc = str('node_rpc', raw.node_rpc, 'an http(s) URL such as "http://127.0.0.1:26657"', (s) => {
    try {
      return ['http:', 'https:'].includes(new URL(s).protocol)
    } catch {
      return false
    }
  })
  if (!Array.isArray(raw.gateways) || raw.gateways.length === 0) fail('gateways', 'a non-empty array of multiaddrs', raw.gateways)
  const gateways = (raw.gateways as unknown[]).map((g, i) => str(`gateways[${i}]`, g, 'a multiaddr ending in /p2p/<peer id>', isGatewayAddr))
  const key = str('key', raw.key ?? d.key, 'a key name of 1..64 letters, digits, ".", "_" or "-"', (s) => KEY_NAME.test(s))
  const keyringBackend = oneOf('keyring_backend', raw.keyring_backend ?? d.keyringBackend, ['file', 'test'] as const)
  const modelDir = str('model_dir', raw.model_dir ?? d.modelDir, 'a non-empty path', (s) => s.length > 0 && !s.includes('\0'))
  const executionProvider = oneOf('execution_provider', raw.execution_provider ?? d.executionProvider, ['cpu', 'cuda'] as const)
  const gasPrice = str('gas_price', raw.gas_price ?? d.gasPrice, 'an amount followed by a denom such as "0.025uberyl"', (s) => GAS_PRICE.test(s))
  const stake = str(
    'stake',
    raw.stake ?? d.stake,
    '"" (the chain\'s minimum) or a positive whole number of uberyl',
    (s) => s === '' || (STAKE.test(s) && BigInt(s) > 0n),
  )
  const gpu = raw.gpu === undefined ? undefined : profile('gpu', raw.gpu)
  const cpuProfile = profile('cpu_profile', raw.cpu_profile ?? {}, d.cpuProfile)
  const metricsTable = raw.metrics ?? {}
  if (!isTable(metricsTable)) fail('metrics', 'a table with address', metricsTable)
  for (const k of Object.keys(metricsTable as Record<string, unknown>)) if (k !== 'address') unknownKey(`metrics.${k}`, ['address'])
  const metricsAddress = str(
    'metrics.address',
    (metricsTable as Record<string, unknown>).address ?? '',
    '"" (off) or host:port such as "127.0.0.1:9464"',
    (s) => s === '' || (HOST_PORT.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) < 65536),
  )

  return {
    home,
    chainId,
    nodeRpc,
    gateways,
    key,
    keyringBackend,
    modelDir: path.resolve(home, modelDir),
    executionProvider,
    gasPrice,
    ...(stake ? { stake } : {}),
    ...(gpu ? { gpu } : {}),
    cpuProfile,
    ...(metricsAddress ? { metricsAddress } : {}),
  }
}

/** A parseable multiaddr whose last component is /p2p/<valid peer id>. */
function isGatewayAddr(s: string): boolean {
  if (!s.startsWith('/') || !s.includes('/p2p/')) return false
  try {
    const last = multiaddr(s).getComponents().at(-1)
    if (last?.name !== 'p2p' || !last.value) return false
    peerIdFromString(last.value)
    return true
  } catch {
    return false
  }
}
