//! The SAIL personality from Rust: files decoded by FFmpeg with exact frame
//! counts and durations, enc_params parsing, every video_write code, the
//! abort policies, release, the BM1684 conversion rules, pic_encode, and
//! real peers (nginx-rtmp, `ffmpeg -rtsp_flags listen`) including a server
//! killed mid-stream and reconnect. Tests whose programs are missing print
//! SKIP and return.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use venc::api::sail::params::parse;
use venc::api::sail::worker::Opener;
use venc::api::sail::{SailEncoder, Stats, VideoSettings, WriteCode};
use venc::codec::{self, Coded, VideoEncoder};
use venc::engine::params::GopShape;
use venc::error::Error;
use venc::frame::{FrameView, PixelFormat, Plane, Yuv420};
use venc::sink::{AccessUnit, Sink, SinkError, SinkErrorKind};
use venc::Status;

// ------------------------------------------------------------ helpers

/// Packed BGR with a moving gradient.
fn bgr(w: u32, h: u32, t: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            b.push(((x + 3 * t) % 256) as u8);
            b.push(((y + t) % 256) as u8);
            b.push(((x + y) / 2 % 256) as u8);
        }
    }
    b
}

fn packed_view(format: PixelFormat, buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let stride = format.min_stride(0, w).unwrap();
    FrameView::packed(format, w, h, buf, stride)
}

fn nv12_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let (y, c) = buf.split_at((w * h) as usize);
    FrameView {
        format: PixelFormat::Nv12,
        width: w,
        height: h,
        planes: [
            Plane::new(y, w as usize),
            Plane::new(c, w as usize),
            Plane::empty(),
        ],
    }
}

fn fresh_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = tmpdir(&format!("sail-{tag}-{}", N.fetch_add(1, Ordering::SeqCst)));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

macro_rules! require {
    ($($p:expr),*) => {
        $( if !have($p) { println!("SKIP: '{}' not found", $p); return; } )*
    };
}

fn ffprobe(f: &Path, args: &[&str]) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .args(["-of", "default=nw=1:nk=1"])
        .arg(f)
        .output()
        .expect("ffprobe");
    assert!(out.status.success(), "ffprobe {}", f.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Frames FFmpeg decodes (silently: decode_i420 fails on any message).
fn decoded_frames(f: &Path, w: u32, h: u32) -> usize {
    let raw = decode_i420(f, None);
    let fs = (w * h + 2 * w.div_ceil(2) * h.div_ceil(2)) as usize;
    assert_eq!(raw.len() % fs, 0, "{}: partial frame", f.display());
    raw.len() / fs
}

fn container_duration(f: &Path) -> f64 {
    ffprobe(f, &["-show_entries", "format=duration"])
        .parse()
        .unwrap_or(-1.0)
}

fn pict_types(f: &Path) -> String {
    ffprobe(
        f,
        &["-select_streams", "v:0", "-show_entries", "frame=pict_type"],
    )
    .lines()
    .collect()
}

fn open(
    path: &str,
    enc_fmt: &str,
    params: &str,
    cache: i32,
    policy: i32,
) -> venc::Result<SailEncoder> {
    SailEncoder::open(path, 0, enc_fmt, "I420", params, cache, policy)
}

const SMALL: &str = "width=320:height=240:bitrate=800:gop=16:gop_preset=2";

// ------------------------------------------------------------ files

fn write_file(ext: &str, enc_fmt: &str, fps: u32, frames: u32) -> Option<(PathBuf, Stats)> {
    let d = fresh_dir(ext);
    let out = d.join(format!("out.{ext}"));
    let params = format!("{SMALL}:framerate={fps}");
    let enc = match open(out.to_str().unwrap(), enc_fmt, &params, 5, 3) {
        Ok(e) => e,
        Err(e) => panic!("open .{ext}: {e}"),
    };
    assert!(enc.is_opened());
    // Input 352x288 BGR: converted and resized to 320x240 (BM1684X rules).
    for i in 0..frames {
        let b = bgr(352, 288, i);
        enc.video_write(&packed_view(PixelFormat::Bgr24, &b, 352, 288))
            .unwrap_or_else(|e| panic!("video_write {i}: {e}"));
    }
    enc.release(false).unwrap();
    enc.release(false).expect("second release is harmless");
    assert!(!enc.is_opened());
    Some((out, enc.stats()))
}

fn check_file(ext: &str, enc_fmt: &str) {
    require!("ffmpeg", "ffprobe");
    let (frames, fps) = (37, 30);
    let Some((out, stats)) = write_file(ext, enc_fmt, fps, frames) else {
        return;
    };
    assert_eq!(stats.written, u64::from(frames), "{stats:?}");
    assert_eq!(decoded_frames(&out, 320, 240), frames as usize, ".{ext}");
    if !matches!(ext, "h264" | "264" | "h265") {
        let want = f64::from(frames) / f64::from(fps);
        let got = container_duration(&out);
        println!(".{ext}: duration {got}, want {want}");
        assert!(
            (got - want).abs() <= 1.0 / f64::from(fps) + 0.002,
            ".{ext}: duration {got}, want {want}"
        );
    }
    let types = pict_types(&out);
    assert!(!types.contains('B'), "{types}");
}

#[test]
fn file_h264() {
    check_file("h264", "h264_bm")
}
#[test]
fn file_264() {
    check_file("264", "h264_bm")
}
#[test]
fn file_mp4() {
    check_file("mp4", "h264_bm")
}
#[test]
fn file_ts() {
    check_file("ts", "h264_bm")
}
#[test]
fn file_flv() {
    check_file("flv", "h264_bm")
}
#[test]
fn file_h265() {
    check_file("h265", "h265_bm")
}
#[test]
fn file_hevc_mp4() {
    check_file("mp4", "hevc_bm")
}

#[test]
fn constructor_errors_name_the_problem() {
    let d = fresh_dir("ctor");
    let f = d.join("x.mp4");
    let p = f.to_str().unwrap();
    let e = |r: venc::Result<SailEncoder>| r.err().expect("must fail");
    let m = e(SailEncoder::open(p, -1, "h264_bm", "I420", SMALL, 5, 0));
    assert!(m.message.contains("device_id"), "{m}");
    let m = e(SailEncoder::open(p, 0, "h264", "I420", SMALL, 5, 0));
    assert!(m.message.contains("enc_fmt"), "{m}");
    let m = e(SailEncoder::open(p, 0, "h264_bm", "i420", SMALL, 5, 0));
    assert!(m.message.contains("pix_fmt"), "{m}");
    let m = e(open(p, "h264_bm", "width=320:height", 5, 0));
    assert!(m.message.contains("\"height\""), "{m}");
    let m = e(open(p, "h264_bm", "width=320:height=2x0", 5, 0));
    assert!(m.message.contains("2x0"), "{m}");
    let m = e(open(p, "h264_bm", "width=200:height=240", 5, 0));
    assert!(m.message.contains("200x240"), "{m}");
    let m = e(open(p, "h264_bm", "width=322:height=241", 5, 0));
    assert!(m.message.contains("multiples"), "{m}");
    let m = e(open(p, "h264_bm", SMALL, -1, 0));
    assert!(m.message.contains("cache_buffer_length"), "{m}");
    let m = e(open(
        d.join("x.avi").to_str().unwrap(),
        "h264_bm",
        SMALL,
        5,
        0,
    ));
    assert!(
        m.message.contains(".avi") || m.message.contains("avi"),
        "{m}"
    );
    let m = e(open("tcp://127.0.0.1:9/x", "h264_bm", SMALL, 5, 0));
    assert_eq!(m.status, Status::Unsupported, "{m}");
    // A server that is not there fails in the constructor.
    let port = free_port();
    let t = Instant::now();
    let m = e(open(
        &format!("rtmp://127.0.0.1:{port}/live/x"),
        "h264_bm",
        SMALL,
        5,
        0,
    ));
    println!("no server: {m}");
    assert_eq!(m.status, Status::Io, "{m}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let m = e(open(
        &format!("rtsp://127.0.0.1:{port}/live"),
        "h264_bm",
        SMALL,
        5,
        0,
    ));
    assert_eq!(m.status, Status::Io, "{m}");
}

