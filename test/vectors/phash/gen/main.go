// Command gen writes the synthetic PNG corpus used as pHash test vectors.
//
// It carries its own small PNG encoder because image/png cannot produce most
// of the encodings the TypeScript decoder must be tested against (1/2/4-bit
// grey, grey+tRNS, 16-bit grey+alpha, Adam7, every filter type, split IDAT,
// ancillary chunks, palette indices beyond PLTE). All pixel content is made
// with integer arithmetic so the bytes do not depend on the platform's
// floating point (arm64 fuses multiply-adds, amd64 does not); compression uses
// compress/zlib, which is pure Go and deterministic for a given Go release.
//
// Usage: go run ./gen -out images -edge edge
package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// ---------------------------------------------------------------- randomness

// splitmix64: tiny, well-mixed and trivially reproducible in any language.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

type rng struct{ s uint64 }

func (r *rng) next() uint64 { r.s = mix(r.s); return r.s }
func (r *rng) intn(n int) int {
	return int(r.next() % uint64(n))
}
func (r *rng) u16() uint32 { return uint32(r.next() >> 48) }

// ---------------------------------------------------------------- content

// A pixel is straight (non-premultiplied) RGBA with 16 bits per channel.
type px [4]uint32

type content func(x, y int) px

func lerp16(a, b uint32, num, den int) uint32 {
	if den <= 0 {
		return a
	}
	return uint32((int64(a)*int64(den-num) + int64(b)*int64(num)) / int64(den))
}

func randColor(r *rng) px { return px{r.u16(), r.u16(), r.u16(), 0xffff} }

func makeContent(kind string, w, h int, seed uint64) content {
	r := &rng{seed}
	c0, c1 := randColor(r), randColor(r)
	switch kind {
	case "flat":
		return func(x, y int) px { return c0 }
	case "black":
		return func(x, y int) px { return px{0, 0, 0, 0xffff} }
	case "white":
		return func(x, y int) px { return px{0xffff, 0xffff, 0xffff, 0xffff} }
	case "hgrad":
		return func(x, y int) px {
			var p px
			for i := 0; i < 3; i++ {
				p[i] = lerp16(c0[i], c1[i], x, w-1)
			}
			p[3] = 0xffff
			return p
		}
	case "vgrad":
		return func(x, y int) px {
			var p px
			for i := 0; i < 3; i++ {
				p[i] = lerp16(c0[i], c1[i], y, h-1)
			}
			p[3] = 0xffff
			return p
		}
	case "diag":
		return func(x, y int) px {
			var p px
			for i := 0; i < 3; i++ {
				p[i] = lerp16(c0[i], c1[i], x+y, w+h-2)
			}
			p[3] = 0xffff
			return p
		}
	case "radial":
		cx, cy := w/2, h/2
		maxd := cx*cx + cy*cy + 1
		return func(x, y int) px {
			dx, dy := x-cx, y-cy
			var p px
			for i := 0; i < 3; i++ {
				p[i] = lerp16(c0[i], c1[i], dx*dx+dy*dy, maxd)
			}
			p[3] = 0xffff
			return p
		}
	case "noise":
		return func(x, y int) px {
			v := mix(seed ^ uint64(x)*0x100000001b3 ^ uint64(y)*0xc2b2ae3d27d4eb4f)
			return px{uint32(v & 0xffff), uint32(v >> 16 & 0xffff), uint32(v >> 32 & 0xffff), 0xffff}
		}
	case "checker":
		cell := 1 + r.intn(max(1, min(w, h)/4+1))
		return func(x, y int) px {
			if (x/cell+y/cell)%2 == 0 {
				return c0
			}
			return c1
		}
	case "stripes":
		period := 2 + r.intn(max(2, w/3+1))
		return func(x, y int) px {
			t := (x + 2*y) % period
			var p px
			for i := 0; i < 3; i++ {
				p[i] = lerp16(c0[i], c1[i], t, period-1)
			}
			p[3] = 0xffff
			return p
		}
	case "shapes":
		type shape struct {
			circle         bool
			x0, y0, x1, y1 int
			c              px
		}
		n := 3 + r.intn(8)
		shapes := make([]shape, n)
		for i := range shapes {
			s := shape{circle: r.intn(2) == 0, c: randColor(r)}
			s.x0, s.y0 = r.intn(w), r.intn(h)
			s.x1, s.y1 = s.x0+1+r.intn(max(1, w/2)), s.y0+1+r.intn(max(1, h/2))
			shapes[i] = s
		}
		return func(x, y int) px {
			p := c0
			for _, s := range shapes {
				if s.circle {
					rx, ry := (s.x1-s.x0)/2+1, (s.y1-s.y0)/2+1
					cx, cy := s.x0+rx, s.y0+ry
					dx, dy := int64(x-cx)*int64(ry), int64(y-cy)*int64(rx)
					if dx*dx+dy*dy <= int64(rx*ry)*int64(rx*ry) {
						p = s.c
					}
				} else if x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1 {
					p = s.c
				}
			}
			return p
		}
	case "text":
		// Rows of random 5x7 "glyphs": sharp high-contrast edges like rendered text.
		scale := 1 + r.intn(max(1, min(w, h)/40+1))
		glyphs := make([]uint64, 64)
		for i := range glyphs {
			glyphs[i] = r.next() & (1<<35 - 1)
		}
		return func(x, y int) px {
			gx, gy := x/scale, y/scale
			cellX, cellY := gx/6, gy/9
			ix, iy := gx%6, gy%9
			if ix >= 5 || iy >= 7 {
				return c0
			}
			g := glyphs[(cellX*7+cellY*13)%len(glyphs)]
			if g>>(iy*5+ix)&1 == 1 {
				return c1
			}
			return c0
		}
	}
	panic("unknown content " + kind)
}

