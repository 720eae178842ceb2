// `beryld worker models add <source>`: what a source can be, and how each becomes a model folder.
//
// | source | becomes |
// |---|---|
// | `smollm2` | SmolLM2-135M-Instruct, from the GGUF scripts/setup.sh fetched (gguf-install.ts) |
// | a `.gguf` file | a Llama-architecture GGUF converted the same way |
// | a folder with `model_index.json` | a Stable Diffusion ONNX export in diffusers' layout (diffusers.ts) |
// | a folder and a spec | `addModel` with the spec's kind, files, components, io and config |
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { type ModelManifest, addModel } from './store.ts'
import { installGgufModel, installSmolLM2 } from './gguf-install.ts'

export type ModelSpec = Omit<Parameters<typeof addModel>[1], 'sourceDir'>

export async function addModelFrom(
  dir: string,
  source: string,
  o: { spec?: ModelSpec; name?: string; scheduler?: 'ddim'; log?: (m: string) => void } = {},
): Promise<ModelManifest> {
  if (source === 'smollm2') return installSmolLM2(dir, { log: o.log, name: o.name })
  if (source.endsWith('.gguf')) return installGgufModel(dir, source, { log: o.log, name: o.name })
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new Error(`${source} is neither "smollm2", a .gguf file nor a folder`)
  if (o.spec) return addModel(dir, { ...o.spec, ...(o.name ? { name: o.name } : {}), sourceDir: source })
  if (existsSync(join(source, 'model_index.json'))) {
    const { addDiffusersModel } = await import('./diffusers.ts')
    return addDiffusersModel(dir, source, { name: o.name, scheduler: o.scheduler })
  }
  throw new Error(`${source} has no model_index.json (not a diffusers export): give --spec <file.json> describing its files`)
}
