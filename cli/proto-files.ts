import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'proto')

/** Beryl's .proto sources (every `proto/beryl/**.proto`), which the gRPC/REST servers describe. */
export function berylProtoFiles(): { dir: string; files: string[] } {
  const files = (fs.readdirSync(path.join(PROTO_DIR, 'beryl'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `beryl/${f.split(path.sep).join('/')}`)
    .sort()
  return { dir: PROTO_DIR, files }
}
