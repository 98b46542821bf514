//! Forward and inverse core transforms (8.6.4): partial-butterfly DCT 4..32 and 4x4 DST.

use std::sync::OnceLock;

use super::dsp::avx2_dispatch;

const A: [i32; 33] = [
    64, 90, 90, 90, 89, 88, 87, 85, 83, 82, 80, 78, 75, 73, 70, 67, 64, 61, 57, 54, 50, 46, 43, 38,
    36, 31, 25, 22, 18, 13, 9, 4, 0,
];

pub const DST4: [[i32; 4]; 4] = [
    [29, 55, 74, 84],
    [74, 74, 0, -74],
    [84, -29, -74, 55],
    [55, -84, 74, -29],
];

fn t32() -> &'static [[i32; 32]; 32] {
    static T: OnceLock<[[i32; 32]; 32]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [[0i32; 32]; 32];
        for k in 0..32 {
            for n in 0..32 {
                t[k][n] = if k == 0 {
                    64
                } else {
                    let m = ((2 * n + 1) * k) % 128;
                    if m <= 32 {
                        A[m]
                    } else if m <= 64 {
                        -A[64 - m]
                    } else if m <= 96 {
                        -A[m - 64]
                    } else {
                        A[128 - m]
                    }
                };
            }
        }
        t
    })
}

/// Basis matrix entry: coefficient k, sample n, for an N-point transform (log2 n = l).
#[inline]
fn mat(l: usize) -> impl Fn(usize, usize) -> i32 {
    let t = t32();
    let step = 32 >> l;
    move |k, n| t[k * step][n]
}

/// Builds a dense NxN matrix (row = basis function) for size 1<<l, or DST if dst.
pub fn matrix(l: usize, dst: bool) -> Vec<i32> {
    let n = 1 << l;
    let mut m = vec![0i32; n * n];
    if dst {
        for k in 0..4 {
            for i in 0..4 {
                m[k * 4 + i] = DST4[k][i];
            }
        }
    } else {
        let f = mat(l);
        for k in 0..n {
            for i in 0..n {
                m[k * n + i] = f(k, i);
            }
        }
    }
    m
}

fn matrices() -> &'static [Vec<i32>; 5] {
    static M: OnceLock<[Vec<i32>; 5]> = OnceLock::new();
    M.get_or_init(|| {
        [
            matrix(2, true),
            matrix(2, false),
            matrix(3, false),
            matrix(4, false),
            matrix(5, false),
        ]
    })
}

#[inline]
fn get_mat(l: usize, dst: bool) -> &'static [i32] {
    let m = matrices();
    if dst {
        &m[0]
    } else {
        &m[l - 1]
    }
}

/// Odd-row basis table for an n-point DCT: odd[k][i] = T_n[2k+1][i], i < n/2.
fn odd_rows(l: usize) -> &'static [i32] {
    static O: OnceLock<[Vec<i32>; 6]> = OnceLock::new();
    let o = O.get_or_init(|| {
        let mut v: [Vec<i32>; 6] = Default::default();
        for l in 2..=5usize {
            let n = 1 << l;
            let m = get_mat(l, false);
            let h = n / 2;
            let mut t = vec![0i32; h * h];
            for k in 0..h {
                for i in 0..h {
                    t[k * h + i] = m[(2 * k + 1) * n + i];
                }
            }
            v[l] = t;
        }
        v
    });
    &o[l]
}

