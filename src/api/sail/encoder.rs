//! `sail.Encoder`: a picture encoder, or a video encoder that writes a file
//! or publishes a stream itself (it never hands packets to the caller).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::convert::{self, Refusal, SailPixFmt};
use super::params::{self, EncParams};
use super::queue::{Queue, Stats};
use super::worker::{self, Opener, Output};
use super::{WriteCode, WriteError};
use crate::codec::{self, VideoEncoder};
use crate::engine::chip;
use crate::engine::params::{Codec, EncodeParams, HeaderMode, Profile, RcMode};
use crate::error::{Error, Result};
use crate::frame::{FrameView, PixelFormat};
use crate::sink::{self, StreamInfo, VideoCodec};

/// Largest cache_buffer_length accepted.
pub const MAX_CACHE_BUFFER_LENGTH: i32 = 1024;

/// Everything a video encoder is built from, already validated.
#[derive(Clone, Debug)]
pub struct VideoSettings {
    pub output_path: String,
    pub codec: Codec,
    pub pix_fmt: SailPixFmt,
    pub params: EncParams,
    pub cache_buffer_length: usize,
    pub abort_policy: i32,
}

struct Video {
    settings: VideoSettings,
    queue: Arc<Queue>,
    output: Arc<Mutex<Output>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// Held through a release; true once one has finished.
    released: Mutex<bool>,
    /// Set when a release starts.
    closed: AtomicBool,
}

pub struct SailEncoder {
    video: Option<Video>,
    warnings: Vec<String>,
}

/// Parses `enc_fmt`: h264_bm, h265_bm or hevc_bm.
pub fn parse_enc_fmt(s: &str) -> Result<Codec> {
    match s {
        "h264_bm" => Ok(Codec::H264),
        "h265_bm" | "hevc_bm" => Ok(Codec::H265),
        _ => Err(Error::invalid_arg(format!(
            "enc_fmt \"{s}\" is not h264_bm, h265_bm or hevc_bm"
        ))),
    }
}

impl VideoSettings {
    /// Validates the constructor arguments (everything but opening).
    pub fn new(
        output_path: &str,
        device_id: i32,
        enc_fmt: &str,
        pix_fmt: &str,
        enc_params: &str,
        cache_buffer_length: i32,
        abort_policy: i32,
    ) -> Result<(VideoSettings, Vec<String>)> {
        if device_id < 0 {
            return Err(Error::invalid_arg(format!(
                "device_id {device_id} is negative"
            )));
        }
        if output_path.is_empty() {
            return Err(Error::invalid_arg("output_path is empty"));
        }
        let codec = parse_enc_fmt(enc_fmt)?;
        let pix = SailPixFmt::from_name(pix_fmt).ok_or_else(|| {
            Error::invalid_arg(format!("pix_fmt \"{pix_fmt}\" is not I420 or NV12"))
        })?;
        let params = params::parse(enc_params)?;
        if !(0..=MAX_CACHE_BUFFER_LENGTH).contains(&cache_buffer_length) {
            return Err(Error::invalid_arg(format!(
                "cache_buffer_length {cache_buffer_length} is outside 0..{MAX_CACHE_BUFFER_LENGTH}"
            )));
        }
        let mut warnings = params.warnings.clone();
        if !(0..=3).contains(&abort_policy) {
            warnings.push(format!(
                "abort_policy {abort_policy} is unknown (0..3): video_write returns -4 when the queue is full"
            ));
        }
        check_size(codec, &params)?;
        Ok((
            VideoSettings {
                output_path: output_path.to_string(),
                codec,
                pix_fmt: pix,
                params,
                cache_buffer_length: cache_buffer_length as usize,
                abort_policy,
            },
            warnings,
        ))
    }

