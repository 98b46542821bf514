//! The frame queue between `video_write` and the worker, with SAIL's abort
//! policies and the failure flags video_write reports.
//!
//! The queue holds `cache_buffer_length + 1` converted frames (the frame the
//! worker is encoding is not counted). When it is full: policy 0 rejects
//! the new frame (-1), 1 drops the oldest queued frame, 2 drops every
//! queued frame, 3 waits for room at most `block` (then -1, never forever);
//! any other policy gives -4.
//!
//! Failure flags: a failed write or push sets a sticky flag (-3 from every
//! video_write) that only a successful reconnect clears; the worker waits
//! meanwhile and keeps the queued frames. A failed encode gives -2 to the
//! next video_write, once.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::WriteCode;
use crate::frame::Yuv420;

/// Counters, all in frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Accepted by video_write (returned 0).
    pub queued: u64,
    /// Encoded and written to the output.
    pub written: u64,
    /// Removed from the queue by abort policy 1 or 2.
    pub dropped: u64,
    /// Refused by video_write when the queue was full (policy 0, 3 timeout, unknown policy).
    pub rejected: u64,
    /// Lost because encoding failed.
    pub encode_failed: u64,
    /// Encoded but lost because the write or push failed.
    pub write_failed: u64,
    /// Still queued at a release with the discard flag or with a failed output.
    pub discarded: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// Frames waiting right now.
    pub waiting: u64,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Yuv420>,
    closing: bool,
    discard: bool,
    /// The worker has left: nothing more will be taken.
    stopped: bool,
    write_failed: Option<String>,
    encode_failed: Option<String>,
    stats: Stats,
}

pub struct Queue {
    state: Mutex<State>,
    capacity: usize,
    /// Wakes the worker (frames, close, reconnect).
    work: Condvar,
    /// Wakes policy-3 writers (room, failure, close).
    room: Condvar,
}

/// What happened to the frame the worker took.
pub enum Outcome {
    /// `written` pictures reached the output (0 while B pictures wait for
    /// their anchor, several when an anchor releases them); `lost` held
    /// pictures belonged to an output that failed before a reconnect.
    Written {
        written: u64,
        lost: u64,
    },
    EncodeFailed(String),
    /// A write failed; `lost` pictures (that one and the rest of its batch)
    /// did not reach the output.
    WriteFailed {
        message: String,
        lost: u64,
    },
}

