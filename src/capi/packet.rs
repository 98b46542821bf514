//! `venc_packet`: library-owned, immutable output, valid until freed (also
//! after its encoder is gone), freeable from any thread.

use super::macros::{ffi_boundary, put, take, venc_status};
use crate::engine::Packet;
use crate::error::Status;

/// The packet holds a keyframe (IDR or JPEG).
pub const VENC_PACKET_KEYFRAME: u32 = 1;
/// The packet holds parameter sets (VPS/SPS/PPS).
pub const VENC_PACKET_HEADER: u32 = 2;
/// The last packet of the stream (empty).
pub const VENC_PACKET_EOS: u32 = 4;

pub const VENC_FRAME_TYPE_NONE: u32 = 0;
pub const VENC_FRAME_TYPE_IDR: u32 = 1;
pub const VENC_FRAME_TYPE_I: u32 = 2;
pub const VENC_FRAME_TYPE_P: u32 = 3;
pub const VENC_FRAME_TYPE_B: u32 = 4;

/// One coded unit (opaque).
pub struct venc_packet {
    packet: Packet,
}

impl From<Packet> for venc_packet {
    fn from(packet: Packet) -> venc_packet {
        venc_packet { packet }
    }
}

/// What a packet carries besides its bytes.
#[repr(C)]
pub struct venc_packet_meta {
    /// sizeof(venc_packet_meta).
    pub struct_size: u32,
    /// VENC_PACKET_* bits.
    pub flags: u32,
    pub pts: i64,
    pub dts: i64,
    /// The user_tag of the frame this packet codes.
    pub user_tag: u64,
    /// Bytes of data.
    pub size: u64,
    /// VENC_FRAME_TYPE_*.
    pub frame_type: u32,
    pub reserved: u32,
}

fn packet<'a>(pkt: *const venc_packet) -> Option<&'a Packet> {
    // SAFETY: non-NULL packets come from our constructors and are live until freed.
    unsafe { pkt.as_ref() }.map(|p| &p.packet)
}

/// Points `*data`/`*size` at the packet's bytes (valid until the packet is freed).
#[no_mangle]
pub extern "C" fn venc_packet_data(
    pkt: *const venc_packet,
    data: *mut *const u8,
    size: *mut usize,
) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        let (Some(p), false, false) = (packet(pkt), data.is_null(), size.is_null()) else {
            return Status::NullArg.code();
        };
        put(data, p.data.as_ptr());
        put(size, p.data.len());
        Status::Ok.code()
    })
}

/// Fills `info` (set info->struct_size = sizeof(venc_packet_meta) first).
#[no_mangle]
pub extern "C" fn venc_packet_info(
    pkt: *const venc_packet,
    info: *mut venc_packet_meta,
) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        // SAFETY: non-NULL `info` points at the caller's venc_packet_info.
        let (Some(p), Some(out)) = (packet(pkt), unsafe { info.as_mut() }) else {
            return Status::NullArg.code();
        };
        if out.struct_size as usize != std::mem::size_of::<venc_packet_meta>() {
            return Status::StructSize.code();
        }
        out.flags = p.flags;
        out.pts = p.pts;
        out.dts = p.dts;
        out.user_tag = p.user_tag;
        out.size = p.data.len() as u64;
        out.frame_type = p.frame_type as u32;
        out.reserved = 0;
        Status::Ok.code()
    })
}

/// Copies the bytes into `buf`. If `cap` is too small returns
/// VENC_ERR_BUFFER_TOO_SMALL and writes nothing; `*needed` (optional)
/// always gets the packet size.
#[no_mangle]
pub extern "C" fn venc_packet_copy(
    pkt: *const venc_packet,
    buf: *mut u8,
    cap: usize,
    needed: *mut usize,
) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        let Some(p) = packet(pkt) else {
            return Status::NullArg.code();
        };
        if !needed.is_null() {
            put(needed, p.data.len());
        }
        if cap < p.data.len() {
            return Status::BufferTooSmall.code();
        }
        if p.data.is_empty() {
            return Status::Ok.code();
        }
        if buf.is_null() {
            return Status::NullArg.code();
        }
        // SAFETY: `buf` has `cap >= len` writable bytes (caller contract).
        unsafe { std::ptr::copy_nonoverlapping(p.data.as_ptr(), buf, p.data.len()) };
        Status::Ok.code()
    })
}

/// Frees a packet; NULL is a no-op. Any thread.
#[no_mangle]
pub extern "C" fn venc_packet_free(pkt: *mut venc_packet) {
    ffi_boundary!((), { take(pkt) })
}

pub(crate) fn new_data_packet(data: Vec<u8>, flags: u32) -> venc_packet {
    venc_packet {
        packet: Packet {
            data,
            flags,
            pts: 0,
            dts: 0,
            user_tag: 0,
            frame_type: crate::engine::packet::FrameType::None,
            frame_index: 0,
        },
    }
}
