//! `venc_frame`: the picture descriptor every personality reads.

use crate::error::{Error, Result, Status};
use crate::frame::{FrameView, PixelFormat, Plane};

pub const VENC_PIX_I420: u32 = 1;
pub const VENC_PIX_YV12: u32 = 2;
pub const VENC_PIX_NV12: u32 = 3;
pub const VENC_PIX_NV21: u32 = 4;
pub const VENC_PIX_BGR24: u32 = 5;
pub const VENC_PIX_RGB24: u32 = 6;
pub const VENC_PIX_BGRA: u32 = 7;
pub const VENC_PIX_RGBA: u32 = 8;
pub const VENC_PIX_ARGB: u32 = 9;
pub const VENC_PIX_GRAY8: u32 = 10;

/// Ask the encoder to code this frame as a keyframe (IDR).
pub const VENC_FRAME_FORCE_KEYFRAME: u32 = 1;
/// Ignore `pts`: the encoder numbers frames 0, 1, 2, ...
pub const VENC_FRAME_NO_PTS: u32 = 2;

/// Pixel format ids as data; the C value is looked up, never transmuted.
const FORMATS: &[(u32, PixelFormat)] = &[
    (VENC_PIX_I420, PixelFormat::I420),
    (VENC_PIX_YV12, PixelFormat::Yv12),
    (VENC_PIX_NV12, PixelFormat::Nv12),
    (VENC_PIX_NV21, PixelFormat::Nv21),
    (VENC_PIX_BGR24, PixelFormat::Bgr24),
    (VENC_PIX_RGB24, PixelFormat::Rgb24),
    (VENC_PIX_BGRA, PixelFormat::Bgra),
    (VENC_PIX_RGBA, PixelFormat::Rgba),
    (VENC_PIX_ARGB, PixelFormat::Argb),
    (VENC_PIX_GRAY8, PixelFormat::Gray8),
];

pub fn format_from_id(id: u32) -> Option<PixelFormat> {
    FORMATS.iter().find(|(i, _)| *i == id).map(|(_, f)| *f)
}

pub fn format_id(format: PixelFormat) -> u32 {
    FORMATS
        .iter()
        .find(|(_, f)| *f == format)
        .map_or(0, |(i, _)| *i)
}

/// One picture in memory owned by the caller, read only during the call.
///
/// Plane layout per format: I420/YV12 three planes (Y, then U and V, or V
/// and U for YV12; chroma (width+1)/2 x (height+1)/2), NV12/NV21 two (Y,
/// interleaved chroma), packed RGB and GRAY8 one. A plane must hold
/// `stride * (rows - 1) + row_bytes` bytes.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct venc_frame {
    /// sizeof(venc_frame).
    pub struct_size: u32,
    /// VENC_PIX_*.
    pub format: u32,
    pub width: u32,
    pub height: u32,
    pub planes: [*const u8; 3],
    /// Bytes per row of each plane.
    pub strides: [u32; 3],
    /// VENC_FRAME_* bits.
    pub flags: u32,
    /// Presentation time in the caller's units; comes back on the packet.
    pub pts: i64,
    /// Opaque value that comes back on this frame's packet(s).
    pub user_tag: u64,
}

/// Builds a checked view of a caller's frame.
///
/// # Safety
/// `frame` must be NULL or point to a readable `venc_frame` whose planes
/// hold at least the bytes described above, for the duration of the call.
pub unsafe fn view<'a>(frame: *const venc_frame) -> Result<FrameView<'a>> {
    // SAFETY: the caller guarantees a readable venc_frame or NULL.
    let f =
        unsafe { frame.as_ref() }.ok_or_else(|| Error::new(Status::NullArg, "frame is NULL"))?;
    if f.struct_size as usize != std::mem::size_of::<venc_frame>() {
        return Err(Error::new(
            Status::StructSize,
            format!(
                "venc_frame.struct_size is {} but this library's venc_frame is {} bytes",
                f.struct_size,
                std::mem::size_of::<venc_frame>()
            ),
        ));
    }
    let format = format_from_id(f.format).ok_or_else(|| {
        Error::invalid_arg(format!(
            "venc_frame.format {} is not a VENC_PIX_* value",
            f.format
        ))
    })?;
    if f.width == 0 || f.height == 0 || f.width > 16384 || f.height > 16384 {
        return Err(Error::invalid_arg(format!(
            "frame size {}x{} is outside 1x1..16384x16384",
            f.width, f.height
        )));
    }
    let mut planes = [
        Plane {
            data: &[],
            stride: 0,
        },
        Plane {
            data: &[],
            stride: 0,
        },
        Plane {
            data: &[],
            stride: 0,
        },
    ];
    for (i, plane) in planes.iter_mut().enumerate().take(format.plane_count()) {
        let stride = f.strides[i] as usize;
        let row = format
            .min_stride(i, f.width)
            .ok_or_else(|| Error::invalid_arg(format!("plane {i}: row size overflows")))?;
        if f.planes[i].is_null() {
            return Err(Error::new(
                Status::NullArg,
                format!(
                    "plane {i} is NULL ({} has {} planes)",
                    format.name(),
                    format.plane_count()
                ),
            ));
        }
        if stride < row {
            return Err(Error::invalid_arg(format!(
                "plane {i} stride {stride} is smaller than the {row} bytes a row of {} at width {} needs",
                format.name(),
                f.width
            )));
        }
        let rows = format.plane_rows(i, f.height);
        let len = stride
            .checked_mul(rows - 1)
            .and_then(|n| n.checked_add(row))
            .filter(|&n| n <= isize::MAX as usize)
            .ok_or_else(|| Error::invalid_arg(format!("plane {i} size overflows")))?;
        // SAFETY: the caller promises `len` readable bytes at planes[i] (see the
        // venc_frame contract); the slice lives only as long as the call.
        plane.data = unsafe { std::slice::from_raw_parts(f.planes[i], len) };
        plane.stride = stride;
    }
    Ok(FrameView {
        format,
        width: f.width,
        height: f.height,
        planes,
    })
}
