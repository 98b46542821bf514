//! Tables of H.264 (ITU-T H.264 (08/2021)) used by the B slice writer, as data.
//! Variable-length codes are written as the standard prints them, bit strings.

/// A code as (length, value), from a bit string such as "0001 01".
pub type Code = (u8, u16);

const fn code(s: &str) -> Code {
    let b = s.as_bytes();
    let mut i = 0;
    let mut len = 0u8;
    let mut v = 0u16;
    while i < b.len() {
        if b[i] == b'0' || b[i] == b'1' {
            v = (v << 1) | (b[i] - b'0') as u16;
            len += 1;
        }
        i += 1;
    }
    (len, v)
}

/// No code: a TrailingOnes value above TotalCoeff.
const NO: Code = (0, 0);

/// coeff_token (Table 9-5) as [TotalCoeff][TrailingOnes] for 0 <= nC < 2.
pub const COEFF_TOKEN_0: [[Code; 4]; 17] = [
    [code("1"), NO, NO, NO],
    [code("000101"), code("01"), NO, NO],
    [code("00000111"), code("000100"), code("001"), NO],
    [
        code("000000111"),
        code("00000110"),
        code("0000101"),
        code("00011"),
    ],
    [
        code("0000000111"),
        code("000000110"),
        code("00000101"),
        code("000011"),
    ],
    [
        code("00000000111"),
        code("0000000110"),
        code("000000101"),
        code("0000100"),
    ],
    [
        code("0000000001111"),
        code("00000000110"),
        code("0000000101"),
        code("00000100"),
    ],
    [
        code("0000000001011"),
        code("0000000001110"),
        code("00000000101"),
        code("000000100"),
    ],
    [
        code("0000000001000"),
        code("0000000001010"),
        code("0000000001101"),
        code("0000000100"),
    ],
    [
        code("00000000001111"),
        code("00000000001110"),
        code("0000000001001"),
        code("00000000100"),
    ],
    [
        code("00000000001011"),
        code("00000000001010"),
        code("00000000001101"),
        code("0000000001100"),
    ],
    [
        code("000000000001111"),
        code("000000000001110"),
        code("00000000001001"),
        code("00000000001100"),
    ],
    [
        code("000000000001011"),
        code("000000000001010"),
        code("000000000001101"),
        code("00000000001000"),
    ],
    [
        code("0000000000001111"),
        code("000000000000001"),
        code("000000000001001"),
        code("000000000001100"),
    ],
    [
        code("0000000000001011"),
        code("0000000000001110"),
        code("0000000000001101"),
        code("000000000001000"),
    ],
    [
        code("0000000000000111"),
        code("0000000000001010"),
        code("0000000000001001"),
        code("0000000000001100"),
    ],
    [
        code("0000000000000100"),
        code("0000000000000110"),
        code("0000000000000101"),
        code("0000000000001000"),
    ],
];

/// coeff_token for 2 <= nC < 4.
pub const COEFF_TOKEN_2: [[Code; 4]; 17] = [
    [code("11"), NO, NO, NO],
    [code("001011"), code("10"), NO, NO],
    [code("000111"), code("00111"), code("011"), NO],
    [
        code("0000111"),
        code("001010"),
        code("001001"),
        code("0101"),
    ],
    [
        code("00000111"),
        code("000110"),
        code("000101"),
        code("0100"),
    ],
    [
        code("00000100"),
        code("0000110"),
        code("0000101"),
        code("00110"),
    ],
    [
        code("000000111"),
        code("00000110"),
        code("00000101"),
        code("001000"),
    ],
    [
        code("00000001111"),
        code("000000110"),
        code("000000101"),
        code("000100"),
    ],
    [
        code("00000001011"),
        code("00000001110"),
        code("00000001101"),
        code("0000100"),
    ],
    [
        code("000000001111"),
        code("00000001010"),
        code("00000001001"),
        code("000000100"),
    ],
    [
        code("000000001011"),
        code("000000001110"),
        code("000000001101"),
        code("00000001100"),
    ],
    [
        code("000000001000"),
        code("000000001010"),
        code("000000001001"),
        code("00000001000"),
    ],
    [
        code("0000000001111"),
        code("0000000001110"),
        code("0000000001101"),
        code("000000001100"),
    ],
    [
        code("0000000001011"),
        code("0000000001010"),
        code("0000000001001"),
        code("0000000001100"),
    ],
    [
        code("0000000000111"),
        code("00000000001011"),
        code("0000000000110"),
        code("0000000001000"),
    ],
    [
        code("00000000001001"),
        code("00000000001000"),
        code("00000000001010"),
        code("0000000000001"),
    ],
    [
        code("00000000000111"),
        code("00000000000110"),
        code("00000000000101"),
        code("00000000000100"),
    ],
];

