//! Inter prediction: padded reference planes, fractional interpolation (8.5.3.3.3),
//! block distortion metrics and motion search.

use super::dsp::avx2_dispatch;
use super::tables::{CHROMA_FILTER, LUMA_FILTER};

/// A sample plane with a replicated border of `pad` samples on every side.
#[derive(Clone)]
pub struct Plane {
    pub data: Vec<u8>,
    pub stride: usize,
    pub w: usize,
    pub h: usize,
    pub pad: usize,
}

impl Plane {
    /// Like `from_tight`, reusing the allocation of `data`.
    pub fn from_tight_reuse(
        src: &[u8],
        w: usize,
        h: usize,
        pad: usize,
        mut data: Vec<u8>,
    ) -> Plane {
        let stride = w + 2 * pad;
        data.resize(stride * (h + 2 * pad), 0);
        for y in 0..h {
            let row = &src[y * w..y * w + w];
            let base = (y + pad) * stride;
            data[base + pad..base + pad + w].copy_from_slice(row);
            let l = row[0];
            let r = row[w - 1];
            for v in &mut data[base..base + pad] {
                *v = l;
            }
            for v in &mut data[base + pad + w..base + stride] {
                *v = r;
            }
        }
        for y in 0..pad {
            data.copy_within(pad * stride..(pad + 1) * stride, y * stride);
        }
        let last_row = (pad + h - 1) * stride;
        for y in pad + h..h + 2 * pad {
            data.copy_within(last_row..last_row + stride, y * stride);
        }
        Plane {
            data,
            stride,
            w,
            h,
            pad,
        }
    }
    #[inline]
    pub fn idx(&self, x: isize, y: isize) -> usize {
        ((y + self.pad as isize) as usize) * self.stride + (x + self.pad as isize) as usize
    }
    #[inline]
    pub fn inside(&self, x0: isize, y0: isize, x1: isize, y1: isize) -> bool {
        let p = self.pad as isize;
        x0 >= -p && y0 >= -p && x1 <= self.w as isize + p && y1 <= self.h as isize + p
    }
    #[inline]
    pub fn at_clamped(&self, x: isize, y: isize) -> u8 {
        let xc = x.clamp(0, self.w as isize - 1);
        let yc = y.clamp(0, self.h as isize - 1);
        self.data[self.idx(xc, yc)]
    }
}

#[inline]
fn clip8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Generic separable interpolation with `T` taps; `fx`/`fy` index the filter table.
/// Output is the final uni-prediction 8-bit sample (8.5.3.3.4.2 default weighting).
fn interp<const T: usize>(
    p: &Plane,
    xi: isize,
    yi: isize,
    w: usize,
    h: usize,
    fx: usize,
    fy: usize,
    coefs: &[[i32; T]],
    out: &mut [u8],
) {
    with_window::<T>(p, xi, yi, w, h, |src, st, base| {
        interp_src_dispatch::<T>(src, st, base, w, h, fx, fy, coefs, out)
    });
}

/// Calls `f(src, stride, base)` with the (w + T - 1) x (h + T - 1) source window a
/// `T`-tap filter reads around (xi, yi): the plane itself when the window lies inside its
/// padding, else a clamped copy (rare).
fn with_window<const T: usize>(
    p: &Plane,
    xi: isize,
    yi: isize,
    w: usize,
    h: usize,
    f: impl FnOnce(&[u8], usize, usize),
) {
    let half = (T / 2 - 1) as isize; // 3 for 8-tap, 1 for 4-tap
    let (ww, wh) = (w + T - 1, h + T - 1);
    let (x0, y0) = (xi - half, yi - half);
    if p.inside(x0, y0, x0 + ww as isize, y0 + wh as isize) {
        f(&p.data, p.stride, p.idx(x0, y0));
    } else {
        let mut local = [0u8; 40 * 40];
        for dy in 0..wh {
            for dx in 0..ww {
                local[dy * ww + dx] = p.at_clamped(x0 + dx as isize, y0 + dy as isize);
            }
        }
        f(&local, ww, 0);
    }
}

/// `interp_src` compiled for AVX2 when the CPU has it (identical results, see `dsp`).
fn interp_src_dispatch<const T: usize>(
    src: &[u8],
    st: usize,
    base: usize,
    w: usize,
    h: usize,
    fx: usize,
    fy: usize,
    coefs: &[[i32; T]],
    out: &mut [u8],
) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<const T: usize>(
            src: &[u8],
            st: usize,
            base: usize,
            w: usize,
            h: usize,
            fx: usize,
            fy: usize,
            coefs: &[[i32; T]],
            out: &mut [u8],
        ) {
            interp_src_w::<T>(src, st, base, w, h, fx, fy, coefs, out)
        }
        if super::dsp::has_avx2() {
            // SAFETY: `avx2` only needs the AVX2 instruction set, which the CPU was just
            // checked to support.
            return unsafe { avx2::<T>(src, st, base, w, h, fx, fy, coefs, out) };
        }
    }
    interp_src_w::<T>(src, st, base, w, h, fx, fy, coefs, out)
}

