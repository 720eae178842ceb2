/**
 * A one-line progress bar on stderr for long runs (redrawn in place on a terminal, a line per tenth
 * elsewhere), with the rate and the time left at that rate.
 */
export function progressBar(label: string, enabled = true): (done: number, total: number, what?: string) => void {
  const t0 = performance.now()
  const tty = process.stderr.isTTY
  let lastTenth = -1
  return (done, total, what = '') => {
    if (!enabled) return
    const f = total ? Math.min(1, done / total) : 1
    const secs = (performance.now() - t0) / 1000
    const eta = f > 0 ? (secs / f) * (1 - f) : 0
    const width = 30
    const bar = '█'.repeat(Math.round(f * width)).padEnd(width, '░')
    const line = `${label} ${bar} ${done}/${total} ${(f * 100).toFixed(0)}% ${secs.toFixed(0)}s elapsed, ~${eta.toFixed(0)}s left ${what}`
    if (tty) {
      process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 120) - 1).padEnd(Math.min(119, (process.stderr.columns ?? 120) - 1))}`)
      if (done >= total) process.stderr.write('\n')
    } else {
      const tenth = Math.floor(f * 10)
      if (tenth !== lastTenth || done >= total) {
        lastTenth = tenth
        process.stderr.write(`${line}\n`)
      }
    }
  }
}
