//! The output side: one engine and one sink, driven by one worker thread.
//!
//! Input timestamps are ignored: the N-th frame taken since the output was
//! opened (or reopened by reconnect) gets pts N / framerate, in 90 kHz
//! units. With B pictures the coding order differs: the K-th packet written
//! gets dts (K - reorder delay) / framerate. Network outputs (rtsp, rtmp)
//! are paced: packet K is not written before K / framerate seconds after the
//! first one. Files are not paced.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::queue::{Outcome, Queue};
use crate::codec::{Coded, VideoEncoder};
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
    /// How far the engine's coding order runs ahead of display order.
    reorder_delay: u32,
    /// Pictures given to the engine since it was made.
    engine_inputs: u64,
    /// The engine's display index of the first picture of this output;
    /// pictures before it belong to an output that was reconnected away.
    engine_base: u64,
    /// Packets written since the output was opened.
    written: u64,
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
            reorder_delay: engine.reorder_delay(),
            engine,
            sink: Some(sink),
            opener,
            fps: fps.max(1),
            gop,
            engine_inputs: 0,
            engine_base: 0,
            written: 0,
            since_key: 0,
            force_key: true,
            pace_start: None,
        })
    }

    /// Frame `n` of this output in 90 kHz ticks (n < 0 for early dts).
    fn ticks(&self, n: i64) -> i64 {
        n.saturating_mul(90_000).div_euclid(i64::from(self.fps))
    }

    /// Encodes one picture and writes what the engine has ready.
    pub fn encode_write(&mut self, pic: &Yuv420) -> Outcome {
        let force = self.force_key || (self.gop > 0 && self.since_key >= u64::from(self.gop));
        let coded = match run_engine(|| self.engine.encode(pic, force)) {
            Ok(c) => c,
            Err(msg) => {
                self.force_key = true;
                return Outcome::EncodeFailed(msg);
            }
        };
        self.engine_inputs += 1;
        if force {
            self.force_key = false;
            self.since_key = 0;
        }
        self.since_key += 1;
        self.write_all(coded)
    }

    /// End of input: codes and writes the pictures the engine still holds.
    pub fn flush_write(&mut self) -> Outcome {
        match run_engine(|| self.engine.flush()) {
            Ok(coded) => self.write_all(coded),
            Err(msg) => Outcome::EncodeFailed(msg),
        }
    }

    fn write_all(&mut self, coded: Vec<Coded>) -> Outcome {
        let (mut written, mut lost) = (0, 0);
        let total = coded.len() as u64;
        for c in coded {
            if c.display_index < self.engine_base {
                // Coded for the output before a reconnect; its references
                // are not in the new stream.
                lost += 1;
                continue;
            }
            if c.data.is_empty() {
                self.force_key = true;
                return Outcome::EncodeFailed("the engine produced no data for a frame".into());
            }
            if let Err(message) = self.write(c) {
                self.force_key = true;
                return Outcome::WriteFailed {
                    message,
                    lost: total - written,
                };
            }
            written += 1;
        }
        Outcome::Written { written, lost }
    }

    fn write(&mut self, coded: Coded) -> std::result::Result<(), String> {
        let shown = (coded.display_index - self.engine_base) as i64;
        let pts = self.ticks(shown);
        let dts = self
            .ticks(self.written as i64 - i64::from(self.reorder_delay))
            .min(pts);
        let mut data = coded.parameter_sets;
        data.extend_from_slice(&coded.data);
        let Some(sink) = self.sink.as_mut() else {
            return Err("the output is closed; reconnect first".into());
        };
        if sink.is_network() {
            let start = *self.pace_start.get_or_insert_with(Instant::now);
            let due = start
                + Duration::from_nanos(
                    self.written.saturating_mul(1_000_000_000) / u64::from(self.fps),
                );
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let au = AccessUnit {
            data: &data,
            pts,
            dts,
            keyframe: coded.keyframe,
        };
        sink.write(&au).map_err(|e| format!("write failed: {e}"))?;
        self.written += 1;
        Ok(())
    }

    /// Closes the output and opens it again; pts restart at 0 with a keyframe.
    pub fn reconnect(&mut self) -> Result<()> {
        if let Some(mut old) = self.sink.take() {
            let _ = old.finish();
        }
        let sink = (self.opener)().map_err(|e| sink_error("reconnect failed", e))?;
        self.sink = Some(sink);
        self.engine_base = self.engine_inputs;
        self.written = 0;
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

/// Runs an engine call, turning an error or a panic into a message.
fn run_engine(f: impl FnOnce() -> Result<Vec<Coded>>) -> std::result::Result<Vec<Coded>, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!("encode failed: {}", e.message)),
        Err(_) => Err("the encoder engine panicked".into()),
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
            if queue.should_flush() {
                let outcome = lock(&output).flush_write();
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
