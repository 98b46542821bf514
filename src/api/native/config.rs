//! The native config: string keys and values, validated as they are set,
//! checked as a whole when an encoder is made from them.

use crate::engine::chip::{self, ChipProfile};
use crate::engine::params::{Codec, EncodeParams, GopShape, HeaderMode, Profile, RcMode};
use crate::error::{Error, Result, Status};
use crate::frame::PixelFormat;

/// Every key, in the order `venc_config_get(cfg, "keys")` lists them.
pub const KEYS: &[&str] = &[
    "codec",
    "width",
    "height",
    "pix_fmt",
    "fps",
    "rc",
    "bitrate",
    "max_bitrate",
    "qp",
    "gop",
    "bframes",
    "profile",
    "header_mode",
    "threads",
    "quality",
    "chip",
    "queue_depth",
    "debug_hook",
];

/// Test hooks (config key `debug_hook`), to prove the panic boundary and
/// the free-while-blocked contract from C.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugHook {
    None,
    /// Panic in send_frame, on the caller's thread: the call returns PANIC
    /// and the handle is poisoned.
    PanicSend,
    /// Panic inside the engine on the worker thread: reported as BACKEND.
    PanicEncode,
    /// The engine takes 300 ms per frame, so a receive stays blocked.
    SlowEncode,
}

impl DebugHook {
    const NAMES: [(&'static str, DebugHook); 4] = [
        ("none", DebugHook::None),
        ("panic_send", DebugHook::PanicSend),
        ("panic_encode", DebugHook::PanicEncode),
        ("slow_encode", DebugHook::SlowEncode),
    ];
}

#[derive(Clone, Debug)]
pub struct Config {
    pub codec: Codec,
    pub width: u32,
    pub height: u32,
    pub pix_fmt: PixelFormat,
    pub fps_num: u32,
    pub fps_den: u32,
    pub rc: RcMode,
    pub bitrate: u32,
    pub max_bitrate: u32,
    pub qp: u8,
    /// None: the chip's default.
    pub gop: Option<u32>,
    pub gop_shape: GopShape,
    pub profile: Profile,
    pub header_mode: HeaderMode,
    pub threads: u32,
    pub quality: u8,
    pub chip: &'static ChipProfile,
    pub queue_depth: u32,
    pub debug_hook: DebugHook,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            codec: Codec::H264,
            width: 0,
            height: 0,
            pix_fmt: PixelFormat::I420,
            fps_num: 30,
            fps_den: 1,
            rc: RcMode::Cbr,
            bitrate: 2_000_000,
            max_bitrate: 0,
            qp: 26,
            gop: None,
            gop_shape: GopShape::IpOnly,
            profile: Profile::High,
            header_mode: HeaderMode::Inband,
            threads: 1,
            quality: 85,
            chip: chip::generic(),
            queue_depth: 4,
            debug_hook: DebugHook::None,
        }
    }
}

fn bad(key: &str, value: &str, expected: &str) -> Error {
    Error::new(
        Status::BadValue,
        format!("config key \"{key}\": \"{value}\" is not {expected}"),
    )
}

fn parse_u32(key: &str, value: &str, min: u32, max: u32) -> Result<u32> {
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(bad(key, value, &format!("an integer in {min}..{max}"))),
    }
}

/// "2000000", "2000k", "2.5M" → bits per second.
pub fn parse_bitrate(key: &str, value: &str) -> Result<u32> {
    let v = value.trim();
    let (num, mul) = match v.char_indices().last() {
        Some((i, 'k' | 'K')) => (&v[..i], 1e3),
        Some((i, 'm' | 'M')) => (&v[..i], 1e6),
        _ => (v, 1.0),
    };
    match num.parse::<f64>() {
        Ok(n) if n.is_finite() && n * mul >= 1000.0 && n * mul <= 2e9 => {
            Ok((n * mul).round() as u32)
        }
        _ => Err(bad(
            key,
            value,
            "a bitrate between 1000 and 2000000000 bit/s (e.g. 2000k, 2M)",
        )),
    }
}

/// "30", "30000/1001", "29.97" → (num, den).
pub fn parse_fps(key: &str, value: &str) -> Result<(u32, u32)> {
    let v = value.trim();
    let parsed = if let Some((n, d)) = v.split_once('/') {
        match (n.trim().parse::<u32>(), d.trim().parse::<u32>()) {
            (Ok(n), Ok(d)) if n > 0 && d > 0 => Some((n, d)),
            _ => None,
        }
    } else if let Ok(n) = v.parse::<u32>() {
        (n > 0).then_some((n, 1))
    } else {
        match v.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Some(((f * 1000.0).round() as u32, 1000)),
            _ => None,
        }
    };
    match parsed {
        Some((n, d)) if n / d <= 240 && n > 0 => Ok((n, d)),
        _ => Err(bad(
            key,
            value,
            "a frame rate like 30, 25/1 or 30000/1001 (at most 240)",
        )),
    }
}

