//! The encoders proper. Pure: pictures in, coded bytes out. No threads of
//! our own, no I/O.

pub mod bmp;
pub mod h264;
pub mod h265;
pub mod hevc;
pub mod image;
pub mod mjpeg;
pub mod nal;
pub mod png;

use crate::engine::packet::FrameType;
use crate::engine::params::{Codec, EncodeParams};
use crate::error::Result;
use crate::frame::Yuv420;

/// One coded picture.
#[derive(Debug, Default)]
pub struct Coded {
    /// Annex-B slice NAL units (or a JPEG image) without parameter sets.
    pub data: Vec<u8>,
    /// VPS/SPS/PPS in Annex-B for keyframes of H.264/H.265; empty otherwise.
    pub parameter_sets: Vec<u8>,
    pub keyframe: bool,
    pub frame_type: Option<FrameType>,
}

/// A video encoder engine.
pub trait VideoEncoder: Send {
    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> Result<Coded>;
    /// New target in bits per second (CBR/VBR).
    fn set_bitrate(&mut self, bps: u32) -> Result<()>;
    /// New constant QP (CQP), or JPEG quality for MJPEG.
    fn set_qp(&mut self, qp: u8) -> Result<()>;
}

pub fn open(params: &EncodeParams) -> Result<Box<dyn VideoEncoder>> {
    match params.codec {
        Codec::H264 => Ok(Box::new(h264::H264Encoder::new(params)?)),
        Codec::Mjpeg => Ok(Box::new(mjpeg::MjpegEncoder::new(params)?)),
        Codec::H265 => open_h265(params),
    }
}

fn open_h265(params: &EncodeParams) -> Result<Box<dyn VideoEncoder>> {
    Ok(Box::new(hevc::HevcEncoder::new(params)?))
}
