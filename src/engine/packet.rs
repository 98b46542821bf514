//! One unit of output: coded bytes plus what the caller needs to route them.

pub const FLAG_KEYFRAME: u32 = 1;
pub const FLAG_HEADER: u32 = 2;
pub const FLAG_EOS: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum FrameType {
    /// Header-only or end-of-stream packet.
    None = 0,
    Idr = 1,
    I = 2,
    P = 3,
    B = 4,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub data: Vec<u8>,
    pub flags: u32,
    pub pts: i64,
    pub dts: i64,
    pub user_tag: u64,
    pub frame_type: FrameType,
    /// Index of the input frame this packet codes (0-based).
    pub frame_index: u64,
}

impl Packet {
    pub fn is_keyframe(&self) -> bool {
        self.flags & FLAG_KEYFRAME != 0
    }
    pub fn is_header(&self) -> bool {
        self.flags & FLAG_HEADER != 0
    }
    pub fn is_eos(&self) -> bool {
        self.flags & FLAG_EOS != 0
    }
}