    /// The engine parameters these settings ask for.
    pub fn engine_params(&self) -> Result<EncodeParams> {
        let p = &self.params;
        let chip = chip::find(p.chip.name())
            .ok_or_else(|| Error::backend(format!("chip profile {} missing", p.chip.name())))?;
        Ok(EncodeParams {
            codec: self.codec,
            width: p.width,
            height: p.height,
            pix_fmt: PixelFormat::I420,
            fps_num: p.framerate,
            fps_den: 1,
            rc: if p.qp.is_some() {
                RcMode::Cqp
            } else {
                RcMode::Cbr
            },
            bitrate: p.bitrate_kbps.saturating_mul(1000),
            max_bitrate: 0,
            qp: p.qp.unwrap_or(26),
            gop: p.effective_gop(),
            gop_shape: p.gop_shape(),
            profile: Profile::Main,
            header_mode: HeaderMode::Inband,
            threads: 0,
            quality: 85,
            chip,
            queue_depth: self.cache_buffer_length as u32 + 1,
        })
    }

    pub fn stream_info(&self) -> StreamInfo {
        StreamInfo {
            codec: match self.codec {
                Codec::H265 => VideoCodec::H265,
                _ => VideoCodec::H264,
            },
            width: self.params.width,
            height: self.params.height,
            fps_num: self.params.framerate,
            fps_den: 1,
        }
    }
}

/// SAIL's encoder limits: width >= 256, height >= 128, at most 8192x4096,
/// even sizes for H.264, multiples of 8 for H.265.
fn check_size(codec: Codec, p: &EncParams) -> Result<()> {
    let chip = chip::find(p.chip.name())
        .ok_or_else(|| Error::backend(format!("chip profile {} missing", p.chip.name())))?;
    let (w, h) = (p.width, p.height);
    if w < chip.min_width || h < chip.min_height || w > chip.max_width || h > chip.max_height {
        return Err(Error::bad_value(format!(
            "enc_params: size {w}x{h} is outside what {} encodes ({}x{} .. {}x{})",
            chip.name, chip.min_width, chip.min_height, chip.max_width, chip.max_height
        )));
    }
    let align = chip.align_for(codec);
    if !w.is_multiple_of(align) || !h.is_multiple_of(align) {
        return Err(Error::bad_value(format!(
            "enc_params: size {w}x{h}: {} needs multiples of {align} for {}",
            chip.name,
            codec.name()
        )));
    }
    Ok(())
}

impl SailEncoder {
    /// The picture-only encoder (`sail.Encoder()`): only pic_encode works.
    pub fn picture() -> SailEncoder {
        SailEncoder {
            video: None,
            warnings: Vec::new(),
        }
    }

    /// The video encoder. Opens the engine and the output now.
    pub fn open(
        output_path: &str,
        device_id: i32,
        enc_fmt: &str,
        pix_fmt: &str,
        enc_params: &str,
        cache_buffer_length: i32,
        abort_policy: i32,
    ) -> Result<SailEncoder> {
        let (settings, warnings) = VideoSettings::new(
            output_path,
            device_id,
            enc_fmt,
            pix_fmt,
            enc_params,
            cache_buffer_length,
            abort_policy,
        )?;
        let engine = codec::open(&settings.engine_params()?)?;
        let target = settings.output_path.clone();
        let info = settings.stream_info();
        let opener: Opener = Box::new(move || sink::open(&target, &info));
        SailEncoder::from_parts(settings, warnings, engine, opener)
    }

    /// Builds a video encoder from an engine and an output opener of the
    /// caller's choice (tests use this to inject failures).
    #[doc(hidden)]
    pub fn from_parts(
        settings: VideoSettings,
        warnings: Vec<String>,
        engine: Box<dyn VideoEncoder>,
        opener: Opener,
    ) -> Result<SailEncoder> {
        let output = Output::open(
            engine,
            opener,
            settings.params.framerate,
            settings.params.effective_gop(),
        )?;
        let output = Arc::new(Mutex::new(output));
        let queue = Arc::new(Queue::new(settings.cache_buffer_length + 1));
        let handle = match worker::spawn(Arc::clone(&queue), Arc::clone(&output)) {
            Ok(h) => h,
            Err(e) => {
                let _ = worker::lock(&output).finish();
                return Err(e);
            }
        };
        Ok(SailEncoder {
            video: Some(Video {
                settings,
                queue,
                output,
                worker: Mutex::new(Some(handle)),
                released: Mutex::new(false),
                closed: AtomicBool::new(false),
            }),
            warnings,
        })
    }

