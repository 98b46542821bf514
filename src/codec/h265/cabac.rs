//! CABAC arithmetic encoder (9.3) and context modelling state.

use super::bitwriter::BitWriter;
use super::tables::{CTX_INIT_B, CTX_INIT_I, CTX_INIT_P, NUM_CTX};

const LPS_TABLE: [[u8; 4]; 64] = [
    [128, 176, 208, 240],
    [128, 167, 197, 227],
    [128, 158, 187, 216],
    [123, 150, 178, 205],
    [116, 142, 169, 195],
    [111, 135, 160, 185],
    [105, 128, 152, 175],
    [100, 122, 144, 166],
    [95, 116, 137, 158],
    [90, 110, 130, 150],
    [85, 104, 123, 142],
    [81, 99, 117, 135],
    [77, 94, 111, 128],
    [73, 89, 105, 122],
    [69, 85, 100, 116],
    [66, 80, 95, 110],
    [62, 76, 90, 104],
    [59, 72, 86, 99],
    [56, 69, 81, 94],
    [53, 65, 77, 89],
    [51, 62, 73, 85],
    [48, 59, 69, 80],
    [46, 56, 66, 76],
    [43, 53, 63, 72],
    [41, 50, 59, 69],
    [39, 48, 56, 65],
    [37, 45, 54, 62],
    [35, 43, 51, 59],
    [33, 41, 48, 56],
    [32, 39, 46, 53],
    [30, 37, 43, 50],
    [29, 35, 41, 48],
    [27, 33, 39, 45],
    [26, 31, 37, 43],
    [24, 30, 35, 41],
    [23, 28, 33, 39],
    [22, 27, 32, 37],
    [21, 26, 30, 35],
    [20, 24, 29, 33],
    [19, 23, 27, 31],
    [18, 22, 26, 30],
    [17, 21, 25, 28],
    [16, 20, 23, 27],
    [15, 19, 22, 25],
    [14, 18, 21, 24],
    [14, 17, 20, 23],
    [13, 16, 19, 22],
    [12, 15, 18, 21],
    [12, 14, 17, 20],
    [11, 14, 16, 19],
    [11, 13, 15, 18],
    [10, 12, 15, 17],
    [10, 12, 14, 16],
    [9, 11, 13, 15],
    [9, 11, 12, 14],
    [8, 10, 12, 14],
    [8, 9, 11, 13],
    [7, 9, 11, 12],
    [7, 9, 10, 12],
    [7, 8, 10, 11],
    [6, 8, 9, 11],
    [6, 7, 9, 10],
    [6, 7, 8, 9],
    [2, 2, 2, 2],
];

const TRANS_IDX_LPS: [u8; 64] = [
    0, 0, 1, 2, 2, 4, 4, 5, 6, 7, 8, 9, 9, 11, 11, 12, 13, 13, 15, 15, 16, 16, 18, 18, 19, 19, 21,
    21, 22, 22, 23, 24, 24, 25, 26, 26, 27, 27, 28, 29, 29, 30, 30, 30, 31, 32, 32, 33, 33, 33, 34,
    34, 35, 35, 35, 36, 36, 36, 37, 37, 37, 38, 38, 63,
];

const RENORM_TABLE: [u8; 32] = [
    6, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
];

/// Context state: (pStateIdx << 1) | valMps.
#[derive(Clone)]
pub struct Contexts {
    pub s: [u8; NUM_CTX],
}

impl Contexts {
    pub fn new(is_p: bool, qp: i32) -> Self {
        Self::with_init(if is_p { &CTX_INIT_P } else { &CTX_INIT_I }, qp)
    }

    /// Contexts of a B slice (initType 2).
    pub fn new_b(qp: i32) -> Self {
        Self::with_init(&CTX_INIT_B, qp)
    }

    fn with_init(init: &[u8; NUM_CTX], qp: i32) -> Self {
        let qp = qp.clamp(0, 51);
        let mut s = [0u8; NUM_CTX];
        for i in 0..NUM_CTX {
            let v = init[i] as i32;
            let m = (v >> 4) * 5 - 45;
            let n = ((v & 15) << 3) - 16;
            let pre = (((m * qp) >> 4) + n).clamp(1, 126);
            let (st, mps) = if pre <= 63 {
                (63 - pre, 0)
            } else {
                (pre - 64, 1)
            };
            s[i] = ((st << 1) | mps) as u8;
        }
        Contexts { s }
    }
}

