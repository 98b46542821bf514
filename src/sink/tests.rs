//! Sink tests. They use only std, the sink's own crates and external
//! programs (ffmpeg, ffprobe, nginx); a test whose program is missing prints
//! a message and returns early (skip).

use super::flv::{parse_flv, parse_video_body};
use super::nal::{au_is_keyframe, split_access_units};
use super::*;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const FRAMES: usize = 50;

fn have(prog: &str) -> bool {
    Command::new(prog)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

macro_rules! require {
    ($($p:expr),*) => {
        $( if !have($p) { println!("SKIP: '{}' not found", $p); return; } )*
    };
}

fn tmpdir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("venc-sink-{}-{}-{}", std::process::id(), tag, n));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Kills the child on drop.
struct ChildGuard(Option<Child>);
impl ChildGuard {
    fn wait_timeout(&mut self, t: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + t;
        let c = self.0.as_mut()?;
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                return Some(s);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    fn stderr_text(&mut self) -> String {
        let mut s = String::new();
        if let Some(c) = self.0.as_mut() {
            if let Some(mut e) = c.stderr.take() {
                let _ = e.read_to_string(&mut s);
            }
        }
        s
    }
}
impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Run a command with a time limit; returns (success, stdout, stderr).
fn run(cmd: &mut Command, limit: Duration) -> (bool, String, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut g = ChildGuard(Some(child));
    // read outputs on threads to avoid pipe deadlock
    let mut so = g.0.as_mut().unwrap().stdout.take().unwrap();
    let mut se = g.0.as_mut().unwrap().stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let st = g.wait_timeout(limit);
    if st.is_none() {
        drop(g);
        return (
            false,
            t1.join().unwrap(),
            format!("TIMEOUT\n{}", t2.join().unwrap()),
        );
    }
    (
        st.unwrap().success(),
        t1.join().unwrap(),
        t2.join().unwrap(),
    )
}

fn info(codec: VideoCodec) -> StreamInfo {
    StreamInfo {
        codec,
        width: 320,
        height: 240,
        fps_num: 25,
        fps_den: 1,
    }
}

/// 50-frame test clip (Annex-B), generated once per codec.
fn input(codec: VideoCodec) -> Option<&'static Vec<u8>> {
    static H264: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    static H265: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    let cell = if codec == VideoCodec::H264 {
        &H264
    } else {
        &H265
    };
    cell.get_or_init(|| {
        let d = tmpdir("input");
        let (ext, args): (&str, &[&str]) = match codec {
            VideoCodec::H264 => (
                "h264",
                &[
                    "-c:v",
                    "libx264",
                    "-bf",
                    "0",
                    "-g",
                    "25",
                    "-bsf:v",
                    "h264_mp4toannexb",
                    "-f",
                    "h264",
                ],
            ),
            VideoCodec::H265 => (
                "h265",
                &[
                    "-c:v",
                    "libx265",
                    "-x265-params",
                    "bframes=0:keyint=25:log-level=error",
                    "-f",
                    "hevc",
                ],
            ),
        };
        let out = d.join(format!("in.{ext}"));
        let mut cmd = Command::new("ffmpeg");
        cmd.args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-frames:v",
            "50",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(args)
        .arg(&out);
        let (ok, _, err) = run(&mut cmd, Duration::from_secs(120));
        if !ok {
            println!("input generation failed: {err}");
            return None;
        }
        let data = std::fs::read(&out).ok();
        let _ = std::fs::remove_dir_all(&d);
        data
    })
    .as_ref()
}

fn aus(codec: VideoCodec) -> Vec<Vec<u8>> {
    let data = input(codec).expect("input");
    let aus = split_access_units(codec, data);
    assert_eq!(
        aus.len(),
        FRAMES,
        "AU splitter must find {FRAMES} access units"
    );
    aus
}

/// Write all AUs (pts = dts = n * 3600), optionally sleeping between frames.
fn feed(sink: &mut dyn Sink, codec: VideoCodec, pace: Option<Duration>) -> Result<(), SinkError> {
    for (n, au) in aus(codec).iter().enumerate() {
        let t = n as i64 * 3600;
        sink.write(&AccessUnit {
            data: au,
            pts: t,
            dts: t,
            keyframe: au_is_keyframe(codec, au),
        })?;
        if let Some(p) = pace {
            std::thread::sleep(p);
        }
    }
    Ok(())
}

/// `ffmpeg -v error -i f -f null -` must print nothing.
fn decode_silent(f: &Path) {
    let (ok, so, se) = run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(f)
            .args(["-f", "null", "-"]),
        Duration::from_secs(60),
    );
    assert!(
        ok && so.trim().is_empty() && se.trim().is_empty(),
        "decode of {} not silent: {so}{se}",
        f.display()
    );
}

