//! Chip profiles: what each board's encoder accepts, as data. A config with
//! `chip=<name>` is held to these limits, so a laptop run fails the way the
//! board would.

use crate::engine::params::{Codec, RcMode};
use crate::error::{Error, Result};
use crate::frame::PixelFormat;

#[derive(Debug)]
pub struct ChipProfile {
    pub name: &'static str,
    pub description: &'static str,
    pub codecs: &'static [Codec],
    pub formats: &'static [PixelFormat],
    pub min_width: u32,
    pub min_height: u32,
    pub max_width: u32,
    pub max_height: u32,
    /// Width/height alignment for H.264 and MJPEG.
    pub align: u32,
    /// Width/height alignment for H.265.
    pub hevc_align: u32,
    pub jpeg_max_width: u32,
    pub jpeg_max_height: u32,
    /// Encoder channels one process may open; 0 = no fixed limit.
    pub channels: u32,
    pub rc_modes: &'static [RcMode],
    pub default_gop: u32,
}

use Codec::{Mjpeg, H264, H265};
use PixelFormat as P;
use RcMode::{Cbr, Cqp, Vbr};

const ALL_CODECS: &[Codec] = &[H264, H265, Mjpeg];
const ALL_RC: &[RcMode] = &[Cbr, Vbr, Cqp];

pub static CHIPS: &[ChipProfile] = &[
    ChipProfile {
        name: "generic",
        description: "host encoder without board limits (the default)",
        codecs: ALL_CODECS,
        formats: &[
            P::I420,
            P::Yv12,
            P::Nv12,
            P::Nv21,
            P::Bgr24,
            P::Rgb24,
            P::Bgra,
            P::Rgba,
            P::Argb,
            P::Gray8,
        ],
        min_width: 16,
        min_height: 16,
        max_width: 8192,
        max_height: 8192,
        align: 2,
        hevc_align: 2,
        jpeg_max_width: 16384,
        jpeg_max_height: 16384,
        channels: 0,
        rc_modes: ALL_RC,
        default_gop: 60,
    },
    ChipProfile {
        name: "bm1684x",
        description: "Sophgo BM1684X (SAIL default)",
        codecs: ALL_CODECS,
        formats: &[P::I420, P::Nv12, P::Bgr24, P::Rgb24, P::Gray8],
        min_width: 256,
        min_height: 128,
        max_width: 8192,
        max_height: 4096,
        align: 2,
        hevc_align: 8,
        jpeg_max_width: 8192,
        jpeg_max_height: 8192,
        channels: 32,
        rc_modes: ALL_RC,
        default_gop: 32,
    },
    ChipProfile {
        name: "bm1684",
        description: "Sophgo BM1684 (converts only to I420, from BGR/RGB/YUV420P/GRAY)",
        codecs: ALL_CODECS,
        formats: &[P::I420, P::Bgr24, P::Rgb24, P::Gray8],
        min_width: 256,
        min_height: 128,
        max_width: 8192,
        max_height: 4096,
        align: 2,
        hevc_align: 8,
        jpeg_max_width: 8192,
        jpeg_max_height: 8192,
        channels: 32,
        rc_modes: ALL_RC,
        default_gop: 32,
    },
    ChipProfile {
        name: "k230",
        description: "Kendryte K230 VENC",
        codecs: ALL_CODECS,
        formats: &[P::Nv12, P::Bgra, P::Argb],
        min_width: 128,
        min_height: 64,
        max_width: 4096,
        max_height: 4096,
        align: 2,
        hevc_align: 2,
        jpeg_max_width: 8192,
        jpeg_max_height: 8192,
        channels: 4,
        rc_modes: ALL_RC,
        default_gop: 30,
    },
    ChipProfile {
        name: "x3",
        description: "Horizon RDK X3",
        codecs: ALL_CODECS,
        formats: &[P::Nv12],
        min_width: 32,
        min_height: 32,
        max_width: 4096,
        max_height: 4096,
        align: 2,
        hevc_align: 2,
        jpeg_max_width: 4096,
        jpeg_max_height: 4096,
        channels: 32,
        rc_modes: &[Cbr],
        default_gop: 60,
    },
    ChipProfile {
        name: "x5",
        description: "Horizon / D-Robotics RDK X5",
        codecs: ALL_CODECS,
        formats: &[P::Nv12],
        min_width: 32,
        min_height: 32,
        max_width: 4096,
        max_height: 4096,
        align: 2,
        hevc_align: 2,
        jpeg_max_width: 4096,
        jpeg_max_height: 4096,
        channels: 8,
        rc_modes: &[Cbr],
        default_gop: 60,
    },
    ChipProfile {
        name: "v4l2",
        description: "emulated V4L2 stateful m2m encoder",
        codecs: ALL_CODECS,
        formats: &[P::Nv12, P::I420, P::Nv21],
        min_width: 64,
        min_height: 64,
        max_width: 4096,
        max_height: 4096,
        align: 2,
        hevc_align: 2,
        jpeg_max_width: 8192,
        jpeg_max_height: 8192,
        channels: 0,
        rc_modes: ALL_RC,
        default_gop: 60,
    },
];

pub fn find(name: &str) -> Option<&'static ChipProfile> {
    CHIPS.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

pub fn generic() -> &'static ChipProfile {
    &CHIPS[0]
}

impl ChipProfile {
    pub fn align_for(&self, codec: Codec) -> u32 {
        match codec {
            Codec::H265 => self.hevc_align,
            _ => self.align,
        }
    }

    /// Checks a codec/format/size/rate-control combination against this chip.
    pub fn check(
        &self,
        codec: Codec,
        format: PixelFormat,
        width: u32,
        height: u32,
        rc: RcMode,
    ) -> Result<()> {
        let chip = self.name;
        if !self.codecs.contains(&codec) {
            return Err(Error::unsupported(format!(
                "chip {chip} has no {} encoder",
                codec.name()
            )));
        }
        if !self.formats.contains(&format) {
            let names: Vec<&str> = self.formats.iter().map(|f| f.name()).collect();
            return Err(Error::unsupported(format!(
                "chip {chip} does not take pix_fmt {} (it takes {})",
                format.name(),
                names.join(", ")
            )));
        }
        let (max_w, max_h) = match codec {
            Codec::Mjpeg => (self.jpeg_max_width, self.jpeg_max_height),
            _ => (self.max_width, self.max_height),
        };
        if width < self.min_width || height < self.min_height || width > max_w || height > max_h {
            return Err(Error::bad_value(format!(
                "size {width}x{height} is outside what chip {chip} encodes with {} ({}x{} .. {max_w}x{max_h})",
                codec.name(),
                self.min_width,
                self.min_height
            )));
        }
        let align = self.align_for(codec);
        if codec != Codec::Mjpeg && (!width.is_multiple_of(align) || !height.is_multiple_of(align))
        {
            return Err(Error::bad_value(format!(
                "size {width}x{height}: chip {chip} needs width and height that are multiples of {align} for {}",
                codec.name()
            )));
        }
        if codec != Codec::Mjpeg && !self.rc_modes.contains(&rc) {
            return Err(Error::unsupported(format!(
                "chip {chip} has no {} rate control",
                rc.name()
            )));
        }
        Ok(())
    }
}
