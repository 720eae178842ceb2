import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Command, Option } from 'commander'
import { NodeStatus } from '../proto/gen/beryl/staking/v1/types.ts'
import { phashHex, phashPng } from '../outputs/phash/phash.ts'
import { ChainClient } from '../worker/daemon/chain.ts'
import { loadWorkerConfig, writeWorkerConfig } from '../worker/daemon/config.ts'
import type { DaemonStatus } from '../worker/daemon/daemon.ts'
import { TaskStateStore } from '../worker/daemon/state.ts'
import type { ModelSpec } from '../worker/models/add.ts'
import { Keyring, promptHidden, type KeyringBackend } from './keyring.ts'
import { print } from './client.ts'
import { fixed4 } from './format.ts'
import { outputOpt } from './options.ts'

export const DEFAULT_WORKER_HOME = process.env.BERYL_WORKER_HOME ?? path.join(os.homedir(), '.beryl-worker')

/** uberyl → "1.234567 BERYL". */
export function beryl(uberyl: bigint | string): string {
  const v = BigInt(uberyl)
  const frac = (v % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')
  return `${v / 1_000_000n}${frac ? '.' + frac : ''} BERYL`
}

async function workerSigner(home: string, keyName: string, backend: KeyringBackend) {
  const kr = new Keyring(home, backend, async () => process.env.BERYL_KEYRING_PASSPHRASE ?? promptHidden('Keyring passphrase: '))
  const signer = await kr.wallet(keyName)
  const [acc] = await signer.getAccounts()
  return { signer, address: acc!.address }
}

/** `beryld worker …` (GPU operators). */
export function registerWorkerCommands(program: Command): void {
  const homeOpt = () => new Option('--home <dir>', 'worker home (config/worker.toml, keyring, models/, data/)').default(DEFAULT_WORKER_HOME)
  const w = program.command('worker').description('run a GPU worker: join the network, serve tasks, get paid')

  w.command('init')
    .description('create a worker home: config/worker.toml and a key (prints its address: fund it, then `beryld worker start`)')
    .addOption(homeOpt())
    .requiredOption('--chain-id <id>', 'chain id of the network')
    .requiredOption('--gateway <multiaddr...>', 'gateway address(es), /ip4/…/tcp/4001/p2p/<peer id> (a validator prints it with `beryld gateway address`)')
    .option('--node <url>', 'CometBFT RPC of a node, for queries and for joining', 'http://127.0.0.1:26657')
    .option('--key <name>', "key name in the worker's keyring (created if missing)", 'worker')
    .addOption(
      new Option('--keyring-backend <backend>', '"file" (encrypted; BERYL_KEYRING_PASSPHRASE or a prompt) or "test" (plain, devnets only)')
        .choices(['file', 'test'])
        .default('file'),
    )
    .option('--stake <uberyl>', "stake for joining (default: the chain's minimum)")
    .option('--gpu-name <name>', 'declare the GPU instead of detecting it with nvidia-smi')
    .option('--gpu-vram <gb>', 'VRAM (GB) of the declared GPU')
    .addOption(new Option('--execution-provider <ep>', 'onnxruntime execution provider').choices(['cpu', 'cuda']).default('cpu'))
    .option('--overwrite', 'replace an existing worker.toml')
    .addOption(outputOpt())
    .action(async (f) => {
      if ((f.gpuName === undefined) !== (f.gpuVram === undefined)) throw new Error('give --gpu-name and --gpu-vram together')
      const file = writeWorkerConfig(
        f.home,
        {
          chainId: f.chainId,
          nodeRpc: f.node,
          gateways: f.gateway,
          key: f.key,
          keyringBackend: f.keyringBackend,
          executionProvider: f.executionProvider,
          stake: f.stake,
          ...(f.gpuName ? { gpu: { name: f.gpuName, vramGb: Number(f.gpuVram) } } : {}),
        },
        { overwrite: !!f.overwrite },
      )
      const kr = new Keyring(f.home, f.keyringBackend, async () => process.env.BERYL_KEYRING_PASSPHRASE ?? promptHidden('New keyring passphrase: '))
      let created: { mnemonic: string } | undefined
      let address: string
      const existing = kr.list().find((k) => k.name === f.key)
      if (existing) address = existing.address
      else {
        const mnemonic = Keyring.generateMnemonic()
        address = (await kr.add(f.key, mnemonic)).address
        created = { mnemonic }
      }
      print(
        f,
        { home: f.home, config: file, key: f.key, address, ...(created ?? {}) },
        [
          `Wrote ${file}.`,
          created
            ? `Created key "${f.key}": ${address}\nmnemonic (write it down, it is shown once):\n  ${created.mnemonic}`
            : `Using key "${f.key}": ${address}`,
          '',
          `Next: fund ${address} with the stake plus fees, then run:`,
          `  beryld worker start --home ${f.home}`,
        ].join('\n'),
      )
    })

  w.command('start')
    .description('run the worker daemon: join if needed, keep a gateway session, run assignments, submit scores, upload outputs (Ctrl-C stops)')
    .addOption(homeOpt())
    .addOption(
      new Option('--fault <kind>', 'test only: behave as a cheater')
        .choices(['random-output', 'random-images', 'crash-while-running', 'crash-after-compute'])
        .hideHelp(),
    )
    .action(async (f) => {
      const config = loadWorkerConfig(f.home)
      const { signer, address } = await workerSigner(f.home, config.key, config.keyringBackend)
      // The daemon (libp2p, sharp, onnxruntime) loads only for `worker start`: other commands start quickly.
      const { WorkerDaemon } = await import('../worker/daemon/daemon.ts')
      const daemon = new WorkerDaemon({ config, signer, address, fault: f.fault })
      let stopping = false
      const stop = async (why: string, code: number) => {
        if (stopping) process.exit(130)
        stopping = true
        console.log(`${new Date().toISOString()} worker: ${why}; stopping…`)
        await daemon.stop()
        process.exit(code)
      }
      process.on('SIGINT', () => void stop('SIGINT received', 0))
      process.on('SIGTERM', () => void stop('SIGTERM received', 0))
      await daemon.start()
      const reason = await daemon.ended
      await stop(reason, 1)
    })

  w.command('status')
    .description('show the node (status, stake, QoS and health, earnings, slashes, kick-out), the daemon and its current task')
    .addOption(homeOpt())
    .addOption(outputOpt())
    .action(async (f) => {
      const config = loadWorkerConfig(f.home)
      const kr = new Keyring(f.home, config.keyringBackend, async () => '')
      const key = kr.list().find((k) => k.name === config.key)
      if (!key) throw new Error(`no key "${config.key}" in ${f.home}; run \`beryld worker init\``)
      const address = key.address
      let daemon: (DaemonStatus & { running: boolean }) | undefined
      try {
        const s = JSON.parse(fs.readFileSync(path.join(f.home, 'data', 'worker-status.json'), 'utf8')) as DaemonStatus
        let running = true
        try {
          process.kill(s.pid, 0)
        } catch {
          running = false
        }
        daemon = { ...s, running }
      } catch {
        daemon = undefined
      }
      const local = fs.existsSync(path.join(f.home, 'data', 'tasks')) ? new TaskStateStore(path.join(f.home, 'data', 'tasks')).list().slice(0, 5) : []
      const chain = await ChainClient.connect(config.nodeRpc)
      try {
        const [node, record, qos, balance, running] = await Promise.all([
          chain.node(address),
          chain.nodeRecord(address),
          chain.qos(address),
          chain.balance(address),
          chain.tasksOfNode(address, 1, 1),
        ])
        const json = {
          address,
          node: node ?? null,
          record: record ?? null,
          qos: qos ?? null,
          balance: balance.toString(),
          current_task: running[0] ? Buffer.from(running[0].taskIdCommitment).toString('hex') : null,
          daemon: daemon ?? null,
          local_tasks: local,
        }
        const lines = [
          `worker        ${address}`,
          `daemon        ${daemon?.running ? `running (pid ${daemon.pid}) since ${new Date(daemon.startedAt).toISOString()}; gateway ${daemon.gateway ?? 'not connected'}` : 'not running'}`,
          `node          ${node ? NodeStatus[node.status].replace('NODE_STATUS_', '').toLowerCase() : 'not joined'}`,
        ]
        if (node) {
          lines.push(`stake         ${beryl(node.stake)}`)
          lines.push(`gpu           ${node.gpuName}, ${node.gpuVramGb} GB; runner ${node.runnerVersion}; ${node.modelIds.length} model(s)`)
        }
        if (qos?.qos)
          lines.push(
            `qos           ${fixed4(qos.qosValue)} (health ${fixed4(qos.health)}, long-term ${fixed4(qos.qLong)})${qos.qos.excluded ? `; EXCLUDED from dispatch until ${new Date(Number(qos.qos.excludedUntil) * 1000).toISOString()}` : ''}`,
          )
        lines.push(`earnings      ${record ? `${beryl(record.earned)} over ${record.tasksPaid} payment(s)` : 'none yet'}`)
        lines.push(
          `slashed       ${record?.slashCount ? `${record.slashCount} time(s), ${beryl(record.slashedAmount)} taken; last at ${new Date(Number(record.lastSlashTime) * 1000).toISOString()}: ${record.lastSlashReason} (task ${record.lastSlashTask})` : 'never'}`,
        )
        lines.push(
          `kicked out    ${record?.kickedOutTime ? `at ${new Date(Number(record.kickedOutTime) * 1000).toISOString()}: ${record.kickedOutReason}` : 'never'}`,
        )
        lines.push(`balance       ${beryl(balance)}`)
        lines.push(`current task  ${json.current_task ?? daemon?.currentTask ?? 'none'}`)
        if (local.length) {
          lines.push('recent tasks')
          for (const t of local)
            lines.push(
              `  ${t.task.slice(0, 16)}…  ${t.taskType.padEnd(5)}  ${t.phase}${t.endStatus ? ` (${t.endStatus})` : ''}  ${new Date(t.updatedAt).toISOString()}`,
            )
        }
        print(f, json, lines.join('\n'))
      } finally {
        chain.disconnect()
      }
    })

  const models = w.command('models').description("the worker's model folder: what it holds and reports when it joins")
  models
    .command('list')
    .description('list the models in the folder (the bundled ones are built on first use)')
    .addOption(homeOpt())
    .addOption(outputOpt())
    .action(async (f) => {
      const dir = loadWorkerConfig(f.home).modelDir
      const { ensureBundledModels, listModels } = await import('../worker/models/store.ts')
      await ensureBundledModels(dir)
      const problems: string[] = []
      const list = await listModels(dir, { onInvalid: (e, why) => problems.push(`${e}: ${why}`) })
      print(
        f,
        { dir, models: list.map((m) => ({ id: m.id, kind: m.kind, name: m.name })), invalid: problems },
        [`${dir}:`, ...list.map((m) => `  ${m.id}  ${m.kind.padEnd(5)}  ${m.name}`), ...problems.map((p) => `  skipped ${p}`)].join('\n'),
      )
    })
  models
    .command('add')
    .description(
      'add a model: "smollm2" (the chat model setup fetched), a Llama .gguf file, a diffusers ONNX export folder, or a folder with --spec {kind, name, files, components, io, config}; prints its id (see worker/models/README.md)',
    )
    .argument('<source>', '"smollm2", a .gguf file, or a folder holding the model files')
    .option('--spec <file.json>', 'for a folder that is not a diffusers export: the model spec (kind, name, files, components, io, config)')
    .option('--name <name>', 'a label for the model (default: from the source)')
    .addOption(new Option('--scheduler <type>', 'a diffusers export whose scheduler is not DDIM: sample its noise schedule with DDIM').choices(['ddim']))
    .addOption(homeOpt())
    .addOption(outputOpt())
    .action(async (source: string, f) => {
      const spec = f.spec ? (JSON.parse(fs.readFileSync(f.spec, 'utf8')) as ModelSpec) : undefined
      const { addModelFrom } = await import('../worker/models/add.ts')
      const m = await addModelFrom(loadWorkerConfig(f.home).modelDir, source, {
        spec,
        name: f.name,
        scheduler: f.scheduler,
        log: (l) => {
          if (f.output !== 'json') console.error(l)
        },
      })
      print(f, { id: m.id, kind: m.kind, name: m.name }, `added ${m.name} (${m.kind}): ${m.id}\nRestart the worker to report it (it sends MsgUpdateModels).`)
    })

  w.command('phash')
    .description('print the perceptual hash (goimagehash PerceptionHash, 16 hex digits) of each PNG, as validators compute it')
    .argument('<files...>', 'PNG files')
    .addOption(outputOpt())
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
