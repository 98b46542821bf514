//! The emulated stateful encoder: one `Inner` behind a mutex holds the
//! queues, formats, controls, events and state machine; `pump` moves work
//! along (OUTPUT buffers → Session, packets → CAPTURE buffers, drain end)
//! on every call, and blocking calls wait on the Session or a condvar.

use std::collections::VecDeque;
use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::buffers::{BufInfo, Queue};
use super::controls::{self as ctl, Controls};
use super::error::{ebusy, einval, V4l2Error, VResult};
use super::events::Events;
use super::formats::{self, CodedFormat, RawGeometry, CODED, RAW};
use super::state::{CmdOutcome, Machine};
use super::uapi::*;
use crate::engine::chip;
use crate::engine::packet::{FrameType, Packet};
use crate::engine::params::{Codec, EncodeParams, GopShape, HeaderMode, Profile, RcMode};
use crate::engine::session::Session;
use crate::error::Status;
use crate::frame::{to_yuv420, PixelFormat, Yuv420};

/// Memory types REQBUFS/CREATE_BUFS report.
const BUF_CAPS: u32 = BUF_CAP_SUPPORTS_MMAP | BUF_CAP_SUPPORTS_USERPTR | BUF_CAP_SUPPORTS_DMABUF;

/// Which EXT_CTRLS ioctl.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtrlOp {
    Get,
    Set,
    Try,
}

struct Inner {
    m: Machine,
    out_q: Queue,
    cap_q: Queue,
    coded: CodedFormat,
    /// sizeimage the client asked for on CAPTURE (0 = ours).
    cap_sizeimage: u32,
    raw: RawGeometry,
    colorspace: u32,
    crop: v4l2_rect,
    /// OUTPUT timeperframe (numerator, denominator).
    tpf: (u32, u32),
    ctrls: Controls,
    events: Events,
    session: Option<Arc<Session>>,
    /// Frames given to the session / frame packets taken back.
    pushed: u64,
    received: u64,
    /// `pushed` value that ends the current drain.
    drain_target: u64,
    pending: VecDeque<Packet>,
    headers_sent: bool,
    held_header: Option<Vec<u8>>,
    fatal: Option<String>,
}

pub struct Emulated {
    inner: Mutex<Inner>,
    cond: Condvar,
    nonblock: bool,
}

fn tag_of(ts: (i64, i64)) -> u64 {
    (ts.0.wrapping_mul(1_000_000).wrapping_add(ts.1)) as u64
}

fn ts_of(tag: u64) -> (i64, i64) {
    let t = tag as i64;
    (t.div_euclid(1_000_000), t.rem_euclid(1_000_000))
}

fn check_type(type_: u32) -> VResult<bool> {
    match type_ {
        BUF_TYPE_VIDEO_CAPTURE | BUF_TYPE_VIDEO_CAPTURE_MPLANE => Ok(true),
        BUF_TYPE_VIDEO_OUTPUT | BUF_TYPE_VIDEO_OUTPUT_MPLANE => Ok(false),
        _ => Err(einval(format!(
            "buffer type {type_} is not a queue of this encoder"
        ))),
    }
}

impl Inner {
    fn new() -> Inner {
        let raw = RawGeometry::adjust(
            PIX_FMT_NV12,
            formats::DEFAULT_WIDTH,
            formats::DEFAULT_HEIGHT,
            0,
        );
        Inner {
            m: Machine::default(),
            out_q: Queue::new(false),
            cap_q: Queue::new(true),
            coded: CODED[0],
            cap_sizeimage: 0,
            crop: raw.default_crop(raw.width, raw.height),
            raw,
            colorspace: COLORSPACE_REC709,
            tpf: (1, 30),
            ctrls: Controls::default(),
            events: Events::default(),
            session: None,
            pushed: 0,
            received: 0,
            drain_target: 0,
            pending: VecDeque::new(),
            headers_sent: false,
            held_header: None,
            fatal: None,
        }
    }

    fn check_fatal(&self) -> VResult<()> {
        match &self.fatal {
            Some(m) => Err(V4l2Error::new(
                libc::EIO,
                format!("the encoder failed: {m}"),
            )),
            None => Ok(()),
        }
    }

    fn fail(&mut self, message: String) {
        self.fatal = Some(message);
    }

    fn queue(&mut self, capture: bool) -> &mut Queue {
        if capture {
            &mut self.cap_q
        } else {
            &mut self.out_q
        }
    }

    /// Settings that shape the stream are fixed while CAPTURE streams.
    fn busy(&self) -> bool {
        self.cap_q.streaming
    }

    fn in_flight(&self) -> bool {
        self.session.is_some() && self.pushed > self.received
    }

    fn cap_size(&self) -> u32 {
        formats::coded_sizeimage(self.crop.width, self.crop.height, self.cap_sizeimage)
    }