// Alpha patterns applied on top of colour content for types that carry alpha.
func applyAlpha(kind string, c content, w, h int, seed uint64) content {
	switch kind {
	case "opaque":
		return c
	case "agrad":
		return func(x, y int) px { p := c(x, y); p[3] = lerp16(0, 0xffff, x, w-1); return p }
	case "holes":
		return func(x, y int) px {
			p := c(x, y)
			if (x/3+y/5)%3 == 0 {
				p[3] = 0
			} else if (x+y)%7 == 0 {
				p[3] = 0x8000
			}
			return p
		}
	case "anoise":
		return func(x, y int) px {
			p := c(x, y)
			p[3] = uint32(mix(seed^uint64(x*131+y*7919)) >> 48)
			return p
		}
	case "clear":
		return func(x, y int) px { p := c(x, y); p[3] = 0; return p }
	}
	panic("unknown alpha " + kind)
}

// ---------------------------------------------------------------- encoder

const (
	ctGray      = 0
	ctRGB       = 2
	ctPalette   = 3
	ctGrayAlpha = 4
	ctRGBA      = 6
)

type chunk struct {
	typ  string
	data []byte
}

type image struct {
	w, h      int
	ct, depth int
	interlace bool
	// samples returns the channel samples of pixel (x, y), already at the bit
	// depth (palette: the index).
	samples func(x, y int) []uint32
	plte    []byte
	trns    []byte
	filter  int // 0..4 fixed, 5 = cycle through all five per row, 6 = per-row choice by smallest sum
	level   int
	split   int     // IDAT payload chunk size, 0 = one chunk
	before  []chunk // ancillary chunks between IHDR and IDAT (after PLTE/tRNS)
	early   []chunk // ancillary chunks right after IHDR
	after   []chunk // chunks between the last IDAT and IEND
}

func channels(ct int) int {
	switch ct {
	case ctGray, ctPalette:
		return 1
	case ctGrayAlpha:
		return 2
	case ctRGB:
		return 3
	}
	return 4
}

var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

func packRow(img *image, xs []int, y int) []byte {
	nc := channels(img.ct)
	bits := nc * img.depth
	row := make([]byte, (bits*len(xs)+7)/8)
	bitPos := 0
	for _, x := range xs {
		for _, s := range img.samples(x, y) {
			switch img.depth {
			case 16:
				row[bitPos/8] = byte(s >> 8)
				row[bitPos/8+1] = byte(s)
			case 8:
				row[bitPos/8] = byte(s)
			default:
				shift := 8 - img.depth - bitPos%8
				row[bitPos/8] |= byte(s << uint(shift))
			}
			bitPos += img.depth
		}
	}
	return row
}

