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
    roundtrip_shape(w, h, frames, rc, threads, gop, GopShape::IpOnly, &[], tag)
}

/// Which display indices are IDR pictures, given the GOP period and the forced ones.
fn expected_idrs(n: usize, gop: u32, forced: &[usize]) -> Vec<bool> {
    let mut since = 0u32;
    (0..n)
        .map(|i| {
            let idr = i == 0 || forced.contains(&i) || (gop > 0 && since >= gop);
            if idr {
                since = 0;
            }
            since += 1;
            idr
        })
        .collect()
}

/// Encode with a GOP shape (forcing IDR at `forced` display indices), flush, decode the raw
/// Annex-B stream with ffmpeg and require every decoded picture, in display order, to equal
/// the encoder's reconstruction. Returns the mean luma PSNR against the source.
fn roundtrip_shape(
    w: u32,
    h: u32,
    frames: &[Vec<u8>],
    rc: RateControl,
    threads: u32,
    gop: u32,
    shape: GopShape,
    forced: &[usize],
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
        gop_shape: shape,
    })
    .unwrap();
    enc.log_reconstructions();
    let idrs = expected_idrs(n, gop, forced);
    let mut stream = enc.parameter_sets();
    let mut order = Vec::new();
    let mut check = |coded: Vec<Coded>, stream: &mut Vec<u8>| {
        for c in coded {
            assert_eq!(
                c.idr, idrs[c.display_index as usize],
                "picture {} idr flag",
                c.display_index
            );
            if shape == GopShape::IpOnly {
                assert_ne!(c.slice_type, SliceType::B);
            }
            order.push(c.display_index);
            stream.extend_from_slice(&c.data);
        }
    };
    for (i, f) in frames.iter().enumerate() {
        check(
            enc.encode(&picture(f, w, h), forced.contains(&i)).unwrap(),
            &mut stream,
        );
    }
    check(enc.flush().unwrap(), &mut stream);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..n as u64).collect::<Vec<_>>(),
        "coded pictures {:?}",
        order
    );
    let mut recs = enc.take_reconstructions();
    recs.sort_by_key(|r| r.0);
    let recs: Vec<Vec<u8>> = recs.into_iter().map(|r| r.1).collect();
    assert_eq!(recs.len(), n);
    let per: Vec<f64> = frames
        .iter()
        .zip(&recs)
        .map(|(f, r)| psnr(&f[..(w * h) as usize], &r[..(w * h) as usize]))
        .collect();
    // every picture must resemble its own source (a picture coded from the wrong source
    // still decodes consistently, but its PSNR falls far below its neighbours')
    let mean = per.iter().sum::<f64>() / n as f64;
    for (i, p) in per.iter().enumerate() {
        assert!(
            *p > mean - 6.0,
            "picture {i}: PSNR {p:.1} dB, mean {mean:.1} dB"
        );
    }
    let psum: f64 = per.iter().sum();
    let sp = tmp(&format!("{}.h265", tag));
    let dp = tmp(&format!("{}_dec.yuv", tag));
    std::fs::write(&sp, &stream).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&sp)
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
        ])
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
        gop_shape: GopShape::IpOnly,
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
            gop_shape: GopShape::IpOnly,
        })
        .unwrap();
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let mut c = enc.encode(&picture(f, w, h), i == 2).unwrap();
            assert_eq!(c.len(), 1);
            let c = c.remove(0);
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
        gop_shape: GopShape::IpOnly,
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
    assert_eq!(a[0].data, b[0].data);
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

/// Writes IpOnly streams to `$H265_DUMP` (a directory) so a change can be checked for
/// byte-identical output: `H265_DUMP=/tmp/x cargo test --release --lib h265 -- --ignored dump`.
#[test]
#[ignore]
fn dump_ip_only_streams() {
    let Ok(dir) = std::env::var("H265_DUMP") else {
        return;
    };
    if !have_ffmpeg() {
        return;
    }
    let cases: [(u32, u32, usize, RateControl, u32, u32); 4] = [
        (200, 120, 8, RateControl::ConstQp { qp: 30 }, 1, 0),
        (200, 120, 8, RateControl::Cbr { bitrate: 200_000 }, 2, 5),
        (1282, 722, 4, RateControl::ConstQp { qp: 27 }, 2, 0),
        (
            176,
            144,
            6,
            RateControl::Vbr {
                bitrate: 300_000,
                max_bitrate: 600_000,
            },
            1,
            3,
        ),
    ];
    for (k, &(w, h, n, rc, threads, gop)) in cases.iter().enumerate() {
        let frames = gen_frames(w, h, n, &format!("dump{}", k)).unwrap();
        let mut enc = Encoder::new(Config {
            width: w,
            height: h,
            fps_num: 30,
            fps_den: 1,
            rc,
            gop,
            threads,
            gop_shape: GopShape::IpOnly,
        })
        .unwrap();
        let mut s = enc.parameter_sets();
        for f in &frames {
            for c in enc.encode(&picture(f, w, h), false).unwrap() {
                s.extend_from_slice(&c.data);
            }
        }
        std::fs::write(format!("{}/case{}.h265", dir, k), &s).unwrap();
    }
}

