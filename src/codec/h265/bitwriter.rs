//! Plain (non-arithmetic) bit writer and NAL unit packaging.

pub struct BitWriter {
    pub buf: Vec<u8>,
    acc: u64,
    nbits: u32,
}

impl BitWriter {
    pub fn new() -> Self {
        BitWriter {
            buf: Vec::new(),
            acc: 0,
            nbits: 0,
        }
    }
    /// Write the `n` (<= 32) low bits of `v`, MSB first.
    pub fn put(&mut self, v: u32, n: u32) {
        if n == 0 {
            return;
        }
        let v = (v as u64) & ((1u64 << n) - 1);
        self.acc = (self.acc << n) | v;
        self.nbits += n;
        while self.nbits >= 8 {
            self.nbits -= 8;
            self.buf.push((self.acc >> self.nbits) as u8);
        }
        self.acc &= (1u64 << self.nbits) - 1;
    }
    pub fn flag(&mut self, b: bool) {
        self.put(b as u32, 1);
    }
    pub fn ue(&mut self, v: u32) {
        let v1 = v as u64 + 1;
        let len = 64 - v1.leading_zeros(); // bits in v1
        let zeros = len - 1;
        if zeros > 0 {
            self.put(0, zeros.min(32));
            if zeros > 32 {
                self.put(0, zeros - 32);
            }
        }
        // write v1 in len bits (len <= 33)
        if len > 32 {
            self.put((v1 >> 32) as u32, len - 32);
            self.put(v1 as u32, 32);
        } else {
            self.put(v1 as u32, len);
        }
    }
    pub fn se(&mut self, v: i32) {
        let m = if v > 0 {
            (2 * v as i64 - 1) as u32
        } else {
            (-2 * v as i64) as u32
        };
        self.ue(m);
    }
    /// rbsp_trailing_bits: a one bit then zeros to byte alignment.
    pub fn trailing_bits(&mut self) {
        self.put(1, 1);
        self.align_zero();
    }
    pub fn align_zero(&mut self) {
        if self.nbits > 0 {
            let pad = 8 - self.nbits;
            self.put(0, pad);
        }
    }
    pub fn into_bytes(mut self) -> Vec<u8> {
        self.align_zero();
        self.buf
    }
}

/// Append an Annex-B NAL unit (4-byte start code, 2-byte header, emulation prevention).
pub fn write_nal(out: &mut Vec<u8>, nal_type: u8, rbsp: &[u8]) {
    out.extend_from_slice(&[0, 0, 0, 1]);
    out.push(nal_type << 1);
    out.push(1); // layer 0, temporal_id_plus1 = 1
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        if b == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
    }
}

/// Non-reference trailing picture (reordered B pictures).
pub const NAL_TRAIL_N: u8 = 0;
pub const NAL_TRAIL_R: u8 = 1;
pub const NAL_IDR_W_RADL: u8 = 19;
pub const NAL_VPS: u8 = 32;
pub const NAL_SPS: u8 = 33;
pub const NAL_PPS: u8 = 34;
