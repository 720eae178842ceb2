import type { TopLevelSpec } from 'vega-lite'
import { ADVERSARIES, type AdversaryName } from './agents/index.ts'
import type { Cell, MatrixResult } from './report.ts'

// Charts as Vega-Lite specs, rendered to SVG by Vega in Node (no browser, no canvas: Vega's SVG
// renderer estimates text widths), then rasterised to PNG by sharp (librsvg). The three load on the first
// chart: `beryld` itself (every command's start-up) does not pay for them.

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

export async function render(spec: TopLevelSpec): Promise<{ svg: string; png: Buffer }> {
  const [vega, { compile }, { default: sharp }] = await Promise.all([import('vega'), import('vega-lite'), import('sharp')])
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  const svg = await view.toSVG()
  view.finalize()
  const png = await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png().toBuffer()
  return { svg, png }
}

const value = (c: Cell) => c.excessPerTask ?? c.profitPerTask
/** Node strategies only: an application strategy's excess is per task it paid for, on another scale (see the table). */
const nodeSide = (c: Cell) => c.adversary !== 'none' && c.excessPerTask !== undefined && ADVERSARIES[c.adversary as AdversaryName]?.side === 'node'

/** Profit (excess over honest work) vs fee, one line per strategy, one panel per preset. */
export function profitVsFee(cells: Cell[], share: number): TopLevelSpec {
  const rows = cells
    .filter((c) => c.fee !== null && nodeSide(c) && c.share === share)
    .map((c) => ({ preset: c.preset, strategy: c.adversary, fee: c.fee, mean: value(c).mean, lo: value(c).lo, hi: value(c).hi }))
  return {
    $schema: SCHEMA,
    title: `What cheating gains per task over honest work, by fee (node strategies, attacker share ${Math.round(share * 100)}%; bars: 95% across seeds)`,
    data: { values: rows },
    facet: { column: { field: 'preset', type: 'nominal' } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        { mark: { type: 'rule', color: '#999' }, encoding: { y: { datum: 0 } } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'fee', type: 'quantitative', scale: { type: 'log' }, title: 'fee (BERYL, log)' },
            y: { field: 'mean', type: 'quantitative', title: 'BERYL per task' },
            color: { field: 'strategy', type: 'nominal' },
          },
        },
        {
          mark: { type: 'errorbar' },
          encoding: {
            x: { field: 'fee', type: 'quantitative', scale: { type: 'log' } },
            y: { field: 'lo', type: 'quantitative', title: 'BERYL per task' },
            y2: { field: 'hi' },
            color: { field: 'strategy', type: 'nominal' },
          },
        },
      ],
    },
  } as TopLevelSpec
}

/** Profit (excess) vs attacker share at one fee. */
export function profitVsShare(cells: Cell[], fee: number): TopLevelSpec {
  const rows = cells
    .filter((c) => c.fee === fee && nodeSide(c))
    .map((c) => ({ preset: c.preset, strategy: c.adversary, share: c.share * 100, mean: value(c).mean }))
  return {
    $schema: SCHEMA,
    title: `What cheating gains per task by attacker share (fee ${fee} BERYL)`,
    data: { values: rows },
    facet: { column: { field: 'preset', type: 'nominal' } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        { mark: { type: 'rule', color: '#999' }, encoding: { y: { datum: 0 } } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'share', type: 'quantitative', title: 'attacker share of nodes (%)' },
            y: { field: 'mean', type: 'quantitative', title: 'BERYL per task' },
            color: { field: 'strategy', type: 'nominal' },
          },
        },
      ],
    },
  } as TopLevelSpec
}

/** Latency distribution of delivered tasks, per preset (honest baseline). */
export function latencyHistogram(latencies: MatrixResult['latencies']): TopLevelSpec {
  const rows = Object.entries(latencies).flatMap(([preset, xs]) => xs.map((blocks) => ({ preset, blocks })))
  return {
    $schema: SCHEMA,
    title: 'Blocks from creation to delivered result (no adversary)',
    data: { values: rows },
    mark: 'bar',
    width: 480,
    height: 240,
    encoding: {
      x: { field: 'blocks', type: 'quantitative', bin: { maxbins: 40 }, title: 'blocks' },
      y: { aggregate: 'count', type: 'quantitative', title: 'tasks' },
      color: { field: 'preset', type: 'nominal' },
      xOffset: { field: 'preset' },
    },
  } as TopLevelSpec
}

/** A sweep's heat map: one measure over a grid of one or two parameters. */
export function heatmap(rows: Array<{ x: string; y: string; value: number }>, xName: string, yName: string, measure: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: `${measure} over ${xName}${yName ? ` × ${yName}` : ''}`,
    data: { values: rows },
    width: 360,
    height: yName ? 240 : 60,
    layer: [
      {
        mark: 'rect',
        encoding: {
          x: { field: 'x', type: 'ordinal', title: xName, sort: null },
          y: { field: 'y', type: 'ordinal', title: yName || ' ', sort: null },
          color: { field: 'value', type: 'quantitative', title: measure, scale: { scheme: 'redblue', domainMid: 0, reverse: true } },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          x: { field: 'x', type: 'ordinal', sort: null },
          y: { field: 'y', type: 'ordinal', sort: null },
          text: { field: 'value', type: 'quantitative', format: '.2f' },
        },
      },
    ],
  } as TopLevelSpec
}