impl Config {
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.trim();
        match key {
            "codec" => {
                self.codec = Codec::from_name(v)
                    .ok_or_else(|| bad(key, value, "one of h264, h265, mjpeg"))?
            }
            "width" => self.width = parse_u32(key, v, 1, 16384)?,
            "height" => self.height = parse_u32(key, v, 1, 16384)?,
            "pix_fmt" => {
                self.pix_fmt = PixelFormat::from_name(v).ok_or_else(|| {
                    bad(
                        key,
                        value,
                        "one of i420, yv12, nv12, nv21, bgr24, rgb24, bgra, rgba, argb, gray8",
                    )
                })?
            }
            "fps" => (self.fps_num, self.fps_den) = parse_fps(key, v)?,
            "rc" => {
                self.rc =
                    RcMode::from_name(v).ok_or_else(|| bad(key, value, "one of cbr, vbr, cqp"))?
            }
            "bitrate" => self.bitrate = parse_bitrate(key, v)?,
            "max_bitrate" => self.max_bitrate = parse_bitrate(key, v)?,
            "qp" => self.qp = parse_u32(key, v, 0, 51)? as u8,
            "gop" => self.gop = Some(parse_u32(key, v, 0, 100_000)?),
            "bframes" => {
                self.gop_shape = GopShape::from_name(v).ok_or_else(|| {
                    bad(key, value, "0..7 (B pictures between anchors) or lowdelay")
                })?
            }
            "profile" => {
                self.profile = Profile::from_name(v)
                    .ok_or_else(|| bad(key, value, "one of baseline, main, high"))?
            }
            "header_mode" => {
                self.header_mode = HeaderMode::from_name(v)
                    .ok_or_else(|| bad(key, value, "one of inband, separate"))?
            }
            "threads" => self.threads = parse_u32(key, v, 0, 64)?,
            "quality" => self.quality = parse_u32(key, v, 1, 100)? as u8,
            "chip" => {
                self.chip = chip::find(v).ok_or_else(|| {
                    let names: Vec<&str> = chip::CHIPS.iter().map(|c| c.name).collect();
                    bad(
                        key,
                        value,
                        &format!("a chip profile ({})", names.join(", ")),
                    )
                })?
            }
            "queue_depth" => self.queue_depth = parse_u32(key, v, 1, 64)?,
            "debug_hook" => {
                self.debug_hook = DebugHook::NAMES
                    .iter()
                    .find(|(n, _)| *n == v)
                    .map(|(_, h)| *h)
                    .ok_or_else(|| {
                        bad(
                            key,
                            value,
                            "one of none, panic_send, panic_encode, slow_encode",
                        )
                    })?
            }
            _ => return Err(unknown_key(key)),
        }
        Ok(())
    }

    /// The effective value of a key, in the canonical form `set` accepts.
    pub fn get(&self, key: &str) -> Result<String> {
        Ok(match key {
            "codec" => self.codec.name().to_string(),
            "width" => self.width.to_string(),
            "height" => self.height.to_string(),
            "pix_fmt" => self.pix_fmt.name().to_string(),
            "fps" => format!("{}/{}", self.fps_num, self.fps_den),
            "rc" => self.rc.name().to_string(),
            "bitrate" => self.bitrate.to_string(),
            "max_bitrate" => self.effective_max_bitrate().to_string(),
            "qp" => self.qp.to_string(),
            "gop" => self.effective_gop().to_string(),
            "bframes" => self.gop_shape.name(),
            "profile" => self.effective_profile().name().to_string(),
            "header_mode" => self.header_mode.name().to_string(),
            "threads" => self.threads.to_string(),
            "quality" => self.quality.to_string(),
            "chip" => self.chip.name.to_string(),
            "queue_depth" => self.queue_depth.to_string(),
            "debug_hook" => DebugHook::NAMES
                .iter()
                .find(|(_, h)| *h == self.debug_hook)
                .map_or("none", |(n, _)| n)
                .to_string(),
            "keys" => KEYS.join(","),
            _ => return Err(unknown_key(key)),
        })
    }

    fn effective_gop(&self) -> u32 {
        self.gop.unwrap_or(self.chip.default_gop)
    }

    fn effective_max_bitrate(&self) -> u32 {
        if self.max_bitrate > 0 {
            self.max_bitrate
        } else {
            self.bitrate.saturating_mul(2)
        }
    }

    fn effective_profile(&self) -> Profile {
        match self.codec {
            Codec::H265 => Profile::Main,
            _ => self.profile,
        }
    }

    /// Checks the whole config and turns it into session parameters.
    pub fn to_params(&self) -> Result<EncodeParams> {
        if self.width == 0 || self.height == 0 {
            return Err(Error::invalid_arg(format!(
                "config: width and height must be set (now {}x{})",
                self.width, self.height
            )));
        }
        if self.codec == Codec::H265
            && self.profile != Profile::Main
            && self.profile != Profile::High
        {
            return Err(Error::bad_value(
                "config key \"profile\": h265 supports only main",
            ));
        }
        if self.rc == RcMode::Vbr && self.max_bitrate > 0 && self.max_bitrate < self.bitrate {
            return Err(Error::bad_value(format!(
                "config key \"max_bitrate\": {} is below bitrate {}",
                self.max_bitrate, self.bitrate
            )));
        }
        if self.codec == Codec::Mjpeg && self.gop_shape.has_b() {
            return Err(Error::bad_value(format!(
                "config key \"bframes\": {} asks for B pictures, which mjpeg does not have",
                self.gop_shape.name()
            )));
        }
        self.chip
            .check(self.codec, self.pix_fmt, self.width, self.height, self.rc)?;
        Ok(EncodeParams {
            codec: self.codec,
            width: self.width,
            height: self.height,
            pix_fmt: self.pix_fmt,
            fps_num: self.fps_num,
            fps_den: self.fps_den,
            rc: self.rc,
            bitrate: self.bitrate,
            max_bitrate: self.effective_max_bitrate(),
            qp: self.qp,
            gop: self.effective_gop(),
            gop_shape: self.gop_shape,
            profile: self.effective_profile(),
            header_mode: self.header_mode,
            threads: self.threads,
            quality: self.quality,
            chip: self.chip,
            queue_depth: self.queue_depth,
        })
    }
}