/// Column transform: dst[k][x] = sum_y T_n[k][y] * src[y][x] for x < wd (partial butterfly,
/// vectorisable over x). Iterative over the butterfly levels (the even half of level n is the
/// n/2-point transform, whose rows land on every second output row) so that it can be inlined
/// into the size-specialised callers.
/// With `LOW`, only the output rows below n/2 are computed (the others are left untouched).
#[inline(always)]
fn fcols<const LOW: bool>(src: &[i32], l: usize, wd: usize, dst: &mut [i32], scr: &mut [i32]) {
    let n = 1usize << l;
    let (mut ea, rest) = scr.split_at_mut(n / 2 * wd);
    let (mut eb, rest) = rest.split_at_mut(n / 2 * wd);
    let o = &mut rest[..n / 2 * wd];
    let mut lev = l;
    let mut step = 1;
    let mut first = true;
    loop {
        let m = 1usize << lev;
        let h = m / 2;
        {
            let input: &[i32] = if first { src } else { &*ea };
            let e = &mut eb[..h * wd];
            for y in 0..h {
                let a = &input[y * wd..y * wd + wd];
                let b = &input[(m - 1 - y) * wd..(m - 1 - y) * wd + wd];
                let er = &mut e[y * wd..y * wd + wd];
                for x in 0..wd {
                    er[x] = a[x] + b[x];
                }
                let or = &mut o[y * wd..y * wd + wd];
                for x in 0..wd {
                    or[x] = a[x] - b[x];
                }
            }
        }
        std::mem::swap(&mut ea, &mut eb);
        first = false;
        let od = odd_rows(lev);
        // odd row (2k+1)*step < n/2 <=> k < m/4
        let kmax = if LOW { h / 2 } else { h };
        for k in 0..kmax {
            let r0 = (2 * k + 1) * step * wd;
            let row = &mut dst[r0..r0 + wd];
            for v in row.iter_mut() {
                *v = 0;
            }
            for y in 0..h {
                let c = od[k * h + y];
                let orow = &o[y * wd..y * wd + wd];
                for x in 0..wd {
                    row[x] += c * orow[x];
                }
            }
        }
        if lev == 2 {
            let r2 = 2 * step * wd;
            for x in 0..wd {
                dst[x] = 64 * (ea[x] + ea[wd + x]);
                if !LOW {
                    dst[r2 + x] = 64 * (ea[x] - ea[wd + x]);
                }
            }
            return;
        }
        lev -= 1;
        step *= 2;
    }
}

/// Inverse column transform: dst[i][x] = sum_k T_n[k][i] * src[k][x]. Iterative from the
/// 4-point core outwards: level m reads source rows j * (n / m).
#[inline(always)]
fn icols(src: &[i32], l: usize, wd: usize, dst: &mut [i32], scr: &mut [i32]) {
    let n = 1usize << l;
    let (mut ea, rest) = scr.split_at_mut(n / 2 * wd);
    let (mut eb, rest) = rest.split_at_mut(n / 2 * wd);
    let o = &mut rest[..n / 2 * wd];
    // 4-point even part: rows 0 and n/2
    let r2 = n / 2 * wd;
    for x in 0..wd {
        ea[x] = 64 * (src[x] + src[r2 + x]);
        ea[wd + x] = 64 * (src[x] - src[r2 + x]);
    }
    for lev in 2..=l {
        let m = 1usize << lev;
        let h = m / 2;
        let step = n / m;
        let od = odd_rows(lev);
        for v in o[..h * wd].iter_mut() {
            *v = 0;
        }
        for k in 0..h {
            let r0 = (2 * k + 1) * step * wd;
            let srow = &src[r0..r0 + wd];
            if srow.iter().all(|&v| v == 0) {
                continue;
            }
            for i in 0..h {
                let c = od[k * h + i];
                let orow = &mut o[i * wd..i * wd + wd];
                for x in 0..wd {
                    orow[x] += c * srow[x];
                }
            }
        }
        let out: &mut [i32] = if lev == l { &mut *dst } else { &mut *eb };
        for i in 0..h {
            for x in 0..wd {
                let a = ea[i * wd + x];
                let b = o[i * wd + x];
                out[i * wd + x] = a + b;
                out[(m - 1 - i) * wd + x] = a - b;
            }
        }
        std::mem::swap(&mut ea, &mut eb);
    }
}