// ------------------------------------------------------------ enc_params

#[test]
fn enc_params_parsing() {
    let p = parse("").unwrap();
    assert_eq!(
        (
            p.width,
            p.height,
            p.framerate,
            p.bitrate_kbps,
            p.gop,
            p.gop_preset,
            p.qp
        ),
        (1920, 1080, 25, 2000, 32, 3, None)
    );
    assert_eq!((p.mb_rc, p.bg, p.nr, p.weightp), (0, 0, 0, 0));
    // qp >= 0: constant QP, bitrate ignored.
    let (s, _) =
        VideoSettings::new("x.mp4", 0, "h264_bm", "I420", "qp=28:bitrate=50", 5, 0).unwrap();
    let e = s.engine_params().unwrap();
    assert_eq!((e.rc.name(), e.qp), ("cqp", 28));
    let (s, _) =
        VideoSettings::new("x.mp4", 0, "h264_bm", "I420", "qp=-1:bitrate=50", 5, 0).unwrap();
    let e = s.engine_params().unwrap();
    assert_eq!((e.rc.name(), e.bitrate), ("cbr", 50_000));
    assert_eq!((e.width, e.height, e.fps_num, e.gop), (1920, 1080, 25, 32));
    // Malformed tokens and non-integers fail, naming them.
    for (bad, needle) in [
        ("width=320:height", "\"height\""),
        ("width=abc", "abc"),
        ("framerate=25.5", "25.5"),
        ("gop_preset=0", "gop_preset=0"),
        ("gop_preset=10", "gop_preset=10"),
        ("=3", "=3"),
        ("qp=60", "qp=60"),
        ("chip=bm1688", "bm1688"),
    ] {
        let err = parse(bad)
            .err()
            .unwrap_or_else(|| panic!("{bad} must fail"));
        assert!(err.message.contains(needle), "{bad}: {err}");
    }
    // Unknown keys are warnings, not failures.
    let (_, w) =
        VideoSettings::new("x.mp4", 0, "h264_bm", "I420", "gop_preset=2:colour=1", 5, 0).unwrap();
    assert!(w.iter().any(|w| w.contains("\"colour\"")), "{w:?}");
    // gop_preset: 1 all-I, 2/6/9 I/P, 3/7 low-delay B, 4/5/8 B between anchors.
    assert_eq!(parse("gop_preset=1:gop=32").unwrap().effective_gop(), 1);
    for preset in 1..=9 {
        let p = parse(&format!("gop_preset={preset}")).unwrap();
        assert!(p.warnings.is_empty(), "preset {preset}: {:?}", p.warnings);
        let shape = match preset {
            3 | 7 => GopShape::LowDelayB,
            4 => GopShape::Reordered { b_frames: 1 },
            5 => GopShape::Reordered { b_frames: 3 },
            8 => GopShape::Reordered { b_frames: 7 },
            _ => GopShape::IpOnly,
        };
        assert_eq!(p.gop_shape(), shape, "preset {preset}");
    }
    assert_eq!(parse("chip=BM1684").unwrap().chip.name(), "bm1684");
    assert_eq!(parse("block_ms=250").unwrap().block_ms, 250);
}