    /// What construction found worth saying (unknown keys, B-frame presets ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn settings(&self) -> Option<&VideoSettings> {
        self.video.as_ref().map(|v| &v.settings)
    }

    /// True between a successful video constructor and release; always
    /// false for the picture encoder.
    pub fn is_opened(&self) -> bool {
        self.video
            .as_ref()
            .is_some_and(|v| !v.closed.load(Ordering::SeqCst))
    }

    /// Encodes one picture (".jpg", ".jpeg", ".png", ".bmp"); BGR packed
    /// is the vendor's input, every libvenc format is accepted.
    pub fn pic_encode(&self, ext: &str, frame: &FrameView) -> Result<Vec<u8>> {
        codec::image::encode(ext, frame, 0)
    }

    /// Converts and queues one picture; see `WriteCode` for the outcomes.
    pub fn video_write(&self, frame: &FrameView) -> std::result::Result<(), WriteError> {
        let bad = |m: String| WriteError::new(WriteCode::BadCall, m);
        let Some(v) = &self.video else {
            return Err(bad(
                "this is a picture encoder; it has no video output".into()
            ));
        };
        if !self.is_opened() {
            return Err(bad("the encoder is released".into()));
        }
        frame
            .validate()
            .map_err(|e| bad(format!("invalid picture: {}", e.0)))?;
        if let Some((code, message)) = v.queue.failure() {
            return Err(WriteError::new(code, message));
        }
        let s = &v.settings;
        let pic = convert::prepare(
            s.params.chip,
            s.pix_fmt,
            frame,
            s.params.width,
            s.params.height,
        )
        .map_err(|r| match r {
            Refusal::NotSupported(m) => WriteError::new(WriteCode::NotSupported, m),
            Refusal::Invalid(e) => bad(e.message),
        })?;
        v.queue
            .push(
                pic,
                s.abort_policy,
                Duration::from_millis(s.params.block_ms),
            )
            .map_err(|(code, message)| WriteError::new(code, message))
    }

    /// Stops taking frames, encodes and writes what is queued (unless
    /// `discard`), writes the trailer. Twice is harmless; a picture
    /// encoder has nothing to release.
    pub fn release(&self, discard: bool) -> Result<()> {
        let Some(v) = &self.video else {
            return Ok(());
        };
        let mut released = v.released.lock().unwrap_or_else(|p| p.into_inner());
        if *released {
            return Ok(());
        }
        v.closed.store(true, Ordering::SeqCst);
        v.queue.close(discard);
        let handle = v.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        *released = true;
        worker::lock(&v.output).finish()
    }

    /// Closes the output and opens it again with the same parameters; pts
    /// restart at 0. Success clears the "write failed" state (-3).
    pub fn reconnect(&self) -> Result<()> {
        let Some(v) = &self.video else {
            return Err(Error::invalid_state(
                "this is a picture encoder; it has no output to reconnect",
            ));
        };
        if !self.is_opened() || v.queue.is_closing() {
            return Err(Error::invalid_state("the encoder is released"));
        }
        let mut out = worker::lock(&v.output);
        out.reconnect()?;
        v.queue.reconnected();
        Ok(())
    }

    pub fn stats(&self) -> Stats {
        self.video
            .as_ref()
            .map(|v| v.queue.stats())
            .unwrap_or_default()
    }
}

impl Drop for SailEncoder {
    fn drop(&mut self) {
        let _ = self.release(false);
    }
}