/// `interp_src` with the block width as a compile-time constant for the usual widths, so the
/// row loops vectorise without remainders.
#[inline(always)]
fn interp_src_w<const T: usize>(
    src: &[u8],
    st: usize,
    base: usize,
    w: usize,
    h: usize,
    fx: usize,
    fy: usize,
    coefs: &[[i32; T]],
    out: &mut [u8],
) {
    match w {
        4 => interp_src::<T, 4>(src, st, base, w, h, fx, fy, coefs, out),
        8 => interp_src::<T, 8>(src, st, base, w, h, fx, fy, coefs, out),
        16 => interp_src::<T, 16>(src, st, base, w, h, fx, fy, coefs, out),
        32 => interp_src::<T, 32>(src, st, base, w, h, fx, fy, coefs, out),
        _ => interp_src::<T, 0>(src, st, base, w, h, fx, fy, coefs, out),
    }
}

/// Interpolation from a source window whose top-left (x-half, y-half) is at `src[base]`.
/// `W` is the block width when known at compile time, 0 to use `w`.
#[inline(always)]
fn interp_src<const T: usize, const W: usize>(
    src: &[u8],
    st: usize,
    base: usize,
    w: usize,
    h: usize,
    fx: usize,
    fy: usize,
    coefs: &[[i32; T]],
    out: &mut [u8],
) {
    let w = if W > 0 { W } else { w };
    let half = (T / 2 - 1) as isize;
    let ww = w + T - 1;
    let wh = h + T - 1;
    let hs = half as usize;
    if fx == 0 && fy == 0 {
        for y in 0..h {
            let s = base + (y + hs) * st + hs;
            out[y * w..y * w + w].copy_from_slice(&src[s..s + w]);
        }
    } else if fy == 0 {
        let c = &coefs[fx];
        for y in 0..h {
            let row = &src[base + (y + hs) * st..base + (y + hs) * st + ww];
            let o = &mut out[y * w..y * w + w];
            let mut acc = [0i16; 32];
            for k in 0..T {
                let r = &row[k..k + w];
                let ck = c[k] as i16;
                for x in 0..w {
                    acc[x] = acc[x].wrapping_add(ck.wrapping_mul(r[x] as i16));
                }
            }
            for x in 0..w {
                o[x] = clip8((acc[x] as i32 + 32) >> 6);
            }
        }
    } else if fx == 0 {
        let c = &coefs[fy];
        for y in 0..h {
            let o = &mut out[y * w..y * w + w];
            let b0 = base + y * st + hs;
            let mut acc = [0i16; 32];
            for k in 0..T {
                let r = &src[b0 + k * st..b0 + k * st + w];
                let ck = c[k] as i16;
                for x in 0..w {
                    acc[x] = acc[x].wrapping_add(ck.wrapping_mul(r[x] as i16));
                }
            }
            for x in 0..w {
                o[x] = clip8((acc[x] as i32 + 32) >> 6);
            }
        }
    } else {
        let ch = &coefs[fx];
        let cv = &coefs[fy];
        // on the stack: a thread-local costs more than the few hundred bytes used per call
        let mut tmp_buf = [0i16; 32 * 40];
        {
            let tmp: &mut [i16] = &mut tmp_buf[..w * wh];
            for ty in 0..wh {
                let row = &src[base + ty * st..base + ty * st + ww];
                let t = &mut tmp[ty * w..ty * w + w];
                // 8-bit input: every partial sum fits in i16 (wrapping ops keep debug builds quiet)
                for v in t.iter_mut() {
                    *v = 0;
                }
                for k in 0..T {
                    let r = &row[k..k + w];
                    let ck = ch[k] as i16;
                    for x in 0..w {
                        t[x] = t[x].wrapping_add(ck.wrapping_mul(r[x] as i16));
                    }
                }
            }
            for y in 0..h {
                let o = &mut out[y * w..y * w + w];
                let mut acc = [0i32; 32];
                for k in 0..T {
                    let t = &tmp[(y + k) * w..(y + k) * w + w];
                    let ck = cv[k];
                    for x in 0..w {
                        acc[x] += ck * t[x] as i32;
                    }
                }
                for x in 0..w {
                    o[x] = clip8(((acc[x] >> 6) + 32) >> 6);
                }
            }
        }
    }
}