#[test]
fn gop_presets_in_the_stream() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("preset");
    for (preset, gop, want) in [(1, 32, "IIIIIIIIII"), (2, 4, "IPPPIPPPIP")] {
        let out = d.join(format!("p{preset}.mp4"));
        let enc = open(
            out.to_str().unwrap(),
            "h264_bm",
            &format!("width=320:height=240:gop={gop}:gop_preset={preset}"),
            20,
            3,
        )
        .unwrap();
        assert!(enc.warnings().is_empty(), "{:?}", enc.warnings());
        let pic = pattern_i420(320, 240, 1);
        for _ in 0..10 {
            enc.video_write(&i420_view(&pic, 320, 240)).unwrap();
        }
        enc.release(false).unwrap();
        assert_eq!(pict_types(&out), want, "preset {preset}");
    }
}

/// The B-frame presets for both codecs: I exactly where the GOP says, B
/// pictures present, every frame decoded in display order, and low-delay
/// presets (3, 7) without reordering (pts == dts).
#[test]
fn b_frame_presets_in_the_stream() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("bpreset");
    let (n, gop) = (20u32, 16u32);
    for enc_fmt in ["h264_bm", "h265_bm"] {
        for preset in [3, 4, 5, 7, 8] {
            let out = d.join(format!("{enc_fmt}-p{preset}.mp4"));
            let enc = open(
                out.to_str().unwrap(),
                enc_fmt,
                &format!("width=320:height=240:gop={gop}:gop_preset={preset}:qp=26"),
                20,
                3,
            )
            .unwrap();
            assert!(enc.warnings().is_empty(), "{:?}", enc.warnings());
            let mut src = Vec::new();
            for i in 0..n {
                let pic = pattern_i420(320, 240, i);
                assert_eq!(code(enc.video_write(&i420_view(&pic, 320, 240))), 0);
                src.extend_from_slice(&pic);
            }
            enc.release(false).unwrap();
            assert_eq!(
                enc.stats().written,
                u64::from(n),
                "{enc_fmt} preset {preset}"
            );
            let what = format!("{enc_fmt} preset {preset}");
            let types = pict_types(&out);
            assert_eq!(types.len(), n as usize, "{what}: {types}");
            for (i, t) in types.chars().enumerate() {
                assert_eq!(t == 'I', (i as u32).is_multiple_of(gop), "{what}: {types}");
            }
            assert!(types.contains('B'), "{what}: {types}");
            let decoded = decode_i420(&out, None);
            let psnr = psnr_y_min(&src, &decoded, 320, 240);
            assert!(psnr > 32.0, "{what}: PSNR {psnr:.1}");
            let ts = ffprobe(
                &out,
                &["-select_streams", "v:0", "-show_entries", "packet=pts,dts"],
            );
            let ts: Vec<&str> = ts.lines().collect();
            let reordered = ts.chunks(2).any(|c| c.len() == 2 && c[0] != c[1]);
            // H.264 low delay declares one picture of delay (codec/h264/gop.rs).
            if enc_fmt == "h265_bm" || ![3, 7].contains(&preset) {
                assert_eq!(reordered, ![3, 7].contains(&preset), "{what}: {ts:?}");
            }
            let dur = container_duration(&out);
            assert!((dur - 0.8).abs() <= 0.042, "{what}: duration {dur}");
        }
    }
}

// ------------------------------------------------------------ fakes

/// A sink that takes `delay` per write, can be told to fail, and counts.
#[derive(Clone)]
struct Probe {
    delay: Duration,
    fail: Arc<AtomicBool>,
    refuse_open: Arc<AtomicBool>,
    written: Arc<Mutex<Vec<(i64, bool)>>>,
    opens: Arc<AtomicU64>,
}

impl Probe {
    fn new(delay_ms: u64) -> Probe {
        Probe {
            delay: Duration::from_millis(delay_ms),
            fail: Arc::default(),
            refuse_open: Arc::default(),
            written: Arc::default(),
            opens: Arc::default(),
        }
    }
    fn opener(&self) -> Opener {
        let p = self.clone();
        Box::new(move || {
            if p.refuse_open.load(Ordering::SeqCst) {
                return Err(SinkError::new(SinkErrorKind::Connect, "connection refused"));
            }
            p.opens.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(p.clone()) as Box<dyn Sink>)
        })
    }
    fn pts(&self) -> Vec<(i64, bool)> {
        self.written.lock().unwrap().clone()
    }
}

impl Sink for Probe {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        std::thread::sleep(self.delay);
        if self.fail.load(Ordering::SeqCst) {
            return Err(SinkError::new(SinkErrorKind::Io, "broken pipe"));
        }
        self.written.lock().unwrap().push((au.pts, au.keyframe));
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn is_network(&self) -> bool {
        false
    }
}

