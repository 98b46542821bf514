//! Fault injection on the output side, with the native encoder producing
//! the stream and `sink::open` writing it (the encoder loop of the `venc`
//! tool and of SAIL):
//! - the output disk fills up (a 256 KiB tmpfs): a clear Io error naming
//!   the path, and what was written so far still decodes (Annex-B, TS, MP4);
//! - the RTMP server (nginx) and the RTSP server (ffmpeg) are killed
//!   mid-stream and restarted: a fresh sink reconnects and the frames sent
//!   after the restart arrive.
//!
//! Loopback only, free ports, children killed on drop, every wait bounded.
//! A missing program (ffmpeg, nginx + RTMP module) or a refused mount is a
//! printed SKIP.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use venc::api::native::{Config, Encoder, FrameOptions};
use venc::frame::{FrameView, PixelFormat, Plane};
use venc::sink::{self, AccessUnit, Sink, SinkErrorKind, StreamInfo, VideoCodec};

const W: u32 = 320;
const H: u32 = 240;

/// `n` H.264 access units (keyframe every 10) from the native encoder.
fn encode(n: usize) -> Vec<(Vec<u8>, bool)> {
    let mut c = Config::default();
    for (k, v) in [
        ("width", "320"),
        ("height", "240"),
        ("gop", "10"),
        ("bitrate", "1M"),
    ] {
        c.set(k, v).unwrap();
    }
    let enc = Encoder::new(&c).unwrap();
    let mut out = Vec::new();
    let mut take = |enc: &Encoder| match enc.receive_packet(5000) {
        Ok(p) => {
            let key = p.is_keyframe();
            if !p.data.is_empty() && p.frame_type != venc::engine::packet::FrameType::None {
                out.push((p.data, key));
            }
            true
        }
        Err(e) if e.status == venc::Status::Again => true,
        Err(_) => false,
    };
    for i in 0..n {
        let pic = pattern_i420(W, H, i as u32);
        let (y, rest) = pic.split_at((W * H) as usize);
        let (u, v) = rest.split_at((W * H / 4) as usize);
        let view = FrameView {
            format: PixelFormat::I420,
            width: W,
            height: H,
            planes: [
                Plane::new(y, W as usize),
                Plane::new(u, W as usize / 2),
                Plane::new(v, W as usize / 2),
            ],
        };
        loop {
            match enc.send_frame(&view, FrameOptions::default()) {
                Ok(()) => break,
                Err(e) if e.status == venc::Status::Again => {
                    take(&enc);
                }
                Err(e) => panic!("send_frame: {}", e.message),
            }
        }
    }
    enc.drain().unwrap();
    while take(&enc) {}
    assert_eq!(out.len(), n);
    enc.close();
    out
}

fn info() -> StreamInfo {
    StreamInfo {
        codec: VideoCodec::H264,
        width: W,
        height: H,
        fps_num: 25,
        fps_den: 1,
    }
}

fn write(s: &mut dyn Sink, au: &(Vec<u8>, bool), n: usize) -> Result<(), sink::SinkError> {
    let t = n as i64 * 3600;
    s.write(&AccessUnit {
        data: &au.0,
        pts: t,
        dts: t,
        keyframe: au.1,
    })
}

struct Kill(Option<Child>);

