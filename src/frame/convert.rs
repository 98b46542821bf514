//! Conversions between caller formats and the working I420 (`Yuv420`).

use super::format::PixelFormat;
use super::rgb;
use super::view::{check_dims, row, FrameError, FrameView, Plane};
use super::yuv::Yuv420;

/// Converts any supported frame to tightly packed I420. Validates `src`
/// first; resizes `dst` to the source size (reusing its allocations).
/// RGB input uses BT.601 limited range with chroma from each 2x2 average;
/// GRAY8 is copied to Y with U=V=128.
pub fn to_yuv420(src: &FrameView, dst: &mut Yuv420) -> Result<(), FrameError> {
    src.validate()?;
    dst.reshape(src.width, src.height);
    let (w, h) = (src.width as usize, src.height as usize);
    let (cw, ch) = (dst.c_width(), dst.c_height());
    let p = &src.planes;
    match src.format {
        PixelFormat::I420 => {
            copy_plane(&p[0], w, h, &mut dst.y);
            copy_plane(&p[1], cw, ch, &mut dst.u);
            copy_plane(&p[2], cw, ch, &mut dst.v);
        }
        PixelFormat::Yv12 => {
            copy_plane(&p[0], w, h, &mut dst.y);
            copy_plane(&p[1], cw, ch, &mut dst.v);
            copy_plane(&p[2], cw, ch, &mut dst.u);
        }
        PixelFormat::Nv12 => {
            copy_plane(&p[0], w, h, &mut dst.y);
            split_plane(&p[1], cw, ch, &mut dst.u, &mut dst.v);
        }
        PixelFormat::Nv21 => {
            copy_plane(&p[0], w, h, &mut dst.y);
            split_plane(&p[1], cw, ch, &mut dst.v, &mut dst.u);
        }
        PixelFormat::Gray8 => {
            copy_plane(&p[0], w, h, &mut dst.y);
            dst.u.fill(128);
            dst.v.fill(128);
        }
        PixelFormat::Bgr24 => packed_to_yuv::<3, 2, 1, 0>(&p[0], dst),
        PixelFormat::Rgb24 => packed_to_yuv::<3, 0, 1, 2>(&p[0], dst),
        PixelFormat::Bgra => packed_to_yuv::<4, 2, 1, 0>(&p[0], dst),
        PixelFormat::Rgba => packed_to_yuv::<4, 0, 1, 2>(&p[0], dst),
        PixelFormat::Argb => packed_to_yuv::<4, 1, 2, 3>(&p[0], dst),
    }
    Ok(())
}

/// Copies a validated plane of `rows` rows of `w` bytes into tight `dst`.
fn copy_plane(src: &Plane, w: usize, rows: usize, dst: &mut [u8]) {
    if src.stride == w {
        // Contiguous: one memcpy.
        dst.copy_from_slice(&src.data[..w * rows]);
        return;
    }
    for (y, d) in dst.chunks_exact_mut(w).enumerate() {
        d.copy_from_slice(row(src, y, w));
    }
}

/// De-interleaves a validated semi-planar chroma plane (pairs a,b) into `a`, `b`.
fn split_plane(src: &Plane, cw: usize, rows: usize, a: &mut [u8], b: &mut [u8]) {
    for ((y, ra), rb) in (0..rows)
        .zip(a.chunks_exact_mut(cw))
        .zip(b.chunks_exact_mut(cw))
    {
        let s = row(src, y, 2 * cw);
        for ((pair, oa), ob) in s.chunks_exact(2).zip(ra.iter_mut()).zip(rb.iter_mut()) {
            *oa = pair[0];
            *ob = pair[1];
        }
    }
}

