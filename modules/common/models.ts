import type { ErrorKind } from '../../chain/errors.ts'

const MODEL_ID_RE = /^[0-9a-f]{64}$/
const VERSION_RE = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/
export const MAX_MODELS = 64

/** Model ids are sha256 hex of a model's manifest (docs/decisions/0007); returned sorted and unique. */
export function validateModelIds(ids: string[], kind: ErrorKind): string[] {
  if (ids.length === 0) throw kind.with('at least one model id is needed')
  if (ids.length > MAX_MODELS) throw kind.with(`at most ${MAX_MODELS} models`)
  for (const id of ids) if (!MODEL_ID_RE.test(id)) throw kind.with(`invalid model id ${JSON.stringify(id)} (64 lowercase hex digits)`)
  const sorted = [...new Set(ids)].sort()
  if (sorted.length !== ids.length) throw kind.with('duplicate model id')
  return sorted
}

/** A runner or task version "major.minor.patch". */
export function checkVersion(v: string, what: string, kind: ErrorKind): void {
  if (!VERSION_RE.test(v)) throw kind.with(`${what} must be "major.minor.patch", got ${JSON.stringify(v)}`)
}

// Dispatch compares versions per node class and task: the few distinct version strings are parsed once.
const parsedVersions = new Map<string, readonly number[]>()
function versionParts(v: string): readonly number[] {
  let p = parsedVersions.get(v)
  if (!p) {
    p = Object.freeze(v.split('.').map(Number))
    if (parsedVersions.size < 10_000) parsedVersions.set(v, p)
  }
  return p
}

/** A node's runner can run a task of version `task`: same major, and at least the task's minor.patch. */
export function versionCompatible(node: string, task: string): boolean {
  const n = versionParts(node),
    t = versionParts(task)
  if (n[0] !== t[0]) return false
  return n[1]! > t[1]! || (n[1] === t[1] && n[2]! >= t[2]!)
}