#[test]
fn low_delay_b_200x120() {
    let frames = gen_frames(200, 120, 8, "lb");
    if let Some(frames) = frames {
        let rc = RateControl::ConstQp { qp: 30 };
        let p = roundtrip_shape(200, 120, &frames, rc, 2, 0, GopShape::LowDelayB, &[], "lb");
        assert!(p.unwrap_or(99.0) > 32.0, "psnr {:?}", p);
    }
}

#[test]
fn reordered_b1_200x120() {
    if let Some(frames) = gen_frames(200, 120, 9, "r1") {
        let rc = RateControl::ConstQp { qp: 30 };
        let shape = GopShape::Reordered { b_frames: 1 };
        let p = roundtrip_shape(200, 120, &frames, rc, 1, 0, shape, &[], "r1");
        assert!(p.unwrap_or(99.0) > 32.0, "psnr {:?}", p);
    }
}

/// Forced IDR in the middle of a mini-GOP, a GOP period, and a partial mini-GOP at flush.
#[test]
fn reordered_b3_forced_idr_and_flush() {
    if let Some(frames) = gen_frames(200, 120, 14, "r3") {
        let rc = RateControl::ConstQp { qp: 32 };
        let shape = GopShape::Reordered { b_frames: 3 };
        let p = roundtrip_shape(200, 120, &frames, rc, 2, 0, shape, &[6], "r3");
        assert!(p.unwrap_or(99.0) > 30.0, "psnr {:?}", p);
        roundtrip_shape(200, 120, &frames, rc, 1, 5, shape, &[], "r3g");
    }
}

#[test]
fn reordered_b7_odd_sizes() {
    if let Some(frames) = gen_frames(130, 66, 19, "r7") {
        let rc = RateControl::ConstQp { qp: 28 };
        let shape = GopShape::Reordered { b_frames: 7 };
        roundtrip_shape(130, 66, &frames, rc, 2, 0, shape, &[], "r7");
    }
    if let Some(frames) = gen_frames(1282, 722, 5, "r7b") {
        let rc = RateControl::ConstQp { qp: 34 };
        let shape = GopShape::Reordered { b_frames: 3 };
        roundtrip_shape(1282, 722, &frames, rc, 2, 0, shape, &[], "r7b");
    }
}

#[test]
fn rejects_bad_b_frames() {
    let cfg = |b| Config {
        width: 64,
        height: 64,
        fps_num: 30,
        fps_den: 1,
        rc: RateControl::ConstQp { qp: 30 },
        gop: 0,
        threads: 1,
        gop_shape: GopShape::Reordered { b_frames: b },
    };
    assert!(Encoder::new(cfg(0)).is_err());
    assert!(Encoder::new(cfg(8)).is_err());
    assert!(Encoder::new(cfg(7)).is_ok());
}