func paeth(a, b, c int) int {
	p := a + b - c
	pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func filterRow(ft int, cur, prev []byte, bpp int) []byte {
	out := make([]byte, len(cur)+1)
	out[0] = byte(ft)
	for i := range cur {
		var a, b, c int
		if i >= bpp {
			a = int(cur[i-bpp])
			c = int(prev[i-bpp])
		}
		b = int(prev[i])
		var pred int
		switch ft {
		case 1:
			pred = a
		case 2:
			pred = b
		case 3:
			pred = (a + b) / 2
		case 4:
			pred = paeth(a, b, c)
		}
		out[i+1] = byte(int(cur[i]) - pred)
	}
	return out
}

func chooseFilter(img *image, rowIndex int, cur, prev []byte, bpp int) []byte {
	switch {
	case img.filter <= 4:
		return filterRow(img.filter, cur, prev, bpp)
	case img.filter == 5:
		return filterRow(rowIndex%5, cur, prev, bpp)
	}
	// The usual encoder heuristic: minimum sum of absolute signed residuals.
	var best []byte
	bestScore := -1
	for ft := 0; ft < 5; ft++ {
		f := filterRow(ft, cur, prev, bpp)
		score := 0
		for _, v := range f[1:] {
			score += abs(int(int8(v)))
		}
		if bestScore < 0 || score < bestScore {
			best, bestScore = f, score
		}
	}
	return best
}

func rawStream(img *image) []byte {
	bpp := max(1, channels(img.ct)*img.depth/8)
	var out bytes.Buffer
	passes := [][4]int{{0, 0, 1, 1}}
	if img.interlace {
		passes = adam7[:]
	}
	rowIndex := 0
	for _, p := range passes {
		var xs []int
		for x := p[0]; x < img.w; x += p[2] {
			xs = append(xs, x)
		}
		if len(xs) == 0 {
			continue
		}
		var prev []byte
		for y := p[1]; y < img.h; y += p[3] {
			cur := packRow(img, xs, y)
			if prev == nil {
				prev = make([]byte, len(cur))
			}
			out.Write(chooseFilter(img, rowIndex, cur, prev, bpp))
			prev = cur
			rowIndex++
		}
	}
	return out.Bytes()
}

func writeChunk(buf *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	buf.Write(hdr[:])
	buf.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	buf.Write(sum[:])
}

func encode(img *image) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(img.w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(img.h))
	ihdr[8] = byte(img.depth)
	ihdr[9] = byte(img.ct)
	if img.interlace {
		ihdr[12] = 1
	}
	writeChunk(&buf, "IHDR", ihdr)
	for _, c := range img.early {
		writeChunk(&buf, c.typ, c.data)
	}
	if img.plte != nil {
		writeChunk(&buf, "PLTE", img.plte)
	}
	if img.trns != nil {
		writeChunk(&buf, "tRNS", img.trns)
	}
	for _, c := range img.before {
		writeChunk(&buf, c.typ, c.data)
	}
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, img.level)
	if err != nil {
		panic(err)
	}
	zw.Write(rawStream(img))
	zw.Close()
	data := z.Bytes()
	if img.split <= 0 {
		writeChunk(&buf, "IDAT", data)
	} else {
		for len(data) > 0 {
			n := min(img.split, len(data))
			writeChunk(&buf, "IDAT", data[:n])
			data = data[n:]
		}
	}
	for _, c := range img.after {
		writeChunk(&buf, c.typ, c.data)
	}
	writeChunk(&buf, "IEND", nil)
	return buf.Bytes()
}

// ---------------------------------------------------------------- corpus

// A colour configuration: PNG colour type, bit depth and transparency style.
type config struct {
	name  string
	ct    int
	depth int
	trns  string // "", "key" (grey/RGB colour key), "part", "full", "long", "oor" (palette)
}

