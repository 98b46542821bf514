//! Baseline JPEG through the pure-Rust `jpeg-encoder` crate: one picture per
//! frame for MJPEG, and the `.jpg` path of image encoding.

use jpeg_encoder::{ColorType, Encoder, ImageBuffer, JpegColorType, SamplingFactor};

use super::{Coded, VideoEncoder};
use crate::engine::packet::FrameType;
use crate::engine::params::EncodeParams;
use crate::error::{Error, Result};
use crate::frame::Yuv420;

/// JPEG's 16-bit size fields.
pub const MAX_SIDE: u32 = 65_535;

/// Feeds I420 samples to the encoder (4:2:0, no RGB round trip). Video
/// I420 is limited range (Y 16..235) while JFIF is full range, so samples
/// are expanded through two tables; decoders then show the right levels.
struct Yuv420Image<'a> {
    pic: &'a Yuv420,
    luma: [u8; 256],
    chroma: [u8; 256],
}

impl<'a> Yuv420Image<'a> {
    fn new(pic: &'a Yuv420) -> Self {
        let expand = |v: usize, offset: i32, range: i32| {
            let x = ((v as i32 - offset) * 255 + range / 2).div_euclid(range)
                + if offset == 128 { 128 } else { 0 };
            x.clamp(0, 255) as u8
        };
        Yuv420Image {
            pic,
            luma: std::array::from_fn(|v| expand(v, 16, 219)),
            chroma: std::array::from_fn(|v| expand(v, 128, 224)),
        }
    }
}

impl ImageBuffer for Yuv420Image<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }
    fn width(&self) -> u16 {
        self.pic.width as u16
    }
    fn height(&self) -> u16 {
        self.pic.height as u16
    }
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let pic = self.pic;
        let w = pic.width as usize;
        let cw = pic.c_width();
        let row = y as usize;
        let luma = &pic.y[row * w..row * w + w];
        let crow = (row / 2) * cw;
        let (u, v) = (&pic.u[crow..crow + cw], &pic.v[crow..crow + cw]);
        buffers[0].extend(luma.iter().map(|&l| self.luma[l as usize]));
        for x in 0..w {
            buffers[1].push(self.chroma[u[x / 2] as usize]);
            buffers[2].push(self.chroma[v[x / 2] as usize]);
        }
    }
}

fn check_quality(quality: u8) -> Result<u8> {
    if (1..=100).contains(&quality) {
        Ok(quality)
    } else {
        Err(Error::bad_value(format!(
            "JPEG quality {quality} is outside 1..100"
        )))
    }
}

fn check_size(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::bad_value(format!(
            "size {width}x{height}: JPEG takes 1..{MAX_SIDE} on each side"
        )));
    }
    Ok(())
}

/// Encodes one I420 picture as a baseline 4:2:0 JPEG.
pub fn encode_yuv420(pic: &Yuv420, quality: u8) -> Result<Vec<u8>> {
    check_size(pic.width, pic.height)?;
    pic.check().map_err(|e| Error::invalid_arg(e.0))?;
    let mut out = Vec::with_capacity(pic.y.len() / 4);
    let mut enc = Encoder::new(&mut out, check_quality(quality)?);
    enc.set_sampling_factor(SamplingFactor::F_2_2);
    enc.encode_image(Yuv420Image::new(pic))
        .map_err(|e| Error::backend(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

/// Encodes tightly packed RGB24 or GRAY8 (the encoder does the colour conversion).
pub fn encode_packed(
    data: &[u8],
    width: u32,
    height: u32,
    gray: bool,
    quality: u8,
) -> Result<Vec<u8>> {
    check_size(width, height)?;
    let mut out = Vec::with_capacity(data.len() / 8);
    let mut enc = Encoder::new(&mut out, check_quality(quality)?);
    enc.set_sampling_factor(SamplingFactor::F_2_2);
    let color = if gray {
        ColorType::Luma
    } else {
        ColorType::Rgb
    };
    enc.encode(data, width as u16, height as u16, color)
        .map_err(|e| Error::backend(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

pub struct MjpegEncoder {
    quality: u8,
    /// Pictures coded so far.
    frames: u64,
}

impl MjpegEncoder {
    pub fn new(p: &EncodeParams) -> Result<MjpegEncoder> {
        check_size(p.width, p.height)?;
        Ok(MjpegEncoder {
            quality: check_quality(p.quality)?,
            frames: 0,
        })
    }
}

impl VideoEncoder for MjpegEncoder {
    fn encode(&mut self, pic: &Yuv420, _force_key: bool) -> Result<Vec<Coded>> {
        let coded = Coded {
            data: encode_yuv420(pic, self.quality)?,
            parameter_sets: Vec::new(),
            keyframe: true,
            frame_type: Some(FrameType::I),
            display_index: self.frames,
        };
        self.frames += 1;
        Ok(vec![coded])
    }
    fn set_bitrate(&mut self, _bps: u32) -> Result<()> {
        Err(Error::unsupported(
            "mjpeg has no bitrate control; set its quality with set_qp",
        ))
    }
    fn set_qp(&mut self, qp: u8) -> Result<()> {
        self.quality = check_quality(qp)?;
        Ok(())
    }
}