/// Luma motion compensation for a block at (x,y) of size w x h, mv in quarter samples.
pub fn mc_luma(p: &Plane, x: i32, y: i32, w: usize, h: usize, mv: (i32, i32), out: &mut [u8]) {
    let xi = (x + (mv.0 >> 2)) as isize;
    let yi = (y + (mv.1 >> 2)) as isize;
    interp::<8>(
        p,
        xi,
        yi,
        w,
        h,
        (mv.0 & 3) as usize,
        (mv.1 & 3) as usize,
        &LUMA_FILTER,
        out,
    );
}

/// Chroma motion compensation; (x,y,w,h) in chroma samples, mv is the luma mv (1/8 chroma units).
pub fn mc_chroma(p: &Plane, x: i32, y: i32, w: usize, h: usize, mv: (i32, i32), out: &mut [u8]) {
    let xi = (x + (mv.0 >> 3)) as isize;
    let yi = (y + (mv.1 >> 3)) as isize;
    interp::<4>(
        p,
        xi,
        yi,
        w,
        h,
        (mv.0 & 7) as usize,
        (mv.1 & 7) as usize,
        &CHROMA_FILTER,
        out,
    );
}

#[inline(always)]
fn sad_w<const W: usize>(a: &[u8], astride: usize, b: &[u8], bstride: usize, h: usize) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(s) = super::dsp::sad_sse2::<W>(a, astride, b, bstride, h) {
        return s;
    }
    let mut s = 0u32;
    for y in 0..h {
        let ra: &[u8; W] = match a[y * astride..y * astride + W].try_into() {
            Ok(r) => r,
            Err(_) => return u32::MAX,
        };
        let rb: &[u8; W] = match b[y * bstride..y * bstride + W].try_into() {
            Ok(r) => r,
            Err(_) => return u32::MAX,
        };
        let mut t = 0u32;
        for x in 0..W {
            t += ra[x].abs_diff(rb[x]) as u32;
        }
        s += t;
    }
    s
}

avx2_dispatch!(pub fn sad => sad_body(a: &[u8], astride: usize, b: &[u8], bstride: usize, w: usize, h: usize) -> u32);

#[inline(always)]
fn sad_body(a: &[u8], astride: usize, b: &[u8], bstride: usize, w: usize, h: usize) -> u32 {
    match w {
        32 => sad_w::<32>(a, astride, b, bstride, h),
        16 => sad_w::<16>(a, astride, b, bstride, h),
        8 => sad_w::<8>(a, astride, b, bstride, h),
        _ => {
            let mut s = 0u32;
            for y in 0..h {
                let ra = &a[y * astride..y * astride + w];
                let rb = &b[y * bstride..y * bstride + w];
                s += ra
                    .iter()
                    .zip(rb)
                    .map(|(&p, &q)| p.abs_diff(q) as u32)
                    .sum::<u32>();
            }
            s
        }
    }
}

#[inline(always)]
fn satd4x4(d: &[i32; 16]) -> u32 {
    let mut m = [0i32; 16];
    for i in 0..4 {
        let a0 = d[i * 4] + d[i * 4 + 3];
        let a1 = d[i * 4 + 1] + d[i * 4 + 2];
        let a2 = d[i * 4 + 1] - d[i * 4 + 2];
        let a3 = d[i * 4] - d[i * 4 + 3];
        m[i * 4] = a0 + a1;
        m[i * 4 + 2] = a0 - a1;
        m[i * 4 + 1] = a3 + a2;
        m[i * 4 + 3] = a3 - a2;
    }
    let mut s = 0u32;
    for j in 0..4 {
        let a0 = m[j] + m[12 + j];
        let a1 = m[4 + j] + m[8 + j];
        let a2 = m[4 + j] - m[8 + j];
        let a3 = m[j] - m[12 + j];
        s += ((a0 + a1).abs() + (a0 - a1).abs() + (a3 + a2).abs() + (a3 - a2).abs()) as u32;
    }
    s
}

#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
#[inline(always)]
fn had8_rows(m: &mut [[i32; 8]; 8]) {
    // 8-point Hadamard across rows (element-wise over the 8 columns)
    for (a, b) in [(0, 4), (1, 5), (2, 6), (3, 7)] {
        let (x, y) = (m[a], m[b]);
        for i in 0..8 {
            m[a][i] = x[i] + y[i];
            m[b][i] = x[i] - y[i];
        }
    }
    for (a, b) in [(0, 2), (1, 3), (4, 6), (5, 7)] {
        let (x, y) = (m[a], m[b]);
        for i in 0..8 {
            m[a][i] = x[i] + y[i];
            m[b][i] = x[i] - y[i];
        }
    }
    for (a, b) in [(0, 1), (2, 3), (4, 5), (6, 7)] {
        let (x, y) = (m[a], m[b]);
        for i in 0..8 {
            m[a][i] = x[i] + y[i];
            m[b][i] = x[i] - y[i];
        }
    }
}

