//! Where packets go. Everything output-specific is behind `open_output`,
//! so container and stream sinks (MP4, TS, FLV, RTSP, RTMP) can replace it.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use venc::engine::params::Codec;
use venc::engine::Packet;
use venc::sink::{self, AccessUnit, Sink, StreamInfo, VideoCodec};

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
    /// A container file or a live stream, written by libvenc's sinks.
    Sink(&'static str),
    /// A container this build cannot write.
    NotYet(&'static str),
    Unknown,
}

pub fn kind(path: &str) -> Kind {
    let lower = path.to_ascii_lowercase();
    for (scheme, what) in [("rtsp://", "RTSP"), ("rtmp://", "RTMP")] {
        if lower.starts_with(scheme) {
            return Kind::Sink(what);
        }
    }
    for (scheme, what) in [("rtmps://", "RTMPS"), ("srt://", "SRT")] {
        if lower.starts_with(scheme) {
            return Kind::NotYet(what);
        }
    }
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext {
        "h264" | "264" | "avc" => Kind::Elementary(Codec::H264),
        "h265" | "265" | "hevc" => Kind::Elementary(Codec::H265),
        "mjpeg" | "mjpg" => Kind::Elementary(Codec::Mjpeg),
        "mp4" | "m4v" | "mov" => Kind::Sink("MP4"),
        "ts" | "m2ts" => Kind::Sink("MPEG-TS"),
        "flv" => Kind::Sink("FLV"),
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
/// Muxes H.264/H.265 packets through `venc::sink` (MP4, TS, FLV, RTSP, RTMP).
struct SinkOutput {
    sink: Box<dyn Sink>,
    /// Parameter sets from a separate HEADER packet, joined to the next picture.
    pending_header: Vec<u8>,
    fps: (u32, u32),
}

impl SinkOutput {
    fn to_90k(&self, pts: i64) -> i64 {
        let (num, den) = (i64::from(self.fps.0.max(1)), i64::from(self.fps.1.max(1)));
        pts.saturating_mul(90_000).saturating_mul(den) / num
    }
}

impl Output for SinkOutput {
    fn write_packet(&mut self, packet: &Packet) -> io::Result<()> {
        if packet.is_eos() {
            return Ok(());
        }
        if packet.is_header() && !packet.is_keyframe() {
            self.pending_header.extend_from_slice(&packet.data);
            return Ok(());
        }
        let mut data = std::mem::take(&mut self.pending_header);
        data.extend_from_slice(&packet.data);
        let au = AccessUnit {
            data: &data,
            pts: self.to_90k(packet.pts),
            dts: self.to_90k(packet.dts),
            keyframe: packet.is_keyframe(),
        };
        self.sink
            .write(&au)
            .map_err(|e| io::Error::other(e.to_string()))
    }
    fn finish(&mut self) -> io::Result<()> {
        self.sink
            .finish()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

pub fn open_output(
    path: &str,
    codec: Codec,
    width: u32,
    height: u32,
    fps: (u32, u32),
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
        Kind::Sink(what) => {
            let codec = match codec {
                Codec::H264 => VideoCodec::H264,
                Codec::H265 => VideoCodec::H265,
                Codec::Mjpeg => return Err(format!("{what} output ({path}) takes H.264 or H.265, not mjpeg")),
            };
            let info = StreamInfo {
                codec,
                width,
                height,
                fps_num: fps.0,
                fps_den: fps.1,
            };
            let sink = sink::open(path, &info).map_err(|e| e.to_string())?;
            return Ok(Box::new(SinkOutput {
                sink,
                pending_header: Vec::new(),
                fps,
            }));
        }
        Kind::NotYet(what) => {
            return Err(format!(
                "{what} output ({path}) is not supported; use .mp4, .ts, .flv, rtsp://, rtmp:// or an \
                 elementary stream (.h264, .h265, .mjpeg)"
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
