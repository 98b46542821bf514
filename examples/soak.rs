//! Soak test: every personality at once, from separate threads, for a
//! given time. `scripts/soak [seconds]` runs it (default 60).
//!
//! - 3 K230 channels on one device (H.264 320x240, send/get/release),
//! - 2 SAIL encoders pushing H.264 to a local nginx-rtmp it starts itself
//!   (abort policy 0, retried when full, and policy 1, which drops the
//!   oldest queued picture: those drops are counted),
//! - 2 Horizon encoders (send_frame/get_frame),
//! - 1 emulated V4L2 encoder session (MMAP buffers, H.264 160x120).
//!
//! Checks: frames in == frames out (+ counted drops) per handle; RSS at the
//! end at most 20 % above RSS after warm-up; no open-fd growth while
//! running, and back to the start count after everything is closed.
//! Prints one line per handle and a verdict; exits 1 on failure.
//! Without nginx + its RTMP module the SAIL encoders write MPEG-TS files to
//! a temp dir instead (said in the output).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use venc::api::hobot::HobotEncoder;
use venc::api::k230::{ChnAttr, Device, DeviceOptions, InputFrame, Payload};
use venc::api::sail::SailEncoder;
use venc::api::v4l2::buffers::BufInfo;
use venc::api::v4l2::uapi::*;
use venc::api::v4l2::Emulated;
use venc::engine::params::Profile;
use venc::frame::{FrameView, PixelFormat, Plane};

#[derive(Default)]
struct Counts {
    name: String,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    dropped: AtomicU64,
}

type Work = Box<dyn FnOnce(&Counts, &AtomicBool) -> Result<(), String> + Send>;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// A moving NV12 picture (Y ramp that shifts, flat chroma).
fn nv12(w: usize, h: usize, t: usize) -> Vec<u8> {
    let mut b = vec![128u8; w * h * 3 / 2];
    for y in 0..h {
        for x in 0..w {
            b[y * w + x] = (16 + (x + y + 3 * t) % 200) as u8;
        }
    }
    b
}

fn i420(w: usize, h: usize, t: usize) -> Vec<u8> {
    nv12(w, h, t)
}

fn nv12_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let ys = (w * h) as usize;
    FrameView {
        format: PixelFormat::Nv12,
        width: w,
        height: h,
        planes: [
            Plane::new(&buf[..ys], w as usize),
            Plane::new(&buf[ys..], w as usize),
            Plane::empty(),
        ],
    }
}

fn i420_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let ys = (w * h) as usize;
    let cs = ys / 4;
    FrameView {
        format: PixelFormat::I420,
        width: w,
        height: h,
        planes: [
            Plane::new(&buf[..ys], w as usize),
            Plane::new(&buf[ys..ys + cs], (w / 2) as usize),
            Plane::new(&buf[ys + cs..ys + 2 * cs], (w / 2) as usize),
        ],
    }
}

const W: u32 = 320;
const H: u32 = 240;

fn k230_work(dev: Arc<Device>, chn: i32) -> Work {
    Box::new(move |c, stop| {
        let e =
            |what: &'static str| move |err: venc::api::k230::K230Error| format!("{what}: {err}");
        let attr = ChnAttr::new(Payload::H264, Profile::Main, W, H);
        dev.create(chn, &attr).map_err(e("create"))?;
        dev.start(chn).map_err(e("start"))?;
        let pics: Vec<Vec<u8>> = (0..8).map(|t| nv12(W as usize, H as usize, t)).collect();
        let mut n = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let frame = InputFrame {
                view: nv12_view(&pics[n % pics.len()], W, H),
                pts_us: n as i64 * 33_333,
            };
            dev.send_frame(chn, &frame, -1).map_err(e("send_frame"))?;
            c.frames_in.fetch_add(1, Ordering::Relaxed);
            let s = dev.get_stream(chn, 5000).map_err(e("get_stream"))?;
            if !s.packs.is_empty() {
                c.frames_out.fetch_add(1, Ordering::Relaxed);
            }
            dev.release_stream(chn, s.seq)
                .map_err(e("release_stream"))?;
            n += 1;
        }
        let st = dev.query_status(chn).map_err(e("query_status"))?;
        c.dropped.store(st.frames_dropped, Ordering::Relaxed);
        dev.stop(chn).map_err(e("stop"))?;
        dev.destroy(chn).map_err(e("destroy"))?;
        Ok(())
    })
}

