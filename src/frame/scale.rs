//! Bilinear scaling of I420.

use super::view::{check_dims, FrameError};
use super::yuv::Yuv420;

/// Fraction bits of the sample positions: 8 bits keeps the vertical pass
/// in u16 (255 * 256) and the horizontal in u32, and weights that sum to
/// exactly 256 keep flat areas exact.
const FRAC_BITS: u32 = 8;
const ONE: u32 = 1 << FRAC_BITS;

/// Scales to `width`x`height` (each 1..=MAX_DIMENSION) with bilinear
/// filtering, pixel centres aligned, edges clamped. Each plane is scaled
/// on its own grid. No prefiltering, so large downscales (> 2x) alias.
pub fn scale_yuv420(src: &Yuv420, width: u32, height: u32) -> Result<Yuv420, FrameError> {
    check_dims(width, height)?;
    check_dims(src.width, src.height).map_err(|e| FrameError::new(format!("source {}", e.0)))?;
    src.check()?;
    let mut dst = Yuv420::new(width, height);
    if dst.width == src.width && dst.height == src.height {
        dst.clone_from(src);
        return Ok(dst);
    }
    let (sw, sh) = (src.width as usize, src.height as usize);
    let (dw, dh) = (width as usize, height as usize);
    let (scw, sch, dcw, dch) = (src.c_width(), src.c_height(), dst.c_width(), dst.c_height());
    scale_plane(&src.y, sw, sh, &mut dst.y, dw, dh);
    scale_plane(&src.u, scw, sch, &mut dst.u, dcw, dch);
    scale_plane(&src.v, scw, sch, &mut dst.v, dcw, dch);
    Ok(dst)
}

/// Source sample position for each destination index: (index, next index
/// clamped to the edge, fraction in 1/ONE).
fn positions(src_n: usize, dst_n: usize) -> Vec<(usize, usize, u32)> {
    let (s, d) = (src_n as u64, dst_n as u64);
    let max = (s - 1) * ONE as u64;
    (0..d)
        .map(|i| {
            // Centre of dst pixel i in src coordinates: (i + 0.5) * s/d - 0.5.
            let p = ((2 * i + 1) * s * ONE as u64 / (2 * d))
                .saturating_sub(ONE as u64 / 2)
                .min(max);
            let i0 = (p >> FRAC_BITS) as usize;
            (i0, (i0 + 1).min(src_n - 1), (p & (ONE as u64 - 1)) as u32)
        })
        .collect()
}

fn scale_plane(src: &[u8], sw: usize, sh: usize, dst: &mut [u8], dw: usize, dh: usize) {
    if sw == 0 || sh == 0 || dw == 0 || dh == 0 {
        return;
    }
    let xs = positions(sw, dw);
    let ys = positions(sh, dh);
    // One source row blended vertically, in 1/ONE units.
    let mut tmp = vec![0u16; sw];
    for (out, &(y0, y1, fy)) in dst.chunks_exact_mut(dw).zip(&ys) {
        let r0 = &src[y0 * sw..(y0 + 1) * sw];
        let r1 = &src[y1 * sw..(y1 + 1) * sw];
        let (w0, w1) = ((ONE - fy) as u16, fy as u16);
        for ((t, &a), &b) in tmp.iter_mut().zip(r0).zip(r1) {
            *t = a as u16 * w0 + b as u16 * w1;
        }
        for (o, &(x0, x1, fx)) in out.iter_mut().zip(&xs) {
            let v = tmp[x0] as u32 * (ONE - fx) + tmp[x1] as u32 * fx;
            *o = ((v + (1 << (2 * FRAC_BITS - 1))) >> (2 * FRAC_BITS)) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(w: u32, h: u32, y: u8, u: u8, v: u8) -> Yuv420 {
        let mut f = Yuv420::new(w, h);
        f.y.fill(y);
        f.u.fill(u);
        f.v.fill(v);
        f
    }

    #[test]
    fn flat_colour_is_exact() {
        let src = flat(33, 17, 81, 90, 240);
        for &(w, h) in &[
            (1, 1),
            (16, 9),
            (33, 17),
            (64, 35),
            (100, 3),
            (7, 200),
            (1920, 2),
        ] {
            let d = scale_yuv420(&src, w, h).unwrap();
            assert_eq!(d, flat(w, h, 81, 90, 240), "{w}x{h}");
        }
        let d = scale_yuv420(&flat(1, 1, 200, 20, 30), 5, 4).unwrap();
        assert_eq!(d, flat(5, 4, 200, 20, 30));
    }

    #[test]
    fn identity_is_exact() {
        let mut f = Yuv420::new(9, 5);
        for (i, p) in f.y.iter_mut().enumerate() {
            *p = (i * 37) as u8;
        }
        assert_eq!(scale_yuv420(&f, 9, 5).unwrap(), f);
        // Same size one way only: that axis is an exact copy too.
        let g = scale_yuv420(&f, 9, 10).unwrap();
        assert_eq!(&g.y[..9], &f.y[..9]);
    }

    #[test]
    fn gradient_is_approximate() {
        // Horizontal ramp 0..=255 over 256 pixels: value == x.
        let mut src = Yuv420::new(256, 4);
        for row in src.y.chunks_mut(256) {
            for (x, p) in row.iter_mut().enumerate() {
                *p = x as u8;
            }
        }
        for &w in &[128u32, 64, 512, 300, 97] {
            let d = scale_yuv420(&src, w, 6).unwrap();
            let s = 256.0 / w as f64;
            for row in d.y.chunks(w as usize) {
                for (x, &p) in row.iter().enumerate() {
                    let want = ((x as f64 + 0.5) * s - 0.5).clamp(0.0, 255.0);
                    assert!((p as f64 - want).abs() <= 1.0, "w {w} x {x}: {p} vs {want}");
                }
            }
        }
        // 2x down then up stays close to the original.
        let down = scale_yuv420(&src, 128, 2).unwrap();
        let up = scale_yuv420(&down, 256, 4).unwrap();
        assert!(super::super::psnr_y(&src, &up) > 40.0);
    }

    #[test]
    fn bad_sizes() {
        let src = Yuv420::new(4, 4);
        assert_eq!(scale_yuv420(&src, 0, 4).unwrap_err().0, "width 0");
        assert_eq!(
            scale_yuv420(&src, 4, 16385).unwrap_err().0,
            "height 16385 is larger than the maximum 16384"
        );
        assert_eq!(
            scale_yuv420(&Yuv420::new(0, 4), 4, 4).unwrap_err().0,
            "source width 0"
        );
        let mut bad = src.clone();
        bad.y.pop();
        assert!(scale_yuv420(&bad, 8, 8).is_err());
    }
}
