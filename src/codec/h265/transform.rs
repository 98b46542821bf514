//! Forward and inverse core transforms (8.6.4) and quantisation (8.6.2/8.6.3).

use std::sync::OnceLock;

const A: [i32; 33] = [
    64, 90, 90, 90, 89, 88, 87, 85, 83, 82, 80, 78, 75, 73, 70, 67, 64, 61, 57, 54, 50, 46, 43, 38,
    36, 31, 25, 22, 18, 13, 9, 4, 0,
];

pub const DST4: [[i32; 4]; 4] = [[29, 55, 74, 84], [74, 74, 0, -74], [84, -29, -74, 55], [55, -84, 74, -29]];

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
    M.get_or_init(|| [matrix(2, true), matrix(2, false), matrix(3, false), matrix(4, false), matrix(5, false)])
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
/// vectorisable over x).
fn fcols(src: &[i32], l: usize, wd: usize, dst: &mut [i32]) {
    let n = 1usize << l;
    let h = n / 2;
    let mut e = [0i32; 16 * 32];
    let mut o = [0i32; 16 * 32];
    for y in 0..h {
        let a = &src[y * wd..y * wd + wd];
        let b = &src[(n - 1 - y) * wd..(n - 1 - y) * wd + wd];
        let er = &mut e[y * wd..y * wd + wd];
        for x in 0..wd {
            er[x] = a[x] + b[x];
        }
        let or = &mut o[y * wd..y * wd + wd];
        for x in 0..wd {
            or[x] = a[x] - b[x];
        }
    }
    let od = odd_rows(l);
    for k in 0..h {
        let row = &mut dst[(2 * k + 1) * wd..(2 * k + 2) * wd];
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
    if l == 2 {
        for x in 0..wd {
            dst[x] = 64 * (e[x] + e[wd + x]);
            dst[2 * wd + x] = 64 * (e[x] - e[wd + x]);
        }
    } else {
        let mut ev = [0i32; 16 * 32];
        fcols(&e[..h * wd], l - 1, wd, &mut ev);
        for k in 0..h {
            dst[2 * k * wd..2 * k * wd + wd].copy_from_slice(&ev[k * wd..k * wd + wd]);
        }
    }
}

/// Inverse column transform: dst[i][x] = sum_k T_n[k][i] * src[k][x].
fn icols(src: &[i32], l: usize, wd: usize, dst: &mut [i32]) {
    let n = 1usize << l;
    let h = n / 2;
    let mut e = [0i32; 16 * 32];
    if l == 2 {
        for x in 0..wd {
            e[x] = 64 * (src[x] + src[2 * wd + x]);
            e[wd + x] = 64 * (src[x] - src[2 * wd + x]);
        }
    } else {
        let mut ein = [0i32; 16 * 32];
        for k in 0..h {
            ein[k * wd..k * wd + wd].copy_from_slice(&src[2 * k * wd..2 * k * wd + wd]);
        }
        icols(&ein[..h * wd], l - 1, wd, &mut e);
    }
    let od = odd_rows(l);
    let mut o = [0i32; 16 * 32];
    for k in 0..h {
        let srow = &src[(2 * k + 1) * wd..(2 * k + 2) * wd];
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
    for i in 0..h {
        for x in 0..wd {
            let a = e[i * wd + x];
            let b = o[i * wd + x];
            dst[i * wd + x] = a + b;
            dst[(n - 1 - i) * wd + x] = a - b;
        }
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

#[inline]
fn transpose(src: &[i32], dst: &mut [i32], n: usize) {
    for y in 0..n {
        for x in 0..n {
            dst[x * n + y] = src[y * n + x];
        }
    }
}

/// Forward transform of residual block (row-major, n x n) into coefficients (row-major: [y][x]).
pub fn forward(res: &[i16], coef: &mut [i32], l: usize, dst: bool) {
    let n = 1 << l;
    let shift1 = l as i32 - 1;
    let shift2 = l as i32 + 6;
    let r1 = 1 << (shift1 - 1);
    let r2 = 1 << (shift2 - 1);
    let mut t = [0i32; 1024];
    let mut a = [0i32; 1024];
    for y in 0..n {
        for x in 0..n {
            t[x * n + y] = res[y * n + x] as i32;
        }
    }
    // a[k][y] = sum_x T[k][x] res[y][x]
    if dst {
        dst_cols(&t[..16], &mut a[..16], false);
    } else {
        fcols(&t[..n * n], l, n, &mut a[..n * n]);
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
        fcols(&t[..n * n], l, n, &mut a[..n * n]);
    }
    for i in 0..n * n {
        coef[i] = (a[i] + r2) >> shift2;
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
    let mut e = [0i32; 1024];
    if dst {
        dst_cols(&coef[..16], &mut e[..16], true);
    } else {
        icols(&coef[..n * n], l, n, &mut e[..n * n]);
    }
    // g[y][x] = clip((e[y][x] + 64) >> 7); transpose to gt[x][y]
    let mut gt = [0i32; 1024];
    for y in 0..n {
        for x in 0..n {
            gt[x * n + y] = ((e[y * n + x] + 64) >> 7).clamp(-32768, 32767);
        }
    }
    // r[x][y] = sum_k T[k][x] g[y][k]
    if dst {
        dst_cols(&gt[..16], &mut e[..16], true);
    } else {
        icols(&gt[..n * n], l, n, &mut e[..n * n]);
    }
    for y in 0..n {
        for x in 0..n {
            res[y * n + x] = ((e[x * n + y] + 2048) >> 12) as i16;
        }
    }
}

const QUANT_SCALE: [i32; 6] = [26214, 23302, 20560, 18396, 16384, 14564];
const LEVEL_SCALE: [i32; 6] = [40, 45, 51, 57, 64, 72];

/// Quantise; returns number of nonzero levels. `intra` selects the rounding offset.
pub fn quant(coef: &[i32], level: &mut [i16], l: usize, qp: i32, intra: bool) -> u32 {
    let n = 1 << l;
    let qbits = (14 + qp / 6 + (7 - l as i32)) as u32;
    let scale = QUANT_SCALE[(qp % 6) as usize] as u32;
    let offset: u32 = (if intra { 171u32 } else { 85u32 }) << (qbits - 9);
    let mut nz = 0;
    for i in 0..n * n {
        let c = coef[i];
        let a = c.unsigned_abs().min(65535);
        let q = ((a * scale + offset) >> qbits).min(32767) as i16;
        level[i] = if c < 0 { -q } else { q };
        nz += (q != 0) as u32;
    }
    nz
}

/// Scaling (dequantisation) process (8.6.3) with flat scaling lists.
pub fn dequant(level: &[i16], coef: &mut [i32], l: usize, qp: i32) {
    let n = 1 << l;
    let bd_shift = l as i32 + 3;
    let scale = (16 * LEVEL_SCALE[(qp % 6) as usize]) as i64;
    let sh = qp / 6;
    let add = 1i64 << (bd_shift - 1);
    for i in 0..n * n {
        let v = level[i] as i64;
        coef[i] = if v == 0 {
            0
        } else {
            (((v * scale) << sh) + add >> bd_shift).clamp(-32768, 32767) as i32
        };
    }
}
