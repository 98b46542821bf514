//! Fuzz entry points: one function per parser or validator a C caller
//! reaches. Each takes arbitrary bytes, drives the real code and checks
//! invariants (a violated invariant panics, which the fuzzer reports).
//!
//! The same functions serve three drivers: the libFuzzer targets under
//! `fuzz/` (`scripts/fuzz-quick`), the corpus replay in
//! `tests/fuzz_corpus.rs` and its seeded mutation loop, so CI exercises
//! every target without the fuzzer. Nothing here opens a connection or
//! writes a file. Not part of the stable API. The `expect`s here are
//! invariant checks of the harness, never reached from the C API.

use crate::api::hobot::{BoardConfig, EncodeType};
use crate::api::k230::{ChnAttr, Payload, RcAttr};
use crate::api::native::Config;
use crate::capi::frame::{format_from_id, venc_frame, view};
use crate::capi::k230::{
    attr_from_c, frame_view as k230_frame_view, venc_k230_chn_attr, venc_k230_frame,
};
use crate::engine::params::{Profile, RcMode};
use crate::frame::{to_yuv420, FrameView, PixelFormat, Plane, Yuv420};
use crate::sink::{self, StreamInfo, VideoCodec};

/// A fuzz target: name and entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by the name its corpus directory and fuzz binary use.
pub const TARGETS: &[Target] = &[
    ("config", config),
    ("frame_view", frame_view),
    ("c_frame", c_frame),
    ("sink_target", sink_target),
    ("k230_attr", k230_attr),
    ("k230_frame", k230_frame),
    ("hobot_params", hobot_params),
    ("sail_params", sail_params),
    ("v4l2_ioctl", v4l2_ioctl),
];

/// Reads fixed-size fields from the front of the input; zeros once empty.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn i32(&mut self) -> i32 {
        self.u32() as i32
    }
    /// A value from `common` most of the time, else a raw u32.
    fn pick(&mut self, common: &[u32]) -> u32 {
        let sel = self.u8() as usize;
        match common.get(sel % 16) {
            Some(v) if sel < 128 => *v,
            _ => self.u32(),
        }
    }
    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

/// `key=value` lines (values may be empty; a line without '=' is a key
/// read with `get`).
fn lines(data: &[u8]) -> Vec<(String, Option<String>)> {
    String::from_utf8_lossy(data)
        .split('\n')
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (l.to_string(), None),
        })
        .collect()
}

/// Native config: `set`, `get` round trips, `to_params`.
pub fn config(data: &[u8]) {
    let mut c = Config::default();
    for (key, value) in lines(data) {
        match value {
            None => {
                let _ = c.get(&key);
            }
            Some(v) => {
                let before = c.get(&key).ok();
                match c.set(&key, &v) {
                    Ok(()) => {
                        // What get prints, set takes back unchanged.
                        let canon = c.get(&key).expect("get after a good set");
                        c.set(&key, &canon).expect("set of get's canonical value");
                        assert_eq!(c.get(&key).ok().as_deref(), Some(canon.as_str()));
                    }
                    // A refused value leaves the key as it was.
                    Err(e) => {
                        assert_eq!(c.get(&key).ok(), before, "{key}={v} changed on error");
                        assert!(!e.message.is_empty());
                    }
                }
            }
        }
    }
    if let Ok(p) = c.to_params() {
        assert!((1..=16384).contains(&p.width) && (1..=16384).contains(&p.height));
        assert!(p.fps_num > 0 && p.fps_den > 0 && p.qp <= 51);
        assert!(p.rc != RcMode::Vbr || p.max_bitrate >= p.bitrate || c.max_bitrate == 0);
    }
}

const FORMAT_IDS: [u32; 12] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 11];