/// coeff_token for 4 <= nC < 8.
pub const COEFF_TOKEN_4: [[Code; 4]; 17] = [
    [code("1111"), NO, NO, NO],
    [code("001111"), code("1110"), NO, NO],
    [code("001011"), code("01111"), code("1101"), NO],
    [code("001000"), code("01100"), code("01110"), code("1100")],
    [code("0001111"), code("01010"), code("01011"), code("1011")],
    [code("0001011"), code("01000"), code("01001"), code("1010")],
    [
        code("0001001"),
        code("001110"),
        code("001101"),
        code("1001"),
    ],
    [
        code("0001000"),
        code("001010"),
        code("001001"),
        code("1000"),
    ],
    [
        code("00001111"),
        code("0001110"),
        code("0001101"),
        code("01101"),
    ],
    [
        code("00001011"),
        code("00001110"),
        code("0001010"),
        code("001100"),
    ],
    [
        code("000001111"),
        code("00001010"),
        code("00001101"),
        code("0001100"),
    ],
    [
        code("000001011"),
        code("000001110"),
        code("00001001"),
        code("00001100"),
    ],
    [
        code("000001000"),
        code("000001010"),
        code("000001101"),
        code("00001000"),
    ],
    [
        code("0000001101"),
        code("000000111"),
        code("000001001"),
        code("000001100"),
    ],
    [
        code("0000001001"),
        code("0000001100"),
        code("0000001011"),
        code("0000001010"),
    ],
    [
        code("0000000101"),
        code("0000001000"),
        code("0000000111"),
        code("0000000110"),
    ],
    [
        code("0000000001"),
        code("0000000100"),
        code("0000000011"),
        code("0000000010"),
    ],
];

/// coeff_token for nC = -1 (4:2:0 chroma DC).
pub const COEFF_TOKEN_CHROMA_DC: [[Code; 4]; 5] = [
    [code("01"), NO, NO, NO],
    [code("000111"), code("1"), NO, NO],
    [code("000100"), code("000110"), code("001"), NO],
    [
        code("000011"),
        code("0000011"),
        code("0000010"),
        code("000101"),
    ],
    [
        code("000010"),
        code("00000011"),
        code("00000010"),
        code("0000000"),
    ],
];

/// total_zeros for 4x4 blocks (Tables 9-7, 9-8), [TotalCoeff - 1][total_zeros].
pub const TOTAL_ZEROS: [&[Code]; 15] = [
    &[
        code("1"),
        code("011"),
        code("010"),
        code("0011"),
        code("0010"),
        code("00011"),
        code("00010"),
        code("000011"),
        code("000010"),
        code("0000011"),
        code("0000010"),
        code("00000011"),
        code("00000010"),
        code("000000011"),
        code("000000010"),
        code("000000001"),
    ],
    &[
        code("111"),
        code("110"),
        code("101"),
        code("100"),
        code("011"),
        code("0101"),
        code("0100"),
        code("0011"),
        code("0010"),
        code("00011"),
        code("00010"),
        code("000011"),
        code("000010"),
        code("000001"),
        code("000000"),
    ],
    &[
        code("0101"),
        code("111"),
        code("110"),
        code("101"),
        code("0100"),
        code("0011"),
        code("100"),
        code("011"),
        code("0010"),
        code("00011"),
        code("00010"),
        code("000001"),
        code("00001"),
        code("000000"),
    ],
    &[
        code("00011"),
        code("111"),
        code("0101"),
        code("0100"),
        code("110"),
        code("101"),
        code("100"),
        code("0011"),
        code("011"),
        code("0010"),
        code("00010"),
        code("00001"),
        code("00000"),
    ],
    &[
        code("0101"),
        code("0100"),
        code("0011"),
        code("111"),
        code("110"),
        code("101"),
        code("100"),
        code("011"),
        code("0010"),
        code("00001"),
        code("0001"),
        code("00000"),
    ],
    &[
        code("000001"),
        code("00001"),
        code("111"),
        code("110"),
        code("101"),
        code("100"),
        code("011"),
        code("010"),
        code("0001"),
        code("001"),
        code("000000"),
    ],
    &[
        code("000001"),
        code("00001"),
        code("101"),
        code("100"),
        code("011"),
        code("11"),
        code("010"),
        code("0001"),
        code("001"),
        code("000000"),
    ],
    &[
        code("000001"),
        code("0001"),
        code("00001"),
        code("011"),
        code("11"),
        code("10"),
        code("010"),
        code("001"),
        code("000000"),
    ],
    &[
        code("000001"),
        code("000000"),
        code("0001"),
        code("11"),
        code("10"),
        code("001"),
        code("01"),
        code("00001"),
    ],
    &[
        code("00001"),
        code("00000"),
        code("001"),
        code("11"),
        code("10"),
        code("01"),
        code("0001"),
    ],
    &[
        code("0000"),
        code("0001"),
        code("001"),
        code("010"),
        code("1"),
        code("011"),
    ],
    &[
        code("0000"),
        code("0001"),
        code("01"),
        code("1"),
        code("001"),
    ],
    &[code("000"), code("001"), code("1"), code("01")],
    &[code("00"), code("01"), code("1")],
    &[code("0"), code("1")],
];

/// total_zeros for 4:2:0 chroma DC (Table 9-9a), [TotalCoeff - 1][total_zeros].
pub const TOTAL_ZEROS_CHROMA_DC: [&[Code]; 3] = [
    &[code("1"), code("01"), code("001"), code("000")],
    &[code("1"), code("01"), code("00")],
    &[code("1"), code("0")],
];

