//! The native send/receive encoder: a Session plus frame conversion.

use crate::engine::{EncodeParams, Packet, Session};
use crate::error::{Error, Result, Status};
use crate::frame::{to_yuv420, FrameView, Yuv420};

use super::config::{Config, DebugHook};
use crate::codec::{self, Coded, VideoEncoder};

pub struct Encoder {
    session: Session,
    debug_hook: DebugHook,
}

/// The engine behind `debug_hook=panic_encode` and `slow_encode`.
struct HookedEngine {
    inner: Box<dyn VideoEncoder>,
    hook: DebugHook,
}

impl VideoEncoder for HookedEngine {
    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> Result<Vec<Coded>> {
        match self.hook {
            DebugHook::PanicEncode => {
                panic!("debug_hook=panic_encode: deliberate panic inside the engine")
            }
            DebugHook::SlowEncode => std::thread::sleep(std::time::Duration::from_millis(300)),
            _ => {}
        }
        self.inner.encode(pic, force_key)
    }
    fn flush(&mut self) -> Result<Vec<Coded>> {
        self.inner.flush()
    }
    fn reorder_delay(&self) -> u32 {
        self.inner.reorder_delay()
    }
    fn set_bitrate(&mut self, bps: u32) -> Result<()> {
        self.inner.set_bitrate(bps)
    }
    fn set_qp(&mut self, qp: u8) -> Result<()> {
        self.inner.set_qp(qp)
    }
}

/// Per-frame options that travel with the picture.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameOptions {
    /// None: the encoder numbers frames itself.
    pub pts: Option<i64>,
    pub user_tag: u64,
    pub force_keyframe: bool,
}

impl Encoder {
    pub fn new(config: &Config) -> Result<Encoder> {
        let params = config.to_params()?;
        let session = match config.debug_hook {
            hook @ (DebugHook::PanicEncode | DebugHook::SlowEncode) => {
                let inner = codec::open(&params)?;
                Session::with_engine(params, Box::new(HookedEngine { inner, hook }))?
            }
            _ => Session::new(params)?,
        };
        Ok(Encoder {
            session,
            debug_hook: config.debug_hook,
        })
    }

    pub fn from_params(params: EncodeParams) -> Result<Encoder> {
        Ok(Encoder {
            session: Session::new(params)?,
            debug_hook: DebugHook::None,
        })
    }

    pub fn params(&self) -> EncodeParams {
        self.session.params()
    }

    /// Queues one frame. Err(Again) when packets must be received first,
    /// Err(Eof) after drain.
    pub fn send_frame(&self, frame: &FrameView, opts: FrameOptions) -> Result<()> {
        if self.debug_hook == DebugHook::PanicSend {
            panic!("debug_hook=panic_send: deliberate panic in send_frame");
        }
        let params = self.session.params();
        if frame.format != params.pix_fmt {
            return Err(Error::invalid_arg(format!(
                "frame format {} differs from the configured pix_fmt {}",
                frame.format.name(),
                params.pix_fmt.name()
            )));
        }
        if frame.width != params.width || frame.height != params.height {
            return Err(Error::invalid_arg(format!(
                "frame is {}x{} but the encoder was configured for {}x{}",
                frame.width, frame.height, params.width, params.height
            )));
        }
        frame.validate().map_err(|e| Error::invalid_arg(e.0))?;
        if !self.session.ready_for_input()? {
            return Err(Error::new(
                Status::Again,
                "queues are full: receive packets, then send again",
            ));
        }
        let mut picture = Yuv420::new(params.width, params.height);
        to_yuv420(frame, &mut picture).map_err(|e| Error::invalid_arg(e.0))?;
        self.session
            .push(picture, opts.pts, opts.user_tag, opts.force_keyframe)
    }

    pub fn drain(&self) -> Result<()> {
        self.session.drain()
    }

    pub fn receive_packet(&self, timeout_ms: i32) -> Result<Packet> {
        self.session.receive(timeout_ms)
    }

    /// Makes blocked calls return; the encoder is unusable afterwards.
    pub fn close(&self) {
        self.session.close()
    }

    pub fn request_keyframe(&self) {
        self.session.request_keyframe()
    }

    pub fn set_bitrate(&self, bps: u32) -> Result<()> {
        self.session.set_bitrate(bps)
    }

    pub fn set_qp(&self, qp: u8) -> Result<()> {
        self.session.set_qp(qp)
    }

    pub fn stats(&self) -> crate::engine::session::Stats {
        self.session.stats()
    }
}
