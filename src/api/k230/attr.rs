//! Channel attributes (`k_venc_chn_attr` / CanMV `ChnAttrStr`) and their
//! translation into session parameters.

use crate::engine::chip;
use crate::engine::params::{Codec, EncodeParams, GopShape, HeaderMode, Profile, RcMode};
use crate::frame::PixelFormat;

use super::error::{Code, K230Error, KResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    H264,
    H265,
    Jpeg,
}

impl Payload {
    pub fn codec(self) -> Codec {
        match self {
            Payload::H264 => Codec::H264,
            Payload::H265 => Codec::H265,
            Payload::Jpeg => Codec::Mjpeg,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Payload::H264 => "H.264",
            Payload::H265 => "H.265",
            Payload::Jpeg => "JPEG",
        }
    }
}

/// Rate control with the fields each mode uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RcAttr {
    Cbr {
        bitrate_kbps: u32,
    },
    Vbr {
        bitrate_kbps: u32,
        max_kbps: u32,
    },
    FixQp {
        i_qp: u8,
        p_qp: u8,
    },
    /// JPEG quality factor 1..=99.
    MjpegFixQp {
        q_factor: u8,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChnAttr {
    pub payload: Payload,
    pub profile: Profile,
    pub width: u32,
    pub height: u32,
    /// IDR period; 0 means the CanMV default of 30.
    pub gop: u32,
    /// Input frame rate; 0 means 30.
    pub src_frame_rate: u32,
    /// Output frame rate (frames are dropped evenly when below the input
    /// rate); 0 means the input rate.
    pub dst_frame_rate: u32,
    pub rc: RcAttr,
}

impl ChnAttr {
    /// CanMV's `ChnAttrStr(payload, profile, w, h, gop_len=30)` defaults:
    /// CBR 4000 kbps for video, quality 45 for JPEG, 30 fps.
    pub fn new(payload: Payload, profile: Profile, width: u32, height: u32) -> ChnAttr {
        ChnAttr {
            payload,
            profile,
            width,
            height,
            gop: 30,
            src_frame_rate: 30,
            dst_frame_rate: 30,
            rc: match payload {
                Payload::Jpeg => RcAttr::MjpegFixQp { q_factor: 45 },
                _ => RcAttr::Cbr { bitrate_kbps: 4000 },
            },
        }
    }

    pub fn src_fps(&self) -> u32 {
        if self.src_frame_rate == 0 {
            30
        } else {
            self.src_frame_rate
        }
    }

    pub fn dst_fps(&self) -> u32 {
        if self.dst_frame_rate == 0 {
            self.src_fps()
        } else {
            self.dst_frame_rate
        }
    }

    /// Checks the attributes the way the K230 driver does and builds the
    /// session parameters (chip profile "k230", headers as separate packs).
    pub fn to_params(&self) -> KResult<EncodeParams> {
        let illegal = |m: String| Err(K230Error::new(Code::IllegalParam, m));
        let (w, h) = (self.width, self.height);
        match self.payload {
            Payload::Jpeg => {
                if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
                    return illegal(format!("JPEG size {w}x{h} is outside 16x16..8192x8192"));
                }
            }
            p => {
                if !(128..=4096).contains(&w) || !(64..=4096).contains(&h) {
                    return illegal(format!(
                        "{} size {w}x{h} is outside 128..4096 x 64..4096",
                        p.name()
                    ));
                }
                if w % 2 != 0 || h % 2 != 0 {
                    return illegal(format!("{} size {w}x{h} must be even", p.name()));
                }
            }
        }
        if self.src_fps() > 240 || self.dst_fps() > self.src_fps() {
            return illegal(format!(
                "frame rates src {} dst {}: need dst <= src <= 240",
                self.src_fps(),
                self.dst_fps()
            ));
        }
        if self.gop > 65536 {
            return illegal(format!("gop {} is larger than 65536", self.gop));
        }
        let profile = match (self.payload, self.profile) {
            (Payload::H265, Profile::Main) | (Payload::Jpeg, _) => Profile::Main,
            (Payload::H265, p) => {
                return Err(K230Error::new(
                    Code::NotSupport,
                    format!("H.265 supports only the Main profile, not {}", p.name()),
                ))
            }
            (Payload::H264, p) => p,
        };
        let (rc, bitrate, max_bitrate, qp, quality) = match (self.payload, self.rc) {
            (Payload::Jpeg, RcAttr::MjpegFixQp { q_factor }) => {
                if !(1..=99).contains(&q_factor) {
                    return illegal(format!("JPEG q_factor {q_factor} is outside 1..99"));
                }
                (RcMode::Cqp, 0, 0, 26, q_factor)
            }
            (Payload::Jpeg, other) => {
                return Err(K230Error::new(
                    Code::NotSupport,
                    format!("JPEG channels take only MJPEG_FIXQP rate control, not {other:?}"),
                ))
            }
            (_, RcAttr::MjpegFixQp { .. }) => {
                return illegal(format!(
                    "MJPEG_FIXQP rate control is for JPEG channels, not {}",
                    self.payload.name()
                ))
            }
            (_, RcAttr::Cbr { bitrate_kbps }) => {
                let b = kbps(bitrate_kbps)?;
                (RcMode::Cbr, b, b.saturating_mul(2), 26, 85)
            }
            (
                _,
                RcAttr::Vbr {
                    bitrate_kbps,
                    max_kbps,
                },
            ) => {
                let b = kbps(bitrate_kbps)?;
                let m = if max_kbps == 0 {
                    b.saturating_mul(2)
                } else {
                    kbps(max_kbps)?
                };
                if m < b {
                    return illegal(format!(
                        "VBR max bitrate {max_kbps} kbps is below the bitrate {bitrate_kbps} kbps"
                    ));
                }
                (RcMode::Vbr, b, m, 26, 85)
            }
            (_, RcAttr::FixQp { i_qp, p_qp }) => {
                if i_qp > 51 || p_qp > 51 {
                    return illegal(format!("FIXQP qp I {i_qp} P {p_qp}: each must be 0..51"));
                }
                // The engine codes every frame with one QP: the P QP, which
                // covers almost every frame of a GOP.
                (RcMode::Cqp, 0, 0, p_qp, 85)
            }
        };
        let chip = chip::find("k230")
            .ok_or_else(|| K230Error::new(Code::NotReady, "the k230 chip profile is missing"))?;
        Ok(EncodeParams {
            codec: self.payload.codec(),
            width: w,
            height: h,
            pix_fmt: PixelFormat::Nv12,
            fps_num: self.dst_fps(),
            fps_den: 1,
            rc,
            bitrate,
            max_bitrate,
            qp,
            gop: if self.gop == 0 { 30 } else { self.gop },
            gop_shape: GopShape::IpOnly,
            profile,
            header_mode: HeaderMode::Separate,
            threads: 1,
            quality,
            chip,
            queue_depth: 4,
        })
    }
}

fn kbps(v: u32) -> KResult<u32> {
    if !(1..=1_000_000).contains(&v) {
        return Err(K230Error::new(
            Code::IllegalParam,
            format!("bitrate {v} kbps is outside 1..1000000"),
        ));
    }
    Ok(v * 1000)
}