fn dst_cols(src: &[i32], dst: &mut [i32], inverse: bool) {
    for k in 0..4 {
        for x in 0..4 {
            let mut s = 0;
            for y in 0..4 {
                let m = if inverse { DST4[y][k] } else { DST4[k][y] };
                s += m * src[y * 4 + x];
            }
            dst[k * 4 + x] = s;
        }
    }
}

/// Forward transform of residual block (row-major, n x n) into coefficients (row-major: [y][x]).
pub fn forward(res: &[i16], coef: &mut [i32], l: usize, dst: bool) {
    with_scratch(|t, a, scr| forward_any(res, coef, l, dst, t, a, scr));
}

/// The thread's scratch buffers: two 32x32 blocks and the rest.
fn with_scratch(f: impl FnOnce(&mut [i32], &mut [i32], &mut [i32])) {
    SCRATCH.with(|c| {
        let mut g = c.borrow_mut();
        if g.len() < SCRATCH_LEN {
            g.resize(SCRATCH_LEN, 0);
        }
        let (first, rest) = g.split_at_mut(1024);
        let (second, scr) = rest.split_at_mut(1024);
        f(first, second, scr);
    })
}

avx2_dispatch!(fn forward_any => forward_sized(res: &[i16], coef: &mut [i32], l: usize, dst: bool, t: &mut [i32], a: &mut [i32], scr: &mut [i32]));

/// `forward_in` with the block size as a constant, so every loop has a fixed trip count.
#[inline(always)]
fn forward_sized(
    res: &[i16],
    coef: &mut [i32],
    l: usize,
    dst: bool,
    t: &mut [i32],
    a: &mut [i32],
    scr: &mut [i32],
) {
    match (l, dst) {
        (2, true) => forward_in(res, coef, 2, true, t, a, scr),
        (2, false) => forward_in(res, coef, 2, false, t, a, scr),
        (3, _) => forward_in(res, coef, 3, dst, t, a, scr),
        (4, _) => forward_in(res, coef, 4, dst, t, a, scr),
        (5, _) => forward_in(res, coef, 5, dst, t, a, scr),
        _ => forward_in(res, coef, l, dst, t, a, scr),
    }
}

const SCRATCH_LEN: usize = 8192;

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<i32>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[inline(always)]
fn forward_in(
    res: &[i16],
    coef: &mut [i32],
    l: usize,
    dst: bool,
    t: &mut [i32],
    a: &mut [i32],
    scr: &mut [i32],
) {
    let n = 1 << l;
    let shift1 = l as i32 - 1;
    let shift2 = l as i32 + 6;
    let r1 = 1 << (shift1 - 1);
    let r2 = 1 << (shift2 - 1);
    for y in 0..n {
        for x in 0..n {
            t[x * n + y] = res[y * n + x] as i32;
        }
    }
    // a[k][y] = sum_x T[k][x] res[y][x]
    if dst {
        dst_cols(&t[..16], &mut a[..16], false);
    } else {
        fcols::<false>(&t[..n * n], l, n, &mut a[..n * n], scr);
    }
    // b[y][k] = (a[k][y] + r1) >> shift1
    for k in 0..n {
        for y in 0..n {
            t[y * n + k] = (a[k * n + y] + r1) >> shift1;
        }
    }
    if dst {
        dst_cols(&t[..16], &mut a[..16], false);
    } else {
        fcols::<false>(&t[..n * n], l, n, &mut a[..n * n], scr);
    }
    for i in 0..n * n {
        coef[i] = (a[i] + r2) >> shift2;
    }
}

/// Forward 32x32 transform keeping only the 16x16 lowest frequencies (the rest are zero): the
/// speed level 2 choice for inter residuals, whose energy sits in the low band (and a CU whose
/// residual has much high-frequency energy is better coded split). Costs about 40 % of the
/// full transform.
pub fn forward32_low(res: &[i16], coef: &mut [i32]) {
    with_scratch(|t, a, scr| forward32_low_any(res, coef, t, a, scr));
}

