import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { checkBeryldCommand } from '../helpers/cli-check.ts'

// The docs check: every `./bin/beryld …` and `npm run …` line in the READMEs names a real command, and
// every --flag it uses is one that command takes. (What the commands do is exercised by the
// integration tests: cli, staking, task, task-view, workers, sdk; the --help texts by cli.test.ts.)
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const DOCS = [
  'README.md',
  ...['chain', 'modules', 'cli', 'worker', 'gateway', 'outputs', 'sdk', 'api', 'bench', 'test', 'worker/models', 'worker/runners'].map((d) => `${d}/README.md`),
].filter((f) => fs.existsSync(path.join(ROOT, f)))

interface DocCommand {
  file: string
  line: string
  words: string[]
}

/** Shell lines of the ```bash blocks, comments cut, one command per line. */
function documentedCommands(): DocCommand[] {
  const out: DocCommand[] = []
  for (const file of DOCS) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
    for (const block of text.matchAll(/```(?:bash|sh)\n([\s\S]*?)```/g)) {
      for (const raw of block[1]!.split('\n')) {
        const line = raw.replace(/\s+#.*$/, '').trim()
        if (!line || line.startsWith('#')) continue
        const words = [...line.matchAll(/"[^"]*"|'[^']*'|\S+/g)].map((m) => m[0])
        out.push({ file, line, words })
      }
    }
  }
  return out
}

describe('docs check: the commands in the READMEs exist with the flags they use', () => {
  const cmds = documentedCommands()
  const beryld = cmds.filter((c) => c.words[0] === './bin/beryld' || c.words[0] === 'beryld')
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>

  it('finds the documented commands', () => {
    assert.ok(beryld.length >= 30, `only ${beryld.length} beryld commands found in ${DOCS.join(', ')}`)
  })

  it('every beryld command names a runnable command and only its own flags', () => {
    const problems: string[] = []
    for (const c of beryld) for (const p of checkBeryldCommand(c.words.slice(1))) problems.push(`${c.file}: \`${c.line}\`: ${p}`)
    assert.deepEqual(problems, [])
  })

  it('every npm script the docs use exists', () => {
    const used = cmds.filter((c) => c.words[0] === 'npm').map((c) => (c.words[1] === 'run' ? c.words[2]! : c.words[1]!))
    assert.ok(used.includes('devnet') && used.includes('test'))
    for (const s of used) assert.ok(scripts[s], `npm ${s} is documented but not in package.json`)
  })
})