fn sail_work(target: String, policy: i32) -> Work {
    Box::new(move |c, stop| {
        let params = "width=352:height=288:framerate=30:bitrate=500:gop=30";
        let enc = SailEncoder::open(&target, 0, "h264_bm", "I420", params, 5, policy)
            .map_err(|e| format!("open {target}: {e}"))?;
        let pics: Vec<Vec<u8>> = (0..8).map(|t| i420(352, 288, t)).collect();
        let mut n = 0usize;
        while !stop.load(Ordering::Relaxed) {
            match enc.video_write(&i420_view(&pics[n % pics.len()], 352, 288)) {
                Ok(()) => {
                    c.frames_in.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                    // The output runs at the stream's 30 fps; writing at
                    // ~40 fps keeps policy 1 dropping some, not most.
                    thread::sleep(Duration::from_millis(25));
                }
                // Policy 0: full queue; wait and write the same picture again.
                Err(e) if e.code == venc::api::sail::WriteCode::QueueFull => {
                    thread::sleep(Duration::from_millis(2))
                }
                Err(e) => return Err(format!("video_write: {e}")),
            }
        }
        enc.release(false).map_err(|e| format!("release: {e}"))?;
        let s = enc.stats();
        c.frames_out.store(s.written, Ordering::Relaxed);
        c.dropped.store(s.dropped, Ordering::Relaxed);
        if s.encode_failed + s.write_failed + s.discarded > 0 {
            return Err(format!(
                "{} encode failures, {} write failures, {} discarded",
                s.encode_failed, s.write_failed, s.discarded
            ));
        }
        if s.queued != c.frames_in.load(Ordering::Relaxed) {
            return Err(format!("stats.queued {} != accepted writes", s.queued));
        }
        Ok(())
    })
}

fn hobot_work() -> Work {
    Box::new(move |c, stop| {
        let enc = HobotEncoder::new();
        enc.encode(1, W as i32, H as i32, 1000)
            .map_err(|e| format!("encode: {e}"))?;
        let pics: Vec<Vec<u8>> = (0..8).map(|t| nv12(W as usize, H as usize, t)).collect();
        let mut n = 0usize;
        while !stop.load(Ordering::Relaxed) {
            enc.send_frame(&pics[n % pics.len()])
                .map_err(|e| format!("send_frame: {e}"))?;
            c.frames_in.fetch_add(1, Ordering::Relaxed);
            let f = enc.get_frame(5000).map_err(|e| format!("get_frame: {e}"))?;
            if !f.is_empty() {
                c.frames_out.fetch_add(1, Ordering::Relaxed);
            }
            n += 1;
        }
        enc.close().map_err(|e| format!("close: {e}"))?;
        Ok(())
    })
}

