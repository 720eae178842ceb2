import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT } from '../helpers/node.ts'

function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort()
}

describe('generated protobuf code', function () {
  this.timeout(60_000)
  it('proto/gen matches what `npm run proto` generates from proto/ (regenerate and commit after editing a .proto)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'beryl-proto-'))
    try {
      execFileSync(path.join(ROOT, 'node_modules', '.bin', 'buf'), ['generate', '-o', out], { cwd: ROOT, stdio: 'pipe' })
      const fresh = path.join(out, 'proto', 'gen')
      const committed = path.join(ROOT, 'proto', 'gen')
      assert.deepEqual(files(fresh), files(committed))
      for (const f of files(fresh)) {
        assert.equal(fs.readFileSync(path.join(fresh, f), 'utf8'), fs.readFileSync(path.join(committed, f), 'utf8'), f)
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  })
})
