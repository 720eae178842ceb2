package main

// Edge-case files: mostly broken PNGs, plus legal oddities. The reference
// program records, for each, either goimagehash's hash or png.Decode's error,
// and the TypeScript decoder must agree on which files are accepted.

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
)

type rawChunk struct {
	typ    string
	data   []byte
	badCRC bool
}

func assemble(chunks []rawChunk) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	for _, c := range chunks {
		var hdr [8]byte
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(c.data)))
		copy(hdr[4:], c.typ)
		buf.Write(hdr[:])
		buf.Write(c.data)
		sum := crc32.ChecksumIEEE(append([]byte(c.typ), c.data...))
		if c.badCRC {
			sum ^= 1
		}
		var s [4]byte
		binary.BigEndian.PutUint32(s[:], sum)
		buf.Write(s[:])
	}
	return buf.Bytes()
}

func ihdrData(w, h, depth, ct, interlace int) []byte {
	d := make([]byte, 13)
	binary.BigEndian.PutUint32(d[0:], uint32(w))
	binary.BigEndian.PutUint32(d[4:], uint32(h))
	d[8], d[9], d[12] = byte(depth), byte(ct), byte(interlace)
	return d
}

func zlibOf(raw []byte, level int) []byte {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, level)
	zw.Write(raw)
	zw.Close()
	return z.Bytes()
}

// rgbRaw is the filtered scanline stream of a w×h 8-bit RGB image.
func rgbRaw(w, h int, seed uint64) []byte {
	img := build(config{"rgb8", ctRGB, 8, ""}, w, h, "shapes", "opaque", seed)
	return rawStream(img)
}