fn v4l2_work() -> Work {
    Box::new(move |c, stop| {
        let e =
            |what: &'static str| move |err: venc::api::v4l2::V4l2Error| format!("{what}: {err}");
        let dev = Emulated::new(false);
        let mut f = v4l2_format {
            type_: BUF_TYPE_VIDEO_CAPTURE,
            ..v4l2_format::default()
        };
        f.fmt.pix = v4l2_pix_format {
            pixelformat: PIX_FMT_H264,
            ..v4l2_pix_format::default()
        };
        dev.s_fmt(&mut f, true).map_err(e("S_FMT capture"))?;
        let mut f = v4l2_format {
            type_: BUF_TYPE_VIDEO_OUTPUT,
            ..v4l2_format::default()
        };
        f.fmt.pix = v4l2_pix_format {
            width: 160,
            height: 120,
            pixelformat: PIX_FMT_NV12,
            ..v4l2_pix_format::default()
        };
        dev.s_fmt(&mut f, true).map_err(e("S_FMT output"))?;
        // Headers joined with the first frame: one CAPTURE buffer per frame.
        let mut hm = v4l2_control {
            id: CID_MPEG_VIDEO_HEADER_MODE,
            value: 1,
        };
        dev.s_ctrl(&mut hm).map_err(e("S_CTRL header mode"))?;
        for type_ in [BUF_TYPE_VIDEO_OUTPUT, BUF_TYPE_VIDEO_CAPTURE] {
            let mut r = v4l2_requestbuffers {
                count: 2,
                type_,
                memory: MEMORY_MMAP,
                ..v4l2_requestbuffers::default()
            };
            dev.reqbufs(&mut r).map_err(e("REQBUFS"))?;
        }
        dev.streamon(BUF_TYPE_VIDEO_OUTPUT).map_err(e("STREAMON"))?;
        dev.streamon(BUF_TYPE_VIDEO_CAPTURE)
            .map_err(e("STREAMON"))?;
        let buf = |type_, index, sec| BufInfo {
            index,
            type_,
            memory: MEMORY_MMAP,
            timestamp: (sec, 0),
            ..BufInfo::default()
        };
        for i in 0..2 {
            dev.qbuf(&mut buf(BUF_TYPE_VIDEO_CAPTURE, i, 0))
                .map_err(e("QBUF capture"))?;
        }
        let mut n = 0i64;
        while !stop.load(Ordering::Relaxed) {
            // Lockstep: one OUTPUT buffer in flight, its CAPTURE buffer back.
            let mut out = buf(BUF_TYPE_VIDEO_OUTPUT, (n % 2) as u32, n);
            out.bytesused = 160 * 120 * 3 / 2;
            dev.qbuf(&mut out).map_err(e("QBUF output"))?;
            c.frames_in.fetch_add(1, Ordering::Relaxed);
            let mut cap = buf(BUF_TYPE_VIDEO_CAPTURE, 0, 0);
            dev.dqbuf(&mut cap).map_err(e("DQBUF capture"))?;
            if cap.bytesused > 0 && cap.flags & BUF_FLAG_ERROR == 0 && cap.timestamp.0 == n {
                c.frames_out.fetch_add(1, Ordering::Relaxed);
            } else if n < 5 {
                eprintln!(
                    "v4l2 frame {n}: {} bytes, flags {:#x}, ts {:?}",
                    cap.bytesused, cap.flags, cap.timestamp
                );
            }
            dev.qbuf(&mut buf(BUF_TYPE_VIDEO_CAPTURE, cap.index, 0))
                .map_err(e("QBUF capture"))?;
            dev.dqbuf(&mut buf(BUF_TYPE_VIDEO_OUTPUT, 0, 0))
                .map_err(e("DQBUF output"))?;
            n += 1;
        }
        dev.streamoff(BUF_TYPE_VIDEO_OUTPUT)
            .map_err(e("STREAMOFF"))?;
        dev.streamoff(BUF_TYPE_VIDEO_CAPTURE)
            .map_err(e("STREAMOFF"))?;
        Ok(())
    })
}

#[path = "../tests/support/nginx_rtmp.rs"]
mod nginx_rtmp;

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(0, |a| a.port())
}

/// nginx with the RTMP module on a free loopback port (live, no recording).
fn start_nginx(dir: &Path) -> Option<(Nginx, u16)> {
    if !nginx_rtmp::available() {
        return None;
    }
    let port = free_port();
    nginx_rtmp::spawn(dir, port, false).map(|child| (Nginx(child), port))
}

