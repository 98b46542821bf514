//! B-picture streams checked by FFmpeg, the reference decoder (tests are
//! skipped with a message when `ffmpeg` is not in PATH).

use super::gop::{BEncoder, BLayout};
use crate::api::native::Config;
use crate::codec::{Coded, VideoEncoder};
use crate::engine::params::EncodeParams;
use crate::frame::Yuv420;
use std::process::Command;

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("ffmpeg not found; skipping H.264 B-picture test");
    }
    ok
}

fn params(w: u32, h: u32, qp: u8) -> EncodeParams {
    params_threads(w, h, qp, 1)
}

fn params_threads(w: u32, h: u32, qp: u8, threads: u32) -> EncodeParams {
    let mut c = Config::default();
    for (k, v) in [
        ("codec", "h264".to_string()),
        ("width", w.to_string()),
        ("height", h.to_string()),
        ("rc", "cqp".to_string()),
        ("qp", qp.to_string()),
        ("threads", threads.to_string()),
    ] {
        c.set(k, &v).unwrap();
    }
    c.to_params().unwrap()
}

/// A moving, textured test picture: a diagonal gradient panning right and
/// down, a square moving the other way, and smooth chroma.
pub fn moving_picture(w: u32, h: u32, t: u32) -> Yuv420 {
    moving_picture_at(w, h, t, t)
}

/// Like `moving_picture`, with the background panned by `pan` steps.
fn moving_picture_at(w: u32, h: u32, t: u32, pan: u32) -> Yuv420 {
    let mut p = Yuv420::new(w, h);
    let (wi, hi, ti) = (w as i32, h as i32, t as i32);
    let pi = pan as i32;
    for y in 0..hi {
        for x in 0..wi {
            let (sx, sy) = (x - 3 * pi, y - 2 * pi);
            let mut v = 64 + ((sx * 3 + sy * 2).rem_euclid(128)) + ((sx / 8 + sy / 8) & 1) * 40;
            let (qx, qy) = (wi - 40 - 2 * ti, 20 + ti);
            if x >= qx && x < qx + 24 && y >= qy && y < qy + 24 {
                v = 230 - (x - qx) * 3;
            }
            p.y[(y * wi + x) as usize] = v.clamp(0, 255) as u8;
        }
    }
    let cw = p.c_width() as i32;
    for y in 0..(hi + 1) / 2 {
        for x in 0..cw {
            p.u[(y * cw + x) as usize] = (96 + ((x - pi) * 2).rem_euclid(64)) as u8;
            p.v[(y * cw + x) as usize] = (160 - ((y + pi) * 2).rem_euclid(64)) as u8;
        }
    }
    p
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("h264b_{}_{}", std::process::id(), name))
}

/// Decodes an Annex-B stream with FFmpeg; asserts it reports no error.
fn ffmpeg_decode(stream: &[u8], w: u32, h: u32, tag: &str) -> Vec<Yuv420> {
    let input = tmp(&format!("{tag}.h264"));
    let output = tmp(&format!("{tag}.yuv"));
    std::fs::write(&input, stream).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&input)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p"])
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "ffmpeg: {stderr}"
    );
    let data = std::fs::read(&output).unwrap();
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    let (ys, cs) = ((w * h) as usize, (w.div_ceil(2) * h.div_ceil(2)) as usize);
    data.chunks_exact(ys + 2 * cs)
        .map(|f| Yuv420 {
            width: w,
            height: h,
            y: f[..ys].to_vec(),
            u: f[ys..ys + cs].to_vec(),
            v: f[ys + cs..].to_vec(),
        })
        .collect()
}

pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

struct Run {
    stream: Vec<u8>,
    /// Bytes of each coded picture and whether it is a B picture.
    sizes: Vec<(usize, bool)>,
    coded: Vec<(u64, Option<crate::engine::packet::FrameType>)>,
}

fn run(enc: &mut BEncoder, pics: &[Yuv420], keys: &[usize]) -> Run {
    let mut r = Run {
        stream: Vec::new(),
        sizes: Vec::new(),
        coded: Vec::new(),
    };
    let take = |v: Vec<Coded>, r: &mut Run| {
        for c in v {
            r.stream.extend_from_slice(&c.parameter_sets);
            r.stream.extend_from_slice(&c.data);
            r.coded.push((c.display_index, c.frame_type));
            let is_b = c.frame_type == Some(crate::engine::packet::FrameType::B);
            r.sizes.push((c.data.len(), is_b));
        }
    };
    for (i, p) in pics.iter().enumerate() {
        let v = enc.encode(p, keys.contains(&i)).unwrap();
        take(v, &mut r);
    }
    let v = enc.flush().unwrap();
    take(v, &mut r);
    r
}

