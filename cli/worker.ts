import fs from 'node:fs'
import type { Command, Option } from 'commander'
import { phashHex, phashPng } from '../worker/phash/phash.ts'

/** `beryld worker …`: the GPU operator's commands (the daemon arrives with the gateway). */
export function registerWorkerCommands(program: Command, o: { outputOpt: () => Option }): void {
  const w = program.command('worker').description('GPU operator tools')
  w.command('phash').description('print the perceptual hash (goimagehash PerceptionHash, 16 hex digits) of each PNG, as validators compute it')
    .argument('<files...>', 'PNG files')
    .addOption(o.outputOpt())
    .action(async (files: string[], f: { output: 'text' | 'json' }) => {
      const out: Array<{ file: string; phash?: string; error?: string }> = []
      for (const file of files) {
        try {
          out.push({ file, phash: phashHex(await phashPng(fs.readFileSync(file))) })
        } catch (err) {
          out.push({ file, error: (err as Error).message })
          process.exitCode = 1
        }
      }
      if (f.output === 'json') console.log(JSON.stringify(out, null, 2))
      else for (const r of out) r.phash ? console.log(`${r.phash}  ${r.file}`) : console.error(`error: ${r.file}: ${r.error}`)
    })
}