/// The real engine, failing on chosen frame numbers.
struct Flaky {
    inner: Box<dyn VideoEncoder>,
    n: u64,
    fail_at: Vec<u64>,
}

impl VideoEncoder for Flaky {
    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> venc::Result<Vec<Coded>> {
        self.n += 1;
        if self.fail_at.contains(&(self.n - 1)) {
            return Err(Error::backend("injected failure"));
        }
        self.inner.encode(pic, force_key)
    }
    fn flush(&mut self) -> venc::Result<Vec<Coded>> {
        self.inner.flush()
    }
    fn reorder_delay(&self) -> u32 {
        self.inner.reorder_delay()
    }
    fn set_bitrate(&mut self, bps: u32) -> venc::Result<()> {
        self.inner.set_bitrate(bps)
    }
    fn set_qp(&mut self, qp: u8) -> venc::Result<()> {
        self.inner.set_qp(qp)
    }
}

fn fake(params: &str, cache: i32, policy: i32, probe: &Probe, fail_at: &[u64]) -> SailEncoder {
    let (s, w) =
        VideoSettings::new("fake.mp4", 0, "h264_bm", "I420", params, cache, policy).unwrap();
    let inner = codec::open(&s.engine_params().unwrap()).unwrap();
    let engine = Box::new(Flaky {
        inner,
        n: 0,
        fail_at: fail_at.to_vec(),
    });
    SailEncoder::from_parts(s, w, engine, probe.opener()).unwrap()
}

fn code(r: Result<(), venc::api::sail::WriteError>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.code.code(),
    }
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

// ------------------------------------------------------------ codes

#[test]
fn video_write_codes() {
    let pic = pattern_i420(320, 240, 0);
    let v = i420_view(&pic, 320, 240);

    // 0, then -1: queue of 1 + 1 in flight behind a slow output, policy 0.
    let probe = Probe::new(300);
    let enc = fake(SMALL, 0, 0, &probe, &[]);
    assert_eq!(code(enc.video_write(&v)), 0);
    assert!(wait_until(Duration::from_secs(2), || enc.stats().waiting == 0));
    assert_eq!(code(enc.video_write(&v)), 0);
    assert_eq!(code(enc.video_write(&v)), -1);
    assert_eq!(enc.stats().rejected, 1);
    enc.release(true).unwrap();

    // -4: the queue is full and the policy is unknown.
    let enc = fake(SMALL, 0, 7, &probe, &[]);
    assert!(enc.warnings().iter().any(|w| w.contains("abort_policy 7")));
    assert_eq!(code(enc.video_write(&v)), 0);
    assert!(wait_until(Duration::from_secs(2), || enc.stats().waiting == 0));
    assert_eq!(code(enc.video_write(&v)), 0);
    assert_eq!(code(enc.video_write(&v)), -4);
    enc.release(true).unwrap();

    // -2 once after a failed encode; the stream goes on with a keyframe.
    let probe = Probe::new(0);
    let enc = fake(SMALL, 5, 0, &probe, &[1]);
    assert_eq!(code(enc.video_write(&v)), 0);
    assert_eq!(code(enc.video_write(&v)), 0);
    assert!(wait_until(Duration::from_secs(2), || enc
        .stats()
        .encode_failed
        == 1));
    assert_eq!(code(enc.video_write(&v)), -2);
    assert_eq!(code(enc.video_write(&v)), 0);
    enc.release(false).unwrap();
    let s = enc.stats();
    assert_eq!((s.queued, s.written, s.encode_failed), (3, 2, 1), "{s:?}");
    assert_eq!(probe.pts(), vec![(0, true), (3600, true)]);

    // -3 after a failed write, until a successful reconnect.
    let probe = Probe::new(0);
    let enc = fake(SMALL, 5, 0, &probe, &[]);
    for _ in 0..3 {
        assert_eq!(code(enc.video_write(&v)), 0);
    }
    assert!(wait_until(Duration::from_secs(2), || enc.stats().written == 3));
    probe.fail.store(true, Ordering::SeqCst);
    assert_eq!(code(enc.video_write(&v)), 0);
    assert!(wait_until(Duration::from_secs(2), || enc
        .stats()
        .write_failed
        == 1));
    assert_eq!(code(enc.video_write(&v)), -3);
    assert_eq!(code(enc.video_write(&v)), -3);
    probe.refuse_open.store(true, Ordering::SeqCst);
    let e = enc.reconnect().unwrap_err();
    assert_eq!(e.status, Status::Io, "{e}");
    assert_eq!(code(enc.video_write(&v)), -3, "a failed reconnect keeps -3");
    probe.refuse_open.store(false, Ordering::SeqCst);
    probe.fail.store(false, Ordering::SeqCst);
    enc.reconnect().unwrap();
    assert_eq!(code(enc.video_write(&v)), 0, "a good reconnect clears -3");
    assert_eq!(code(enc.video_write(&v)), 0);
    enc.release(false).unwrap();
    let pts: Vec<i64> = probe.pts().iter().map(|p| p.0).collect();
    assert_eq!(
        pts,
        vec![0, 3600, 7200, 0, 3600],
        "pts restart at 0 after reconnect"
    );
    assert!(
        probe.pts()[3].1,
        "first frame after reconnect is a keyframe"
    );
    assert_eq!(enc.stats().reconnects, 1);

    // 9: BM1684 cannot resize NV12.
    let probe = Probe::new(0);
    let enc = fake(&format!("{SMALL}:chip=bm1684"), 5, 0, &probe, &[]);
    let nv = vec![128u8; 640 * 480 * 3 / 2];
    assert_eq!(code(enc.video_write(&nv12_view(&nv, 640, 480))), 9);
    assert_eq!(
        code(enc.video_write(&nv12_view(&nv[..320 * 360], 320, 240))),
        0
    );
    enc.release(false).unwrap();

    // Calls that cannot be made: picture encoder, after release, bad picture.
    let pic_enc = SailEncoder::picture();
    assert!(!pic_enc.is_opened());
    assert_eq!(code(pic_enc.video_write(&v)), WriteCode::BadCall.code());
    assert_eq!(code(enc.video_write(&v)), WriteCode::BadCall.code());
    assert!(enc.reconnect().is_err());
    let enc = fake(SMALL, 5, 0, &probe, &[]);
    let short = [0u8; 10];
    assert_eq!(
        code(enc.video_write(&packed_view(PixelFormat::Bgr24, &short, 320, 240))),
        WriteCode::BadCall.code()
    );
}

