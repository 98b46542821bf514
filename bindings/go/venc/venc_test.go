package venc_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"libvenc.org/venc"
)

const w, h = 160, 120

// testFrame is a moving gradient, different in every frame.
func testFrame(i int) venc.Frame {
	f := venc.NewFrame(venc.PixI420, w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			f.Planes[0][y*w+x] = byte(x + y + 3*i)
		}
	}
	for j := range f.Planes[1] {
		f.Planes[1][j] = byte(128 + i)
		f.Planes[2][j] = byte(128 - i)
	}
	f.PTS = int64(i)
	f.Tag = uint64(1000 + i)
	return f
}

func newEncoder(t testing.TB, kv ...string) *venc.Encoder {
	t.Helper()
	cfg := venc.NewConfig()
	defer cfg.Close()
	kv = append([]string{"width", fmt.Sprint(w), "height", fmt.Sprint(h)}, kv...)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := cfg.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := venc.NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// encode sends n frames, drains, and returns the stream and the number of
// picture packets.
func encode(t testing.TB, enc *venc.Encoder, n int) ([]byte, int) {
	t.Helper()
	var out bytes.Buffer
	pictures := 0
	take := func(timeout time.Duration) error {
		for {
			p, err := enc.ReceivePacket(timeout)
			if err != nil {
				return err
			}
			out.Write(p.Data)
			if p.FrameType != venc.FrameTypeNone {
				if p.Tag != uint64(1000+p.PTS) {
					t.Errorf("packet pts %d came back with tag %d", p.PTS, p.Tag)
				}
				pictures++
			}
		}
	}
	for i := 0; i < n; i++ {
		f := testFrame(i)
		for {
			err := enc.SendFrame(f)
			if err == nil {
				break
			}
			if !errors.Is(err, venc.ErrAgain) {
				t.Fatalf("send frame %d: %v", i, err)
			}
			if err := take(10 * time.Millisecond); !errors.Is(err, venc.ErrAgain) {
				t.Fatalf("receive: %v", err)
			}
		}
		if err := take(0); !errors.Is(err, venc.ErrAgain) {
			t.Fatalf("receive: %v", err)
		}
	}
	if err := enc.Drain(); err != nil {
		t.Fatal(err)
	}
	if err := take(-1); !errors.Is(err, venc.ErrEOF) {
		t.Fatalf("after drain: %v, want ErrEOF", err)
	}
	return out.Bytes(), pictures
}

// ffmpegFrames decodes a file with FFmpeg, requires silence on stderr, and
// counts the decoded frames.
func ffmpegFrames(t testing.TB, path string) int {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path,
		"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", path, err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Fatalf("ffmpeg complained about %s: %s", path, stderr.String())
	}
	if stdout.Len()%(w*h) != 0 {
		t.Fatalf("ffmpeg gave %d bytes, not whole %dx%d frames", stdout.Len(), w, h)
	}
	return stdout.Len() / (w * h)
}

func TestEncodeDecode(t *testing.T) {
	for _, tc := range []struct{ codec, ext string }{{"h264", ".h264"}, {"mjpeg", ".mjpeg"}} {
		t.Run(tc.codec, func(t *testing.T) {
			enc := newEncoder(t, "codec", tc.codec, "gop", "10")
			defer enc.Close()
			data, pictures := encode(t, enc, 30)
			if pictures != 30 {
				t.Fatalf("%d picture packets, want 30", pictures)
			}
			st, err := enc.Stats()
			if err != nil || st.FramesIn != 30 || st.FramesOut != 30 {
				t.Fatalf("stats %+v, %v", st, err)
			}
			path := filepath.Join(t.TempDir(), "out"+tc.ext)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if n := ffmpegFrames(t, path); n != 30 {
				t.Fatalf("ffmpeg decoded %d frames, want 30", n)
			}
		})
	}
}

func TestControls(t *testing.T) {
	enc := newEncoder(t)
	defer enc.Close()
	if err := enc.SetBitrate(500_000); err != nil {
		t.Fatal(err)
	}
	if err := enc.RequestKeyframe(); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.ReceivePacket(0); !errors.Is(err, venc.ErrAgain) {
		t.Fatalf("empty encoder: %v, want ErrAgain", err)
	}
	if err := enc.Drain(); err != nil {
		t.Fatal(err)
	}
	if err := enc.SendFrame(testFrame(0)); !errors.Is(err, venc.ErrEOF) {
		t.Fatalf("send after drain: %v, want ErrEOF", err)
	}
	enc.Close()
	enc.Close()
	if err := enc.SendFrame(testFrame(0)); !errors.Is(err, venc.ErrInvalidState) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	cfg := venc.NewConfig()
	defer cfg.Close()

	err := cfg.Set("bitrat", "1M")
	var ve *venc.Error
	if !errors.As(err, &ve) || ve.Status != venc.StatusUnknownKey || !errors.Is(err, venc.ErrUnknownKey) {
		t.Fatalf("unknown key: %#v", err)
	}
	if !strings.Contains(err.Error(), `"bitrat"`) {
		t.Fatalf("message does not name the key: %v", err)
	}

	err = cfg.Set("qp", "99")
	if !errors.Is(err, venc.ErrBadValue) || !strings.Contains(err.Error(), `"qp"`) {
		t.Fatalf("bad value: %v", err)
	}
	if errors.Is(err, venc.ErrAgain) {
		t.Fatal("bad value matches ErrAgain")
	}

	if err := cfg.Set("bitrate", "1.5M"); err != nil {
		t.Fatal(err)
	}
	if v, err := cfg.Get("bitrate"); err != nil || v != "1500000" {
		t.Fatalf("get bitrate: %q, %v", v, err)
	}
	if v, err := cfg.Get("keys"); err != nil || !strings.Contains(v, "queue_depth") {
		t.Fatalf("get keys: %q, %v", v, err)
	}
	if _, err := cfg.Get("nope"); !errors.Is(err, venc.ErrUnknownKey) {
		t.Fatalf("get unknown: %v", err)
	}

	// No size: the encoder cannot be made, and the config says why.
	_, err = venc.NewEncoder(cfg)
	if err == nil || !strings.Contains(err.Error(), "width") {
		t.Fatalf("encoder without size: %v", err)
	}
}

