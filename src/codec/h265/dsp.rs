//! CPU dispatch for the encoder's integer kernels.
//!
//! The kernels (SAD/SATD/SSE, interpolation, transforms, quantisation, intra prediction) are
//! written once as plain Rust `#[inline(always)]` bodies. Each public entry point runs that
//! body either as compiled for the baseline target or inside a `#[target_feature(enable =
//! "avx2")]` wrapper, chosen at run time. All arithmetic is integer, so both builds give
//! bit-identical results: only the instruction selection differs (x86-64's baseline SSE2
//! has no 32-bit lane multiply and 128-bit vectors only).

/// True when the running CPU has AVX2 (cached by the standard library after the first call).
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `$name` (same signature as `$body`) that calls `$body` compiled with AVX2 when the
/// CPU has it and as baseline code otherwise. `$body` must be `#[inline(always)]` so that it is
/// compiled into the AVX2 wrapper.
macro_rules! avx2_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident => $body:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)?) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if $crate::codec::h265::dsp::has_avx2() {
                    // SAFETY: `avx2` only needs the AVX2 instruction set, which the CPU was
                    // just checked to support.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;

/// Calls `$f::<N>(args)` for the block sizes 4..32 and `$f::<0>` (size taken from the
/// arguments) otherwise, so each size gets loops with constant trip counts.
macro_rules! by_size {
    ($n:expr, $f:ident ( $($a:expr),* )) => {
        match $n {
            4 => $f::<4>($($a),*),
            8 => $f::<8>($($a),*),
            16 => $f::<16>($($a),*),
            32 => $f::<32>($($a),*),
            _ => $f::<0>($($a),*),
        }
    };
}
pub(crate) use by_size;

avx2_dispatch!(
    /// Sum of squared differences of a w x h block.
    pub fn sse => sse_sized(a: &[u8], astride: usize, b: &[u8], bstride: usize, w: usize, h: usize) -> u64
);

#[inline(always)]
fn sse_sized(a: &[u8], astride: usize, b: &[u8], bstride: usize, w: usize, h: usize) -> u64 {
    if w == h {
        by_size!(w, sse_n(a, astride, b, bstride, w, h))
    } else {
        sse_n::<0>(a, astride, b, bstride, w, h)
    }
}

#[inline(always)]
fn sse_n<const N: usize>(
    a: &[u8],
    astride: usize,
    b: &[u8],
    bstride: usize,
    w: usize,
    h: usize,
) -> u64 {
    let (w, h) = if N > 0 { (N, N) } else { (w, h) };
    let mut s = 0u64;
    for y in 0..h {
        let ra = &a[y * astride..y * astride + w];
        let rb = &b[y * bstride..y * bstride + w];
        let mut t = 0u32;
        for x in 0..w {
            let d = ra[x] as i32 - rb[x] as i32;
            t += (d * d) as u32;
        }
        s += t as u64;
    }
    s
}

avx2_dispatch!(
    /// res = src - pred for an n x n block (`pred` and `res` packed with stride n); returns
    /// the sum of absolute residuals.
    pub fn residual => residual_sized(src: &[u8], sstride: usize, pred: &[u8], n: usize, res: &mut [i16]) -> u32
);

#[inline(always)]
fn residual_sized(src: &[u8], sstride: usize, pred: &[u8], n: usize, res: &mut [i16]) -> u32 {
    by_size!(n, residual_n(src, sstride, pred, n, res))
}

#[inline(always)]
fn residual_n<const N: usize>(
    src: &[u8],
    sstride: usize,
    pred: &[u8],
    n: usize,
    res: &mut [i16],
) -> u32 {
    let n = if N > 0 { N } else { n };
    let mut sad = 0u32;
    for r in 0..n {
        let s = &src[r * sstride..r * sstride + n];
        let p = &pred[r * n..r * n + n];
        let o = &mut res[r * n..r * n + n];
        for c in 0..n {
            let d = s[c] as i16 - p[c] as i16;
            o[c] = d;
            sad += d.unsigned_abs() as u32;
        }
    }
    sad
}

avx2_dispatch!(
    /// dst = clip(pred + res) for an n x n block (`pred`, `res` packed with stride n).
    pub fn reconstruct => reconstruct_sized(pred: &[u8], res: &[i16], n: usize, dst: &mut [u8], dstride: usize)
);

#[inline(always)]
fn reconstruct_sized(pred: &[u8], res: &[i16], n: usize, dst: &mut [u8], dstride: usize) {
    by_size!(n, reconstruct_n(pred, res, n, dst, dstride))
}

#[inline(always)]
fn reconstruct_n<const N: usize>(
    pred: &[u8],
    res: &[i16],
    n: usize,
    dst: &mut [u8],
    dstride: usize,
) {
    let n = if N > 0 { N } else { n };
    for r in 0..n {
        let p = &pred[r * n..r * n + n];
        let q = &res[r * n..r * n + n];
        let o = &mut dst[r * dstride..r * dstride + n];
        for c in 0..n {
            // saturating: identical to a wide add before the clamp
            o[c] = (p[c] as i16).saturating_add(q[c]).clamp(0, 255) as u8;
        }
    }
}

/// 8x8 Hadamard SATD, (sum + 2) >> 2, in 16-bit lanes (SSE2, part of the x86-64 baseline).
/// Bit-identical to `inter::satd8x8_scalar`: after both 8-point passes a difference block of
/// 8-bit samples stays within +-64 * 255, so no lane overflows.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn satd8x8_sse2(a: &[u8], astride: usize, b: &[u8], bstride: usize) -> u32 {
    use std::arch::x86_64::*;
    // the slices must hold the whole block (panics like the scalar version otherwise)
    let a = &a[..7 * astride + 8];
    let b = &b[..7 * bstride + 8];
    #[inline(always)]
    unsafe fn bfly(r: &mut [__m128i; 8], pairs: [(usize, usize); 4]) {
        for (i, j) in pairs {
            let (x, y) = (r[i], r[j]);
            r[i] = _mm_add_epi16(x, y);
            r[j] = _mm_sub_epi16(x, y);
        }
    }
    #[inline(always)]
    unsafe fn had8(r: &mut [__m128i; 8]) {
        bfly(r, [(0, 4), (1, 5), (2, 6), (3, 7)]);
        bfly(r, [(0, 2), (1, 3), (4, 6), (5, 7)]);
        bfly(r, [(0, 1), (2, 3), (4, 5), (6, 7)]);
    }
    // SAFETY: SSE2 is part of the x86-64 baseline, so every intrinsic here is supported;
    // the two loads per row read 8 bytes at i * stride for i < 8, inside the slices checked
    // above, and `_mm_loadl_epi64` has no alignment requirement.
    unsafe {
        let z = _mm_setzero_si128();
        let mut r = [z; 8];
        for (i, v) in r.iter_mut().enumerate() {
            let pa = _mm_loadl_epi64(a.as_ptr().add(i * astride) as *const __m128i);
            let pb = _mm_loadl_epi64(b.as_ptr().add(i * bstride) as *const __m128i);
            *v = _mm_sub_epi16(_mm_unpacklo_epi8(pa, z), _mm_unpacklo_epi8(pb, z));
        }
        had8(&mut r);
        // transpose 8x8 of i16
        let t0 = _mm_unpacklo_epi16(r[0], r[1]);
        let t1 = _mm_unpackhi_epi16(r[0], r[1]);
        let t2 = _mm_unpacklo_epi16(r[2], r[3]);
        let t3 = _mm_unpackhi_epi16(r[2], r[3]);
        let t4 = _mm_unpacklo_epi16(r[4], r[5]);
        let t5 = _mm_unpackhi_epi16(r[4], r[5]);
        let t6 = _mm_unpacklo_epi16(r[6], r[7]);
        let t7 = _mm_unpackhi_epi16(r[6], r[7]);
        let u0 = _mm_unpacklo_epi32(t0, t2);
        let u1 = _mm_unpackhi_epi32(t0, t2);
        let u2 = _mm_unpacklo_epi32(t1, t3);
        let u3 = _mm_unpackhi_epi32(t1, t3);
        let u4 = _mm_unpacklo_epi32(t4, t6);
        let u5 = _mm_unpackhi_epi32(t4, t6);
        let u6 = _mm_unpacklo_epi32(t5, t7);
        let u7 = _mm_unpackhi_epi32(t5, t7);
        r = [
            _mm_unpacklo_epi64(u0, u4),
            _mm_unpackhi_epi64(u0, u4),
            _mm_unpacklo_epi64(u1, u5),
            _mm_unpackhi_epi64(u1, u5),
            _mm_unpacklo_epi64(u2, u6),
            _mm_unpackhi_epi64(u2, u6),
            _mm_unpacklo_epi64(u3, u7),
            _mm_unpackhi_epi64(u3, u7),
        ];
        had8(&mut r);
        let ones = _mm_set1_epi16(1);
        let mut acc = z;
        for v in r {
            let abs = _mm_max_epi16(v, _mm_sub_epi16(z, v));
            acc = _mm_add_epi32(acc, _mm_madd_epi16(abs, ones));
        }
        let acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0b01_00_11_10));
        let acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0b10_11_00_01));
        let sum = _mm_cvtsi128_si32(acc) as u32;
        (sum + 2) >> 2
    }
}