fn main() -> ExitCode {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir: PathBuf = std::env::temp_dir().join(format!("venc-soak-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("soak: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let nginx = start_nginx(&dir);
    let sail_targets: Vec<String> = match &nginx {
        Some((_, port)) => (0..2)
            .map(|i| format!("rtmp://127.0.0.1:{port}/live/soak{i}"))
            .collect(),
        None => {
            println!(
                "soak: nginx with the RTMP module not found: SAIL writes MPEG-TS files instead"
            );
            (0..2)
                .map(|i| dir.join(format!("sail{i}.ts")).display().to_string())
                .collect()
        }
    };
    let start = Instant::now();
    let rss_start = rss_kib();
    let fds_start = open_fds();

    let k230 = Arc::new(Device::new(DeviceOptions::default()));
    for chn in 0..3 {
        if let Err(e) = k230.set_out_bufs(chn, 4, W, H) {
            eprintln!("soak: k230 set_out_bufs: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = k230.media_init() {
        eprintln!("soak: k230 media_init: {e}");
        return ExitCode::FAILURE;
    }
    let mut jobs: Vec<(String, Work)> = Vec::new();
    for chn in 0..3 {
        jobs.push((format!("k230 chn {chn}"), k230_work(k230.clone(), chn)));
    }
    for (i, t) in sail_targets.iter().enumerate() {
        jobs.push((
            format!(
                "sail {i} (policy {i}) -> {}",
                if nginx.is_some() { "rtmp" } else { "ts" }
            ),
            sail_work(t.clone(), i as i32),
        ));
    }
    for i in 0..2 {
        jobs.push((format!("horizon {i}"), hobot_work()));
    }
    jobs.push(("v4l2 emulated".to_string(), v4l2_work()));

    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let mut counts = Vec::new();
    for (name, work) in jobs {
        let c = Arc::new(Counts {
            name,
            ..Counts::default()
        });
        counts.push(c.clone());
        let stop = stop.clone();
        handles.push(thread::spawn(move || work(&c, &stop)));
    }

    let warm = Duration::from_secs((secs / 5).clamp(3, 60).min(secs / 2 + 1));
    thread::sleep(warm.min(Duration::from_secs(secs)));
    let rss_warm = rss_kib();
    let fds_warm = open_fds();
    let mut rss_peak = rss_warm;
    let mut fds_peak = fds_warm;
    let run_end = start + Duration::from_secs(secs);
    while Instant::now() < run_end && !handles.iter().any(|h| h.is_finished()) {
        thread::sleep(Duration::from_millis(500));
        rss_peak = rss_peak.max(rss_kib());
        fds_peak = fds_peak.max(open_fds());
    }
    let rss_end = rss_kib();
    let fds_end = open_fds();
    stop.store(true, Ordering::SeqCst);
    let mut ok = true;
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
        .collect();
    if let Err(e) = k230.media_deinit() {
        println!("k230 media_deinit: {e}");
        ok = false;
    }
    drop(k230);
    drop(nginx);
    let fds_after = open_fds();

    println!(
        "soak: {} s, {} handles",
        start.elapsed().as_secs(),
        counts.len()
    );
    for (c, r) in counts.iter().zip(results) {
        let (i, o, d) = (
            c.frames_in.load(Ordering::SeqCst),
            c.frames_out.load(Ordering::SeqCst),
            c.dropped.load(Ordering::SeqCst),
        );
        let balanced = i == o + d && o > 0;
        let verdict = match (&r, balanced) {
            (Ok(()), true) => "ok".to_string(),
            (Ok(()), false) => "MISMATCH".to_string(),
            (Err(e), _) => format!("ERROR {e}"),
        };
        ok &= r.is_ok() && balanced;
        println!(
            "  {:<28} in {i:>8}  out {o:>8}  dropped(counted) {d:>6}  {verdict}",
            c.name
        );
    }
    let growth = if rss_warm > 0 {
        (rss_end as f64 / rss_warm as f64 - 1.0) * 100.0
    } else {
        0.0
    };
    println!(
        "  RSS KiB: start {rss_start}, after {} s warm-up {rss_warm}, peak {rss_peak}, end {rss_end} ({growth:+.1} % after warm-up; limit +20 %)",
        warm.as_secs()
    );
    println!(
        "  open fds: start {fds_start}, after warm-up {fds_warm}, peak {fds_peak}, end {fds_end}, after close {fds_after}"
    );
    if growth > 20.0 {
        println!("  FAIL: RSS grew more than 20 % after warm-up");
        ok = false;
    }
    if fds_end > fds_warm || fds_after > fds_start {
        println!("  FAIL: open fds grew");
        ok = false;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("soak: {}", if ok { "PASS" } else { "FAIL" });
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
