//! NAL unit packaging (the bit writer is shared: `codec::bitwriter`).

pub use crate::codec::bitwriter::BitWriter;

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
