//! Coded (CAPTURE) and raw (OUTPUT) formats, their geometry, and the
//! mapping of a raw OUTPUT buffer onto a `FrameView`.

use super::uapi::{
    v4l2_rect, PIX_FMT_H264, PIX_FMT_HEVC, PIX_FMT_JPEG, PIX_FMT_MJPEG, PIX_FMT_NV12, PIX_FMT_NV21,
    PIX_FMT_YUV420,
};
use crate::engine::params::Codec;
use crate::frame::{FrameView, PixelFormat, Plane};

pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 4096;
/// Macroblock alignment of the OUTPUT buffers.
pub const ALIGN: u32 = 16;
pub const DEFAULT_WIDTH: u32 = 640;
pub const DEFAULT_HEIGHT: u32 = 480;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodedFormat {
    pub fourcc: u32,
    pub codec: Codec,
    pub description: &'static str,
}

/// Every coded format, in ENUM_FMT(CAPTURE) order.
pub const CODED: [CodedFormat; 4] = [
    CodedFormat {
        fourcc: PIX_FMT_H264,
        codec: Codec::H264,
        description: "H.264",
    },
    CodedFormat {
        fourcc: PIX_FMT_HEVC,
        codec: Codec::H265,
        description: "HEVC",
    },
    CodedFormat {
        fourcc: PIX_FMT_MJPEG,
        codec: Codec::Mjpeg,
        description: "Motion-JPEG",
    },
    CodedFormat {
        fourcc: PIX_FMT_JPEG,
        codec: Codec::Mjpeg,
        description: "JFIF JPEG",
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawFormat {
    pub fourcc: u32,
    pub pix: PixelFormat,
    pub description: &'static str,
}

/// Raw formats; every coded format takes all of them.
pub const RAW: [RawFormat; 3] = [
    RawFormat {
        fourcc: PIX_FMT_NV12,
        pix: PixelFormat::Nv12,
        description: "Y/UV 4:2:0",
    },
    RawFormat {
        fourcc: PIX_FMT_YUV420,
        pix: PixelFormat::I420,
        description: "Planar YUV 4:2:0",
    },
    RawFormat {
        fourcc: PIX_FMT_NV21,
        pix: PixelFormat::Nv21,
        description: "Y/VU 4:2:0",
    },
];

pub fn coded(fourcc: u32) -> Option<CodedFormat> {
    CODED.iter().copied().find(|f| f.fourcc == fourcc)
}

pub fn raw(fourcc: u32) -> Option<RawFormat> {
    RAW.iter().copied().find(|f| f.fourcc == fourcc)
}

fn align_up(v: u32, a: u32) -> u32 {
    v.div_ceil(a) * a
}

/// The OUTPUT buffer layout: one memory plane, luma then chroma.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawGeometry {
    pub format: RawFormat,
    /// Aligned (coded) size.
    pub width: u32,
    pub height: u32,
    pub bytesperline: u32,
    pub sizeimage: u32,
}

impl RawGeometry {
    /// Adjusts a request the way S_FMT/TRY_FMT do: unknown formats become
    /// NV12, sizes are clamped and aligned to 16, a too-small bytesperline
    /// grows to the width.
    pub fn adjust(fourcc: u32, width: u32, height: u32, bytesperline: u32) -> RawGeometry {
        let format = raw(fourcc).unwrap_or(RAW[0]);
        let width = align_up(width.clamp(MIN_SIZE, MAX_SIZE), ALIGN);
        let height = align_up(height.clamp(MIN_SIZE, MAX_SIZE), ALIGN);
        let bytesperline = align_up(bytesperline.clamp(width, 4 * MAX_SIZE), ALIGN);
        RawGeometry {
            format,
            width,
            height,
            bytesperline,
            sizeimage: bytesperline * height * 3 / 2,
        }
    }

    /// The default crop for a requested size: the requested (unaligned)
    /// picture, rounded down to even.
    pub fn default_crop(&self, req_width: u32, req_height: u32) -> v4l2_rect {
        v4l2_rect {
            left: 0,
            top: 0,
            width: req_width.clamp(MIN_SIZE, self.width) & !1,
            height: req_height.clamp(MIN_SIZE, self.height) & !1,
        }
    }

    pub fn bounds(&self) -> v4l2_rect {
        v4l2_rect {
            left: 0,
            top: 0,
            width: self.width,
            height: self.height,
        }
    }

    /// Fits a requested crop inside the frame: even offsets and sizes, at
    /// least MIN_SIZE square.
    pub fn adjust_crop(&self, r: v4l2_rect) -> v4l2_rect {
        let width = (r.width.clamp(MIN_SIZE, self.width)) & !1;
        let height = (r.height.clamp(MIN_SIZE, self.height)) & !1;
        let left = (r.left.max(0) as u32).min(self.width - width) & !1;
        let top = (r.top.max(0) as u32).min(self.height - height) & !1;
        v4l2_rect {
            left: left as i32,
            top: top as i32,
            width,
            height,
        }
    }

    /// Views the cropped picture of a raw buffer. `data` must hold
    /// `sizeimage` bytes.
    pub fn view<'a>(&self, data: &'a [u8], crop: v4l2_rect) -> Option<FrameView<'a>> {
        if data.len() < self.sizeimage as usize {
            return None;
        }
        let bpl = self.bytesperline as usize;
        let h = self.height as usize;
        let (left, top) = (crop.left as usize, crop.top as usize);
        let luma = &data[top * bpl + left..bpl * h];
        let chroma = &data[bpl * h..];
        let planes = match self.format.pix {
            PixelFormat::I420 => {
                let cs = bpl / 2;
                let u = &chroma[..cs * h / 2];
                let v = &chroma[cs * h / 2..];
                let off = top / 2 * cs + left / 2;
                [
                    Plane::new(luma, bpl),
                    Plane::new(&u[off..], cs),
                    Plane::new(&v[off..], cs),
                ]
            }
            _ => [
                Plane::new(luma, bpl),
                Plane::new(&chroma[top / 2 * bpl + left..], bpl),
                Plane::empty(),
            ],
        };
        Some(FrameView {
            format: self.format.pix,
            width: crop.width,
            height: crop.height,
            planes,
        })
    }
}

