//! One K230 encoder channel: a Session plus the stream bookkeeping
//! (started flag, streams held by the caller, frame-rate conversion).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::engine::{Packet, Session};
use crate::error::Status;
use crate::frame::{to_yuv420, Yuv420};

use super::attr::ChnAttr;
use super::device::InputFrame;
use super::error::{Code, K230Error, KResult};
use super::stream::{Pack, PackType, Stream};

/// What `query_status` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChnStatus {
    pub started: bool,
    /// Frames sent and not yet encoded.
    pub left_pics: u64,
    /// Encoded streams waiting for `get_stream`.
    pub left_streams: u64,
    /// Streams got and not yet released.
    pub held_streams: u64,
    pub frames_encoded: u64,
    /// Frames dropped by the src → dst frame-rate conversion.
    pub frames_dropped: u64,
}

#[derive(Default)]
struct ChanState {
    started: bool,
    destroyed: bool,
    held: VecDeque<Arc<Stream>>,
    next_seq: u64,
    frames_in: u64,
    dropped: u64,
}

pub(crate) struct Channel {
    pub attr: ChnAttr,
    pub buf_num: u32,
    session: Session,
    state: Mutex<ChanState>,
}

/// How long one wait inside a blocking call lasts before flags are re-checked.
const SLICE_MS: u64 = 20;

fn deadline(timeout_ms: i32) -> Option<Instant> {
    (timeout_ms >= 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64))
}