#[inline(always)]
fn satd8x8(a: &[u8], astride: usize, b: &[u8], bstride: usize) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        super::dsp::satd8x8_sse2(a, astride, b, bstride)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        satd8x8_scalar(a, astride, b, bstride)
    }
}

/// Portable 8x8 SATD; on x86-64 only the reference of `dsp::satd8x8_sse2`'s test.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
#[inline(always)]
pub(super) fn satd8x8_scalar(a: &[u8], astride: usize, b: &[u8], bstride: usize) -> u32 {
    let mut m = [[0i32; 8]; 8];
    for y in 0..8 {
        let ra = &a[y * astride..y * astride + 8];
        let rb = &b[y * bstride..y * bstride + 8];
        for x in 0..8 {
            m[y][x] = ra[x] as i32 - rb[x] as i32;
        }
    }
    had8_rows(&mut m);
    let mut t = [[0i32; 8]; 8];
    for y in 0..8 {
        for x in 0..8 {
            t[x][y] = m[y][x];
        }
    }
    had8_rows(&mut t);
    let mut sum = 0u32;
    for r in t.iter() {
        for &v in r.iter() {
            sum += v.unsigned_abs();
        }
    }
    (sum + 2) >> 2
}

avx2_dispatch!(
    /// Hadamard SATD (8x8 blocks when possible, 4x4 otherwise).
    pub fn satd => satd_body(a: &[u8], astride: usize, b: &[u8], bstride: usize, w: usize, h: usize) -> u32
);

#[inline(always)]
fn satd_body(a: &[u8], astride: usize, b: &[u8], bstride: usize, w: usize, h: usize) -> u32 {
    let mut s = 0;
    if (w | h) & 7 == 0 {
        for by in (0..h).step_by(8) {
            for bx in (0..w).step_by(8) {
                s += satd8x8(
                    &a[by * astride + bx..],
                    astride,
                    &b[by * bstride + bx..],
                    bstride,
                );
            }
        }
    } else {
        for by in (0..h).step_by(4) {
            for bx in (0..w).step_by(4) {
                let mut d = [0i32; 16];
                for y in 0..4 {
                    for x in 0..4 {
                        d[y * 4 + x] = a[(by + y) * astride + bx + x] as i32
                            - b[(by + y) * bstride + bx + x] as i32;
                    }
                }
                s += (satd4x4(&d) + 1) >> 1;
            }
        }
    }
    s
}

/// Approximate bits for one mvd component (quarter units).
#[inline]
pub fn mvd_bits(d: i32) -> u32 {
    let a = d.unsigned_abs();
    if a == 0 {
        1
    } else {
        let l = 32 - (a + 1).leading_zeros();
        2 * l + 1
    }
}

pub struct SearchParams {
    pub range: i32,
    pub lambda: u32, // cost per bit (SAD units, <<4 fixed point)
    pub subpel_square: bool,
    pub use_sad: bool,
    pub coarse: bool,
}

