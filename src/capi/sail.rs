//! The Sophgo SAIL personality: `venc_sail`, after `sail.Encoder`.
//!
//! A picture encoder (`venc_sail_new_picture`) only does pic_encode. A video
//! encoder (`venc_sail_new`) opens its output (file, rtsp://, rtmp://) in the
//! constructor and writes it from its own worker thread; the caller only
//! feeds pictures with `venc_sail_video_write` and never sees packets.
//!
//! enc_params, conversion rules and limits are documented on `venc_sail`.

use std::ffi::c_char;

use super::frame::{venc_frame, view};
use super::macros::{
    c_str, copy_text, ffi_boundary, give, put, take, venc_status, with_handle, ErrorSlot, Handle,
};
use super::packet::{new_data_packet, venc_packet, VENC_PACKET_KEYFRAME};
use crate::api::sail::{SailEncoder, WriteCode};
use crate::error::{Error, Status};

/// video_write: the picture was converted and queued.
pub const VENC_SAIL_OK: i32 = 0;
/// video_write: the queue is full (policy 0, or policy 3 after its bound).
pub const VENC_SAIL_QUEUE_FULL: i32 = -1;
/// video_write: the last encode failed (reported once; the picture was not taken).
pub const VENC_SAIL_ENCODE_FAILED: i32 = -2;
/// video_write: a write or push failed; returned until a successful reconnect.
pub const VENC_SAIL_WRITE_FAILED: i32 = -3;
/// video_write: the queue is full and the abort policy is not 0..3.
pub const VENC_SAIL_UNKNOWN_POLICY: i32 = -4;
/// video_write: the chip cannot do this conversion (BM1684 rules).
pub const VENC_SAIL_NOT_SUPPORTED: i32 = 9;
/// video_write: not a SAIL code; the call itself was invalid (NULL or bad
/// picture, picture-only or released encoder, internal panic).
pub const VENC_SAIL_BAD_CALL: i32 = -100;

/// Abort policies (what video_write does when the queue is full).
pub const VENC_SAIL_POLICY_REJECT: i32 = 0;
pub const VENC_SAIL_POLICY_DROP_OLDEST: i32 = 1;
pub const VENC_SAIL_POLICY_DROP_ALL: i32 = 2;
pub const VENC_SAIL_POLICY_BLOCK: i32 = 3;

/// venc_sail_release flag: throw away the queued pictures instead of encoding them.
pub const VENC_SAIL_RELEASE_DISCARD: u32 = 1;

/// A SAIL encoder (opaque), after Sophgo's `sail.Encoder`.
///
/// enc_params is `key=value` joined by `:`. Keys (defaults): width (1920),
/// height (1080), framerate (25), bitrate (2000 kbps), gop (32), gop_preset
/// (3; 1 all-I, 2 IPP, 3 IBB, 4 IBPBP, 5 IBBBP, 6 IPPPP, 7 IBBBB, 8 random
/// access, 9 IPP), qp (-1; >= 0 means constant QP and bitrate is ignored),
/// mb_rc, bg, nr, weightp (0 or 1; accepted, no effect on the host
/// engines). gop_preset 3 and 7 code low-delay B pictures (no reordering);
/// 4, 5 and 8 put 1, 3 and 7 B pictures between anchors. libvenc keys:
/// chip=bm1684x (default) or chip=bm1684 selects that chip's conversion
/// rules; block_ms (default 5000) bounds how long abort policy 3 waits.
/// A token without '=' or a non-integer value fails the constructor,
/// naming it; unknown keys are warnings (venc_sail_last_error right after
/// venc_sail_new). Limits: width >= 256, height >= 128, at most 8192x4096,
/// even sizes (H.264) or multiples of 8 (H.265).
///
/// Conversion in video_write: BM1684X converts any VENC_PIX_* picture and
/// resizes it to the encode size. BM1684 resizes only BGR24/RGB24/I420/
/// GRAY8 pictures and only with pix_fmt "I420"; any other picture must
/// already have the encode size, else VENC_SAIL_NOT_SUPPORTED (9).
///
/// Threading: calls on one venc_sail may come from different threads;
/// venc_sail_free must not race them.
pub struct venc_sail {
    encoder: SailEncoder,
    errors: ErrorSlot,
}

impl Handle for venc_sail {
    fn errors(&self) -> &ErrorSlot {
        &self.errors
    }
}