impl Queue {
    pub fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
            work: Condvar::new(),
            room: Condvar::new(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The data stays consistent at every await point, so a poisoned lock
    /// (a panic elsewhere) is taken over.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The failure video_write must report before taking a frame, if any.
    pub fn failure(&self) -> Option<(WriteCode, String)> {
        let mut st = self.lock();
        if let Some(m) = &st.write_failed {
            return Some((WriteCode::WriteFailed, m.clone()));
        }
        st.encode_failed
            .take()
            .map(|m| (WriteCode::EncodeFailed, m))
    }

    /// Queues a frame under `policy`; Err carries the code and its message.
    pub fn push(
        &self,
        frame: Yuv420,
        policy: i32,
        block: Duration,
    ) -> Result<(), (WriteCode, String)> {
        let mut st = self.lock();
        if st.closing || st.stopped {
            return Err((WriteCode::BadCall, "the encoder is released".into()));
        }
        if st.frames.len() >= self.capacity {
            match policy {
                0 => {
                    st.stats.rejected += 1;
                    return Err((
                        WriteCode::QueueFull,
                        format!(
                            "queue full ({} frames, abort policy 0): frame rejected",
                            self.capacity
                        ),
                    ));
                }
                1 => {
                    st.frames.pop_front();
                    st.stats.dropped += 1;
                }
                2 => {
                    st.stats.dropped += st.frames.len() as u64;
                    st.frames.clear();
                }
                3 => {
                    let end = Instant::now() + block;
                    while st.frames.len() >= self.capacity {
                        if let Some(m) = &st.write_failed {
                            return Err((WriteCode::WriteFailed, m.clone()));
                        }
                        if st.closing || st.stopped {
                            return Err((WriteCode::BadCall, "the encoder is released".into()));
                        }
                        let now = Instant::now();
                        if now >= end {
                            st.stats.rejected += 1;
                            return Err((
                                WriteCode::QueueFull,
                                format!(
                                    "queue full ({} frames, abort policy 3): no room within {} ms",
                                    self.capacity,
                                    block.as_millis()
                                ),
                            ));
                        }
                        st = self
                            .room
                            .wait_timeout(st, end - now)
                            .map(|(g, _)| g)
                            .unwrap_or_else(|p| p.into_inner().0);
                    }
                }
                other => {
                    st.stats.rejected += 1;
                    return Err((
                        WriteCode::UnknownPolicy,
                        format!("queue full and abort policy {other} is unknown (0..3)"),
                    ));
                }
            }
        }
        st.frames.push_back(frame);
        st.stats.queued += 1;
        self.work.notify_all();
        Ok(())
    }

    /// The worker's next frame; None when it should stop. Waits while the
    /// queue is empty or the output has failed (until reconnect or close).
    pub fn take(&self) -> Option<Yuv420> {
        let mut st = self.lock();
        loop {
            if st.closing && (st.discard || st.write_failed.is_some() || st.frames.is_empty()) {
                st.stats.discarded += st.frames.len() as u64;
                st.frames.clear();
                st.stopped = true;
                self.room.notify_all();
                return None;
            }
            if st.write_failed.is_none() {
                if let Some(f) = st.frames.pop_front() {
                    self.room.notify_all();
                    return Some(f);
                }
            }
            st = self.work.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// The worker reports what happened to the frame it took.
    pub fn done(&self, outcome: Outcome) {
        let mut st = self.lock();
        match outcome {
            Outcome::Written { written, lost } => {
                st.stats.written += written;
                st.stats.write_failed += lost;
            }
            Outcome::EncodeFailed(m) => {
                st.stats.encode_failed += 1;
                st.encode_failed = Some(m);
            }
            Outcome::WriteFailed { message, lost } => {
                st.stats.write_failed += lost;
                st.write_failed = Some(message);
                self.room.notify_all();
            }
        }
    }

    /// Asks the worker to stop after the queued frames (or at once when `discard`).
    pub fn close(&self, discard: bool) {
        let mut st = self.lock();
        st.closing = true;
        st.discard |= discard;
        self.work.notify_all();
        self.room.notify_all();
    }

    /// After `take` returned None: should the pictures the engine still
    /// holds be coded and written? Not after a discard or a failed output.
    pub fn should_flush(&self) -> bool {
        let st = self.lock();
        !st.discard && st.write_failed.is_none()
    }

    pub fn is_closing(&self) -> bool {
        self.lock().closing
    }

    /// After a successful reconnect: clear the sticky failure, wake the worker.
    pub fn reconnected(&self) {
        let mut st = self.lock();
        st.write_failed = None;
        st.stats.reconnects += 1;
        self.work.notify_all();
    }

    pub fn stats(&self) -> Stats {
        let st = self.lock();
        Stats {
            waiting: st.frames.len() as u64,
            ..st.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f() -> Yuv420 {
        Yuv420::new(2, 2)
    }
    const B: Duration = Duration::from_millis(50);

    #[test]
    fn policies() {
        let q = Queue::new(2);
        q.push(f(), 0, B).unwrap();
        q.push(f(), 0, B).unwrap();
        assert_eq!(q.push(f(), 0, B).unwrap_err().0, WriteCode::QueueFull);
        q.push(f(), 1, B).unwrap();
        assert_eq!(q.stats().dropped, 1);
        q.push(f(), 2, B).unwrap();
        assert_eq!((q.stats().dropped, q.stats().waiting), (3, 1));
        q.push(f(), 2, B).unwrap();
        let t = Instant::now();
        assert_eq!(q.push(f(), 3, B).unwrap_err().0, WriteCode::QueueFull);
        assert!(t.elapsed() >= B);
        assert_eq!(q.push(f(), 7, B).unwrap_err().0, WriteCode::UnknownPolicy);
        let s = q.stats();
        assert_eq!((s.queued, s.rejected, s.waiting), (5, 3, 2));
    }

    #[test]
    fn failure_flags() {
        let q = Queue::new(2);
        q.done(Outcome::EncodeFailed("x".into()));
        assert_eq!(q.failure().unwrap().0, WriteCode::EncodeFailed);
        assert!(q.failure().is_none());
        q.done(Outcome::WriteFailed {
            message: "y".into(),
            lost: 1,
        });
        assert_eq!(q.failure().unwrap().0, WriteCode::WriteFailed);
        assert_eq!(q.failure().unwrap().0, WriteCode::WriteFailed);
        q.reconnected();
        assert!(q.failure().is_none());
    }
}
