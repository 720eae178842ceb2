// Bundles beryld, the Node 20 polyfill first, into dist/beryld.mjs. bin/beryld runs the bundle
// while it is newer than every TypeScript source, and the sources through tsx otherwise. A beryld process then starts
// without transpiling some 400 TypeScript modules and without Node's module loader resolving and linking ~2 000
// package files one by one: `beryld --version` 2.2 s → 0.7 s of wall time on this (loaded) machine, and the test
// suite starts beryld hundreds of times. Run by scripts/setup.sh; `npm run build:cli` by hand.
//
// What stays outside the bundle (loaded from node_modules as usual): native addons, and packages that find their own
// files through __dirname (which a bundle cannot give them). The build fails if the bundle still uses __dirname or
// __filename, so a new dependency of that kind is noticed here, not at run time. Sources that locate files next to
// themselves read import.meta.url: each file's own URL is written in its place, so their paths resolve as under tsx.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const EXTERNAL = [
  // native addons
  'classic-level',
  'onnxruntime-node',
  'sharp',
  'secp256k1',
  // their own files through __dirname: pino's transports (worker threads), the OpenAPI UI's static files and package.json
  'pino',
  'thread-stream',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  // .proto files read at run time
  '@grpc/*',
  '@protobufs/*',
]

/** import.meta.url in a bundled source file means that file, not the bundle. */
const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8')
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' }
    })
  },
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // CommonJS packages inside an ES module bundle still call require (of node: builtins and the externals above).
  banner: { js: "import { createRequire as __berylCreateRequire } from 'node:module'; const require = __berylCreateRequire(import.meta.url);" },
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
  plugins: [ownUrl],
}
await build({ ...common, entryPoints: [path.join(ROOT, 'cli/bundle.ts')], outfile: path.join(ROOT, 'dist/beryld.mjs') })

const code = await readFile(path.join(ROOT, 'dist/beryld.mjs'), 'utf8')
const lines = code.split('\n')
let from = ''
const offenders = new Set()
for (const line of lines) {
  const m = /^\/\/ (node_modules\/\S+)/.exec(line)
  if (m) from = m[1]
  else if (/\b__(dirname|filename)\b/.test(line) && !/^\s*(\*|\/\/)/.test(line)) offenders.add(from || 'beryl sources')
}
if (offenders.size) {
  console.error(`build-cli: the bundle uses __dirname/__filename in ${[...offenders].join(', ')}: add those packages to EXTERNAL`)
  process.exit(1)
}
