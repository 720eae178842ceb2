import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

// The import rules between top-level folders (each folder's README says what it may import; the
// reasons are in ARCHITECTURE.md and docs/decisions/0012). Specifiers are read from the source
// text of every .ts file, so a rule cannot be dodged by a type-only or a dynamic import.
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const SKIP = new Set(['node_modules', '.git', '.bin', 'dist'])

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue
    const rel = dir ? `${dir}/${e.name}` : e.name
    if (e.isDirectory()) out.push(...tsFiles(rel))
    else if (e.name.endsWith('.ts')) out.push(rel)
  }
  return out
}

/** Every module specifier of a file: static imports and re-exports (type-only included), side-effect imports, import(). */
export function importSpecifiers(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const found: string[] = []
  for (const re of [/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g])
    for (const m of text.matchAll(re)) found.push(m[1]!)
  return found
}

interface Import {
  file: string
  spec: string
  target?: string
}

/** Imports of the files under `folder`; `target` is the imported file's repository path for a relative specifier, else undefined (a package). */
function importsOf(folder: string): Import[] {
  return tsFiles(folder).flatMap((file) =>
    importSpecifiers(fs.readFileSync(path.join(ROOT, file), 'utf8')).map((spec) => ({
      file,
      spec,
      ...(spec.startsWith('.')
        ? {
            target: path
              .relative(ROOT, path.resolve(ROOT, path.dirname(file), spec))
              .split(path.sep)
              .join('/'),
          }
        : {}),
    })),
  )
}

const inFolder = (target: string | undefined, folders: string[]) => target !== undefined && folders.some((f) => target === f || target.startsWith(`${f}/`))
const show = (bad: Import[]) => bad.map((i) => `${i.file} imports ${i.spec}`)

describe('import rules between top-level folders', () => {
  it('reads import specifiers of every form from source text', () => {
    assert.deepEqual(
      importSpecifiers(
        [
          "import a from 'pkg-a'",
          "import type { B } from '../b.ts'",
          'import {\n  c,\n  d,\n} from "./c.ts"',
          "export { e } from './e.ts'",
          "export * from './f.ts'",
          "import './polyfill.ts'",
          "const g = await import('./g.ts')",
          "// import h from './commented-out.ts'",
          "/* import i from './commented-out-too.ts' */",
        ].join('\n'),
      ).sort(),
      ['../b.ts', './c.ts', './e.ts', './f.ts', './g.ts', './polyfill.ts', 'pkg-a'].sort(),
    )
    // The real tree is read: a known import of each folder is found.
    assert.ok(importsOf('outputs').some((i) => i.file === 'outputs/check.ts' && i.target === 'outputs/phash/phash.ts'))
    assert.ok(importsOf('sdk').some((i) => i.file === 'sdk/client.ts' && i.target === 'gateway/client.ts'))
    assert.ok(importsOf('chain').some((i) => i.file === 'chain/app.ts'))
  })

  it('sdk/ imports nothing from worker/ or cli/ (an application loads no worker code)', () => {
    assert.deepEqual(show(importsOf('sdk').filter((i) => inFolder(i.target, ['worker', 'cli']))), [])
  })

  it('chain/ imports nothing from modules/, gateway/, worker/, sdk/ or cli/ (the runtime knows no module and no task)', () => {
    assert.deepEqual(show(importsOf('chain').filter((i) => inFolder(i.target, ['modules', 'gateway', 'worker', 'sdk', 'cli']))), [])
  })

  it('sim/ imports only modules/, chain/, outputs/, proto/ and itself; nothing but cli/ and test/ imports sim/', () => {
    assert.deepEqual(show(importsOf('sim').filter((i) => i.target !== undefined && !inFolder(i.target, ['sim', 'modules', 'chain', 'outputs', 'proto']))), [])
    const others = ['chain', 'modules', 'outputs', 'gateway', 'worker', 'sdk', 'api', 'proto'].flatMap((f) => importsOf(f))
    assert.deepEqual(show(others.filter((i) => inFolder(i.target, ['sim']))), [])
  })

  it('outputs/ imports only outputs/ and packages (a leaf everyone may import)', () => {
    assert.deepEqual(show(importsOf('outputs').filter((i) => i.target !== undefined && !inFolder(i.target, ['outputs']))), [])
  })

  // ---- modules/ -------------------------------------------------------------------------------
  const moduleOf = (p: string | undefined) => (p?.startsWith('modules/') ? p.split('/')[1] : undefined)
  const isModule = (name: string | undefined) => name !== undefined && !name.endsWith('.ts') && name !== 'common'

  it('a module imports another module only through its index.ts (modules/common is shared, not a module)', () => {
    const bad = importsOf('modules').filter((i) => {
      const from = moduleOf(i.file),
        to = moduleOf(i.target)
      return isModule(from) && isModule(to) && from !== to && i.target !== `modules/${to}/index.ts`
    })
    assert.deepEqual(show(bad), [])
  })

  it('no two modules depend on each other, directly or through others (hooks are wired in modules/index.ts)', () => {
    const deps = new Map<string, Set<string>>()
    for (const i of importsOf('modules')) {
      const from = moduleOf(i.file),
        to = moduleOf(i.target)
      if (isModule(from) && isModule(to) && from !== to) deps.set(from!, (deps.get(from!) ?? new Set()).add(to!))
    }
    const cycle = (start: string): string[] | undefined => {
      const walk = (m: string, path: string[]): string[] | undefined => {
        for (const d of deps.get(m) ?? []) {
          if (d === start) return [...path, d]
          if (!path.includes(d)) {
            const c = walk(d, [...path, d])
            if (c) return c
          }
        }
        return undefined
      }
      return walk(start, [start])
    }
    assert.deepEqual([...deps.keys()].map(cycle).filter(Boolean), [])
    assert.ok(deps.get('task')?.has('vss') && !deps.get('vss')?.has('task'), 'the graph is read: task uses vss, vss does not use task')
  })
})
