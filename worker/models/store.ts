// The model folder: `<dir>/<model-id>/manifest.json` plus the model's files.
//
// Model id: sha256 (lower-case hex) of the canonical JSON of the manifest's
// identity fields {format, kind, files, components, io, config}, where `files`
// lists every file's path, size and sha256. Keys are sorted and there is no
// whitespace. One rule covers single-file models (text) and multi-file
// pipelines (image), and the id also covers what the files alone do not pin but
// what changes outputs: tokenizer, scheduler, latent scaling, context length.
// `name` and `description` are labels and stay out of the id, so an operator
// can rename a model without changing its identity.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { type BuiltModel, type IoSpec, buildBundledModels } from './build.ts'
import { sha256Hex } from './prng.ts'
import { BUNDLED_MODEL_IDS } from '../../sdk/models.ts'

export const MANIFEST_FORMAT = 'beryl-model/1'
export type ModelKind = 'image' | 'text'

export interface ModelFile {
  path: string
  size: number
  sha256: string
}

export interface ModelManifest {
  format: typeof MANIFEST_FORMAT
  id: string
  kind: ModelKind
  name: string
  description?: string
  files: ModelFile[]
  /** Role → file path, e.g. {unet: "unet/model.onnx"}. */
  components: Record<string, string>
  /** Role → declared inputs/outputs (names, dtypes, shapes). */
  io: Record<string, { inputs: IoSpec[]; outputs: IoSpec[] }>
  /** Everything besides the weights that shapes the output (tokenizer, scheduler, ...). */
  config: Record<string, unknown>
}

const HEX64 = /^[0-9a-f]{64}$/

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('canonicalJson: non-finite number')
    return JSON.stringify(v)
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`
  }
  throw new TypeError(`canonicalJson: unsupported ${typeof v}`)
}

export function computeModelId(m: Omit<ModelManifest, 'id' | 'name' | 'description'>): string {
  const files = [...m.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return sha256Hex(canonicalJson({ format: m.format, kind: m.kind, files, components: m.components, io: m.io, config: m.config }))
}

/** Pretty, key-sorted JSON so manifest.json bytes are reproducible too. */
function manifestText(m: ModelManifest): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(m)), null, 2)}\n`
}

function checkRelPath(p: string): void {
  if (typeof p !== 'string' || p === '' || isAbsolute(p) || p.includes('\\') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`bad file path in manifest: ${JSON.stringify(p)}`)
  }
}

function checkManifestShape(m: unknown): asserts m is ModelManifest {
  const o = m as Partial<ModelManifest> | null
  if (!o || typeof o !== 'object') throw new Error('manifest is not an object')
  if (o.format !== MANIFEST_FORMAT) throw new Error(`manifest format must be ${MANIFEST_FORMAT}`)
  if (typeof o.id !== 'string' || !HEX64.test(o.id)) throw new Error('manifest id must be 64 lower-case hex chars')
  if (o.kind !== 'image' && o.kind !== 'text') throw new Error('manifest kind must be "image" or "text"')
  if (typeof o.name !== 'string') throw new Error('manifest name must be a string')
  if (!Array.isArray(o.files) || o.files.length === 0) throw new Error('manifest files must be a non-empty array')
  for (const f of o.files) {
    checkRelPath(f?.path)
    if (!Number.isSafeInteger(f.size) || f.size < 0 || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256))
      throw new Error(`bad file entry ${JSON.stringify(f.path)}`)
  }
  if (!o.components || typeof o.components !== 'object') throw new Error('manifest components must be an object')
  const paths = new Set(o.files.map((f) => f.path))
  for (const [role, p] of Object.entries(o.components)) {
    if (!paths.has(p)) throw new Error(`component ${role} names ${JSON.stringify(p)}, which is not in files`)
  }
  if (!o.io || typeof o.io !== 'object' || !o.config || typeof o.config !== 'object') throw new Error('manifest io and config must be objects')
}

