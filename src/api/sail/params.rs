//! `enc_params`: SAIL's `key=value` pairs joined by `:`.
//!
//! Keys and defaults as the vendor parses them: width 1920, height 1080,
//! framerate 25, bitrate 2000 (kbps), gop 32, gop_preset 3, qp -1 (qp >= 0
//! means constant QP and bitrate is ignored), mb_rc/bg/nr/weightp 0.
//!
//! Where libvenc does better than the vendor: a token without `=` or a
//! value that is not an integer fails with a message naming it (the vendor
//! crashes); an unknown key is reported as a warning (the vendor ignores it
//! silently). Keys are matched without regard to ASCII case.
//!
//! libvenc extension keys: `chip` (`bm1684x`, the default, or `bm1684`)
//! picks the conversion rules and limits; `block_ms` (default 5000, 1..600000)
//! bounds how long abort policy 3 waits for room in the queue.

use crate::engine::params::GopShape;
use crate::error::{Error, Result};

/// Which Sophgo chip's rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SailChip {
    Bm1684,
    Bm1684x,
}

impl SailChip {
    pub fn name(self) -> &'static str {
        match self {
            SailChip::Bm1684 => "bm1684",
            SailChip::Bm1684x => "bm1684x",
        }
    }
    pub fn from_name(s: &str) -> Option<SailChip> {
        match s.to_ascii_lowercase().as_str() {
            "bm1684" => Some(SailChip::Bm1684),
            "bm1684x" => Some(SailChip::Bm1684x),
            _ => None,
        }
    }
}

/// What each gop_preset asks for (vendor numbering).
pub const GOP_PRESETS: [&str; 9] = [
    "all-I",
    "IPP",
    "IBB",
    "IBPBP",
    "IBBBP",
    "IPPPP",
    "IBBBB",
    "random access",
    "IPP",
];

/// The parsed parameters plus the warnings parsing produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncParams {
    pub width: u32,
    pub height: u32,
    pub framerate: u32,
    /// kbps; ignored when `qp` is set.
    pub bitrate_kbps: u32,
    pub gop: u32,
    pub gop_preset: u32,
    /// Some(q): constant QP q. None: bitrate control (qp < 0).
    pub qp: Option<u8>,
    pub mb_rc: i64,
    pub bg: i64,
    pub nr: i64,
    pub weightp: i64,
    pub chip: SailChip,
    /// Bound of abort policy 3, milliseconds.
    pub block_ms: u64,
    /// Reported through the handle's error text after construction.
    pub warnings: Vec<String>,
}

impl Default for EncParams {
    fn default() -> EncParams {
        EncParams {
            width: 1920,
            height: 1080,
            framerate: 25,
            bitrate_kbps: 2000,
            gop: 32,
            gop_preset: 3,
            qp: None,
            mb_rc: 0,
            bg: 0,
            nr: 0,
            weightp: 0,
            chip: SailChip::Bm1684x,
            block_ms: 5000,
            warnings: Vec::new(),
        }
    }
}

pub const KEYS: &[&str] = &[
    "width",
    "height",
    "framerate",
    "bitrate",
    "gop",
    "gop_preset",
    "qp",
    "mb_rc",
    "bg",
    "nr",
    "weightp",
    "chip",
    "block_ms",
];

impl EncParams {
    /// True when gop_preset 1 asks for every picture to be intra.
    pub fn all_intra(&self) -> bool {
        self.gop_preset == 1
    }

    /// The keyframe period the engine uses (gop_preset 1 forces 1).
    pub fn effective_gop(&self) -> u32 {
        if self.all_intra() {
            1
        } else {
            self.gop
        }
    }

    /// The B-picture structure of the preset, as the vendor's encoder (a
    /// Chips&Media WAVE core) defines it: 3 and 7 are low-delay B (B pictures
    /// from past references, no reordering), 4, 5 and 8 put 1, 3 and 7 B
    /// pictures between anchors.
    pub fn gop_shape(&self) -> GopShape {
        match self.gop_preset {
            3 | 7 => GopShape::LowDelayB,
            4 => GopShape::Reordered { b_frames: 1 },
            5 => GopShape::Reordered { b_frames: 3 },
            8 => GopShape::Reordered { b_frames: 7 },
            _ => GopShape::IpOnly,
        }
    }

    pub fn preset_name(&self) -> &'static str {
        GOP_PRESETS
            .get(self.gop_preset.wrapping_sub(1) as usize)
            .copied()
            .unwrap_or("?")
    }
}

fn int(key: &str, value: &str) -> Result<i64> {
    value.trim().parse::<i64>().map_err(|_| {
        Error::bad_value(format!(
            "enc_params: value \"{value}\" of key \"{key}\" is not an integer"
        ))
    })
}