/// Motion search for a w x h luma block at (x,y). `src` points at the block (stride sstride).
/// Returns best mv in quarter-sample units and its cost (SATD + lambda*bits).
pub fn motion_search(
    src: &[u8],
    sstride: usize,
    p: &Plane,
    hp: &[Plane; 3],
    x: i32,
    y: i32,
    w: usize,
    h: usize,
    mvp: (i32, i32),
    starts: &[(i32, i32)],
    sp: &SearchParams,
    buf: &mut Vec<u8>,
) -> ((i32, i32), u32) {
    let lam = sp.lambda;
    let bits_cost =
        |mv: (i32, i32)| -> u32 { (lam * (mvd_bits(mv.0 - mvp.0) + mvd_bits(mv.1 - mvp.1))) >> 4 };
    // integer mv limits so the 8-tap window stays inside the padded plane
    let pad = p.pad as i32;
    let minx = -pad + 4 - x;
    let maxx = p.w as i32 + pad - 5 - w as i32 - x;
    let miny = -pad + 4 - y;
    let maxy = p.h as i32 + pad - 5 - h as i32 - y;
    let lim = |v: (i32, i32)| -> (i32, i32) { (v.0.clamp(minx, maxx), v.1.clamp(miny, maxy)) };
    let int_cost = |mvi: (i32, i32)| -> u32 {
        let idx = p.idx((x + mvi.0) as isize, (y + mvi.1) as isize);
        sad(src, sstride, &p.data[idx..], p.stride, w, h) + bits_cost((mvi.0 * 4, mvi.1 * 4))
    };
    let mut best = lim(((mvp.0 + 2) >> 2, (mvp.1 + 2) >> 2));
    let mut best_cost = int_cost(best);
    for &s in starts {
        let c = lim(((s.0 + 2) >> 2, (s.1 + 2) >> 2));
        if c != best {
            let cc = int_cost(c);
            if cc < best_cost {
                best_cost = cc;
                best = c;
            }
        }
    }
    let center0 = best;
    // coarse multi-scale probe for large motion
    const DIRS: [(i32, i32); 8] = [
        (-1, 0),
        (1, 0),
        (0, -1),
        (0, 1),
        (-1, -1),
        (1, -1),
        (-1, 1),
        (1, 1),
    ];
    // at speed 2 (SAD metric) a predictor that already matches (under 2 per sample, mv bits
    // included) makes the coarse probe for large motion pointless
    let coarse = sp.coarse && (!sp.use_sad || best_cost as usize >= 2 * w * h);
    for d in [16, 8, 4] {
        if d > sp.range * 2 || !coarse {
            continue;
        }
        let c = best;
        for &(dx, dy) in DIRS.iter() {
            let cand = lim((c.0 + dx * d, c.1 + dy * d));
            if cand == c {
                continue;
            }
            let cc = int_cost(cand);
            if cc < best_cost {
                best_cost = cc;
                best = cand;
            }
        }
    }
    // hexagon search
    const HEX: [(i32, i32); 6] = [(-2, 0), (-1, -2), (1, -2), (2, 0), (1, 2), (-1, 2)];
    // at speed 2 the walk stops after range/2 steps (the coarse probe and the predictors
    // cover large motion)
    let steps = if sp.use_sad { sp.range / 2 } else { sp.range };
    for _ in 0..steps {
        let c = best;
        let mut improved = false;
        for d in HEX.iter() {
            let cand = lim((c.0 + d.0, c.1 + d.1));
            if (cand.0 - center0.0).abs() > sp.range * 6
                || (cand.1 - center0.1).abs() > sp.range * 6
            {
                continue;
            }
            let cc = int_cost(cand);
            if cc < best_cost {
                best_cost = cc;
                best = cand;
                improved = true;
            }
        }
        if !improved {
            break;
        }
    }
    // square refinement
    let c = best;
    for dy in -1..=1 {
        for dx in -1..=1 {
            if dx == 0 && dy == 0 {
                continue;
            }
            let cand = lim((c.0 + dx, c.1 + dy));
            let cc = int_cost(cand);
            if cc < best_cost {
                best_cost = cc;
                best = cand;
            }
        }
    }
    // sub-pel refinement: half-sample positions from precomputed planes, quarter-sample
    // positions approximated by averaging (exact prediction is rebuilt by the caller).
    let bits_q =
        |mv: (i32, i32)| -> u32 { (lam * (mvd_bits(mv.0 - mvp.0) + mvd_bits(mv.1 - mvp.1))) >> 4 };
    let view = |mv: (i32, i32)| -> (&[u8], usize) {
        let pl = plane_for(p, hp, mv).unwrap_or(p);
        let i = pl.idx((x + (mv.0 >> 2)) as isize, (y + (mv.1 >> 2)) as isize);
        (&pl.data[i..], pl.stride)
    };
    let metric = |a: &[u8], sa: usize, b: &[u8], sb: usize| -> u32 {
        if sp.use_sad {
            sad(a, sa, b, sb, w, h)
        } else {
            satd(a, sa, b, sb, w, h)
        }
    };
    let mut bq = (best.0 * 4, best.1 * 4);
    let (v0, s0) = view(bq);
    let mut bc = metric(src, sstride, v0, s0) + bits_q(bq);
    const CROSS: [(i32, i32); 4] = [(-1, 0), (1, 0), (0, -1), (0, 1)];
    const SQUARE: [(i32, i32); 8] = [
        (-1, 0),
        (1, 0),
        (0, -1),
        (0, 1),
        (-1, -1),
        (1, -1),
        (-1, 1),
        (1, 1),
    ];
    let pat: &[(i32, i32)] = if sp.subpel_square { &SQUARE } else { &CROSS };
    let in_range =
        |c: (i32, i32)| c.0 >= minx * 4 && c.0 <= maxx * 4 && c.1 >= miny * 4 && c.1 <= maxy * 4;
    let c = bq;
    for &(dx, dy) in pat {
        let cand = (c.0 + dx * 2, c.1 + dy * 2);
        if !in_range(cand) {
            continue;
        }
        let (v, s) = view(cand);
        let cc = metric(src, sstride, v, s) + bits_q(cand);
        if cc < bc {
            bc = cc;
            bq = cand;
        }
    }
    buf.resize(w * h, 0);
    let c = bq;
    for &(dx, dy) in pat {
        let cand = (c.0 + dx, c.1 + dy);
        let far = (c.0 + dx * 2, c.1 + dy * 2);
        if !in_range(cand) || !in_range(far) {
            continue;
        }
        let (va, sa) = view(c);
        let (vb, sb) = view(far);
        for r in 0..h {
            let ra = &va[r * sa..r * sa + w];
            let rb = &vb[r * sb..r * sb + w];
            let o = &mut buf[r * w..r * w + w];
            for ((d, &p), &q) in o.iter_mut().zip(ra).zip(rb) {
                *d = ((p as u16 + q as u16 + 1) >> 1) as u8;
            }
        }
        let cc = metric(src, sstride, buf, w) + bits_q(cand);
        if cc < bc {
            bc = cc;
            bq = cand;
        }
    }
    (bq, bc)
}