#[test]
fn bm1684_conversion_rules() {
    let probe = Probe::new(0);
    let big_bgr = bgr(640, 480, 0);
    let bgr_small = bgr(320, 240, 0);
    let nv_big = vec![128u8; 640 * 480 * 3 / 2];
    let nv_small = vec![128u8; 320 * 240 * 3 / 2];
    let gray = vec![90u8; 400 * 300];
    let rgba = vec![90u8; 400 * 300 * 4];
    let rgba_small = vec![90u8; 320 * 240 * 4];
    let i420_big = pattern_i420(640, 480, 0);
    for (chip, pix, view, want) in [
        (
            "bm1684",
            "I420",
            packed_view(PixelFormat::Bgr24, &big_bgr, 640, 480),
            0,
        ),
        (
            "bm1684",
            "I420",
            packed_view(PixelFormat::Rgb24, &big_bgr, 640, 480),
            0,
        ),
        (
            "bm1684",
            "I420",
            packed_view(PixelFormat::Gray8, &gray, 400, 300),
            0,
        ),
        ("bm1684", "I420", i420_view(&i420_big, 640, 480), 0),
        ("bm1684", "I420", nv12_view(&nv_big, 640, 480), 9),
        ("bm1684", "I420", nv12_view(&nv_small, 320, 240), 0),
        (
            "bm1684",
            "I420",
            packed_view(PixelFormat::Rgba, &rgba, 400, 300),
            9,
        ),
        (
            "bm1684",
            "I420",
            packed_view(PixelFormat::Rgba, &rgba_small, 320, 240),
            0,
        ),
        (
            "bm1684",
            "NV12",
            packed_view(PixelFormat::Bgr24, &big_bgr, 640, 480),
            9,
        ),
        ("bm1684", "NV12", nv12_view(&nv_big, 640, 480), 9),
        (
            "bm1684",
            "NV12",
            packed_view(PixelFormat::Bgr24, &bgr_small, 320, 240),
            0,
        ),
        ("bm1684", "NV12", nv12_view(&nv_small, 320, 240), 0),
        ("bm1684x", "NV12", nv12_view(&nv_big, 640, 480), 0),
        (
            "bm1684x",
            "NV12",
            packed_view(PixelFormat::Bgr24, &big_bgr, 640, 480),
            0,
        ),
        (
            "bm1684x",
            "I420",
            packed_view(PixelFormat::Rgba, &rgba, 400, 300),
            0,
        ),
    ] {
        let (s, w) = VideoSettings::new(
            "fake.mp4",
            0,
            "h264_bm",
            pix,
            &format!("{SMALL}:chip={chip}"),
            5,
            3,
        )
        .unwrap();
        let engine = codec::open(&s.engine_params().unwrap()).unwrap();
        let enc = SailEncoder::from_parts(s, w, engine, probe.opener()).unwrap();
        let got = code(enc.video_write(&view));
        assert_eq!(
            got, want,
            "{chip} {pix} {:?} {}x{}",
            view.format, view.width, view.height
        );
    }
}

// ------------------------------------------------------------ policies

/// Sends `n` frames as fast as possible into a slow output; returns
/// (codes, stats, frames the output got).
fn flood(policy: i32, params: &str, delay_ms: u64, n: usize) -> (Vec<i32>, Stats, usize) {
    let probe = Probe::new(delay_ms);
    let enc = fake(params, 2, policy, &probe, &[]);
    let pic = pattern_i420(320, 240, 0);
    let codes: Vec<i32> = (0..n)
        .map(|_| code(enc.video_write(&i420_view(&pic, 320, 240))))
        .collect();
    enc.release(false).unwrap();
    let s = enc.stats();
    (codes, s, probe.pts().len())
}

