// Builds Beryl's bundled models into a folder (if absent or damaged), verifies them and prints
// their ids: `npm run models:build -- <dir>`. The builders are in worker/models/build.ts.
import { ensureBundledModels } from '../worker/models/store.ts'

const dir = process.argv[2]
if (!dir) {
  process.stderr.write('usage: npm run models:build -- <model-dir>\n')
  process.exit(2)
}
try {
  for (const m of await ensureBundledModels(dir)) {
    const size = m.files.reduce((a, f) => a + f.size, 0)
    process.stdout.write(`${m.id}  ${m.kind}  ${m.name}  ${size} bytes\n`)
  }
} catch (e) {
  process.stderr.write(`${(e as Error).stack ?? e}\n`)
  process.exit(1)
}
