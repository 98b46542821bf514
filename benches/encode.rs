//! Encode benchmark: libvenc's engines against FFmpeg's x264 (veryfast) and
//! x265 (ultrafast) on the raw clips of `../shared/tools/make-clips`, plus
//! JPEG/PNG picture timings. Prints Markdown tables.
//!
//!   cargo bench --bench encode
//!
//! Knobs (environment):
//!   VENC_CLIPS_DIR       clip directory (default ~/.cache/venc-clips)
//!   VENC_BENCH_CLIPS     photo_1080p,photo_720p,testsrc2_1080p (default: all three)
//!   VENC_BENCH_ENGINES   venc264,venc265,x264,x265 (default: all four)
//!   VENC_BENCH_THREADS   1,2 (default)
//!   VENC_BENCH_FRAMES    frames per clip (default 120)
//!   VENC_BENCH_RC        cbr (default: 4 bitrates per clip) or cqp
//!   VENC_BENCH_QPS       QPs for cqp (default 22,27,32,37)
//!   VENC_BENCH_VIDEO=0   skip the video table
//!   VENC_BENCH_PICTURES=0 skip the picture table
//!   VENC_BENCH_KEEP=1    keep the encoded streams (the directory is printed)
//!
//! Never panics on a missing tool: a missing FFmpeg, encoder or clip is
//! reported as "skipped: …".

#[path = "support/analysis.rs"]
mod analysis;

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use analysis::{bd_rate, parse_bench_rtime, parse_list, parse_psnr_y, parse_ssim, RdPoint};
use venc::api::native::{Config, Encoder, FrameOptions};
use venc::codec::image;
use venc::frame::{yuv420_to_packed, FrameView, PixelFormat, Plane, Yuv420};
use venc::Status;

const FPS: u32 = 30;
/// IDR/keyframe period for every engine (x264/x265 may add scene cuts).
const GOP: u32 = 60;
const DEFAULT_CLIPS: &str = "photo_1080p,photo_720p,testsrc2_1080p";
const DEFAULT_ENGINES: &str = "venc264,venc265,x264,x265";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Venc264,
    Venc265,
    X264,
    X265,
}