/// Bitrate / PSNR-Y / fps per GOP shape on a real clip at constant QP. Run with
/// `VENC_CLIP=~/.cache/venc-clips/photo_720p.yuv cargo test --release --lib h265 -- --ignored
/// measure_shapes --nocapture` (clip from tools/make-clips; `VENC_CLIP_SIZE`, default 1280x720).
#[test]
#[ignore]
fn measure_shapes() {
    let Ok(path) = std::env::var("VENC_CLIP") else {
        return;
    };
    let size = std::env::var("VENC_CLIP_SIZE").unwrap_or_else(|_| "1280x720".into());
    let (w, h) = size
        .split_once('x')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .expect("VENC_CLIP_SIZE is WxH");
    let data = std::fs::read(&path).expect("clip");
    let fs = (w * h * 3 / 2) as usize;
    let limit = std::env::var("VENC_FRAMES")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(usize::MAX);
    let step = std::env::var("VENC_STEP")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let frames: Vec<&[u8]> = data.chunks_exact(fs).step_by(step).take(limit).collect();
    let only = std::env::var("VENC_SHAPE").ok();
    let threads = std::env::var("VENC_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let shapes = [
        ("IpOnly", GopShape::IpOnly),
        ("LowDelayB", GopShape::LowDelayB),
        ("Reordered{1}", GopShape::Reordered { b_frames: 1 }),
        ("Reordered{3}", GopShape::Reordered { b_frames: 3 }),
    ];
    // CPU time of the whole process: fps per CPU-second is steadier than wall-clock fps on a
    // shared machine
    let cpu = || {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes the timespec we pass.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    };
    println!("| QP | shape | kbps | PSNR-Y dB | fps | fps/CPU-s |");
    println!("|---|---|---|---|---|---|");
    let qps: Vec<u8> = std::env::var("VENC_QPS")
        .ok()
        .map(|v| v.split(',').filter_map(|q| q.parse().ok()).collect())
        .unwrap_or_else(|| vec![27, 32, 37]);
    for qp in qps {
        for (name, shape) in shapes {
            if only.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            let mut enc = Encoder::new(Config {
                width: w,
                height: h,
                fps_num: 30,
                fps_den: 1,
                rc: RateControl::ConstQp { qp },
                gop: 0,
                threads,
                gop_shape: shape,
            })
            .unwrap();
            enc.log_reconstructions();
            let t = std::time::Instant::now();
            let c0 = cpu();
            let mut bytes = 0usize;
            for f in &frames {
                for c in enc.encode(&picture(f, w, h), false).unwrap() {
                    bytes += c.data.len();
                }
            }
            for c in enc.flush().unwrap() {
                bytes += c.data.len();
            }
            let secs = t.elapsed().as_secs_f64();
            let cpu_secs = cpu() - c0;
            let ys = (w * h) as usize;
            let recs = enc.take_reconstructions();
            let per: Vec<f64> = recs
                .iter()
                .map(|(d, r)| psnr(&frames[*d as usize][..ys], &r[..ys]))
                .collect();
            if std::env::var("VENC_VERBOSE").is_ok() {
                for ((d, _), p) in recs.iter().zip(&per) {
                    println!("  display {d}: PSNR-Y {p:.2}");
                }
            }
            let p = per.iter().sum::<f64>() / per.len() as f64;
            let kbps = bytes as f64 * 8.0 * 30.0 / frames.len() as f64 / 1000.0;
            let fps = frames.len() as f64 / secs;
            let cfps = frames.len() as f64 / cpu_secs;
            println!("| {qp} | {name} | {kbps:.0} | {p:.2} | {fps:.1} | {cfps:.1} |");
        }
    }
}

/// CBR holds its target within 10% over 10 s with B pictures (non-reference B pictures get
/// fewer bits than P, the buffer feedback keeps the total on target).
#[test]
fn cbr_with_b_pictures_holds_target() {
    let (w, h, n) = (176u32, 144u32, 300usize);
    let Some(frames) = gen_frames(w, h, n, "cbrb") else {
        return;
    };
    let target = 150_000u32;
    for shape in [GopShape::LowDelayB, GopShape::Reordered { b_frames: 3 }] {
        let mut enc = Encoder::new(Config {
            width: w,
            height: h,
            fps_num: 30,
            fps_den: 1,
            rc: RateControl::Cbr { bitrate: target },
            gop: 60,
            threads: 1,
            gop_shape: shape,
        })
        .unwrap();
        let mut bits = 0usize;
        for f in &frames {
            for c in enc.encode(&picture(f, w, h), false).unwrap() {
                bits += c.data.len() * 8;
            }
        }
        for c in enc.flush().unwrap() {
            bits += c.data.len() * 8;
        }
        let rate = bits as f64 / (n as f64 / 30.0);
        let err = (rate - target as f64).abs() / target as f64;
        assert!(
            err < 0.10,
            "{:?}: {:.0} bps for a {} bps target",
            shape,
            rate,
            target
        );
    }
}

/// Small pictures, short GOP periods and back-to-back forced IDRs with every shape.
#[test]
fn b_shapes_tiny_pictures_short_gops() {
    let Some(frames) = gen_frames(16, 16, 9, "tiny") else {
        return;
    };
    let rc = RateControl::ConstQp { qp: 26 };
    for (k, shape) in [
        GopShape::LowDelayB,
        GopShape::Reordered { b_frames: 1 },
        GopShape::Reordered { b_frames: 7 },
    ]
    .into_iter()
    .enumerate()
    {
        for (gop, forced) in [(1u32, &[][..]), (2, &[][..]), (0, &[3usize, 4][..])] {
            let tag = format!("tiny{k}_{gop}");
            roundtrip_shape(16, 16, &frames, rc, 1, gop, shape, forced, &tag);
        }
    }
}
