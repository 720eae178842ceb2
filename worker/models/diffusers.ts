// Stable Diffusion ONNX exports in diffusers' folder layout (placeholder until the CLIP tokenizer lands).
import type { ModelManifest } from './store.ts'

export async function addDiffusersModel(_dir: string, source: string, _o: { name?: string } = {}): Promise<ModelManifest> {
  throw new Error(`${source}: diffusers ONNX exports are not supported yet`)
}
