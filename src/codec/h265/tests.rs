//! In-crate tests. Conformance tests need `ffmpeg` in PATH (skipped with a message otherwise).

use super::*;
use std::process::Command;

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("ffmpeg not found; skipping H.265 conformance test");
    }
    ok
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("h265test_{}_{}", std::process::id(), name))
}

/// Generate moving test content with ffmpeg (testsrc2), I420 frames.
fn gen_frames(w: u32, h: u32, n: usize, tag: &str) -> Option<Vec<Vec<u8>>> {
    let p = tmp(&format!("{}_src.yuv", tag));
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={}x{}:rate=30", w, h))
        .args([
            "-frames:v",
            &n.to_string(),
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
        ])
        .arg(&p)
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    let data = std::fs::read(&p).ok()?;
    let _ = std::fs::remove_file(&p);
    let fs = (w * h + 2 * (w / 2) * (h / 2)) as usize;
    if data.len() < fs * n {
        return None;
    }
    Some(data.chunks(fs).take(n).map(|c| c.to_vec()).collect())
}

fn picture(f: &[u8], w: u32, h: u32) -> Picture<'_> {
    let ys = (w * h) as usize;
    let cs = ((w / 2) * (h / 2)) as usize;
    Picture {
        y: &f[..ys],
        u: &f[ys..ys + cs],
        v: &f[ys + cs..ys + 2 * cs],
        y_stride: w as usize,
        c_stride: (w / 2) as usize,
    }
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mut s = 0f64;
    for i in 0..a.len() {
        let d = a[i] as f64 - b[i] as f64;
        s += d * d;
    }
    let mse = s / a.len() as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// Encode, decode with ffmpeg, and require bit-exact reconstruction for every frame.
fn roundtrip(
    w: u32,
    h: u32,
    n: usize,
    rc: RateControl,
    threads: u32,
    gop: u32,
    tag: &str,
) -> Option<f64> {
    if !have_ffmpeg() {
        return None;
    }
    let frames = gen_frames(w, h, n, tag).expect("ffmpeg could not generate test frames");
    roundtrip_frames(w, h, &frames, rc, threads, gop, tag)
}

fn roundtrip_frames(
    w: u32,
    h: u32,
    frames: &[Vec<u8>],
    rc: RateControl,
    threads: u32,
    gop: u32,
    tag: &str,
) -> Option<f64> {
    if !have_ffmpeg() {
        return None;
    }
    let n = frames.len();
    let mut enc = Encoder::new(Config {
        width: w,
        height: h,
        fps_num: 30,
        fps_den: 1,
        rc,
        gop,
        threads,
    })
    .unwrap();
    let mut stream = enc.parameter_sets();
    let mut recs = Vec::new();
    let mut psum = 0.0;
    for (i, f) in frames.iter().enumerate() {
        let c = enc.encode(&picture(f, w, h), false).unwrap();
        assert_eq!(
            c.idr,
            i == 0 || (gop > 0 && (i as u32).is_multiple_of(gop)),
            "frame {} idr flag",
            i
        );
        stream.extend_from_slice(&c.data);
        let (y, u, v) = enc.reconstruction();
        psum += psnr(&f[..(w * h) as usize], y);
        let mut r = y.to_vec();
        r.extend_from_slice(u);
        r.extend_from_slice(v);
        recs.push(r);
    }
    let sp = tmp(&format!("{}.h265", tag));
    let dp = tmp(&format!("{}_dec.yuv", tag));
    std::fs::write(&sp, &stream).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&sp)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
        .arg(&dp)
        .output()
        .unwrap();
    let dec = std::fs::read(&dp).unwrap_or_default();
    let _ = std::fs::remove_file(&sp);
    let _ = std::fs::remove_file(&dp);
    assert!(out.status.success(), "ffmpeg failed");
    assert!(
        out.stderr.is_empty(),
        "ffmpeg reported: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fs = recs[0].len();
    assert_eq!(dec.len(), fs * n, "decoded frame count mismatch");
    for (i, r) in recs.iter().enumerate() {
        assert!(
            dec[i * fs..(i + 1) * fs] == r[..],
            "frame {} of {}x{} differs from reconstruction",
            i,
            w,
            h
        );
    }
    Some(psum / n as f64)
}

#[test]
fn conformance_64x64_qp22() {
    if let Some(p) = roundtrip(64, 64, 4, RateControl::ConstQp { qp: 22 }, 1, 0, "a") {
        assert!(p > 38.0, "psnr {}", p);
    }
}

#[test]
fn conformance_72x40_two_threads_gop() {
    roundtrip(72, 40, 5, RateControl::ConstQp { qp: 30 }, 2, 3, "b");
}

#[test]
fn conformance_176x144_cbr() {
    roundtrip(
        176,
        144,
        4,
        RateControl::Cbr { bitrate: 300_000 },
        2,
        0,
        "c",
    );
}

#[test]
fn conformance_crop_130x66() {
    roundtrip(130, 66, 3, RateControl::ConstQp { qp: 35 }, 1, 0, "d");
}