async function fileSha256(path: string): Promise<string> {
  // Streamed: an operator's real SD UNet is gigabytes.
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

export function modelFolder(dir: string, id: string): string {
  if (!HEX64.test(id)) throw new Error(`not a model id: ${JSON.stringify(id)}`)
  return join(dir, id)
}

/** Absolute path of a model component's file. */
export function componentPath(dir: string, m: ModelManifest, role: string): string {
  const p = m.components[role]
  if (!p) throw new Error(`model ${m.id} (${m.name}) has no "${role}" component`)
  return resolve(modelFolder(dir, m.id), p)
}

/**
 * Reads and checks a manifest: shape, id recomputation, folder name, and that
 * each file exists with the declared size. `full` also re-hashes every file.
 */
export async function readManifest(dir: string, id: string, opts: { full?: boolean } = {}): Promise<ModelManifest> {
  const folder = modelFolder(dir, id)
  let m: unknown
  try {
    m = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'))
  } catch (e) {
    throw new Error(`model ${id}: cannot read manifest.json (${(e as Error).message})`)
  }
  checkManifestShape(m)
  if (m.id !== id) throw new Error(`model ${id}: manifest says id ${m.id}`)
  const computed = computeModelId(m)
  if (computed !== id) throw new Error(`model ${id}: manifest content hashes to ${computed}`)
  for (const f of m.files) {
    const p = join(folder, f.path)
    let st
    try {
      st = await stat(p)
    } catch {
      throw new Error(`model ${id}: missing file ${f.path}`)
    }
    if (st.size !== f.size) throw new Error(`model ${id}: ${f.path} has ${st.size} bytes, manifest says ${f.size}`)
    if (opts.full) {
      const h = await fileSha256(p)
      if (h !== f.sha256) throw new Error(`model ${id}: ${f.path} sha256 ${h} does not match manifest ${f.sha256}`)
    }
  }
  return m
}

export async function verifyModel(dir: string, id: string): Promise<ModelManifest> {
  return readManifest(dir, id, { full: true })
}

/**
 * The models in the folder, sorted by id. Entries that fail the cheap checks
 * (shape, id, sizes) are left out and reported through `onInvalid`.
 */
export async function listModels(dir: string, opts: { onInvalid?: (entry: string, reason: string) => void } = {}): Promise<ModelManifest[]> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const out: ModelManifest[] = []
  for (const e of entries.sort()) {
    if (!HEX64.test(e)) continue
    try {
      out.push(await readManifest(dir, e))
    } catch (err) {
      opts.onInvalid?.(e, (err as Error).message)
    }
  }
  return out
}

/** Write a model into `<dir>/<id>/` through a temp folder and a rename, so readers never see half a model. */
async function installFiles(dir: string, m: ModelManifest, put: (folder: string, f: ModelFile) => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true })
  const tmp = await mkdtemp(join(dir, `.tmp-${m.id.slice(0, 8)}-`))
  try {
    for (const f of m.files) {
      await mkdir(dirname(join(tmp, f.path)), { recursive: true })
      await put(tmp, f)
    }
    await writeFile(join(tmp, 'manifest.json'), manifestText(m))
    const target = modelFolder(dir, m.id)
    try {
      await rename(tmp, target)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e
      // Another process may have installed the same model meanwhile: same id
      // means same content, so an intact copy is kept and ours dropped.
      // Only a damaged copy is replaced.
      try {
        await verifyModel(dir, m.id)
        await rm(tmp, { recursive: true, force: true })
        return
      } catch {
        await rm(target, { recursive: true, force: true })
        await rename(tmp, target)
      }
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    throw e
  }
}

