//! Adapter from libvenc's own H.265 encoder (`codec::h265`) to the engine
//! interface.

use super::h265;
use super::{Coded, VideoEncoder};
use crate::engine::packet::FrameType;
use crate::engine::params::{EncodeParams, RcMode};
use crate::error::{Error, Result};
use crate::frame::Yuv420;

pub struct HevcEncoder {
    inner: h265::Encoder,
    rc: RcMode,
    bitrate: u32,
    max_bitrate: u32,
}

fn rate_control(rc: RcMode, bitrate: u32, max_bitrate: u32, qp: u8) -> h265::RateControl {
    match rc {
        RcMode::Cqp => h265::RateControl::ConstQp { qp },
        RcMode::Cbr => h265::RateControl::Cbr { bitrate },
        RcMode::Vbr => h265::RateControl::Vbr {
            bitrate,
            max_bitrate: max_bitrate.max(bitrate),
        },
    }
}

impl HevcEncoder {
    pub fn new(p: &EncodeParams) -> Result<HevcEncoder> {
        let config = h265::Config {
            width: p.width,
            height: p.height,
            fps_num: p.fps_num,
            fps_den: p.fps_den,
            rc: rate_control(p.rc, p.bitrate, p.max_bitrate, p.qp),
            gop: p.gop,
            threads: p.effective_threads(),
            gop_shape: p.gop_shape,
        };
        let inner =
            h265::Encoder::new(config).map_err(|e| Error::bad_value(format!("h265: {e}")))?;
        Ok(HevcEncoder {
            inner,
            rc: p.rc,
            bitrate: p.bitrate,
            max_bitrate: p.max_bitrate,
        })
    }
}

impl HevcEncoder {
    fn convert(&self, coded: h265::Coded) -> Coded {
        let frame_type = match (coded.idr, coded.slice_type) {
            (true, _) => FrameType::Idr,
            (false, h265::SliceType::I) => FrameType::I,
            (false, h265::SliceType::P) => FrameType::P,
            (false, h265::SliceType::B) => FrameType::B,
        };
        Coded {
            parameter_sets: if coded.idr {
                self.inner.parameter_sets()
            } else {
                Vec::new()
            },
            keyframe: coded.idr,
            frame_type: Some(frame_type),
            display_index: coded.display_index,
            data: coded.data,
        }
    }
}

impl VideoEncoder for HevcEncoder {
    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> Result<Vec<Coded>> {
        let picture = h265::Picture {
            y: &pic.y,
            u: &pic.u,
            v: &pic.v,
            y_stride: pic.width as usize,
            c_stride: pic.c_width(),
        };
        let coded = self
            .inner
            .encode(&picture, force_key)
            .map_err(|e| Error::backend(format!("h265: {e}")))?;
        Ok(coded.into_iter().map(|c| self.convert(c)).collect())
    }

    fn flush(&mut self) -> Result<Vec<Coded>> {
        let coded = self
            .inner
            .flush()
            .map_err(|e| Error::backend(format!("h265: {e}")))?;
        Ok(coded.into_iter().map(|c| self.convert(c)).collect())
    }

    fn reorder_delay(&self) -> u32 {
        self.inner.reorder_delay()
    }

    fn set_bitrate(&mut self, bps: u32) -> Result<()> {
        self.bitrate = bps;
        if self.rc == RcMode::Vbr {
            self.max_bitrate = self.max_bitrate.max(bps);
        }
        let rc = rate_control(self.rc, self.bitrate, self.max_bitrate, 0);
        self.inner
            .set_rate_control(rc)
            .map_err(|e| Error::bad_value(format!("h265: {e}")))
    }

    fn set_qp(&mut self, qp: u8) -> Result<()> {
        self.inner
            .set_rate_control(h265::RateControl::ConstQp { qp })
            .map_err(|e| Error::bad_value(format!("h265: {e}")))
    }
}
