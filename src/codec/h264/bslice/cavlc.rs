//! CAVLC residual_block() (7.3.5.3.2, 9.2), the encoder side.

use super::tables::{
    Code, COEFF_TOKEN_0, COEFF_TOKEN_2, COEFF_TOKEN_4, COEFF_TOKEN_CHROMA_DC, RUN_BEFORE,
    TOTAL_ZEROS, TOTAL_ZEROS_CHROMA_DC,
};
use crate::codec::h264::bits::BitWriter;

/// Largest level magnitude written: Main profile allows level_prefix up to 15,
/// whose 12-bit suffix reaches levelCode 4125 with suffixLength 0.
pub const MAX_LEVEL: i32 = 2063;

fn put(w: &mut BitWriter, c: Code) {
    w.put(u32::from(c.1), u32::from(c.0));
}

/// nC context: -1 for chroma DC, else from the neighbours' TotalCoeff.
fn coeff_token(nc: i32, total: usize, ones: usize) -> Code {
    match nc {
        -1 => COEFF_TOKEN_CHROMA_DC[total][ones],
        0..=1 => COEFF_TOKEN_0[total][ones],
        2..=3 => COEFF_TOKEN_2[total][ones],
        4..=7 => COEFF_TOKEN_4[total][ones],
        // nC >= 8: a 6-bit fixed-length code.
        _ if total == 0 => (6, 3),
        _ => (6, (((total - 1) << 2) | ones) as u16),
    }
}

/// nC from the TotalCoeff of the left and upper blocks (9.2.1).
pub fn nc(left: Option<u8>, up: Option<u8>) -> i32 {
    match (left, up) {
        (Some(a), Some(b)) => (i32::from(a) + i32::from(b) + 1) >> 1,
        (Some(a), None) => i32::from(a),
        (None, Some(b)) => i32::from(b),
        (None, None) => 0,
    }
}

/// Writes one level with the current suffixLength, returning the next suffixLength.
fn write_level(w: &mut BitWriter, level: i32, suffix_len: u32, first_after_ones: bool) -> u32 {
    let mut code = if level > 0 {
        2 * level - 2
    } else {
        -2 * level - 1
    } as u32;
    if first_after_ones {
        // The first level after fewer than three trailing ones cannot be ±1.
        code -= 2;
    }
    // level_prefix 0..13 (and 14 when suffixLength > 0) use suffixLength bits,
    // prefix 14 with suffixLength 0 a 4-bit suffix, prefix 15 a 12-bit one.
    let mut prefix = 0u32;
    let mut rest = code;
    loop {
        let size = match prefix {
            14 if suffix_len == 0 => 4,
            p if p >= 15 => p - 3,
            _ => suffix_len,
        };
        if rest < (1 << size) {
            w.put(0, prefix);
            w.put(1, 1);
            w.put(rest, size);
            break;
        }
        rest -= 1 << size;
        prefix += 1;
    }
    let mut next = suffix_len.max(1);
    if level.unsigned_abs() > (3 << (next - 1)) && next < 6 {
        next += 1;
    }
    next
}

/// Writes residual_block_cavlc for `coeffs` in scan order (maxNumCoeff =
/// coeffs.len(): 16, 15 or 4) with context `nc`. Returns TotalCoeff.
pub fn write_block(w: &mut BitWriter, coeffs: &[i32], nc: i32) -> u8 {
    let max = coeffs.len();
    // Nonzero levels from the highest frequency down, with their positions.
    let nz: Vec<(usize, i32)> = coeffs
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, &c)| c != 0)
        .map(|(i, &c)| (i, c.clamp(-MAX_LEVEL, MAX_LEVEL)))
        .collect();
    let total = nz.len();
    let ones = nz.iter().take(3).take_while(|(_, c)| c.abs() == 1).count();
    put(w, coeff_token(nc, total, ones));
    if total == 0 {
        return 0;
    }
    for &(_, c) in &nz[..ones] {
        w.flag(c < 0);
    }
    let mut suffix_len = u32::from(total > 10 && ones < 3);
    for (k, &(_, c)) in nz.iter().enumerate().skip(ones) {
        suffix_len = write_level(w, c, suffix_len, k == ones && ones < 3);
    }
    let last = nz[0].0;
    let mut zeros_left = last + 1 - total;
    if total < max {
        let table = if max == 4 {
            TOTAL_ZEROS_CHROMA_DC[total - 1]
        } else {
            TOTAL_ZEROS[total - 1]
        };
        put(w, table[zeros_left]);
    }
    for pair in nz.windows(2) {
        if zeros_left == 0 {
            break;
        }
        let run = pair[0].0 - pair[1].0 - 1;
        put(w, RUN_BEFORE[zeros_left.min(7) - 1][run]);
        zeros_left -= run;
    }
    total as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(coeffs: &[i32], nc: i32) -> String {
        let mut w = BitWriter::new();
        write_block(&mut w, coeffs, nc);
        let n = w.bits_written();
        let bytes = w.finish();
        (0..n)
            .map(|i| {
                if bytes[i / 8] >> (7 - i % 8) & 1 == 1 {
                    '1'
                } else {
                    '0'
                }
            })
            .collect()
    }

    #[test]
    fn the_standard_textbook_example() {
        // Richardson's example: 0,3,-1,0 / 0,-1,1,0 / 1,0,0,0 / 0... in zig-zag:
        // 0 3 0 1 -1 -1 0 1 0 0 0 0 0 0 0 0, nC = 0.
        let c = [0, 3, 0, 1, -1, -1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        // coeff_token(5, 3) = 0000100; signs + - - (0 1 1);
        // level 1 (suffixLength 0): 1; level 3 (suffixLength 1): 0010;
        // total_zeros 3 (TotalCoeff 5) = 111; run_before: 1 (zl 3) = 10,
        // 0 (zl 2) = 1, 0 (zl 2) = 1, 1 (zl 2) = 01.
        assert_eq!(bits(&c, 0), "000010001110010111101101");
    }
}