fn packed_to_yuv<const BPP: usize, const R: usize, const G: usize, const B: usize>(
    src: &Plane,
    dst: &mut Yuv420,
) {
    let (w, h) = (dst.width as usize, dst.height as usize);
    let cw = dst.c_width();
    let row_len = w * BPP;
    let ys = dst.y.chunks_mut(2 * w);
    let us = dst.u.chunks_exact_mut(cw);
    let vs = dst.v.chunks_exact_mut(cw);
    for (cy, ((yr, ur), vr)) in ys.zip(us).zip(vs).enumerate() {
        let y0 = 2 * cy;
        // Odd height: the last chroma row averages the last luma row with itself.
        let y1 = (y0 + 1).min(h - 1);
        let s0 = row(src, y0, row_len);
        let s1 = row(src, y1, row_len);
        let (yr0, yr1) = yr.split_at_mut(w);
        rgb::row_to_y::<BPP, R, G, B>(s0, yr0);
        if y1 != y0 {
            rgb::row_to_y::<BPP, R, G, B>(s1, yr1);
        }
        rgb::rows_to_uv::<BPP, R, G, B>(s0, s1, w, ur, vr);
    }
}

/// Converts I420 to a tightly packed single-plane format: Rgb24, Bgr24,
/// Rgba, Bgra, Argb (alpha 255) via the BT.601 limited-range inverse, or
/// Gray8 (the Y plane as-is). Chroma is upsampled by repetition.
pub fn yuv420_to_packed(src: &Yuv420, format: PixelFormat) -> Result<Vec<u8>, FrameError> {
    // The size limit also keeps width * 4 from overflowing on 32-bit targets.
    check_dims(src.width, src.height)?;
    src.check()?;
    let bpp = match format {
        PixelFormat::Rgb24 | PixelFormat::Bgr24 | PixelFormat::Rgba | PixelFormat::Bgra | PixelFormat::Argb | PixelFormat::Gray8 => {
            format.packed_bytes_per_pixel().unwrap_or(1)
        }
        _ => {
            return Err(FrameError::new(format!(
                "cannot convert yuv420 to {}: only rgb24, bgr24, rgba, bgra, argb and gray8 are packed output formats",
                format.name()
            )))
        }
    };
    if format == PixelFormat::Gray8 {
        return Ok(src.y.clone());
    }
    let len = src.y.len().checked_mul(bpp).ok_or_else(|| {
        FrameError::new(format!(
            "yuv420 {}x{} is too large to convert to {}",
            src.width,
            src.height,
            format.name()
        ))
    })?;
    let mut out = vec![0u8; len];
    match format {
        PixelFormat::Rgb24 => yuv_to_packed::<3, 0, 1, 2, 3>(src, &mut out),
        PixelFormat::Bgr24 => yuv_to_packed::<3, 2, 1, 0, 3>(src, &mut out),
        PixelFormat::Rgba => yuv_to_packed::<4, 0, 1, 2, 3>(src, &mut out),
        PixelFormat::Bgra => yuv_to_packed::<4, 2, 1, 0, 3>(src, &mut out),
        _ => yuv_to_packed::<4, 1, 2, 3, 0>(src, &mut out), // Argb, the only one left
    }
    Ok(out)
}

fn yuv_to_packed<
    const BPP: usize,
    const R: usize,
    const G: usize,
    const B: usize,
    const A: usize,
>(
    src: &Yuv420,
    out: &mut [u8],
) {
    let w = src.width as usize;
    let cw = src.c_width();
    if w == 0 || cw == 0 {
        return;
    }
    for (y, (yr, dr)) in src
        .y
        .chunks_exact(w)
        .zip(out.chunks_exact_mut(w * BPP))
        .enumerate()
    {
        let c = (y / 2) * cw;
        rgb::yuv_row_to_packed::<BPP, R, G, B, A>(yr, &src.u[c..c + cw], &src.v[c..c + cw], dr);
    }
}

