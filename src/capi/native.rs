//! The native personality: venc_config, venc_encoder.

use std::ffi::c_char;

use super::frame::{venc_frame, view, VENC_FRAME_FORCE_KEYFRAME, VENC_FRAME_NO_PTS};
use super::macros::{
    c_str, copy_text, ffi_boundary, free_handle, give, put, take, venc_status, with_handle,
    ErrorSlot, Handle,
};
use super::packet::venc_packet;
use crate::api::native::{Config, Encoder, FrameOptions};
use crate::error::{Error, Status};

/// Encoder settings as string keys and values (opaque).
pub struct venc_config {
    config: std::sync::Mutex<Config>,
    errors: ErrorSlot,
}

/// A native encoder (opaque).
pub struct venc_encoder {
    encoder: Encoder,
    errors: ErrorSlot,
}

impl Handle for venc_config {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

impl Handle for venc_encoder {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

impl venc_config {
    fn lock(&self) -> std::sync::MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Creates a config with defaults (h264, i420, 30 fps, cbr 2 Mbit/s, chip
/// "generic"); width and height must be set before use.
#[no_mangle]
pub extern "C" fn venc_config_new(out: *mut *mut venc_config) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        if out.is_null() {
            return Status::NullArg.code();
        }
        give(
            out,
            venc_config {
                config: std::sync::Mutex::new(Config::default()),
                errors: ErrorSlot::default(),
            },
        );
        Status::Ok.code()
    })
}

/// Sets one key. Unknown key → VENC_ERR_UNKNOWN_KEY, bad value →
/// VENC_ERR_BAD_VALUE; the config's last error names the key. Keys: codec,
/// width, height, pix_fmt, fps, rc, bitrate, max_bitrate, qp, gop, bframes,
/// profile, header_mode, threads, quality, chip, queue_depth.
#[no_mangle]
pub extern "C" fn venc_config_set(
    cfg: *mut venc_config,
    key: *const c_char,
    value: *const c_char,
) -> venc_status {
    with_handle(cfg, |c| {
        let key = c_str(key, "key")?;
        let value = c_str(value, "value")?;
        c.lock().set(key, value)
    })
}

/// Reads the effective value of a key into `buf` (NUL-terminated, truncated
/// to `cap`). `*len` (optional) gets the full length; a too-small buffer
/// gives VENC_ERR_BUFFER_TOO_SMALL. The key "keys" lists all keys.
#[no_mangle]
pub extern "C" fn venc_config_get(
    cfg: *const venc_config,
    key: *const c_char,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> venc_status {
    with_handle(cfg, |c| {
        let key = c_str(key, "key")?;
        let value = c.lock().get(key)?;
        if !len.is_null() {
            put(len, value.len());
        }
        if buf.is_null() || cap <= value.len() {
            return Err(Error::new(
                Status::BufferTooSmall,
                format!(
                    "value of \"{key}\" needs {} bytes with its NUL",
                    value.len() + 1
                ),
            ));
        }
        copy_text(&value, buf, cap);
        Ok(())
    })
}

/// Frees a config; NULL is a no-op. Encoders made from it are unaffected.
#[no_mangle]
pub extern "C" fn venc_config_free(cfg: *mut venc_config) {
    ffi_boundary!((), { take(cfg) })
}

/// Copies the config's last error text; returns its full length.
#[no_mangle]
pub extern "C" fn venc_config_last_error(
    cfg: *const venc_config,
    buf: *mut c_char,
    cap: usize,
) -> usize {
    last_error(cfg, buf, cap)
}

pub(crate) fn last_error<T: Handle>(h: *const T, buf: *mut c_char, cap: usize) -> usize {
    ffi_boundary!(0, {
        // SAFETY: non-NULL handles are live (contract).
        match unsafe { h.as_ref() } {
            Some(h) => copy_text(&h.errors().get(), buf, cap),
            None => copy_text("handle is NULL", buf, cap),
        }
    })
}

/// Creates an encoder from a config (copied; the config may be freed after).
/// On failure `*out` is untouched and the config's last error explains.
#[no_mangle]
pub extern "C" fn venc_encoder_new(
    cfg: *const venc_config,
    out: *mut *mut venc_encoder,
) -> venc_status {
    with_handle(cfg, |c| {
        if out.is_null() {
            return Err(Error::new(Status::NullArg, "out is NULL"));
        }
        let config = c.lock().clone();
        let encoder = Encoder::new(&config)?;
        give(
            out,
            venc_encoder {
                encoder,
                errors: ErrorSlot::default(),
            },
        );
        Ok(())
    })
}

/// Queues one frame (copied before return). VENC_AGAIN: receive packets
/// first; VENC_EOF: the encoder is draining.
#[no_mangle]
pub extern "C" fn venc_encoder_send_frame(
    enc: *mut venc_encoder,
    frame: *const venc_frame,
) -> venc_status {
    with_handle(enc, |e| {
        // SAFETY: the caller passes a valid venc_frame whose planes are readable (venc.h contract).
        let view = unsafe { view(frame) }?;
        // SAFETY: `view` succeeded, so `frame` is a valid, non-NULL pointer.
        let f = unsafe { &*frame };
        let opts = FrameOptions {
            pts: (f.flags & VENC_FRAME_NO_PTS == 0).then_some(f.pts),
            user_tag: f.user_tag,
            force_keyframe: f.flags & VENC_FRAME_FORCE_KEYFRAME != 0,
        };
        e.encoder.send_frame(&view, opts)
    })
}

/// Ends the input: queued frames are encoded, then an empty packet flagged
/// VENC_PACKET_EOS, then receive returns VENC_EOF. Calling it twice is fine.
#[no_mangle]
pub extern "C" fn venc_encoder_drain(enc: *mut venc_encoder) -> venc_status {
    with_handle(enc, |e| e.encoder.drain())
}

/// Takes the next packet. timeout_ms: 0 polls; > 0 waits at most that long
/// (also for frames another thread has yet to send); -1 waits while frames
/// are queued or being encoded, and returns VENC_AGAIN at once when none are.
/// VENC_AGAIN: nothing ready (never while send_frame would say AGAIN);
/// VENC_EOF: everything was delivered after a drain.
#[no_mangle]
pub extern "C" fn venc_encoder_receive_packet(
    enc: *mut venc_encoder,
    timeout_ms: i32,
    out: *mut *mut venc_packet,
) -> venc_status {
    with_handle(enc, |e| {
        if out.is_null() {
            return Err(Error::new(Status::NullArg, "out is NULL"));
        }
        let packet = e.encoder.receive_packet(timeout_ms)?;
        give(out, venc_packet::from(packet));
        Ok(())
    })
}

/// Codes the next frame that reaches the encoder as a keyframe.
#[no_mangle]
pub extern "C" fn venc_encoder_request_keyframe(enc: *mut venc_encoder) -> venc_status {
    with_handle(enc, |e| {
        e.encoder.request_keyframe();
        Ok(())
    })
}

/// Changes the target bitrate (bit/s) of a CBR/VBR encoder from the next frame.
#[no_mangle]
pub extern "C" fn venc_encoder_set_bitrate(
    enc: *mut venc_encoder,
    bits_per_second: u32,
) -> venc_status {
    with_handle(enc, |e| e.encoder.set_bitrate(bits_per_second))
}

/// Changes the QP of a CQP encoder (or the quality 1..100 of MJPEG).
#[no_mangle]
pub extern "C" fn venc_encoder_set_qp(enc: *mut venc_encoder, qp: u32) -> venc_status {
    with_handle(enc, |e| {
        let qp =
            u8::try_from(qp).map_err(|_| Error::bad_value(format!("qp {qp} is out of range")))?;
        e.encoder.set_qp(qp)
    })
}

/// Counters of an encoder.
#[repr(C)]
pub struct venc_encoder_stats {
    /// sizeof(venc_encoder_stats).
    pub struct_size: u32,
    pub reserved: u32,
    pub frames_in: u64,
    pub frames_out: u64,
    pub bytes_out: u64,
    pub keyframes: u64,
}

/// Fills `stats` (set stats->struct_size first).
#[no_mangle]
pub extern "C" fn venc_encoder_get_stats(
    enc: *const venc_encoder,
    stats: *mut venc_encoder_stats,
) -> venc_status {
    with_handle(enc, |e| {
        // SAFETY: non-NULL `stats` points at a caller's venc_encoder_stats.
        let out = unsafe { stats.as_mut() }
            .ok_or_else(|| Error::new(Status::NullArg, "stats is NULL"))?;
        if out.struct_size as usize != std::mem::size_of::<venc_encoder_stats>() {
            return Err(Error::new(
                Status::StructSize,
                "venc_encoder_stats.struct_size is wrong",
            ));
        }
        let s = e.encoder.stats();
        out.frames_in = s.frames_in;
        out.frames_out = s.frames_out;
        out.bytes_out = s.bytes_out;
        out.keyframes = s.keyframes;
        Ok(())
    })
}

/// Copies the encoder's last error text; returns its full length.
#[no_mangle]
pub extern "C" fn venc_encoder_last_error(
    enc: *const venc_encoder,
    buf: *mut c_char,
    cap: usize,
) -> usize {
    last_error(enc, buf, cap)
}

/// Stops the encoder and frees it, discarding queued frames and packets
/// (drain first to keep them). NULL is a no-op. A thread blocked in
/// receive_packet or send_frame on this encoder returns
/// VENC_ERR_INVALID_STATE and free waits for it; no call may start once
/// free has begun. Packets already received stay valid.
#[no_mangle]
pub extern "C" fn venc_encoder_free(enc: *mut venc_encoder) {
    ffi_boundary!((), { free_handle(enc, |e| e.encoder.close()) })
}
