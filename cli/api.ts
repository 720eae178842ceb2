// `beryld api`: the OpenAI-compatible HTTP API (api/), started from a config file with signers from
// the keyring of --home.
import fs from 'node:fs'
import path from 'node:path'
import type { OfflineDirectSigner } from '@cosmjs/proto-signing'
import { type Command, Option } from 'commander'
import { type ApiModel, parseApiConfig } from '../api/config.ts'
import type { ApiServer } from '../api/server.ts'
import { BUNDLED_MODEL_IDS, SMOLLM2_MODEL_ID } from '../sdk/models.ts'
import { keyring } from './client.ts'

/** The names clients may use for the models Beryl knows (a config's [[models]] replaces them). */
export const DEFAULT_API_MODELS: ApiModel[] = [
  { name: 'smollm2-135m-instruct', id: SMOLLM2_MODEL_ID, kind: 'text' }, // SMOLLM2.name in worker/models/smollm2.ts
  { name: 'beryl-tiny-sd', id: BUNDLED_MODEL_IDS.image, kind: 'image' },
  { name: 'beryl-tiny-lm', id: BUNDLED_MODEL_IDS.text, kind: 'text' },
]

export async function startApi(o: {
  config: string
  home: string
  keyringBackend: 'file' | 'test'
  log?: (m: string) => void
}): Promise<{ server: ApiServer; url: string }> {
  const config = parseApiConfig(fs.readFileSync(o.config, 'utf8'), { models: DEFAULT_API_MODELS })
  const kr = keyring({ home: o.home, keyringBackend: o.keyringBackend })
  const signers = new Map<string, OfflineDirectSigner>()
  for (const k of config.keys) if (!signers.has(k.account)) signers.set(k.account, await kr.wallet(k.account))
  const { ApiServer } = await import('../api/server.ts') // fastify loads only for `beryld api`
  const server = new ApiServer({ config, signers, keyStoreDir: path.join(o.home, 'api-tasks'), log: o.log })
  const url = await server.listen()
  return { server, url }
}

export function registerApiCommand(program: Command, o: { homeOpt: () => Option; outputOpt: () => Option }): void {
  program
    .command('api')
    .description(
      'serve an OpenAI-compatible HTTP API (/v1/models, /v1/chat/completions, /v1/completions, /v1/images/generations) whose every answer is a verified task (see api/README.md)',
    )
    .requiredOption('--config <file>', 'the API config (TOML): listen, node, gateways, fee, keys → keyring accounts with daily limits, model names')
    .addOption(o.homeOpt())
    .addOption(new Option('--keyring-backend <backend>', '"file" or "test"').choices(['file', 'test']).default('file'))
    .addOption(o.outputOpt())
    .action(async (f: { config: string; home: string; keyringBackend: 'file' | 'test'; output: 'text' | 'json' }) => {
      const { server, url } = await startApi({ ...f, log: (m) => console.error(m) })
      console.log(f.output === 'json' ? JSON.stringify({ listening: url }) : `beryld api: listening on ${url} (OpenAI base URL ${url}/v1)`)
      await new Promise<void>((resolve) => {
        const stop = () => {
          void server.close().finally(resolve)
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
    })
}