/// A FrameView over slices of the input (safe Rust): `validate` and, for
/// frames it accepts, `to_yuv420`.
pub fn frame_view(data: &[u8]) {
    let mut r = Reader(data);
    let format = format_from_id(r.pick(&FORMAT_IDS)).unwrap_or(PixelFormat::Gray8);
    let width = u32::from(r.u16()) % 20000;
    let height = u32::from(r.u16()) % 20000;
    let mut spec = [(0usize, 0usize, 0usize); 3];
    for s in &mut spec {
        *s = (
            r.u16() as usize,
            r.u16() as usize,
            r.pick(&[0, 1, 2, 3, 4, 8, 16, 32, 64, 0xFFFF_FFFF]) as usize,
        );
    }
    let buf = r.rest();
    let mut planes = [Plane::empty(); 3];
    for (p, (off, len, stride)) in planes.iter_mut().zip(spec) {
        let start = off.min(buf.len());
        let end = start.saturating_add(len).min(buf.len());
        *p = Plane::new(&buf[start..end], stride);
    }
    let v = FrameView {
        format,
        width,
        height,
        planes,
    };
    check_view(&v);
}

/// `validate` and `to_yuv420` agree, and accepted frames convert.
fn check_view(v: &FrameView) {
    let ok = v.validate().is_ok();
    let mut out = Yuv420::new(1, 1);
    let converted = to_yuv420(v, &mut out);
    assert_eq!(ok, converted.is_ok(), "validate and to_yuv420 disagree");
    if ok {
        assert_eq!((out.width, out.height), (v.width, v.height));
        assert!(out.check().is_ok());
    }
}

/// Bytes a plane needs by the documented contract (u128: no overflow).
fn contract_len(format: PixelFormat, plane: usize, width: u32, height: u32, stride: u32) -> u128 {
    let row = format.min_stride(plane, width).unwrap_or(usize::MAX) as u128;
    let rows = format.plane_rows(plane, height) as u128;
    u128::from(stride) * rows.saturating_sub(1) + row
}

/// The C `view()` path: a `venc_frame` whose plane pointers lie inside the
/// input buffer. `view` is only called where the contract holds (each plane
/// NULL, too narrow, or holding its bytes inside the buffer).
pub fn c_frame(data: &[u8]) {
    let mut r = Reader(data);
    let size_ok = r.u8() < 240;
    let format = r.pick(&FORMAT_IDS);
    let width = r.pick(&[1, 2, 3, 7, 16, 33, 64, 0, 16384, 16385]);
    let height = r.pick(&[1, 2, 3, 7, 16, 33, 64, 0, 16384, 16385]);
    let mut spec = [(false, 0usize, 0u32); 3];
    for s in &mut spec {
        let null = r.u8() >= 224;
        *s = (
            null,
            r.u16() as usize,
            r.pick(&[0, 1, 2, 3, 4, 8, 16, 33, 34, 64, 99, 0xFFFF_FFFF]),
        );
    }
    let buf = r.rest();
    let mut f = venc_frame {
        struct_size: if size_ok {
            std::mem::size_of::<venc_frame>() as u32
        } else {
            7
        },
        format,
        width,
        height,
        planes: [std::ptr::null(); 3],
        strides: [0; 3],
        flags: 0,
        pts: 0,
        user_tag: 0,
    };
    for (i, (null, off, stride)) in spec.into_iter().enumerate() {
        let off = off.min(buf.len());
        if !null {
            f.planes[i] = buf[off..].as_ptr();
        }
        f.strides[i] = stride;
    }
    let fmt = format_from_id(format);
    let dims_ok = (1..=16384).contains(&width) && (1..=16384).contains(&height);
    let mut safe = !size_ok || fmt.is_none() || !dims_ok;
    let mut fits_all = true;
    if let (false, Some(fmt)) = (safe, fmt) {
        safe = true;
        for (i, (null, off, stride)) in spec.into_iter().enumerate().take(fmt.plane_count()) {
            let row = fmt.min_stride(i, width).unwrap_or(usize::MAX);
            let avail = (buf.len() - off.min(buf.len())) as u128;
            let fits = contract_len(fmt, i, width, height, stride) <= avail;
            fits_all &= !null && (stride as usize) >= row && fits;
            safe &= null || (stride as usize) < row || fits;
        }
    }
    if !safe {
        return;
    }
    // SAFETY: checked above: every plane `view` may turn into a slice holds
    // its contract length inside `buf`.
    let got = unsafe { view(&f) };
    let expect_ok = size_ok && fmt.is_some() && dims_ok && fits_all;
    assert_eq!(
        got.is_ok(),
        expect_ok,
        "view() vs the contract: {:?}",
        got.err()
    );
    if let Ok(v) = got {
        let range = buf.as_ptr_range();
        for p in v.planes.iter().take(v.format.plane_count()) {
            let pr = p.data.as_ptr_range();
            assert!(pr.start >= range.start && pr.end <= range.end);
        }
        assert!(v.validate().is_ok(), "view() gave a view validate refuses");
        check_view(&v);
    }
}

