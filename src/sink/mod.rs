//! Output sinks: files (raw Annex-B, fragmented MP4, MPEG-TS, FLV) and
//! network publishers (RTMP, RTSP/RTP over TCP).
//!
//! `open` picks the sink from the target string like Sophgo SAIL does:
//! `rtsp://` -> RTSP publish, `rtmp://` -> RTMP publish, other schemes ->
//! Unsupported, otherwise a file whose container follows from the extension.
//!
//! Keyframe policy (all sinks): the first access unit written must be a
//! keyframe (IDR/IRAP); otherwise `write` returns a `Protocol` error and
//! nothing is written. Containers that need parameter sets (MP4, FLV, RTMP,
//! RTSP) take them from that first keyframe's in-band VPS/SPS/PPS; a first
//! keyframe without them is also a `Protocol` error.
//!
//! Timestamps are 90 kHz; DTS must not decrease (`Protocol` error otherwise).
//!
//! Durability if the process dies before `finish`: MP4 is fragmented and
//! each ~1 s fragment is written when complete (only the last <1 s is lost);
//! TS and FLV flush their buffer at every keyframe; raw Annex-B flushes
//! every access unit, so a full disk fails the write that did not fit.
//!
//! Network sinks connect inside `open` (5 s connect timeout). Sends use
//! MSG_NOSIGNAL (no SIGPIPE in C hosts) and fail with `Io` after about 4 s if
//! the peer stops reading; a peer that closed is detected on the next `write`.
//! Messages never contain URL credentials.

use std::fmt;

pub mod annexb;
pub mod flv;
pub mod mp4;
pub mod nal;
pub mod net;
pub mod rtmp;
pub mod rtp;
pub mod rtsp;
pub mod ts;

#[cfg(test)]
mod tests;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    H265,
}

#[derive(Clone, Debug)]
pub struct StreamInfo {
    pub codec: VideoCodec,
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
}

impl StreamInfo {
    /// Frame duration in 90 kHz ticks (3600 for 25 fps; 3000 if fps unknown).
    pub fn frame_ticks(&self) -> i64 {
        if self.fps_num == 0 || self.fps_den == 0 {
            return 3000;
        }
        ((90000u64 * self.fps_den as u64 + self.fps_num as u64 / 2) / self.fps_num as u64).max(1)
            as i64
    }
}

pub struct AccessUnit<'a> {
    /// Annex-B, one picture; keyframes carry VPS/SPS/PPS in-band before the IDR slice.
    pub data: &'a [u8],
    /// 1/90000 s
    pub pts: i64,
    /// 1/90000 s
    pub dts: i64,
    pub keyframe: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkErrorKind {
    BadTarget,
    Unsupported,
    Io,
    Connect,
    Protocol,
}

#[derive(Debug)]
pub struct SinkError {
    pub kind: SinkErrorKind,
    pub message: String,
}

impl SinkError {
    pub fn new(kind: SinkErrorKind, message: impl Into<String>) -> Self {
        SinkError {
            kind,
            message: message.into(),
        }
    }
    pub(crate) fn io(what: &str, e: std::io::Error) -> Self {
        // `what` may be a file path that looks like a URL with credentials.
        SinkError::new(SinkErrorKind::Io, format!("{}: {e}", redact_url(what)))
    }
    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        SinkError::new(SinkErrorKind::Protocol, message)
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = match self.kind {
            SinkErrorKind::BadTarget => "bad target",
            SinkErrorKind::Unsupported => "unsupported",
            SinkErrorKind::Io => "I/O error",
            SinkErrorKind::Connect => "connect error",
            SinkErrorKind::Protocol => "protocol error",
        };
        write!(f, "{k}: {}", self.message)
    }
}

impl std::error::Error for SinkError {}

pub trait Sink: Send {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError>;
    /// Flush and close. Calling it twice is harmless.
    fn finish(&mut self) -> Result<(), SinkError>;
    fn is_network(&self) -> bool;
}

/// Remove `user:password@` from a URL for use in messages. To be safe with
/// unencoded '/' or '@' in passwords, everything up to the last '@' goes.
pub fn redact_url(url: &str) -> String {
    if let Some(p) = url.find("://") {
        let rest = &url[p + 3..];
        if let Some(at) = rest.rfind('@') {
            return format!("{}://***@{}", &url[..p], &rest[at + 1..]);
        }
    }
    url.to_string()
}

/// File containers, chosen by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    AnnexB,
    Mp4,
    Ts,
    Flv,
}

/// Where `open` would write, as parsed from the target string.
#[derive(Clone, Debug)]
pub enum Target {
    Rtsp(net::Url),
    Rtmp {
        url: net::Url,
        app: String,
        key: String,
    },
    File {
        path: String,
        container: Container,
    },
}

