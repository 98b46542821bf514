//! One-shot picture encoding: `venc_image_encode`.

use std::ffi::c_char;

use super::frame::{venc_frame, view};
use super::macros::{c_str, copy_text, ffi_boundary, give, venc_status};
use super::packet::{new_data_packet, venc_packet, VENC_PACKET_KEYFRAME};
use crate::codec::image;
use crate::error::{Error, Status};

/// Encodes one frame as ".jpg"/".jpeg", ".png" or ".bmp" into a new packet.
/// `quality` 1..100 for JPEG (0 = 85). On error, if `err` is not NULL, up to
/// `err_cap` bytes of explanation are written there (NUL-terminated).
#[no_mangle]
pub extern "C" fn venc_image_encode(
    ext: *const c_char,
    frame: *const venc_frame,
    quality: i32,
    out: *mut *mut venc_packet,
    err: *mut c_char,
    err_cap: usize,
) -> venc_status {
    ffi_boundary!(Status::Panic.code(), {
        let result = (|| {
            if out.is_null() {
                return Err(Error::new(Status::NullArg, "out is NULL"));
            }
            let ext = c_str(ext, "ext")?;
            // SAFETY: the caller passes a valid venc_frame (venc.h contract).
            let frame = unsafe { view(frame) }?;
            let bytes = image::encode(ext, &frame, quality)?;
            give(out, new_data_packet(bytes, VENC_PACKET_KEYFRAME));
            Ok(())
        })();
        match result {
            Ok(()) => Status::Ok.code(),
            Err(e) => {
                copy_text(&e.message, err, err_cap);
                e.status.code()
            }
        }
    })
}
