//! `venc`: encode raw video (Y4M or raw frames, from a file or a pipe) to
//! H.264, H.265 or MJPEG with libvenc. `venc --help` explains the options.

// A binary's root file takes its modules from src/bin/, so name the folder.
#[path = "venc/args.rs"]
mod args;
#[path = "venc/input.rs"]
mod input;
#[path = "venc/output.rs"]
mod output;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use venc::api::native::{Config, Encoder, FrameOptions};
use venc::engine::params::Codec;
use venc::engine::Packet;
use venc::error::Status;
use venc::frame::PixelFormat;

use args::{Parsed, UsageError};
use input::Input;
use output::open_output;

/// A failure: its one-line message and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// Bad options or settings (exit 2).
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
    /// Input, encoding or output failed (exit 1).
    fn run(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<UsageError> for Failure {
    fn from(e: UsageError) -> Failure {
        Failure::usage(format!("{} (see venc --help)", e.0))
    }
}

fn main() -> ExitCode {
    let parsed = match args::parse(std::env::args().skip(1)) {
        Ok(p) => p,
        Err(e) => return fail(e.into()),
    };
    let args = match parsed {
        Parsed::Help => {
            print!("{}", args::HELP);
            return ExitCode::SUCCESS;
        }
        Parsed::Version => {
            println!("venc {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Parsed::Run(a) => a,
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => fail(f),
    }
}

fn fail(f: Failure) -> ExitCode {
    eprintln!("venc: {}", f.message);
    ExitCode::from(f.code)
}

fn parse_fps(s: &str) -> (u32, u32) {
    s.split_once('/')
        .and_then(|(n, d)| Some((n.parse().ok()?, d.parse().ok()?)))
        .unwrap_or((30, 1))
}

fn run(args: &args::Args) -> Result<(), Failure> {
    let codec = match &args.codec {
        Some(c) => Codec::from_name(c).ok_or_else(|| {
            Failure::usage(format!("-c/--codec: \"{c}\" is not h264, h265 or mjpeg"))
        })?,
        None => match output::kind(&args.output) {
            output::Kind::Elementary(c) => c,
            _ => Codec::H264, // "-" or a refused output: open_output explains the latter
        },
    };
    let pix_fmt = match &args.pix_fmt {
        Some(p) => Some(PixelFormat::from_name(p).ok_or_else(|| {
            Failure::usage(format!(
                "--pix-fmt: \"{p}\" is not one of i420, yv12, nv12, nv21, bgr24, rgb24, bgra, rgba, argb, gray8"
            ))
        })?),
        None => None,
    };
    let mut input = Input::open(&args.input, args.size, pix_fmt).map_err(Failure::run)?;

    let mut config = Config::default();
    let fps = args.fps.clone().or_else(|| input.fps.clone());
    let mut settings: Vec<(String, String)> = vec![
        ("codec".into(), codec.name().into()),
        ("width".into(), input.width.to_string()),
        ("height".into(), input.height.to_string()),
        ("pix_fmt".into(), input.format.name().into()),
    ];
    if let Some(fps) = fps {
        settings.push(("fps".into(), fps));
    }
    settings.extend(args.settings.iter().cloned());
    for (key, value) in &settings {
        config
            .set(key, value)
            .map_err(|e| Failure::usage(e.message))?;
    }
    let encoder = Encoder::new(&config).map_err(|e| Failure::usage(e.message))?;
    let params = encoder.params();
    let fps = parse_fps(&config.get("fps").unwrap_or_default());
    let mut out = open_output(&args.output, params.codec, params.width, params.height, fps)
        .map_err(Failure::run)?;

    let mut progress = Progress::new(!args.quiet && std::io::stderr().is_terminal(), fps);
    let out_name = if args.output == "-" {
        "standard output"
    } else {
        &args.output
    };
    let mut write = |p: Packet, progress: &mut Progress| -> Result<(), Failure> {
        out.write_packet(&p)
            .map_err(|e| Failure::run(format!("writing {out_name}: {e}")))?;
        progress.packet(&p);
        Ok(())
    };
    // Takes every packet that is ready within `timeout_ms`; Ok(true) at the end.
    let mut take = |timeout_ms: i32, progress: &mut Progress| -> Result<bool, Failure> {
        loop {
            match encoder.receive_packet(timeout_ms) {
                Ok(p) => write(p, progress)?,
                Err(e) if e.status == Status::Again => return Ok(false),
                Err(e) if e.status == Status::Eof => return Ok(true),
                Err(e) => return Err(Failure::run(format!("encoding: {}", e.message))),
            }
        }
    };

    let mut sent = 0u64;
    while args.frames.is_none_or(|n| sent < n) {
        let Some(frame) = input.next_frame().map_err(Failure::run)? else {
            break;
        };
        let opts = FrameOptions {
            pts: Some(sent as i64),
            user_tag: sent,
            force_keyframe: false,
        };
        loop {
            match encoder.send_frame(&frame, opts) {
                Ok(()) => break,
                Err(e) if e.status == Status::Again => {
                    take(10, &mut progress)?;
                }
                Err(e) => {
                    return Err(Failure::run(format!(
                        "encoding frame {sent}: {}",
                        e.message
                    )))
                }
            }
        }
        sent += 1;
        take(0, &mut progress)?;
    }
    encoder
        .drain()
        .map_err(|e| Failure::run(format!("draining: {}", e.message)))?;
    while !take(-1, &mut progress)? {}
    out.finish()
        .map_err(|e| Failure::run(format!("writing {out_name}: {e}")))?;
    progress.finish();
    if progress.frames != sent {
        return Err(Failure::run(format!(
            "{sent} frames in but {} coded",
            progress.frames
        )));
    }
    if sent == 0 {
        return Err(Failure::run(format!(
            "{} holds no frames",
            if args.input == "-" {
                "standard input"
            } else {
                &args.input
            }
        )));
    }
    Ok(())
}

/// The "frame N  fps F  kbps K" line on a terminal's stderr.
struct Progress {
    enabled: bool,
    fps: f64,
    start: Instant,
    last: Instant,
    frames: u64,
    bytes: u64,
}

impl Progress {
    fn new(enabled: bool, (num, den): (u32, u32)) -> Progress {
        let now = Instant::now();
        Progress {
            enabled,
            fps: f64::from(num) / f64::from(den.max(1)),
            start: now,
            last: now,
            frames: 0,
            bytes: 0,
        }
    }

    fn packet(&mut self, p: &Packet) {
        self.bytes += p.data.len() as u64;
        if p.frame_type != venc::engine::packet::FrameType::None {
            self.frames += 1;
        }
        if self.enabled && self.last.elapsed() >= Duration::from_millis(250) {
            self.last = Instant::now();
            self.show("\r");
        }
    }

    fn show(&self, end: &str) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let media_secs = self.frames as f64 / self.fps.max(1e-3);
        let kbps = if media_secs > 0.0 {
            self.bytes as f64 * 8.0 / media_secs / 1000.0
        } else {
            0.0
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rframe {:>6}  fps {:>6.1}  kbps {:>8.1}  size {:>8} kB{end}",
            self.frames,
            self.frames as f64 / secs,
            kbps,
            self.bytes / 1024
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.enabled {
            self.show("\n");
        }
    }
}