/// Counters of a venc_sail, in pictures.
#[repr(C)]
pub struct venc_sail_stats {
    /// sizeof(venc_sail_stats).
    pub struct_size: u32,
    pub reserved: u32,
    /// Accepted by video_write (it returned 0).
    pub queued: u64,
    /// Encoded and written to the output.
    pub written: u64,
    /// Removed from the queue by abort policy 1 or 2.
    pub dropped: u64,
    /// Refused by video_write because the queue was full.
    pub rejected: u64,
    /// Lost because encoding failed.
    pub encode_failed: u64,
    /// Encoded but lost because the write or push failed.
    pub write_failed: u64,
    /// Still queued at a discarding release or a release after a failed write.
    pub discarded: u64,
    /// Successful reconnects.
    pub reconnects: u64,
    /// Waiting in the queue now.
    pub waiting: u64,
}

fn fail_text(err: *mut c_char, err_cap: usize, e: &Error) -> venc_status {
    copy_text(&e.message, err, err_cap);
    e.status.code()
}

/// Creates the picture-only encoder (`sail.Encoder()`): pic_encode works,
/// is_opened is 0, video_write gives VENC_SAIL_BAD_CALL.
#[no_mangle]
pub extern "C" fn venc_sail_new_picture(out: *mut *mut venc_sail) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        if out.is_null() {
            return Status::NullArg.code();
        }
        give(
            out,
            venc_sail {
                encoder: SailEncoder::picture(),
                errors: ErrorSlot::default(),
            },
        );
        Status::Ok.code()
    })
}

/// Creates a video encoder and opens its output now (a file whose container
/// follows from the extension: .h264 .264 .h265 .265 .hevc .mp4 .ts .flv;
/// or rtsp:// / rtmp:// publish; a server that is not there fails here).
/// device_id must be >= 0 and picks nothing. enc_fmt: "h264_bm", "h265_bm"
/// or "hevc_bm"; pix_fmt: "I420" or "NV12"; enc_params: see venc_sail;
/// NULL enc_params means all defaults; the queue holds
/// cache_buffer_length + 1 pictures (0..1024); abort_policy VENC_SAIL_POLICY_*, others make video_write return
/// VENC_SAIL_UNKNOWN_POLICY when the queue is full.
///
/// On failure `*out` is untouched and, when `err` is not NULL, up to
/// `err_cap` bytes of explanation are written there (NUL-terminated). On
/// success, warnings (unknown keys, keys without effect) are in
/// venc_sail_last_error.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn venc_sail_new(
    output_path: *const c_char,
    device_id: i32,
    enc_fmt: *const c_char,
    pix_fmt: *const c_char,
    enc_params: *const c_char,
    cache_buffer_length: i32,
    abort_policy: i32,
    out: *mut *mut venc_sail,
    err: *mut c_char,
    err_cap: usize,
) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        let result = (|| {
            if out.is_null() {
                return Err(Error::new(Status::NullArg, "out is NULL"));
            }
            let path = c_str(output_path, "output_path")?;
            let enc_fmt = c_str(enc_fmt, "enc_fmt")?;
            let pix_fmt = c_str(pix_fmt, "pix_fmt")?;
            let enc_params = if enc_params.is_null() {
                ""
            } else {
                c_str(enc_params, "enc_params")?
            };
            SailEncoder::open(
                path,
                device_id,
                enc_fmt,
                pix_fmt,
                enc_params,
                cache_buffer_length,
                abort_policy,
            )
        })();
        match result {
            Ok(encoder) => {
                let errors = ErrorSlot::default();
                errors.set(&encoder.warnings().join("; "));
                give(out, venc_sail { encoder, errors });
                Status::Ok.code()
            }
            Err(e) => fail_text(err, err_cap, &e),
        }
    })
}

/// 1 between a successful venc_sail_new and release, else 0 (also for the
/// picture encoder and NULL).
#[no_mangle]
pub extern "C" fn venc_sail_is_opened(h: *const venc_sail) -> i32 {
    let mut opened = false;
    let st = with_handle(h, |s| {
        opened = s.encoder.is_opened();
        Ok(())
    });
    i32::from(st == Status::Ok.code() && opened)
}