/// I420 to NV12: the Y plane, then interleaved U,V, tightly packed. Returns
/// an empty Vec if `src`'s buffers do not match its size (see `Yuv420::check`).
pub fn yuv420_to_nv12(src: &Yuv420) -> Vec<u8> {
    if src.check().is_err() {
        return Vec::new();
    }
    let mut out = vec![0u8; src.y.len() + 2 * src.u.len()];
    let (y, uv) = out.split_at_mut(src.y.len());
    y.copy_from_slice(&src.y);
    for ((pair, &u), &v) in uv.chunks_exact_mut(2).zip(&src.u).zip(&src.v) {
        pair[0] = u;
        pair[1] = v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use PixelFormat::*;

    /// Deterministic noise so tests see every byte position used.
    fn noise(n: usize, seed: u32) -> Vec<u8> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 24) as u8
            })
            .collect()
    }

    /// Writes `rows` rows of `w` bytes from tight `src` into a buffer with
    /// the given stride, filling padding with 0xEE so reading it would show.
    fn pad(src: &[u8], w: usize, rows: usize, stride: usize) -> Vec<u8> {
        let mut out = vec![0xEE; stride * rows];
        for y in 0..rows {
            out[y * stride..y * stride + w].copy_from_slice(&src[y * w..(y + 1) * w]);
        }
        out
    }

    fn conv(v: &FrameView) -> Yuv420 {
        let mut d = Yuv420::new(1, 1);
        to_yuv420(v, &mut d).unwrap();
        d
    }

    /// Straightforward per-pixel reference for packed RGB -> I420.
    fn reference(rgb: &[[u8; 3]], w: usize, h: usize) -> Yuv420 {
        let mut f = Yuv420::new(w as u32, h as u32);
        let px = |x: usize, y: usize| rgb[y.min(h - 1) * w + x.min(w - 1)];
        for y in 0..h {
            for x in 0..w {
                let [r, g, b] = px(x, y);
                f.y[y * w + x] = rgb::rgb_to_y(r as i32, g as i32, b as i32);
            }
        }
        let cw = f.c_width();
        for cy in 0..f.c_height() {
            for cx in 0..cw {
                let xs = [2 * cx, (2 * cx + 1).min(w - 1)];
                let ys = [2 * cy, (2 * cy + 1).min(h - 1)];
                let mut s = [0i32; 3];
                let mut n = 0;
                for &yy in ys.iter().take(if ys[0] == ys[1] { 1 } else { 2 }) {
                    for &xx in xs.iter().take(if xs[0] == xs[1] { 1 } else { 2 }) {
                        for (acc, &c) in s.iter_mut().zip(&px(xx, yy)) {
                            *acc += c as i32;
                        }
                        n += 1;
                    }
                }
                let a: Vec<i32> = s.iter().map(|&v| (v + n / 2) / n).collect();
                f.u[cy * cw + cx] = rgb::rgb_to_u(a[0], a[1], a[2]);
                f.v[cy * cw + cx] = rgb::rgb_to_v(a[0], a[1], a[2]);
            }
        }
        f
    }

    #[test]
    fn every_format_odd_size_padded_stride() {
        for &(w, h) in &[(33usize, 17usize), (1, 1), (2, 3), (5, 2)] {
            let rgb: Vec<[u8; 3]> = noise(w * h * 3, 7)
                .chunks(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect();
            let want = reference(&rgb, w, h);
            let (cw, ch) = (want.c_width(), want.c_height());
            for &f in PixelFormat::all() {
                let planes: Vec<Vec<u8>> = match f {
                    I420 => vec![want.y.clone(), want.u.clone(), want.v.clone()],
                    Yv12 => vec![want.y.clone(), want.v.clone(), want.u.clone()],
                    Nv12 | Nv21 => {
                        let (a, b) = if f == Nv12 {
                            (&want.u, &want.v)
                        } else {
                            (&want.v, &want.u)
                        };
                        vec![
                            want.y.clone(),
                            a.iter().zip(b).flat_map(|(&a, &b)| [a, b]).collect(),
                        ]
                    }
                    Gray8 => vec![want.y.clone()],
                    _ => {
                        let order: &[usize] = match f {
                            Bgr24 => &[2, 1, 0],
                            Rgb24 => &[0, 1, 2],
                            Bgra => &[2, 1, 0, 9],
                            Rgba => &[0, 1, 2, 9],
                            _ => &[9, 0, 1, 2],
                        };
                        // Alpha (index 9) gets noise-ish values: must be ignored.
                        vec![rgb
                            .iter()
                            .enumerate()
                            .flat_map(|(i, p)| {
                                order
                                    .iter()
                                    .map(move |&o| if o == 9 { i as u8 } else { p[o] })
                            })
                            .collect()]
                    }
                };
                let padded: Vec<(Vec<u8>, usize)> = planes
                    .iter()
                    .enumerate()
                    .map(|(p, data)| {
                        let rw = f.min_stride(p, w as u32).unwrap();
                        let rows = f.plane_rows(p, h as u32);
                        let stride = rw + 3 + p;
                        (pad(data, rw, rows, stride), stride)
                    })
                    .collect();
                let mut view = FrameView {
                    format: f,
                    width: w as u32,
                    height: h as u32,
                    planes: [Plane::empty(); 3],
                };
                for (i, (d, s)) in padded.iter().enumerate() {
                    view.planes[i] = Plane::new(d, *s);
                }
                let got = conv(&view);
                assert_eq!(got.y, want.y, "{f} {w}x{h} y");
                if f == Gray8 {
                    assert!(got.u.iter().chain(&got.v).all(|&c| c == 128));
                } else {
                    assert_eq!((got.u.len(), got.v.len()), (cw * ch, cw * ch));
                    assert_eq!(got.u, want.u, "{f} {w}x{h} u");
                    assert_eq!(got.v, want.v, "{f} {w}x{h} v");
                }
            }
        }
    }

    #[test]
    fn nv12_vs_nv21_chroma_order() {
        let y = [50u8; 4];
        let uv = [10u8, 200];
        let mk = |f| FrameView {
            format: f,
            width: 2,
            height: 2,
            planes: [Plane::new(&y, 2), Plane::new(&uv, 2), Plane::empty()],
        };
        let a = conv(&mk(Nv12));
        assert_eq!((a.u[0], a.v[0]), (10, 200));
        let b = conv(&mk(Nv21));
        assert_eq!((b.u[0], b.v[0]), (200, 10));
        assert_eq!(yuv420_to_nv12(&a), vec![50, 50, 50, 50, 10, 200]);
    }

    #[test]
    fn i420_and_nv12_round_trip() {
        let mut f = Yuv420::new(33, 17);
        f.y = noise(f.y.len(), 1);
        f.u = noise(f.u.len(), 2);
        f.v = noise(f.v.len(), 3);
        let nv = yuv420_to_nv12(&f);
        let (y, uv) = nv.split_at(33 * 17);
        let view = FrameView {
            format: Nv12,
            width: 33,
            height: 17,
            planes: [Plane::new(y, 33), Plane::new(uv, 34), Plane::empty()],
        };
        assert_eq!(conv(&view), f);
        let view = FrameView {
            format: I420,
            width: 33,
            height: 17,
            planes: [
                Plane::new(&f.y, 33),
                Plane::new(&f.u, 17),
                Plane::new(&f.v, 17),
            ],
        };
        assert_eq!(conv(&view), f);
        // Inconsistent buffers give an empty result, not a panic.
        let mut bad = f.clone();
        bad.v.clear();
        assert!(yuv420_to_nv12(&bad).is_empty());
        assert!(yuv420_to_packed(&bad, Rgb24).is_err());
    }

    fn bars(w: usize, h: usize) -> Vec<u8> {
        // Classic 75% bars plus black/white; bar edges on even columns.
        const C: [[u8; 3]; 8] = [
            [191, 191, 191],
            [191, 191, 0],
            [0, 191, 191],
            [0, 191, 0],
            [191, 0, 191],
            [191, 0, 0],
            [0, 0, 191],
            [255, 255, 255],
        ];
        let bw = w / 8;
        (0..h)
            .flat_map(|_| (0..w).flat_map(move |x| C[(x / bw).min(7)]))
            .collect()
    }

    fn max_err(a: &[u8], b: &[u8]) -> i32 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| (x as i32 - y as i32).abs())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn rgb_round_trip_bars_and_gray() {
        let (w, h) = (64usize, 8usize);
        let src = bars(w, h);
        let yuv = conv(&FrameView::packed(Rgb24, w as u32, h as u32, &src, w * 3));
        let back = yuv420_to_packed(&yuv, Rgb24).unwrap();
        assert!(
            max_err(&src, &back) <= 3,
            "bars err {}",
            max_err(&src, &back)
        );
        // BGR out is RGB with R and B swapped.
        let bgr = yuv420_to_packed(&yuv, Bgr24).unwrap();
        for (a, b) in back.chunks(3).zip(bgr.chunks(3)) {
            assert_eq!([a[0], a[1], a[2]], [b[2], b[1], b[0]]);
        }
        // Gray ramp: exact chroma, tiny luma error.
        let gray: Vec<u8> = (0..256 * 2).flat_map(|i| [(i % 256) as u8; 3]).collect();
        let yuv = conv(&FrameView::packed(Bgr24, 256, 2, &gray, 768));
        assert!(yuv.u.iter().chain(&yuv.v).all(|&c| c == 128));
        let back = yuv420_to_packed(&yuv, Bgr24).unwrap();
        assert!(
            max_err(&gray, &back) <= 1,
            "gray err {}",
            max_err(&gray, &back)
        );
    }

    #[test]
    fn packed_output_formats() {
        let mut f = Yuv420::new(3, 3);
        f.y.fill(235);
        let rgba = yuv420_to_packed(&f, Rgba).unwrap();
        assert_eq!(rgba.len(), 36);
        assert!(rgba.chunks(4).all(|p| p == [255, 255, 255, 255]));
        f.y.fill(81);
        f.u.fill(90);
        f.v.fill(240);
        let argb = yuv420_to_packed(&f, Argb).unwrap();
        assert!(
            argb.chunks(4)
                .all(|p| p[0] == 255 && p[1] >= 253 && p[2] <= 2 && p[3] <= 2),
            "{argb:?}"
        );
        let bgra = yuv420_to_packed(&f, Bgra).unwrap();
        assert!(bgra.chunks(4).all(|p| p[2] >= 253 && p[3] == 255));
        assert_eq!(yuv420_to_packed(&f, Gray8).unwrap(), f.y);
        for bad in [I420, Yv12, Nv12, Nv21] {
            let e = yuv420_to_packed(&f, bad).unwrap_err().0;
            assert!(
                e.starts_with(&format!("cannot convert yuv420 to {}", bad.name())),
                "{e}"
            );
        }
    }

    #[test]
    fn invalid_input_is_an_error_and_dst_untouched() {
        let mut d = Yuv420::new(2, 2);
        let before = d.clone();
        let buf = [0u8; 10];
        let e = to_yuv420(&FrameView::packed(Bgra, 4, 4, &buf, 16), &mut d).unwrap_err();
        assert_eq!(
            e.0,
            "plane 0 holds 10 bytes but 4 rows of stride 16 need 64"
        );
        assert_eq!(d, before);
    }

    #[test]
    fn dst_is_resized() {
        let src = vec![0u8; 7 * 5 * 3];
        let mut d = Yuv420::new(640, 480);
        to_yuv420(&FrameView::packed(Rgb24, 7, 5, &src, 21), &mut d).unwrap();
        assert_eq!((d.width, d.height, d.y.len(), d.u.len()), (7, 5, 35, 12));
        assert!(d.y.iter().all(|&p| p == 16) && d.u.iter().all(|&p| p == 128));
    }

    #[test]
    fn arbitrary_views_never_panic() {
        // Random formats, sizes, strides and buffer lengths: every call
        // must return Ok or Err, and Ok only for views that validate.
        let buf = noise(4096, 9);
        let r = noise(20000, 11);
        let mut d = Yuv420::new(1, 1);
        let mut ok = 0;
        for c in r.chunks_exact(8) {
            let f = PixelFormat::all()[c[0] as usize % 10];
            let (w, h) = (c[1] as u32 % 40, c[2] as u32 % 40);
            let mut planes = [Plane::empty(); 3];
            for (p, pl) in planes.iter_mut().enumerate() {
                let len = (c[3 + p] as usize * 16) % 4097;
                let stride = (c[6] as usize * (p + 1)) % 200;
                *pl = Plane::new(&buf[..len], stride);
            }
            let w = if c[7] == 0 { 16385 } else { w };
            let v = FrameView {
                format: f,
                width: w,
                height: h,
                planes,
            };
            let res = to_yuv420(&v, &mut d);
            assert_eq!(res.is_ok(), v.validate().is_ok());
            ok += res.is_ok() as usize;
        }
        assert!(ok > 10, "only {ok} valid cases");
        let big = Yuv420 {
            width: u32::MAX,
            height: 0,
            y: vec![],
            u: vec![],
            v: vec![],
        };
        assert!(yuv420_to_packed(&big, Rgba).is_err());
        let _ = yuv420_to_nv12(&big);
        let _ = super::super::psnr_y(&big, &big);
    }

    /// Prints 1080p timings; meaningful with `cargo test --release -- --nocapture`.
    #[test]
    fn timing_1080p() {
        let (w, h) = (1920usize, 1080usize);
        let iters = if cfg!(debug_assertions) { 1 } else { 20 };
        let mut d = Yuv420::new(w as u32, h as u32);
        let time = |name: &str, d: &mut Yuv420, v: &FrameView| {
            to_yuv420(v, d).unwrap();
            let t = Instant::now();
            for _ in 0..iters {
                to_yuv420(v, d).unwrap();
            }
            println!(
                "1080p {name:>6} -> i420: {:.3} ms",
                t.elapsed().as_secs_f64() * 1e3 / iters as f64
            );
        };
        let y = noise(w * h, 1);
        let uv = noise(w * h / 2, 2);
        let nv = FrameView {
            format: Nv12,
            width: w as u32,
            height: h as u32,
            planes: [Plane::new(&y, w), Plane::new(&uv, w), Plane::empty()],
        };
        time("nv12", &mut d, &nv);
        let i4 = FrameView {
            format: I420,
            width: w as u32,
            height: h as u32,
            planes: [
                Plane::new(&y, w),
                Plane::new(&uv, w / 2),
                Plane::new(&uv[w * h / 4..], w / 2),
            ],
        };
        time("i420", &mut d, &i4);
        let rgb = noise(w * h * 4, 3);
        time(
            "bgr24",
            &mut d,
            &FrameView::packed(Bgr24, w as u32, h as u32, &rgb, w * 3),
        );
        time(
            "bgra",
            &mut d,
            &FrameView::packed(Bgra, w as u32, h as u32, &rgb, w * 4),
        );
        let t = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(yuv420_to_packed(&d, Rgb24).unwrap());
        }
        println!(
            "1080p i420 -> rgb24: {:.3} ms",
            t.elapsed().as_secs_f64() * 1e3 / iters as f64
        );
        let t = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(yuv420_to_nv12(&d));
        }
        println!(
            "1080p i420 -> nv12: {:.3} ms",
            t.elapsed().as_secs_f64() * 1e3 / iters as f64
        );
        let t = Instant::now();
        for _ in 0..iters {
            std::hint::black_box(super::super::scale_yuv420(&d, 1280, 720).unwrap());
        }
        println!(
            "1080p i420 -> 720p scale: {:.3} ms",
            t.elapsed().as_secs_f64() * 1e3 / iters as f64
        );
    }
}
