//! One Horizon encoder: `encode` opens a Session with the board config,
//! `send_frame` takes exact NV12 buffers, `get_frame` hands out whole
//! frames with SPS/PPS in-band before each IDR, `close` ends it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::engine::{Packet, Session};
use crate::error::Status;
use crate::frame::{to_yuv420, FrameView, PixelFormat, Plane, Yuv420};

use super::config::{BoardConfig, EncodeType};
use super::error::{HResult, HobotError};

/// Input frames the encoder queues (the board's 5-deep queue).
pub const INPUT_QUEUE: u32 = 5;
/// How long `send_frame` blocks on a full queue before failing.
pub const SEND_BLOCK_MS: u64 = 2000;
/// What `get_frame` waits when given timeout -1 (the board's 2 s).
pub const DEFAULT_TIMEOUT_MS: i32 = 2000;

struct Open {
    session: Arc<Session>,
    encode_type: EncodeType,
    width: u32,
    height: u32,
}

#[derive(Default)]
struct Inner {
    config: BoardConfig,
    open: Option<Open>,
    /// A frame a too-small buffer could not take; the next get_frame gets it.
    pending: Option<Packet>,
}

/// All state is per encoder: two encoders never share settings or ids.
#[derive(Default)]
pub struct HobotEncoder {
    inner: Mutex<Inner>,
}

impl HobotEncoder {
    pub fn new() -> HobotEncoder {
        HobotEncoder::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Overrides the board configuration; only before `encode`.
    pub fn set(&self, key: &str, value: &str) -> HResult<()> {
        let mut inner = self.lock();
        if inner.open.is_some() {
            return Err(HobotError::failed(
                "set must come before encode (close the encoder first)",
            ));
        }
        inner.config.set(key, value)
    }

    pub fn config(&self) -> BoardConfig {
        self.lock().config
    }

    pub fn is_open(&self) -> bool {
        self.lock().open.is_some()
    }

    /// `encode(type, [width, height], bits)`; bits 0 means 8000 kbps.
    pub fn encode(&self, encode_type: i32, width: i32, height: i32, bits_kbps: i32) -> HResult<()> {
        let mut inner = self.lock();
        if inner.open.is_some() {
            return Err(HobotError::failed(
                "the encoder is already open: close it before encode",
            ));
        }
        let t = EncodeType::from_id(encode_type)?;
        let params = inner.config.params(t, width, height, bits_kbps)?;
        let (w, h) = (params.width, params.height);
        let session = Session::new(params)?;
        inner.pending = None;
        inner.open = Some(Open {
            session: Arc::new(session),
            encode_type: t,
            width: w,
            height: h,
        });
        Ok(())
    }

    pub fn encode_type(&self) -> Option<EncodeType> {
        self.lock().open.as_ref().map(|o| o.encode_type)
    }

    fn session(&self) -> HResult<(Arc<Session>, u32, u32)> {
        let inner = self.lock();
        let open = inner
            .open
            .as_ref()
            .ok_or_else(|| HobotError::failed("the encoder is not open: call encode first"))?;
        Ok((Arc::clone(&open.session), open.width, open.height))
    }

    /// Queues one NV12 picture of exactly `w*h*3/2` bytes. Blocks up to
    /// 2 s while the queue is full, then fails.
    pub fn send_frame(&self, nv12: &[u8]) -> HResult<()> {
        let (session, w, h) = self.session()?;
        let want = (w as usize) * (h as usize) * 3 / 2;
        if nv12.len() != want {
            return Err(HobotError::failed(format!(
                "send_frame: {} bytes, but a {w}x{h} NV12 frame is exactly {want} bytes",
                nv12.len()
            )));
        }
        let end = Instant::now() + Duration::from_millis(SEND_BLOCK_MS);
        while !session.ready_for_input()? {
            if Instant::now() >= end {
                return Err(HobotError::failed(format!(
                    "send_frame: the {INPUT_QUEUE}-deep queue stayed full for {SEND_BLOCK_MS} ms; call get_frame"
                )));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let (y, uv) = nv12.split_at((w * h) as usize);
        let view = FrameView {
            format: PixelFormat::Nv12,
            width: w,
            height: h,
            planes: [
                Plane::new(y, w as usize),
                Plane::new(uv, w as usize),
                Plane::empty(),
            ],
        };
        let mut picture = Yuv420::new(w, h);
        to_yuv420(&view, &mut picture).map_err(|e| HobotError::failed(e.0))?;
        session.push(picture, None, 0, false)?;
        Ok(())
    }

    fn next_packet(&self, session: &Session, timeout_ms: i32) -> HResult<Packet> {
        if let Some(p) = self.lock().pending.take() {
            return Ok(p);
        }
        let timeout = if timeout_ms < 0 {
            DEFAULT_TIMEOUT_MS
        } else {
            timeout_ms
        };
        let end = Instant::now() + Duration::from_millis(timeout as u64);
        loop {
            let left = end.saturating_duration_since(Instant::now()).as_millis() as i32;
            match session.receive(left.min(20)) {
                Ok(p) => return Ok(p),
                Err(e) if e.status == Status::Again => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() >= end {
                return Err(HobotError::failed(format!(
                    "get_frame: no frame within {timeout} ms"
                )));
            }
            let stats = session.stats();
            if stats.frames_in <= stats.frames_out {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// One whole encoded frame. timeout_ms: -1 the board's 2 s, 0 poll, > 0 ms.
    pub fn get_frame(&self, timeout_ms: i32) -> HResult<Vec<u8>> {
        let (session, _, _) = self.session()?;
        Ok(self.next_packet(&session, timeout_ms)?.data)
    }

    /// `get_frame` into a caller buffer; returns the length. A buffer too
    /// small keeps the frame for the next call and reports the size needed.
    pub fn get_frame_into(&self, buf: &mut [u8], timeout_ms: i32) -> HResult<usize> {
        let (session, _, _) = self.session()?;
        let p = self.next_packet(&session, timeout_ms)?;
        let n = p.data.len();
        if n > buf.len() {
            self.lock().pending = Some(p);
            return Err(HobotError::BufferTooSmall {
                needed: n,
                message: format!(
                    "get_frame: the frame is {n} bytes but the buffer holds {}",
                    buf.len()
                ),
            });
        }
        buf[..n].copy_from_slice(&p.data);
        Ok(n)
    }

    /// Ends the encoder (frames not yet got are dropped); -1 if never opened.
    pub fn close(&self) -> HResult<()> {
        let open = {
            let mut inner = self.lock();
            inner.pending = None;
            inner.open.take()
        };
        match open {
            Some(o) => {
                drop(o);
                Ok(())
            }
            None => Err(HobotError::failed("close: the encoder was never opened")),
        }
    }
}