fn stream_info(codec: u8) -> StreamInfo {
    StreamInfo {
        codec: if codec & 1 == 0 {
            VideoCodec::H264
        } else {
            VideoCodec::H265
        },
        width: if codec & 2 == 0 { 640 } else { 0 },
        height: 360,
        fps_num: 30,
        fps_den: 1,
    }
}

/// Sink targets (`sink::parse_target`, URL parsing, auth challenge
/// parsing): nothing is opened. Messages never carry the password.
pub fn sink_target(data: &[u8]) {
    let Some((&codec, rest)) = data.split_first() else {
        return;
    };
    let target = String::from_utf8_lossy(rest);
    let info = stream_info(codec);
    let parsed = sink::parse_target(&target, &info);
    let url = sink::net::Url::parse(&target, 554);
    let _ = sink::redact_url(&target);
    let _ = sink::rtsp::parse_auth_params(&target);
    // file://PATH takes PATH as a file name, '@' and ':' included.
    if let Some(u) = url.as_ref().ok().filter(|u| u.scheme != "file") {
        let public = u.public();
        if let Some(pass) = u.pass.as_deref().filter(|p| p.len() >= 8) {
            // redact_url keeps what precedes "://" and follows the last '@'.
            let head = target.split("://").next().unwrap_or("");
            let tail = target.rsplit('@').next().unwrap_or("");
            let secret_elsewhere =
                public.contains(pass) || head.contains(pass) || tail.contains(pass);
            // Nor in what the same call says with the credentials removed.
            let without = sink::parse_target(&sink::redact_url(&target), &info)
                .err()
                .is_some_and(|e| e.message.contains(pass));
            if !secret_elsewhere && !without {
                if let Err(e) = &parsed {
                    assert!(!e.message.contains(pass), "password in {}", e.message);
                }
            }
        }
    }
    match parsed {
        Ok(sink::Target::File { path, .. }) => assert!(!path.is_empty()),
        Ok(sink::Target::Rtmp { app, key, url }) => {
            assert!(!app.is_empty() && !key.is_empty() && !url.host.is_empty())
        }
        Ok(sink::Target::Rtsp(url)) => assert!(!url.host.is_empty()),
        Err(e) => assert!(!e.message.is_empty()),
    }
}

const PAYLOADS: [u32; 4] = [96, 265, 26, 0];
const PROFILES: [u32; 5] = [66, 77, 100, 1, 0];
const RC_MODES: [u32; 5] = [1, 2, 3, 4, 0];

