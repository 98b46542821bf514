//! Test helpers: synthetic moving pictures and FFmpeg as the reference decoder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use venc::frame::{FrameView, PixelFormat, Plane};

/// A moving gradient with a sliding box: real motion, real texture, no files.
pub fn pattern_i420(width: u32, height: u32, index: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut buf = vec![0u8; w * h + 2 * cw * ch];
    let t = index as usize;
    for y in 0..h {
        for x in 0..w {
            let mut v = ((x + 2 * t) * 255 / w.max(1) + (y * 128) / h.max(1)) as u32;
            let bx = (t * 3) % w.max(1);
            if x >= bx && x < bx + w / 5 && y > h / 3 && y < h / 3 + h / 4 {
                v = 235 - ((x ^ y) & 31) as u32;
            }
            buf[y * w + x] = v.clamp(16, 235) as u8;
        }
    }
    for y in 0..ch {
        for x in 0..cw {
            buf[w * h + y * cw + x] = (128 + ((x + t) % 64) as i32 - 32) as u8;
            buf[w * h + cw * ch + y * cw + x] = (128 + ((y * 2 + t) % 48) as i32 - 24) as u8;
        }
    }
    buf
}

pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

pub fn tmpdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("venc-test-{}-{}", name, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Decodes with `ffmpeg -v error` to raw I420. Panics if FFmpeg prints anything.
pub fn decode_i420(path: &Path, input_format: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error"]);
    if let Some(f) = input_format {
        cmd.args(["-f", f]);
    }
    cmd.arg("-i")
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]);
    let out = cmd.output().expect("run ffmpeg");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "ffmpeg on {}: {stderr}",
        path.display()
    );
    out.stdout
}

pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum();
    if se == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 * a.len() as f64 / se).log10()
}

/// PSNR of the Y planes of every frame, lowest first.
pub fn psnr_y_min(src: &[u8], decoded: &[u8], width: u32, height: u32) -> f64 {
    let (w, h) = (width as usize, height as usize);
    let frame = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    assert_eq!(src.len(), decoded.len(), "frame count differs");
    src.chunks(frame)
        .zip(decoded.chunks(frame))
        .map(|(a, b)| psnr(&a[..w * h], &b[..w * h]))
        .fold(f64::INFINITY, f64::min)
}

/// The test pattern as NV12 (Y plane, then interleaved UV).
pub fn pattern_nv12(width: u32, height: u32, index: u32) -> Vec<u8> {
    let i420 = pattern_i420(width, height, index);
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut out = i420[..w * h].to_vec();
    let (u, v) = (&i420[w * h..w * h + cw * ch], &i420[w * h + cw * ch..]);
    for i in 0..cw * ch {
        out.push(u[i]);
        out.push(v[i]);
    }
    out
}

/// Number of frames FFmpeg decodes from `path` (decoding must be silent).
pub fn decoded_frames(path: &Path, input_format: Option<&str>, width: u32, height: u32) -> usize {
    let (w, h) = (width as usize, height as usize);
    let frame = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    let raw = decode_i420(path, input_format);
    assert_eq!(raw.len() % frame, 0, "decoded size is not whole frames");
    raw.len() / frame
}

/// NAL unit types (H.264: low 5 bits) found after Annex-B start codes.
pub fn h264_nal_types(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            out.push(data[i + 3] & 0x1f);
            i += 3;
        } else {
            i += 1;
        }
    }
    out
}

/// A view of a tightly packed I420 buffer (as `pattern_i420` makes).
pub fn i420_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
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