impl Engine {
    fn parse(s: &str) -> Option<Engine> {
        Some(match s {
            "venc264" => Engine::Venc264,
            "venc265" => Engine::Venc265,
            "x264" => Engine::X264,
            "x265" => Engine::X265,
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Engine::Venc264 => "venc264",
            Engine::Venc265 => "venc265",
            Engine::X264 => "x264",
            Engine::X265 => "x265",
        }
    }
    /// FFmpeg's raw elementary-stream format name, also the file extension.
    fn stream_format(self) -> &'static str {
        match self {
            Engine::Venc264 | Engine::X264 => "h264",
            Engine::Venc265 | Engine::X265 => "hevc",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Point {
    Kbps(u32),
    Qp(u8),
}

impl Point {
    fn label(self) -> String {
        match self {
            Point::Kbps(k) if k % 1000 == 0 => format!("{}M", k / 1000),
            Point::Kbps(k) => format!("{}k", k),
            Point::Qp(q) => format!("qp{q}"),
        }
    }
}

struct Clip {
    name: String,
    path: PathBuf,
    width: u32,
    height: u32,
    frames: usize,
}

impl Clip {
    fn frame_bytes(&self) -> usize {
        let (w, h) = (self.width as usize, self.height as usize);
        w * h + 2 * w.div_ceil(2) * h.div_ceil(2)
    }
}

/// Width and height from a clip name: `…_1080p`, `…_720p` or `…_WxH`.
fn clip_size(name: &str) -> Option<(u32, u32)> {
    let tail = name.rsplit('_').next()?;
    match tail {
        "2160p" => Some((3840, 2160)),
        "1080p" => Some((1920, 1080)),
        "720p" => Some((1280, 720)),
        "480p" => Some((854, 480)),
        _ => {
            let (w, h) = tail.split_once('x')?;
            Some((w.parse().ok()?, h.parse().ok()?))
        }
    }
}

/// 1/2/4/8 Mbit/s at 1080p, scaled by picture area (0.5/1/2/4 at 720p).
fn rate_points(clip: &Clip) -> Vec<u32> {
    let area = clip.width as f64 * clip.height as f64;
    let base = if clip.height >= 1080 {
        1000.0
    } else if clip.height >= 720 {
        500.0
    } else {
        (1000.0 * area / (1920.0 * 1080.0) / 50.0).round().max(1.0) * 50.0
    };
    [1.0, 2.0, 4.0, 8.0]
        .iter()
        .map(|m| (base * m) as u32)
        .collect()
}

struct Measured {
    point: Point,
    kbps: f64,
    fps: f64,
    /// Frames per CPU-second (user + system, all threads): less sensitive
    /// to other load on the machine than wall-clock fps.
    cpu_fps: f64,
    psnr: Option<f64>,
    ssim: Option<f64>,
}

struct Row {
    clip: String,
    engine: Engine,
    threads: u32,
    points: Vec<Measured>,
    note: Option<String>,
}

impl Row {
    fn curve(&self) -> Option<Vec<RdPoint>> {
        if self.note.is_some() {
            return None;
        }
        self.points
            .iter()
            .map(|m| {
                Some(RdPoint {
                    kbps: m.kbps,
                    psnr: m.psnr?,
                })
            })
            .collect()
    }
}

struct Tools {
    ffmpeg: bool,
    x264: bool,
    x265: bool,
}

fn probe_tools() -> Tools {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-encoders"])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let s = String::from_utf8_lossy(&o.stdout);
            Tools {
                ffmpeg: true,
                x264: s.contains(" libx264 "),
                x265: s.contains(" libx265 "),
            }
        }
        _ => Tools {
            ffmpeg: false,
            x264: false,
            x265: false,
        },
    }
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn env_flag(key: &str, default: bool) -> bool {
    match std::env::var(key) {
        Ok(v) => !matches!(v.trim(), "0" | "no" | "false" | "off" | ""),
        Err(_) => default,
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
    let dir = PathBuf::from(env_or(
        "VENC_CLIPS_DIR",
        &format!("{home}/.cache/venc-clips"),
    ));
    let clip_names: Vec<String> = parse_list(&env_or("VENC_BENCH_CLIPS", DEFAULT_CLIPS))
        .map_err(|e| format!("VENC_BENCH_CLIPS: {e}"))?;
    let engines: Vec<Engine> = parse_list::<String>(&env_or("VENC_BENCH_ENGINES", DEFAULT_ENGINES))
        .map_err(|e| format!("VENC_BENCH_ENGINES: {e}"))?
        .iter()
        .map(|s| {
            Engine::parse(s).ok_or_else(|| {
                format!("VENC_BENCH_ENGINES: \"{s}\" is not one of venc264, venc265, x264, x265")
            })
        })
        .collect::<Result<_, _>>()?;
    let threads: Vec<u32> = parse_list(&env_or("VENC_BENCH_THREADS", "1,2"))
        .map_err(|e| format!("VENC_BENCH_THREADS: {e}"))?;
    let max_frames: usize = env_or("VENC_BENCH_FRAMES", "120")
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or("VENC_BENCH_FRAMES must be a positive integer")?;
    let cqp = match env_or("VENC_BENCH_RC", "cbr").as_str() {
        "cbr" => false,
        "cqp" => true,
        other => return Err(format!("VENC_BENCH_RC: \"{other}\" is not cbr or cqp")),
    };
    let qps: Vec<u8> = parse_list(&env_or("VENC_BENCH_QPS", "22,27,32,37"))
        .map_err(|e| format!("VENC_BENCH_QPS: {e}"))?;
    if qps.iter().any(|&q| q > 51) {
        return Err("VENC_BENCH_QPS: QPs are 0..51".into());
    }

    let mut clips = Vec::new();
    let mut missing = Vec::new();
    for name in &clip_names {
        let path = dir.join(format!("{name}.yuv"));
        let Some((width, height)) = clip_size(name) else {
            return Err(format!(
                "clip \"{name}\": cannot tell its size (name it …_1080p, …_720p or …_WxH)"
            ));
        };
        match std::fs::metadata(&path) {
            Ok(m) => {
                let mut clip = Clip {
                    name: name.clone(),
                    path,
                    width,
                    height,
                    frames: 0,
                };
                clip.frames = (m.len() as usize / clip.frame_bytes()).min(max_frames);
                if clip.frames == 0 {
                    missing.push(format!("{} (shorter than one frame)", clip.path.display()));
                } else {
                    clips.push(clip);
                }
            }
            Err(_) => missing.push(path.display().to_string()),
        }
    }
    if !missing.is_empty() {
        println!("skipped: clips not found: {}", missing.join(", "));
        println!(
            "make them with: ../shared/tools/make-clips {} (needs ffmpeg; downloads about 95 MB once)",
            dir.display()
        );
    }
    if clips.is_empty() {
        return Ok(());
    }

    println!("{}", machine_line());
    let tools = probe_tools();
    if !tools.ffmpeg {
        println!("skipped: ffmpeg not found: no x264/x265 anchors, no PSNR/SSIM/BD-rate");
    }

    if env_flag("VENC_BENCH_VIDEO", true) {
        let work = std::env::temp_dir().join(format!("venc-bench-{}", std::process::id()));
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let mut rows = Vec::new();
        for clip in &clips {
            let points: Vec<Point> = if cqp {
                qps.iter().map(|&q| Point::Qp(q)).collect()
            } else {
                rate_points(clip).into_iter().map(Point::Kbps).collect()
            };
            let frames = match load_frames(clip) {
                Ok(f) => f,
                Err(e) => {
                    println!("skipped: {}: {e}", clip.name);
                    continue;
                }
            };
            for &engine in &engines {
                for &t in &threads {
                    rows.push(bench_row(clip, &frames, engine, t, &points, &tools, &work));
                }
            }
        }
        print!("{}", video_table(&rows, cqp));
        if env_flag("VENC_BENCH_KEEP", false) {
            println!("\nstreams kept in {}", work.display());
        } else {
            let _ = std::fs::remove_dir_all(&work);
        }
    }
    if env_flag("VENC_BENCH_PICTURES", true) {
        print!("{}", picture_table(&clips));
    }
    println!("\nload average at end: {}", load_average());
    Ok(())
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "machine: {cpu}, {cores} CPUs available, load average at start {}",
        load_average()
    )
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn load_frames(clip: &Clip) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; clip.frames * clip.frame_bytes()];
    File::open(&clip.path)
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("{}: {e}", clip.path.display()))?;
    Ok(buf)
}

