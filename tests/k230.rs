//! The K230 personality from Rust: lifecycle codes, pack order and types,
//! NOBUF, timeouts, and three channels encoding at once on three threads.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use venc::api::k230::{
    ChnAttr, Code, Device, DeviceOptions, InputFrame, PackType, Payload, RcAttr,
};
use venc::engine::params::Profile;
use venc::frame::{FrameView, PixelFormat, Plane};

const W: u32 = 320;
const H: u32 = 240;

fn nv12_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let (y, uv) = buf.split_at((w * h) as usize);
    FrameView {
        format: PixelFormat::Nv12,
        width: w,
        height: h,
        planes: [
            Plane::new(y, w as usize),
            Plane::new(uv, w as usize),
            Plane::empty(),
        ],
    }
}

fn ready_device(opts: DeviceOptions, chans: &[i32], buf_num: u32) -> Device {
    let d = Device::new(opts);
    for &c in chans {
        d.set_out_bufs(c, buf_num, 1920, 1088).unwrap();
    }
    d.media_init().unwrap();
    d
}

fn code<T: std::fmt::Debug>(r: Result<T, venc::api::k230::K230Error>) -> Code {
    r.expect_err("expected an error").code
}

#[test]
fn lifecycle_codes() {
    let d = Device::new(DeviceOptions::default());
    let attr = ChnAttr::new(Payload::H264, Profile::Main, W, H);
    assert_eq!(code(d.set_out_bufs(4, 4, W, H)), Code::InvalidChnId);
    assert_eq!(code(d.set_out_bufs(-1, 4, W, H)), Code::InvalidChnId);
    assert_eq!(code(d.set_out_bufs(3, 4, W, H)), Code::NotPerm);
    assert_eq!(code(d.set_out_bufs(0, 0, W, H)), Code::IllegalParam);
    assert_eq!(code(d.create(0, &attr)), Code::NotReady);
    d.set_out_bufs(0, 4, W, H).unwrap();
    d.media_init().unwrap();
    assert_eq!(code(d.set_out_bufs(0, 4, W, H)), Code::NotPerm);
    assert_eq!(code(d.create(1, &attr)), Code::NotConfig);
    assert_eq!(code(d.start(0)), Code::Unexist);
    assert_eq!(code(d.get_stream(0, 0)), Code::Unexist);
    let mut big = attr;
    big.width = 640;
    assert_eq!(code(d.create(0, &big)), Code::IllegalParam);
    let mut tiny = attr;
    tiny.width = 64;
    assert_eq!(code(d.create(0, &tiny)), Code::IllegalParam);
    d.create(0, &attr).unwrap();
    assert_eq!(code(d.create(0, &attr)), Code::Exist);
    let pic = pattern_nv12(W, H, 0);
    let frame = InputFrame {
        view: nv12_view(&pic, W, H),
        pts_us: 0,
    };
    assert_eq!(code(d.send_frame(0, &frame, 0)), Code::NotPerm);
    assert_eq!(code(d.get_stream(0, 0)), Code::BufEmpty);
    d.start(0).unwrap();
    assert_eq!(code(d.start(0)), Code::NotPerm);
    assert_eq!(code(d.destroy(0)), Code::Busy);
    assert_eq!(code(d.media_deinit()), Code::Busy);
    let small = pattern_nv12(W / 2, H / 2, 0);
    let wrong = InputFrame {
        view: nv12_view(&small, W / 2, H / 2),
        pts_us: 0,
    };
    assert_eq!(code(d.send_frame(0, &wrong, 0)), Code::IllegalParam);
    assert_eq!(code(d.release_stream(0, 0)), Code::IllegalParam);
    d.stop(0).unwrap();
    d.stop(0).unwrap();
    d.destroy(0).unwrap();
    assert_eq!(code(d.destroy(0)), Code::Unexist);
    d.media_deinit().unwrap();
    assert_eq!(Code::BufEmpty.value() as u32, 0xA009_800E);
}