avx2_dispatch!(
    /// Half-sample planes of a reference luma plane: [H (2,0), V (0,2), HV (2,2)], same geometry.
    /// Values are exact HEVC uni-prediction samples except within 4 samples of the padded border.
    pub fn half_planes => half_planes_body(p: &Plane, old: Vec<Vec<u8>>, tmp: &mut Vec<i16>) -> [Plane; 3]
);

// (closures, including the spawned job, inherit the AVX2 target feature of the wrapper)
#[inline(always)]
fn half_planes_body(p: &Plane, mut old: Vec<Vec<u8>>, tmp: &mut Vec<i16>) -> [Plane; 3] {
    let st = p.stride;
    let rows = p.data.len() / st;
    let mut mk = || {
        let mut d = old.pop().unwrap_or_default();
        d.resize(p.data.len(), 0);
        Plane {
            data: d,
            stride: st,
            w: p.w,
            h: p.h,
            pad: p.pad,
        }
    };
    let (mut hp, mut vp, mut hvp) = (mk(), mk(), mk());
    let src = &p.data;
    // Two row bands, one on a spawned thread; every output row belongs to exactly one band.
    // Each band runs in strips of STRIP rows so that the unrounded 16-bit horizontal rows the
    // HV plane filters vertically stay in cache (a strip recomputes the 7 rows it shares with
    // its neighbour). Their first 3 and last 4 columns are never written and stay 0, as the
    // HV filter of the border columns expects.
    const STRIP: usize = 32;
    let tlen = (STRIP + 7) * st;
    tmp.clear();
    tmp.resize(2 * tlen, 0);
    let mid = rows / 2;
    let band = |y0: usize, y1: usize, t: &mut [i16], h: &mut [u8], v: &mut [u8], hv: &mut [u8]| {
        let mut s0 = y0;
        while s0 < y1 {
            let s1 = (s0 + STRIP).min(y1);
            for y in s0..s1 {
                let o = (y - y0) * st;
                hp_row_h(&src[y * st..y * st + st], &mut h[o + 3..o + st - 4]);
            }
            // V and HV rows exist for 3 <= y < rows - 4
            let (a, b) = (s0.max(3), s1.min(rows - 4));
            if a < b {
                for r in a - 3..b + 4 {
                    let o = (r + 3 - a) * st;
                    hp_row_h16(&src[r * st..r * st + st], &mut t[o + 3..o + st - 4]);
                }
                for y in a..b {
                    let o = (y - y0) * st;
                    hp_row_v(&src[(y - 3) * st..(y + 5) * st], st, &mut v[o..o + st]);
                    let tr = &t[(y - a) * st..(y - a + 8) * st];
                    hp_row_hv(tr, st, &mut hv[o..o + st]);
                }
            }
            s0 = s1;
        }
    };
    std::thread::scope(|s| {
        let (t0, t1) = tmp.split_at_mut(tlen);
        let (h0, h1) = hp.data.split_at_mut(mid * st);
        let (v0, v1) = vp.data.split_at_mut(mid * st);
        let (hv0, hv1) = hvp.data.split_at_mut(mid * st);
        let a = s.spawn(move || band(0, mid, t0, h0, v0, hv0));
        band(mid, rows, t1, h1, v1, hv1);
        let _ = a.join();
    });
    [hp, vp, hvp]
}

// Rows of the half-sample planes. The half-sample filter [-1, 4, -11, 40, 40, -11, 4, -1]
// (LUMA_FILTER[2]) is symmetric, so each output takes four multiplies by constants on pair
// sums; 8-bit input keeps every sum of the one-dimensional passes inside i16.

