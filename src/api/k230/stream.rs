//! A K230 stream: up to 12 packs of one encoded frame.

/// Most packs one stream holds (`VENC_PACK_CNT_MAX`).
pub const MAX_PACKS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum PackType {
    P = 1,
    I = 2,
    /// SPS/PPS (and VPS for H.265) before an IDR.
    Header = 3,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pack {
    pub data: Vec<u8>,
    pub pack_type: PackType,
    /// Microseconds, from the frame.
    pub pts: i64,
}

/// One frame's packs. `seq` numbers streams per channel from 0 so that a
/// release can be matched with its get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    pub seq: u64,
    pub packs: Vec<Pack>,
}