/// CAPTURE buffer size: the client's wish if it is at least 4 KiB, else
/// enough for an uncompressed 4:2:0 picture of the coded size.
pub fn coded_sizeimage(width: u32, height: u32, requested: u32) -> u32 {
    if requested >= 4096 {
        requested.min(64 << 20)
    } else {
        align_up(width * height * 3 / 2 + 65536, 4096)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{to_yuv420, Yuv420};

    #[test]
    fn full_hd_is_aligned_and_cropped() {
        let g = RawGeometry::adjust(PIX_FMT_NV12, 1920, 1080, 0);
        assert_eq!((g.width, g.height, g.bytesperline), (1920, 1088, 1920));
        assert_eq!(g.sizeimage, 1920 * 1088 * 3 / 2);
        let c = g.default_crop(1920, 1080);
        assert_eq!((c.width, c.height), (1920, 1080));
    }

    #[test]
    fn unknown_raw_format_becomes_nv12() {
        let g = RawGeometry::adjust(0x1234_5678, 10, 10_000, 0);
        assert_eq!(g.format.fourcc, PIX_FMT_NV12);
        assert_eq!((g.width, g.height), (64, 4096));
    }

    #[test]
    fn views_convert_for_every_raw_format() {
        for f in RAW {
            let g = RawGeometry::adjust(f.fourcc, 64, 64, 80);
            let mut data = vec![0u8; g.sizeimage as usize];
            let (luma, chroma) = data.split_at_mut(80 * 64);
            luma.fill(100);
            chroma.fill(128);
            let crop = g.adjust_crop(v4l2_rect {
                left: 0,
                top: 0,
                width: 64,
                height: 64,
            });
            let view = g.view(&data, crop).expect("view");
            view.validate().expect("valid view");
            let mut out = Yuv420::new(64, 64);
            to_yuv420(&view, &mut out).expect("convert");
            assert!(out.y.iter().all(|&v| v == 100));
            assert!(out.u.iter().all(|&v| v == 128));
        }
    }
}
