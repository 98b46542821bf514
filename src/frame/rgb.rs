//! BT.601 limited-range RGB <-> YUV math and the packed-pixel row kernels.
//!
//! 8-bit fixed-point coefficients (the classic ITU/libyuv integer set), so
//! results are bit-exact everywhere. Kernels are generic over the byte
//! positions of R, G, B in a pixel so each layout gets its own tight loop
//! that LLVM can unroll/vectorize (no per-pixel format branches).

/// Offsets that keep every intermediate non-negative, so `>> 8` is plain
/// rounding and no sign handling is needed.
const Y_BIAS: i32 = (16 << 8) + 128;
const C_BIAS: i32 = (128 << 8) + 128;

#[inline(always)]
pub(super) fn rgb_to_y(r: i32, g: i32, b: i32) -> u8 {
    // Range 16..=235 for 8-bit input.
    ((66 * r + 129 * g + 25 * b + Y_BIAS) >> 8) as u8
}

#[inline(always)]
pub(super) fn rgb_to_u(r: i32, g: i32, b: i32) -> u8 {
    // Range 16..=240.
    ((-38 * r - 74 * g + 112 * b + C_BIAS) >> 8) as u8
}

#[inline(always)]
pub(super) fn rgb_to_v(r: i32, g: i32, b: i32) -> u8 {
    ((112 * r - 94 * g - 18 * b + C_BIAS) >> 8) as u8
}

#[inline(always)]
fn clamp8(x: i32) -> u8 {
    x.clamp(0, 255) as u8
}

/// Chroma terms shared by the pixels of one U,V sample.
#[inline(always)]
fn chroma_terms(u: u8, v: u8) -> (i32, i32, i32) {
    let d = u as i32 - 128;
    let e = v as i32 - 128;
    (409 * e + 128, -100 * d - 208 * e + 128, 516 * d + 128)
}

#[inline(always)]
fn put_rgb<const BPP: usize, const R: usize, const G: usize, const B: usize, const A: usize>(
    px: &mut [u8],
    y: u8,
    (rc, gc, bc): (i32, i32, i32),
) {
    let c = 298 * (y as i32 - 16);
    px[R] = clamp8((c + rc) >> 8);
    px[G] = clamp8((c + gc) >> 8);
    px[B] = clamp8((c + bc) >> 8);
    if A < BPP {
        px[A] = 255;
    }
}

/// One row of packed pixels to luma. `src` holds at least `y.len()` pixels.
pub(super) fn row_to_y<const BPP: usize, const R: usize, const G: usize, const B: usize>(
    src: &[u8],
    y: &mut [u8],
) {
    for (px, out) in src.chunks_exact(BPP).zip(y.iter_mut()) {
        *out = rgb_to_y(px[R] as i32, px[G] as i32, px[B] as i32);
    }
}

/// Two rows of packed pixels (`width` each) to one row of U and V, each
/// sample from the rounded average of its 2x2 block (1x2/2x1/1x1 at odd
/// edges: pass the same row twice for the last row of an odd height).
pub(super) fn rows_to_uv<const BPP: usize, const R: usize, const G: usize, const B: usize>(
    r0: &[u8],
    r1: &[u8],
    width: usize,
    u: &mut [u8],
    v: &mut [u8],
) {
    let pairs = width / 2;
    let n = pairs * 2 * BPP;
    let (r0, t0) = r0.split_at(n);
    let (r1, t1) = r1.split_at(n);
    let (u, ut) = u.split_at_mut(pairs);
    let (v, vt) = v.split_at_mut(pairs);
    for ((a, b), (uo, vo)) in r0
        .chunks_exact(2 * BPP)
        .zip(r1.chunks_exact(2 * BPP))
        .zip(u.iter_mut().zip(v.iter_mut()))
    {
        let r = (a[R] as i32 + a[BPP + R] as i32 + b[R] as i32 + b[BPP + R] as i32 + 2) >> 2;
        let g = (a[G] as i32 + a[BPP + G] as i32 + b[G] as i32 + b[BPP + G] as i32 + 2) >> 2;
        let bl = (a[B] as i32 + a[BPP + B] as i32 + b[B] as i32 + b[BPP + B] as i32 + 2) >> 2;
        *uo = rgb_to_u(r, g, bl);
        *vo = rgb_to_v(r, g, bl);
    }
    if width & 1 == 1 {
        if let (Some(uo), Some(vo)) = (ut.first_mut(), vt.first_mut()) {
            let r = (t0[R] as i32 + t1[R] as i32 + 1) >> 1;
            let g = (t0[G] as i32 + t1[G] as i32 + 1) >> 1;
            let b = (t0[B] as i32 + t1[B] as i32 + 1) >> 1;
            *uo = rgb_to_u(r, g, b);
            *vo = rgb_to_v(r, g, b);
        }
    }
}