#[test]
fn rejects_bad_input() {
    let cfg = |w, h| Config {
        width: w,
        height: h,
        fps_num: 30,
        fps_den: 1,
        rc: RateControl::ConstQp { qp: 30 },
        gop: 0,
        threads: 1,
    };
    let e = Encoder::new(cfg(17, 16)).err().unwrap();
    assert!(e.contains("width 17 is odd"), "{}", e);
    assert!(Encoder::new(cfg(16, 15)).is_err());
    assert!(Encoder::new(cfg(8, 16)).is_err());
    assert!(Encoder::new(cfg(8194, 16)).is_err());
    let mut enc = Encoder::new(cfg(32, 32)).unwrap();
    let y = vec![0u8; 100];
    let c = vec![0u8; 256];
    let pic = Picture {
        y: &y,
        u: &c,
        v: &c,
        y_stride: 32,
        c_stride: 16,
    };
    assert!(enc.encode(&pic, false).is_err());
    let y = vec![0u8; 1024];
    let pic = Picture {
        y: &y,
        u: &c,
        v: &c,
        y_stride: 16,
        c_stride: 16,
    };
    assert!(enc.encode(&pic, false).is_err());
    assert!(enc
        .set_rate_control(RateControl::ConstQp { qp: 60 })
        .is_err());
}

#[test]
fn deterministic_and_force_idr() {
    let (w, h) = (64u32, 48u32);
    let mut frames = Vec::new();
    for i in 0..3u32 {
        let mut f = vec![0u8; (w * h * 3 / 2) as usize];
        for y in 0..h {
            for x in 0..w {
                f[(y * w + x) as usize] = ((x * 3 + y * 2 + i * 5) ^ (x * y)) as u8;
            }
        }
        for v in f[(w * h) as usize..].iter_mut() {
            *v = 100;
        }
        frames.push(f);
    }
    let run = || {
        let mut enc = Encoder::new(Config {
            width: w,
            height: h,
            fps_num: 25,
            fps_den: 1,
            rc: RateControl::ConstQp { qp: 28 },
            gop: 0,
            threads: 2,
        })
        .unwrap();
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let c = enc.encode(&picture(f, w, h), i == 2).unwrap();
            assert_eq!(c.idr, i != 1);
            out.push(c.data);
        }
        out
    };
    assert_eq!(run(), run());
}

#[test]
fn conformance_1282x722_two_threads() {
    roundtrip(1282, 722, 2, RateControl::ConstQp { qp: 32 }, 2, 0, "e");
}

/// 1080p runs speed level 3 (and the level 2 shortcuts: merge ranking on half planes,
/// 16x16 low-band 32x32 inter transforms); the P pictures must still decode bit-exactly.
#[test]
fn conformance_1920x1080_speed3() {
    roundtrip(1920, 1080, 3, RateControl::ConstQp { qp: 30 }, 2, 0, "s3");
}

#[test]
fn conformance_minimum_16x16() {
    roundtrip(16, 16, 3, RateControl::ConstQp { qp: 26 }, 0, 2, "f");
}

#[test]
fn strided_input_matches_tight() {
    let (w, h) = (48u32, 32u32);
    let mut tight = vec![0u8; (w * h * 3 / 2) as usize];
    for (i, v) in tight.iter_mut().enumerate() {
        *v = ((i * 7) % 251) as u8;
    }
    let ys = 64usize;
    let cs = 40usize;
    let mut y = vec![0u8; ys * h as usize];
    let mut u = vec![0u8; cs * (h / 2) as usize];
    let mut v = vec![0u8; cs * (h / 2) as usize];
    let (wu, hu) = ((w / 2) as usize, (h / 2) as usize);
    for r in 0..h as usize {
        y[r * ys..r * ys + w as usize]
            .copy_from_slice(&tight[r * w as usize..(r + 1) * w as usize]);
    }
    let off = (w * h) as usize;
    for r in 0..hu {
        u[r * cs..r * cs + wu].copy_from_slice(&tight[off + r * wu..off + (r + 1) * wu]);
        v[r * cs..r * cs + wu]
            .copy_from_slice(&tight[off + wu * hu + r * wu..off + wu * hu + (r + 1) * wu]);
    }
    let cfg = Config {
        width: w,
        height: h,
        fps_num: 30,
        fps_den: 1,
        rc: RateControl::ConstQp { qp: 30 },
        gop: 0,
        threads: 1,
    };
    let mut e1 = Encoder::new(cfg.clone()).unwrap();
    let mut e2 = Encoder::new(cfg).unwrap();
    let a = e1.encode(&picture(&tight, w, h), false).unwrap();
    let b = e2
        .encode(
            &Picture {
                y: &y,
                u: &u,
                v: &v,
                y_stride: ys,
                c_stride: cs,
            },
            false,
        )
        .unwrap();
    assert_eq!(a.data, b.data);
}

#[test]
fn conformance_noise_extreme_qps() {
    let (w, h) = (40u32, 24u32);
    let mut seed = 12345u32;
    let mut frames = Vec::new();
    for _ in 0..3 {
        let f: Vec<u8> = (0..w * h * 3 / 2)
            .map(|_| {
                seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                (seed >> 24) as u8
            })
            .collect();
        frames.push(f);
    }
    roundtrip_frames(w, h, &frames, RateControl::ConstQp { qp: 0 }, 1, 0, "g");
    roundtrip_frames(w, h, &frames, RateControl::ConstQp { qp: 51 }, 2, 0, "h");
}