/// run_before (Table 9-10), [min(zerosLeft, 7) - 1][run_before].
pub const RUN_BEFORE: [&[Code]; 7] = [
    &[code("1"), code("0")],
    &[code("1"), code("01"), code("00")],
    &[code("11"), code("10"), code("01"), code("00")],
    &[code("11"), code("10"), code("01"), code("001"), code("000")],
    &[
        code("11"),
        code("10"),
        code("011"),
        code("010"),
        code("001"),
        code("000"),
    ],
    &[
        code("11"),
        code("000"),
        code("001"),
        code("011"),
        code("010"),
        code("101"),
        code("100"),
    ],
    &[
        code("111"),
        code("110"),
        code("101"),
        code("100"),
        code("011"),
        code("010"),
        code("001"),
        code("0001"),
        code("00001"),
        code("000001"),
        code("0000001"),
        code("00000001"),
        code("000000001"),
        code("0000000001"),
        code("00000000001"),
    ],
];

/// Zig-zag scan of a 4x4 frame block (Table 8-13): scan index → raster index.
pub const ZIGZAG_4X4: [usize; 16] = [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15];

/// coded_block_pattern of inter macroblocks by codeNum (Table 9-4, ChromaArrayType 1).
pub const INTER_CBP: [u8; 48] = [
    0, 16, 1, 2, 4, 8, 32, 3, 5, 10, 12, 15, 47, 7, 11, 13, 14, 6, 9, 31, 35, 37, 42, 44, 33, 34,
    36, 40, 39, 43, 45, 46, 17, 18, 20, 24, 19, 21, 26, 28, 23, 27, 29, 30, 22, 25, 38, 41,
];

/// QPc for qPI >= 30 (Table 8-15); below 30 QPc = qPI.
const QPC_FROM_30: [u8; 22] = [
    29, 30, 31, 32, 32, 33, 34, 34, 35, 35, 36, 36, 37, 37, 37, 38, 38, 38, 39, 39, 39, 39,
];

pub fn chroma_qp(qp: i32, offset: i32) -> i32 {
    let qpi = (qp + offset).clamp(0, 51);
    if qpi < 30 {
        qpi
    } else {
        i32::from(QPC_FROM_30[(qpi - 30) as usize])
    }
}

/// Forward quantisation multipliers by QP % 6 for coefficient positions with
/// both indices even, both odd, and mixed (the inverse of Table 8-14's scales).
pub const QUANT_MF: [[i32; 3]; 6] = [
    [13107, 5243, 8066],
    [11916, 4660, 7490],
    [10082, 4194, 6554],
    [9362, 3647, 5825],
    [8192, 3355, 5243],
    [7282, 2893, 4559],
];

/// Position class (index into QUANT_MF rows) of each raster position of a 4x4 block.
pub const QUANT_CLASS: [usize; 16] = [0, 2, 0, 2, 2, 1, 2, 1, 0, 2, 0, 2, 2, 1, 2, 1];

/// Luma 4x4 block index (6.4.3) → (x, y) of its top-left sample in the macroblock.
pub const BLOCK_XY: [(usize, usize); 16] = [
    (0, 0),
    (4, 0),
    (0, 4),
    (4, 4),
    (8, 0),
    (12, 0),
    (8, 4),
    (12, 4),
    (0, 8),
    (4, 8),
    (0, 12),
    (4, 12),
    (8, 8),
    (12, 8),
    (8, 12),
    (12, 12),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A VLC table must be prefix-free, or a decoder could not parse it.
    fn prefix_free(codes: &[Code]) -> bool {
        codes.iter().enumerate().all(|(i, &(la, va))| {
            codes.iter().enumerate().all(|(j, &(lb, vb))| {
                i == j || la == 0 || lb == 0 || {
                    let l = la.min(lb);
                    (va >> (la - l)) != (vb >> (lb - l))
                }
            })
        })
    }

    #[test]
    fn vlc_tables_are_prefix_free() {
        for t in [&COEFF_TOKEN_0[..], &COEFF_TOKEN_2[..], &COEFF_TOKEN_4[..]] {
            let all: Vec<Code> = t.iter().flatten().copied().collect();
            assert!(prefix_free(&all));
        }
        let dc: Vec<Code> = COEFF_TOKEN_CHROMA_DC.iter().flatten().copied().collect();
        assert!(prefix_free(&dc));
        for t in TOTAL_ZEROS
            .iter()
            .chain(TOTAL_ZEROS_CHROMA_DC.iter())
            .chain(RUN_BEFORE.iter())
        {
            assert!(prefix_free(t));
        }
        for (i, t) in TOTAL_ZEROS.iter().enumerate() {
            assert_eq!(t.len(), 16 - i);
        }
    }

    #[test]
    fn inter_cbp_is_a_permutation() {
        let mut seen = [false; 48];
        for &c in &INTER_CBP {
            assert!(!seen[c as usize]);
            seen[c as usize] = true;
        }
    }
}