/// K230 channel attributes: `attr_from_c` then `ChnAttr::to_params`.
pub fn k230_attr(data: &[u8]) {
    let mut r = Reader(data);
    let size_ok = r.u8() < 240;
    let a = venc_k230_chn_attr {
        struct_size: if size_ok {
            std::mem::size_of::<venc_k230_chn_attr>() as u32
        } else {
            r.u32()
        },
        payload: r.pick(&PAYLOADS),
        profile: r.pick(&PROFILES),
        width: r.pick(&[128, 64, 16, 8192, 4096, 4098, 127, 1280, 720, 0]),
        height: r.pick(&[64, 16, 8192, 4096, 63, 720, 0]),
        gop: r.pick(&[0, 1, 30, 65536, 65537]),
        bit_rate: r.pick(&[0, 1, 4000, 1_000_000, 1_000_001]),
        max_bit_rate: r.pick(&[0, 1, 4000, 8000, 1_000_000, 1_000_001]),
        src_frame_rate: r.pick(&[0, 1, 25, 30, 240, 241]),
        dst_frame_rate: r.pick(&[0, 1, 25, 30, 240, 241]),
        rc_mode: r.pick(&RC_MODES),
        i_qp: r.pick(&[0, 26, 51, 52, 256]),
        p_qp: r.pick(&[0, 26, 51, 52, 256]),
        q_factor: r.pick(&[0, 1, 45, 99, 100, 256]),
    };
    let Ok(attr) = attr_from_c(&a) else {
        return;
    };
    check_chn_attr(&attr);
}

fn check_chn_attr(attr: &ChnAttr) {
    if let Ok(p) = attr.to_params() {
        assert!(p.width <= 8192 && p.height <= 8192 && p.width >= 16 && p.height >= 16);
        assert!((1..=240).contains(&p.fps_num) && p.fps_num <= attr.src_fps());
        assert!(p.qp <= 51 && p.gop >= 1);
        assert!(p.max_bitrate >= p.bitrate);
        if attr.payload != Payload::Jpeg {
            assert!(p.width % 2 == 0 && p.height % 2 == 0);
            assert!(!matches!(attr.rc, RcAttr::MjpegFixQp { .. }));
        }
        if attr.payload == Payload::H265 {
            assert_eq!(p.profile, Profile::Main);
        }
    }
}

/// K230 frame infos: `frame_view` (struct size, pixel format, then the
/// generic checks) with plane pointers inside the input buffer.
pub fn k230_frame(data: &[u8]) {
    let mut r = Reader(data);
    let size_ok = r.u8() < 240;
    let pixel_format = r.pick(&[30, 31, 0, 1]);
    let width = r.pick(&[128, 130, 16, 1, 0, 4096, 16385]);
    let height = r.pick(&[64, 66, 16, 1, 0, 4096, 16385]);
    let mut spec = [(0usize, 0u32); 2];
    for s in &mut spec {
        *s = (
            r.u16() as usize,
            r.pick(&[128, 130, 64, 16, 0, 1, 0xFFFF_FFFF]),
        );
    }
    let buf = r.rest();
    let mut f = venc_k230_frame {
        struct_size: if size_ok {
            std::mem::size_of::<venc_k230_frame>() as u32
        } else {
            1
        },
        pixel_format,
        width,
        height,
        vir_addr: [std::ptr::null(); 3],
        stride: [0; 3],
        reserved: 0,
        pts: 0,
    };
    let nv12 = PixelFormat::Nv12;
    let dims_ok = (1..=16384).contains(&width) && (1..=16384).contains(&height);
    let mut safe = true;
    for (i, (off, stride)) in spec.into_iter().enumerate() {
        let off = off.min(buf.len());
        f.vir_addr[i] = buf[off..].as_ptr();
        f.stride[i] = stride;
        let row = nv12.min_stride(i, width).unwrap_or(usize::MAX);
        let fits = contract_len(nv12, i, width, height, stride) <= (buf.len() - off) as u128;
        safe &= (stride as usize) < row || fits;
    }
    // Wrong struct size, pixel format or size return before any slice.
    let early = !size_ok || pixel_format != crate::capi::k230::VENC_K230_PIXEL_NV12 || !dims_ok;
    if !safe && !early {
        return;
    }
    // SAFETY: checked above, as in `c_frame`.
    if let Ok(v) = unsafe { k230_frame_view(&f) } {
        assert!(size_ok && v.format == nv12);
        check_view(&v);
    }
}

