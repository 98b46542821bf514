package venc

// #include <venc.h>
import "C"

import (
	"fmt"
	"unsafe"
)

// PixFmt is an input pixel format.
type PixFmt uint32

// Pixel formats (names as the "pix_fmt" config key spells them).
const (
	PixI420  PixFmt = C.VENC_PIX_I420  // planar Y, U, V; chroma halved both ways
	PixYV12  PixFmt = C.VENC_PIX_YV12  // planar Y, V, U
	PixNV12  PixFmt = C.VENC_PIX_NV12  // Y, then interleaved U,V
	PixNV21  PixFmt = C.VENC_PIX_NV21  // Y, then interleaved V,U
	PixBGR24 PixFmt = C.VENC_PIX_BGR24 // packed B,G,R
	PixRGB24 PixFmt = C.VENC_PIX_RGB24 // packed R,G,B
	PixBGRA  PixFmt = C.VENC_PIX_BGRA  // packed B,G,R,A
	PixRGBA  PixFmt = C.VENC_PIX_RGBA  // packed R,G,B,A
	PixARGB  PixFmt = C.VENC_PIX_ARGB  // packed A,R,G,B
	PixGray8 PixFmt = C.VENC_PIX_GRAY8 // one luma byte per pixel
)

var pixNames = map[PixFmt]string{
	PixI420: "i420", PixYV12: "yv12", PixNV12: "nv12", PixNV21: "nv21", PixBGR24: "bgr24",
	PixRGB24: "rgb24", PixBGRA: "bgra", PixRGBA: "rgba", PixARGB: "argb", PixGray8: "gray8",
}

// String gives the format's config name ("i420", ...).
func (p PixFmt) String() string {
	if s, ok := pixNames[p]; ok {
		return s
	}
	return fmt.Sprintf("PixFmt(%d)", uint32(p))
}

// Frame is one picture in Go memory, read only during the call it is
// passed to. I420/YV12 have three planes (chroma (Width+1)/2 x
// (Height+1)/2), NV12/NV21 two, packed RGB and gray one. Strides are bytes
// per row of each plane; a nil or short Strides uses the tight row size.
type Frame struct {
	Format        PixFmt
	Width, Height int
	Planes        [][]byte
	Strides       []int
	PTS           int64  // comes back on the packet
	NoPTS         bool   // ignore PTS: the encoder numbers frames 0, 1, 2, ...
	Tag           uint64 // opaque value that comes back on this frame's packets
	Keyframe      bool   // code this frame as a keyframe
}

func (p PixFmt) planeCount() int {
	switch p {
	case PixI420, PixYV12:
		return 3
	case PixNV12, PixNV21:
		return 2
	}
	return 1
}

// rowBytes is the tight row size of a plane.
func (p PixFmt) rowBytes(plane, width int) int {
	cw := (width + 1) / 2
	switch p {
	case PixI420, PixYV12:
		if plane == 0 {
			return width
		}
		return cw
	case PixNV12, PixNV21:
		if plane == 0 {
			return width
		}
		return 2 * cw
	case PixBGR24, PixRGB24:
		return 3 * width
	case PixBGRA, PixRGBA, PixARGB:
		return 4 * width
	}
	return width
}

func (p PixFmt) planeRows(plane, height int) int {
	if plane == 0 {
		return height
	}
	return (height + 1) / 2
}

const maxDimension = 16384

// NewFrame allocates a tightly packed frame of the given format and size.
func NewFrame(format PixFmt, width, height int) Frame {
	f := Frame{Format: format, Width: width, Height: height}
	for i := 0; i < format.planeCount(); i++ {
		row := format.rowBytes(i, width)
		f.Planes = append(f.Planes, make([]byte, row*format.planeRows(i, height)))
		f.Strides = append(f.Strides, row)
	}
	return f
}

func (f *Frame) stride(i int) int {
	if i < len(f.Strides) && f.Strides[i] > 0 {
		return f.Strides[i]
	}
	return f.Format.rowBytes(i, f.Width)
}

// validate checks what C cannot: that every plane holds all its rows, so
// the library never reads past a Go slice.
func (f *Frame) validate() error {
	if _, ok := pixNames[f.Format]; !ok {
		return newError(StatusInvalidArg, fmt.Sprintf("frame format %d is unknown", uint32(f.Format)))
	}
	if f.Width <= 0 || f.Height <= 0 || f.Width > maxDimension || f.Height > maxDimension {
		return newError(StatusInvalidArg, fmt.Sprintf("frame size %dx%d is outside 1..%d", f.Width, f.Height, maxDimension))
	}
	n := f.Format.planeCount()
	if len(f.Planes) < n {
		return newError(StatusInvalidArg, fmt.Sprintf("frame has %d planes but %v needs %d", len(f.Planes), f.Format, n))
	}
	for i := 0; i < n; i++ {
		row, stride, rows := f.Format.rowBytes(i, f.Width), f.stride(i), f.Format.planeRows(i, f.Height)
		if stride < row || stride > 1<<31-1 {
			return newError(StatusInvalidArg, fmt.Sprintf("plane %d stride %d is smaller than the %d bytes a row of %v at width %d needs", i, stride, row, f.Format, f.Width))
		}
		if need := int64(stride)*int64(rows-1) + int64(row); int64(len(f.Planes[i])) < need {
			return newError(StatusInvalidArg, fmt.Sprintf("plane %d holds %d bytes but %d rows of stride %d need %d", i, len(f.Planes[i]), rows, stride, need))
		}
	}
	return nil
}

// cPlanes gives pointers into the (validated) Go planes and their strides.
func (f *Frame) cPlanes() (p [3]*C.uint8_t, s [3]C.uint32_t) {
	for i := 0; i < f.Format.planeCount(); i++ {
		p[i] = (*C.uint8_t)(unsafe.Pointer(&f.Planes[i][0]))
		s[i] = C.uint32_t(f.stride(i))
	}
	return
}