/// Encodes one picture as ".jpg"/".jpeg", ".png" or ".bmp" into a new
/// packet (BGR24 is SAIL's input; every VENC_PIX_* format works). Works on
/// both kinds of encoder.
#[no_mangle]
pub extern "C" fn venc_sail_pic_encode(
    h: *const venc_sail,
    ext: *const c_char,
    frame: *const venc_frame,
    out: *mut *mut venc_packet,
) -> venc_status {
    with_handle(h, |s| {
        if out.is_null() {
            return Err(Error::new(Status::NullArg, "out is NULL"));
        }
        let ext = c_str(ext, "ext")?;
        // SAFETY: the caller passes a valid venc_frame whose planes are readable (venc.h contract).
        let frame = unsafe { view(frame) }?;
        let bytes = s.encoder.pic_encode(ext, &frame)?;
        give(out, new_data_packet(bytes, VENC_PACKET_KEYFRAME));
        Ok(())
    })
}

/// Converts a picture to the encode size and format and queues it (the
/// picture is copied; pts and flags are ignored: picture N gets pts N at
/// the framerate). Returns exactly one of VENC_SAIL_OK, _QUEUE_FULL,
/// _ENCODE_FAILED, _WRITE_FAILED, _UNKNOWN_POLICY, _NOT_SUPPORTED or
/// _BAD_CALL; venc_sail_last_error explains every non-zero result.
#[no_mangle]
pub extern "C" fn venc_sail_video_write(h: *const venc_sail, frame: *const venc_frame) -> i32 {
    let mut code = WriteCode::BadCall;
    let st = with_handle(h, |s| {
        // SAFETY: the caller passes a valid venc_frame whose planes are readable (venc.h contract).
        let view = unsafe { view(frame) }.map_err(|e| Error::invalid_arg(e.message))?;
        match s.encoder.video_write(&view) {
            Ok(()) => code = WriteCode::Ok,
            Err(e) => {
                code = e.code;
                s.errors.set(&e.message);
            }
        }
        Ok(())
    });
    if st == Status::Ok.code() {
        code.code()
    } else {
        WriteCode::BadCall.code()
    }
}

/// Stops the encoder: the queued pictures are encoded and written first
/// (unless flags has VENC_SAIL_RELEASE_DISCARD), then the trailer is
/// written and the output closed. Twice is harmless. VENC_ERR_IO if closing
/// the output failed (the encoder is released anyway).
#[no_mangle]
pub extern "C" fn venc_sail_release(h: *const venc_sail, flags: u32) -> venc_status {
    with_handle(h, |s| {
        s.encoder.release(flags & VENC_SAIL_RELEASE_DISCARD != 0)
    })
}

/// Closes the output and opens the same one again with the same
/// parameters; pts restart at 0 with a keyframe. 0 on success (which also
/// ends VENC_SAIL_WRITE_FAILED, unlike the vendor), else a negative
/// venc_status (VENC_ERR_IO when the output cannot be opened). Reopening a
/// file starts it afresh.
#[no_mangle]
pub extern "C" fn venc_sail_reconnect(h: *const venc_sail) -> venc_status {
    with_handle(h, |s| s.encoder.reconnect())
}

/// Fills `stats` (set stats->struct_size first).
#[no_mangle]
pub extern "C" fn venc_sail_get_stats(
    h: *const venc_sail,
    stats: *mut venc_sail_stats,
) -> venc_status {
    with_handle(h, |s| {
        if stats.is_null() {
            return Err(Error::new(Status::NullArg, "stats is NULL"));
        }
        // SAFETY: non-NULL `stats` points at the caller's venc_sail_stats; only
        // struct_size is read before the size is known to match.
        let size = unsafe { std::ptr::addr_of!((*stats).struct_size).read() };
        if size as usize != std::mem::size_of::<venc_sail_stats>() {
            return Err(Error::new(
                Status::StructSize,
                "venc_sail_stats.struct_size is wrong",
            ));
        }
        let t = s.encoder.stats();
        put(
            stats,
            venc_sail_stats {
                struct_size: size,
                reserved: 0,
                queued: t.queued,
                written: t.written,
                dropped: t.dropped,
                rejected: t.rejected,
                encode_failed: t.encode_failed,
                write_failed: t.write_failed,
                discarded: t.discarded,
                reconnects: t.reconnects,
                waiting: t.waiting,
            },
        );
        Ok(())
    })
}

/// Copies the last error (or warning) text; returns its full length.
#[no_mangle]
pub extern "C" fn venc_sail_last_error(h: *const venc_sail, buf: *mut c_char, cap: usize) -> usize {
    super::native::last_error(h, buf, cap)
}

/// Releases (encoding what is queued) and frees; NULL is a no-op. Must not
/// race other calls on the same handle.
#[no_mangle]
pub extern "C" fn venc_sail_free(h: *mut venc_sail) {
    ffi_boundary!((), { take(h) })
}