var configs = []config{
	{"g1", ctGray, 1, ""}, {"g2", ctGray, 2, ""}, {"g4", ctGray, 4, ""}, {"g8", ctGray, 8, ""}, {"g16", ctGray, 16, ""},
	{"g1t", ctGray, 1, "key"}, {"g2t", ctGray, 2, "key"}, {"g4t", ctGray, 4, "key"}, {"g8t", ctGray, 8, "key"}, {"g16t", ctGray, 16, "key"},
	{"ga8", ctGrayAlpha, 8, ""}, {"ga16", ctGrayAlpha, 16, ""},
	{"rgb8", ctRGB, 8, ""}, {"rgb16", ctRGB, 16, ""}, {"rgb8t", ctRGB, 8, "key"}, {"rgb16t", ctRGB, 16, "key"},
	{"rgba8", ctRGBA, 8, ""}, {"rgba16", ctRGBA, 16, ""},
	{"p1", ctPalette, 1, ""}, {"p2", ctPalette, 2, ""}, {"p4", ctPalette, 4, ""}, {"p8", ctPalette, 8, ""},
	{"p1t", ctPalette, 1, "part"}, {"p2t", ctPalette, 2, "full"}, {"p4t", ctPalette, 4, "part"}, {"p8t", ctPalette, 8, "part"},
	{"p8tf", ctPalette, 8, "full"}, {"p4tl", ctPalette, 4, "long"}, {"p8tl", ctPalette, 8, "long"},
	{"p4oor", ctPalette, 4, "oor"}, {"p8oor", ctPalette, 8, "oor"},
}

var contents = []string{"hgrad", "shapes", "noise", "text", "vgrad", "checker", "radial", "stripes", "diag", "flat"}
var alphas = []string{"holes", "agrad", "anoise", "opaque"}

func gray16(p px) uint32 { return (p[0]*299 + p[1]*587 + p[2]*114) / 1000 }

type job struct {
	file string
	img  *image
	// Human-readable description kept in the corpus manifest.
	desc string
}

// build turns straight RGBA content into samples for a configuration.
func build(cfg config, w, h int, kind, alpha string, seed uint64) *image {
	c := makeContent(kind, w, h, seed)
	if cfg.ct == ctGrayAlpha || cfg.ct == ctRGBA {
		c = applyAlpha(alpha, c, w, h, seed+1)
	}
	img := &image{w: w, h: h, ct: cfg.ct, depth: cfg.depth, filter: 6, level: zlib.BestCompression}
	shift := uint(16 - cfg.depth)
	q := func(v uint32) uint32 { return v >> shift }
	switch cfg.ct {
	case ctGray:
		img.samples = func(x, y int) []uint32 { return []uint32{q(gray16(c(x, y)))} }
	case ctGrayAlpha:
		img.samples = func(x, y int) []uint32 { p := c(x, y); return []uint32{q(gray16(p)), q(p[3])} }
	case ctRGB:
		img.samples = func(x, y int) []uint32 { p := c(x, y); return []uint32{q(p[0]), q(p[1]), q(p[2])} }
	case ctRGBA:
		img.samples = func(x, y int) []uint32 { p := c(x, y); return []uint32{q(p[0]), q(p[1]), q(p[2]), q(p[3])} }
	case ctPalette:
		r := &rng{seed ^ 0xabcdef}
		maxN := 1 << uint(cfg.depth)
		n := maxN
		if cfg.depth == 8 {
			n = 16 + r.intn(241)
		}
		if cfg.trns == "oor" {
			// PLTE deliberately shorter than the indices used: Go shows the
			// missing entries as opaque black.
			n = max(1, maxN/2-1)
		}
		plte := make([]byte, 0, 3*n)
		ramp := r.intn(2) == 0
		a, b := randColor(r), randColor(r)
		for i := 0; i < n; i++ {
			var col px
			if ramp {
				for k := 0; k < 3; k++ {
					col[k] = lerp16(a[k], b[k], i, max(1, n-1))
				}
			} else {
				col = randColor(r)
			}
			plte = append(plte, byte(col[0]>>8), byte(col[1]>>8), byte(col[2]>>8))
		}
		img.plte = plte
		levels := n
		if cfg.trns == "oor" || cfg.trns == "long" {
			levels = maxN
		}
		img.samples = func(x, y int) []uint32 {
			return []uint32{uint32(uint64(gray16(c(x, y))) * uint64(levels) >> 16)}
		}
		switch cfg.trns {
		case "part":
			m := 1 + r.intn(n)
			for i := 0; i < m; i++ {
				img.trns = append(img.trns, byte(r.next()))
			}
			img.trns[0] = 0
		case "full":
			for i := 0; i < n; i++ {
				img.trns = append(img.trns, byte(r.next()))
			}
		case "long":
			// tRNS longer than PLTE: Go extends the palette with black entries
			// carrying these alphas.
			img.plte = plte[:3*max(1, n/2)]
			for i := 0; i < n; i++ {
				img.trns = append(img.trns, byte(r.next()|1))
			}
		}
	}
	if cfg.trns == "key" {
		// Key on a sample value that actually occurs so some pixels vanish.
		s := img.samples(w/2, h/2)
		switch cfg.ct {
		case ctGray:
			img.trns = []byte{byte(s[0] >> 8), byte(s[0])}
		case ctRGB:
			img.trns = []byte{byte(s[0] >> 8), byte(s[0]), byte(s[1] >> 8), byte(s[1]), byte(s[2] >> 8), byte(s[2])}
		}
	}
	return img
}

