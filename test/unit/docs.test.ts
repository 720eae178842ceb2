import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { program } from '../../cli/main.ts'

// The docs check: every `./bin/beryld …` and `npm run …` line in the READMEs names a real command, and
// every --flag it uses is one that command takes. (What the commands do is exercised by the
// integration tests: cli, staking, task, task-view, workers, sdk.)
const ROOT = path.resolve(import.meta.dirname, '..', '..')
const DOCS = ['README.md', ...['chain', 'modules', 'cli', 'worker', 'sdk', 'api', 'bench', 'test', 'worker/models', 'worker/runners'].map((d) => `${d}/README.md`)]
  .filter((f) => fs.existsSync(path.join(ROOT, f)))

interface DocCommand { file: string; line: string; words: string[] }

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

function resolve(words: string[]): { cmd: Command; rest: string[] } {
  let cmd = program as Command
  let i = 0
  for (; i < words.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === words[i] || c.aliases().includes(words[i]!))
    if (!sub) break
    cmd = sub
  }
  return { cmd, rest: words.slice(i) }
}

function flagsOf(cmd: Command): Set<string> {
  const flags = new Set<string>(['--help', '-h'])
  for (let c: Command | null = cmd; c; c = c.parent) for (const o of c.options) { if (o.long) flags.add(o.long); if (o.short) flags.add(o.short) }
  return flags
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
    for (const c of beryld) {
      const { cmd, rest } = resolve(c.words.slice(1))
      if (cmd === program) { problems.push(`${c.file}: \`${c.line}\`: no such command`); continue }
      if (cmd.commands.length) {
        problems.push(`${c.file}: \`${c.line}\`: ${cmd.name()} has no subcommand ${rest[0] ?? '(none given)'}`)
        continue
      }
      const known = flagsOf(cmd)
      for (const w of rest) {
        const flag = w.split('=')[0]!
        if (/^--?[a-zA-Z]/.test(flag) && !known.has(flag)) problems.push(`${c.file}: \`${c.line}\`: ${cmd.name()} has no option ${flag}`)
      }
      const required = cmd.registeredArguments.filter((a) => a.required).length
      const positional = rest.filter((w, i) => !w.startsWith('-') && !(i > 0 && /^--?[a-zA-Z]/.test(rest[i - 1]!) && takesValue(cmd, rest[i - 1]!))).length
      if (positional < required && !rest.includes('<')) problems.push(`${c.file}: \`${c.line}\`: ${cmd.name()} needs ${required} argument(s)`)
    }
    assert.deepEqual(problems, [])
  })

  it('every npm script the docs use exists', () => {
    const used = cmds.filter((c) => c.words[0] === 'npm').map((c) => (c.words[1] === 'run' ? c.words[2]! : c.words[1]!))
    assert.ok(used.includes('devnet') && used.includes('test'))
    for (const s of used) assert.ok(scripts[s], `npm ${s} is documented but not in package.json`)
  })
})

function takesValue(cmd: Command, flag: string): boolean {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag)
    if (o) return o.required || o.optional
  }
  return false
}
