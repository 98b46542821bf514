//! Everything an encoding session needs to know, already validated.

use crate::engine::chip::ChipProfile;
use crate::frame::PixelFormat;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    H264,
    H265,
    Mjpeg,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
            Codec::Mjpeg => "mjpeg",
        }
    }
    pub fn from_name(s: &str) -> Option<Codec> {
        match s.to_ascii_lowercase().as_str() {
            "h264" | "avc" => Some(Codec::H264),
            "h265" | "hevc" => Some(Codec::H265),
            "mjpeg" | "jpeg" | "mjpg" => Some(Codec::Mjpeg),
            _ => None,
        }
    }
    /// Bit used in capability masks (`VENC_CODEC_*`).
    pub fn bit(self) -> u32 {
        match self {
            Codec::H264 => 1,
            Codec::H265 => 2,
            Codec::Mjpeg => 4,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RcMode {
    Cbr,
    Vbr,
    Cqp,
}

impl RcMode {
    pub fn name(self) -> &'static str {
        match self {
            RcMode::Cbr => "cbr",
            RcMode::Vbr => "vbr",
            RcMode::Cqp => "cqp",
        }
    }
    pub fn from_name(s: &str) -> Option<RcMode> {
        match s.to_ascii_lowercase().as_str() {
            "cbr" => Some(RcMode::Cbr),
            "vbr" => Some(RcMode::Vbr),
            "cqp" | "fixqp" | "cq" => Some(RcMode::Cqp),
            _ => None,
        }
    }
    pub fn bit(self) -> u32 {
        match self {
            RcMode::Cbr => 1,
            RcMode::Vbr => 2,
            RcMode::Cqp => 4,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Baseline,
    Main,
    High,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Baseline => "baseline",
            Profile::Main => "main",
            Profile::High => "high",
        }
    }
    pub fn from_name(s: &str) -> Option<Profile> {
        match s.to_ascii_lowercase().as_str() {
            "baseline" | "constrained_baseline" => Some(Profile::Baseline),
            "main" => Some(Profile::Main),
            "high" => Some(Profile::High),
            _ => None,
        }
    }
}

/// Where parameter sets (VPS/SPS/PPS) go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderMode {
    /// Prepended to every IDR packet.
    Inband,
    /// A packet of their own, flagged HEADER, before every IDR packet.
    Separate,
}

impl HeaderMode {
    pub fn name(self) -> &'static str {
        match self {
            HeaderMode::Inband => "inband",
            HeaderMode::Separate => "separate",
        }
    }
    pub fn from_name(s: &str) -> Option<HeaderMode> {
        match s.to_ascii_lowercase().as_str() {
            "inband" | "joined" => Some(HeaderMode::Inband),
            "separate" => Some(HeaderMode::Separate),
            _ => None,
        }
    }
}

/// Which pictures are coded as B and in which order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum GopShape {
    /// I and P only.
    #[default]
    IpOnly,
    /// Every non-key picture is a B picture predicted from past pictures only
    /// (generalized P/B, "low-delay B"): no reordering, pts == dts.
    LowDelayB,
    /// `b_frames` (1..=7) B pictures between anchors (I/P); anchors are coded
    /// first, so the coding order differs from display order.
    Reordered { b_frames: u8 },
}

impl GopShape {
    /// Most B pictures between two anchors.
    pub const MAX_B_FRAMES: u8 = 7;

    /// The config spelling: `0`..`7` B pictures between anchors, or `lowdelay`.
    pub fn name(self) -> String {
        match self {
            GopShape::IpOnly => "0".into(),
            GopShape::LowDelayB => "lowdelay".into(),
            GopShape::Reordered { b_frames } => b_frames.to_string(),
        }
    }

    pub fn from_name(s: &str) -> Option<GopShape> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("lowdelay") {
            return Some(GopShape::LowDelayB);
        }
        match s.parse::<u8>().ok()? {
            0 => Some(GopShape::IpOnly),
            n if n <= Self::MAX_B_FRAMES => Some(GopShape::Reordered { b_frames: n }),
            _ => None,
        }
    }

    pub fn has_b(self) -> bool {
        self != GopShape::IpOnly
    }
}

#[derive(Clone, Debug)]
pub struct EncodeParams {
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    pub pix_fmt: PixelFormat,
    pub fps_num: u32,
    pub fps_den: u32,
    pub rc: RcMode,
    /// Bits per second (CBR target, VBR average).
    pub bitrate: u32,
    /// VBR ceiling in bits per second; 0 means twice the bitrate.
    pub max_bitrate: u32,
    pub qp: u8,
    /// IDR period in frames; 0 means only the first frame.
    pub gop: u32,
    pub gop_shape: GopShape,
    pub profile: Profile,
    pub header_mode: HeaderMode,
    /// 0 = as many as the machine has.
    pub threads: u32,
    /// JPEG quality 1..=100 for MJPEG.
    pub quality: u8,
    pub chip: &'static ChipProfile,
    /// Frames the input queue holds before send reports AGAIN.
    pub queue_depth: u32,
}

impl EncodeParams {
    pub fn effective_threads(&self) -> u32 {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1)
                .min(8)
        }
    }
}