avx2_dispatch!(fn forward32_low_any => forward32_low_in(res: &[i16], coef: &mut [i32], t: &mut [i32], a: &mut [i32], scr: &mut [i32]));

#[inline(always)]
fn forward32_low_in(res: &[i16], coef: &mut [i32], t: &mut [i32], a: &mut [i32], scr: &mut [i32]) {
    const N: usize = 32;
    const H: usize = 16;
    let (shift1, shift2) = (4, 11);
    let (r1, r2) = (1 << (shift1 - 1), 1 << (shift2 - 1));
    let res = &res[..N * N];
    for y in 0..N {
        for x in 0..N {
            t[x * N + y] = res[y * N + x] as i32;
        }
    }
    // a[k][y] for k < 16
    fcols::<true>(&t[..N * N], 5, N, &mut a[..N * N], scr);
    // b[y][k], k < 16, packed with stride 16
    for k in 0..H {
        for y in 0..N {
            t[y * H + k] = (a[k * N + y] + r1) >> shift1;
        }
    }
    fcols::<true>(&t[..N * H], 5, H, &mut a[..N * H], scr);
    let coef = &mut coef[..N * N];
    coef.fill(0);
    for k2 in 0..H {
        for k in 0..H {
            coef[k2 * N + k] = (a[k2 * H + k] + r2) >> shift2;
        }
    }
}

/// Inverse transform: coefficients [y][x] (already scaled) -> residual [y][x].
pub fn inverse(coef: &[i32], res: &mut [i16], l: usize, dst: bool) {
    let n = 1 << l;
    if coef[..n * n].iter().all(|&v| v == 0) {
        for v in res[..n * n].iter_mut() {
            *v = 0;
        }
        return;
    }
    with_scratch(|e, gt, scr| inverse_any(coef, res, l, dst, e, gt, scr));
}

avx2_dispatch!(fn inverse_any => inverse_sized(coef: &[i32], res: &mut [i16], l: usize, dst: bool, e: &mut [i32], gt: &mut [i32], scr: &mut [i32]));

/// `inverse_in` with the block size as a constant (see `forward_sized`).
#[inline(always)]
fn inverse_sized(
    coef: &[i32],
    res: &mut [i16],
    l: usize,
    dst: bool,
    e: &mut [i32],
    gt: &mut [i32],
    scr: &mut [i32],
) {
    match (l, dst) {
        (2, true) => inverse_in(coef, res, 2, true, e, gt, scr),
        (2, false) => inverse_in(coef, res, 2, false, e, gt, scr),
        (3, _) => inverse_in(coef, res, 3, dst, e, gt, scr),
        (4, _) => inverse_in(coef, res, 4, dst, e, gt, scr),
        (5, _) => inverse_in(coef, res, 5, dst, e, gt, scr),
        _ => inverse_in(coef, res, l, dst, e, gt, scr),
    }
}

#[inline(always)]
fn inverse_in(
    coef: &[i32],
    res: &mut [i16],
    l: usize,
    dst: bool,
    e: &mut [i32],
    gt: &mut [i32],
    scr: &mut [i32],
) {
    let n = 1 << l;
    {
        if dst {
            dst_cols(&coef[..16], &mut e[..16], true);
        } else {
            icols(&coef[..n * n], l, n, &mut e[..n * n], scr);
        }
        // g[y][x] = clip((e[y][x] + 64) >> 7), stored transposed
        for y in 0..n {
            for x in 0..n {
                gt[x * n + y] = ((e[y * n + x] + 64) >> 7).clamp(-32768, 32767);
            }
        }
        if dst {
            dst_cols(&gt[..16], &mut e[..16], true);
        } else {
            icols(&gt[..n * n], l, n, &mut e[..n * n], scr);
        }
        for y in 0..n {
            for x in 0..n {
                res[y * n + x] = ((e[x * n + y] + 2048) >> 12) as i16;
            }
        }
    }
}