    fn params(&self) -> EncodeParams {
        let c = &self.ctrls;
        let codec = self.coded.codec;
        let rc = if c.value(CID_MPEG_VIDEO_FRAME_RC_ENABLE) == 0 {
            RcMode::Cqp
        } else {
            match c.value(CID_MPEG_VIDEO_BITRATE_MODE) {
                ctl::BITRATE_MODE_CBR => RcMode::Cbr,
                ctl::BITRATE_MODE_CQ => RcMode::Cqp,
                _ => RcMode::Vbr,
            }
        };
        let gop = c.value(CID_MPEG_VIDEO_GOP_SIZE);
        let period = c.value(CID_MPEG_VIDEO_H264_I_PERIOD);
        let gop = if codec == Codec::H264 && period > 0 && (gop == 0 || period < gop) {
            period
        } else {
            gop
        };
        let profile = match codec {
            Codec::H265 => Profile::Main,
            _ => match c.value(CID_MPEG_VIDEO_H264_PROFILE) {
                ctl::H264_PROFILE_BASELINE | ctl::H264_PROFILE_CONSTRAINED_BASELINE => {
                    Profile::Baseline
                }
                ctl::H264_PROFILE_MAIN => Profile::Main,
                _ => Profile::High,
            },
        };
        let bitrate = c.value(CID_MPEG_VIDEO_BITRATE) as u32;
        EncodeParams {
            codec,
            width: self.crop.width,
            height: self.crop.height,
            pix_fmt: PixelFormat::I420,
            fps_num: self.tpf.1,
            fps_den: self.tpf.0,
            rc,
            bitrate,
            max_bitrate: bitrate.saturating_mul(2),
            qp: c.value(CID_MPEG_VIDEO_H264_I_FRAME_QP) as u8,
            gop: gop as u32,
            gop_shape: GopShape::IpOnly,
            profile,
            header_mode: HeaderMode::Separate,
            threads: 0,
            quality: c.value(CID_JPEG_COMPRESSION_QUALITY) as u8,
            chip: chip::find("v4l2").unwrap_or(&chip::CHIPS[0]),
            queue_depth: 4,
        }
    }

    /// The session for the current settings; Ok(None) while the old one
    /// still has frames in flight.
    fn ensure_session(&mut self) -> VResult<Option<Arc<Session>>> {
        if let Some(s) = &self.session {
            let p = s.params();
            if p.width == self.crop.width && p.height == self.crop.height {
                return Ok(Some(Arc::clone(s)));
            }
            if self.in_flight() {
                return Ok(None);
            }
        }
        let s = Session::new(self.params()).map_err(|e| einval(e.message))?;
        let s = Arc::new(s);
        self.session = Some(Arc::clone(&s));
        self.headers_sent = false;
        Ok(Some(s))
    }

    fn reset(&mut self) {
        self.session = None;
        self.pending.clear();
        self.held_header = None;
        self.headers_sent = false;
        self.pushed = 0;
        self.received = 0;
        self.drain_target = 0;
    }

    fn pump(&mut self) {
        if self.fatal.is_some() {
            return;
        }
        if self.m.processing() {
            self.feed();
        }
        if let Some(s) = self.session.clone() {
            loop {
                match s.receive(0) {
                    Ok(p) => self.take_packet(p),
                    Err(e) if e.status == Status::Again || e.status == Status::Eof => break,
                    Err(e) => {
                        self.fail(e.message);
                        return;
                    }
                }
            }
        }
        self.deliver();
        if self.m.draining
            && !self.m.next_buf_last
            && self.pushed >= self.drain_target
            && self.received >= self.drain_target
            && self.pending.is_empty()
        {
            self.finish_drain();
        }
    }

    fn feed(&mut self) {
        while let Some(&idx) = self.out_q.queued.front() {
            if self.m.draining && self.pushed >= self.drain_target {
                break;
            }
            let session = match self.ensure_session() {
                Ok(Some(s)) => s,
                Ok(None) => break,
                Err(e) => return self.fail(e.message),
            };
            match session.ready_for_input() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return self.fail(e.message),
            }
            let b = self.out_q.buffer(idx);
            let (ts, used) = (b.timestamp, b.bytesused);
            let mut pic = Yuv420::new(self.crop.width, self.crop.height);
            let converted = self
                .raw
                .view(self.out_q.data(idx), self.crop)
                .map(|view| to_yuv420(&view, &mut pic).is_ok())
                .unwrap_or(false);
            if !converted {
                self.out_q.complete(idx, used, BUF_FLAG_ERROR, ts);
                continue;
            }
            if let Err(e) = session.push(pic, Some(self.pushed as i64), tag_of(ts), false) {
                return self.fail(e.message);
            }
            self.pushed += 1;
            self.out_q.complete(idx, used, 0, ts);
        }
    }

    fn take_packet(&mut self, p: Packet) {
        if p.is_eos() {
            return;
        }
        if !p.is_header() {
            self.received += 1;
        }
        self.pending.push_back(p);
    }

    fn repeat_headers(&self) -> bool {
        self.ctrls.value(CID_MPEG_VIDEO_REPEAT_SEQ_HEADER) != 0
            || self.ctrls.value(CID_MPEG_VIDEO_PREPEND_SPSPPS_TO_IDR) != 0
    }

    fn deliver(&mut self) {
        let joined = self.ctrls.value(CID_MPEG_VIDEO_HEADER_MODE) == ctl::HEADER_MODE_JOINED;
        while self.cap_q.streaming {
            let Some(p) = self.pending.front() else { break };
            let header = p.is_header();
            if header && self.headers_sent && !self.repeat_headers() {
                self.pending.pop_front();
                continue;
            }
            if header && joined {
                if let Some(p) = self.pending.pop_front() {
                    self.headers_sent = true;
                    self.held_header = Some(p.data);
                }
                continue;
            }
            let Some(&idx) = self.cap_q.queued.front() else {
                break;
            };
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            let mut data = p.data;
            let flags = if header {
                self.headers_sent = true;
                0
            } else {
                if let Some(mut h) = self.held_header.take() {
                    h.extend_from_slice(&data);
                    data = h;
                }
                if p.flags & crate::engine::packet::FLAG_KEYFRAME != 0 {
                    BUF_FLAG_KEYFRAME
                } else if p.frame_type == FrameType::B {
                    BUF_FLAG_BFRAME
                } else {
                    BUF_FLAG_PFRAME
                }
            };
            if data.is_empty() {
                continue; // a skipped frame: non-LAST buffers are never empty
            }
            let ts = ts_of(p.user_tag);
            let buf = self.cap_q.data_mut(idx);
            if data.len() > buf.len() {
                self.cap_q.complete(idx, 0, flags | BUF_FLAG_ERROR, ts);
            } else {
                buf[..data.len()].copy_from_slice(&data);
                self.cap_q.complete(idx, data.len() as u32, flags, ts);
            }
        }
    }

    /// Everything queued before STOP is encoded: flag the newest finished
    /// CAPTURE buffer LAST, or return an empty one, or (no CAPTURE buffer
    /// queued) stay draining until the next QBUF(CAPTURE), as the kernel's
    /// mem2mem core does.
    fn finish_drain(&mut self) {
        self.events.eos();
        if self.cap_q.flag_newest_done(BUF_FLAG_LAST) {
            self.m.drain_finished();
            return;
        }
        self.m.next_buf_last = true;
        self.force_last();
    }

    fn force_last(&mut self) {
        if !self.m.next_buf_last || !self.cap_q.streaming {
            return;
        }
        if let Some(&idx) = self.cap_q.queued.front() {
            self.cap_q.complete(idx, 0, BUF_FLAG_LAST, (0, 0));
            self.m.next_buf_last = false;
            self.m.drain_finished();
        }
    }

    fn revents(&self) -> i16 {
        let mut r = 0;
        if self.events.pending() {
            r |= libc::POLLPRI;
        }
        if !self.out_q.streaming && !self.cap_q.streaming {
            return if r == 0 { libc::POLLERR } else { r };
        }
        if self.cap_q.streaming && (!self.cap_q.done.is_empty() || self.m.last_dequeued) {
            r |= libc::POLLIN | libc::POLLRDNORM;
        }
        if self.out_q.streaming && !self.out_q.done.is_empty() {
            r |= libc::POLLOUT | libc::POLLWRNORM;
        }
        r
    }

    fn fill_format(&self, f: &mut v4l2_format, capture: bool) {
        let (fourcc, w, h, bpl, size, cs) = if capture {
            (
                self.coded.fourcc,
                self.crop.width,
                self.crop.height,
                0,
                self.cap_size(),
                self.colorspace,
            )
        } else {
            let r = &self.raw;
            (
                r.format.fourcc,
                r.width,
                r.height,
                r.bytesperline,
                r.sizeimage,
                self.colorspace,
            )
        };
        fill_format(f, fourcc, w, h, bpl, size, cs);
    }
}

