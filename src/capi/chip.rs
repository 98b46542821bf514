//! Chip profiles: which boards exist and what each encoder accepts.

use std::ffi::{c_char, CStr};

use super::frame::format_id;
use super::macros::{c_str, ffi_boundary, put, venc_status};
use crate::engine::chip;
use crate::error::Status;

pub const VENC_CODEC_H264: u32 = 1;
pub const VENC_CODEC_H265: u32 = 2;
pub const VENC_CODEC_MJPEG: u32 = 4;
pub const VENC_RC_CBR: u32 = 1;
pub const VENC_RC_VBR: u32 = 2;
pub const VENC_RC_CQP: u32 = 4;

/// What one chip's encoder takes.
#[repr(C)]
pub struct venc_caps {
    /// sizeof(venc_caps).
    pub struct_size: u32,
    /// VENC_CODEC_* bits.
    pub codecs: u32,
    /// Bit (1 << VENC_PIX_x) for each accepted input format.
    pub pix_fmts: u32,
    /// VENC_RC_* bits.
    pub rc_modes: u32,
    pub min_width: u32,
    pub min_height: u32,
    pub max_width: u32,
    pub max_height: u32,
    /// Width/height multiple for H.264 and MJPEG.
    pub align: u32,
    /// Width/height multiple for H.265.
    pub hevc_align: u32,
    pub jpeg_max_width: u32,
    pub jpeg_max_height: u32,
    /// Encoder channels per process; 0 = no fixed limit.
    pub channels: u32,
    pub default_gop: u32,
}

/// Static NUL-terminated names, same order as the profile table.
static NAMES: &[&CStr] = &[
    c"generic", c"bm1684x", c"bm1684", c"k230", c"x3", c"x5", c"v4l2",
];

/// Lists chip names: writes up to `cap` static strings into `names` (may be
/// NULL when cap is 0) and the total into `*count`.
#[no_mangle]
pub extern "C" fn venc_chip_list(
    names: *mut *const c_char,
    cap: usize,
    count: *mut usize,
) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        if count.is_null() || (names.is_null() && cap > 0) {
            return Status::NullArg.code();
        }
        put(count, NAMES.len());
        for (i, name) in NAMES.iter().enumerate().take(cap) {
            // SAFETY: `names` has `cap` writable slots (caller contract), i < cap.
            put(unsafe { names.add(i) }, name.as_ptr());
        }
        if cap < NAMES.len() && cap > 0 {
            return Status::BufferTooSmall.code();
        }
        Status::Ok.code()
    })
}

/// Fills `caps` for the chip called `name` (set caps->struct_size first).
/// Unknown name → VENC_ERR_INVALID_ARG.
#[no_mangle]
pub extern "C" fn venc_chip_caps(name: *const c_char, caps: *mut venc_caps) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        let Ok(name) = c_str(name, "name") else {
            return Status::NullArg.code();
        };
        // SAFETY: non-NULL `caps` points at the caller's venc_chip_caps.
        let Some(out) = (unsafe { caps.as_mut() }) else {
            return Status::NullArg.code();
        };
        if out.struct_size as usize != std::mem::size_of::<venc_caps>() {
            return Status::StructSize.code();
        }
        let Some(c) = chip::find(name) else {
            return Status::InvalidArg.code();
        };
        out.codecs = c.codecs.iter().fold(0, |m, x| m | x.bit());
        out.pix_fmts = c.formats.iter().fold(0, |m, f| m | (1u32 << format_id(*f)));
        out.rc_modes = c.rc_modes.iter().fold(0, |m, r| m | r.bit());
        out.min_width = c.min_width;
        out.min_height = c.min_height;
        out.max_width = c.max_width;
        out.max_height = c.max_height;
        out.align = c.align;
        out.hevc_align = c.hevc_align;
        out.jpeg_max_width = c.jpeg_max_width;
        out.jpeg_max_height = c.jpeg_max_height;
        out.channels = c.channels;
        out.default_gop = c.default_gop;
        Status::Ok.code()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_follow_the_profile_table() {
        let names: Vec<&str> = super::NAMES.iter().map(|n| n.to_str().unwrap()).collect();
        let table: Vec<&str> = crate::engine::chip::CHIPS.iter().map(|c| c.name).collect();
        assert_eq!(names, table);
    }
}