/// Encodes, decodes and checks count, order (PSNR against the picture of
/// the same display index) and that B pictures are near the anchors.
fn check(w: u32, h: u32, n: u32, layout: BLayout, keys: &[usize], tag: &str) {
    check_with(&params(w, h, 28), n, layout, keys, tag);
}

fn check_with(p: &EncodeParams, n: u32, layout: BLayout, keys: &[usize], tag: &str) {
    let (w, h) = (p.width, p.height);
    if !have_ffmpeg() {
        return;
    }
    let pics: Vec<Yuv420> = (0..n).map(|t| moving_picture(w, h, t)).collect();
    let mut enc = BEncoder::new(p, layout).unwrap();
    let r = run(&mut enc, &pics, keys);
    if layout == BLayout::LowDelay {
        let order: Vec<u64> = r.coded.iter().map(|c| c.0).collect();
        assert_eq!(
            order,
            (0..u64::from(n)).collect::<Vec<_>>(),
            "low delay reorders nothing"
        );
    }
    let mut order: Vec<u64> = r.coded.iter().map(|c| c.0).collect();
    order.sort_unstable();
    assert_eq!(
        order,
        (0..u64::from(n)).collect::<Vec<_>>(),
        "each picture coded once"
    );
    let decoded = ffmpeg_decode(&r.stream, w, h, tag);
    assert_eq!(decoded.len(), n as usize, "frame count");
    let mut anchor = Vec::new();
    let mut bpic = Vec::new();
    for (i, d) in decoded.iter().enumerate() {
        let p = psnr(&d.y, &pics[i].y);
        // A picture shown out of order would match its neighbour far worse.
        let wrong = psnr(&d.y, &pics[(i + 1) % pics.len()].y);
        assert!(
            p > wrong + 3.0,
            "{tag}: frame {i} out of order ({p:.1} vs {wrong:.1} dB)"
        );
        let ty = r.coded.iter().find(|c| c.0 == i as u64).and_then(|c| c.1);
        if ty == Some(crate::engine::packet::FrameType::B) {
            bpic.push(p);
        } else {
            anchor.push(p);
        }
    }
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    eprintln!(
        "{tag}: anchors {:.2} dB ({}), B {:.2} dB ({}), {} bytes",
        avg(&anchor),
        anchor.len(),
        avg(&bpic),
        bpic.len(),
        r.stream.len()
    );
    assert!(avg(&anchor) > 30.0, "{tag}: anchors {:.1} dB", avg(&anchor));
    if !bpic.is_empty() {
        assert!(
            avg(&bpic) > avg(&anchor) - 3.0,
            "{tag}: B {:.1} dB",
            avg(&bpic)
        );
    }
}

#[test]
fn b1_decodes_in_display_order() {
    check(192, 128, 12, BLayout::Reordered(1), &[], "b1");
}

#[test]
fn b3_odd_size_decodes() {
    check(200, 120, 17, BLayout::Reordered(3), &[], "b3odd");
}

#[test]
fn b7_decodes() {
    check(176, 144, 24, BLayout::Reordered(7), &[], "b7");
}

#[test]
fn forced_idr_inside_a_mini_gop() {
    check(160, 96, 20, BLayout::Reordered(3), &[6, 13], "idr");
}

#[test]
fn flush_with_a_partial_mini_gop() {
    check(160, 96, 10, BLayout::Reordered(3), &[], "flush");
}

/// With threads openh264 writes one slice per thread; each is rewritten.
#[test]
fn multi_slice_anchors() {
    check_with(
        &params_threads(320, 192, 28, 2),
        13,
        BLayout::Reordered(3),
        &[],
        "slices",
    );
}

#[test]
fn low_delay_b_keeps_display_order() {
    check(200, 120, 15, BLayout::LowDelay, &[9], "lowdelay");
}