/// Horizon: `set` lines, then `params(type, w, h, bits)` from the first
/// 16 bytes.
pub fn hobot_params(data: &[u8]) {
    let (head, text) = data.split_at(data.len().min(16));
    let mut r = Reader(head);
    let t = r.pick(&[1, 2, 3, 0, 4]) as i32;
    let w = r.pick(&[1920, 1280, 640, 64, 0, 1, 4096, 8192]) as i32;
    let h = r.pick(&[1080, 720, 480, 64, 0, 1, 4096]) as i32;
    let bits = r.i32();
    let mut c = BoardConfig::default();
    for (key, value) in lines(text) {
        let before = c;
        if c.set(&key, value.as_deref().unwrap_or("")).is_err() {
            assert_eq!(c, before, "a refused set changed the config");
        }
    }
    let Ok(t) = EncodeType::from_id(t) else {
        return;
    };
    if let Ok(p) = c.params(t, w, h, bits) {
        assert!(p.width > 0 && p.height > 0 && p.width % 2 == 0 && p.height % 2 == 0);
        assert!(p.max_bitrate >= p.bitrate && p.bitrate >= 1000);
        assert!((1..=240).contains(&p.fps_num) && p.qp <= 51);
    }
}

/// SAIL `Encoder(output_path, device_id, enc_fmt, pix_fmt, enc_params,
/// cache_buffer_length, abort_policy)` argument checks, enc_params parsing,
/// the engine parameters and the output target (parsed, never opened).
/// Input: 12 bytes of integers, 2 selector bytes, then
/// `output_path\nenc_params`.
pub fn sail_params(data: &[u8]) {
    use crate::api::sail::params;
    use crate::api::sail::VideoSettings;
    let (head, text) = data.split_at(data.len().min(14));
    let mut r = Reader(head);
    let device_id = r.pick(&[0, 1, 0xFFFF_FFFF]) as i32;
    let cache = r.pick(&[0, 1, 5, 1024, 1025, 0xFFFF_FFFF]) as i32;
    let abort = r.pick(&[0, 1, 2, 3, 4, 0xFFFF_FFFF]) as i32;
    let enc_fmt = ["h264_bm", "h265_bm", "hevc_bm", "h264", ""][r.u8() as usize % 5];
    let pix_fmt = ["I420", "NV12", "nv12", "BGR", ""][r.u8() as usize % 5];
    let text = String::from_utf8_lossy(text);
    let (path, enc_params) = text.split_once('\n').unwrap_or(("out.h264", &text));
    // The parser alone: any text, no panic; accepted values are in range.
    if let Ok(p) = params::parse(enc_params) {
        assert!((1..=16384).contains(&p.width) && (1..=16384).contains(&p.height));
        assert!((1..=240).contains(&p.framerate) && p.qp.is_none_or(|q| q <= 51));
        assert!(p.effective_gop() <= 100_000);
    }
    let Ok((settings, _warnings)) =
        VideoSettings::new(path, device_id, enc_fmt, pix_fmt, enc_params, cache, abort)
    else {
        return;
    };
    let info = settings.stream_info();
    assert!(info.width > 0 && info.height > 0);
    if let Ok(p) = settings.engine_params() {
        assert!(p.width >= p.chip.min_width && p.width <= p.chip.max_width);
        assert!(p.height >= p.chip.min_height && p.height <= p.chip.max_height);
        assert!(p.queue_depth >= 1 && p.queue_depth <= 1025);
    }
    let _ = sink::parse_target(&settings.output_path, &info);
}