#[test]
fn sizes_and_attributes() {
    let d = ready_device(DeviceOptions::default(), &[0, 1], 4);
    let mut a = ChnAttr::new(Payload::H264, Profile::High, 4098, 100);
    assert_eq!(code(d.create(0, &a)), Code::IllegalParam);
    a.width = 128;
    a.height = 62;
    assert_eq!(code(d.create(0, &a)), Code::IllegalParam);
    let mut j = ChnAttr::new(Payload::Jpeg, Profile::Main, 8200, 64);
    assert_eq!(code(d.create(1, &j)), Code::IllegalParam);
    j.width = 320;
    j.rc = RcAttr::Cbr { bitrate_kbps: 100 };
    assert_eq!(code(d.create(1, &j)), Code::NotSupport);
    j.rc = RcAttr::MjpegFixQp { q_factor: 100 };
    assert_eq!(code(d.create(1, &j)), Code::IllegalParam);
    let mut v = ChnAttr::new(Payload::H264, Profile::Main, W, H);
    v.rc = RcAttr::FixQp { i_qp: 60, p_qp: 30 };
    assert_eq!(code(d.create(0, &v)), Code::IllegalParam);
    v.dst_frame_rate = 60;
    v.rc = RcAttr::Cbr { bitrate_kbps: 500 };
    assert_eq!(code(d.create(0, &v)), Code::IllegalParam);
    let h265 = ChnAttr::new(Payload::H265, Profile::Main, W, H);
    d.create(0, &h265).unwrap();
    d.destroy(0).unwrap();
}

#[test]
fn ide_channel_needs_the_option() {
    let d = Device::new(DeviceOptions {
        allow_ide_channel: true,
        ..Default::default()
    });
    d.set_out_bufs(3, 2, W, H).unwrap();
    d.media_init().unwrap();
    d.create(3, &ChnAttr::new(Payload::Jpeg, Profile::Main, W, H))
        .unwrap();
    d.destroy(3).unwrap();
}

#[test]
fn strict_device_wants_4k_planes() {
    let d = ready_device(
        DeviceOptions {
            strict_align: true,
            ..Default::default()
        },
        &[0],
        4,
    );
    d.create(0, &ChnAttr::new(Payload::H264, Profile::Main, W, H))
        .unwrap();
    d.start(0).unwrap();
    // A buffer laid out like the vendor's: each plane on a 4 KiB boundary.
    let pic = pattern_nv12(W, H, 0);
    let y_len = (W * H) as usize;
    let y_pad = y_len.div_ceil(4096) * 4096;
    let mut store = vec![0u8; y_pad + y_len + 3 * 4096];
    let base = store.as_ptr() as usize;
    let off = (4096 - base % 4096) % 4096;
    store[off..off + y_len].copy_from_slice(&pic[..y_len]);
    store[off + y_pad..off + y_pad + y_len / 2].copy_from_slice(&pic[y_len..]);
    let aligned = FrameView {
        format: PixelFormat::Nv12,
        width: W,
        height: H,
        planes: [
            Plane::new(&store[off..off + y_len], W as usize),
            Plane::new(&store[off + y_pad..off + y_pad + y_len / 2], W as usize),
            Plane::empty(),
        ],
    };
    let unaligned = FrameView {
        planes: [
            Plane::new(&store[off + 16..off + 16 + y_len], W as usize),
            aligned.planes[1],
            Plane::empty(),
        ],
        ..aligned
    };
    let bad = InputFrame {
        view: unaligned,
        pts_us: 0,
    };
    assert_eq!(code(d.send_frame(0, &bad, 0)), Code::BadAddr);
    let good = InputFrame {
        view: aligned,
        pts_us: 0,
    };
    d.send_frame(0, &good, -1).unwrap();
    let s = d.get_stream(0, -1).unwrap();
    assert_eq!(s.packs.len(), 2);
    d.release_stream(0, s.seq).unwrap();
}

