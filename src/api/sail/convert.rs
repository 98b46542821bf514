//! Picture conversion for `video_write`, with each chip's rules.
//!
//! BM1684X (bmcv_image_vpp_convert): any input format, any size; converted
//! and resized to the encode size.
//!
//! BM1684: its resizing converter only writes I420 and only reads
//! BGR/RGB/YUV420P(I420)/GRAY. So with pix_fmt I420 those four inputs may
//! have any size; everything else goes through the storage converter, which
//! cannot resize: the input must already have the encode size (this covers
//! pix_fmt NV12, where the vendor requires the encoder's size). Anything
//! else is refused with the "not supported" code 9.

use super::params::SailChip;
use crate::error::Error;
use crate::frame::{scale_yuv420, to_yuv420, FrameView, PixelFormat, Yuv420};

/// The encode (storage) format SAIL accepts: exactly "I420" or "NV12".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SailPixFmt {
    I420,
    Nv12,
}

impl SailPixFmt {
    pub fn from_name(s: &str) -> Option<SailPixFmt> {
        match s {
            "I420" => Some(SailPixFmt::I420),
            "NV12" => Some(SailPixFmt::Nv12),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            SailPixFmt::I420 => "I420",
            SailPixFmt::Nv12 => "NV12",
        }
    }
}

/// Why a picture was not converted.
#[derive(Debug)]
pub enum Refusal {
    /// The chip cannot do this conversion (SAIL code 9).
    NotSupported(String),
    /// The picture itself is invalid.
    Invalid(Error),
}

/// Checks the chip rules without touching pixels.
pub fn check(
    chip: SailChip,
    pix: SailPixFmt,
    frame: &FrameView,
    width: u32,
    height: u32,
) -> Result<(), Refusal> {
    if chip == SailChip::Bm1684x {
        return Ok(());
    }
    let same_size = frame.width == width && frame.height == height;
    let resizable = pix == SailPixFmt::I420
        && matches!(
            frame.format,
            PixelFormat::Bgr24 | PixelFormat::Rgb24 | PixelFormat::I420 | PixelFormat::Gray8
        );
    if same_size || resizable {
        return Ok(());
    }
    Err(Refusal::NotSupported(format!(
        "bm1684 cannot convert a {}x{} {} picture to {width}x{height} {}: it resizes only BGR/RGB/YUV420P/GRAY input and only to I420; other input must already be {width}x{height}",
        frame.width,
        frame.height,
        frame.format.name(),
        pix.name()
    )))
}

/// Converts `frame` to the encode size in the working format.
pub fn prepare(
    chip: SailChip,
    pix: SailPixFmt,
    frame: &FrameView,
    width: u32,
    height: u32,
) -> Result<Yuv420, Refusal> {
    frame
        .validate()
        .map_err(|e| Refusal::Invalid(Error::invalid_arg(e.0)))?;
    check(chip, pix, frame, width, height)?;
    let mut pic = Yuv420::new(frame.width, frame.height);
    to_yuv420(frame, &mut pic).map_err(|e| Refusal::Invalid(Error::invalid_arg(e.0)))?;
    if pic.width == width && pic.height == height {
        return Ok(pic);
    }
    scale_yuv420(&pic, width, height).map_err(|e| Refusal::Invalid(Error::invalid_arg(e.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(format: PixelFormat, w: u32, h: u32, buf: &[u8]) -> FrameView<'_> {
        use crate::frame::Plane;
        let mut planes = [Plane::empty(); 3];
        for (i, p) in planes.iter_mut().enumerate().take(format.plane_count()) {
            *p = Plane::new(buf, format.min_stride(i, w).unwrap());
        }
        FrameView {
            format,
            width: w,
            height: h,
            planes,
        }
    }

    #[test]
    fn bm1684_rules() {
        let buf = vec![100u8; 640 * 480 * 4];
        let c = SailChip::Bm1684;
        let (i, n) = (SailPixFmt::I420, SailPixFmt::Nv12);
        let ok = |r: Result<Yuv420, Refusal>| r.map(|p| (p.width, p.height)).ok();
        assert_eq!(
            ok(prepare(
                c,
                i,
                &view(PixelFormat::Bgr24, 640, 480, &buf),
                320,
                240
            )),
            Some((320, 240))
        );
        assert_eq!(
            ok(prepare(
                c,
                i,
                &view(PixelFormat::Gray8, 640, 480, &buf),
                320,
                240
            )),
            Some((320, 240))
        );
        assert!(matches!(
            prepare(c, i, &view(PixelFormat::Nv12, 640, 480, &buf), 320, 240),
            Err(Refusal::NotSupported(_))
        ));
        assert_eq!(
            ok(prepare(
                c,
                i,
                &view(PixelFormat::Nv12, 320, 240, &buf),
                320,
                240
            )),
            Some((320, 240))
        );
        assert!(matches!(
            prepare(c, n, &view(PixelFormat::Bgr24, 640, 480, &buf), 320, 240),
            Err(Refusal::NotSupported(_))
        ));
        assert_eq!(
            ok(prepare(
                c,
                n,
                &view(PixelFormat::Bgr24, 320, 240, &buf),
                320,
                240
            )),
            Some((320, 240))
        );
        let x = SailChip::Bm1684x;
        assert_eq!(
            ok(prepare(
                x,
                n,
                &view(PixelFormat::Nv12, 640, 480, &buf),
                320,
                240
            )),
            Some((320, 240))
        );
        assert_eq!(
            ok(prepare(
                x,
                i,
                &view(PixelFormat::Bgra, 100, 80, &buf),
                320,
                240
            )),
            Some((320, 240))
        );
    }
}