fn i420_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let (wu, hu) = (w as usize, h as usize);
    let (cw, ch) = (wu.div_ceil(2), hu.div_ceil(2));
    let (y, rest) = buf.split_at(wu * hu);
    let (u, v) = rest.split_at(cw * ch);
    FrameView {
        format: PixelFormat::I420,
        width: w,
        height: h,
        planes: [Plane::new(y, wu), Plane::new(u, cw), Plane::new(v, cw)],
    }
}

fn bench_row(
    clip: &Clip,
    frames: &[u8],
    engine: Engine,
    threads: u32,
    points: &[Point],
    tools: &Tools,
    work: &Path,
) -> Row {
    let mut row = Row {
        clip: clip.name.clone(),
        engine,
        threads,
        points: Vec::new(),
        note: None,
    };
    let missing = match engine {
        Engine::X264 if !tools.x264 => Some("ffmpeg with libx264 not found"),
        Engine::X265 if !tools.x265 => Some("ffmpeg with libx265 not found"),
        _ => None,
    };
    if let Some(m) = missing {
        row.note = Some(format!("skipped: {m}"));
        return row;
    }
    for &point in points {
        let out = work.join(format!(
            "{}-{}-t{threads}-{}.{}",
            clip.name,
            engine.name(),
            point.label(),
            engine.stream_format()
        ));
        let encoded = match engine {
            Engine::Venc264 => encode_venc("h264", clip, frames, threads, point, &out),
            Engine::Venc265 => encode_venc("h265", clip, frames, threads, point, &out),
            Engine::X264 | Engine::X265 => encode_ffmpeg(engine, clip, threads, point, &out),
        };
        let (secs, cpu, bytes) = match encoded {
            Ok(v) => v,
            Err(e) => {
                eprintln!(
                    "{} {} t{threads} {}: {e}",
                    clip.name,
                    engine.name(),
                    point.label()
                );
                row.note = Some(e);
                return row;
            }
        };
        let (psnr, ssim) = if tools.ffmpeg {
            match metrics(clip, engine.stream_format(), &out) {
                Ok((p, s)) => (Some(p), Some(s)),
                Err(e) => {
                    eprintln!("{}: metrics: {e}", out.display());
                    (None, None)
                }
            }
        } else {
            (None, None)
        };
        let m = Measured {
            point,
            kbps: bytes as f64 * 8.0 * FPS as f64 / clip.frames as f64 / 1000.0,
            fps: clip.frames as f64 / secs,
            cpu_fps: clip.frames as f64 / cpu,
            psnr,
            ssim,
        };
        eprintln!(
            "{} {} t{threads} {}: {:.1} fps ({:.1}/CPU-s), {:.0} kbps, PSNR-Y {}, SSIM-Y {}",
            clip.name,
            engine.name(),
            point.label(),
            m.fps,
            m.cpu_fps,
            m.kbps,
            psnr.map_or("-".into(), |p| format!("{p:.2}")),
            ssim.map_or("-".into(), |s| format!("{s:.4}")),
        );
        row.points.push(m);
        if !env_flag("VENC_BENCH_KEEP", false) {
            let _ = std::fs::remove_file(&out);
        }
    }
    row
}