#[test]
fn packs_nobuf_and_timeouts() {
    let d = ready_device(DeviceOptions::default(), &[0], 3);
    let mut attr = ChnAttr::new(Payload::H264, Profile::Main, W, H);
    attr.gop = 4;
    d.create(0, &attr).unwrap();
    d.start(0).unwrap();
    let t = std::time::Instant::now();
    assert_eq!(code(d.get_stream(0, 50)), Code::BufEmpty);
    assert!(t.elapsed().as_millis() < 2000);
    for i in 0..6 {
        let pic = pattern_nv12(W, H, i);
        let f = InputFrame {
            view: nv12_view(&pic, W, H),
            pts_us: i64::from(i) * 33_333,
        };
        d.send_frame(0, &f, -1).unwrap();
    }
    let mut held = Vec::new();
    for i in 0..3 {
        let s = d.get_stream(0, -1).unwrap();
        assert_eq!(s.seq, i);
        held.push(s);
    }
    assert_eq!(code(d.get_stream(0, 0)), Code::NoBuf);
    let st = d.query_status(0).unwrap();
    assert_eq!(st.held_streams, 3);
    // Out of order release is refused.
    assert_eq!(code(d.release_stream(0, held[1].seq)), Code::IllegalParam);
    for s in &held {
        d.release_stream(0, s.seq).unwrap();
    }
    for _ in 3..6 {
        let s = d.get_stream(0, -1).unwrap();
        held.push(s.clone());
        d.release_stream(0, s.seq).unwrap();
    }
    // Frame 0 and frame 4 (gop 4) are IDR: HEADER then I; others one P pack.
    for (i, s) in held.iter().enumerate() {
        let types: Vec<PackType> = s.packs.iter().map(|p| p.pack_type).collect();
        if i % 4 == 0 {
            assert_eq!(types, [PackType::Header, PackType::I], "frame {i}");
        } else {
            assert_eq!(types, [PackType::P], "frame {i}");
        }
        assert!(s.packs.iter().all(|p| p.pts == i as i64 * 33_333));
    }
    // request_idr makes the next frame an IDR.
    d.request_idr(0).unwrap();
    let pic = pattern_nv12(W, H, 6);
    let f = InputFrame {
        view: nv12_view(&pic, W, H),
        pts_us: 6,
    };
    d.send_frame(0, &f, -1).unwrap();
    let s = d.get_stream(0, 1000).unwrap();
    assert_eq!(s.packs[0].pack_type, PackType::Header);
    d.release_stream(0, s.seq).unwrap();
    let st = d.query_status(0).unwrap();
    assert_eq!(st.frames_encoded, 7);
    assert_eq!(st.left_streams, 0);
    // Sending without getting fills the queues: BUF_FULL, not unbounded memory.
    let mut full = false;
    for i in 0..64 {
        let f = InputFrame {
            view: nv12_view(&pic, W, H),
            pts_us: i,
        };
        match d.send_frame(0, &f, 0) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.code, Code::BufFull, "{e}");
                full = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(full);
    d.stop(0).unwrap();
    d.destroy(0).unwrap();
}

fn encode_channel(d: &Device, chn: i32, payload: Payload, frames: u32) -> Vec<u8> {
    let mut attr = ChnAttr::new(payload, Profile::Main, W, H);
    if payload == Payload::Jpeg {
        attr.rc = RcAttr::MjpegFixQp { q_factor: 80 };
    }
    attr.gop = 10;
    d.create(chn, &attr).unwrap();
    d.start(chn).unwrap();
    let mut out = Vec::new();
    let mut idr = 0;
    for i in 0..frames {
        let pic = pattern_nv12(W, H, i);
        let f = InputFrame {
            view: nv12_view(&pic, W, H),
            pts_us: i64::from(i) * 33_333,
        };
        d.send_frame(chn, &f, -1).unwrap();
        let s = d.get_stream(chn, -1).unwrap();
        if s.packs[0].pack_type == PackType::Header {
            idr += 1;
        }
        for p in &s.packs {
            out.extend_from_slice(&p.data);
        }
        d.release_stream(chn, s.seq).unwrap();
    }
    d.stop(chn).unwrap();
    d.destroy(chn).unwrap();
    if payload != Payload::Jpeg {
        assert_eq!(idr, frames.div_ceil(10));
    }
    out
}

