// ONNX Runtime sessions, cached per (model file, execution provider) for the
// life of the process: creating a session parses and optimizes the graph,
// which for a real SD UNet costs seconds.
import * as ort from 'onnxruntime-node'

export type ExecutionProvider = 'cpu' | 'cuda'

export interface RunnerOptions {
  /** 'cpu' (default). 'cuda' is tried only when asked, and falls back to CPU with a log line. */
  executionProvider?: ExecutionProvider
  /** Where fallback notices go; console.warn when absent. */
  log?: (msg: string) => void
}

export interface LoadedSession {
  session: ort.InferenceSession
  provider: ExecutionProvider
}

const cache = new Map<string, Promise<LoadedSession>>()

// One intra-op thread and sequential execution: results must not depend on
// how work is split between threads or on the machine's core count.
function sessionOptions(ep: ExecutionProvider): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  }
}

// Set after the first failed CUDA attempt, so the fallback is logged once
// per process rather than once per model component.
let cudaUnavailable: string | null = null

async function create(path: string, ep: ExecutionProvider, log: (m: string) => void): Promise<LoadedSession> {
  if (ep === 'cuda' && cudaUnavailable === null) {
    try {
      // ORT's own log is silenced for this attempt; the reason goes through `log`.
      return { session: await ort.InferenceSession.create(path, { ...sessionOptions('cuda'), logSeverityLevel: 4 }), provider: 'cuda' }
    } catch (e) {
      cudaUnavailable = (e as Error).message.split('\n')[0] ?? 'unknown error'
      log(`CUDA execution provider unavailable (${cudaUnavailable}); running on CPU. Outputs will match other CPU nodes, not CUDA nodes.`)
    }
  }
  return { session: await ort.InferenceSession.create(path, sessionOptions('cpu')), provider: 'cpu' }
}

export function getSession(path: string, opts: RunnerOptions = {}): Promise<LoadedSession> {
  const ep = opts.executionProvider ?? 'cpu'
  if (ep !== 'cpu' && ep !== 'cuda') throw new Error(`unknown execution provider ${JSON.stringify(ep)} (use "cpu" or "cuda")`)
  const key = `${ep}\0${path}`
  let p = cache.get(key)
  if (!p) {
    p = create(path, ep, opts.log ?? ((m) => console.warn(m)))
    cache.set(key, p)
    p.catch(() => cache.delete(key))
  }
  return p
}

/** Releases every cached session (tests, or a worker switching model sets). */
export async function releaseSessions(): Promise<void> {
  const all = [...cache.values()]
  cache.clear()
  for (const p of all) {
    try {
      await (await p).session.release()
    } catch {
      /* already failed or released */
    }
  }
}

export function inputType(s: ort.InferenceSession, name: string): ort.Tensor.Type {
  const md = s.inputMetadata.find((m) => m.name === name)
  if (!md) throw new Error(`model has no input named "${name}" (inputs: ${s.inputNames.join(', ')})`)
  if (!md.isTensor) throw new Error(`model input "${name}" is not a tensor`)
  return md.type
}

/** The rank the model declares for input `name` (undefined when it declares no shape). */
export function inputRank(s: ort.InferenceSession, name: string): number | undefined {
  const md = s.inputMetadata.find((m) => m.name === name)
  return md?.isTensor ? md.shape.length : undefined
}

/** An integer tensor in whatever integer type the model declares for `name`. */
export function intTensor(s: ort.InferenceSession, name: string, values: ArrayLike<number>, dims: number[]): ort.Tensor {
  const t = inputType(s, name)
  if (t === 'int64') return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims)
  if (t === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims)
  if (t === 'float32') return new ort.Tensor('float32', Float32Array.from(values), dims)
  throw new Error(`model input "${name}" has type ${t}; this runner feeds int64, int32 or float32`)
}

export function outputTensor(out: ort.InferenceSession.ReturnType, s: ort.InferenceSession, name: string): ort.Tensor {
  // Fall back to the first output: exports differ in naming, but every SD
  // component's main result comes first.
  const t = out[name] ?? out[s.outputNames[0]!]
  if (!t) throw new Error(`model produced no "${name}" output`)
  if (t.type !== 'float32') throw new Error(`model output "${name}" has type ${t.type}; this runner reads float32 (fp16 exports are not supported yet)`)
  return t
}