fn unknown_key(key: &str) -> Error {
    Error::new(
        Status::UnknownKey,
        format!(
            "config key \"{key}\" is unknown (known keys: {})",
            KEYS.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitrate_suffixes() {
        assert_eq!(parse_bitrate("bitrate", "2000k").unwrap(), 2_000_000);
        assert_eq!(parse_bitrate("bitrate", "2.5M").unwrap(), 2_500_000);
        assert_eq!(parse_bitrate("bitrate", "64000").unwrap(), 64_000);
        assert!(parse_bitrate("bitrate", "fast").is_err());
        assert!(parse_bitrate("bitrate", "-5k").is_err());
        assert!(parse_bitrate("bitrate", "NaNk").is_err());
    }

    #[test]
    fn fps_forms() {
        assert_eq!(parse_fps("fps", "30").unwrap(), (30, 1));
        assert_eq!(parse_fps("fps", "30000/1001").unwrap(), (30000, 1001));
        assert_eq!(parse_fps("fps", "29.97").unwrap(), (29970, 1000));
        assert!(parse_fps("fps", "0").is_err());
        assert!(parse_fps("fps", "1/0").is_err());
    }

    #[test]
    fn errors_name_the_key() {
        let mut c = Config::default();
        let e = c.set("bitrat", "1").unwrap_err();
        assert_eq!(e.status, Status::UnknownKey);
        assert!(e.message.contains("\"bitrat\""), "{}", e.message);
        let e = c.set("qp", "52").unwrap_err();
        assert_eq!(e.status, Status::BadValue);
        assert!(e.message.contains("\"qp\""));
    }

    #[test]
    fn get_reads_back_canonical_values() {
        let mut c = Config::default();
        c.set("codec", "HEVC").unwrap();
        c.set("bitrate", "1.5M").unwrap();
        c.set("chip", "k230").unwrap();
        assert_eq!(c.get("codec").unwrap(), "h265");
        assert_eq!(c.get("bitrate").unwrap(), "1500000");
        assert_eq!(c.get("gop").unwrap(), "30");
        assert_eq!(c.get("profile").unwrap(), "main");
    }

    #[test]
    fn chip_limits_are_enforced() {
        let mut c = Config::default();
        c.set("chip", "bm1684x").unwrap();
        c.set("width", "128").unwrap();
        c.set("height", "128").unwrap();
        let e = c.to_params().unwrap_err();
        assert!(e.message.contains("bm1684x"), "{}", e.message);
    }
}
