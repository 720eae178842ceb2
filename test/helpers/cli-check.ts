import type { Command } from 'commander'
import { program } from '../../cli/main.ts'

/**
 * The docs check's rule for one `beryld …` command line (its words after `beryld`): it names a
 * runnable command, uses only that command's flags, and gives its required arguments. Returns the
 * problems found (empty when the line is right). Used for READMEs and for docker-compose.yml.
 */
export function checkBeryldCommand(words: string[]): string[] {
  const { cmd, rest } = resolve(words)
  if (cmd === program) return ['no such command']
  if (cmd.commands.length) return [`${cmd.name()} has no subcommand ${rest[0] ?? '(none given)'}`]
  const problems: string[] = []
  const known = flagsOf(cmd)
  for (const w of rest) {
    const flag = w.split('=')[0]!
    if (/^--?[a-zA-Z]/.test(flag) && !known.has(flag)) problems.push(`${cmd.name()} has no option ${flag}`)
  }
  const required = cmd.registeredArguments.filter((a) => a.required).length
  const positional = rest.filter((w, i) => !w.startsWith('-') && !(i > 0 && /^--?[a-zA-Z]/.test(rest[i - 1]!) && takesValue(cmd, rest[i - 1]!))).length
  if (positional < required && !rest.includes('<')) problems.push(`${cmd.name()} needs ${required} argument(s)`)
  return problems
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
  for (let c: Command | null = cmd; c; c = c.parent)
    for (const o of c.options) {
      if (o.long) flags.add(o.long)
      if (o.short) flags.add(o.short)
    }
  return flags
}

function takesValue(cmd: Command, flag: string): boolean {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag)
    if (o) return o.required || o.optional
  }
  return false
}
