// Package venc is the Go binding of libvenc, a video and picture encoder
// with one stable C ABI (venc.h).
//
// A Config holds string keys and values; an Encoder made from it takes
// frames with SendFrame and gives coded packets with ReceivePacket. Drain
// ends the input: the remaining packets follow, then ReceivePacket returns
// ErrEOF.
//
//	cfg := venc.NewConfig()
//	defer cfg.Close()
//	cfg.Set("width", "640")
//	cfg.Set("height", "480")
//	enc, err := venc.NewEncoder(cfg)
//
// Handles free their C memory in Close; finalizers are only a safety net.
// Different handles may be used from different goroutines at once. On one
// Encoder, one goroutine may send (SendFrame, Drain, RequestKeyframe,
// SetBitrate, SetQP) while another receives. Close waits for calls in
// progress on the same handle.
//
// The library is found with pkg-config (package "venc"); set
// PKG_CONFIG_PATH and, at run time, LD_LIBRARY_PATH for a private prefix.
package venc

/*
#cgo pkg-config: venc
#include <stdlib.h>
#include <venc.h>

// The frame is built here, on the C stack, so that no Go memory holding Go
// pointers is passed to C (cgo pointer rules): each plane is a separate
// argument, read only during the call.
static venc_status venc_go_send_frame(venc_encoder *enc, uint32_t fmt, uint32_t w, uint32_t h,
		const uint8_t *p0, const uint8_t *p1, const uint8_t *p2,
		uint32_t s0, uint32_t s1, uint32_t s2, uint32_t flags, int64_t pts, uint64_t tag) {
	venc_frame f = {
		.struct_size = sizeof f, .format = fmt, .width = w, .height = h,
		.planes = {p0, p1, p2}, .strides = {s0, s1, s2},
		.flags = flags, .pts = pts, .user_tag = tag,
	};
	return venc_encoder_send_frame(enc, &f);
}

static venc_status venc_go_image_encode(const char *ext, uint32_t fmt, uint32_t w, uint32_t h,
		const uint8_t *p0, const uint8_t *p1, const uint8_t *p2,
		uint32_t s0, uint32_t s1, uint32_t s2, int32_t quality,
		venc_packet **out, char *err, size_t err_cap) {
	venc_frame f = {
		.struct_size = sizeof f, .format = fmt, .width = w, .height = h,
		.planes = {p0, p1, p2}, .strides = {s0, s1, s2},
	};
	return venc_image_encode(ext, &f, quality, out, err, err_cap);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Version is the "MAJOR.MINOR.PATCH" version of the loaded library.
func Version() string { return C.GoString(C.venc_version()) }

// ABIVersion is the ABI version of the loaded library.
func ABIVersion() uint32 { return uint32(C.venc_abi_version()) }

// Config holds encoder settings as string keys and values.
type Config struct {
	mu sync.Mutex
	c  *C.venc_config
}

// NewConfig makes a config with the defaults (h264, i420, 30 fps, CBR
// 2 Mbit/s, chip "generic"). Width and height must be set before use.
func NewConfig() *Config {
	var c *C.venc_config
	if st := C.venc_config_new(&c); st != C.VENC_OK {
		panic(newError(int(st), "venc_config_new failed"))
	}
	cfg := &Config{c: c}
	runtime.SetFinalizer(cfg, (*Config).Close)
	return cfg
}

// Close frees the config. Encoders made from it are unaffected. Calling
// Close twice is fine.
func (cfg *Config) Close() {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.c != nil {
		C.venc_config_free(cfg.c)
		cfg.c = nil
	}
	runtime.SetFinalizer(cfg, nil)
}

func (cfg *Config) lastError() string {
	var buf [512]C.char
	n := C.venc_config_last_error(cfg.c, &buf[0], C.size_t(len(buf)))
	if int(n) >= len(buf) {
		big := make([]C.char, int(n)+1)
		C.venc_config_last_error(cfg.c, &big[0], C.size_t(len(big)))
		return C.GoString(&big[0])
	}
	return C.GoString(&buf[0])
}

func (cfg *Config) check(st C.venc_status) error {
	if st == C.VENC_OK {
		return nil
	}
	return newError(int(st), cfg.lastError())
}

// Set sets one key ("codec", "width", "height", "pix_fmt", "fps", "rc",
// "bitrate", "max_bitrate", "qp", "gop", "profile", "header_mode",
// "threads", "quality", "chip", "queue_depth"). An unknown key gives an
// error matching ErrUnknownKey, a bad value one matching ErrBadValue; the
// message names the key.
func (cfg *Config) Set(key, value string) error {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.c == nil {
		return errClosed("config")
	}
	ck, cv := C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(ck))
	defer C.free(unsafe.Pointer(cv))
	return cfg.check(C.venc_config_set(cfg.c, ck, cv))
}

// Get reads the effective value of a key; the key "keys" lists all keys.
func (cfg *Config) Get(key string) (string, error) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.c == nil {
		return "", errClosed("config")
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	buf := make([]C.char, 128)
	for {
		var n C.size_t
		st := C.venc_config_get(cfg.c, ck, &buf[0], C.size_t(len(buf)), &n)
		if st == C.VENC_ERR_BUFFER_TOO_SMALL {
			buf = make([]C.char, int(n)+1)
			continue
		}
		if err := cfg.check(st); err != nil {
			return "", err
		}
		return C.GoString(&buf[0]), nil
	}
}

// Encoder is a native encoder.
type Encoder struct {
	mu sync.RWMutex // read-held by every call, write-held by Close
	e  *C.venc_encoder
}

// NewEncoder makes an encoder from a config (copied: the config may be
// closed afterwards).
func NewEncoder(cfg *Config) (*Encoder, error) {
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.c == nil {
		return nil, errClosed("config")
	}
	var e *C.venc_encoder
	if err := cfg.check(C.venc_encoder_new(cfg.c, &e)); err != nil {
		return nil, err
	}
	enc := &Encoder{e: e}
	runtime.SetFinalizer(enc, (*Encoder).Close)
	return enc, nil
}

// Close stops the encoder and frees it, discarding queued frames and
// packets (Drain first to keep them). Packets already received stay valid.
// It waits for calls in progress; calling it twice is fine.
func (enc *Encoder) Close() {
	enc.mu.Lock()
	defer enc.mu.Unlock()
	if enc.e != nil {
		C.venc_encoder_free(enc.e)
		enc.e = nil
	}
	runtime.SetFinalizer(enc, nil)
}

func (enc *Encoder) lastError() string {
	var buf [512]C.char
	n := C.venc_encoder_last_error(enc.e, &buf[0], C.size_t(len(buf)))
	if int(n) >= len(buf) {
		big := make([]C.char, int(n)+1)
		C.venc_encoder_last_error(enc.e, &big[0], C.size_t(len(big)))
		return C.GoString(&big[0])
	}
	return C.GoString(&buf[0])
}

func (enc *Encoder) check(st C.venc_status) error {
	switch st {
	case C.VENC_OK:
		return nil
	case C.VENC_AGAIN:
		return ErrAgain
	case C.VENC_EOF:
		return ErrEOF
	}
	return newError(int(st), enc.lastError())
}

// SendFrame queues one frame; its planes are copied before SendFrame
// returns. ErrAgain: receive packets first, then send again. ErrEOF: the
// encoder is draining.
func (enc *Encoder) SendFrame(f Frame) error {
	if err := f.validate(); err != nil {
		return err
	}
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return errClosed("encoder")
	}
	var flags C.uint32_t
	if f.Keyframe {
		flags |= C.VENC_FRAME_FORCE_KEYFRAME
	}
	if f.NoPTS {
		flags |= C.VENC_FRAME_NO_PTS
	}
	p, s := f.cPlanes()
	st := C.venc_go_send_frame(enc.e, C.uint32_t(f.Format), C.uint32_t(f.Width), C.uint32_t(f.Height),
		p[0], p[1], p[2], s[0], s[1], s[2], flags, C.int64_t(f.PTS), C.uint64_t(f.Tag))
	runtime.KeepAlive(f.Planes)
	return enc.check(st)
}

// Drain ends the input: queued frames are encoded, then an empty packet
// flagged EOS arrives, then ReceivePacket returns ErrEOF. Calling it twice
// is fine.
func (enc *Encoder) Drain() error {
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return errClosed("encoder")
	}
	return enc.check(C.venc_encoder_drain(enc.e))
}

// ReceivePacket takes the next packet. timeout < 0 waits as long as it
// takes, 0 polls, > 0 waits at most that long (millisecond resolution).
// ErrAgain: nothing ready yet; a blocking receive also returns it at once
// when no frame is queued or being encoded. ErrEOF: everything was
// delivered after Drain.
func (enc *Encoder) ReceivePacket(timeout time.Duration) (*Packet, error) {
	ms := C.int32_t(-1)
	if timeout >= 0 {
		m := (timeout + time.Millisecond - 1) / time.Millisecond
		if m > 1<<31-1 {
			m = 1<<31 - 1
		}
		ms = C.int32_t(m)
	}
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return nil, errClosed("encoder")
	}
	var pkt *C.venc_packet
	if err := enc.check(C.venc_encoder_receive_packet(enc.e, ms, &pkt)); err != nil {
		return nil, err
	}
	defer C.venc_packet_free(pkt)
	return packetFromC(pkt)
}

// RequestKeyframe codes the next frame that reaches the encoder as a keyframe.
func (enc *Encoder) RequestKeyframe() error {
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return errClosed("encoder")
	}
	return enc.check(C.venc_encoder_request_keyframe(enc.e))
}

// SetBitrate changes the target bitrate (bit/s) of a CBR/VBR encoder from
// the next frame.
func (enc *Encoder) SetBitrate(bitsPerSecond uint32) error {
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return errClosed("encoder")
	}
	return enc.check(C.venc_encoder_set_bitrate(enc.e, C.uint32_t(bitsPerSecond)))
}

// SetQP changes the QP of a CQP encoder (or the quality 1..100 of MJPEG).
func (enc *Encoder) SetQP(qp uint32) error {
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return errClosed("encoder")
	}
	return enc.check(C.venc_encoder_set_qp(enc.e, C.uint32_t(qp)))
}

// Stats are an encoder's counters.
type Stats struct {
	FramesIn, FramesOut, BytesOut, Keyframes uint64
}

// Stats reads the encoder's counters.
func (enc *Encoder) Stats() (Stats, error) {
	enc.mu.RLock()
	defer enc.mu.RUnlock()
	if enc.e == nil {
		return Stats{}, errClosed("encoder")
	}
	var s C.venc_encoder_stats
	s.struct_size = C.uint32_t(unsafe.Sizeof(s))
	if err := enc.check(C.venc_encoder_get_stats(enc.e, &s)); err != nil {
		return Stats{}, err
	}
	return Stats{uint64(s.frames_in), uint64(s.frames_out), uint64(s.bytes_out), uint64(s.keyframes)}, nil
}

// Packet flags.
const (
	PacketKeyframe = C.VENC_PACKET_KEYFRAME // a keyframe (IDR or JPEG)
	PacketHeader   = C.VENC_PACKET_HEADER   // parameter sets (VPS/SPS/PPS)
	PacketEOS      = C.VENC_PACKET_EOS      // the last packet of the stream (empty)
)

// FrameType is the coded type of a packet's picture.
type FrameType uint32

// Frame types.
const (
	FrameTypeNone FrameType = C.VENC_FRAME_TYPE_NONE // header-only or end of stream
	FrameTypeIDR  FrameType = C.VENC_FRAME_TYPE_IDR
	FrameTypeI    FrameType = C.VENC_FRAME_TYPE_I
	FrameTypeP    FrameType = C.VENC_FRAME_TYPE_P
	FrameTypeB    FrameType = C.VENC_FRAME_TYPE_B
)

// Packet is one coded unit; Data is a Go copy of the library's bytes.
type Packet struct {
	Data      []byte
	Flags     uint32 // PacketKeyframe | PacketHeader | PacketEOS
	PTS, DTS  int64
	Tag       uint64 // the Tag of the frame this packet codes
	FrameType FrameType
}

// IsKeyframe reports whether the packet holds a keyframe.
func (p *Packet) IsKeyframe() bool { return p.Flags&PacketKeyframe != 0 }

// IsHeader reports whether the packet holds parameter sets.
func (p *Packet) IsHeader() bool { return p.Flags&PacketHeader != 0 }

// IsEOS reports whether this is the (empty) last packet of the stream.
func (p *Packet) IsEOS() bool { return p.Flags&PacketEOS != 0 }

func packetFromC(pkt *C.venc_packet) (*Packet, error) {
	var meta C.venc_packet_meta
	meta.struct_size = C.uint32_t(unsafe.Sizeof(meta))
	if st := C.venc_packet_info(pkt, &meta); st != C.VENC_OK {
		return nil, newError(int(st), "venc_packet_info failed")
	}
	var data *C.uint8_t
	var size C.size_t
	if st := C.venc_packet_data(pkt, &data, &size); st != C.VENC_OK {
		return nil, newError(int(st), "venc_packet_data failed")
	}
	out := &Packet{
		Flags:     uint32(meta.flags),
		PTS:       int64(meta.pts),
		DTS:       int64(meta.dts),
		Tag:       uint64(meta.user_tag),
		FrameType: FrameType(meta.frame_type),
	}
	if size > 0 {
		out.Data = C.GoBytes(unsafe.Pointer(data), C.int(size))
	} else {
		out.Data = []byte{}
	}
	return out, nil
}

// ImageEncode encodes one frame as a picture: ext is ".jpg"/".jpeg",
// ".png" or ".bmp"; quality 1..100 applies to JPEG (0 = 85).
func ImageEncode(ext string, f Frame, quality int) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	cext := C.CString(ext)
	defer C.free(unsafe.Pointer(cext))
	var errBuf [512]C.char
	var pkt *C.venc_packet
	p, s := f.cPlanes()
	st := C.venc_go_image_encode(cext, C.uint32_t(f.Format), C.uint32_t(f.Width), C.uint32_t(f.Height),
		p[0], p[1], p[2], s[0], s[1], s[2], C.int32_t(quality), &pkt, &errBuf[0], C.size_t(len(errBuf)))
	runtime.KeepAlive(f.Planes)
	if st != C.VENC_OK {
		return nil, newError(int(st), C.GoString(&errBuf[0]))
	}
	defer C.venc_packet_free(pkt)
	p2, err := packetFromC(pkt)
	if err != nil {
		return nil, err
	}
	return p2.Data, nil
}

// Chips lists the chip profile names ("generic", ...).
func Chips() []string {
	var n C.size_t
	if C.venc_chip_list(nil, 0, &n) != C.VENC_OK || n == 0 {
		return nil
	}
	names := make([]*C.char, int(n))
	C.venc_chip_list(&names[0], n, &n)
	out := make([]string, 0, len(names))
	for _, s := range names {
		if s != nil {
			out = append(out, C.GoString(s))
		}
	}
	return out
}

// Caps describe what one chip's encoder takes.
type Caps struct {
	Codecs  uint32 // CodecH264 | CodecH265 | CodecMJPEG bits
	PixFmts uint32 // bit (1 << PixFmt) per accepted input format
	RCModes uint32 // RCCBR | RCVBR | RCCQP bits
	MinWidth, MinHeight,
	MaxWidth, MaxHeight uint32
	Align         uint32 // width/height multiple for H.264 and MJPEG
	HEVCAlign     uint32 // width/height multiple for H.265
	JPEGMaxWidth  uint32
	JPEGMaxHeight uint32
	Channels      uint32 // encoder channels per process; 0 = no fixed limit
	DefaultGOP    uint32
}

// Codec and rate-control bits of Caps.
const (
	CodecH264  = C.VENC_CODEC_H264
	CodecH265  = C.VENC_CODEC_H265
	CodecMJPEG = C.VENC_CODEC_MJPEG
	RCCBR      = C.VENC_RC_CBR
	RCVBR      = C.VENC_RC_VBR
	RCCQP      = C.VENC_RC_CQP
)

// ChipCaps reads the capabilities of the chip called name.
func ChipCaps(name string) (Caps, error) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	var c C.venc_caps
	c.struct_size = C.uint32_t(unsafe.Sizeof(c))
	if st := C.venc_chip_caps(cn, &c); st != C.VENC_OK {
		return Caps{}, newError(int(st), fmt.Sprintf("chip %q is unknown (known: %v)", name, Chips()))
	}
	return Caps{
		Codecs: uint32(c.codecs), PixFmts: uint32(c.pix_fmts), RCModes: uint32(c.rc_modes),
		MinWidth: uint32(c.min_width), MinHeight: uint32(c.min_height),
		MaxWidth: uint32(c.max_width), MaxHeight: uint32(c.max_height),
		Align: uint32(c.align), HEVCAlign: uint32(c.hevc_align),
		JPEGMaxWidth: uint32(c.jpeg_max_width), JPEGMaxHeight: uint32(c.jpeg_max_height),
		Channels: uint32(c.channels), DefaultGOP: uint32(c.default_gop),
	}, nil
}
