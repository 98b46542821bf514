//! Exp-Golomb bit reading over H.264 RBSP (writing: `codec::bitwriter`), and the emulation
//! prevention that turns an RBSP into NAL unit payload bytes and back.

use crate::error::{Error, Result};

/// Removes emulation prevention bytes (00 00 03 → 00 00) from a NAL unit.
pub fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Appends `rbsp` as an Annex-B NAL unit with a 4-byte start code, inserting
/// emulation prevention bytes so no start code appears inside.
pub fn push_nal(out: &mut Vec<u8>, rbsp: &[u8]) {
    out.extend_from_slice(&[0, 0, 0, 1]);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
}

fn truncated() -> Error {
    Error::backend("H.264 bitstream ended early while rewriting a header")
}

/// Reads bits MSB first from an RBSP.
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn bit(&mut self) -> Result<u32> {
        let byte = *self.data.get(self.pos / 8).ok_or_else(truncated)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(u32::from(b))
    }

    pub fn flag(&mut self) -> Result<bool> {
        Ok(self.bit()? == 1)
    }

    /// `n` (<= 32) bits as an unsigned number.
    pub fn u(&mut self, n: u32) -> Result<u32> {
        let mut v: u64 = 0;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        Ok(v as u32)
    }

    pub fn ue(&mut self) -> Result<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(Error::backend("H.264 Exp-Golomb code longer than 32 bits"));
            }
        }
        let rest = self.u(zeros)?;
        Ok(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }

    pub fn se(&mut self) -> Result<i32> {
        let k = i64::from(self.ue()?);
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) } as i32)
    }

    /// Position of the rbsp_stop_one_bit: the last 1 bit of the RBSP.
    pub fn stop_bit(&self) -> Result<usize> {
        let (i, &last) = self
            .data
            .iter()
            .enumerate()
            .rev()
            .find(|(_, &b)| b != 0)
            .ok_or_else(truncated)?;
        Ok(i * 8 + 7 - last.trailing_zeros() as usize)
    }
}

pub use crate::codec::bitwriter::BitWriter;

/// Length in bits of ue(v).
pub fn ue_len(v: u32) -> u32 {
    2 * (32 - (v + 1).leading_zeros()) - 1
}

/// Length in bits of se(v).
pub fn se_len(v: i32) -> u32 {
    let k = if v > 0 {
        2 * i64::from(v) - 1
    } else {
        -2 * i64::from(v)
    };
    ue_len(k.min(i64::from(u32::MAX - 1)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_round_trips() {
        let mut w = BitWriter::new();
        for v in [0u32, 1, 2, 7, 255, 65535] {
            w.ue(v);
        }
        for v in [0i32, 1, -1, 17, -300] {
            w.se(v);
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for v in [0u32, 1, 2, 7, 255, 65535] {
            assert_eq!(r.ue().unwrap(), v);
        }
        for v in [0i32, 1, -1, 17, -300] {
            assert_eq!(r.se().unwrap(), v);
        }
        assert_eq!(r.stop_bit().unwrap(), r.pos());
    }

    #[test]
    fn lengths_match_the_writer() {
        for v in [0u32, 1, 2, 3, 6, 7, 100, 1000] {
            let mut w = BitWriter::new();
            w.ue(v);
            assert_eq!(w.bits_written() as u32, ue_len(v));
        }
        for v in [0i32, 1, -1, 5, -64] {
            let mut w = BitWriter::new();
            w.se(v);
            assert_eq!(w.bits_written() as u32, se_len(v));
        }
    }

    #[test]
    fn emulation_prevention_round_trips() {
        let rbsp = [0x65, 0, 0, 1, 0, 0, 0, 0, 3, 7];
        let mut nal = Vec::new();
        push_nal(&mut nal, &rbsp);
        assert_eq!(&nal[4..], &[0x65, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3, 3, 7]);
        assert_eq!(unescape(&nal[4..]), rbsp);
    }
}