/// Bitrate, PSNR-Y and speed on a real clip (`VENC_CLIP=path WxH`, I420):
/// `cargo test --release --lib h264::tests::measure_clip -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_clip() {
    let Ok(spec) = std::env::var("VENC_CLIP") else {
        eprintln!("set VENC_CLIP=\"path WxH [frames]\"");
        return;
    };
    let mut it = spec.split_whitespace();
    let path = it.next().unwrap();
    let (w, h) = it.next().unwrap().split_once('x').unwrap();
    let (w, h): (u32, u32) = (w.parse().unwrap(), h.parse().unwrap());
    let frames: usize = it.next().map_or(60, |n| n.parse().unwrap());
    let qp: u8 = std::env::var("VENC_QP").map_or(30, |q| q.parse().unwrap());
    let data = std::fs::read(path).unwrap();
    let fs = (w * h * 3 / 2) as usize;
    let pics: Vec<Yuv420> = data
        .chunks_exact(fs)
        .take(frames)
        .map(|f| Yuv420 {
            width: w,
            height: h,
            y: f[..(w * h) as usize].to_vec(),
            u: f[(w * h) as usize..(w * h * 5 / 4) as usize].to_vec(),
            v: f[(w * h * 5 / 4) as usize..].to_vec(),
        })
        .collect();
    for (shape, profile) in [
        ("0", "high"),
        ("0", "baseline"),
        ("1", "main"),
        ("3", "main"),
        ("lowdelay", "main"),
    ] {
        let mut c = Config::default();
        for (k, v) in [
            ("codec", "h264".to_string()),
            ("width", w.to_string()),
            ("height", h.to_string()),
            ("rc", "cqp".to_string()),
            ("qp", qp.to_string()),
            ("threads", "1".to_string()),
            ("bframes", shape.to_string()),
            ("profile", profile.to_string()),
        ] {
            c.set(k, &v).unwrap();
        }
        let mut enc = super::H264Encoder::new(&c.to_params().unwrap()).unwrap();
        let mut stream = Vec::new();
        let t0 = std::time::Instant::now();
        for (i, p) in pics.iter().enumerate() {
            for c in enc.encode(p, i == 0).unwrap() {
                if std::env::var("VENC_VERBOSE").is_ok() {
                    eprintln!(
                        "  {} {:?} {} bytes",
                        c.display_index,
                        c.frame_type,
                        c.data.len()
                    );
                }
                stream.extend_from_slice(&c.parameter_sets);
                stream.extend_from_slice(&c.data);
            }
        }
        for c in enc.flush().unwrap() {
            stream.extend_from_slice(&c.data);
        }
        let secs = t0.elapsed().as_secs_f64();
        let decoded = ffmpeg_decode(&stream, w, h, &format!("measure{shape}"));
        assert_eq!(decoded.len(), pics.len());
        let p = decoded
            .iter()
            .zip(&pics)
            .map(|(d, s)| psnr(&d.y, &s.y))
            .sum::<f64>()
            / pics.len() as f64;
        let kbps = stream.len() as f64 * 8.0 * 30.0 / pics.len() as f64 / 1000.0;
        eprintln!(
            "bframes={shape:8} {profile:8} qp {qp}: {kbps:8.0} kbit/s at 30 fps, PSNR-Y {p:.2} dB, {:.1} fps",
            pics.len() as f64 / secs
        );
    }
}

/// A still background with one moving square: B_Skip and B_Direct carry
/// most macroblocks, and FFmpeg must agree with our direct prediction.
#[test]
fn still_background_skips() {
    if !have_ffmpeg() {
        return;
    }
    let (w, h, n) = (192, 128, 13);
    let pics: Vec<Yuv420> = (0..n).map(|t| moving_picture_at(w, h, t, 0)).collect();
    let mut enc = BEncoder::new(&params(w, h, 28), BLayout::Reordered(3)).unwrap();
    let r = run(&mut enc, &pics, &[]);
    let decoded = ffmpeg_decode(&r.stream, w, h, "still");
    assert_eq!(decoded.len(), n as usize);
    for (i, d) in decoded.iter().enumerate() {
        let p = psnr(&d.y, &pics[i].y);
        assert!(p > 34.0, "frame {i}: {p:.1} dB");
    }
    let b_bytes: usize = r.sizes.iter().filter(|s| s.1).map(|s| s.0).sum();
    let b_count = r.sizes.iter().filter(|s| s.1).count();
    // 96 macroblocks, all but the few around the square skipped (without
    // skipping, each would cost at least 7 bits: 84 bytes).
    assert!(
        b_bytes / b_count < 140,
        "{} bytes per B picture",
        b_bytes / b_count
    );
}