// Names the generator writes: 001_rgba8_i_64x64_shapes_holes.png
var generatedName = regexp.MustCompile(`^\d{3}_[a-z0-9]+(_i)?_\d+x\d+_[a-z]+(_[a-z]+)?\.png$`)

type sz struct{ w, h int }

var smallSizes = []sz{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {3, 3}, {5, 7}, {7, 5}, {9, 1}, {1, 9}, {8, 8}, {13, 11}, {4, 4}}
var oddSizes = []sz{{17, 31}, {33, 29}, {63, 63}, {65, 65}, {31, 17}, {47, 95}, {99, 101}, {63, 64}, {64, 65}, {127, 129}, {45, 45}, {81, 23}}
var medSizes = []sz{{128, 128}, {100, 100}, {150, 120}, {96, 160}, {200, 200}, {129, 127}, {160, 90}, {256, 256}, {192, 192}, {111, 222}}
var wideSizes = []sz{{300, 40}, {257, 63}, {640, 48}, {500, 3}, {200, 64}, {1000, 10}, {384, 96}, {333, 222}, {128, 64}, {700, 1}}
var tallSizes = []sz{{40, 300}, {63, 257}, {48, 640}, {3, 500}, {64, 200}, {10, 1000}, {96, 384}, {222, 333}, {64, 128}, {1, 700}}
var bigSizes = []sz{{300, 300}, {256, 256}, {320, 240}, {240, 320}, {400, 300}, {512, 384}, {299, 301}, {360, 360}}

