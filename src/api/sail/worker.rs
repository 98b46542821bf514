//! The output side: one engine and one sink, driven by one worker thread.
//!
//! Input timestamps are ignored: the N-th frame written since the output
//! was opened (or reopened by reconnect) gets pts N / framerate, in 90 kHz
//! units. Network outputs (rtsp, rtmp) are paced: frame N is not written
//! before N / framerate seconds after the first one. Files are not paced.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::queue::{Outcome, Queue};
use crate::codec::VideoEncoder;
use crate::error::{Error, Result, Status};
use crate::frame::Yuv420;
use crate::sink::{AccessUnit, Sink, SinkError};

/// Opens (and reopens) the output.
pub type Opener = Box<dyn Fn() -> std::result::Result<Box<dyn Sink>, SinkError> + Send + Sync>;

pub struct Output {
    engine: Box<dyn VideoEncoder>,
    sink: Option<Box<dyn Sink>>,
    opener: Opener,
    /// Frames per second (SAIL's framerate is an integer).
    fps: u32,
    /// Keyframe period; 0 = only the first frame.
    gop: u32,
    /// Frames written since the output was opened.
    index: u64,
    since_key: u64,
    force_key: bool,
    pace_start: Option<Instant>,
}

/// Turns a sink failure into a libvenc error.
pub fn sink_error(what: &str, e: SinkError) -> Error {
    use crate::sink::SinkErrorKind as K;
    let status = match e.kind {
        K::BadTarget => Status::InvalidArg,
        K::Unsupported => Status::Unsupported,
        K::Io | K::Connect | K::Protocol => Status::Io,
    };
    Error::new(status, format!("{what}: {e}"))
}

impl Output {
    /// Opens the output now (a missing server fails here).
    pub fn open(
        engine: Box<dyn VideoEncoder>,
        opener: Opener,
        fps: u32,
        gop: u32,
    ) -> Result<Output> {
        let sink = opener().map_err(|e| sink_error("cannot open the output", e))?;
        Ok(Output {
            engine,
            sink: Some(sink),
            opener,
            fps: fps.max(1),
            gop,
            index: 0,
            since_key: 0,
            force_key: true,
            pace_start: None,
        })
    }

    fn pts(&self) -> i64 {
        (self.index.saturating_mul(90_000) / u64::from(self.fps)) as i64
    }

    /// Encodes one picture and writes it.
    pub fn encode_write(&mut self, pic: &Yuv420) -> Outcome {
        let force = self.force_key || (self.gop > 0 && self.since_key >= u64::from(self.gop));
        let coded = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.engine.encode(pic, force)
        })) {
            Ok(Ok(c)) if !c.data.is_empty() => c,
            Ok(Ok(_)) => {
                self.force_key = true;
                return Outcome::EncodeFailed("the engine produced no data for a frame".into());
            }
            Ok(Err(e)) => {
                self.force_key = true;
                return Outcome::EncodeFailed(format!("encode failed: {}", e.message));
            }
            Err(_) => {
                self.force_key = true;
                return Outcome::EncodeFailed("the encoder engine panicked".into());
            }
        };
        let mut data = coded.parameter_sets;
        data.extend_from_slice(&coded.data);
        let pts = self.pts();
        let Some(sink) = self.sink.as_mut() else {
            return Outcome::WriteFailed("the output is closed; reconnect first".into());
        };
        if sink.is_network() {
            let start = *self.pace_start.get_or_insert_with(Instant::now);
            let due = start
                + Duration::from_nanos(
                    self.index.saturating_mul(1_000_000_000) / u64::from(self.fps),
                );
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let au = AccessUnit {
            data: &data,
            pts,
            dts: pts,
            keyframe: coded.keyframe,
        };
        match sink.write(&au) {
            Ok(()) => {
                self.force_key = false;
                if coded.keyframe {
                    self.since_key = 0;
                }
                self.since_key += 1;
                self.index += 1;
                Outcome::Written
            }
            Err(e) => {
                self.force_key = true;
                Outcome::WriteFailed(format!("write failed: {e}"))
            }
        }
    }

    /// Closes the output and opens it again; pts restart at 0 with a keyframe.
    pub fn reconnect(&mut self) -> Result<()> {
        if let Some(mut old) = self.sink.take() {
            let _ = old.finish();
        }
        let sink = (self.opener)().map_err(|e| sink_error("reconnect failed", e))?;
        self.sink = Some(sink);
        self.index = 0;
        self.since_key = 0;
        self.force_key = true;
        self.pace_start = None;
        Ok(())
    }

    /// Writes the trailer and closes; twice is harmless.
    pub fn finish(&mut self) -> Result<()> {
        match self.sink.take() {
            Some(mut s) => s
                .finish()
                .map_err(|e| sink_error("closing the output failed", e)),
            None => Ok(()),
        }
    }
}

pub fn lock(output: &Mutex<Output>) -> MutexGuard<'_, Output> {
    output.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the worker: takes frames until the queue says stop.
pub fn spawn(queue: Arc<Queue>, output: Arc<Mutex<Output>>) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("venc-sail".into())
        .spawn(move || {
            while let Some(pic) = queue.take() {
                // The outcome is reported while the output is still locked, so
                // a reconnect can never be overtaken by a stale failure.
                let mut out = lock(&output);
                let outcome = out.encode_write(&pic);
                queue.done(outcome);
            }
        })
        .map_err(|e| {
            Error::new(
                Status::NoMemory,
                format!("cannot start the encode thread: {e}"),
            )
        })
}
