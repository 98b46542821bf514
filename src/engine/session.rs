//! A Session runs one encoder on a worker thread: the caller's thread
//! converts and queues frames, the worker encodes them in order, and packets
//! wait in a bounded output queue until the consumer takes them.
//!
//! Flow rules (see venc.h): send returns AGAIN only while packets are
//! waiting, and receive returns AGAIN only while none are, so the two never
//! both say AGAIN. Receive never blocks when nothing can arrive.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::codec::{self, VideoEncoder};
use crate::engine::packet::{FrameType, Packet, FLAG_EOS, FLAG_HEADER, FLAG_KEYFRAME};
use crate::engine::params::{Codec, EncodeParams, HeaderMode, RcMode};
use crate::engine::timeline::{Timed, Timeline};
use crate::error::{Error, Result, Status};
use crate::frame::Yuv420;

/// Packets (frames' worth) the output queue holds before send says AGAIN.
const OUTPUT_CAPACITY: usize = 16;

pub struct InputFrame {
    pub picture: Yuv420,
    pub pts: i64,
    pub user_tag: u64,
    pub force_key: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
    pub keyframes: u64,
}

enum RateChange {
    Bitrate(u32),
    Qp(u8),
}

#[derive(Default)]
struct State {
    input: VecDeque<InputFrame>,
    output: VecDeque<Packet>,
    /// The worker holds a frame it took from `input`.
    busy: bool,
    draining: bool,
    /// The EOS packet is queued: nothing more will come.
    finished: bool,
    closing: bool,
    failed: Option<Error>,
    keyframe_request: bool,
    rate_changes: Vec<RateChange>,
    stats: Stats,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the worker may have work (input, drain, close).
    work: Condvar,
    /// Signalled when output appears or input room frees up.
    progress: Condvar,
}

impl Shared {
    /// A poisoned lock means a thread panicked while holding it; the data
    /// (queues and flags) stays consistent at every await point, so go on.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Session {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
    params: Mutex<EncodeParams>,
    next_pts: AtomicI64,
    queue_depth: usize,
}

impl Session {
    pub fn new(params: EncodeParams) -> Result<Session> {
        let encoder = codec::open(&params)?;
        Session::with_engine(params, encoder)
    }