/// Horizontal half-sample filter on 8-bit input, unrounded (t.len() = r.len() - 7).
#[inline(always)]
fn hp_h16(r: &[u8], x: usize) -> i16 {
    let p = |k: usize| r[x + k] as i16 + r[x + 7 - k] as i16;
    40 * p(3) - 11 * p(2) + 4 * p(1) - p(0)
}

avx2_dispatch!(fn hp_row_h16 => hp_row_h16_body(r: &[u8], t: &mut [i16]));

#[inline(always)]
fn hp_row_h16_body(r: &[u8], t: &mut [i16]) {
    let r = &r[..t.len() + 7];
    for (x, v) in t.iter_mut().enumerate() {
        *v = hp_h16(r, x);
    }
}

avx2_dispatch!(fn hp_row_h => hp_row_h_body(r: &[u8], o: &mut [u8]));

/// Horizontal half-sample row (o.len() = r.len() - 7).
#[inline(always)]
fn hp_row_h_body(r: &[u8], o: &mut [u8]) {
    let r = &r[..o.len() + 7];
    for (x, v) in o.iter_mut().enumerate() {
        *v = clip8((hp_h16(r, x) as i32 + 32) >> 6);
    }
}

avx2_dispatch!(fn hp_row_v => hp_row_v_body(r: &[u8], st: usize, o: &mut [u8]));

/// Vertical half-sample row from the 8 source rows starting at `r` (stride `st`).
#[inline(always)]
fn hp_row_v_body(r: &[u8], st: usize, o: &mut [u8]) {
    let w = o.len();
    let rk: [&[u8]; 8] = std::array::from_fn(|k| &r[k * st..k * st + w]);
    for x in 0..w {
        let p = |k: usize| rk[k][x] as i16 + rk[7 - k][x] as i16;
        let v = 40 * p(3) - 11 * p(2) + 4 * p(1) - p(0);
        o[x] = clip8((v as i32 + 32) >> 6);
    }
}

avx2_dispatch!(fn hp_row_hv => hp_row_hv_body(t: &[i16], st: usize, o: &mut [u8]));

/// Vertical pass over 8 rows of horizontal intermediates (i16, stride `st`) for the HV plane.
#[inline(always)]
fn hp_row_hv_body(t: &[i16], st: usize, o: &mut [u8]) {
    let w = o.len();
    let tk: [&[i16]; 8] = std::array::from_fn(|k| &t[k * st..k * st + w]);
    for x in 0..w {
        let p = |k: usize| tk[k][x] as i32 + tk[7 - k][x] as i32;
        let v = 40 * p(3) - 11 * p(2) + 4 * p(1) - p(0);
        o[x] = clip8(((v >> 6) + 32) >> 6);
    }
}

/// Returns the plane holding samples for a quarter-sample mv whose fractions are 0 or 2.
#[inline]
pub fn plane_for<'a>(y: &'a Plane, hp: &'a [Plane; 3], mv: (i32, i32)) -> Option<&'a Plane> {
    match (mv.0 & 3, mv.1 & 3) {
        (0, 0) => Some(y),
        (2, 0) => Some(&hp[0]),
        (0, 2) => Some(&hp[1]),
        (2, 2) => Some(&hp[2]),
        _ => None,
    }
}

// ---------------- bi-prediction (8.5.3.3.4.2 default weighted sample prediction) ----------------

/// 14-bit intermediate prediction samples (predSamplesLX of 8.5.3.3.3.1/2 for 8-bit video:
/// shift1 = 0, shift2 = 6, full-sample positions scaled by << 6), for bi-prediction.
fn interp16<const T: usize>(
    p: &Plane,
    xi: isize,
    yi: isize,
    w: usize,
    h: usize,
    fx: usize,
    fy: usize,
    coefs: &[[i32; T]],
    out: &mut [i16],
) {
    with_window::<T>(p, xi, yi, w, h, |src, st, base| {
        interp16_src::<T>(src, st, base, w, h, fx, fy, coefs, out)
    });
}