fn fill_format(f: &mut v4l2_format, fourcc: u32, w: u32, h: u32, bpl: u32, size: u32, cs: u32) {
    let type_ = f.type_;
    *f = v4l2_format::default();
    f.type_ = type_;
    if is_mplane(type_) {
        let mut plane_fmt = [v4l2_plane_pix_format {
            sizeimage: 0,
            bytesperline: 0,
            reserved: [0; 6],
        }; VIDEO_MAX_PLANES];
        plane_fmt[0].sizeimage = size;
        plane_fmt[0].bytesperline = bpl;
        let mp = v4l2_pix_format_mplane {
            width: w,
            height: h,
            pixelformat: fourcc,
            field: FIELD_NONE,
            colorspace: cs,
            plane_fmt,
            num_planes: 1,
            ..v4l2_pix_format_mplane::default()
        };
        f.fmt.pix_mp = mp;
    } else {
        f.fmt.pix = v4l2_pix_format {
            width: w,
            height: h,
            pixelformat: fourcc,
            field: FIELD_NONE,
            bytesperline: bpl,
            sizeimage: size,
            colorspace: cs,
            ..v4l2_pix_format::default()
        };
    }
}

/// (fourcc, width, height, bytesperline, sizeimage, colorspace) of a request.
fn read_format(f: &v4l2_format) -> (u32, u32, u32, u32, u32, u32) {
    // SAFETY: both union members are plain integers; the type says which one
    // the client filled, and any bit pattern is a valid value.
    unsafe {
        if is_mplane(f.type_) {
            let mp = f.fmt.pix_mp;
            let p0 = mp.plane_fmt[0];
            (
                mp.pixelformat,
                mp.width,
                mp.height,
                p0.bytesperline,
                p0.sizeimage,
                mp.colorspace,
            )
        } else {
            let p = f.fmt.pix;
            (
                p.pixelformat,
                p.width,
                p.height,
                p.bytesperline,
                p.sizeimage,
                p.colorspace,
            )
        }
    }
}

impl Default for Emulated {
    fn default() -> Emulated {
        Emulated::new(false)
    }
}

impl Emulated {
    pub fn new(nonblock: bool) -> Emulated {
        Emulated {
            inner: Mutex::new(Inner::new()),
            cond: Condvar::new(),
            nonblock,
        }
    }

