import { type ModelKind, type ModelManifest, bundledModel, readManifest } from '../models/store.ts'

/** The manifest for an explicit model id, or the bundled model of the kind (built on first use). */
export async function resolveModel(modelDir: string, id: string | undefined, kind: ModelKind): Promise<ModelManifest> {
  const m = id ? await readManifest(modelDir, id) : await bundledModel(modelDir, kind)
  if (m.kind !== kind) throw new Error(`model ${m.id} (${m.name}) is a ${m.kind} model, not ${kind}`)
  return m
}