impl Channel {
    pub fn new(attr: ChnAttr, buf_num: u32) -> KResult<Channel> {
        let params = attr.to_params()?;
        let session = Session::new(params)?;
        Ok(Channel {
            attr,
            buf_num,
            session,
            state: Mutex::new(ChanState::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, ChanState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_started(&self) -> bool {
        self.lock().started
    }

    pub fn start(&self) -> KResult<()> {
        let mut st = self.lock();
        if st.started {
            return Err(K230Error::new(Code::NotPerm, "channel is already started"));
        }
        st.started = true;
        Ok(())
    }

    pub fn stop(&self) {
        self.lock().started = false;
    }

    /// Marks the channel gone so that blocked calls on other threads return.
    pub fn retire(&self) {
        let mut st = self.lock();
        st.destroyed = true;
        st.started = false;
        st.held.clear();
    }

    pub fn send_frame(&self, frame: &InputFrame, timeout_ms: i32) -> KResult<()> {
        let (w, h) = (self.attr.width, self.attr.height);
        if frame.view.width != w || frame.view.height != h {
            return Err(K230Error::new(
                Code::IllegalParam,
                format!(
                    "frame is {}x{} but the channel encodes {w}x{h}",
                    frame.view.width, frame.view.height
                ),
            ));
        }
        frame
            .view
            .validate()
            .map_err(|e| K230Error::new(Code::IllegalParam, format!("frame: {e}")))?;
        {
            let mut st = self.lock();
            if !st.started {
                return Err(K230Error::new(
                    Code::NotPerm,
                    "channel is not started: call start before send_frame",
                ));
            }
            // Even frame-rate conversion: keep frame n when the output
            // count advances (the first frame is always kept).
            let (src, dst) = (
                u64::from(self.attr.src_fps()),
                u64::from(self.attr.dst_fps()),
            );
            let n = st.frames_in;
            let keep = ((n + 1) * dst).div_ceil(src) > (n * dst).div_ceil(src);
            if !keep {
                st.frames_in += 1;
                st.dropped += 1;
                return Ok(());
            }
        }
        let end = deadline(timeout_ms);
        loop {
            if self.session.ready_for_input()? {
                break;
            }
            if end.is_some_and(|d| Instant::now() >= d) {
                return Err(K230Error::new(
                    Code::BufFull,
                    "the channel's queues are full: get and release streams first",
                ));
            }
            if self.lock().destroyed {
                return Err(K230Error::new(Code::Unexist, "channel was destroyed"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut picture = Yuv420::new(w, h);
        to_yuv420(&frame.view, &mut picture)
            .map_err(|e| K230Error::new(Code::IllegalParam, format!("frame: {e}")))?;
        self.lock().frames_in += 1;
        self.session.push(picture, Some(frame.pts_us), 0, false)?;
        Ok(())
    }

    /// Takes the next encoded frame as a stream. The channel keeps it (and
    /// the memory of its packs) until `release_stream`.
    pub fn get_stream(&self, timeout_ms: i32) -> KResult<Arc<Stream>> {
        {
            let st = self.lock();
            if st.held.len() >= self.buf_num as usize {
                return Err(K230Error::new(
                    Code::NoBuf,
                    format!(
                        "all {} output buffers are held: release streams first",
                        self.buf_num
                    ),
                ));
            }
        }
        let end = deadline(timeout_ms);
        let first = loop {
            let slice = match end {
                Some(d) => d
                    .saturating_duration_since(Instant::now())
                    .as_millis()
                    .min(u128::from(SLICE_MS)) as i32,
                None => SLICE_MS as i32,
            };
            match self.session.receive(slice) {
                Ok(p) => break p,
                Err(e) if e.status == Status::Again => {}
                Err(e) => return Err(e.into()),
            }
            let (started, destroyed) = {
                let st = self.lock();
                (st.started, st.destroyed)
            };
            if destroyed {
                return Err(K230Error::new(Code::Unexist, "channel was destroyed"));
            }
            let timed_out = match end {
                Some(d) => Instant::now() >= d,
                // Blocking forever on a stopped channel with nothing in
                // flight would never end: report it instead.
                None => !started && !self.in_flight(),
            };
            if timed_out {
                return Err(K230Error::new(
                    Code::BufEmpty,
                    "no stream is ready within the timeout",
                ));
            }
            if !self.in_flight() {
                std::thread::sleep(Duration::from_millis(2));
            }
        };
        let mut packs = Vec::with_capacity(2);
        let frame = if first.is_header() && !first.is_keyframe() {
            packs.push(Pack {
                data: first.data,
                pack_type: PackType::Header,
                pts: first.pts,
            });
            // The worker queues the header and its frame together.
            self.session.receive(1000)?
        } else {
            first
        };
        packs.push(frame_pack(frame));
        let mut st = self.lock();
        let stream = Arc::new(Stream {
            seq: st.next_seq,
            packs,
        });
        st.next_seq += 1;
        st.held.push_back(Arc::clone(&stream));
        Ok(stream)
    }

    fn in_flight(&self) -> bool {
        let stats = self.session.stats();
        stats.frames_in > stats.frames_out
    }

    /// Gives a stream's buffers back. Streams are released in the order
    /// they were got.
    pub fn release_stream(&self, seq: u64) -> KResult<()> {
        let mut st = self.lock();
        match st.held.front() {
            None => Err(K230Error::new(
                Code::IllegalParam,
                "no stream is held on this channel",
            )),
            Some(s) if s.seq != seq => Err(K230Error::new(
                Code::IllegalParam,
                format!(
                    "streams must be released in order: the oldest held is #{}, not #{seq}",
                    s.seq
                ),
            )),
            Some(_) => {
                st.held.pop_front();
                Ok(())
            }
        }
    }

    pub fn request_idr(&self) {
        self.session.request_keyframe();
    }

    pub fn status(&self) -> ChnStatus {
        let stats = self.session.stats();
        let st = self.lock();
        ChnStatus {
            started: st.started,
            left_pics: stats.frames_in.saturating_sub(stats.frames_out),
            left_streams: stats.frames_out.saturating_sub(st.next_seq),
            held_streams: st.held.len() as u64,
            frames_encoded: stats.frames_out,
            frames_dropped: st.dropped,
        }
    }
}

fn frame_pack(p: Packet) -> Pack {
    Pack {
        pack_type: if p.is_keyframe() {
            PackType::I
        } else {
            PackType::P
        },
        pts: p.pts,
        data: p.data,
    }
}