func main() {
	out := flag.String("out", "images", "output folder for the hash corpus")
	edge := flag.String("edge", "", "if set: also write the edge-case (mostly malformed) files to this folder")
	flag.Parse()
	if *edge != "" {
		writeEdgeCases(*edge)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		panic(err)
	}

	var jobs []job
	add := func(name string, img *image, desc string) {
		jobs = append(jobs, job{file: name + ".png", img: img, desc: desc})
	}
	seq := 0
	mk := func(cfg config, s sz, kind, alpha string, interlace bool, tweak func(*image)) {
		seq++
		if kind == "noise" && s.w*s.h > 160*160 {
			kind = "shapes" // noise does not compress; keep the corpus small
		}
		img := build(cfg, s.w, s.h, kind, alpha, uint64(seq)*0x9e37+uint64(len(cfg.name)))
		img.interlace = interlace
		if tweak != nil {
			tweak(img)
		}
		il := ""
		if interlace {
			il = "_i"
		}
		a := ""
		if cfg.ct == ctGrayAlpha || cfg.ct == ctRGBA {
			a = "_" + alpha
		}
		name := fmt.Sprintf("%03d_%s%s_%dx%d_%s%s", seq, cfg.name, il, s.w, s.h, kind, a)
		add(name, img, "")
	}

	// Seven images per colour configuration, rotating sizes and content.
	for ci, cfg := range configs {
		k := func(slot int) string { return contents[(ci*3+slot)%len(contents)] }
		al := func(slot int) string { return alphas[(ci+slot)%len(alphas)] }
		mk(cfg, sz{64, 64}, k(0), al(0), false, nil) // the no-resize path
		mk(cfg, oddSizes[ci%len(oddSizes)], k(1), al(1), true, nil)
		mk(cfg, medSizes[ci%len(medSizes)], k(2), al(2), false, nil)
		mk(cfg, wideSizes[ci%len(wideSizes)], k(3), al(3), ci%2 == 0, nil)
		mk(cfg, tallSizes[ci%len(tallSizes)], k(4), al(0), ci%2 == 1, nil)
		mk(cfg, smallSizes[ci%len(smallSizes)], k(5), al(1), ci%3 == 0, nil)
		mk(cfg, bigSizes[ci%len(bigSizes)], k(6), al(2), ci%2 == 0, nil)
	}

	byName := map[string]config{}
	for _, c := range configs {
		byName[c.name] = c
	}
	cfg := func(n string) config { return byName[n] }

	// Flat colours: the DCT leaves only rounding noise in the AC terms, so the
	// hash depends on every floating-point step being identical.
	for i, n := range []string{"g8", "rgb8", "rgba8", "g16", "rgb16", "rgba16", "p8", "ga8", "rgb8t"} {
		s := []sz{{64, 64}, {100, 100}, {1, 1}, {37, 53}, {128, 128}, {200, 50}, {65, 63}, {3, 2}, {512, 512}}[i]
		mk(cfg(n), s, "flat", "opaque", false, nil)
	}
	mk(cfg("rgb8"), sz{256, 256}, "black", "opaque", false, nil)
	mk(cfg("rgb8"), sz{256, 256}, "white", "opaque", false, nil)
	mk(cfg("g8"), sz{64, 64}, "white", "opaque", false, nil)
	mk(cfg("rgba8"), sz{90, 90}, "shapes", "clear", false, nil)
	mk(cfg("rgba16"), sz{64, 64}, "hgrad", "clear", false, nil)

	// 1x1 and 1xN in every family.
	for _, n := range []string{"g1", "g16", "ga16", "rgb16", "rgba8", "p2t", "p8oor", "g4t"} {
		mk(cfg(n), sz{1, 1}, "flat", "agrad", false, nil)
	}
	mk(cfg("rgba16"), sz{1, 1}, "flat", "anoise", true, nil)
	mk(cfg("rgb8"), sz{1, 64}, "vgrad", "opaque", false, nil)
	mk(cfg("rgb8"), sz{64, 1}, "hgrad", "opaque", true, nil)

	// Large images, kept to content that compresses well.
	mk(cfg("rgb8"), sz{1024, 1024}, "hgrad", "opaque", false, nil)
	mk(cfg("rgba8"), sz{1024, 1024}, "shapes", "holes", false, nil)
	mk(cfg("g8"), sz{1024, 1024}, "text", "opaque", false, nil)
	mk(cfg("g16"), sz{1024, 1024}, "vgrad", "opaque", false, nil)
	mk(cfg("p8"), sz{1024, 1024}, "shapes", "opaque", true, nil)
	mk(cfg("rgba16"), sz{1024, 768}, "checker", "opaque", false, nil)
	mk(cfg("rgb16"), sz{768, 1024}, "diag", "opaque", true, nil)
	mk(cfg("ga8"), sz{1023, 1021}, "radial", "agrad", false, nil)
	mk(cfg("rgb8"), sz{512, 512}, "text", "opaque", false, nil)
	mk(cfg("rgb8t"), sz{512, 512}, "shapes", "opaque", false, nil)
	mk(cfg("p4t"), sz{512, 512}, "radial", "opaque", false, nil)
	mk(cfg("rgba8"), sz{512, 512}, "stripes", "agrad", true, nil)

	// Encodings that exercise the decoder rather than the hash.
	for f := 0; f <= 5; f++ {
		f := f
		mk(cfg("rgba8"), sz{77, 61}, "shapes", "holes", f%2 == 1, func(i *image) { i.filter = f })
	}
	for f := 0; f <= 5; f++ {
		f := f
		mk(cfg("g16"), sz{70, 66}, "radial", "opaque", f%2 == 0, func(i *image) { i.filter = f })
	}
	mk(cfg("g2"), sz{93, 71}, "text", "opaque", false, func(i *image) { i.filter = 5 })
	mk(cfg("p4"), sz{93, 71}, "shapes", "opaque", true, func(i *image) { i.filter = 5 })
	mk(cfg("rgb8"), sz{150, 150}, "radial", "opaque", false, func(i *image) { i.split = 97 })
	mk(cfg("rgba16"), sz{66, 99}, "noise", "anoise", true, func(i *image) { i.split = 1 })
	mk(cfg("g8"), sz{120, 80}, "stripes", "opaque", false, func(i *image) { i.level = zlib.NoCompression })
	mk(cfg("rgb16"), sz{80, 120}, "hgrad", "opaque", false, func(i *image) { i.level = zlib.BestSpeed })
	textChunk := chunk{"tEXt", []byte("Comment\x00beryl pHash vector")}
	gama := chunk{"gAMA", []byte{0, 0, 0x6e, 0x5c}}
	// A syntactically plausible but bogus iCCP: Go ignores it, so must we.
	iccp := chunk{"iCCP", append([]byte("bogus\x00\x00"), 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01)}
	srgb := chunk{"sRGB", []byte{0}}
	phys := chunk{"pHYs", []byte{0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1}}
	mk(cfg("rgb8"), sz{96, 80}, "shapes", "opaque", false, func(i *image) { i.early = []chunk{gama, srgb, phys}; i.after = []chunk{textChunk} })
	mk(cfg("rgba8"), sz{96, 80}, "diag", "agrad", false, func(i *image) { i.early = []chunk{iccp}; i.before = []chunk{textChunk} })
	mk(cfg("rgb16"), sz{80, 96}, "radial", "opaque", true, func(i *image) { i.early = []chunk{iccp, gama} })
	mk(cfg("g8"), sz{80, 96}, "text", "opaque", false, func(i *image) {
		i.early = []chunk{{"sBIT", []byte{3}}} // declares 3 significant bits; Go ignores it
	})
	// A suggested palette in a truecolour file is legal and ignored.
	mk(cfg("rgb8"), sz{72, 72}, "checker", "opaque", false, func(i *image) { i.plte = []byte{1, 2, 3, 4, 5, 6} })
	// Colour keys using bits Go does not look at for low-depth grey.
	mk(cfg("g2t"), sz{50, 50}, "hgrad", "opaque", false, func(i *image) { i.trns = []byte{0x01, 0x02} })
	mk(cfg("g4t"), sz{50, 50}, "vgrad", "opaque", false, func(i *image) { i.trns = []byte{0x00, 0x0f} })
	mk(cfg("g8t"), sz{50, 50}, "diag", "opaque", true, func(i *image) { i.trns = []byte{0x00, 0x00} })

	sort.Slice(jobs, func(a, b int) bool { return jobs[a].file < jobs[b].file })
	seen := map[string]bool{}
	var total int
	for i, j := range jobs {
		if seen[j.file] {
			panic("duplicate file " + j.file)
		}
		seen[j.file] = true
		data := encode(j.img)
		total += len(data)
		if err := os.WriteFile(filepath.Join(*out, j.file), data, 0o644); err != nil {
			panic(err)
		}
		if (i+1)%50 == 0 || i+1 == len(jobs) {
			fmt.Fprintf(os.Stderr, "gen: %d/%d files, %.1f MB\n", i+1, len(jobs), float64(total)/1e6)
		}
	}
	// Remove stale generated files that this run did not write; anything not
	// named like a generated file (e.g. real runner outputs) is left alone.
	entries, _ := os.ReadDir(*out)
	for _, e := range entries {
		if n := e.Name(); generatedName.MatchString(n) && !seen[n] {
			os.Remove(filepath.Join(*out, n))
		}
	}
}