/// SAD of a W x h block (W = 8, 16 or 32) with `psadbw`, the row sums kept in vector lanes
/// until the end. None when the slices are too short for the block (the caller's scalar
/// path then reports it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn sad_sse2<const W: usize>(
    a: &[u8],
    astride: usize,
    b: &[u8],
    bstride: usize,
    h: usize,
) -> Option<u32> {
    use std::arch::x86_64::*;
    if h == 0 {
        return Some(0);
    }
    if W & 7 != 0 || a.len() < (h - 1) * astride + W || b.len() < (h - 1) * bstride + W {
        return None;
    }
    // SAFETY: SSE2 is part of the x86-64 baseline; every load reads W bytes (8 or a multiple
    // of 16) at y * stride + x for y < h, which the length checks above keep inside the
    // slices; the unaligned-load intrinsics have no alignment requirement.
    unsafe {
        let mut acc = _mm_setzero_si128();
        for y in 0..h {
            let pa = a.as_ptr().add(y * astride);
            let pb = b.as_ptr().add(y * bstride);
            if W == 8 {
                let va = _mm_loadl_epi64(pa as *const __m128i);
                let vb = _mm_loadl_epi64(pb as *const __m128i);
                acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
            } else {
                let mut x = 0;
                while x < W {
                    let va = _mm_loadu_si128(pa.add(x) as *const __m128i);
                    let vb = _mm_loadu_si128(pb.add(x) as *const __m128i);
                    acc = _mm_add_epi64(acc, _mm_sad_epu8(va, vb));
                    x += 16;
                }
            }
        }
        let hi = _mm_unpackhi_epi64(acc, acc);
        Some(_mm_cvtsi128_si64(_mm_add_epi64(acc, hi)) as u32)
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    /// The SSE2 SAD equals the scalar sum for every width and a few heights.
    #[test]
    fn sad_sse2_matches_scalar() {
        let mut seed = 777u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        let a: Vec<u8> = (0..40 * 40).map(|_| rnd()).collect();
        let b: Vec<u8> = (0..40 * 40).map(|_| rnd()).collect();
        let scalar = |w: usize, h: usize| -> u32 {
            (0..h)
                .map(|y| {
                    (0..w)
                        .map(|x| a[y * 40 + x].abs_diff(b[y * 39 + x]) as u32)
                        .sum::<u32>()
                })
                .sum()
        };
        for h in [1, 8, 16, 32] {
            assert_eq!(super::sad_sse2::<8>(&a, 40, &b, 39, h), Some(scalar(8, h)));
            assert_eq!(
                super::sad_sse2::<16>(&a, 40, &b, 39, h),
                Some(scalar(16, h))
            );
            assert_eq!(
                super::sad_sse2::<32>(&a, 40, &b, 39, h),
                Some(scalar(32, h))
            );
        }
        assert_eq!(super::sad_sse2::<32>(&a[..100], 40, &b, 39, 8), None);
    }

    /// The SSE2 SATD equals the scalar one on random and extreme blocks.
    #[test]
    fn satd8x8_sse2_matches_scalar() {
        let mut seed = 12345u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        };
        for case in 0..200 {
            let (sa, sb) = (8 + case % 5, 8 + case % 7);
            let mut a: Vec<u8> = (0..sa * 8).map(|_| rnd()).collect();
            let mut b: Vec<u8> = (0..sb * 8).map(|_| rnd()).collect();
            if case % 10 == 0 {
                a.iter_mut().for_each(|v| *v = 255);
                b.iter_mut().for_each(|v| *v = 0);
            }
            assert_eq!(
                super::satd8x8_sse2(&a, sa, &b, sb),
                super::super::inter::satd8x8_scalar(&a, sa, &b, sb)
            );
        }
    }
}