func writeEdgeCases(dir string) int {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		panic(err)
	}
	const w, h = 40, 30
	raw := rgbRaw(w, h, 7)
	z := zlibOf(raw, 9)
	ihdr := rawChunk{"IHDR", ihdrData(w, h, 8, ctRGB, 0), false}
	iend := rawChunk{"IEND", nil, false}
	idat := rawChunk{"IDAT", z, false}
	text := rawChunk{"tEXt", []byte("k\x00v"), false}
	files := map[string][]byte{}
	ok := func(name string, chunks ...rawChunk) { files[name] = assemble(chunks) }

	// Not PNG at all, or cut short.
	files["bad_empty"] = []byte{}
	files["bad_garbage"] = []byte("GIF89a this is not a png at all, just text\n")
	files["bad_signature_only"] = []byte("\x89PNG\r\n\x1a\n")
	full := assemble([]rawChunk{ihdr, idat, iend})
	files["bad_truncated_half"] = full[:len(full)/2]
	files["bad_truncated_in_ihdr"] = full[:20]
	files["bad_missing_iend"] = full[:len(full)-12]
	files["bad_wrong_signature"] = append([]byte("\x89PNG\r\n\x1a\x0b"), full[8:]...)

	// Chunk-level rules.
	ok("bad_crc_ihdr", rawChunk{"IHDR", ihdr.data, true}, idat, iend)
	ok("bad_crc_idat", ihdr, rawChunk{"IDAT", z, true}, iend)
	ok("bad_crc_text", ihdr, rawChunk{"tEXt", text.data, true}, idat, iend)
	ok("bad_crc_iend", ihdr, idat, rawChunk{"IEND", nil, true})
	ok("bad_iend_length", ihdr, idat, rawChunk{"IEND", []byte{0}, false})
	ok("bad_two_ihdr", ihdr, ihdr, idat, iend)
	ok("bad_idat_before_ihdr", idat, ihdr, idat, iend)
	ok("bad_ihdr_length", rawChunk{"IHDR", append(ihdrData(w, h, 8, ctRGB, 0), 0), false}, idat, iend)
	ok("bad_zero_width", rawChunk{"IHDR", ihdrData(0, h, 8, ctRGB, 0), false}, idat, iend)
	ok("bad_negative_height", rawChunk{"IHDR", ihdrData(w, 0x80000001, 8, ctRGB, 0), false}, idat, iend)
	ok("bad_depth_rgb4", rawChunk{"IHDR", ihdrData(w, h, 4, ctRGB, 0), false}, idat, iend)
	ok("bad_colortype_5", rawChunk{"IHDR", ihdrData(w, h, 8, 5, 0), false}, idat, iend)
	ok("bad_interlace_2", rawChunk{"IHDR", ihdrData(w, h, 8, ctRGB, 2), false}, idat, iend)
	badComp := ihdrData(w, h, 8, ctRGB, 0)
	badComp[10] = 1
	ok("bad_compression_method", rawChunk{"IHDR", badComp, false}, idat, iend)
	badFilt := ihdrData(w, h, 8, ctRGB, 0)
	badFilt[11] = 1
	ok("bad_filter_method", rawChunk{"IHDR", badFilt, false}, idat, iend)

	// Palette rules.
	pIHDR := rawChunk{"IHDR", ihdrData(4, 4, 2, ctPalette, 0), false}
	pRaw := []byte{0, 0x1b, 0, 0xe4, 0, 0x1b, 0, 0xe4}
	pIDAT := rawChunk{"IDAT", zlibOf(pRaw, 9), false}
	plte := rawChunk{"PLTE", []byte{255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9}, false}
	ok("ok_palette_reference", pIHDR, plte, pIDAT, iend)
	ok("bad_palette_missing", pIHDR, pIDAT, iend)
	ok("bad_plte_too_long_for_depth", pIHDR, rawChunk{"PLTE", make([]byte, 15), false}, pIDAT, iend)
	ok("bad_plte_length_not_3n", pIHDR, rawChunk{"PLTE", make([]byte, 10), false}, pIDAT, iend)
	ok("bad_plte_in_gray", rawChunk{"IHDR", ihdrData(4, 4, 8, ctGray, 0), false}, plte, rawChunk{"IDAT", zlibOf(make([]byte, 20), 9), false}, iend)
	ok("bad_trns_before_plte", pIHDR, rawChunk{"tRNS", []byte{0}, false}, plte, pIDAT, iend)
	ok("bad_trns_too_long", pIHDR, plte, rawChunk{"tRNS", make([]byte, 257), false}, pIDAT, iend)
	ok("ok_plte_one_entry_indices_beyond", pIHDR, rawChunk{"PLTE", []byte{200, 100, 50}, false}, pIDAT, iend)
	ok("ok_trns_longer_than_plte", pIHDR, rawChunk{"PLTE", []byte{200, 100, 50}, false}, rawChunk{"tRNS", []byte{10, 20, 30}, false}, pIDAT, iend)
	ok("bad_plte_after_idat", pIHDR, pIDAT, plte, iend)

	// tRNS on other colour types.
	ok("bad_trns_in_rgba", rawChunk{"IHDR", ihdrData(w, h, 8, ctRGBA, 0), false}, rawChunk{"tRNS", make([]byte, 6), false}, idat, iend)
	ok("bad_trns_rgb_length", ihdr, rawChunk{"tRNS", make([]byte, 4), false}, idat, iend)
	ok("bad_trns_after_trns", ihdr, rawChunk{"tRNS", make([]byte, 6), false}, rawChunk{"tRNS", make([]byte, 6), false}, idat, iend)
	ok("bad_plte_after_trns_rgb", ihdr, rawChunk{"tRNS", make([]byte, 6), false}, rawChunk{"PLTE", []byte{1, 2, 3}, false}, idat, iend)
	ok("ok_trns_after_plte_rgb", ihdr, rawChunk{"PLTE", []byte{1, 2, 3}, false}, rawChunk{"tRNS", []byte{0, 9, 0, 9, 0, 9}, false}, idat, iend)

	// Scanline / zlib stream rules.
	extra := append(append([]byte{}, raw...), raw[:len(raw)/h]...)
	ok("bad_too_much_pixel_data", ihdr, rawChunk{"IDAT", zlibOf(extra, 9), false}, iend)
	ok("bad_not_enough_pixel_data", ihdr, rawChunk{"IDAT", zlibOf(raw[:len(raw)-10], 9), false}, iend)
	ok("bad_one_byte_too_many", ihdr, rawChunk{"IDAT", zlibOf(append(append([]byte{}, raw...), 0), 9), false}, iend)
	badF := append([]byte{}, raw...)
	badF[(len(raw)/h)*5] = 5
	ok("bad_filter_type", ihdr, rawChunk{"IDAT", zlibOf(badF, 9), false}, iend)
	badAdler := append([]byte{}, z...)
	badAdler[len(badAdler)-1] ^= 0x40
	ok("bad_adler32", ihdr, rawChunk{"IDAT", badAdler, false}, iend)
	ok("bad_zlib_truncated", ihdr, rawChunk{"IDAT", z[:len(z)-20], false}, iend)
	ok("bad_zlib_no_adler", ihdr, rawChunk{"IDAT", z[:len(z)-4], false}, iend)
	badCM := append([]byte{}, z...)
	badCM[0] = 0x77 // compression method 7, check bits kept valid
	fixCheck(badCM)
	ok("bad_zlib_method", ihdr, rawChunk{"IDAT", badCM, false}, iend)
	badCheck := append([]byte{}, z...)
	badCheck[1] ^= 1
	ok("bad_zlib_header_check", ihdr, rawChunk{"IDAT", badCheck, false}, iend)
	ok("bad_stream_continues_after_text", ihdr, rawChunk{"IDAT", z[:len(z)/2], false}, text, rawChunk{"IDAT", z[len(z)/2:], false}, iend)
	ok("bad_idat_empty", ihdr, rawChunk{"IDAT", nil, false}, iend)

	// A zlib header announcing a 256-byte window (CINFO=0): Go ignores the
	// window size, so back-references further than that must still decode.
	rawFar := rgbRaw(120, 90, 11)
	zFar := zlibOf(rawFar, 9)
	zFar[0] = 0x08
	fixCheck(zFar)
	ok("ok_zlib_cinfo_0", rawChunk{"IHDR", ihdrData(120, 90, 8, ctRGB, 0), false}, rawChunk{"IDAT", zFar, false}, iend)

	// Preset dictionary flag: Go accepts only the empty dictionary's id (1).
	withDict := func(id uint32) []byte {
		body := z[2:]
		hdr := []byte{0x78, 0x20}
		fixCheck(hdr)
		var dictID [4]byte
		binary.BigEndian.PutUint32(dictID[:], id)
		return append(append(hdr, dictID[:]...), body...)
	}
	ok("ok_zlib_empty_dictionary", ihdr, rawChunk{"IDAT", withDict(adler32.Checksum(nil)), false}, iend)
	ok("bad_zlib_dictionary", ihdr, rawChunk{"IDAT", withDict(12345), false}, iend)

	// Legal oddities Go accepts.
	ok("ok_unknown_critical_chunk", ihdr, rawChunk{"ABCD", []byte{1, 2}, false}, idat, iend)
	ok("ok_ancillary_before_ihdr", text, ihdr, idat, iend)
	ok("ok_stray_idat_after_text", ihdr, idat, text, rawChunk{"IDAT", []byte("junk"), false}, iend)
	ok("ok_empty_idats_around", ihdr, rawChunk{"IDAT", nil, false}, rawChunk{"IDAT", z[:5], false}, rawChunk{"IDAT", nil, false}, rawChunk{"IDAT", z[5:], false}, rawChunk{"IDAT", nil, false}, iend)
	ok("ok_one_byte_idats", append(append([]rawChunk{ihdr}, splitIDAT(z, 1)...), iend)...)
	files["ok_garbage_after_iend"] = append(assemble([]rawChunk{ihdr, idat, iend}), []byte("trailing garbage")...)
	ok("ok_junk_idat_after_stream_end", ihdr, idat, rawChunk{"IDAT", []byte("junk that nobody reads"), false}, iend)

	// Bytes after the zlib stream inside the same IDAT chunk. Go reads IDAT
	// data through a 4 KiB buffer whose fills stop at chunk ends; the junk is
	// accepted only when the fill holding the stream's last byte reached the
	// chunk's end.
	bigRaw := rgbRaw(200, 150, 3)
	zs := zlibOf(bigRaw, 0) // stored blocks: predictable length
	junk := func(n int) []byte { return bytes.Repeat([]byte{0xa5}, n) }
	bigIHDR := rawChunk{"IHDR", ihdrData(200, 150, 8, ctRGB, 0), false}
	ok("ok_junk_small_after_stream", ihdr, rawChunk{"IDAT", append(append([]byte{}, z...), junk(3)...), false}, iend)
	ok("bad_junk_5000_after_stream", ihdr, rawChunk{"IDAT", append(append([]byte{}, z...), junk(5000)...), false}, iend)
	mk := func(name string, endInChunk, chunkLen int) {
		// Split zs so the last chunk holds endInChunk bytes of stream, then junk.
		tail := zs[len(zs)-endInChunk:]
		chunks := append([]rawChunk{bigIHDR}, splitIDAT(zs[:len(zs)-endInChunk], 8192)...)
		chunks = append(chunks, rawChunk{"IDAT", append(append([]byte{}, tail...), junk(chunkLen-endInChunk)...), false}, iend)
		ok(name, chunks...)
	}
	// Names: <stream bytes in the last chunk>_of_<chunk length>.
	mk("bad_junk_4000_of_5000", 4000, 5000)
	mk("ok_junk_4100_of_5000", 4100, 5000)
	mk("ok_junk_4097_of_8192", 4097, 8192)
	mk("bad_junk_4096_of_8193", 4096, 8193)
	mk("ok_junk_8000_of_8192", 8000, 8192)
	mk("ok_junk_4096_of_4096", 4096, 4096)

	written := 0
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".png"), data, 0o644); err != nil {
			panic(err)
		}
		written++
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), ".png")
		if _, ok := files[n]; !ok && (strings.HasPrefix(n, "ok_") || strings.HasPrefix(n, "bad_")) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	fmt.Fprintf(os.Stderr, "gen: %d edge-case files in %s\n", written, dir)
	return written
}

func splitIDAT(data []byte, size int) []rawChunk {
	var out []rawChunk
	for len(data) > 0 {
		n := min(size, len(data))
		out = append(out, rawChunk{"IDAT", data[:n], false})
		data = data[n:]
	}
	return out
}

// fixCheck sets the FCHECK bits of a zlib header (keeping FDICT and FLEVEL)
// so that CMF·256+FLG is a multiple of 31.
func fixCheck(hdr []byte) {
	hdr[1] &^= 0x1f
	for (uint16(hdr[0])<<8|uint16(hdr[1]))%31 != 0 {
		hdr[1]++
	}
}