#[test]
fn abort_policies() {
    let n = 30;
    // 0: reject the new frame.
    let (codes, s, got) = flood(0, SMALL, 20, n);
    assert!(
        codes.contains(&-1) && codes.iter().all(|c| [0, -1].contains(c)),
        "{codes:?}"
    );
    assert_eq!(s.written as usize, got);
    assert_eq!((s.written + s.rejected) as usize, n, "{s:?}");
    assert_eq!((s.dropped, s.queued), (0, s.written), "{s:?}");
    // 1: drop the oldest.
    let (codes, s, got) = flood(1, SMALL, 20, n);
    assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    assert!(s.dropped > 0, "{s:?}");
    assert_eq!(s.written as usize, got);
    assert_eq!((s.written + s.dropped) as usize, n, "{s:?}");
    // 2: drop everything queued.
    let (codes, s, got) = flood(2, SMALL, 20, n);
    assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    assert!(s.dropped >= 3, "{s:?}");
    assert_eq!(s.written as usize, got);
    assert_eq!((s.written + s.dropped) as usize, n, "{s:?}");
    // 3: wait for room; nothing lost.
    let t = Instant::now();
    let (codes, s, got) = flood(3, SMALL, 20, n);
    assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    assert_eq!(
        (s.written as usize, got, s.dropped, s.rejected),
        (n, n, 0, 0),
        "{s:?}"
    );
    assert!(t.elapsed() >= Duration::from_millis(20 * (n as u64 - 4)));
    // 3 with a bound shorter than one write: -1 after the bound, never forever.
    let t = Instant::now();
    let (codes, s, _) = flood(3, &format!("{SMALL}:block_ms=30"), 200, 8);
    println!("policy 3 bounded: {codes:?} in {:?}", t.elapsed());
    assert!(codes.contains(&-1), "{codes:?}");
    assert_eq!((s.written + s.rejected) as usize, 8, "{s:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn release_encodes_queued_frames() {
    // Everything queued is written (the output is slower than the writer).
    let probe = Probe::new(30);
    let enc = fake(SMALL, 20, 0, &probe, &[]);
    let pic = pattern_i420(320, 240, 0);
    for _ in 0..15 {
        assert_eq!(code(enc.video_write(&i420_view(&pic, 320, 240))), 0);
    }
    assert!(enc.stats().waiting > 5);
    enc.release(false).unwrap();
    assert_eq!((enc.stats().written, probe.pts().len()), (15, 15));
    // With the discard flag the queue is thrown away (and counted).
    let probe = Probe::new(30);
    let enc = fake(SMALL, 20, 0, &probe, &[]);
    for _ in 0..15 {
        assert_eq!(code(enc.video_write(&i420_view(&pic, 320, 240))), 0);
    }
    enc.release(true).unwrap();
    let s = enc.stats();
    assert!(s.discarded > 5, "{s:?}");
    assert_eq!(s.written + s.discarded, 15, "{s:?}");
    // Dropping the encoder releases it without losing frames.
    let probe = Probe::new(10);
    {
        let enc = fake(SMALL, 20, 0, &probe, &[]);
        for _ in 0..10 {
            assert_eq!(code(enc.video_write(&i420_view(&pic, 320, 240))), 0);
        }
    }
    assert_eq!(probe.pts().len(), 10);
}

#[test]
fn release_keeps_every_frame_in_a_file() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("relfile");
    let out = d.join("r.ts");
    let enc = open(out.to_str().unwrap(), "h264_bm", SMALL, 60, 0).unwrap();
    let pic = pattern_i420(320, 240, 3);
    for _ in 0..50 {
        assert_eq!(code(enc.video_write(&i420_view(&pic, 320, 240))), 0);
    }
    enc.release(false).unwrap();
    assert_eq!(decoded_frames(&out, 320, 240), 50);
}

// ------------------------------------------------------------ pictures

#[test]
fn pic_encode_formats() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("pic");
    let enc = SailEncoder::picture();
    let (w, h) = (300, 200);
    let b = bgr(w, h, 5);
    for ext in [".jpg", ".jpeg", ".png", ".bmp"] {
        let bytes = enc
            .pic_encode(ext, &packed_view(PixelFormat::Bgr24, &b, w, h))
            .unwrap();
        let f = d.join(format!("p{ext}"));
        std::fs::write(&f, &bytes).unwrap();
        assert_eq!(decoded_frames(&f, w, h), 1, "{ext}");
        let dims = ffprobe(&f, &["-show_entries", "stream=width,height"]);
        assert_eq!(dims, "300\n200", "{ext}");
    }
    // Other formats too, and on a video encoder.
    let nv = vec![128u8; 320 * 240 * 3 / 2];
    let bytes = enc.pic_encode("png", &nv12_view(&nv, 320, 240)).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let e = enc
        .pic_encode(".gif", &packed_view(PixelFormat::Bgr24, &b, w, h))
        .unwrap_err();
    assert_eq!(e.status, Status::Unsupported);
    let probe = Probe::new(0);
    let video = fake(SMALL, 5, 0, &probe, &[]);
    let jpg = video
        .pic_encode(".jpg", &packed_view(PixelFormat::Bgr24, &b, w, h))
        .unwrap();
    assert_eq!(&jpg[..2], &[0xFF, 0xD8]);
}

// ------------------------------------------------------------ real peers

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child on drop.
struct Guard(Option<Child>);
impl Guard {
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    fn wait(&mut self, limit: Duration) -> bool {
        let Some(c) = self.0.as_mut() else {
            return true;
        };
        let ok = wait_until(limit, || matches!(c.try_wait(), Ok(Some(_))));
        if ok {
            self.0 = None;
        }
        ok
    }
}
impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

#[path = "support/nginx_rtmp.rs"]
mod nginx_rtmp;
#[path = "support/rtsp_listener.rs"]
mod rtsp_listener;

/// nginx-rtmp recording every stream of application "live" into `dir`.
fn start_nginx(dir: &Path, port: u16) -> Option<Guard> {
    if !nginx_rtmp::available() {
        println!("SKIP: nginx or {} not found", nginx_rtmp::MODULE);
        return None;
    }
    nginx_rtmp::spawn(dir, port, true).map(|child| Guard(Some(child)))
}

