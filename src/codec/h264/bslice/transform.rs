//! Forward 4x4 integer transform and quantisation (the inverse of 8.5.12),
//! and the 2x2 chroma DC Hadamard. B pictures are never referenced, so the
//! encoder needs no reconstruction: only the levels.

use super::tables::{QUANT_CLASS, QUANT_MF};

/// Core transform Cf·X·Cfᵀ of a 4x4 residual in raster order.
pub fn fdct4(x: &[i32; 16]) -> [i32; 16] {
    let mut t = [0i32; 16];
    for i in 0..4 {
        let r = &x[i * 4..i * 4 + 4];
        let (s03, d03, s12, d12) = (r[0] + r[3], r[0] - r[3], r[1] + r[2], r[1] - r[2]);
        t[i * 4] = s03 + s12;
        t[i * 4 + 1] = 2 * d03 + d12;
        t[i * 4 + 2] = s03 - s12;
        t[i * 4 + 3] = d03 - 2 * d12;
    }
    let mut y = [0i32; 16];
    for j in 0..4 {
        let c = [t[j], t[4 + j], t[8 + j], t[12 + j]];
        let (s03, d03, s12, d12) = (c[0] + c[3], c[0] - c[3], c[1] + c[2], c[1] - c[2]);
        y[j] = s03 + s12;
        y[4 + j] = 2 * d03 + d12;
        y[8 + j] = s03 - s12;
        y[12 + j] = d03 - 2 * d12;
    }
    y
}

/// Quantises one coefficient with multiplier `mf`, shift `qbits`, and a
/// dead-zone rounding of a sixth of a step (the usual inter choice).
fn quant(c: i32, mf: i32, qbits: u32) -> i32 {
    let f = (1i64 << qbits) / 6;
    let l = ((i64::from(c.abs()) * i64::from(mf) + f) >> qbits) as i32;
    if c < 0 {
        -l
    } else {
        l
    }
}

/// Quantises a transformed 4x4 block at `qp`; `skip_dc` leaves position 0
/// alone (chroma AC, whose DC goes through the 2x2 transform).
pub fn quant4(y: &[i32; 16], qp: i32, skip_dc: bool) -> [i32; 16] {
    let qbits = 15 + (qp / 6) as u32;
    let mf = &QUANT_MF[(qp % 6) as usize];
    let mut out = [0i32; 16];
    for i in usize::from(skip_dc)..16 {
        out[i] = quant(y[i], mf[QUANT_CLASS[i]], qbits);
    }
    out
}

/// 2x2 Hadamard of the four chroma DC coefficients (raster order of the
/// 4x4 blocks) and their quantisation (8.5.11 inverted).
pub fn chroma_dc(dc: [i32; 4], qp: i32) -> [i32; 4] {
    let f = [
        dc[0] + dc[1] + dc[2] + dc[3],
        dc[0] - dc[1] + dc[2] - dc[3],
        dc[0] + dc[1] - dc[2] - dc[3],
        dc[0] - dc[1] - dc[2] + dc[3],
    ];
    let qbits = 16 + (qp / 6) as u32;
    let mf = QUANT_MF[(qp % 6) as usize][0];
    f.map(|c| quant(c, mf, qbits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_residual_has_only_dc() {
        let y = fdct4(&[5; 16]);
        assert_eq!(y[0], 80);
        assert!(y[1..].iter().all(|&c| c == 0));
        // At QP 28 (step 16) a DC of 80 · 8192 / 2^19 rounds to 1.
        assert_eq!(quant4(&y, 28, false)[0], 1);
    }
}
