//! Where packets go. Everything output-specific is behind `open_output`,
//! so container and stream sinks (MP4, TS, FLV, RTSP, RTMP) can replace it.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use venc::engine::params::Codec;
use venc::engine::Packet;

/// Takes coded packets in order.
pub trait Output {
    fn write_packet(&mut self, packet: &Packet) -> io::Result<()>;
    /// Flushes and closes; called once after the last packet.
    fn finish(&mut self) -> io::Result<()>;
}

/// What an output path holds, judged by its extension or scheme.
pub enum Kind {
    /// Annex-B H.264/H.265 or concatenated JPEGs.
    Elementary(Codec),
    /// A container or stream this build cannot write yet.
    NotYet(&'static str),
    Unknown,
}

pub fn kind(path: &str) -> Kind {
    let lower = path.to_ascii_lowercase();
    for (scheme, what) in [
        ("rtsp://", "RTSP"),
        ("rtmp://", "RTMP"),
        ("rtmps://", "RTMP"),
        ("srt://", "SRT"),
    ] {
        if lower.starts_with(scheme) {
            return Kind::NotYet(what);
        }
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "h264" | "264" | "avc" => Kind::Elementary(Codec::H264),
        "h265" | "265" | "hevc" => Kind::Elementary(Codec::H265),
        "mjpeg" | "mjpg" => Kind::Elementary(Codec::Mjpeg),
        "mp4" | "m4v" | "mov" => Kind::NotYet("MP4"),
        "ts" | "m2ts" => Kind::NotYet("MPEG-TS"),
        "flv" => Kind::NotYet("FLV"),
        "mkv" => Kind::NotYet("Matroska"),
        _ => Kind::Unknown,
    }
}

/// Writes the packet bytes as they are: Annex-B start codes for H.264/H.265,
/// back-to-back JPEG pictures for MJPEG.
struct Elementary<W: Write> {
    out: W,
}

impl<W: Write> Output for Elementary<W> {
    fn write_packet(&mut self, packet: &Packet) -> io::Result<()> {
        self.out.write_all(&packet.data)
    }
    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Opens `path` ("-" = standard output) for a `codec` stream of `width` x
/// `height` at `fps` (num, den). Containers will need the size and rate;
/// elementary streams do not.
pub fn open_output(
    path: &str,
    codec: Codec,
    _width: u32,
    _height: u32,
    _fps: (u32, u32),
) -> Result<Box<dyn Output>, String> {
    if path == "-" {
        return Ok(Box::new(Elementary {
            out: BufWriter::new(io::stdout().lock()),
        }));
    }
    match kind(path) {
        Kind::Elementary(c) if c == codec => {}
        Kind::Elementary(c) => {
            return Err(format!(
                "{path} is named for {} but the codec is {}; change -c or the extension",
                c.name(),
                codec.name()
            ))
        }
        Kind::NotYet(what) => {
            return Err(format!(
                "{what} output ({path}) is not available in this build yet; write an elementary \
                 stream (.h264, .h265, .mjpeg) and mux it, e.g. ffmpeg -i out.h264 -c copy out.mp4"
            ))
        }
        Kind::Unknown => {
            return Err(format!(
                "cannot tell the output format of {path}: use .h264/.264, .h265/.265/.hevc or .mjpeg/.mjpg"
            ))
        }
    }
    let file = File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
    Ok(Box::new(Elementary {
        out: BufWriter::with_capacity(1 << 20, file),
    }))
}