/// Waits until nginx has finished the recording (size stable), then stops it.
fn settle_recording(rec: &Path, mut ng: Guard) {
    let mut last = 0;
    wait_until(Duration::from_secs(5), || {
        std::thread::sleep(Duration::from_millis(300));
        let l = std::fs::metadata(rec).map(|m| m.len()).unwrap_or(0);
        let done = l > 0 && l == last;
        last = l;
        done
    });
    ng.kill();
}

#[test]
fn rtmp_to_nginx() {
    require!("ffmpeg", "ffprobe", "nginx");
    let d = fresh_dir("rtmp");
    let port = free_port();
    let Some(ng) = start_nginx(&d, port) else {
        return;
    };
    let url = format!("rtmp://127.0.0.1:{port}/live/cam");
    let enc = open(&url, "h264_bm", &format!("{SMALL}:framerate=25"), 5, 3).unwrap();
    let t = Instant::now();
    let n = 50;
    for i in 0..n {
        let b = bgr(320, 240, i);
        assert_eq!(
            code(enc.video_write(&packed_view(PixelFormat::Bgr24, &b, 320, 240))),
            0
        );
    }
    enc.release(false).unwrap();
    let took = t.elapsed();
    println!("rtmp: {n} frames in {took:?}");
    assert!(
        took >= Duration::from_millis(1900),
        "rtmp output is paced at 25 fps: {took:?}"
    );
    let rec = d.join("cam.flv");
    settle_recording(&rec, ng);
    assert_eq!(decoded_frames(&rec, 320, 240), n as usize);
    let dur = container_duration(&rec);
    println!("rtmp recording: duration {dur}");
    assert!((dur - 2.0).abs() <= 0.042, "duration {dur}");
}

/// A B-frame preset pushed to nginx-rtmp: composition times in the FLV
/// tags, every frame recorded and decoded.
#[test]
fn rtmp_to_nginx_with_b_frames() {
    require!("ffmpeg", "ffprobe", "nginx");
    let d = fresh_dir("rtmpb");
    let port = free_port();
    let Some(ng) = start_nginx(&d, port) else {
        return;
    };
    let url = format!("rtmp://127.0.0.1:{port}/live/b");
    let params = "width=320:height=240:bitrate=800:gop=16:gop_preset=5:framerate=25";
    let enc = open(&url, "h264_bm", params, 5, 3).unwrap();
    let n = 40;
    for i in 0..n {
        let pic = pattern_i420(320, 240, i);
        assert_eq!(code(enc.video_write(&i420_view(&pic, 320, 240))), 0);
    }
    enc.release(false).unwrap();
    let rec = d.join("b.flv");
    settle_recording(&rec, ng);
    assert_eq!(decoded_frames(&rec, 320, 240), n as usize);
    assert!(pict_types(&rec).contains('B'));
    let dur = container_duration(&rec);
    assert!((dur - 1.6).abs() <= 0.042, "duration {dur}");
}

/// H.265 with B pictures over RTSP (RFC 7798) to FFmpeg. RTP carries only
/// presentation times, and FFmpeg's receiver cannot copy reordered video
/// into Matroska ("unknown timestamp"), so it records the elementary stream.
#[test]
fn rtsp_h265_with_b_frames() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("rtspb");
    let out = d.join("got.h265");
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let mut server = start_rtsp_listener(&url, &out);
    let params = "width=320:height=240:bitrate=800:gop=16:gop_preset=8:framerate=25";
    let end = Instant::now() + Duration::from_secs(10);
    let enc = loop {
        match open(&url, "h265_bm", params, 5, 3) {
            Ok(e) => break e,
            Err(e) if e.status == Status::Io && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("open {url}: {e}"),
        }
    };
    let n = 40;
    for i in 0..n {
        let pic = pattern_i420(320, 240, i);
        let r = enc.video_write(&i420_view(&pic, 320, 240));
        assert!(r.is_ok(), "frame {i}: {:?}", r.err().map(|e| e.message));
    }
    enc.release(false).unwrap();
    assert!(server.wait(Duration::from_secs(20)), "ffmpeg did not exit");
    assert_eq!(decoded_frames(&out, 320, 240), n as usize);
    assert!(pict_types(&out).contains('B'));
}

#[test]
fn rtmp_policy_0_against_paced_output() {
    require!("nginx");
    let d = fresh_dir("rtmp0");
    let port = free_port();
    let Some(ng) = start_nginx(&d, port) else {
        return;
    };
    let url = format!("rtmp://127.0.0.1:{port}/live/p0");
    let enc = open(&url, "h264_bm", &format!("{SMALL}:framerate=10"), 2, 0).unwrap();
    let pic = pattern_i420(320, 240, 0);
    let codes: Vec<i32> = (0..20)
        .map(|_| code(enc.video_write(&i420_view(&pic, 320, 240))))
        .collect();
    enc.release(false).unwrap();
    let s = enc.stats();
    assert!(codes.contains(&-1), "{codes:?}");
    assert_eq!(s.written + s.rejected, 20, "{s:?}");
    drop(ng);
}