fn ranged(key: &str, value: &str, lo: i64, hi: i64) -> Result<i64> {
    let v = int(key, value)?;
    if v < lo || v > hi {
        return Err(Error::bad_value(format!(
            "enc_params: {key}={v} is outside {lo}..{hi}"
        )));
    }
    Ok(v)
}

/// Parses an enc_params string. An empty string gives the defaults.
pub fn parse(text: &str) -> Result<EncParams> {
    let mut p = EncParams::default();
    let mut seen: Vec<String> = Vec::new();
    for (i, raw) in text.split(':').enumerate() {
        let token = raw.trim();
        if token.is_empty() {
            if !text.trim().is_empty() {
                p.warnings
                    .push(format!("enc_params: empty token {} ignored", i + 1));
            }
            continue;
        }
        let Some((k, v)) = token.split_once('=') else {
            return Err(Error::bad_value(format!(
                "enc_params: token \"{token}\" is not key=value"
            )));
        };
        let key = k.trim().to_ascii_lowercase();
        let value = v.trim();
        if key.is_empty() {
            return Err(Error::bad_value(format!(
                "enc_params: token \"{token}\" has no key"
            )));
        }
        if seen.contains(&key) {
            p.warnings.push(format!(
                "enc_params: key \"{key}\" given twice; the last value counts"
            ));
        }
        seen.push(key.clone());
        match key.as_str() {
            "width" => p.width = ranged(&key, value, 1, 16384)? as u32,
            "height" => p.height = ranged(&key, value, 1, 16384)? as u32,
            "framerate" => p.framerate = ranged(&key, value, 1, 240)? as u32,
            "bitrate" => p.bitrate_kbps = ranged(&key, value, 1, 2_000_000)? as u32,
            "gop" => p.gop = ranged(&key, value, 0, 100_000)? as u32,
            "gop_preset" => p.gop_preset = ranged(&key, value, 1, 9)? as u32,
            "qp" => {
                let q = ranged(&key, value, i64::from(i32::MIN), 51)?;
                p.qp = u8::try_from(q).ok();
            }
            "mb_rc" => p.mb_rc = ranged(&key, value, 0, 1)?,
            "bg" => p.bg = ranged(&key, value, 0, 1)?,
            "nr" => p.nr = ranged(&key, value, 0, 1)?,
            "weightp" => p.weightp = ranged(&key, value, 0, 1)?,
            "chip" => {
                p.chip = SailChip::from_name(value).ok_or_else(|| {
                    Error::bad_value(format!(
                        "enc_params: chip \"{value}\" is not bm1684x or bm1684"
                    ))
                })?
            }
            "block_ms" => p.block_ms = ranged(&key, value, 1, 600_000)? as u64,
            _ => p.warnings.push(format!(
                "enc_params: unknown key \"{key}\" ignored (known: {})",
                KEYS.join(", ")
            )),
        }
    }
    for (key, v) in [
        ("mb_rc", p.mb_rc),
        ("bg", p.bg),
        ("nr", p.nr),
        ("weightp", p.weightp),
    ] {
        if v != 0 {
            p.warnings.push(format!(
                "enc_params: {key}={v} has no effect on the host engines"
            ));
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let p = parse("").unwrap();
        assert_eq!((p.width, p.height, p.framerate), (1920, 1080, 25));
        assert_eq!(
            (p.bitrate_kbps, p.gop, p.gop_preset, p.qp),
            (2000, 32, 3, None)
        );
        assert_eq!(p.chip, SailChip::Bm1684x);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.gop_shape(), GopShape::LowDelayB); // preset 3 is IBB
    }

    #[test]
    fn vendor_example() {
        let p =
            parse("width=1920:height=1080:bitrate=2000:gop=32:gop_preset=2:framerate=25").unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.gop_preset, 2);
    }

    #[test]
    fn errors_name_the_token() {
        let e = parse("width=640:height").unwrap_err();
        assert!(e.message.contains("\"height\""), "{e}");
        let e = parse("width=6x40").unwrap_err();
        assert!(
            e.message.contains("6x40") && e.message.contains("width"),
            "{e}"
        );
        let e = parse("gop_preset=10").unwrap_err();
        assert!(e.message.contains("gop_preset=10"), "{e}");
        let e = parse("=5").unwrap_err();
        assert!(e.message.contains("=5"), "{e}");
    }

    #[test]
    fn qp_and_unknown() {
        let p = parse("qp=30:Foo=1:gop_preset=1").unwrap();
        assert_eq!(p.qp, Some(30));
        assert_eq!(p.effective_gop(), 1);
        assert!(p.warnings.iter().any(|w| w.contains("\"foo\"")));
        assert_eq!(parse("qp=-5").unwrap().qp, None);
        assert!(parse("qp=52").is_err());
    }
}
