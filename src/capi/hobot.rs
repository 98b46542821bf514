//! The Horizon / D-Robotics personality (`venc_hobot_*`): libsrcampy's
//! `Encoder` as C calls. Calls return 0 or -1 like the vendor's, plus
//! VENC_HOBOT_ERR_BUFFER_TOO_SMALL from `venc_hobot_get_frame`;
//! `venc_hobot_last_error` explains.

// Exports take raw pointers by the nature of a C ABI and cannot be `unsafe
// fn`; each dereference is NULL-checked and carries a SAFETY note.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::c_char;

use super::macros::{
    c_str, ffi_boundary, give, put, take, with_handle_code, BoundaryCodes, CodeError, ErrorSlot,
    Handle,
};
use crate::api::hobot::{HobotEncoder, HobotError};

/// The vendor's failure code.
pub const VENC_HOBOT_ERR: i32 = -1;
/// `venc_hobot_get_frame`: the buffer is too small; `*len` has the size
/// needed and the frame waits for the next call.
pub const VENC_HOBOT_ERR_BUFFER_TOO_SMALL: i32 = -2;

/// Encode types of `venc_hobot_encode`.
pub const VENC_HOBOT_TYPE_H264: i32 = 1;
pub const VENC_HOBOT_TYPE_H265: i32 = 2;
pub const VENC_HOBOT_TYPE_MJPEG: i32 = 3;

/// A Horizon encoder (opaque); all its state is its own.
pub struct venc_hobot {
    encoder: HobotEncoder,
    errors: ErrorSlot,
}

impl Handle for venc_hobot {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

impl CodeError for HobotError {
    fn code(&self) -> i32 {
        match self {
            HobotError::Failed(_) => VENC_HOBOT_ERR,
            HobotError::BufferTooSmall { .. } => VENC_HOBOT_ERR_BUFFER_TOO_SMALL,
        }
    }
    fn message(&self) -> &str {
        HobotError::message(self)
    }
}

const CODES: BoundaryCodes = BoundaryCodes {
    null: VENC_HOBOT_ERR,
    poisoned: VENC_HOBOT_ERR,
    panic: VENC_HOBOT_ERR,
};

fn call(h: *const venc_hobot, body: impl FnOnce(&HobotEncoder) -> Result<(), HobotError>) -> i32 {
    with_handle_code(h, &CODES, |e: &venc_hobot| body(&e.encoder).map(|()| 0))
}

/// `libsrcampy.Encoder()`: a closed encoder with the X3 board config.
#[no_mangle]
pub extern "C" fn venc_hobot_new(out: *mut *mut venc_hobot) -> i32 {
    ffi_boundary!(VENC_HOBOT_ERR, {
        if out.is_null() {
            return VENC_HOBOT_ERR;
        }
        give(
            out,
            venc_hobot {
                encoder: HobotEncoder::new(),
                errors: ErrorSlot::default(),
            },
        );
        0
    })
}

/// Frees an encoder (closing it if open). NULL is a no-op.
#[no_mangle]
pub extern "C" fn venc_hobot_free(h: *mut venc_hobot) {
    ffi_boundary!((), { take(h) })
}

/// Copies the encoder's last error text; returns its full length.
#[no_mangle]
pub extern "C" fn venc_hobot_last_error(
    h: *const venc_hobot,
    buf: *mut c_char,
    cap: usize,
) -> usize {
    super::native::last_error(h, buf, cap)
}

/// Extension: overrides the board's fixed configuration before encode.
/// Keys: board (x3|x5), gop, fps, rc (cbr|vbr|fixqp), qp, quality (MJPEG).
#[no_mangle]
pub extern "C" fn venc_hobot_set(
    h: *mut venc_hobot,
    key: *const c_char,
    value: *const c_char,
) -> i32 {
    call(h, |e| {
        let key = c_str(key, "key")?;
        let value = c_str(value, "value")?;
        e.set(key, value)
    })
}

/// `encode(type, [width, height], bits)`: type VENC_HOBOT_TYPE_*, bits in
/// kbps (0 = 8000). CBR, 30 fps, I/P, GOP 60 (H.264) / 30 (H.265) unless
/// overridden with venc_hobot_set. -1 if already open.
#[no_mangle]
pub extern "C" fn venc_hobot_encode(
    h: *mut venc_hobot,
    encode_type: i32,
    width: i32,
    height: i32,
    bits: i32,
) -> i32 {
    call(h, |e| e.encode(encode_type, width, height, bits))
}

/// `send_frame(nv12)`: exactly width*height*3/2 bytes, copied before
/// return. Blocks up to 2 s while the 5-deep queue is full, then -1.
#[no_mangle]
pub extern "C" fn venc_hobot_send_frame(h: *mut venc_hobot, nv12: *const u8, len: usize) -> i32 {
    call(h, |e| {
        if nv12.is_null() {
            return Err(HobotError::failed("send_frame: data is NULL"));
        }
        if len > isize::MAX as usize {
            return Err(HobotError::failed("send_frame: len is too large"));
        }
        // SAFETY: the caller passes `len` readable bytes at `nv12` for this call.
        let data = unsafe { std::slice::from_raw_parts(nv12, len) };
        e.send_frame(data)
    })
}

/// `get_frame()`: copies one whole encoded frame (SPS/PPS in-band before
/// each IDR) to `buf` and its size to `*len`. timeout_ms: -1 the board's
/// 2 s, 0 poll, > 0 ms; nothing → -1. A buffer smaller than the frame →
/// VENC_HOBOT_ERR_BUFFER_TOO_SMALL with the size needed in `*len` (buf may
/// be NULL with cap 0 to ask); the frame stays for the next call.
#[no_mangle]
pub extern "C" fn venc_hobot_get_frame(
    h: *mut venc_hobot,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
    timeout_ms: i32,
) -> i32 {
    call(h, |e| {
        if len.is_null() {
            return Err(HobotError::failed("get_frame: len is NULL"));
        }
        if buf.is_null() && cap > 0 {
            return Err(HobotError::failed("get_frame: buf is NULL but cap > 0"));
        }
        if cap > isize::MAX as usize {
            return Err(HobotError::failed("get_frame: cap is too large"));
        }
        let out: &mut [u8] = if buf.is_null() {
            &mut []
        } else {
            // SAFETY: the caller gives `cap` writable bytes at non-NULL `buf`.
            unsafe { std::slice::from_raw_parts_mut(buf, cap) }
        };
        match e.get_frame_into(out, timeout_ms) {
            Ok(n) => {
                put(len, n);
                Ok(())
            }
            Err(err) => {
                if let HobotError::BufferTooSmall { needed, .. } = &err {
                    put(len, *needed);
                }
                Err(err)
            }
        }
    })
}

/// `close()`: 0, or -1 if the encoder is not open. Frames not yet got are
/// dropped. The handle may encode again after.
#[no_mangle]
pub extern "C" fn venc_hobot_close(h: *mut venc_hobot) -> i32 {
    call(h, |e| e.close())
}