#[test]
fn rtsp_to_ffmpeg_listen() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("rtsp");
    let out = d.join("got.mkv");
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let mut server = start_rtsp_listener(&url, &out);
    // The listener takes one connection: retry the constructor until it is up.
    let end = Instant::now() + Duration::from_secs(10);
    let enc = loop {
        match open(&url, "h264_bm", &format!("{SMALL}:framerate=25"), 5, 3) {
            Ok(e) => break e,
            Err(e) if e.status == Status::Io && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("open {url}: {e}"),
        }
    };
    let n = 40;
    for i in 0..n {
        let b = bgr(320, 240, i);
        assert_eq!(
            code(enc.video_write(&packed_view(PixelFormat::Bgr24, &b, 320, 240))),
            0
        );
    }
    enc.release(false).unwrap();
    assert!(server.wait(Duration::from_secs(20)), "ffmpeg did not exit");
    assert_eq!(decoded_frames(&out, 320, 240), n as usize);
    let dur = container_duration(&out);
    println!("rtsp: duration {dur}");
    assert!((dur - 1.6).abs() <= 0.042, "duration {dur}");
}

#[test]
fn rtmp_server_killed_then_reconnect() {
    require!("ffmpeg", "ffprobe", "nginx");
    let d = fresh_dir("rtmpkill");
    let port = free_port();
    let Some(mut ng) = start_nginx(&d, port) else {
        return;
    };
    let url = format!("rtmp://127.0.0.1:{port}/live/re");
    let enc = open(&url, "h264_bm", &format!("{SMALL}:framerate=25"), 5, 3).unwrap();
    let pic = pattern_i420(320, 240, 0);
    let v = i420_view(&pic, 320, 240);
    for _ in 0..10 {
        assert_eq!(code(enc.video_write(&v)), 0);
    }
    ng.kill();
    // Keep writing until the push failure shows up as -3.
    let start = Instant::now();
    let mut got = 0;
    while start.elapsed() < Duration::from_secs(20) {
        got = code(enc.video_write(&v));
        if got == -3 {
            break;
        }
        assert!([0, -1].contains(&got), "{got}");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("-3 after {:?}: {:?}", start.elapsed(), enc.stats());
    assert_eq!(got, -3);
    assert_eq!(code(enc.video_write(&v)), -3);
    // Down: reconnect fails with a negative status.
    let e = enc.reconnect().unwrap_err();
    assert_eq!(e.status, Status::Io, "{e}");
    assert_eq!(code(enc.video_write(&v)), -3);
    // Back: reconnect succeeds and clears -3.
    let _ = std::fs::remove_file(d.join("re.flv"));
    let Some(ng2) = start_nginx(&d, port) else {
        return;
    };
    let before = enc.stats().written; // stable: the worker waits while -3 stands
    enc.reconnect().unwrap();
    let rest = 30;
    for _ in 0..rest {
        assert_eq!(code(enc.video_write(&v)), 0);
    }
    enc.release(false).unwrap();
    let s = enc.stats();
    println!("after reconnect: {s:?}");
    let after = s.written - before;
    assert!(after >= rest, "{s:?}");
    assert_eq!(s.queued, s.written + s.write_failed + s.dropped, "{s:?}");
    let rec = d.join("re.flv");
    settle_recording(&rec, ng2);
    assert_eq!(decoded_frames(&rec, 320, 240) as u64, after);
}

/// `ffmpeg -rtsp_flags listen` recording `out` (killed when the guard drops).
fn start_rtsp_listener(url: &str, out: &Path) -> Guard {
    Guard(Some(rtsp_listener::spawn(url, Some(out), Stdio::null())))
}

#[test]
fn rtsp_server_killed_then_reconnect() {
    require!("ffmpeg", "ffprobe");
    let d = fresh_dir("rtspkill");
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let mut first = start_rtsp_listener(&url, &d.join("first.mkv"));
    let end = Instant::now() + Duration::from_secs(10);
    let enc = loop {
        match open(&url, "h264_bm", &format!("{SMALL}:framerate=25"), 5, 3) {
            Ok(e) => break e,
            Err(e) if e.status == Status::Io && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("open {url}: {e}"),
        }
    };
    let pic = pattern_i420(320, 240, 0);
    let v = i420_view(&pic, 320, 240);
    for _ in 0..10 {
        assert_eq!(code(enc.video_write(&v)), 0);
    }
    first.kill();
    let start = Instant::now();
    let mut got = 0;
    while start.elapsed() < Duration::from_secs(20) {
        got = code(enc.video_write(&v));
        if got == -3 {
            break;
        }
        assert!([0, -1].contains(&got), "{got}");
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("rtsp -3 after {:?}: {:?}", start.elapsed(), enc.stats());
    assert_eq!(got, -3);
    assert_eq!(enc.reconnect().unwrap_err().status, Status::Io);
    assert_eq!(code(enc.video_write(&v)), -3);
    let out = d.join("second.mkv");
    let mut second = start_rtsp_listener(&url, &out);
    let before = enc.stats().written;
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match enc.reconnect() {
            Ok(()) => break,
            Err(e) if Instant::now() < end => {
                println!("reconnect: {e}");
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("reconnect: {e}"),
        }
    }
    for _ in 0..25 {
        assert_eq!(code(enc.video_write(&v)), 0);
    }
    enc.release(false).unwrap();
    let after = enc.stats().written - before;
    assert!(after >= 25, "{:?}", enc.stats());
    assert!(second.wait(Duration::from_secs(20)), "ffmpeg did not exit");
    assert_eq!(decoded_frames(&out, 320, 240) as u64, after);
}
