//! The `venc` command: real files and pipes in, FFmpeg as the judge.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const W: u32 = 160;
const H: u32 = 96;

fn venc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_venc"))
}

fn raw_frames(n: u32) -> Vec<u8> {
    (0..n).flat_map(|i| common::pattern_i420(W, H, i)).collect()
}

fn write_y4m(path: &Path, n: u32) -> Vec<u8> {
    let raw = raw_frames(n);
    let mut y4m = format!("YUV4MPEG2 W{W} H{H} F25:1 Ip A1:1 C420jpeg\n").into_bytes();
    for frame in raw.chunks(raw.len() / n as usize) {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend_from_slice(frame);
    }
    std::fs::write(path, y4m).unwrap();
    raw
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn frame_count(decoded: &[u8]) -> usize {
    let frame = (W * H + 2 * W.div_ceil(2) * H.div_ceil(2)) as usize;
    assert_eq!(decoded.len() % frame, 0, "partial frame decoded");
    decoded.len() / frame
}

#[test]
fn y4m_to_h264_decodes_exactly() {
    if !common::have("ffmpeg") {
        eprintln!("skipped: ffmpeg not installed");
        return;
    }
    let dir = common::tmpdir("cli-y4m");
    let (input, output) = (dir.join("in.y4m"), dir.join("out.h264"));
    let raw = write_y4m(&input, 30);
    let o = venc()
        .args(["-b", "800k", "--gop", "10"])
        .arg(&input)
        .arg(&output)
        .output()
        .unwrap();
    assert!(o.status.success(), "venc failed: {}", stderr(&o));
    assert_eq!(stderr(&o), "", "stderr must stay silent in a pipe");
    let decoded = common::decode_i420(&output, None);
    assert_eq!(frame_count(&decoded), 30);
    let psnr = common::psnr_y_min(&raw, &decoded, W, H);
    assert!(psnr > 30.0, "PSNR {psnr:.1} dB");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn raw_stdin_to_mjpeg() {
    if !common::have("ffmpeg") {
        eprintln!("skipped: ffmpeg not installed");
        return;
    }
    let dir = common::tmpdir("cli-stdin");
    let output = dir.join("out.mjpeg");
    let mut child = venc()
        .args([
            "-s",
            &format!("{W}x{H}"),
            "--pix-fmt",
            "i420",
            "-r",
            "25",
            "-o",
            "quality=90",
            "-",
        ])
        .arg(&output)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let raw = raw_frames(12);
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&raw));
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(o.status.success(), "venc failed: {}", stderr(&o));
    let decoded = common::decode_i420(&output, Some("mjpeg"));
    assert_eq!(frame_count(&decoded), 12);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn stdout_output_with_frame_limit() {
    let dir = common::tmpdir("cli-stdout");
    let input = dir.join("in.y4m");
    write_y4m(&input, 8);
    let o = venc()
        .args(["-n", "5"])
        .arg(&input)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success(), "venc failed: {}", stderr(&o));
    assert!(o.stdout.starts_with(&[0, 0, 0, 1]), "not Annex-B");
    if common::have("ffmpeg") {
        let path = dir.join("out.h264");
        std::fs::write(&path, &o.stdout).unwrap();
        assert_eq!(frame_count(&common::decode_i420(&path, None)), 5);
    }
    std::fs::remove_dir_all(dir).ok();
}

/// Runs venc, expects a failure with `code` and a one-line message containing `needle`.
fn expect_failure(args: &[&str], code: i32, needle: &str) {
    let o = venc().args(args).stdin(Stdio::null()).output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "venc {args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("venc: "), "{err}");
    assert!(err.contains(needle), "{needle:?} missing in {err}");
}

#[test]
fn problems_exit_non_zero_with_one_line() {
    let dir = common::tmpdir("cli-errors");
    let input = dir.join("in.y4m");
    write_y4m(&input, 2);
    let inp = input.to_str().unwrap();
    let out = dir.join("o.h264");
    let out = out.to_str().unwrap();
    expect_failure(&["--bogus", inp, out], 2, "--bogus");
    expect_failure(&[inp], 2, "OUTPUT");
    expect_failure(&["-o", "bitrat=1M", inp, out], 2, "\"bitrat\"");
    expect_failure(&["-b", "fast", inp, out], 2, "\"bitrate\"");
    expect_failure(&["-c", "vp9", inp, out], 2, "vp9");
    expect_failure(&["-", out], 1, "-s WIDTHxHEIGHT");
    expect_failure(&["missing.y4m", out], 1, "missing.y4m");
    let mkv = dir.join("o.mkv");
    expect_failure(&[inp, mkv.to_str().unwrap()], 1, "Matroska");
    let mp4 = dir.join("o.mp4");
    expect_failure(&["-c", "mjpeg", inp, mp4.to_str().unwrap()], 1, "mjpeg");
    expect_failure(&["-c", "mjpeg", inp, out], 1, "mjpeg");
    // A raw file whose size does not match -s.
    let raw = dir.join("in.yuv");
    std::fs::write(&raw, vec![0u8; 1000]).unwrap();
    expect_failure(
        &["-s", "64x48", raw.to_str().unwrap(), out],
        1,
        "inside frame 0",
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn help_is_usable() {
    let o = venc().arg("--help").output().unwrap();
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "Usage: venc",
        "--bitrate",
        "-s, --size",
        "-o KEY=VALUE",
        "Examples:",
    ] {
        assert!(help.contains(needle), "help lacks {needle}");
    }
}

#[test]
fn containers_decode_with_exact_count_and_duration() {
    if !common::have("ffmpeg") || !common::have("ffprobe") {
        eprintln!("skipped: ffmpeg/ffprobe not installed");
        return;
    }
    let dir = common::tmpdir("cli-containers");
    let input = dir.join("in.y4m");
    write_y4m(&input, 50);
    for ext in ["mp4", "ts", "flv"] {
        let output = dir.join(format!("out.{ext}"));
        let o = venc().arg(&input).arg(&output).output().unwrap();
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        let decoded = common::decode_i420(&output, None);
        assert_eq!(frame_count(&decoded), 50, "{ext}");
        let probe = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(&output)
            .output()
            .unwrap();
        let duration: f64 = String::from_utf8_lossy(&probe.stdout)
            .trim()
            .parse()
            .unwrap_or(0.0);
        assert!(
            (duration - 2.0).abs() <= 0.041,
            "{ext}: duration {duration}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