#[test]
fn three_channels_on_three_threads() {
    if !have("ffmpeg") {
        eprintln!("ffmpeg missing: skipped");
        return;
    }
    let d = Arc::new(ready_device(DeviceOptions::default(), &[0, 1, 2], 4));
    let jobs = [
        (0, Payload::H264, "h264"),
        (1, Payload::Jpeg, "mjpeg"),
        (2, Payload::H265, "hevc"),
    ];
    let frames = 30;
    let threads: Vec<_> = jobs
        .iter()
        .map(|&(chn, payload, fmt)| {
            let d = Arc::clone(&d);
            std::thread::spawn(move || (chn, fmt, encode_channel(&d, chn, payload, frames)))
        })
        .collect();
    let dir = tmpdir("k230");
    for t in threads {
        let (chn, fmt, data) = t.join().unwrap();
        let path = dir.join(format!("chn{chn}.{fmt}"));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        assert_eq!(
            decoded_frames(&path, Some(fmt), W, H),
            frames as usize,
            "channel {chn}"
        );
    }
    d.media_deinit().unwrap();
}

#[test]
fn blocking_get_waits_for_another_threads_send() {
    let d = Arc::new(ready_device(DeviceOptions::default(), &[0], 4));
    d.create(0, &ChnAttr::new(Payload::H264, Profile::Main, W, H))
        .unwrap();
    d.start(0).unwrap();
    let consumer = {
        let d = Arc::clone(&d);
        std::thread::spawn(move || {
            let mut got = 0;
            for _ in 0..5 {
                let s = d.get_stream(0, -1).unwrap();
                got += 1;
                d.release_stream(0, s.seq).unwrap();
            }
            got
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    for i in 0..5 {
        let pic = pattern_nv12(W, H, i);
        let f = InputFrame {
            view: nv12_view(&pic, W, H),
            pts_us: i64::from(i),
        };
        d.send_frame(0, &f, -1).unwrap();
    }
    assert_eq!(consumer.join().unwrap(), 5);
    // A blocked get returns BUF_EMPTY once the channel stops with nothing in flight.
    let waiter = {
        let d = Arc::clone(&d);
        std::thread::spawn(move || d.get_stream(0, -1).map(|_| ()))
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    d.stop(0).unwrap();
    assert_eq!(code(waiter.join().unwrap()), Code::BufEmpty);
    d.destroy(0).unwrap();
}

#[test]
fn frame_rate_conversion_drops_evenly() {
    let d = ready_device(DeviceOptions::default(), &[0], 8);
    let mut a = ChnAttr::new(Payload::Jpeg, Profile::Main, W, H);
    a.src_frame_rate = 30;
    a.dst_frame_rate = 15;
    d.create(0, &a).unwrap();
    d.start(0).unwrap();
    let pic = pattern_nv12(W, H, 0);
    for i in 0..6 {
        let f = InputFrame {
            view: nv12_view(&pic, W, H),
            pts_us: i,
        };
        d.send_frame(0, &f, -1).unwrap();
    }
    let mut pts = Vec::new();
    while let Ok(s) = d.get_stream(0, 500) {
        pts.push(s.packs[0].pts);
        d.release_stream(0, s.seq).unwrap();
    }
    assert_eq!(pts, [0, 2, 4]);
    let st = d.query_status(0).unwrap();
    assert_eq!(st.frames_dropped, 3);
    d.stop(0).unwrap();
    d.destroy(0).unwrap();
}