    /// A session around an engine the caller built (tests, debug hooks).
    pub fn with_engine(params: EncodeParams, encoder: Box<dyn VideoEncoder>) -> Result<Session> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            progress: Condvar::new(),
        });
        let worker_shared = Arc::clone(&shared);
        let worker_params = params.clone();
        let worker = std::thread::Builder::new()
            .name(format!("venc-{}", params.codec.name()))
            .spawn(move || run_worker(&worker_shared, encoder, &worker_params))
            .map_err(|e| {
                Error::new(
                    Status::NoMemory,
                    format!("cannot start the encode thread: {e}"),
                )
            })?;
        Ok(Session {
            shared,
            worker: Some(worker),
            queue_depth: params.queue_depth.max(1) as usize,
            params: Mutex::new(params),
            next_pts: AtomicI64::new(0),
        })
    }

    /// The parameters in force, including runtime rate changes.
    pub fn params(&self) -> EncodeParams {
        self.params
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Checks that a frame could be queued now, before the caller spends time
    /// converting it. Ok(false) means AGAIN.
    pub fn ready_for_input(&self) -> Result<bool> {
        let mut st = self.shared.lock();
        loop {
            if st.closing {
                return Err(closed());
            }
            if let Some(e) = &st.failed {
                return Err(e.clone());
            }
            if st.draining {
                return Err(Error::new(
                    Status::Eof,
                    "the encoder is draining; no more frames are taken",
                ));
            }
            let input_room = st.input.len() < self.queue_depth;
            let output_room = st.output.len() < OUTPUT_CAPACITY;
            if input_room && output_room {
                return Ok(true);
            }
            if !st.output.is_empty() {
                return Ok(false);
            }
            // Output is empty and input full: the worker is about to take a
            // frame, so wait for it instead of saying AGAIN on both sides.
            st = self
                .shared
                .progress
                .wait_timeout(st, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Queues a converted frame. Call after `ready_for_input` said true.
    pub fn push(
        &self,
        picture: Yuv420,
        pts: Option<i64>,
        user_tag: u64,
        force_key: bool,
    ) -> Result<()> {
        let pts = pts.unwrap_or_else(|| self.next_pts.load(Ordering::Relaxed));
        self.next_pts
            .store(pts.saturating_add(1), Ordering::Relaxed);
        let mut st = self.shared.lock();
        if st.draining {
            return Err(Error::new(
                Status::Eof,
                "the encoder is draining; no more frames are taken",
            ));
        }
        st.input.push_back(InputFrame {
            picture,
            pts,
            user_tag,
            force_key,
        });
        st.stats.frames_in += 1;
        self.shared.work.notify_one();
        Ok(())
    }

    /// Asks for end of stream: queued frames are encoded, then an empty EOS packet.
    pub fn drain(&self) -> Result<()> {
        let mut st = self.shared.lock();
        if let Some(e) = &st.failed {
            return Err(e.clone());
        }
        st.draining = true;
        self.shared.work.notify_one();
        Ok(())
    }

    /// Takes the next packet. `timeout_ms`: -1 forever, 0 poll, >0 ms.
    pub fn receive(&self, timeout_ms: i32) -> Result<Packet> {
        let deadline =
            (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        let mut st = self.shared.lock();
        loop {
            if st.closing {
                return Err(closed());
            }
            if let Some(p) = st.output.pop_front() {
                self.shared.progress.notify_all();
                return Ok(p);
            }
            if st.finished {
                return Err(Error::new(
                    Status::Eof,
                    "end of stream: every packet was delivered",
                ));
            }
            if let Some(e) = &st.failed {
                return Err(e.clone());
            }
            // Wait forever only while something is on its way; a positive
            // timeout waits in full, since another thread may still send.
            let pending = st.busy || !st.input.is_empty() || st.draining;
            if timeout_ms == 0 || (timeout_ms < 0 && !pending) {
                return Err(Error::new(
                    Status::Again,
                    "no packet ready; send more frames or drain",
                ));
            }
            let wait = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::new(
                            Status::Again,
                            "no packet ready within the timeout",
                        ));
                    }
                    d - now
                }
                None => Duration::from_millis(500),
            };
            st = self
                .shared
                .progress
                .wait_timeout(st, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Stops the session for good: a thread blocked in `receive` or `send`
    /// returns at once. Used by free while another thread is still inside.
    pub fn close(&self) {
        {
            let mut st = self.shared.lock();
            st.closing = true;
            st.input.clear();
        }
        self.shared.work.notify_all();
        self.shared.progress.notify_all();
    }

    pub fn request_keyframe(&self) {
        self.shared.lock().keyframe_request = true;
    }

    pub fn set_bitrate(&self, bps: u32) -> Result<()> {
        let mut params = self.params.lock().unwrap_or_else(|p| p.into_inner());
        if params.rc == RcMode::Cqp {
            return Err(Error::invalid_state(
                "bitrate cannot change in cqp mode; change qp instead",
            ));
        }
        if params.codec == Codec::Mjpeg {
            return Err(Error::unsupported(
                "mjpeg has no bitrate; change its quality with set_qp",
            ));
        }
        if !(1000..=2_000_000_000).contains(&bps) {
            return Err(Error::bad_value(format!(
                "bitrate {bps} bit/s is outside 1000..2000000000"
            )));
        }
        params.bitrate = bps;
        self.shared
            .lock()
            .rate_changes
            .push(RateChange::Bitrate(bps));
        Ok(())
    }

    pub fn set_qp(&self, qp: u8) -> Result<()> {
        let mut params = self.params.lock().unwrap_or_else(|p| p.into_inner());
        let max = if params.codec == Codec::Mjpeg {
            100
        } else {
            51
        };
        if qp > max || (params.codec == Codec::Mjpeg && qp == 0) {
            return Err(Error::bad_value(format!(
                "qp {qp} is outside the range of {}",
                params.codec.name()
            )));
        }
        if params.codec != Codec::Mjpeg && params.rc != RcMode::Cqp {
            return Err(Error::invalid_state("qp can change only in cqp mode"));
        }
        if params.codec == Codec::Mjpeg {
            params.quality = qp;
        } else {
            params.qp = qp;
        }
        self.shared.lock().rate_changes.push(RateChange::Qp(qp));
        Ok(())
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().stats
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        {
            let mut st = self.shared.lock();
            st.closing = true;
            st.input.clear();
        }
        self.shared.work.notify_all();
        self.shared.progress.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn run_worker(shared: &Shared, mut encoder: Box<dyn VideoEncoder>, params: &EncodeParams) {
    let reorder_delay = encoder.reorder_delay();
    let mut timeline = Timeline::<u64>::new(reorder_delay);
    let mut since_key: u64 = 0;
    loop {
        let (frame, force, changes) = {
            let mut st = shared.lock();
            loop {
                if st.closing {
                    return;
                }
                if !st.input.is_empty() || st.draining {
                    break;
                }
                st = shared.work.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            let frame = st.input.pop_front();
            st.busy = true;
            let force = std::mem::take(&mut st.keyframe_request);
            let changes = std::mem::take(&mut st.rate_changes);
            shared.progress.notify_all();
            (frame, force, changes)
        };

        let end = frame.is_none();
        let result = apply_changes(encoder.as_mut(), changes).and_then(|()| match frame {
            Some(frame) => {
                let gop_due = params.gop > 0 && since_key >= u64::from(params.gop);
                let force = force || frame.force_key || gop_due;
                if force {
                    since_key = 0;
                }
                since_key += 1;
                timeline.input(frame.pts, frame.user_tag);
                let coded = catch(|| encoder.encode(&frame.picture, force))?;
                Ok(timeline.coded(coded, false))
            }
            None => {
                let coded = catch(|| encoder.flush())?;
                Ok(timeline.coded(coded, true))
            }
        });

        let mut st = shared.lock();
        st.busy = false;
        match result {
            Ok(timed) => {
                for t in timed {
                    if t.coded.keyframe && reorder_delay == 0 {
                        // The engine chose a keyframe itself: the GOP restarts.
                        since_key = 1;
                    }
                    for p in packets(t, params.header_mode) {
                        if p.is_keyframe() {
                            st.stats.keyframes += 1;
                        }
                        if !p.is_header() || p.is_keyframe() {
                            st.stats.frames_out += 1;
                        }
                        st.stats.bytes_out += p.data.len() as u64;
                        st.output.push_back(p);
                    }
                }
                if end {
                    let frames_in = st.stats.frames_in;
                    st.output.push_back(eos_packet(frames_in));
                    st.finished = true;
                    shared.progress.notify_all();
                    return;
                }
            }
            Err(e) => {
                st.failed = Some(e);
                shared.progress.notify_all();
                return;
            }
        }
        shared.progress.notify_all();
    }
}

fn closed() -> Error {
    Error::invalid_state("the encoder is being freed")
}

/// Runs an engine call, turning a panic inside it into a BACKEND error.
fn catch<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::backend(
            "the encoder engine panicked; this encoder cannot continue",
        ))
    })
}

fn apply_changes(encoder: &mut dyn VideoEncoder, changes: Vec<RateChange>) -> Result<()> {
    for c in changes {
        match c {
            RateChange::Bitrate(b) => encoder.set_bitrate(b)?,
            RateChange::Qp(q) => encoder.set_qp(q)?,
        }
    }
    Ok(())
}

fn packets(t: Timed<u64>, mode: HeaderMode) -> Vec<Packet> {
    let coded = t.coded;
    let frame_type = coded.frame_type.unwrap_or(if coded.keyframe {
        FrameType::Idr
    } else {
        FrameType::P
    });
    let mut flags = if coded.keyframe { FLAG_KEYFRAME } else { 0 };
    let mut out = Vec::with_capacity(2);
    let mut data = coded.data;
    if !coded.parameter_sets.is_empty() {
        match mode {
            HeaderMode::Separate => out.push(Packet {
                data: coded.parameter_sets,
                flags: FLAG_HEADER,
                pts: t.pts,
                dts: t.dts,
                user_tag: t.meta,
                frame_type: FrameType::None,
                frame_index: coded.display_index,
            }),
            HeaderMode::Inband => {
                let mut joined = coded.parameter_sets;
                joined.extend_from_slice(&data);
                data = joined;
                flags |= FLAG_HEADER;
            }
        }
    }
    out.push(Packet {
        data,
        flags,
        pts: t.pts,
        dts: t.dts,
        user_tag: t.meta,
        frame_type,
        frame_index: coded.display_index,
    });
    out
}

fn eos_packet(index: u64) -> Packet {
    Packet {
        data: Vec::new(),
        flags: FLAG_EOS,
        pts: 0,
        dts: 0,
        user_tag: 0,
        frame_type: FrameType::None,
        frame_index: index,
    }
}
