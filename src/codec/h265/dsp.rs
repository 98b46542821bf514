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