impl Kill {
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    fn wait_exit(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            match self.0.as_mut().map(|c| c.try_wait()) {
                Some(Ok(Some(_))) | None => {
                    self.0 = None;
                    return true;
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        false
    }
}

impl Drop for Kill {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fresh_dir(tag: &str) -> PathBuf {
    let d = tmpdir(&format!("faults-{tag}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Frames ffprobe decodes from `f` (0 if it cannot read it).
fn decoded_frames(f: &Path) -> usize {
    let out = Command::new("ffprobe")
        .args(["-v", "quiet", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(f)
        .output();
    // TS lists the stream under its program too: take the first number.
    out.ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.trim().trim_end_matches(',').parse().ok())
        })
        .unwrap_or(0)
}

// ------------------------------------------------------------ disk full

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_is_a_clear_io_error_and_the_file_still_decodes() {
    if !have("ffprobe") {
        println!("SKIP: ffprobe not found");
        return;
    }
    let d = fresh_dir("diskfull");
    let mnt = d.join("full");
    std::fs::create_dir_all(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!(
            "SKIP: cannot mount a tmpfs on {} (not root?)",
            mnt.display()
        );
        return;
    }
    let _mount = Mount(mnt.clone());
    let aus = encode(60);
    for ext in ["h264", "ts", "mp4"] {
        let path = mnt.join(format!("out.{ext}"));
        let target = path.display().to_string();
        let mut s = sink::open(&target, &info()).expect("open");
        let start = Instant::now();
        let mut n = 0;
        let err = loop {
            if let Err(e) = write(s.as_mut(), &aus[n % aus.len()], n) {
                break e;
            }
            n += 1;
            assert!(
                start.elapsed() < Duration::from_secs(60) && n < 200_000,
                "{ext}: no error after {n} frames on a 256 KiB disk"
            );
        };
        // Buffered sinks may report the error only at finish.
        let fin = s.finish();
        drop(s);
        println!("{ext}: error after {n} frames: {err}; finish: {fin:?}");
        assert_eq!(err.kind, SinkErrorKind::Io, "{err}");
        assert!(err.message.contains(&target), "{err}");
        assert!(
            err.message.to_lowercase().contains("no space"),
            "the OS reason is kept: {err}"
        );
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let frames = decoded_frames(&path);
        println!("{ext}: {size} bytes on disk, {frames} frames decode");
        if frames < 10 {
            // Kept for a look.
            let keep = std::env::temp_dir().join(format!("venc-diskfull.{ext}"));
            let _ = std::fs::copy(&path, &keep);
            println!("kept in {}", keep.display());
        }
        assert!(
            frames >= 10,
            "{ext}: only {frames} frames decode from {size} bytes"
        );
        std::fs::remove_file(&path).unwrap();
    }
    drop(_mount);
    let _ = std::fs::remove_dir_all(&d);
}

// ------------------------------------------------------- server restarts

#[path = "support/nginx_rtmp.rs"]
mod nginx_rtmp;
#[path = "support/rtsp_listener.rs"]
mod rtsp_listener;

fn nginx(dir: &Path, port: u16) -> Option<Kill> {
    if !nginx_rtmp::available() {
        return None;
    }
    nginx_rtmp::spawn(dir, port, true).map(|child| Kill(Some(child)))
}

/// Writes until the write fails after the server is killed at frame 10.
fn write_until_killed(
    s: &mut dyn Sink,
    aus: &[(Vec<u8>, bool)],
    server: &mut Kill,
) -> sink::SinkError {
    let start = Instant::now();
    for n in 0.. {
        if n == 10 {
            server.kill();
        }
        if let Err(e) = write(s, &aus[n % aus.len()], n) {
            return e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no error 20 s after the server died"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    unreachable!()
}

/// Waits until `f` stops growing (the server closed its recording).
fn settle(f: &Path) {
    let end = Instant::now() + Duration::from_secs(5);
    let mut last = 0;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(300));
        let l = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        if l > 0 && l == last {
            break;
        }
        last = l;
    }
}

#[test]
fn rtmp_server_restart_then_a_fresh_sink_continues() {
    if !have("ffprobe") {
        println!("SKIP: ffprobe not found");
        return;
    }
    let d = fresh_dir("rtmp-restart");
    let port = free_port();
    let Some(mut server) = nginx(&d, port) else {
        println!("SKIP: nginx with the RTMP module not found");
        return;
    };
    let aus = encode(30);
    let url = format!("rtmp://127.0.0.1:{port}/live/before");
    let mut s = sink::open(&url, &info()).expect("open rtmp");
    let e = write_until_killed(s.as_mut(), &aus, &mut server);
    println!("after kill: {e}");
    assert!(
        matches!(e.kind, SinkErrorKind::Io | SinkErrorKind::Connect),
        "{e}"
    );
    let _ = s.finish();
    drop(s);
    // While the server is down, opening fails cleanly.
    let down = sink::open(&url, &info()).err().expect("no server");
    assert_eq!(down.kind, SinkErrorKind::Connect, "{down}");
    // Restart on the same port; a fresh sink (the reconnect) continues.
    let mut server = nginx(&d, port).expect("nginx restarts");
    let url = format!("rtmp://127.0.0.1:{port}/live/after");
    let mut s = sink::open(&url, &info()).expect("reconnect");
    for (n, au) in aus.iter().enumerate() {
        write(s.as_mut(), au, n).expect("write after restart");
        std::thread::sleep(Duration::from_millis(5));
    }
    s.finish().expect("finish");
    drop(s);
    let rec = d.join("after.flv");
    settle(&rec);
    server.kill();
    let frames = decoded_frames(&rec);
    println!("after restart: {frames} of {} frames recorded", aus.len());
    assert_eq!(frames, aus.len());
    let _ = std::fs::remove_dir_all(&d);
}

fn ffmpeg_rtsp_listen(url: &str, out: Option<&Path>) -> Kill {
    Kill(Some(rtsp_listener::spawn(url, out, Stdio::null())))
}

/// ffmpeg's listener takes one connection: retry `open` until it is up.
fn open_retry(url: &str) -> Box<dyn Sink> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match sink::open(url, &info()) {
            Ok(s) => return s,
            Err(e) if e.kind == SinkErrorKind::Connect && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("open {url}: {e}"),
        }
    }
}

#[test]
fn rtsp_server_restart_then_a_fresh_sink_continues() {
    if !have("ffmpeg") || !have("ffprobe") {
        println!("SKIP: ffmpeg/ffprobe not found");
        return;
    }
    let d = fresh_dir("rtsp-restart");
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let aus = encode(30);
    let mut server = ffmpeg_rtsp_listen(&url, None);
    let mut s = open_retry(&url);
    let e = write_until_killed(s.as_mut(), &aus, &mut server);
    println!("after kill: {e}");
    assert!(
        matches!(e.kind, SinkErrorKind::Io | SinkErrorKind::Connect),
        "{e}"
    );
    let _ = s.finish();
    drop(s);
    let out = d.join("after.mkv");
    let mut server = ffmpeg_rtsp_listen(&url, Some(&out));
    let mut s = open_retry(&url);
    for (n, au) in aus.iter().enumerate() {
        write(s.as_mut(), au, n).expect("write after restart");
        std::thread::sleep(Duration::from_millis(5));
    }
    s.finish().expect("finish");
    drop(s);
    assert!(
        server.wait_exit(Duration::from_secs(20)),
        "ffmpeg did not exit"
    );
    let frames = decoded_frames(&out);
    println!("after restart: {frames} of {} frames received", aus.len());
    assert_eq!(frames, aus.len());
    let _ = std::fs::remove_dir_all(&d);
}

/// SAIL's own path: video_write reports -3 after the server dies;
/// reconnect() against the restarted server clears it, and every picture
/// written to the new connection is in the new recording.
#[test]
fn sail_rtmp_reconnect_after_server_restart() {
    use venc::api::sail::{SailEncoder, WriteCode};
    if !have("ffprobe") {
        println!("SKIP: ffprobe not found");
        return;
    }
    let d = fresh_dir("sail-restart");
    let port = free_port();
    let Some(mut server) = nginx(&d, port) else {
        println!("SKIP: nginx with the RTMP module not found");
        return;
    };
    let url = format!("rtmp://127.0.0.1:{port}/live/sail");
    let params = "width=320:height=240:framerate=30:bitrate=500:gop=10";
    let enc = SailEncoder::open(&url, 0, "h264_bm", "I420", params, 5, 0).expect("open");
    let pic = pattern_i420(W, H, 0);
    let (y, rest) = pic.split_at((W * H) as usize);
    let (u, v) = rest.split_at((W * H / 4) as usize);
    let view = FrameView {
        format: PixelFormat::I420,
        width: W,
        height: H,
        planes: [
            Plane::new(y, W as usize),
            Plane::new(u, W as usize / 2),
            Plane::new(v, W as usize / 2),
        ],
    };
    let start = Instant::now();
    let mut n = 0;
    let failed = loop {
        if n == 10 {
            server.kill();
        }
        match enc.video_write(&view) {
            Ok(()) => n += 1,
            Err(e) if e.code == WriteCode::QueueFull => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => break e,
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no error after the kill"
        );
    };
    println!("after kill: {failed}");
    assert_eq!(failed.code, WriteCode::WriteFailed, "{failed}");
    assert!(enc.reconnect().is_err(), "reconnect with the server down");
    let mut server = nginx(&d, port).expect("nginx restarts");
    enc.reconnect().expect("reconnect");
    let before = enc.stats().written;
    let mut after = 0;
    while after < 30 {
        match enc.video_write(&view) {
            Ok(()) => after += 1,
            Err(e) if e.code == WriteCode::QueueFull => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("video_write after reconnect: {e}"),
        }
        assert!(start.elapsed() < Duration::from_secs(60));
    }
    enc.release(false).expect("release");
    let st = enc.stats();
    println!("stats: {st:?}");
    // Nothing is lost but the one picture whose write failed; pictures
    // still queued at the reconnect go to the new connection.
    assert_eq!(st.queued, st.written + st.write_failed, "{st:?}");
    assert_eq!(st.write_failed, 1);
    let sent_after = (st.written - before) as usize;
    assert!(sent_after >= 30);
    let rec = d.join("sail.flv");
    settle(&rec);
    server.kill();
    let frames = decoded_frames(&rec);
    println!("after reconnect: {frames} of {sent_after} frames recorded");
    assert_eq!(frames, sent_after);
    let _ = std::fs::remove_dir_all(&d);
}