func TestFrameErrors(t *testing.T) {
	enc := newEncoder(t)
	defer enc.Close()

	wrong := venc.NewFrame(venc.PixI420, w*2, h)
	err := enc.SendFrame(wrong)
	if !errors.Is(err, venc.ErrInvalidArg) || !strings.Contains(err.Error(), fmt.Sprintf("%dx%d", w*2, h)) {
		t.Fatalf("wrong size: %v", err)
	}

	short := testFrame(0)
	short.Planes[0] = short.Planes[0][:w*h-1]
	if err := enc.SendFrame(short); !errors.Is(err, venc.ErrInvalidArg) || !strings.Contains(err.Error(), "plane 0") {
		t.Fatalf("short plane: %v", err)
	}

	missing := testFrame(0)
	missing.Planes = missing.Planes[:2]
	if err := enc.SendFrame(missing); !errors.Is(err, venc.ErrInvalidArg) {
		t.Fatalf("missing plane: %v", err)
	}

	rgb := venc.NewFrame(venc.PixRGB24, w, h)
	if err := enc.SendFrame(rgb); !errors.Is(err, venc.ErrInvalidArg) || !strings.Contains(err.Error(), "rgb24") {
		t.Fatalf("wrong format: %v", err)
	}
}

func TestConcurrentEncoders(t *testing.T) {
	const n = 4
	var wg sync.WaitGroup
	dir := t.TempDir()
	paths := make([]string, n)
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			enc := newEncoder(t, "bitrate", fmt.Sprintf("%dk", 300+100*g))
			defer enc.Close()
			data, pictures := encode(t, enc, 30)
			if pictures != 30 {
				t.Errorf("goroutine %d: %d pictures", g, pictures)
			}
			paths[g] = filepath.Join(dir, fmt.Sprintf("g%d.h264", g))
			if err := os.WriteFile(paths[g], data, 0o644); err != nil {
				t.Error(err)
			}
		}(g)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, p := range paths {
		if got := ffmpegFrames(t, p); got != 30 {
			t.Fatalf("%s: %d frames", p, got)
		}
	}
}

// One goroutine sends while another receives, as venc.h allows.
func TestProducerConsumer(t *testing.T) {
	enc := newEncoder(t)
	defer enc.Close()
	done := make(chan int, 1)
	go func() {
		pictures := 0
		for {
			p, err := enc.ReceivePacket(-1)
			if errors.Is(err, venc.ErrEOF) {
				done <- pictures
				return
			}
			if errors.Is(err, venc.ErrAgain) {
				// Nothing queued yet: even a blocking receive returns.
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				t.Error(err)
				done <- -1
				return
			}
			if p.FrameType != venc.FrameTypeNone {
				pictures++
			}
		}
	}()
	for i := 0; i < 30; i++ {
		for {
			err := enc.SendFrame(testFrame(i))
			if err == nil {
				break
			}
			if !errors.Is(err, venc.ErrAgain) {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := enc.Drain(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != 30 {
		t.Fatalf("%d pictures", got)
	}
}

func TestImageEncodePNG(t *testing.T) {
	f := testFrame(5)
	png, err := venc.ImageEncode(".png", f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("not a PNG: % x", png[:8])
	}
	path := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := ffmpegFrames(t, path); n != 1 {
		t.Fatalf("ffmpeg decoded %d pictures", n)
	}
	if _, err := venc.ImageEncode(".tiff", f, 0); err == nil || !strings.Contains(err.Error(), "tiff") {
		t.Fatalf("unknown extension: %v", err)
	}
}

func TestChips(t *testing.T) {
	chips := venc.Chips()
	if len(chips) == 0 || chips[0] != "generic" {
		t.Fatalf("chips %v", chips)
	}
	caps, err := venc.ChipCaps("generic")
	if err != nil || caps.Codecs&venc.CodecH264 == 0 || caps.MaxWidth == 0 {
		t.Fatalf("caps %+v, %v", caps, err)
	}
	if _, err := venc.ChipCaps("nope"); !errors.Is(err, venc.ErrInvalidArg) {
		t.Fatalf("unknown chip: %v", err)
	}
	if venc.Version() == "" {
		t.Fatal("no version")
	}
}
