// The twin's charts: a Vega-Lite spec rendered to SVG by Vega and rasterised to PNG by sharp, both loaded on the
// first chart (not at `beryld`'s start-up).
import assert from 'node:assert/strict'
import { render } from '../../../sim/charts.ts'

describe('sim charts', () => {
  it('renders a Vega-Lite spec to an SVG with its data and to a PNG of the SVG', async () => {
    const { svg, png } = await render({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'profit per task',
      data: {
        values: [
          { fee: 1, profit: -2 },
          { fee: 400, profit: 3 },
        ],
      },
      mark: 'point',
      encoding: { x: { field: 'fee', type: 'quantitative' }, y: { field: 'profit', type: 'quantitative' } },
    })
    assert.match(svg, /^<svg /)
    assert.match(svg, /profit per task/)
    assert.equal((svg.match(/class="mark-symbol/g) ?? []).length, 1, 'one group of point marks')
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    // The PNG is the SVG at density 144 (2× its 72-dpi size).
    const w = Number(/width="(\d+)"/.exec(svg)![1])
    assert.equal(png.readUInt32BE(16), 2 * w)
  })
})