    fn lock(&self) -> VResult<MutexGuard<'_, Inner>> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.check_fatal()?;
        Ok(g)
    }

    /// EIO once the encoder failed.
    fn check(&self) -> VResult<()> {
        self.lock().map(drop)
    }

    /// Sleeps until something may have changed (a packet, another thread's
    /// call) or `deadline`.
    fn wait<'a>(
        &'a self,
        g: MutexGuard<'a, Inner>,
        deadline: Option<Instant>,
    ) -> MutexGuard<'a, Inner> {
        let mut slice = Duration::from_millis(20);
        if let Some(d) = deadline {
            slice = slice.min(d.saturating_duration_since(Instant::now()));
        }
        let session = if g.in_flight() {
            g.session.clone()
        } else {
            None
        };
        match session {
            Some(s) => {
                drop(g);
                let r = s.receive(slice.as_millis().max(1) as i32);
                let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
                let same = g.session.as_ref().is_some_and(|cur| Arc::ptr_eq(cur, &s));
                match r {
                    Ok(p) if same => g.take_packet(p),
                    Err(e) if same && e.status != Status::Again && e.status != Status::Eof => {
                        g.fail(e.message)
                    }
                    _ => {}
                }
                g
            }
            None => self
                .cond
                .wait_timeout(g, slice)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0),
        }
    }

    pub fn querycap(&self, cap: &mut v4l2_capability) -> VResult<()> {
        self.check()?;
        *cap = v4l2_capability::default();
        fill_str(&mut cap.driver, "venc");
        fill_str(&mut cap.card, "libvenc emulated encoder");
        fill_str(&mut cap.bus_info, "platform:venc-v4l2");
        cap.version = 6 << 16;
        cap.device_caps = CAP_VIDEO_M2M | CAP_VIDEO_M2M_MPLANE | CAP_STREAMING | CAP_EXT_PIX_FORMAT;
        cap.capabilities = cap.device_caps | CAP_DEVICE_CAPS;
        Ok(())
    }

    pub fn enum_fmt(&self, f: &mut v4l2_fmtdesc) -> VResult<()> {
        self.check()?;
        let capture = check_type(f.type_)?;
        let i = f.index as usize;
        let (fourcc, flags, desc) = if capture {
            let c = CODED.get(i).ok_or_else(|| einval("no more formats"))?;
            (c.fourcc, FMT_FLAG_COMPRESSED, c.description)
        } else {
            let r = RAW.get(i).ok_or_else(|| einval("no more formats"))?;
            (r.fourcc, 0, r.description)
        };
        let (index, type_) = (f.index, f.type_);
        *f = v4l2_fmtdesc::default();
        f.index = index;
        f.type_ = type_;
        f.flags = flags;
        f.pixelformat = fourcc;
        fill_str(&mut f.description, desc);
        Ok(())
    }

    pub fn g_fmt(&self, f: &mut v4l2_format) -> VResult<()> {
        let g = self.lock()?;
        let capture = check_type(f.type_)?;
        g.fill_format(f, capture);
        Ok(())
    }

    /// S_FMT (`set`) or TRY_FMT.
    pub fn s_fmt(&self, f: &mut v4l2_format, set: bool) -> VResult<()> {
        let mut g = self.lock()?;
        let capture = check_type(f.type_)?;
        let (fourcc, w, h, bpl, size, cs) = read_format(f);
        let cs = if cs == 0 { g.colorspace } else { cs };
        if capture {
            let coded = formats::coded(fourcc).unwrap_or(CODED[0]);
            if set {
                if g.cap_q.count() > 0 || g.out_q.count() > 0 {
                    return Err(ebusy(
                        "buffers are allocated; the CAPTURE format cannot change",
                    ));
                }
                g.coded = coded;
                g.cap_sizeimage = size;
                g.colorspace = cs;
                g.fill_format(f, true);
            } else {
                let size = formats::coded_sizeimage(g.crop.width, g.crop.height, size);
                fill_format(f, coded.fourcc, g.crop.width, g.crop.height, 0, size, cs);
            }
        } else {
            let raw = RawGeometry::adjust(fourcc, w, h, bpl);
            if set {
                if g.out_q.count() > 0 {
                    return Err(ebusy("OUTPUT buffers are allocated; free them first"));
                }
                g.crop = raw.default_crop(w, h);
                g.raw = raw;
                g.colorspace = cs;
                g.fill_format(f, false);
            } else {
                fill_format(
                    f,
                    raw.format.fourcc,
                    raw.width,
                    raw.height,
                    raw.bytesperline,
                    raw.sizeimage,
                    cs,
                );
            }
        }
        Ok(())
    }

    pub fn reqbufs(&self, r: &mut v4l2_requestbuffers) -> VResult<()> {
        let mut g = self.lock()?;
        let capture = check_type(r.type_)?;
        let size = if capture {
            g.cap_size()
        } else {
            g.raw.sizeimage
        };
        let n = g.queue(capture).reqbufs(r.count, r.memory, r.type_, size)?;
        r.count = n;
        r.capabilities = BUF_CAPS;
        r.flags = 0;
        r.reserved = [0; 3];
        Ok(())
    }

    /// CREATE_BUFS: `format.sizeimage` may ask for bigger buffers, not smaller.
    pub fn create_bufs(&self, c: &mut v4l2_create_buffers) -> VResult<()> {
        let mut g = self.lock()?;
        let capture = check_type(c.format.type_)?;
        let size = read_format(&c.format).4;
        let need = if capture {
            g.cap_size()
        } else {
            g.raw.sizeimage
        };
        if size != 0 && size < need {
            return Err(einval(format!(
                "sizeimage {size} is smaller than the {need} bytes the format needs"
            )));
        }
        let q = g.queue(capture);
        let (first, n) = q.create_bufs(c.count, c.memory, c.format.type_, size.max(need))?;
        c.index = first;
        c.count = n;
        c.capabilities = BUF_CAPS;
        Ok(())
    }

    /// EXPBUF: a dma-buf-like fd (a memfd) for a MMAP buffer.
    pub fn expbuf(&self, e: &mut v4l2_exportbuffer) -> VResult<()> {
        let g = self.lock()?;
        let q = if check_type(e.type_)? {
            &g.cap_q
        } else {
            &g.out_q
        };
        e.fd = q.export(e.index, e.plane, e.flags & libc::O_CLOEXEC as u32 != 0)?;
        Ok(())
    }

    fn queue_for(g: &mut Inner, type_: u32) -> VResult<(bool, &mut Queue)> {
        let capture = check_type(type_)?;
        let q = g.queue(capture);
        if q.count() > 0 && is_mplane(q.type_) != is_mplane(type_) {
            return Err(einval(
                "the buffer type does not match the type used with REQBUFS",
            ));
        }
        Ok((capture, q))
    }

    pub fn querybuf(&self, b: &mut BufInfo) -> VResult<()> {
        let mut g = self.lock()?;
        let (_, q) = Self::queue_for(&mut g, b.type_)?;
        *b = q.querybuf(b.index)?;
        Ok(())
    }

    pub fn qbuf(&self, b: &mut BufInfo) -> VResult<()> {
        let mut g = self.lock()?;
        let (capture, q) = Self::queue_for(&mut g, b.type_)?;
        let idx = q.qbuf(b)?;
        if capture {
            g.force_last();
        }
        g.pump();
        *b = g.queue(capture).info(idx);
        drop(g);
        self.cond.notify_all();
        Ok(())
    }

    pub fn dqbuf(&self, b: &mut BufInfo) -> VResult<()> {
        let mut g = self.lock()?;
        let capture = check_type(b.type_)?;
        let memory = b.memory;
        loop {
            g.check_fatal()?;
            g.pump();
            let q = g.queue(capture);
            if q.count() > 0 && memory != q.memory {
                return Err(einval("memory type does not match the queue"));
            }
            if let Some(info) = q.dqbuf() {
                if capture && info.flags & BUF_FLAG_LAST != 0 {
                    g.m.last_dequeued = true;
                }
                *b = info;
                return Ok(());
            }
            if !g.queue(capture).streaming {
                return Err(einval(
                    "the queue is not streaming; nothing can be dequeued",
                ));
            }
            if capture && g.m.last_dequeued {
                return Err(V4l2Error::new(
                    libc::EPIPE,
                    "the LAST buffer was dequeued; send START or restart CAPTURE",
                ));
            }
            if self.nonblock {
                return Err(V4l2Error::new(libc::EAGAIN, "no buffer is ready"));
            }
            g = self.wait(g, None);
        }
    }

    pub fn streamon(&self, type_: u32) -> VResult<()> {
        let mut g = self.lock()?;
        let (capture, q) = Self::queue_for(&mut g, type_)?;
        if q.count() == 0 {
            return Err(einval("no buffers are allocated on this queue"));
        }
        if q.streaming {
            return Ok(());
        }
        q.streaming = true;
        g.m.streamon(capture);
        if g.m.processing() {
            if let Err(e) = g.ensure_session() {
                g.queue(capture).streaming = false;
                g.m.streamoff(capture);
                return Err(e);
            }
        }
        g.pump();
        drop(g);
        self.cond.notify_all();
        Ok(())
    }

    pub fn streamoff(&self, type_: u32) -> VResult<()> {
        let mut g = self.lock()?;
        let (capture, q) = Self::queue_for(&mut g, type_)?;
        q.streamoff();
        if g.m.streamoff(capture) {
            g.reset();
        } else if g.m.next_buf_last {
            g.events.eos();
            g.force_last();
        }
        g.pump();
        drop(g);
        self.cond.notify_all();
        Ok(())
    }

    pub fn g_parm(&self, p: &mut v4l2_streamparm) -> VResult<()> {
        let g = self.lock()?;
        if check_type(p.type_)? {
            return Err(einval("the frame interval is set on the OUTPUT queue"));
        }
        let type_ = p.type_;
        *p = v4l2_streamparm::default();
        p.type_ = type_;
        p.parm.output = v4l2_outputparm {
            capability: CAP_TIMEPERFRAME,
            outputmode: 0,
            timeperframe: v4l2_fract {
                numerator: g.tpf.0,
                denominator: g.tpf.1,
            },
            extendedmode: 0,
            writebuffers: 0,
            reserved: [0; 4],
        };
        Ok(())
    }

    pub fn s_parm(&self, p: &mut v4l2_streamparm) -> VResult<()> {
        {
            let mut g = self.lock()?;
            if check_type(p.type_)? {
                return Err(einval("the frame interval is set on the OUTPUT queue"));
            }
            // SAFETY: plain integers; OUTPUT type means the output member.
            let tpf = unsafe { p.parm.output.timeperframe };
            if tpf.numerator != 0 && tpf.denominator != 0 {
                let (n, d) = (u64::from(tpf.numerator), u64::from(tpf.denominator));
                g.tpf = if d > 240 * n {
                    (1, 240)
                } else if n > d {
                    (1, 1)
                } else {
                    (tpf.numerator, tpf.denominator)
                };
            }
        }
        self.g_parm(p)
    }

    pub fn queryctrl(&self, q: &mut v4l2_queryctrl) -> VResult<()> {
        self.check()?;
        let d = ctl::query(q.id)?;
        *q = v4l2_queryctrl::default();
        q.id = d.id;
        q.type_ = d.type_;
        fill_str(&mut q.name, d.name);
        q.minimum = d.min;
        q.maximum = d.max;
        q.step = d.step;
        q.default_value = d.default;
        q.flags = d.flags;
        Ok(())
    }

    pub fn querymenu(&self, m: &mut v4l2_querymenu) -> VResult<()> {
        self.check()?;
        let name = ctl::menu_item(m.id, m.index)?;
        fill_str(&mut m.name, name);
        m.reserved = 0;
        Ok(())
    }

    pub fn g_ctrl(&self, c: &mut v4l2_control) -> VResult<()> {
        c.value = self.lock()?.ctrls.get(c.id)?;
        Ok(())
    }

    pub fn s_ctrl(&self, c: &mut v4l2_control) -> VResult<()> {
        let mut g = self.lock()?;
        let v = g.ctrls.validate(c.id, i64::from(c.value), g.busy())?;
        Self::apply(&mut g, c.id, v);
        c.value = v;
        Ok(())
    }

    fn apply(g: &mut Inner, id: u32, v: i32) {
        g.ctrls.store(id, v);
        let Some(s) = g.session.clone() else { return };
        let p = s.params();
        match id {
            CID_MPEG_VIDEO_FORCE_KEY_FRAME => s.request_keyframe(),
            CID_MPEG_VIDEO_BITRATE if p.rc != RcMode::Cqp && p.codec != Codec::Mjpeg => {
                let _ = s.set_bitrate(v as u32);
            }
            CID_JPEG_COMPRESSION_QUALITY if p.codec == Codec::Mjpeg => {
                let _ = s.set_qp(v as u8);
            }
            _ => {}
        }
    }

    /// G/S/TRY_EXT_CTRLS. On failure the error comes with error_idx.
    pub fn ext_ctrls(
        &self,
        op: CtrlOp,
        which: u32,
        ctrls: &mut [v4l2_ext_control],
    ) -> Result<(), (V4l2Error, u32)> {
        let mut g = self.lock().map_err(|e| (e, ctrls.len() as u32))?;
        let defaults = which == CTRL_WHICH_DEF_VAL;
        if which == CTRL_WHICH_REQUEST_VAL {
            return Err((einval("requests are not supported"), ctrls.len() as u32));
        }
        if defaults && op != CtrlOp::Get {
            return Err((
                einval("default values can only be read"),
                ctrls.len() as u32,
            ));
        }
        let busy = g.busy();
        let mut values = Vec::with_capacity(ctrls.len());
        for (i, c) in ctrls.iter().enumerate() {
            let id = c.id;
            let fail = |e| (e, i as u32);
            if which != 0 && !defaults && ctl::class_of(id) != which {
                return Err(fail(einval(format!(
                    "control {id:#x} is not in class {which:#x}"
                ))));
            }
            let (_, d) = ctl::find(id)
                .ok_or_else(|| fail(einval(format!("control {id:#x} does not exist"))))?;
            let v = match op {
                CtrlOp::Get if defaults => d.default,
                CtrlOp::Get => g.ctrls.get(id).map_err(fail)?,
                _ => g
                    .ctrls
                    .validate(id, c.value64 as i32 as i64, busy && op == CtrlOp::Set)
                    .map_err(fail)?,
            };
            values.push(v);
        }
        for (c, v) in ctrls.iter_mut().zip(values) {
            if op == CtrlOp::Set {
                Self::apply(&mut g, c.id, v);
            }
            c.value64 = i64::from(v);
        }
        Ok(())
    }

    pub fn encoder_cmd(&self, c: &mut v4l2_encoder_cmd, try_only: bool) -> VResult<()> {
        if try_only {
            self.check()?;
            Machine::try_cmd(c.cmd)?;
            c.flags = 0;
            return Ok(());
        }
        let mut g = self.lock()?;
        match g.m.encoder_cmd(c.cmd)? {
            CmdOutcome::BeginDrain => {
                g.drain_target = g.pushed + g.out_q.queued.len() as u64;
            }
            CmdOutcome::Resume | CmdOutcome::Nothing => {}
        }
        c.flags = 0;
        g.pump();
        drop(g);
        self.cond.notify_all();
        Ok(())
    }

    pub fn subscribe(&self, s: &v4l2_event_subscription, on: bool) -> VResult<()> {
        let mut g = self.lock()?;
        if on {
            g.events.subscribe(s.type_)
        } else {
            g.events.unsubscribe(s.type_)
        }
    }

    pub fn dqevent(&self, e: &mut v4l2_event) -> VResult<()> {
        let mut g = self.lock()?;
        g.pump();
        let ev = g.events.dequeue()?;
        *e = v4l2_event::default();
        e.type_ = ev.type_;
        e.sequence = ev.sequence;
        e.pending = ev.pending;
        e.timestamp.tv_sec = ev.timestamp.0;
        e.timestamp.tv_nsec = ev.timestamp.1;
        Ok(())
    }

    pub fn g_selection(&self, s: &mut v4l2_selection) -> VResult<()> {
        let g = self.lock()?;
        if check_type(s.type_)? {
            return Err(einval("selection targets live on the OUTPUT queue"));
        }
        s.r = match s.target {
            SEL_TGT_CROP => g.crop,
            SEL_TGT_CROP_DEFAULT | SEL_TGT_CROP_BOUNDS => g.raw.bounds(),
            t => return Err(einval(format!("selection target {t} is not supported"))),
        };
        Ok(())
    }

    pub fn s_selection(&self, s: &mut v4l2_selection) -> VResult<()> {
        let mut g = self.lock()?;
        if check_type(s.type_)? {
            return Err(einval("selection targets live on the OUTPUT queue"));
        }
        if s.target != SEL_TGT_CROP {
            return Err(einval(format!(
                "selection target {} cannot be set",
                s.target
            )));
        }
        if g.cap_q.streaming && g.session.is_some() {
            return Err(ebusy(
                "the crop cannot change while encoding; stop the CAPTURE queue first",
            ));
        }
        g.crop = g.raw.adjust_crop(s.r);
        s.r = g.crop;
        Ok(())
    }

    pub fn enum_framesizes(&self, f: &mut v4l2_frmsizeenum) -> VResult<()> {
        self.check()?;
        let coded = formats::coded(f.pixel_format).is_some();
        if !coded && formats::raw(f.pixel_format).is_none() {
            return Err(einval("unknown pixel format"));
        }
        if f.index != 0 {
            return Err(einval("one stepwise range only"));
        }
        f.type_ = FRMSIZE_TYPE_STEPWISE;
        let step = if coded { 2 } else { formats::ALIGN };
        f.stepwise = v4l2_frmsize_stepwise {
            min_width: formats::MIN_SIZE,
            max_width: formats::MAX_SIZE,
            step_width: step,
            min_height: formats::MIN_SIZE,
            max_height: formats::MAX_SIZE,
            step_height: step,
        };
        Ok(())
    }

    pub fn enum_frameintervals(&self, f: &mut v4l2_frmivalenum) -> VResult<()> {
        self.check()?;
        if formats::coded(f.pixel_format).is_none() && formats::raw(f.pixel_format).is_none() {
            return Err(einval("unknown pixel format"));
        }
        let range = formats::MIN_SIZE..=formats::MAX_SIZE;
        if f.index != 0 || !range.contains(&f.width) || !range.contains(&f.height) {
            return Err(einval("one continuous range only, for sizes in 64..4096"));
        }
        f.type_ = FRMIVAL_TYPE_CONTINUOUS;
        f.stepwise = v4l2_frmival_stepwise {
            min: v4l2_fract {
                numerator: 1,
                denominator: 240,
            },
            max: v4l2_fract {
                numerator: 1,
                denominator: 1,
            },
            step: v4l2_fract {
                numerator: 1,
                denominator: 1,
            },
        };
        Ok(())
    }

    pub fn mmap(&self, length: usize, offset: i64) -> VResult<*mut c_void> {
        let g = self.lock()?;
        let off = u32::try_from(offset).map_err(|_| einval("no buffer at this offset"))?;
        let m = g
            .out_q
            .by_offset(off)
            .or_else(|| g.cap_q.by_offset(off))
            .ok_or_else(|| einval(format!("no MMAP buffer at offset {offset:#x}")))?;
        m.map_for_client(length)
    }

    /// poll(2): waits up to `timeout_ms` (-1 forever) for `events`.
    pub fn poll(&self, events: i16, timeout_ms: i32) -> VResult<i16> {
        let deadline =
            (timeout_ms >= 0).then(|| Instant::now() + Duration::from_millis(timeout_ms as u64));
        let mut g = self.lock()?;
        loop {
            if g.fatal.is_some() {
                return Ok(libc::POLLERR);
            }
            g.pump();
            let r = g.revents() & (events | libc::POLLERR | libc::POLLHUP);
            if r != 0 || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(r);
            }
            g = self.wait(g, deadline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(type_: u32, fourcc: u32, w: u32, h: u32) -> v4l2_format {
        let mut f = v4l2_format {
            type_,
            ..v4l2_format::default()
        };
        f.fmt.pix = v4l2_pix_format {
            width: w,
            height: h,
            pixelformat: fourcc,
            ..v4l2_pix_format::default()
        };
        f
    }

    fn setup(dev: &Emulated, codec: u32, n: u32) {
        dev.s_fmt(&mut fmt(BUF_TYPE_VIDEO_CAPTURE, codec, 0, 0), true)
            .unwrap();
        dev.s_fmt(
            &mut fmt(BUF_TYPE_VIDEO_OUTPUT, PIX_FMT_NV12, 160, 120),
            true,
        )
        .unwrap();
        for type_ in [BUF_TYPE_VIDEO_OUTPUT, BUF_TYPE_VIDEO_CAPTURE] {
            let mut r = v4l2_requestbuffers {
                count: n,
                type_,
                memory: MEMORY_MMAP,
                ..v4l2_requestbuffers::default()
            };
            dev.reqbufs(&mut r).unwrap();
            assert_eq!(r.count, n);
        }
    }

    fn qbuf(dev: &Emulated, type_: u32, index: u32, sec: i64) {
        let mut b = BufInfo {
            index,
            type_,
            memory: MEMORY_MMAP,
            timestamp: (sec, 0),
            ..BufInfo::default()
        };
        dev.qbuf(&mut b).unwrap();
    }

    fn dq(dev: &Emulated, type_: u32) -> VResult<BufInfo> {
        let mut b = BufInfo {
            type_,
            memory: MEMORY_MMAP,
            ..BufInfo::default()
        };
        dev.dqbuf(&mut b).map(|()| b)
    }

    #[test]
    fn drain_restart_and_reset() {
        let dev = Emulated::new(false);
        setup(&dev, PIX_FMT_MJPEG, 4);
        assert_eq!(
            dev.streamon(BUF_TYPE_VIDEO_OUTPUT_MPLANE)
                .unwrap_err()
                .errno,
            libc::EINVAL
        );
        dev.streamon(BUF_TYPE_VIDEO_OUTPUT).unwrap();
        dev.streamon(BUF_TYPE_VIDEO_CAPTURE).unwrap();
        for i in 0..4 {
            qbuf(&dev, BUF_TYPE_VIDEO_CAPTURE, i, 0);
        }
        for i in 0..3 {
            qbuf(&dev, BUF_TYPE_VIDEO_OUTPUT, i, 10 + i as i64);
        }
        let mut stop = v4l2_encoder_cmd {
            cmd: ENC_CMD_STOP,
            ..v4l2_encoder_cmd::default()
        };
        dev.encoder_cmd(&mut stop, false).unwrap();
        assert_eq!(
            dev.encoder_cmd(&mut stop, false).unwrap_err().errno,
            libc::EBUSY
        );
        let mut got = Vec::new();
        loop {
            let b = dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap();
            assert!(b.bytesused > 0);
            assert!(b.flags & BUF_FLAG_KEYFRAME != 0);
            got.push(b.timestamp.0);
            if b.flags & BUF_FLAG_LAST != 0 {
                break;
            }
        }
        assert_eq!(got, vec![10, 11, 12]);
        assert_eq!(
            dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap_err().errno,
            libc::EPIPE
        );
        // START resumes; a STOP with nothing queued gives an empty LAST buffer.
        stop.cmd = ENC_CMD_START;
        dev.encoder_cmd(&mut stop, false).unwrap();
        qbuf(&dev, BUF_TYPE_VIDEO_CAPTURE, 0, 0);
        stop.cmd = ENC_CMD_STOP;
        dev.encoder_cmd(&mut stop, false).unwrap();
        let b = dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap();
        assert_eq!((b.bytesused, b.flags & BUF_FLAG_LAST), (0, BUF_FLAG_LAST));
        // Reset.
        dev.streamoff(BUF_TYPE_VIDEO_CAPTURE).unwrap();
        dev.streamon(BUF_TYPE_VIDEO_CAPTURE).unwrap();
        qbuf(&dev, BUF_TYPE_VIDEO_CAPTURE, 1, 0);
        assert_eq!(dq(&dev, BUF_TYPE_VIDEO_OUTPUT).unwrap().index, 0);
        qbuf(&dev, BUF_TYPE_VIDEO_OUTPUT, 0, 99);
        let b = dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap();
        assert_eq!(b.timestamp, (99, 0));
    }

    #[test]
    fn packet_larger_than_the_buffer_is_an_error() {
        let dev = Emulated::new(false);
        let mut cap = fmt(BUF_TYPE_VIDEO_CAPTURE, PIX_FMT_JPEG, 0, 0);
        cap.fmt.pix.sizeimage = 4096;
        dev.s_fmt(&mut cap, true).unwrap();
        // SAFETY: reading back what G/S_FMT filled.
        assert_eq!(unsafe { cap.fmt.pix.sizeimage }, 4096);
        dev.s_fmt(
            &mut fmt(BUF_TYPE_VIDEO_OUTPUT, PIX_FMT_YUV420, 256, 256),
            true,
        )
        .unwrap();
        let mut c = v4l2_control {
            id: CID_JPEG_COMPRESSION_QUALITY,
            value: 100,
        };
        dev.s_ctrl(&mut c).unwrap();
        for type_ in [BUF_TYPE_VIDEO_OUTPUT, BUF_TYPE_VIDEO_CAPTURE] {
            let mut r = v4l2_requestbuffers {
                count: 1,
                type_,
                memory: MEMORY_MMAP,
                ..v4l2_requestbuffers::default()
            };
            dev.reqbufs(&mut r).unwrap();
        }
        let len = 256 * 256 * 3 / 2;
        let p = dev.mmap(len, 0).unwrap().cast::<u8>();
        let mut x: u32 = 1;
        for i in 0..len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            // SAFETY: p maps len bytes of OUTPUT buffer 0.
            unsafe { *p.add(i) = (x >> 16) as u8 };
        }
        // SAFETY: unmapping what mmap mapped.
        unsafe { libc::munmap(p.cast(), len) };
        dev.streamon(BUF_TYPE_VIDEO_OUTPUT).unwrap();
        dev.streamon(BUF_TYPE_VIDEO_CAPTURE).unwrap();
        qbuf(&dev, BUF_TYPE_VIDEO_CAPTURE, 0, 0);
        qbuf(&dev, BUF_TYPE_VIDEO_OUTPUT, 0, 3);
        let b = dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap();
        assert_eq!(b.flags & BUF_FLAG_ERROR, BUF_FLAG_ERROR);
        assert_eq!(b.bytesused, 0);
        assert_eq!(b.timestamp, (3, 0));
    }

    #[test]
    fn output_streamoff_ends_the_drain() {
        let dev = Emulated::new(true);
        setup(&dev, PIX_FMT_H264, 2);
        dev.streamon(BUF_TYPE_VIDEO_OUTPUT).unwrap();
        dev.streamon(BUF_TYPE_VIDEO_CAPTURE).unwrap();
        let mut stop = v4l2_encoder_cmd {
            cmd: ENC_CMD_STOP,
            ..v4l2_encoder_cmd::default()
        };
        // Nothing queued on CAPTURE: the drain waits for a buffer.
        dev.encoder_cmd(&mut stop, false).unwrap();
        assert_eq!(
            dev.encoder_cmd(&mut stop, false).unwrap_err().errno,
            libc::EBUSY
        );
        assert_eq!(
            dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap_err().errno,
            libc::EAGAIN
        );
        dev.streamoff(BUF_TYPE_VIDEO_OUTPUT).unwrap();
        qbuf(&dev, BUF_TYPE_VIDEO_CAPTURE, 0, 0);
        let b = dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap();
        assert_eq!((b.bytesused, b.flags & BUF_FLAG_LAST), (0, BUF_FLAG_LAST));
        assert_eq!(
            dq(&dev, BUF_TYPE_VIDEO_CAPTURE).unwrap_err().errno,
            libc::EPIPE
        );
        // STREAMON(OUTPUT) resumes.
        dev.streamon(BUF_TYPE_VIDEO_OUTPUT).unwrap();
        stop.cmd = ENC_CMD_START;
        dev.encoder_cmd(&mut stop, false).unwrap();
        qbuf(&dev, BUF_TYPE_VIDEO_CAPTURE, 1, 0);
        qbuf(&dev, BUF_TYPE_VIDEO_OUTPUT, 0, 5);
        let mut got = None;
        for _ in 0..500 {
            match dq(&dev, BUF_TYPE_VIDEO_CAPTURE) {
                Ok(b) => {
                    got = Some(b);
                    break;
                }
                Err(e) => assert_eq!(e.errno, libc::EAGAIN),
            }
            assert_eq!(dev.poll(libc::POLLIN, 20).map(|_| ()), Ok(()));
        }
        let b = got.expect("a CAPTURE buffer");
        assert!(b.bytesused > 0);
    }
}
