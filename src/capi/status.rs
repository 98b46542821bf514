//! Status codes and their static texts.

use std::ffi::c_char;

use super::macros::{ffi_boundary, venc_status};

/// Success.
pub const VENC_OK: venc_status = 0;
/// Nothing ready yet (receive), or queues full (send): call the other side.
pub const VENC_AGAIN: venc_status = 1;
/// End of stream: all packets delivered, or no more frames after drain.
pub const VENC_EOF: venc_status = 2;
/// A required pointer argument is NULL.
pub const VENC_ERR_NULL_ARG: venc_status = -1;
pub const VENC_ERR_INVALID_ARG: venc_status = -2;
pub const VENC_ERR_INVALID_STATE: venc_status = -3;
pub const VENC_ERR_UNSUPPORTED: venc_status = -4;
pub const VENC_ERR_UNKNOWN_KEY: venc_status = -5;
pub const VENC_ERR_BAD_VALUE: venc_status = -6;
pub const VENC_ERR_BUFFER_TOO_SMALL: venc_status = -7;
pub const VENC_ERR_NO_MEMORY: venc_status = -8;
pub const VENC_ERR_TIMEOUT: venc_status = -9;
pub const VENC_ERR_BUSY: venc_status = -10;
pub const VENC_ERR_IO: venc_status = -11;
pub const VENC_ERR_BACKEND: venc_status = -12;
pub const VENC_ERR_STRUCT_SIZE: venc_status = -13;
pub const VENC_ERR_PANIC: venc_status = -14;
pub const VENC_ERR_POISONED: venc_status = -15;

/// Static text for a status code ("unknown status" for codes not listed);
/// never NULL, never freed.
#[no_mangle]
pub extern "C" fn venc_status_str(status: venc_status) -> *const c_char {
    ffi_boundary!(c"internal panic".as_ptr(), { status_text(status).as_ptr() })
}

/// (code, text) pairs; kept as data so the header and the table cannot drift.
static STATUS_TEXT: &[(venc_status, &std::ffi::CStr)] = &[
    (VENC_OK, c"ok"),
    (
        VENC_AGAIN,
        c"try again: nothing ready yet, or the queue is full",
    ),
    (VENC_EOF, c"end of stream"),
    (VENC_ERR_NULL_ARG, c"a required pointer argument is NULL"),
    (VENC_ERR_INVALID_ARG, c"invalid argument"),
    (
        VENC_ERR_INVALID_STATE,
        c"call not valid in the object's current state",
    ),
    (VENC_ERR_UNSUPPORTED, c"not supported"),
    (VENC_ERR_UNKNOWN_KEY, c"unknown configuration key"),
    (VENC_ERR_BAD_VALUE, c"bad value for a configuration key"),
    (VENC_ERR_BUFFER_TOO_SMALL, c"buffer too small"),
    (VENC_ERR_NO_MEMORY, c"out of memory"),
    (VENC_ERR_TIMEOUT, c"timed out"),
    (VENC_ERR_BUSY, c"busy"),
    (VENC_ERR_IO, c"input/output error"),
    (VENC_ERR_BACKEND, c"encoder backend failed"),
    (
        VENC_ERR_STRUCT_SIZE,
        c"struct_size does not match a known layout",
    ),
    (VENC_ERR_PANIC, c"internal panic caught at the API boundary"),
    (
        VENC_ERR_POISONED,
        c"handle unusable after an earlier internal panic",
    ),
];

fn status_text(status: venc_status) -> &'static std::ffi::CStr {
    STATUS_TEXT
        .iter()
        .find(|(code, _)| *code == status)
        .map_or(c"unknown status", |(_, text)| text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Status;

    #[test]
    fn table_matches_rust_status() {
        for s in Status::ALL {
            let text = status_text(s.code()).to_str().unwrap();
            assert_eq!(text, s.describe(), "{s:?}");
        }
        assert_eq!(STATUS_TEXT.len(), Status::ALL.len());
        assert_eq!(status_text(12345).to_str().unwrap(), "unknown status");
    }
}