/// Bits over `n` pictures at 30 fps with CBR at `bps`, and the rate reached.
fn cbr_rate(pics: &[Yuv420], bps: u32, shape: &str) -> f64 {
    let (w, h) = (pics[0].width, pics[0].height);
    let mut c = Config::default();
    for (k, v) in [
        ("codec", "h264".to_string()),
        ("width", w.to_string()),
        ("height", h.to_string()),
        ("fps", "30".to_string()),
        ("rc", "cbr".to_string()),
        ("bitrate", bps.to_string()),
        ("threads", "1".to_string()),
        ("bframes", shape.to_string()),
    ] {
        c.set(k, &v).unwrap();
    }
    let mut enc = super::H264Encoder::new(&c.to_params().unwrap()).unwrap();
    let mut bytes = 0usize;
    for (i, p) in pics.iter().enumerate() {
        for c in enc.encode(p, i == 0).unwrap() {
            bytes += c.data.len();
        }
    }
    for c in enc.flush().unwrap() {
        bytes += c.data.len();
    }
    bytes as f64 * 8.0 * 30.0 / pics.len() as f64
}

/// openh264's rate control sees only the anchors; with the B pictures'
/// share taken off its target, CBR still lands within 10 % over 10 s.
#[test]
fn cbr_holds_the_target_with_b_pictures() {
    let pics: Vec<Yuv420> = (0..300).map(|t| moving_picture(320, 240, t % 97)).collect();
    for shape in ["0", "1", "3", "lowdelay"] {
        let rate = cbr_rate(&pics, 400_000, shape);
        eprintln!("bframes={shape}: {rate:.0} bit/s for 400000");
        assert!(
            (rate / 400_000.0 - 1.0).abs() < 0.1,
            "bframes={shape}: {rate:.0} bit/s"
        );
    }
}

/// The same on a real clip: `VENC_CLIP="path WxH" VENC_BPS=2000000`.
#[test]
#[ignore]
fn cbr_on_clip() {
    let Ok(spec) = std::env::var("VENC_CLIP") else {
        return;
    };
    let mut it = spec.split_whitespace();
    let path = it.next().unwrap();
    let (w, h) = it.next().unwrap().split_once('x').unwrap();
    let (w, h): (u32, u32) = (w.parse().unwrap(), h.parse().unwrap());
    let bps: u32 = std::env::var("VENC_BPS").map_or(2_000_000, |b| b.parse().unwrap());
    let data = std::fs::read(path).unwrap();
    let fs = (w * h * 3 / 2) as usize;
    let clip: Vec<Yuv420> = data
        .chunks_exact(fs)
        .map(|f| Yuv420 {
            width: w,
            height: h,
            y: f[..(w * h) as usize].to_vec(),
            u: f[(w * h) as usize..(w * h * 5 / 4) as usize].to_vec(),
            v: f[(w * h * 5 / 4) as usize..].to_vec(),
        })
        .collect();
    // 10 s at 30 fps: the clip forwards, backwards, forwards...
    let n = clip.len();
    let pics: Vec<Yuv420> = (0..300)
        .map(|i| {
            let k = i % (2 * n);
            clip[if k < n { k } else { 2 * n - 1 - k }].clone()
        })
        .collect();
    for shape in ["0", "1", "3", "lowdelay"] {
        let rate = cbr_rate(&pics, bps, shape);
        eprintln!(
            "bframes={shape}: {rate:.0} bit/s for {bps} ({:+.1} %)",
            (rate / f64::from(bps) - 1.0) * 100.0
        );
    }
}

/// The smallest pictures and sizes that are not whole macroblocks: one
/// macroblock column (no upper-right neighbours), cropping on both axes.
#[test]
fn tiny_and_cropped_sizes() {
    for (w, h) in [(16, 16), (18, 34), (48, 18)] {
        check(
            w,
            h,
            9,
            BLayout::Reordered(2),
            &[5],
            &format!("tiny{w}x{h}"),
        );
    }
}

/// Wrong caller input is an error, never a panic.
#[test]
fn bad_pictures_are_refused() {
    let mut enc = BEncoder::new(&params(64, 48, 28), BLayout::Reordered(2)).unwrap();
    assert!(enc.encode(&Yuv420::new(32, 48), false).is_err());
    let mut short = Yuv420::new(64, 48);
    short.y.truncate(100);
    assert!(enc.encode(&short, false).is_err());
    assert!(enc.encode(&Yuv420::new(64, 48), false).is_ok());
    let mut p = params(64, 48, 28);
    p.gop_shape = crate::engine::params::GopShape::Reordered { b_frames: 9 };
    assert!(super::H264Encoder::new(&p).is_err());
}