/// Parses `target` the way `open` does, without connecting or creating
/// anything (so it can be fuzzed and checked up front).
pub fn parse_target(target: &str, info: &StreamInfo) -> Result<Target, SinkError> {
    if target.is_empty() {
        return Err(SinkError::new(SinkErrorKind::BadTarget, "empty target"));
    }
    if info.width == 0 || info.height == 0 {
        return Err(SinkError::new(
            SinkErrorKind::BadTarget,
            format!("invalid size {}x{}", info.width, info.height),
        ));
    }
    if let Some(p) = target.find("://") {
        let scheme = target[..p].to_ascii_lowercase();
        let scheme_ok = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if scheme_ok {
            return match scheme.as_str() {
                "rtsp" => Ok(Target::Rtsp(net::Url::parse(target, 554)?)),
                "rtmp" => {
                    let (url, app, key) = rtmp::parse_url(target)?;
                    Ok(Target::Rtmp { url, app, key })
                }
                "file" => file_target(&target[p + 3..], info),
                _ => Err(SinkError::new(
                    SinkErrorKind::Unsupported,
                    format!("unsupported scheme '{}' in {}", scheme, redact_url(target)),
                )),
            };
        }
    }
    file_target(target, info)
}

fn file_target(path: &str, info: &StreamInfo) -> Result<Target, SinkError> {
    // A mistyped scheme ("rtsq://user:pass@...") lands here as a path.
    let shown = redact_url(path);
    let ext_of = |p: &str| {
        std::path::Path::new(p)
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .unwrap_or_default()
    };
    // Messages take the extension of the redacted path (the same for any
    // path without "://").
    let shown_ext = ext_of(&shown);
    let ext = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let container = match ext.as_str() {
        "h264" | "264" | "h265" | "265" | "hevc" => {
            let family = if matches!(ext.as_str(), "h264" | "264") { VideoCodec::H264 } else { VideoCodec::H265 };
            if family != info.codec {
                return Err(SinkError::new(
                    SinkErrorKind::BadTarget,
                    format!("extension .{shown_ext} of {shown} does not match codec {:?}", info.codec),
                ));
            }
            Container::AnnexB
        }
        "mp4" | "mov" | "m4v" => Container::Mp4,
        "ts" | "m2ts" | "mts" => Container::Ts,
        "flv" => Container::Flv,
        _ => return Err(SinkError::new(
            SinkErrorKind::BadTarget,
            format!("unknown output extension '.{shown_ext}' for {shown} (use .h264/.h265/.hevc/.mp4/.ts/.flv, rtsp:// or rtmp://)"),
        )),
    };
    Ok(Target::File {
        path: path.to_string(),
        container,
    })
}

/// Open a sink for `target` (see module docs).
pub fn open(target: &str, info: &StreamInfo) -> Result<Box<dyn Sink>, SinkError> {
    Ok(match parse_target(target, info)? {
        Target::Rtsp(_) => Box::new(rtsp::RtspSink::open(target, info)?),
        Target::Rtmp { .. } => Box::new(rtmp::RtmpSink::open(target, info)?),
        Target::File { path, container } => match container {
            Container::AnnexB => Box::new(annexb::AnnexBSink::create(&path, info)?),
            Container::Mp4 => Box::new(mp4::Mp4Sink::create(&path, info)?),
            Container::Ts => Box::new(ts::TsSink::create(&path, info)?),
            Container::Flv => Box::new(flv::FlvFileSink::create(&path, info)?),
        },
    })
}

/// Shared first-keyframe / monotonic-DTS bookkeeping.
#[derive(Default)]
pub(crate) struct AuGate {
    started: bool,
    last_dts: Option<i64>,
}

impl AuGate {
    /// Validate an AU. Returns Err(Protocol) if the stream does not start with a keyframe
    /// or if DTS goes backwards.
    pub(crate) fn check(&mut self, au: &AccessUnit, what: &str) -> Result<(), SinkError> {
        if !self.started && !au.keyframe {
            return Err(SinkError::protocol(format!(
                "{what}: first access unit must be a keyframe"
            )));
        }
        if let Some(l) = self.last_dts {
            if au.dts < l {
                return Err(SinkError::protocol(format!(
                    "{what}: DTS went backwards ({} < {})",
                    au.dts, l
                )));
            }
        }
        if au.data.is_empty() {
            return Err(SinkError::protocol(format!("{what}: empty access unit")));
        }
        Ok(())
    }
    pub(crate) fn accept(&mut self, au: &AccessUnit) {
        self.started = true;
        self.last_dts = Some(au.dts);
    }
    pub(crate) fn started(&self) -> bool {
        self.started
    }
}
