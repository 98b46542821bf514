//! The encoders proper. Pure: pictures in, coded bytes out. No threads of
//! our own, no I/O.

pub mod bitwriter;
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
    /// Which input picture this is: 0 for the first picture given to
    /// `encode`, counting in input (display) order.
    pub display_index: u64,
}

/// A video encoder engine.
pub trait VideoEncoder: Send {
    /// Takes the next picture in display order and returns the pictures now
    /// coded, in coding order: none while B pictures wait for their anchor,
    /// several when an anchor releases them. `force_key` makes this picture
    /// an IDR; pictures held before it are coded first, without referencing it.
    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> Result<Vec<Coded>>;
    /// End of stream: codes every picture still held back.
    fn flush(&mut self) -> Result<Vec<Coded>> {
        Ok(Vec::new())
    }
    /// The most pictures by which coding order runs ahead of display order
    /// (0 without reordering). The k-th coded picture gets the dts of display
    /// picture k - reorder_delay.
    fn reorder_delay(&self) -> u32 {
        0
    }
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
