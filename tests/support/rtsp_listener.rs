//! FFmpeg as an RTSP server in listen mode: the real peer the RTSP publish
//! tests push to. Included with `#[path]` by the sink unit tests,
//! tests/sail.rs and tests/faults.rs.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `ffmpeg -rtsp_flags listen -i url`, copying the stream into `out`, or
/// decoding it to nowhere when `out` is None. The listener takes one
/// connection; callers retry their open until it is up.
pub fn spawn(url: &str, out: Option<&Path>, stderr: Stdio) -> Child {
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-nostdin",
        "-v",
        "error",
        "-rtsp_flags",
        "listen",
        "-i",
        url,
    ]);
    match out {
        Some(o) => cmd.args(["-c", "copy", "-y"]).arg(o),
        None => cmd.args(["-f", "null", "-"]),
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn ffmpeg")
}
