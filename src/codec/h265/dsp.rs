//! CPU dispatch for the encoder's integer kernels.
//!
//! The kernels (SAD/SATD/SSE, interpolation, transforms, quantisation, intra prediction) are
//! written once as plain Rust `#[inline(always)]` bodies. Each public entry point runs that
//! body either as compiled for the baseline target or inside a `#[target_feature(enable =
//! "avx2")]` wrapper, chosen at run time. All arithmetic is integer, so both builds give
//! bit-identical results: only the instruction selection differs (x86-64's baseline SSE2
//! has no 32-bit lane multiply and 128-bit vectors only).

/// True when the running CPU has AVX2 (cached by the standard library after the first call).
#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `$name` (same signature as `$body`) that calls `$body` compiled with AVX2 when the
/// CPU has it and as baseline code otherwise. `$body` must be `#[inline(always)]` so that it is
/// compiled into the AVX2 wrapper.
macro_rules! avx2_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident => $body:ident ( $($arg:ident : $ty:ty),* $(,)? ) $(-> $ret:ty)?) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if $crate::codec::h265::dsp::has_avx2() {
                    // SAFETY: `avx2` only needs the AVX2 instruction set, which the CPU was
                    // just checked to support.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(crate) use avx2_dispatch;