pub struct Cabac {
    low: u32,
    range: u32,
    bits_left: i32,
    num_buffered: u32,
    buffered_byte: u32,
    pub bw: BitWriter,
    pub ctx: Contexts,
}

impl Cabac {
    pub fn new(bw: BitWriter, ctx: Contexts) -> Self {
        Cabac {
            low: 0,
            range: 510,
            bits_left: 23,
            num_buffered: 0,
            buffered_byte: 0xff,
            bw,
            ctx,
        }
    }

    #[inline]
    pub fn encode_bin(&mut self, bin: u32, ci: usize) {
        let st = self.ctx.s[ci];
        let state = (st >> 1) as usize;
        let mps = (st & 1) as u32;
        let lps = LPS_TABLE[state][((self.range >> 6) & 3) as usize] as u32;
        self.range -= lps;
        if bin != mps {
            let nb = RENORM_TABLE[(lps >> 3) as usize] as i32;
            self.low = (self.low + self.range) << nb;
            self.range = lps << nb;
            let ns = if state == 0 {
                ((0u8) << 1) | (1 - mps as u8)
            } else {
                (TRANS_IDX_LPS[state] << 1) | mps as u8
            };
            self.ctx.s[ci] = ns;
            self.bits_left -= nb;
        } else {
            let ns = if state < 62 { state + 1 } else { state };
            self.ctx.s[ci] = ((ns as u8) << 1) | mps as u8;
            if self.range >= 256 {
                return;
            }
            self.low <<= 1;
            self.range <<= 1;
            self.bits_left -= 1;
        }
        self.test_write_out();
    }

    #[inline]
    pub fn encode_bypass(&mut self, bin: u32) {
        self.low <<= 1;
        if bin != 0 {
            self.low += self.range;
        }
        self.bits_left -= 1;
        self.test_write_out();
    }

    /// Encode the `n` low bits of `v` in bypass mode, MSB first.
    pub fn encode_bypass_bits(&mut self, v: u32, n: u32) {
        let mut i = n;
        while i > 0 {
            i -= 1;
            self.encode_bypass((v >> i) & 1);
        }
    }

    pub fn encode_terminate(&mut self, bin: u32) {
        self.range -= 2;
        if bin != 0 {
            self.low += self.range;
            self.low <<= 7;
            self.range = 2 << 7;
            self.bits_left -= 7;
        } else if self.range >= 256 {
            return;
        } else {
            self.low <<= 1;
            self.range <<= 1;
            self.bits_left -= 1;
        }
        self.test_write_out();
    }

    #[inline]
    fn test_write_out(&mut self) {
        if self.bits_left < 12 {
            self.write_out();
        }
    }

    fn write_out(&mut self) {
        let lead_byte = self.low >> (24 - self.bits_left);
        self.bits_left += 8;
        self.low &= 0xffff_ffffu32 >> self.bits_left;
        if lead_byte == 0xff {
            self.num_buffered += 1;
        } else if self.num_buffered > 0 {
            let carry = lead_byte >> 8;
            let byte = self.buffered_byte + carry;
            self.buffered_byte = lead_byte & 0xff;
            self.bw.put(byte, 8);
            let byte = (0xff + carry) & 0xff;
            while self.num_buffered > 1 {
                self.bw.put(byte, 8);
                self.num_buffered -= 1;
            }
        } else {
            self.num_buffered = 1;
            self.buffered_byte = lead_byte;
        }
    }

    /// Flush after the terminating bin; caller then writes rbsp trailing bits.
    pub fn finish(&mut self) {
        if (self.low >> (32 - self.bits_left)) != 0 {
            self.bw.put(self.buffered_byte + 1, 8);
            while self.num_buffered > 1 {
                self.bw.put(0x00, 8);
                self.num_buffered -= 1;
            }
            self.low -= 1 << (32 - self.bits_left);
        } else {
            if self.num_buffered > 0 {
                self.bw.put(self.buffered_byte, 8);
            }
            while self.num_buffered > 1 {
                self.bw.put(0xff, 8);
                self.num_buffered -= 1;
            }
        }
        self.bw.put(self.low >> 8, (24 - self.bits_left) as u32);
    }
}