fn probe(f: &Path, entries: &str, count: bool) -> String {
    let mut c = Command::new("ffprobe");
    c.args(["-v", "error"]);
    if count {
        c.arg("-count_frames");
    }
    c.args([
        "-select_streams",
        "v:0",
        "-show_entries",
        entries,
        "-of",
        "default=nw=1:nk=1",
    ])
    .arg(f);
    let (ok, so, se) = run(&mut c, Duration::from_secs(60));
    assert!(ok, "ffprobe failed on {}: {se}", f.display());
    so.trim().to_string()
}

fn frame_count(f: &Path) -> usize {
    probe(f, "stream=nb_read_frames", true)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Container duration; raw Annex-B carries no timestamps, so there it is
/// counted frames / r_frame_rate (the rate FFmpeg's raw demuxer assumes, 25).
fn duration(f: &Path) -> f64 {
    if let Ok(d) = probe(f, "format=duration", false)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .parse::<f64>()
    {
        return d;
    }
    let r = probe(f, "stream=r_frame_rate", false);
    let mut it = r.lines().next().unwrap_or("").trim().split('/');
    let (n, d): (f64, f64) = (
        it.next().and_then(|x| x.parse().ok()).unwrap_or(0.0),
        it.next().and_then(|x| x.parse().ok()).unwrap_or(1.0),
    );
    if n <= 0.0 {
        return -1.0;
    }
    frame_count(f) as f64 * d / n
}

fn check_file(codec: VideoCodec, ext: &str) {
    require!("ffmpeg", "ffprobe");
    let d = tmpdir(ext);
    let out = d.join(format!("out.{ext}"));
    let mut sink = open(out.to_str().unwrap(), &info(codec)).expect("open");
    assert!(!sink.is_network());
    feed(sink.as_mut(), codec, None).expect("write");
    sink.finish().expect("finish");
    sink.finish().expect("second finish is harmless");
    drop(sink);
    decode_silent(&out);
    assert_eq!(frame_count(&out), FRAMES, "{ext} {codec:?} frame count");
    let dur = duration(&out);
    println!("{codec:?} .{ext}: {FRAMES} frames, duration {dur}");
    assert!((dur - 2.0).abs() <= 0.041, "{ext} {codec:?} duration {dur}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn file_h264_annexb() {
    check_file(VideoCodec::H264, "h264")
}
#[test]
fn file_h265_annexb() {
    check_file(VideoCodec::H265, "h265")
}
#[test]
fn file_h264_mp4() {
    check_file(VideoCodec::H264, "mp4")
}
#[test]
fn file_h265_mp4() {
    check_file(VideoCodec::H265, "mp4")
}
#[test]
fn file_h264_ts() {
    check_file(VideoCodec::H264, "ts")
}
#[test]
fn file_h265_ts() {
    check_file(VideoCodec::H265, "ts")
}
#[test]
fn file_h264_flv() {
    check_file(VideoCodec::H264, "flv")
}

/// FFmpeg 5.1 cannot demux enhanced-FLV HEVC: check our own parse instead.
#[test]
fn file_h265_flv_structure() {
    require!("ffmpeg");
    let d = tmpdir("flv265");
    let out = d.join("out.flv");
    let mut sink = open(out.to_str().unwrap(), &info(VideoCodec::H265)).unwrap();
    feed(sink.as_mut(), VideoCodec::H265, None).unwrap();
    sink.finish().unwrap();
    let tags = parse_flv(&std::fs::read(&out).unwrap()).expect("valid FLV");
    check_hevc_flv_bodies(
        &tags
            .iter()
            .filter(|t| t.tag_type == 9)
            .map(|t| (t.timestamp_ms, t.data.clone()))
            .collect::<Vec<_>>(),
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Check a sequence of enhanced-RTMP HEVC video bodies: hvcC first, 50 frames, key flags, timestamps.
fn check_hevc_flv_bodies(bodies: &[(u32, Vec<u8>)]) {
    let parsed: Vec<_> = bodies
        .iter()
        .map(|(ts, b)| (*ts, parse_video_body(b).expect("video body")))
        .collect();
    assert!(parsed
        .iter()
        .all(|(_, p)| p.enhanced && &p.fourcc == b"hvc1"));
    let (_, first) = &parsed[0];
    assert_eq!(first.packet_type, 0, "SequenceStart first");
    assert_eq!(first.payload[0], 1, "hvcC configurationVersion");
    assert_eq!(first.payload[22], 3, "hvcC has 3 arrays (VPS/SPS/PPS)");
    let frames: Vec<_> = parsed
        .iter()
        .filter(|(_, p)| p.packet_type == 1 || p.packet_type == 3)
        .collect();
    assert_eq!(frames.len(), FRAMES);
    assert_eq!(frames[0].1.frame_type, 1);
    assert_eq!(
        frames.iter().filter(|(_, p)| p.frame_type == 1).count(),
        2,
        "two keyframes (GOP 25)"
    );
    for (i, (ts, p)) in frames.iter().enumerate() {
        assert_eq!(*ts, (i * 40) as u32);
        // payload is length-prefixed NAL units
        let mut pos = 0;
        let pl = &p.payload;
        while pos < pl.len() {
            let n = u32::from_be_bytes(pl[pos..pos + 4].try_into().unwrap()) as usize;
            assert!(n > 0 && pos + 4 + n <= pl.len());
            pos += 4 + n;
        }
    }
}

#[test]
fn open_rejects_bad_targets() {
    let i264 = info(VideoCodec::H264);
    let i265 = info(VideoCodec::H265);
    let d = tmpdir("bad");
    let p = |n: &str| d.join(n).to_str().unwrap().to_string();
    assert_eq!(
        open(&p("a.h264"), &i265).err().unwrap().kind,
        SinkErrorKind::BadTarget
    );
    assert_eq!(
        open(&p("a.265"), &i264).err().unwrap().kind,
        SinkErrorKind::BadTarget
    );
    assert_eq!(
        open(&p("a.xyz"), &i264).err().unwrap().kind,
        SinkErrorKind::BadTarget
    );
    assert_eq!(
        open(&p("noext"), &i264).err().unwrap().kind,
        SinkErrorKind::BadTarget
    );
    assert_eq!(
        open("tcp://127.0.0.1:1234", &i264).err().unwrap().kind,
        SinkErrorKind::Unsupported
    );
    assert_eq!(
        open("udp://127.0.0.1:1234", &i264).err().unwrap().kind,
        SinkErrorKind::Unsupported
    );
    assert_eq!(
        open("srt://127.0.0.1:1234", &i264).err().unwrap().kind,
        SinkErrorKind::Unsupported
    );
    assert_eq!(
        open("/nonexistent-dir-xyz/a.mp4", &i264)
            .err()
            .unwrap()
            .kind,
        SinkErrorKind::BadTarget
    );
    // first AU must be a keyframe
    let aus = aus_or_none(VideoCodec::H264);
    if let Some(aus) = aus {
        let mut s = open(&p("k.mp4"), &i264).unwrap();
        let e = s
            .write(&AccessUnit {
                data: &aus[1],
                pts: 0,
                dts: 0,
                keyframe: false,
            })
            .err()
            .unwrap();
        assert_eq!(e.kind, SinkErrorKind::Protocol);
        s.finish().unwrap();
    }
    let _ = std::fs::remove_dir_all(&d);
}

fn aus_or_none(codec: VideoCodec) -> Option<Vec<Vec<u8>>> {
    if !have("ffmpeg") {
        return None;
    }
    input(codec).map(|d| split_access_units(codec, d))
}

#[test]
fn redact_hides_credentials() {
    assert_eq!(redact_url("rtsp://u:p@h:1/x"), "rtsp://***@h:1/x");
    assert!(!redact_url("rtmp://u:pa/ss@h/app/key").contains("pa/ss"));
    assert!(!redact_url("rtmp://u:p@ss@h/app/key").contains("p@ss"));
    assert_eq!(redact_url("rtmp://h/app/key"), "rtmp://h/app/key");
    let e = open("rtsp://u:pa/ss@127.0.0.1/live", &info(VideoCodec::H264))
        .err()
        .unwrap();
    assert!(!e.to_string().contains("pa/ss"), "{e}");
}

#[test]
fn connect_failures_are_reported_and_passwords_hidden() {
    let port = free_port();
    for scheme in ["rtmp", "rtsp"] {
        let url = format!("{scheme}://user:s3cret@127.0.0.1:{port}/live/stream");
        let t = Instant::now();
        let e = open(&url, &info(VideoCodec::H264))
            .err()
            .expect("must fail");
        assert_eq!(e.kind, SinkErrorKind::Connect, "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[allow(dead_code)]
fn wait_port(port: u16, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

// ---------------------------------------------------------------- RTMP

#[path = "../../tests/support/nginx_rtmp.rs"]
mod nginx_rtmp;
#[path = "../../tests/support/rtsp_listener.rs"]
mod rtsp_listener;

/// nginx with the RTMP module, recording into `dir`. Returns (guard, port).
fn start_nginx(dir: &Path) -> Option<(ChildGuard, u16)> {
    if !nginx_rtmp::available() {
        println!("SKIP: nginx or {} not found", nginx_rtmp::MODULE);
        return None;
    }
    let port = free_port();
    nginx_rtmp::spawn(dir, port, true).map(|child| (ChildGuard(Some(child)), port))
}

#[test]
fn rtmp_h264_nginx_record() {
    require!("ffmpeg", "ffprobe");
    let d = tmpdir("rtmp");
    let Some((mut ng, port)) = start_nginx(&d) else {
        return;
    };
    let t = Instant::now();
    let bad = open(
        &format!("rtmp://127.0.0.1:{port}/nosuchapp/stream"),
        &info(VideoCodec::H264),
    );
    let e = bad.err().expect("unknown application must be refused");
    println!("unknown app: {e} ({:?})", t.elapsed());
    assert!(matches!(
        e.kind,
        SinkErrorKind::Connect | SinkErrorKind::Protocol
    ));
    assert!(t.elapsed() < Duration::from_secs(12));
    let url = format!("rtmp://127.0.0.1:{port}/live/stream");
    let mut sink = open(&url, &info(VideoCodec::H264)).expect("open rtmp");
    assert!(sink.is_network());
    let t = Instant::now();
    feed(
        sink.as_mut(),
        VideoCodec::H264,
        Some(Duration::from_millis(10)),
    )
    .expect("publish");
    sink.finish().expect("finish");
    sink.finish().expect("finish twice");
    drop(sink);
    println!("published 50 frames in {:?}", t.elapsed());
    // wait for nginx to close the recording
    let rec = d.join("stream.flv");
    let end = Instant::now() + Duration::from_secs(5);
    let mut last = 0;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(300));
        let l = std::fs::metadata(&rec).map(|m| m.len()).unwrap_or(0);
        if l > 0 && l == last {
            break;
        }
        last = l;
    }
    std::thread::sleep(Duration::from_millis(300));
    drop(ng.0.take().map(|mut c| {
        let _ = c.kill();
        c.wait()
    }));
    assert!(rec.exists(), "nginx did not record {}", rec.display());
    decode_silent(&rec);
    assert_eq!(frame_count(&rec), FRAMES);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn rtmp_server_killed_mid_stream_gives_error() {
    let d = tmpdir("rtmpkill");
    let Some((mut ng, port)) = start_nginx(&d) else {
        return;
    };
    let Some(aus) = aus_or_none(VideoCodec::H264) else {
        println!("SKIP: no ffmpeg for input");
        return;
    };
    let url = format!("rtmp://127.0.0.1:{port}/live/killed");
    let mut sink = open(&url, &info(VideoCodec::H264)).expect("open rtmp");
    let start = Instant::now();
    let mut err = None;
    for n in 0..100_000usize {
        if n == 10 {
            if let Some(c) = ng.0.as_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        let au = &aus[n % aus.len()];
        let t = n as i64 * 3600;
        if let Err(e) = sink.write(&AccessUnit {
            data: au,
            pts: t,
            dts: t,
            keyframe: au_is_keyframe(VideoCodec::H264, au),
        }) {
            err = Some(e);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no error 20 s after the server died"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let e = err.expect("write must fail");
    println!("error after kill: {e} (after {:?})", start.elapsed());
    assert!(
        matches!(e.kind, SinkErrorKind::Io | SinkErrorKind::Connect),
        "{e}"
    );
    let _ = sink.finish();
    let _ = std::fs::remove_dir_all(&d);
}

/// Minimal RTMP server built on rml_rtmp's ServerSession: accepts connect and
/// publish, returns every video message (timestamp, body).
fn fake_rtmp_server(
    listener: TcpListener,
    stall: bool,
) -> std::thread::JoinHandle<Vec<(u32, Vec<u8>)>> {
    use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
    use rml_rtmp::sessions::{
        ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult,
    };
    use std::io::Write;
    std::thread::spawn(move || {
        let mut videos = Vec::new();
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hs = Handshake::new(PeerType::Server);
        let mut buf = vec![0u8; 65536];
        let rest;
        loop {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            match hs.process_bytes(&buf[..n]).unwrap() {
                HandshakeProcessResult::InProgress { response_bytes } => {
                    s.write_all(&response_bytes).unwrap()
                }
                HandshakeProcessResult::Completed {
                    response_bytes,
                    remaining_bytes,
                } => {
                    s.write_all(&response_bytes).unwrap();
                    rest = remaining_bytes;
                    break;
                }
            }
        }
        let (mut sess, init) = ServerSession::new(ServerSessionConfig::new()).unwrap();
        let mut pending: Vec<ServerSessionResult> = init;
        let mut input = rest;
        loop {
            if !input.is_empty() {
                pending.extend(sess.handle_input(&input).unwrap());
                input.clear();
            }
            while !pending.is_empty() {
                for r in std::mem::take(&mut pending) {
                    match r {
                        ServerSessionResult::OutboundResponse(p) => {
                            let _ = s.write_all(&p.bytes);
                        }
                        ServerSessionResult::RaisedEvent(ev) => match ev {
                            ServerSessionEvent::ConnectionRequested { request_id, .. } => {
                                pending.extend(sess.accept_request(request_id).unwrap())
                            }
                            ServerSessionEvent::PublishStreamRequested { request_id, .. } => {
                                pending.extend(sess.accept_request(request_id).unwrap());
                                if stall {
                                    for r in std::mem::take(&mut pending) {
                                        if let ServerSessionResult::OutboundResponse(p) = r {
                                            let _ = s.write_all(&p.bytes);
                                        }
                                    }
                                    // stop reading but keep the connection open
                                    std::thread::sleep(Duration::from_secs(15));
                                    return videos;
                                }
                            }
                            ServerSessionEvent::VideoDataReceived {
                                data, timestamp, ..
                            } => videos.push((timestamp.value, data.to_vec())),
                            _ => {}
                        },
                        _ => {}
                    }
                }
            }
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => input.extend_from_slice(&buf[..n]),
            }
        }
        videos
    })
}

#[test]
fn rtmp_h265_enhanced_to_fake_server() {
    if aus_or_none(VideoCodec::H265).is_none() {
        println!("SKIP: ffmpeg not available for input");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = fake_rtmp_server(listener, false);
    let mut sink = open(
        &format!("rtmp://127.0.0.1:{port}/live/hevc"),
        &info(VideoCodec::H265),
    )
    .expect("open");
    feed(sink.as_mut(), VideoCodec::H265, None).expect("publish");
    sink.finish().expect("finish");
    drop(sink);
    let videos = h.join().unwrap();
    check_hevc_flv_bodies(&videos);
    // last message is the SequenceEnd
    let last = parse_video_body(&videos.last().unwrap().1).unwrap();
    assert_eq!(last.packet_type, 2);
}

// ---------------------------------------------------------------- RTSP

/// ffmpeg as RTSP server (listen mode) copying the stream into `out`.
fn rtsp_publish_to_ffmpeg(codec: VideoCodec) {
    require!("ffmpeg", "ffprobe");
    let d = tmpdir("rtsp");
    let out = d.join("out.mkv");
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let child = rtsp_listener::spawn(&url, Some(&out), Stdio::piped());
    let mut server = ChildGuard(Some(child));
    // The listener accepts only one connection: retry open() itself until it is up.
    let end = Instant::now() + Duration::from_secs(10);
    let mut sink = loop {
        match open(&url, &info(codec)) {
            Ok(s) => break s,
            Err(e) if e.kind == SinkErrorKind::Connect && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("open {url}: {e}"),
        }
    };
    assert!(sink.is_network());
    feed(sink.as_mut(), codec, Some(Duration::from_millis(5))).expect("publish");
    let t = Instant::now();
    sink.finish().expect("finish");
    sink.finish().expect("finish twice");
    println!("TEARDOWN took {:?}", t.elapsed());
    drop(sink);
    let st = server.wait_timeout(Duration::from_secs(20));
    let err = server.stderr_text();
    assert!(st.is_some(), "ffmpeg RTSP server did not exit");
    assert!(err.trim().is_empty(), "ffmpeg server printed: {err}");
    decode_silent(&out);
    let n = frame_count(&out);
    println!(
        "{codec:?} RTSP: ffmpeg received {n} frames, duration {}",
        duration(&out)
    );
    assert_eq!(n, FRAMES);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn rtsp_h264_to_ffmpeg_listen() {
    rtsp_publish_to_ffmpeg(VideoCodec::H264)
}
#[test]
fn rtsp_h265_to_ffmpeg_listen() {
    rtsp_publish_to_ffmpeg(VideoCodec::H265)
}

/// A server that accepts the publish and then stops reading: writes must fail
/// with a timeout instead of hanging.
#[test]
fn rtmp_stalled_server_write_times_out() {
    let Some(aus) = aus_or_none(VideoCodec::H264) else {
        println!("SKIP: ffmpeg not available for input");
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    {
        // small receive buffer so the stall is reached quickly
        use std::os::unix::io::AsRawFd;
        let v: libc::c_int = 4096;
        unsafe {
            libc::setsockopt(
                listener.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &v as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    let port = listener.local_addr().unwrap().port();
    let _h = fake_rtmp_server(listener, true);
    let mut sink = open(
        &format!("rtmp://127.0.0.1:{port}/live/stall"),
        &info(VideoCodec::H264),
    )
    .expect("open");
    let start = Instant::now();
    let mut err = None;
    for n in 0..1_000_000usize {
        let au = &aus[n % aus.len()];
        let t = n as i64 * 3600;
        if let Err(e) = sink.write(&AccessUnit {
            data: au,
            pts: t,
            dts: t,
            keyframe: au_is_keyframe(VideoCodec::H264, au),
        }) {
            err = Some(e);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(14),
            "writes never failed against a stalled server"
        );
    }
    let e = err.unwrap();
    println!("stalled server: {e} after {:?}", start.elapsed());
    assert_eq!(e.kind, SinkErrorKind::Io);
    let t = Instant::now();
    let _ = sink.finish();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "finish after failure must not block"
    );
}

// ---------------------------------------------------------------- misc

/// Fragmented MP4: a writer killed before finish leaves the flushed fragments playable.
#[test]
fn mp4_survives_killed_writer() {
    require!("ffmpeg", "ffprobe");
    let d = tmpdir("mp4kill");
    let out = d.join("killed.mp4");
    let mut sink = open(out.to_str().unwrap(), &info(VideoCodec::H264)).unwrap();
    feed(sink.as_mut(), VideoCodec::H264, None).unwrap();
    std::mem::forget(sink); // no finish, no Drop: like a SIGKILL
    decode_silent(&out);
    let n = frame_count(&out);
    println!("killed writer: {n} of {FRAMES} frames survive");
    assert_eq!(n, 25, "every completed ~1 s fragment survives");
    let _ = std::fs::remove_dir_all(&d);
}

/// TS structure: sync bytes, continuity counters, PAT/PMT stream_type, PCR.
#[test]
fn ts_structure() {
    for codec in [VideoCodec::H264, VideoCodec::H265] {
        let Some(aus) = aus_or_none(codec) else {
            println!("SKIP: no ffmpeg");
            return;
        };
        let mut m = super::ts::TsMuxer::new(codec);
        let mut buf = Vec::new();
        for (n, au) in aus.iter().enumerate() {
            let t = n as i64 * 3600;
            m.write_au(
                &mut buf,
                &AccessUnit {
                    data: au,
                    pts: t,
                    dts: t,
                    keyframe: au_is_keyframe(codec, au),
                },
            );
        }
        assert_eq!(buf.len() % 188, 0);
        let mut cc: std::collections::HashMap<u16, u8> = Default::default();
        let (mut pcrs, mut pes_starts, mut st) = (0, 0, None);
        for p in buf.chunks(188) {
            assert_eq!(p[0], 0x47);
            let pid = (((p[1] & 0x1f) as u16) << 8) | p[2] as u16;
            let afc = (p[3] >> 4) & 3;
            if afc & 1 == 1 {
                let c = p[3] & 0x0f;
                if let Some(prev) = cc.get(&pid) {
                    assert_eq!(c, (prev + 1) & 0x0f, "CC discontinuity on PID {pid:#x}");
                }
                cc.insert(pid, c);
            }
            if afc & 2 == 2 && p[4] > 0 && p[5] & 0x10 != 0 {
                pcrs += 1;
            }
            if pid == super::ts::PMT_PID {
                st = Some(p[5 + 12]);
                let sec_len = (((p[6] & 0x0f) as usize) << 8) | p[7] as usize;
                let sec = &p[5..5 + 3 + sec_len];
                assert_eq!(super::ts::crc32_mpeg(sec), 0, "PMT CRC");
            }
            if pid == super::ts::VIDEO_PID && p[1] & 0x40 != 0 {
                pes_starts += 1;
            }
        }
        assert_eq!(
            st,
            Some(if codec == VideoCodec::H264 {
                0x1b
            } else {
                0x24
            })
        );
        assert_eq!(pes_starts, FRAMES);
        assert_eq!(pcrs, FRAMES);
    }
}

/// RTP packetization round trip with FU fragmentation (RFC 6184 / RFC 7798).
#[test]
fn rtp_packetize_roundtrip() {
    use super::nal::{is_aud, nal_type, split_nals};
    use super::rtp::{depacketize, RtpPacketizer};
    for codec in [VideoCodec::H264, VideoCodec::H265] {
        let Some(aus) = aus_or_none(codec) else {
            println!("SKIP: no ffmpeg");
            return;
        };
        let mut pk = RtpPacketizer::new(codec, 96);
        pk.max_payload = 500;
        let mut fus = 0;
        let mut seq = None;
        for (n, au) in aus.iter().enumerate() {
            let pkts = pk.packetize(au, n as i64 * 3600);
            for (i, p) in pkts.iter().enumerate() {
                assert!(p.len() <= 12 + 500);
                assert_eq!(p[0], 0x80);
                assert_eq!(
                    p[1] & 0x80 != 0,
                    i + 1 == pkts.len(),
                    "marker only on the last packet"
                );
                let s = u16::from_be_bytes([p[2], p[3]]);
                if let Some(prev) = seq {
                    assert_eq!(s, u16::wrapping_add(prev, 1));
                }
                seq = Some(s);
                let ts = u32::from_be_bytes(p[4..8].try_into().unwrap());
                assert_eq!(ts, pk.rtp_ts(n as i64 * 3600));
            }
            let payloads: Vec<&[u8]> = pkts.iter().map(|p| &p[12..]).collect();
            fus += payloads
                .iter()
                .filter(|p| match codec {
                    VideoCodec::H264 => p[0] & 0x1f == 28,
                    VideoCodec::H265 => (p[0] >> 1) & 0x3f == 49,
                })
                .count();
            let got = depacketize(codec, &payloads);
            let want: Vec<Vec<u8>> = split_nals(au)
                .into_iter()
                .filter(|x| !is_aud(codec, nal_type(codec, x)))
                .map(|x| x.to_vec())
                .collect();
            assert_eq!(got, want);
        }
        assert!(fus > 0, "FU fragmentation exercised");
    }
}

#[test]
fn au_splitter_incremental_matches_whole() {
    let Some(data) = (if have("ffmpeg") {
        input(VideoCodec::H265)
    } else {
        None
    }) else {
        println!("SKIP: no ffmpeg");
        return;
    };
    let whole = split_access_units(VideoCodec::H265, data);
    let mut sp = super::nal::AuSplitter::new(VideoCodec::H265);
    let mut inc = Vec::new();
    for c in data.chunks(777) {
        inc.extend(sp.push(c));
    }
    inc.extend(sp.flush());
    assert_eq!(inc.len(), whole.len());
    assert_eq!(whole.len(), FRAMES);
    for (i, (a, b)) in inc.iter().zip(whole.iter()).enumerate() {
        assert!(a == b, "AU {i} differs");
    }
}

/// RTSP Digest authentication against a fake server; the password never shows in errors.
#[test]
fn rtsp_digest_auth() {
    use super::rtsp::parse_auth_params;
    use md5::{Digest, Md5};
    use std::io::Write;
    fn hex(s: &str) -> String {
        Md5::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
    for (pass, expect_ok) in [("pa:ss", true), ("wrong", false)] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut authed = 0;
            for _ in 0..2 {
                let mut req = Vec::new();
                let mut b = [0u8; 1];
                while !req.ends_with(b"\r\n\r\n") {
                    if s.read(&mut b).unwrap_or(0) == 0 {
                        return authed;
                    }
                    req.push(b[0]);
                }
                let req = String::from_utf8(req).unwrap();
                let cseq = req
                    .lines()
                    .find(|l| l.starts_with("CSeq"))
                    .unwrap()
                    .split(':')
                    .nth(1)
                    .unwrap()
                    .trim()
                    .to_string();
                let auth = req
                    .lines()
                    .find(|l| l.starts_with("Authorization: Digest "))
                    .map(|l| l[22..].to_string());
                let ok = auth.map(|a| {
                    let p = parse_auth_params(&a);
                    let g = |k: &str| {
                        p.iter()
                            .find(|(x, _)| x == k)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let ha1 = hex("us%er:venc:pa:ss".replace("%", "").as_str());
                    let ha2 = hex(&format!("OPTIONS:{}", g("uri")));
                    let want = hex(&format!(
                        "{ha1}:abc123:{}:{}:auth:{ha2}",
                        g("nc"),
                        g("cnonce")
                    ));
                    g("response") == want && g("username") == "user"
                }) == Some(true);
                if ok {
                    authed += 1;
                    let _ = s.write_all(format!("RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN\r\n\r\n").as_bytes());
                } else {
                    let _ = s.write_all(format!("RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\nWWW-Authenticate: Basic realm=\"venc\"\r\nWWW-Authenticate: Digest realm=\"venc\", nonce=\"abc123\", qop=\"auth\"\r\n\r\n").as_bytes());
                }
            }
            authed
        });
        let r = open(
            &format!(
                "rtsp://user:{}@127.0.0.1:{port}/live",
                pass.replace(':', "%3A")
            ),
            &info(VideoCodec::H264),
        );
        match r {
            Ok(mut s) => {
                assert!(expect_ok, "wrong password accepted");
                s.finish().unwrap();
            }
            Err(e) => {
                assert!(!expect_ok, "auth failed: {e}");
                assert_eq!(e.kind, SinkErrorKind::Connect);
                assert!(!e.to_string().contains(pass), "{e}");
            }
        }
        assert_eq!(h.join().unwrap(), if expect_ok { 1 } else { 0 });
    }
}

#[test]
fn rtsp_server_killed_mid_stream_gives_error() {
    require!("ffmpeg");
    let Some(aus) = aus_or_none(VideoCodec::H264) else {
        return;
    };
    let port = free_port();
    let url = format!("rtsp://127.0.0.1:{port}/live");
    let child = rtsp_listener::spawn(&url, None, Stdio::null());
    let mut server = ChildGuard(Some(child));
    let end = Instant::now() + Duration::from_secs(10);
    let mut sink = loop {
        match open(&url, &info(VideoCodec::H264)) {
            Ok(s) => break s,
            Err(e) if e.kind == SinkErrorKind::Connect && Instant::now() < end => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("open {url}: {e}"),
        }
    };
    let start = Instant::now();
    let mut err = None;
    for n in 0..100_000usize {
        if n == 10 {
            if let Some(c) = server.0.as_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        let au = &aus[n % aus.len()];
        let t = n as i64 * 3600;
        if let Err(e) = sink.write(&AccessUnit {
            data: au,
            pts: t,
            dts: t,
            keyframe: au_is_keyframe(VideoCodec::H264, au),
        }) {
            err = Some(e);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no error 20 s after the server died"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let e = err.expect("write must fail");
    println!("RTSP error after kill: {e} (after {:?})", start.elapsed());
    assert!(
        matches!(e.kind, SinkErrorKind::Io | SinkErrorKind::Connect),
        "{e}"
    );
    let t = Instant::now();
    sink.finish().ok();
    assert!(t.elapsed() < Duration::from_secs(3));
}

/// B-frames (pts != dts): timestamps come from an MP4 made by FFmpeg, the
/// Annex-B access units from the same stream; each container must decode
/// silently with all 50 frames.
#[test]
fn bframes_h264_containers() {
    require!("ffmpeg", "ffprobe");
    let d = tmpdir("bframes");
    let mp4 = d.join("src.mp4");
    let es = d.join("src.h264");
    let (ok, _, e) = run(
        Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=320x240:rate=25",
                "-frames:v",
                "50",
            ])
            .args([
                "-pix_fmt", "yuv420p", "-c:v", "libx264", "-bf", "2", "-g", "25",
            ])
            .arg(&mp4),
        Duration::from_secs(60),
    );
    assert!(ok, "{e}");
    let (ok, _, e) = run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(&mp4)
            .args(["-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264"])
            .arg(&es),
        Duration::from_secs(60),
    );
    assert!(ok, "{e}");
    let (ok, so, e) = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "packet=pts,dts",
                "-of",
                "csv=p=0",
            ])
            .arg(&mp4),
        Duration::from_secs(60),
    );
    assert!(ok, "{e}");
    let tbs = probe(&mp4, "stream=time_base", false);
    let den: i64 = tbs
        .trim()
        .rsplit('/')
        .next()
        .and_then(|x| x.parse().ok())
        .expect("time_base");
    let tb = den / 25; // ticks per frame
    let ts: Vec<(i64, i64)> = so
        .lines()
        .filter_map(|l| {
            let mut it = l.split(',').map(|x| x.trim().parse::<i64>().ok());
            Some((it.next()??, it.next()??))
        })
        .map(|(p, d)| (p * 3600 / tb, d * 3600 / tb))
        .collect();
    let aus = split_access_units(VideoCodec::H264, &std::fs::read(&es).unwrap());
    assert_eq!(aus.len(), FRAMES);
    assert_eq!(ts.len(), FRAMES);
    assert!(ts.iter().any(|(p, d)| p != d), "stream has B-frames");
    for ext in ["mp4", "ts", "flv"] {
        let out = d.join(format!("out.{ext}"));
        let mut sink = open(out.to_str().unwrap(), &info(VideoCodec::H264)).unwrap();
        for (au, (pts, dts)) in aus.iter().zip(ts.iter()) {
            sink.write(&AccessUnit {
                data: au,
                pts: *pts,
                dts: *dts,
                keyframe: au_is_keyframe(VideoCodec::H264, au),
            })
            .unwrap();
        }
        sink.finish().unwrap();
        decode_silent(&out);
        assert_eq!(frame_count(&out), FRAMES, "{ext}");
        println!("B-frames .{ext}: duration {}", duration(&out));
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Fuzz finding: a mistyped scheme made the target a file path, and the
/// error echoed it with the password.
#[test]
fn mistyped_scheme_does_not_leak_credentials() {
    let info = StreamInfo {
        codec: VideoCodec::H264,
        width: 64,
        height: 64,
        fps_num: 30,
        fps_den: 1,
    };
    for t in [
        "rts%://user:secretpassword@[::1]:8554/cam",
        "rtsp ://user:secretpassword@host/x.h265",
        "rt_mp://user:secretpassword@host/no/such/dir/x.h264",
    ] {
        let e = match open(t, &info) {
            Err(e) => e,
            Ok(_) => panic!("{t} opened"),
        };
        assert!(!e.message.contains("secretpassword"), "{}", e.message);
    }
}

/// Fuzz finding: a '%' followed by a multi-byte character in the user
/// info panicked (str slice inside a character).
#[test]
fn percent_before_multibyte_char_in_credentials() {
    let u = super::net::Url::parse("rtsp://u%41r:p%z\u{fffd}z%4@host:9999/", 554).unwrap();
    assert_eq!(u.user.as_deref(), Some("uAr"));
    assert_eq!(u.pass.as_deref(), Some("p%z\u{fffd}z%4"));
    let u = super::net::Url::parse("rtsp://%\u{e9}x@h/", 554).unwrap();
    assert_eq!(u.user.as_deref(), Some("%\u{e9}x"));
}

/// Fuzz finding: text after an IPv6 literal's ']' was ignored.
#[test]
fn junk_after_ipv6_literal_is_refused() {
    let e = super::net::Url::parse("rtsp://[::1]junk:8554/x", 554).unwrap_err();
    assert_eq!(e.kind, SinkErrorKind::BadTarget);
    assert!(e.message.contains("bad IPv6 host"), "{}", e.message);
    let u = super::net::Url::parse("rtsp://[::1]/x", 554).unwrap();
    assert_eq!((u.host.as_str(), u.port), ("::1", 554));
    let u = super::net::Url::parse("rtsp://[::1]:8554/x", 554).unwrap();
    assert_eq!(u.port, 8554);
}
