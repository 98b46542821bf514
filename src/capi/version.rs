//! Library and ABI versions.

use std::ffi::c_char;

pub const VENC_VERSION_MAJOR: u32 = 0;
pub const VENC_VERSION_MINOR: u32 = 1;
pub const VENC_VERSION_PATCH: u32 = 0;
/// Bumps only with an incompatible change (together with the soname).
pub const VENC_ABI_VERSION: u32 = 0;

/// "MAJOR.MINOR.PATCH" of the loaded library; static, never NULL.
#[no_mangle]
pub extern "C" fn venc_version() -> *const c_char {
    const _: () =
        assert!(VENC_VERSION_MAJOR == 0 && VENC_VERSION_MINOR == 1 && VENC_VERSION_PATCH == 0);
    c"0.1.0".as_ptr()
}

/// ABI version of the loaded library; compare with VENC_ABI_VERSION.
#[no_mangle]
pub extern "C" fn venc_abi_version() -> u32 {
    VENC_ABI_VERSION
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_string_matches_cargo() {
        // SAFETY: venc_version returns a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(super::venc_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