export function manifestForBuilt(b: BuiltModel): ModelManifest {
  const files = b.files.map((f) => ({ path: f.path, size: f.bytes.length, sha256: sha256Hex(f.bytes) })).sort((a, b) => (a.path < b.path ? -1 : 1))
  const core = { format: MANIFEST_FORMAT, kind: b.kind, files, components: b.components, io: b.io, config: b.config } as const
  return { ...core, id: computeModelId(core), name: b.name, description: b.description }
}

export async function writeBuiltModel(dir: string, b: BuiltModel): Promise<ModelManifest> {
  const m = manifestForBuilt(b)
  const bytes = new Map(b.files.map((f) => [f.path, f.bytes]))
  await installFiles(dir, m, (folder, f) => writeFile(join(folder, f.path), bytes.get(f.path)!))
  return m
}

/**
 * Adds an operator's model (e.g. a Stable Diffusion ONNX export) to the folder.
 * Files are copied from `sourceDir`, keeping their relative paths, because an
 * ONNX file with external data finds it relative to itself.
 */
export async function addModel(
  dir: string,
  spec: {
    sourceDir: string
    kind: ModelKind
    name: string
    description?: string
    files: string[]
    components: Record<string, string>
    io: Record<string, { inputs: IoSpec[]; outputs: IoSpec[] }>
    config: Record<string, unknown>
  },
): Promise<ModelManifest> {
  const files: ModelFile[] = []
  for (const p of [...spec.files].sort()) {
    checkRelPath(p)
    const src = join(spec.sourceDir, p)
    files.push({ path: p, size: (await stat(src)).size, sha256: await fileSha256(src) })
  }
  const core = { format: MANIFEST_FORMAT, kind: spec.kind, files, components: spec.components, io: spec.io, config: spec.config } as const
  const m: ModelManifest = { ...core, id: computeModelId(core), name: spec.name, description: spec.description }
  checkManifestShape(m)
  await installFiles(dir, m, (folder, f) => copyFile(join(spec.sourceDir, f.path), join(folder, f.path)))
  return m
}

const ensured = new Map<string, Promise<ModelManifest[]>>()

/**
 * Makes sure the bundled models are present and intact in `dir`, building
 * them if absent or damaged. Built ids are checked against
 * BUNDLED_MODEL_IDS (sdk/models.ts). Memoized per folder within a process; `recheck`
 * verifies the files again (e.g. after an operator touched the folder).
 */
export function ensureBundledModels(dir: string, opts: { recheck?: boolean } = {}): Promise<ModelManifest[]> {
  const key = resolve(dir)
  let p = opts.recheck ? undefined : ensured.get(key)
  if (!p) {
    p = doEnsure(key)
    ensured.set(key, p)
    p.catch(() => ensured.delete(key))
  }
  return p
}

async function doEnsure(dir: string): Promise<ModelManifest[]> {
  const kinds: ModelKind[] = ['image', 'text']
  const have: ModelManifest[] = []
  let ok = kinds.every((k) => BUNDLED_MODEL_IDS[k] !== '')
  if (ok) {
    for (const k of kinds) {
      try {
        have.push(await verifyModel(dir, BUNDLED_MODEL_IDS[k]))
      } catch {
        ok = false
        break
      }
    }
  }
  if (ok) return have
  const out: ModelManifest[] = []
  for (const b of buildBundledModels()) {
    const expected = BUNDLED_MODEL_IDS[b.kind]
    const m = manifestForBuilt(b)
    if (expected !== '' && m.id !== expected) {
      throw new Error(`bundled ${b.kind} model built with id ${m.id}, expected ${expected}: the builder's output differs from the reference bytes`)
    }
    out.push(await writeBuiltModel(dir, b))
  }
  return out
}

/** The bundled model of a kind (building the bundled set into `dir` if needed). */
export async function bundledModel(dir: string, kind: ModelKind): Promise<ModelManifest> {
  const all = await ensureBundledModels(dir)
  const m = all.find((x) => x.kind === kind)
  if (!m) throw new Error(`no bundled ${kind} model`)
  return m
}