/// A sequence of ioctls on one emulated V4L2 encoder (`emulated_ioctl`, the
/// code behind `venc_v4l2_ioctl`). Each step: a request selector byte, then
/// the argument struct's bytes. Pointers the C caller would own (m.planes,
/// USERPTR memory, ext control arrays) are pointed at buffers of this
/// harness that outlive the device; DMABUF fds become -1 and exported fds
/// are closed, so nothing outside the process is touched.
pub fn v4l2_ioctl(data: &[u8]) {
    use crate::api::v4l2::uapi::*;
    use crate::api::v4l2::Emulated;
    use crate::capi::v4l2::emulated_ioctl;
    use std::ffi::c_void;

    const REQUESTS: [(libc::Ioctl, usize); 31] = [
        (VIDIOC_QUERYCAP, std::mem::size_of::<v4l2_capability>()),
        (VIDIOC_ENUM_FMT, std::mem::size_of::<v4l2_fmtdesc>()),
        (VIDIOC_G_FMT, std::mem::size_of::<v4l2_format>()),
        (VIDIOC_S_FMT, std::mem::size_of::<v4l2_format>()),
        (VIDIOC_TRY_FMT, std::mem::size_of::<v4l2_format>()),
        (VIDIOC_REQBUFS, std::mem::size_of::<v4l2_requestbuffers>()),
        (VIDIOC_QUERYBUF, std::mem::size_of::<v4l2_buffer>()),
        (
            VIDIOC_CREATE_BUFS,
            std::mem::size_of::<v4l2_create_buffers>(),
        ),
        (VIDIOC_EXPBUF, std::mem::size_of::<v4l2_exportbuffer>()),
        (VIDIOC_QBUF, std::mem::size_of::<v4l2_buffer>()),
        (VIDIOC_DQBUF, std::mem::size_of::<v4l2_buffer>()),
        (VIDIOC_STREAMON, 4),
        (VIDIOC_STREAMOFF, 4),
        (VIDIOC_G_PARM, std::mem::size_of::<v4l2_streamparm>()),
        (VIDIOC_S_PARM, std::mem::size_of::<v4l2_streamparm>()),
        (VIDIOC_G_CTRL, std::mem::size_of::<v4l2_control>()),
        (VIDIOC_S_CTRL, std::mem::size_of::<v4l2_control>()),
        (VIDIOC_QUERYCTRL, std::mem::size_of::<v4l2_queryctrl>()),
        (VIDIOC_QUERYMENU, std::mem::size_of::<v4l2_querymenu>()),
        (VIDIOC_G_EXT_CTRLS, std::mem::size_of::<v4l2_ext_controls>()),
        (VIDIOC_S_EXT_CTRLS, std::mem::size_of::<v4l2_ext_controls>()),
        (
            VIDIOC_TRY_EXT_CTRLS,
            std::mem::size_of::<v4l2_ext_controls>(),
        ),
        (
            VIDIOC_ENUM_FRAMESIZES,
            std::mem::size_of::<v4l2_frmsizeenum>(),
        ),
        (
            VIDIOC_ENUM_FRAMEINTERVALS,
            std::mem::size_of::<v4l2_frmivalenum>(),
        ),
        (VIDIOC_ENCODER_CMD, std::mem::size_of::<v4l2_encoder_cmd>()),
        (
            VIDIOC_TRY_ENCODER_CMD,
            std::mem::size_of::<v4l2_encoder_cmd>(),
        ),
        (
            VIDIOC_SUBSCRIBE_EVENT,
            std::mem::size_of::<v4l2_event_subscription>(),
        ),
        (
            VIDIOC_UNSUBSCRIBE_EVENT,
            std::mem::size_of::<v4l2_event_subscription>(),
        ),
        (VIDIOC_DQEVENT, std::mem::size_of::<v4l2_event>()),
        (VIDIOC_G_SELECTION, std::mem::size_of::<v4l2_selection>()),
        (VIDIOC_S_SELECTION, std::mem::size_of::<v4l2_selection>()),
    ];
    const SCRATCH: usize = 1 << 16;
    // Owned by the harness and declared before the device, so they outlive
    // it (a device may keep USERPTR addresses until it is dropped).
    let mut userptr: Vec<Vec<u8>> = Vec::new();
    let mut planes = vec![v4l2_plane::default(); 8];
    let mut ctrls = vec![
        v4l2_ext_control {
            id: 0,
            size: 0,
            reserved2: [0],
            value64: 0
        };
        16
    ];
    let dev = Emulated::new(true);
    let mut r = Reader(data);
    let mut steps = 0;
    while !r.0.is_empty() && steps < 64 {
        steps += 1;
        let (req, size) = REQUESTS[r.u8() as usize % REQUESTS.len()];
        // u64 words: aligned for every argument struct.
        let mut arg = [0u64; 64];
        let bytes = size.min(512).min(r.0.len());
        let (head, rest) = r.0.split_at(bytes);
        // SAFETY: `arg` is 512 writable bytes; `head` is at most that.
        unsafe {
            std::ptr::copy_nonoverlapping(head.as_ptr(), arg.as_mut_ptr().cast::<u8>(), head.len())
        };
        r.0 = rest;
        let p = arg.as_mut_ptr().cast::<c_void>();
        match req {
            VIDIOC_QBUF | VIDIOC_DQBUF | VIDIOC_QUERYBUF => {
                // SAFETY: `arg` holds a v4l2_buffer (size checked by the table).
                let b = unsafe { &mut *p.cast::<v4l2_buffer>() };
                if b.type_ == BUF_TYPE_VIDEO_OUTPUT_MPLANE
                    || b.type_ == BUF_TYPE_VIDEO_CAPTURE_MPLANE
                {
                    let n = (b.length as usize).min(planes.len());
                    for pl in planes.iter_mut().take(n.max(1)) {
                        if b.memory == MEMORY_USERPTR {
                            let len = (pl.length as usize).min(SCRATCH);
                            pl.length = len as u32;
                            userptr.push(vec![0u8; len.max(1)]);
                            let last = userptr.len() - 1;
                            pl.m.userptr = userptr[last].as_mut_ptr() as _;
                        } else if b.memory == MEMORY_DMABUF {
                            pl.m.fd = -1;
                        }
                    }
                    b.length = b.length.min(planes.len() as u32);
                    b.m.planes = planes.as_mut_ptr();
                } else if b.memory == MEMORY_USERPTR {
                    let len = (b.length as usize).min(SCRATCH);
                    b.length = len as u32;
                    userptr.push(vec![0u8; len.max(1)]);
                    let last = userptr.len() - 1;
                    b.m.userptr = userptr[last].as_mut_ptr() as _;
                } else if b.memory == MEMORY_DMABUF {
                    b.m.fd = -1;
                }
            }
            VIDIOC_G_EXT_CTRLS | VIDIOC_S_EXT_CTRLS | VIDIOC_TRY_EXT_CTRLS => {
                // SAFETY: `arg` holds a v4l2_ext_controls.
                let c = unsafe { &mut *p.cast::<v4l2_ext_controls>() };
                // Counts above the kernel's limit are refused before any read.
                if c.count <= 1024 {
                    c.count = c.count.min(ctrls.len() as u32);
                    for ctl in ctrls.iter_mut().take(c.count as usize) {
                        let sel = r.u8();
                        ctl.id = if sel < 200 {
                            0x0099_0900 + u32::from(sel) * 3 + u32::from(r.u8() % 3)
                        } else {
                            r.u32()
                        };
                        ctl.size = 0;
                        ctl.value64 = i64::from(r.i32());
                    }
                }
                c.controls = ctrls.as_mut_ptr();
            }
            _ => {}
        }
        let ok = emulated_ioctl(&dev, req, p).is_ok();
        if req == VIDIOC_EXPBUF && ok {
            // SAFETY: `arg` holds the v4l2_exportbuffer just filled in.
            let fd = unsafe { (*p.cast::<v4l2_exportbuffer>()).fd };
            if fd > 2 {
                // SAFETY: a descriptor the device just exported to us.
                unsafe { libc::close(fd) };
            }
        }
    }
    drop(dev);
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_target_takes_empty_input() {
        for (_, f) in super::TARGETS {
            f(&[]);
        }
    }
}
