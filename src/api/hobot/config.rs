//! The board's fixed encoder configuration (CBR at `bits`, 30 fps, I/P,
//! GOP 60 for H.264 and 30 for H.265) and the `set` overrides.

use crate::engine::chip::{self, ChipProfile};
use crate::engine::params::{Codec, EncodeParams, GopShape, HeaderMode, Profile, RcMode};
use crate::frame::PixelFormat;

use super::error::{HResult, HobotError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeType {
    H264 = 1,
    H265 = 2,
    Mjpeg = 3,
}

impl EncodeType {
    pub fn from_id(id: i32) -> HResult<EncodeType> {
        match id {
            1 => Ok(EncodeType::H264),
            2 => Ok(EncodeType::H265),
            3 => Ok(EncodeType::Mjpeg),
            _ => Err(HobotError::failed(format!(
                "encode type {id} is not 1 (H.264), 2 (H.265) or 3 (MJPEG)"
            ))),
        }
    }
    pub fn codec(self) -> Codec {
        match self {
            EncodeType::H264 => Codec::H264,
            EncodeType::H265 => Codec::H265,
            EncodeType::Mjpeg => Codec::Mjpeg,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Board {
    X3,
    X5,
}

impl Board {
    pub fn chip(self) -> Option<&'static ChipProfile> {
        chip::find(match self {
            Board::X3 => "x3",
            Board::X5 => "x5",
        })
    }
}

/// What `set` may override before `encode`. `None` means the board default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardConfig {
    pub board: Board,
    pub gop: Option<u32>,
    pub fps: u32,
    pub rc: RcMode,
    pub qp: u8,
    pub quality: u8,
}

impl Default for BoardConfig {
    fn default() -> BoardConfig {
        BoardConfig {
            board: Board::X3,
            gop: None,
            fps: 30,
            rc: RcMode::Cbr,
            qp: 30,
            quality: 85,
        }
    }
}

/// Keys `set` takes.
pub const KEYS: &[&str] = &["board", "gop", "fps", "rc", "qp", "quality"];

fn number(key: &str, value: &str, min: u32, max: u32) -> HResult<u32> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| {
            HobotError::failed(format!(
                "set \"{key}\": \"{value}\" is not a number in {min}..{max}"
            ))
        })
}

impl BoardConfig {
    pub fn set(&mut self, key: &str, value: &str) -> HResult<()> {
        match key {
            "board" => {
                self.board = match value.to_ascii_lowercase().as_str() {
                    "x3" => Board::X3,
                    "x5" => Board::X5,
                    _ => {
                        return Err(HobotError::failed(format!(
                            "set \"board\": \"{value}\" is not x3 or x5"
                        )))
                    }
                }
            }
            "gop" => self.gop = Some(number(key, value, 1, 65536)?),
            "fps" => self.fps = number(key, value, 1, 240)?,
            "rc" => {
                self.rc = RcMode::from_name(value).ok_or_else(|| {
                    HobotError::failed(format!("set \"rc\": \"{value}\" is not cbr, vbr or fixqp"))
                })?
            }
            "qp" => self.qp = number(key, value, 0, 51)? as u8,
            "quality" => self.quality = number(key, value, 1, 100)? as u8,
            _ => {
                return Err(HobotError::failed(format!(
                    "set: unknown key \"{key}\" (keys: {})",
                    KEYS.join(", ")
                )))
            }
        }
        Ok(())
    }

    /// The board's GOP: 60 for H.264 and MJPEG, 30 for H.265.
    pub fn gop_for(&self, t: EncodeType) -> u32 {
        self.gop.unwrap_or(match t {
            EncodeType::H265 => 30,
            _ => 60,
        })
    }

    /// Session parameters for `encode(type, [width, height], bits)`.
    pub fn params(
        &self,
        t: EncodeType,
        width: i32,
        height: i32,
        bits_kbps: i32,
    ) -> HResult<EncodeParams> {
        let chip = self
            .board
            .chip()
            .ok_or_else(|| HobotError::failed("board chip profile missing"))?;
        let (w, h) = match (u32::try_from(width), u32::try_from(height)) {
            (Ok(w), Ok(h)) if w > 0 && h > 0 => (w, h),
            _ => {
                return Err(HobotError::failed(format!(
                    "size {width}x{height} is not positive"
                )))
            }
        };
        if w % 2 != 0 || h % 2 != 0 {
            return Err(HobotError::failed(format!(
                "size {w}x{h}: NV12 input needs even width and height"
            )));
        }
        // The board limits size and codec; rate control is this call's choice.
        chip.check(t.codec(), PixelFormat::Nv12, w, h, RcMode::Cbr)?;
        let bits = match bits_kbps {
            0 => 8000,
            b if (1..=700_000).contains(&b) => b as u32,
            b => {
                return Err(HobotError::failed(format!(
                    "bits {b} kbps is outside 1..700000"
                )))
            }
        };
        Ok(EncodeParams {
            codec: t.codec(),
            width: w,
            height: h,
            pix_fmt: PixelFormat::Nv12,
            fps_num: self.fps,
            fps_den: 1,
            rc: self.rc,
            bitrate: bits * 1000,
            max_bitrate: bits * 2000,
            qp: self.qp,
            gop: self.gop_for(t),
            gop_shape: GopShape::IpOnly,
            profile: Profile::Main,
            header_mode: HeaderMode::Inband,
            threads: 1,
            quality: self.quality,
            chip,
            queue_depth: super::encoder::INPUT_QUEUE,
        })
    }
}