/// One row of I420 (luma `y`, the matching chroma rows `u`, `v`) to packed
/// pixels; `A >= BPP` means no alpha byte, otherwise it is set to 255.
pub(super) fn yuv_row_to_packed<
    const BPP: usize,
    const R: usize,
    const G: usize,
    const B: usize,
    const A: usize,
>(
    y: &[u8],
    u: &[u8],
    v: &[u8],
    dst: &mut [u8],
) {
    let width = y.len();
    let pairs = width / 2;
    let (d, dt) = dst.split_at_mut(pairs * 2 * BPP);
    for ((px, yy), (&uu, &vv)) in d
        .chunks_exact_mut(2 * BPP)
        .zip(y.chunks_exact(2))
        .zip(u.iter().zip(v.iter()))
    {
        let t = chroma_terms(uu, vv);
        put_rgb::<BPP, R, G, B, A>(&mut px[..BPP], yy[0], t);
        put_rgb::<BPP, R, G, B, A>(&mut px[BPP..], yy[1], t);
    }
    if width & 1 == 1 {
        if let (Some(&yy), Some(&uu), Some(&vv)) = (y.last(), u.get(pairs), v.get(pairs)) {
            put_rgb::<BPP, R, G, B, A>(dt, yy, chroma_terms(uu, vv));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_points() {
        // Black, white and the primaries land on the BT.601 limited-range values.
        assert_eq!(
            (rgb_to_y(0, 0, 0), rgb_to_u(0, 0, 0), rgb_to_v(0, 0, 0)),
            (16, 128, 128)
        );
        assert_eq!(
            (
                rgb_to_y(255, 255, 255),
                rgb_to_u(255, 255, 255),
                rgb_to_v(255, 255, 255)
            ),
            (235, 128, 128)
        );
        assert_eq!(
            (
                rgb_to_y(255, 0, 0),
                rgb_to_u(255, 0, 0),
                rgb_to_v(255, 0, 0)
            ),
            (82, 90, 240)
        );
        assert_eq!(
            (
                rgb_to_y(0, 255, 0),
                rgb_to_u(0, 255, 0),
                rgb_to_v(0, 255, 0)
            ),
            (144, 54, 34)
        );
        assert_eq!(
            (
                rgb_to_y(0, 0, 255),
                rgb_to_u(0, 0, 255),
                rgb_to_v(0, 0, 255)
            ),
            (41, 240, 110)
        );
    }

    #[test]
    fn extremes_stay_in_range() {
        for &(r, g, b) in &[
            (255, 0, 255),
            (0, 255, 255),
            (255, 255, 0),
            (0, 0, 255),
            (255, 0, 0),
        ] {
            let (u, v) = (rgb_to_u(r, g, b), rgb_to_v(r, g, b));
            assert!((16..=240).contains(&u) && (16..=240).contains(&v));
        }
        // Inverse clamps out-of-gamut YUV instead of wrapping.
        let mut px = [0u8; 3];
        put_rgb::<3, 0, 1, 2, 3>(&mut px, 255, chroma_terms(255, 255));
        assert_eq!(px[0], 255);
        put_rgb::<3, 0, 1, 2, 3>(&mut px, 0, chroma_terms(128, 128));
        assert_eq!(px, [0, 0, 0]);
        put_rgb::<3, 0, 1, 2, 3>(&mut px, 0, chroma_terms(0, 0));
        assert_eq!((px[0], px[2]), (0, 0));
    }

    #[test]
    fn every_rgb_value_round_trips_closely() {
        // Per pixel (no subsampling): the error is quantisation only.
        let mut worst = 0;
        for r in (0..256).step_by(5) {
            for g in (0..256).step_by(5) {
                for b in (0..256).step_by(5) {
                    let (y, u, v) = (rgb_to_y(r, g, b), rgb_to_u(r, g, b), rgb_to_v(r, g, b));
                    let mut px = [0u8; 3];
                    put_rgb::<3, 0, 1, 2, 3>(&mut px, y, chroma_terms(u, v));
                    for (a, e) in px.iter().zip([r, g, b]) {
                        worst = worst.max((*a as i32 - e).abs());
                    }
                }
            }
        }
        assert!(worst <= 3, "worst {worst}");
    }
}
