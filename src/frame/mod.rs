//! Pixel-format layer: describes caller frames (`FrameView`), validates them,
//! converts them to the encoder's working format (tightly packed I420,
//! `Yuv420`) and back to packed RGB for picture output, and scales I420.
//!
//! Conventions:
//! - Packed RGB format names give the byte order in memory (ffmpeg style):
//!   `Bgra` is B,G,R,A bytes, `Argb` is A,R,G,B bytes. Alpha is ignored on input.
//! - RGB <-> YUV uses BT.601 limited range (Y 16..235, U/V 16..240), integer
//!   fixed point, so results are the same on every platform.
//! - `Gray8` is treated as a luma plane: copied to Y as-is (U=V=128), and
//!   `Gray8` output is the Y plane as-is.
//! - Nothing here panics on bad input: every entry point validates first.

mod convert;
mod format;
mod rgb;
mod scale;
mod view;
mod yuv;

pub use convert::{to_yuv420, yuv420_to_nv12, yuv420_to_packed};
pub use format::PixelFormat;
pub use scale::scale_yuv420;
pub use view::{FrameError, FrameView, Plane, MAX_DIMENSION};
pub use yuv::{psnr_y, Yuv420};
