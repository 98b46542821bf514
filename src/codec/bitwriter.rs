//! MSB-first bit writer with Exp-Golomb codes, for the RBSPs of both video
//! codecs (H.264 slice and header rewriting, H.265 parameter sets and slice
//! headers).

#[derive(Default)]
pub struct BitWriter {
    pub buf: Vec<u8>,
    acc: u64,
    nbits: u32,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Write the `n` (<= 32) low bits of `v`, MSB first.
    pub fn put(&mut self, v: u32, n: u32) {
        if n == 0 {
            return;
        }
        let v = u64::from(v) & ((1u64 << n) - 1);
        self.acc = (self.acc << n) | v;
        self.nbits += n;
        while self.nbits >= 8 {
            self.nbits -= 8;
            self.buf.push((self.acc >> self.nbits) as u8);
        }
        self.acc &= (1u64 << self.nbits) - 1;
    }

    pub fn flag(&mut self, b: bool) {
        self.put(u32::from(b), 1);
    }

    /// ue(v): v + 1 (at most 33 bits) after as many zeros as it has bits less one.
    pub fn ue(&mut self, v: u32) {
        let v1 = u64::from(v) + 1;
        let len = 64 - v1.leading_zeros();
        self.put(0, len - 1);
        if len > 32 {
            self.put((v1 >> 32) as u32, len - 32);
            self.put(v1 as u32, 32);
        } else {
            self.put(v1 as u32, len);
        }
    }

    pub fn se(&mut self, v: i32) {
        let v = i64::from(v);
        self.ue(if v > 0 { 2 * v - 1 } else { -2 * v } as u32);
    }

    /// Copies bits `[from, to)` of `data`.
    pub fn copy_bits(&mut self, data: &[u8], from: usize, to: usize) {
        let bit = |pos: usize| u32::from((data[pos / 8] >> (7 - pos % 8)) & 1);
        let mut pos = from;
        while pos < to && !pos.is_multiple_of(8) {
            self.put(bit(pos), 1);
            pos += 1;
        }
        while pos + 8 <= to {
            self.put(u32::from(data[pos / 8]), 8);
            pos += 8;
        }
        while pos < to {
            self.put(bit(pos), 1);
            pos += 1;
        }
    }

    /// rbsp_trailing_bits: a one bit then zeros to byte alignment.
    pub fn trailing_bits(&mut self) {
        self.put(1, 1);
        self.align_zero();
    }

    pub fn align_zero(&mut self) {
        if self.nbits > 0 {
            self.put(0, 8 - self.nbits);
        }
    }

    /// The bytes, zero-padded to a byte boundary.
    pub fn into_bytes(mut self) -> Vec<u8> {
        self.align_zero();
        self.buf
    }

    /// rbsp_trailing_bits, then the bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.trailing_bits();
        self.buf
    }

    /// Bits written so far.
    #[cfg(test)]
    pub fn bits_written(&self) -> usize {
        self.buf.len() * 8 + self.nbits as usize
    }
}
