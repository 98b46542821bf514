//! Quantisation (encoder side, dead-zone rounding) and the scaling process (8.6.3).

const QUANT_SCALE: [i32; 6] = [26214, 23302, 20560, 18396, 16384, 14564];
const LEVEL_SCALE: [i32; 6] = [40, 45, 51, 57, 64, 72];

use super::dsp::avx2_dispatch;

avx2_dispatch!(
    /// Quantise; returns number of nonzero levels. `intra` selects the rounding offset.
    pub fn quant => quant_sized(coef: &[i32], level: &mut [i16], l: usize, qp: i32, intra: bool) -> u32
);

#[inline(always)]
fn quant_sized(coef: &[i32], level: &mut [i16], l: usize, qp: i32, intra: bool) -> u32 {
    match l {
        2 => quant_in(coef, level, 2, qp, intra),
        3 => quant_in(coef, level, 3, qp, intra),
        4 => quant_in(coef, level, 4, qp, intra),
        5 => quant_in(coef, level, 5, qp, intra),
        _ => quant_in(coef, level, l, qp, intra),
    }
}

#[inline(always)]
fn quant_in(coef: &[i32], level: &mut [i16], l: usize, qp: i32, intra: bool) -> u32 {
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

avx2_dispatch!(
    /// Scaling (dequantisation) process (8.6.3) with flat scaling lists.
    pub fn dequant => dequant_sized(level: &[i16], coef: &mut [i32], l: usize, qp: i32)
);

#[inline(always)]
fn dequant_sized(level: &[i16], coef: &mut [i32], l: usize, qp: i32) {
    match l {
        2 => dequant_in(level, coef, 2, qp),
        3 => dequant_in(level, coef, 3, qp),
        4 => dequant_in(level, coef, 4, qp),
        5 => dequant_in(level, coef, 5, qp),
        _ => dequant_in(level, coef, l, qp),
    }
}

#[inline(always)]
fn dequant_in(level: &[i16], coef: &mut [i32], l: usize, qp: i32) {
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