fn interp16_src<const T: usize>(
    src: &[u8],
    st: usize,
    base: usize,
    w: usize,
    h: usize,
    fx: usize,
    fy: usize,
    coefs: &[[i32; T]],
    out: &mut [i16],
) {
    let hs = T / 2 - 1;
    let tap = |o: usize, step: usize, c: &[i32; T]| -> i32 {
        let mut a = 0;
        for k in 0..T {
            a += c[k] * src[o + k * step] as i32;
        }
        a
    };
    if fy == 0 {
        for y in 0..h {
            let row = base + (y + hs) * st;
            for x in 0..w {
                out[y * w + x] = if fx == 0 {
                    (src[row + x + hs] as i16) << 6
                } else {
                    tap(row + x, 1, &coefs[fx]) as i16
                };
            }
        }
    } else if fx == 0 {
        for y in 0..h {
            for x in 0..w {
                out[y * w + x] = tap(base + y * st + x + hs, st, &coefs[fy]) as i16;
            }
        }
    } else {
        let wh = h + T - 1;
        let mut tmp = [0i32; 40 * 32];
        for ty in 0..wh {
            for x in 0..w {
                tmp[ty * w + x] = tap(base + ty * st + x, 1, &coefs[fx]);
            }
        }
        let cv = &coefs[fy];
        for y in 0..h {
            for x in 0..w {
                let mut a = 0;
                for k in 0..T {
                    a += cv[k] * tmp[(y + k) * w + x];
                }
                out[y * w + x] = (a >> 6) as i16;
            }
        }
    }
}

/// Luma 14-bit intermediate prediction of a w x h block at (x,y), mv in quarter samples.
pub fn mc_luma16(p: &Plane, x: i32, y: i32, w: usize, h: usize, mv: (i32, i32), out: &mut [i16]) {
    let xi = (x + (mv.0 >> 2)) as isize;
    let yi = (y + (mv.1 >> 2)) as isize;
    let (fx, fy) = ((mv.0 & 3) as usize, (mv.1 & 3) as usize);
    interp16::<8>(p, xi, yi, w, h, fx, fy, &LUMA_FILTER, out);
}

/// Chroma 14-bit intermediate prediction; (x,y,w,h) in chroma samples, mv is the luma mv.
pub fn mc_chroma16(p: &Plane, x: i32, y: i32, w: usize, h: usize, mv: (i32, i32), out: &mut [i16]) {
    let xi = (x + (mv.0 >> 3)) as isize;
    let yi = (y + (mv.1 >> 3)) as isize;
    let (fx, fy) = ((mv.0 & 7) as usize, (mv.1 & 7) as usize);
    interp16::<4>(p, xi, yi, w, h, fx, fy, &CHROMA_FILTER, out);
}

/// Default weighted bi-prediction: (a + b + offset2) >> shift2 with shift2 = 7 (8-bit video).
pub fn bi_average(a: &[i16], b: &[i16], out: &mut [u8]) {
    for ((o, &p), &q) in out.iter_mut().zip(a).zip(b) {
        *o = clip8((p as i32 + q as i32 + 64) >> 7);
    }
}

/// Rounded average of two 8-bit predictions: the bi-prediction estimate used while searching.
pub fn avg_u8(a: &[u8], b: &[u8], out: &mut [u8]) {
    for ((o, &p), &q) in out.iter_mut().zip(a).zip(b) {
        *o = ((p as u16 + q as u16 + 1) >> 1) as u8;
    }
}

/// Cheap stand-in for `mc_luma` when only a distortion estimate is needed: quarter-sample
/// positions are the rounded average of the two nearest half-sample-grid predictions (read
/// from the precomputed half planes), as in the sub-pel stage of `motion_search`. Returns
/// false (and leaves `out` alone) when the block is too close to the padded border.
pub fn approx_pred(
    p: &Plane,
    hp: &[Plane; 3],
    x: usize,
    y: usize,
    n: usize,
    mv: (i32, i32),
    out: &mut [u8],
) -> bool {
    let a = (mv.0 & !1, mv.1 & !1);
    let b = ((mv.0 + 1) & !1, (mv.1 + 1) & !1);
    let view = |m: (i32, i32)| -> Option<(&[u8], usize)> {
        let pl = plane_for(p, hp, m)?;
        let xi = x as isize + (m.0 >> 2) as isize;
        let yi = y as isize + (m.1 >> 2) as isize;
        let lim = pl.pad as isize - 4;
        if xi < -lim
            || yi < -lim
            || xi + n as isize > pl.w as isize + lim
            || yi + n as isize > pl.h as isize + lim
        {
            return None;
        }
        Some((&pl.data[pl.idx(xi, yi)..], pl.stride))
    };
    let (Some((va, sa)), Some((vb, sb))) = (view(a), view(b)) else {
        return false;
    };
    for r in 0..n {
        let ra = &va[r * sa..r * sa + n];
        let rb = &vb[r * sb..r * sb + n];
        let o = &mut out[r * n..r * n + n];
        for ((d, &p), &q) in o.iter_mut().zip(ra).zip(rb) {
            *d = ((p as u16 + q as u16 + 1) >> 1) as u8;
        }
    }
    true
}
