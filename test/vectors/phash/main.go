// Command phash-vectors is the reference side of Beryl's pHash port: it runs
// goimagehash v1.1.0 PerceptionHash (the implementation Crynux nodes and the
// relay use) over a folder of PNGs.
//
//	go run . -dir images -out vectors.json    # write the vector file
//	go run . -dir DIR -bench 5                # decode+hash every file 5 times, print images/s
//
// Files are decoded with image/png (png.Decode), as the relay does, so the
// vectors pin both the decoder's image types and the hash.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/corona10/goimagehash"
	"github.com/nfnt/resize"
)

type vector struct {
	// Hash is ImageHash.GetHash() as 16 lowercase hex digits (big-endian).
	Hash string `json:"hash,omitempty"`
	// Error is set instead of Hash when png.Decode rejects the file.
	Error      string `json:"error,omitempty"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	ColorType  int    `json:"colorType"`
	BitDepth   int    `json:"bitDepth"`
	Interlaced bool   `json:"interlaced"`
	// GoType is the concrete image type png.Decode returned.
	GoType string `json:"goType,omitempty"`
	// DecodedSHA256 digests the decoded pixels (see pixelDigest), so a decoder
	// difference shows up even when it happens not to flip a hash bit.
	DecodedSHA256 string `json:"decodedSha256,omitempty"`
	// ResizedType and ResizedSHA256 do the same for nfnt/resize's 64x64 output.
	ResizedType   string `json:"resizedType,omitempty"`
	ResizedSHA256 string `json:"resizedSha256,omitempty"`
}

type vectorFile struct {
	Comment     string             `json:"comment"`
	Goimagehash string             `json:"goimagehash"`
	GoVersion   string             `json:"goVersion"`
	GoArch      string             `json:"goArch"`
	Count       int                `json:"count"`
	Vectors     map[string]*vector `json:"vectors"`
}

func listPNGs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".png") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func hashBytes(data []byte) (uint64, image.Image, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	h, err := goimagehash.PerceptionHash(img)
	if err != nil {
		return 0, img, err
	}
	return h.GetHash(), img, nil
}

// pixelDigest is SHA-256 over the image's Pix rows (exactly width x
// bytes-per-pixel each, in Go's layout) followed, for *image.Paletted, by
// every palette entry as straight R,G,B,A bytes.
func pixelDigest(img image.Image) string {
	var pix []byte
	var stride, bpp int
	var rect image.Rectangle
	switch m := img.(type) {
	case *image.Gray:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 1
	case *image.Gray16:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 2
	case *image.RGBA:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 4
	case *image.NRGBA:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 4
	case *image.RGBA64:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 8
	case *image.NRGBA64:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 8
	case *image.Paletted:
		pix, stride, rect, bpp = m.Pix, m.Stride, m.Rect, 1
	default:
		return ""
	}
	h := sha256.New()
	for y := 0; y < rect.Dy(); y++ {
		h.Write(pix[y*stride : y*stride+rect.Dx()*bpp])
	}
	if p, ok := img.(*image.Paletted); ok {
		for _, c := range p.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			h.Write([]byte{n.R, n.G, n.B, n.A})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeVectors(dir, out string) error {
	names, err := listPNGs(dir)
	if err != nil {
		return err
	}
	vf := vectorFile{
		Comment:     "goimagehash PerceptionHash of every PNG in " + filepath.Base(dir) + "/ (decoded with image/png), or png.Decode's error. Regenerate: bash test/vectors/phash/regenerate.sh",
		Goimagehash: "v1.1.0",
		GoVersion:   runtime.Version(),
		GoArch:      runtime.GOARCH,
		Vectors:     map[string]*vector{},
	}
	for i, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		v := &vector{}
		// IHDR fields straight from the header, for readers of the JSON.
		if len(data) >= 33 {
			v.Width = int(binary.BigEndian.Uint32(data[16:20]))
			v.Height = int(binary.BigEndian.Uint32(data[20:24]))
			v.BitDepth = int(data[24])
			v.ColorType = int(data[25])
			v.Interlaced = data[28] == 1
		}
		h, img, err := hashBytes(data)
		if img != nil {
			v.GoType = fmt.Sprintf("%T", img)
			v.DecodedSHA256 = pixelDigest(img)
			resized := resize.Resize(64, 64, img, resize.Bilinear)
			v.ResizedType = fmt.Sprintf("%T", resized)
			v.ResizedSHA256 = pixelDigest(resized)
		}
		if err != nil {
			v.Error = err.Error()
		} else {
			v.Hash = fmt.Sprintf("%016x", h)
		}
		vf.Vectors[name] = v
		if (i+1)%50 == 0 || i+1 == len(names) {
			fmt.Fprintf(os.Stderr, "vectors: %d/%d hashed\n", i+1, len(names))
		}
	}
	vf.Count = len(vf.Vectors)
	js, err := json.MarshalIndent(vf, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(js, '\n'), 0o644)
}

func bench(dir string, rounds int) error {
	names, err := listPNGs(dir)
	if err != nil {
		return err
	}
	files := make([][]byte, len(names))
	for i, name := range names {
		if files[i], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	// One untimed pass so both sides are measured warm.
	for _, f := range files {
		if _, _, err := hashBytes(f); err != nil {
			return err
		}
	}
	var decodeTime, hashTime time.Duration
	n := 0
	for r := 0; r < rounds; r++ {
		for _, f := range files {
			t0 := time.Now()
			img, err := png.Decode(bytes.NewReader(f))
			if err != nil {
				return err
			}
			t1 := time.Now()
			if _, err := goimagehash.PerceptionHash(img); err != nil {
				return err
			}
			hashTime += time.Since(t1)
			decodeTime += t1.Sub(t0)
			n++
		}
	}
	total := decodeTime + hashTime
	// Machine-readable line first; bench/phash.ts parses it.
	fmt.Printf("BENCH images=%d seconds=%.6f decode_seconds=%.6f hash_seconds=%.6f\n", n, total.Seconds(), decodeTime.Seconds(), hashTime.Seconds())
	fmt.Printf("goimagehash: %d images in %.3fs = %.1f images/s (decode %.1f%%) GOMAXPROCS=%d\n",
		n, total.Seconds(), float64(n)/total.Seconds(), 100*decodeTime.Seconds()/total.Seconds(), runtime.GOMAXPROCS(0))
	return nil
}

func main() {
	dir := flag.String("dir", "images", "folder of .png files")
	out := flag.String("out", "vectors.json", "vector file to write")
	rounds := flag.Int("bench", 0, "if > 0: hash every file this many times and print images/s instead of writing vectors")
	flag.Parse()
	var err error
	if *rounds > 0 {
		err = bench(*dir, *rounds)
	} else {
		err = writeVectors(*dir, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