/// Encodes the in-memory frames with libvenc; times first send to EOF.
/// Returns (wall seconds, CPU seconds, stream bytes) and writes the stream to `out`.
fn encode_venc(
    codec: &str,
    clip: &Clip,
    frames: &[u8],
    threads: u32,
    point: Point,
    out: &Path,
) -> Result<(f64, f64, u64), String> {
    let mut cfg = Config::default();
    let mut set = |k: &str, v: String| cfg.set(k, &v).map_err(|e| format!("config {k}: {e}"));
    set("codec", codec.into())?;
    set("width", clip.width.to_string())?;
    set("height", clip.height.to_string())?;
    set("pix_fmt", "i420".into())?;
    set("fps", FPS.to_string())?;
    set("gop", GOP.to_string())?;
    set("threads", threads.to_string())?;
    match point {
        Point::Kbps(k) => {
            set("rc", "cbr".into())?;
            set("bitrate", format!("{k}k"))?;
        }
        Point::Qp(q) => {
            set("rc", "cqp".into())?;
            set("qp", q.to_string())?;
        }
    }
    let enc = match Encoder::new(&cfg) {
        Ok(e) => e,
        Err(e) if e.status == Status::Unsupported => {
            return Err(format!("skipped: libvenc {codec}: {}", e.message))
        }
        Err(e) => return Err(format!("libvenc {codec}: {e}")),
    };
    let fb = clip.frame_bytes();
    let mut stream = Vec::with_capacity(frames.len() / 20);
    let mut coded = 0usize;
    let mut take = |p: venc::engine::Packet| {
        if !p.is_eos() && !p.data.is_empty() {
            coded += 1;
        }
        stream.extend_from_slice(&p.data);
    };
    let (t0, c0) = (Instant::now(), cpu_seconds(libc::RUSAGE_SELF));
    for (i, pic) in frames.chunks_exact(fb).enumerate() {
        let view = i420_view(pic, clip.width, clip.height);
        let mut waited = Duration::ZERO;
        loop {
            match enc.send_frame(&view, FrameOptions::default()) {
                Ok(()) => break,
                Err(e) if e.status == Status::Again => match enc.receive_packet(1000) {
                    Ok(p) => take(p),
                    Err(e) if e.status == Status::Again => {
                        waited += Duration::from_secs(1);
                        if waited > Duration::from_secs(60) {
                            return Err(format!("libvenc {codec}: stuck at frame {i}"));
                        }
                    }
                    Err(e) => return Err(format!("libvenc {codec}: receive: {e}")),
                },
                Err(e) => return Err(format!("libvenc {codec}: send frame {i}: {e}")),
            }
        }
        loop {
            match enc.receive_packet(0) {
                Ok(p) => take(p),
                Err(e) if e.status == Status::Again => break,
                Err(e) => return Err(format!("libvenc {codec}: receive: {e}")),
            }
        }
    }
    enc.drain()
        .map_err(|e| format!("libvenc {codec}: drain: {e}"))?;
    loop {
        match enc.receive_packet(60_000) {
            Ok(p) => take(p),
            Err(e) if e.status == Status::Eof => break,
            Err(e) => return Err(format!("libvenc {codec}: receive after drain: {e}")),
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(libc::RUSAGE_SELF) - c0;
    drop(enc);
    if coded != clip.frames {
        return Err(format!(
            "libvenc {codec}: {coded} coded frames for {} sent",
            clip.frames
        ));
    }
    std::fs::write(out, &stream).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok((secs, cpu, stream.len() as u64))
}

/// Encodes the raw clip (read from the page cache) with FFmpeg. The time is
/// FFmpeg's own `-benchmark` rtime (transcode loop, no process start-up),
/// or the process wall clock when that line is missing; CPU time is the
/// child's user + system time.
fn encode_ffmpeg(
    engine: Engine,
    clip: &Clip,
    threads: u32,
    point: Point,
    out: &Path,
) -> Result<(f64, f64, u64), String> {
    let size = format!("{}x{}", clip.width, clip.height);
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-hide_banner", "-nostats", "-benchmark", "-y"])
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", &size])
        .args(["-framerate", &FPS.to_string(), "-i"])
        .arg(&clip.path)
        .args(["-frames:v", &clip.frames.to_string(), "-an"])
        .args(["-g", &GOP.to_string()]);
    let t = threads.to_string();
    match engine {
        Engine::X264 => {
            cmd.args(["-c:v", "libx264", "-preset", "veryfast", "-threads", &t]);
            if let Point::Qp(q) = point {
                cmd.args(["-qp", &q.to_string()]);
            }
        }
        _ => {
            // libx265 ignores -threads: size its pool and frame threads instead.
            let pools = if threads == 0 {
                "+".to_string()
            } else {
                t.clone()
            };
            let mut params = format!("log-level=error:pools={pools}");
            if threads > 0 {
                write!(params, ":frame-threads={threads}").ok();
            }
            if let Point::Qp(q) = point {
                write!(params, ":qp={q}").ok();
            }
            cmd.args(["-c:v", "libx265", "-preset", "ultrafast"])
                .args(["-x265-params", &params]);
        }
    }
    if let Point::Kbps(k) = point {
        // CBR-like: one-second VBV at the target rate.
        let r = format!("{k}k");
        cmd.args(["-b:v", &r, "-maxrate", &r, "-bufsize", &r]);
    }
    cmd.args(["-f", engine.stream_format()]).arg(out);
    let (t0, c0) = (Instant::now(), cpu_seconds(libc::RUSAGE_CHILDREN));
    let o = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("skipped: cannot run ffmpeg: {e}"))?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(libc::RUSAGE_CHILDREN) - c0;
    let stderr = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        let last = stderr.lines().last().unwrap_or("").trim();
        return Err(format!("ffmpeg {} failed: {last}", engine.name()));
    }
    let bytes = std::fs::metadata(out)
        .map_err(|e| format!("{}: {e}", out.display()))?
        .len();
    Ok((parse_bench_rtime(&stderr).unwrap_or(wall), cpu, bytes))
}

