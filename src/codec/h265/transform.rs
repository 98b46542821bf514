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

/// dst[k] = sum_i T_n[k][i] * src[i] (partial butterfly).
fn fdct1d(src: &[i32], dst: &mut [i32], l: usize) {
    let n = 1 << l;
    let h = n / 2;
    let mut e = [0i32; 16];
    let mut o = [0i32; 16];
    for i in 0..h {
        e[i] = src[i] + src[n - 1 - i];
        o[i] = src[i] - src[n - 1 - i];
    }
    let od = odd_rows(l);
    for k in 0..h {
        let row = &od[k * h..k * h + h];
        let mut s = 0i32;
        for i in 0..h {
            s += row[i] * o[i];
        }
        dst[2 * k + 1] = s;
    }
    if l == 2 {
        dst[0] = 64 * (e[0] + e[1]);
        dst[2] = 64 * (e[0] - e[1]);
    } else {
        let mut ev = [0i32; 16];
        fdct1d(&e[..h], &mut ev[..h], l - 1);
        for k in 0..h {
            dst[2 * k] = ev[k];
        }
    }
}

/// dst[i] = sum_k T_n[k][i] * src[k] (partial butterfly).
fn idct1d(src: &[i32], dst: &mut [i32], l: usize) {
    let n = 1 << l;
    let h = n / 2;
    let mut ev_in = [0i32; 16];
    let mut e = [0i32; 16];
    for k in 0..h {
        ev_in[k] = src[2 * k];
    }
    if l == 2 {
        e[0] = 64 * (ev_in[0] + ev_in[1]);
        e[1] = 64 * (ev_in[0] - ev_in[1]);
    } else {
        idct1d(&ev_in[..h], &mut e[..h], l - 1);
    }
    let od = odd_rows(l);
    let mut o = [0i32; 16];
    for k in 0..h {
        let x = src[2 * k + 1];
        if x != 0 {
            let row = &od[k * h..k * h + h];
            for i in 0..h {
                o[i] += row[i] * x;
            }
        }
    }
    for i in 0..h {
        dst[i] = e[i] + o[i];
        dst[n - 1 - i] = e[i] - o[i];
    }
}

fn dst1d_fwd(src: &[i32], dst: &mut [i32]) {
    for k in 0..4 {
        dst[k] = DST4[k][0] * src[0] + DST4[k][1] * src[1] + DST4[k][2] * src[2] + DST4[k][3] * src[3];
    }
}

fn dst1d_inv(src: &[i32], dst: &mut [i32]) {
    for i in 0..4 {
        dst[i] = DST4[0][i] * src[0] + DST4[1][i] * src[1] + DST4[2][i] * src[2] + DST4[3][i] * src[3];
    }
}

/// Forward transform of residual block (row-major, n x n) into coefficients (row-major: [y][x]).
pub fn forward(res: &[i16], coef: &mut [i32], l: usize, dst: bool) {
    let n = 1 << l;
    let shift1 = l as i32 - 1;
    let shift2 = l as i32 + 6;
    let r1 = 1 << (shift1 - 1);
    let r2 = 1 << (shift2 - 1);
    // tmp is stored transposed: tmp[k][y]
    let mut tmp = [0i32; 32 * 32];
    let mut a = [0i32; 32];
    let mut b = [0i32; 32];
    for y in 0..n {
        for x in 0..n {
            a[x] = res[y * n + x] as i32;
        }
        if dst {
            dst1d_fwd(&a, &mut b);
        } else {
            fdct1d(&a[..n], &mut b[..n], l);
        }
        for k in 0..n {
            tmp[k * n + y] = (b[k] + r1) >> shift1;
        }
    }
    for x in 0..n {
        let col = &tmp[x * n..x * n + n];
        if dst {
            dst1d_fwd(col, &mut b);
        } else {
            fdct1d(col, &mut b[..n], l);
        }
        for k in 0..n {
            coef[k * n + x] = (b[k] + r2) >> shift2;
        }
    }
}

/// Inverse transform: coefficients [y][x] (already scaled) -> residual [y][x].
pub fn inverse(coef: &[i32], res: &mut [i16], l: usize, dst: bool) {
    let n = 1 << l;
    let mut g = [0i32; 32 * 32]; // g[y][x]
    let mut a = [0i32; 32];
    let mut b = [0i32; 32];
    let mut any = false;
    for x in 0..n {
        let mut nz = false;
        for k in 0..n {
            a[k] = coef[k * n + x];
            nz |= a[k] != 0;
        }
        if !nz {
            continue;
        }
        any = true;
        if dst {
            dst1d_inv(&a, &mut b);
        } else {
            idct1d(&a[..n], &mut b[..n], l);
        }
        for y in 0..n {
            g[y * n + x] = ((b[y] + 64) >> 7).clamp(-32768, 32767);
        }
    }
    if !any {
        for v in res[..n * n].iter_mut() {
            *v = 0;
        }
        return;
    }
    for y in 0..n {
        let row = &g[y * n..y * n + n];
        if dst {
            dst1d_inv(row, &mut b);
        } else {
            idct1d(row, &mut b[..n], l);
        }
        for x in 0..n {
            res[y * n + x] = ((b[x] + 2048) >> 12) as i16;
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