/// User + system CPU seconds of this process (all threads) or of its
/// waited-for children.
fn cpu_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes the zeroed struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// PSNR-Y and SSIM-Y of a decoded stream against the first `clip.frames`
/// source frames, matched by frame number.
fn metrics(clip: &Clip, format: &str, stream: &Path) -> Result<(f64, f64), String> {
    let size = format!("{}x{}", clip.width, clip.height);
    let graph = format!(
        "[0:v]format=yuv420p,settb=AVTB,setpts=N/{FPS}/TB[d];\
         [1:v]trim=end_frame={},settb=AVTB,setpts=N/{FPS}/TB,split[s0][s1];\
         [d][s0]psnr[p];[p][s1]ssim",
        clip.frames
    );
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-nostats", "-f", format, "-i"])
        .arg(stream)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", &size])
        .args(["-framerate", &FPS.to_string(), "-i"])
        .arg(&clip.path)
        .args(["-lavfi", &graph, "-f", "null", "-"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    let stderr = String::from_utf8_lossy(&o.stderr);
    match (parse_psnr_y(&stderr), parse_ssim(&stderr)) {
        (Some(p), Some((s, _))) if o.status.success() => Ok((p, s)),
        _ => Err(format!(
            "no psnr/ssim summary: {}",
            stderr.lines().last().unwrap_or("").trim()
        )),
    }
}

fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(" / ")
}

fn bd_cell(row: &Row, rows: &[Row], anchor: Engine) -> String {
    let Some(curve) = row.curve() else {
        return "–".into();
    };
    if row.engine == anchor {
        return "0 (anchor)".into();
    }
    let anchor_curve = rows
        .iter()
        .find(|r| r.clip == row.clip && r.threads == row.threads && r.engine == anchor)
        .and_then(Row::curve);
    match anchor_curve.and_then(|a| bd_rate(&a, &curve)) {
        Some(r) => format!("{r:+.1} %"),
        None => "–".into(),
    }
}

fn video_table(rows: &[Row], cqp: bool) -> String {
    let mut s = String::new();
    let what = if cqp { "constant QP" } else { "CBR targets" };
    writeln!(
        s,
        "\n## Video ({what}; GOP {GOP}; fps = frames / encode wall time over all points; \
         fps/CPU = frames / CPU-seconds of all threads)\n"
    )
    .ok();
    writeln!(
        s,
        "| clip | engine | threads | fps | fps/CPU | points | kbps | PSNR-Y dB | SSIM-Y | BD-rate vs x264 | BD-rate vs x265 |"
    )
    .ok();
    writeln!(s, "|---|---|---:|---:|---:|---|---|---|---|---:|---:|").ok();
    for row in rows {
        if let Some(note) = &row.note {
            writeln!(
                s,
                "| {} | {} | {} | {note} | | | | | | | |",
                row.clip,
                row.engine.name(),
                row.threads
            )
            .ok();
            continue;
        }
        let p = &row.points;
        // Frames over total time: the harmonic mean of the points' fps.
        let fps = p.len() as f64 / p.iter().map(|m| 1.0 / m.fps).sum::<f64>();
        let cpu_fps = p.len() as f64 / p.iter().map(|m| 1.0 / m.cpu_fps).sum::<f64>();
        writeln!(
            s,
            "| {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} | {} | {} |",
            row.clip,
            row.engine.name(),
            row.threads,
            fps,
            cpu_fps,
            join(p, |m| m.point.label()),
            join(p, |m| format!("{:.0}", m.kbps)),
            join(p, |m| m.psnr.map_or("–".into(), |v| format!("{v:.2}"))),
            join(p, |m| m.ssim.map_or("–".into(), |v| format!("{v:.4}"))),
            bd_cell(row, rows, Engine::X264),
            bd_cell(row, rows, Engine::X265),
        )
        .ok();
    }
    s
}

/// Runs `f` at least 5 times and for at least a second (at most 200
/// times) after one warm-up; returns (wall seconds per call, CPU seconds
/// per call, last output).
type Timed = (f64, f64, Vec<u8>);
fn time_it(mut f: impl FnMut() -> Result<Vec<u8>, String>) -> Result<Timed, String> {
    let mut out = f()?;
    let (mut n, t0, c0) = (0u32, Instant::now(), cpu_seconds(libc::RUSAGE_SELF));
    while n < 5 || (t0.elapsed() < Duration::from_secs(1) && n < 200) {
        out = f()?;
        n += 1;
    }
    let cpu = cpu_seconds(libc::RUSAGE_SELF) - c0;
    Ok((t0.elapsed().as_secs_f64() / n as f64, cpu / n as f64, out))
}

fn picture_table(clips: &[Clip]) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "\n## Pictures (first frame of each clip; JPEG q85 4:2:0 through `codec::image`, PNG `Compression::Fast`)\n"
    )
    .ok();
    writeln!(
        s,
        "Single-threaded. ms = wall and CPU time per picture; Mpx/s (megapixels per second) and \
         input MB/s (bytes of the input buffer per second: I420 1.5 B/px, BGR24 3 B/px; \
         1 MB = 10^6 B) are per CPU-second, which other load on the machine disturbs less. \
         PNG from I420 includes the YUV to RGB conversion.\n"
    )
    .ok();
    writeln!(
        s,
        "| picture | input | format | wall ms | CPU ms | Mpx/s | input MB/s | output KB |"
    )
    .ok();
    writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|").ok();
    let mut any = false;
    for clip in clips
        .iter()
        .filter(|c| c.name == "photo_1080p" || c.name == "photo_720p")
    {
        any = true;
        let one = Clip {
            name: clip.name.clone(),
            path: clip.path.clone(),
            width: clip.width,
            height: clip.height,
            frames: 1,
        };
        let i420 = match load_frames(&one) {
            Ok(b) => b,
            Err(e) => {
                writeln!(s, "| {} | skipped: {e} | | | | | | |", clip.name).ok();
                continue;
            }
        };
        let (w, h) = (clip.width, clip.height);
        let (wu, hu) = (w as usize, h as usize);
        let mut pic = Yuv420::new(w, h);
        let cl = pic.u.len();
        pic.y.copy_from_slice(&i420[..wu * hu]);
        pic.u.copy_from_slice(&i420[wu * hu..wu * hu + cl]);
        pic.v.copy_from_slice(&i420[wu * hu + cl..]);
        let bgr = match yuv420_to_packed(&pic, PixelFormat::Bgr24) {
            Ok(b) => b,
            Err(e) => {
                writeln!(
                    s,
                    "| {} | skipped: BGR24 conversion: {e} | | | | | | |",
                    clip.name
                )
                .ok();
                continue;
            }
        };
        let views = [
            ("I420", i420_view(&i420, w, h), i420.len()),
            (
                "BGR24",
                FrameView::packed(PixelFormat::Bgr24, w, h, &bgr, wu * 3),
                bgr.len(),
            ),
        ];
        for (ext, label, quality) in [("jpg", "JPEG q85", 85), ("png", "PNG fast", 85)] {
            for (input, view, in_bytes) in &views {
                let r = time_it(|| image::encode(ext, view, quality).map_err(|e| e.to_string()));
                match r {
                    Ok((secs, cpu, out)) => writeln!(
                        s,
                        "| {} {w}x{h} | {input} | {label} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
                        clip.name,
                        secs * 1e3,
                        cpu * 1e3,
                        (wu * hu) as f64 / cpu / 1e6,
                        *in_bytes as f64 / cpu / 1e6,
                        out.len() as f64 / 1e3,
                    ),
                    Err(e) => writeln!(
                        s,
                        "| {} | {input} | {label} | skipped: {e} | | | | |",
                        clip.name
                    ),
                }
                .ok();
            }
        }
    }
    if !any {
        writeln!(
            s,
            "| skipped: needs photo_1080p or photo_720p in VENC_BENCH_CLIPS | | | | | | | |"
        )
        .ok();
    }
    s
}
