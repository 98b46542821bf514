//! Still pictures: one frame to `.jpg`, `.png` or `.bmp` bytes.

use super::{bmp, mjpeg, png};
use crate::error::{Error, Result};
use crate::frame::{to_yuv420, yuv420_to_packed, FrameView, PixelFormat, Yuv420};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Bmp,
}

impl ImageFormat {
    /// Accepts ".jpg", "jpg", ".JPEG", "png", ".bmp", ...
    pub fn from_ext(ext: &str) -> Option<ImageFormat> {
        match ext.trim_start_matches('.').to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
            "png" => Some(ImageFormat::Png),
            "bmp" => Some(ImageFormat::Bmp),
            _ => None,
        }
    }
}

/// Encodes one frame. `quality` is JPEG quality 1..=100 (0 means 85); PNG
/// ignores it except that quality >= 90 asks for smaller, slower files.
pub fn encode(ext: &str, frame: &FrameView, quality: i32) -> Result<Vec<u8>> {
    let format = ImageFormat::from_ext(ext).ok_or_else(|| {
        Error::unsupported(format!(
            "image extension \"{ext}\" is not one of .jpg .jpeg .png .bmp"
        ))
    })?;
    frame.validate().map_err(|e| Error::invalid_arg(e.0))?;
    let quality = match quality {
        0 => 85,
        1..=100 => quality as u8,
        _ => {
            return Err(Error::bad_value(format!(
                "image quality {quality} is outside 0..100"
            )))
        }
    };
    let (w, h) = (frame.width, frame.height);
    match format {
        ImageFormat::Jpeg if is_yuv(frame.format) => mjpeg::encode_yuv420(&yuv(frame)?, quality),
        ImageFormat::Jpeg if frame.format == PixelFormat::Gray8 => {
            mjpeg::encode_packed(&packed(frame, PixelFormat::Gray8)?, w, h, true, quality)
        }
        ImageFormat::Jpeg => {
            mjpeg::encode_packed(&packed(frame, PixelFormat::Rgb24)?, w, h, false, quality)
        }
        ImageFormat::Png => {
            let (target, color) = match frame.format {
                PixelFormat::Gray8 => (PixelFormat::Gray8, png::PngColor::Gray),
                PixelFormat::Bgra | PixelFormat::Rgba | PixelFormat::Argb => {
                    (PixelFormat::Rgba, png::PngColor::Rgba)
                }
                _ => (PixelFormat::Rgb24, png::PngColor::Rgb),
            };
            png::encode(&packed(frame, target)?, w, h, color, quality < 90)
        }
        ImageFormat::Bmp => bmp::encode_rgb24(&packed(frame, PixelFormat::Rgb24)?, w, h),
    }
}

fn is_yuv(f: PixelFormat) -> bool {
    matches!(
        f,
        PixelFormat::I420 | PixelFormat::Yv12 | PixelFormat::Nv12 | PixelFormat::Nv21
    )
}

fn yuv(frame: &FrameView) -> Result<Yuv420> {
    let mut pic = Yuv420::new(frame.width, frame.height);
    to_yuv420(frame, &mut pic).map_err(|e| Error::invalid_arg(e.0))?;
    Ok(pic)
}

/// Tightly packed pixels in `target` (Rgb24, Rgba or Gray8), converting
/// directly between packed layouts so RGB input keeps its exact values.
fn packed(frame: &FrameView, target: PixelFormat) -> Result<Vec<u8>> {
    let src = frame.format;
    if is_yuv(src) {
        return yuv420_to_packed(&yuv(frame)?, target).map_err(|e| Error::invalid_arg(e.0));
    }
    let (w, h) = (frame.width as usize, frame.height as usize);
    let bpp = match src {
        PixelFormat::Gray8 => 1,
        PixelFormat::Bgr24 | PixelFormat::Rgb24 => 3,
        _ => 4,
    };
    let out_bpp = match target {
        PixelFormat::Gray8 => 1,
        PixelFormat::Rgba => 4,
        _ => 3,
    };
    let plane = &frame.planes[0];
    let mut out = Vec::with_capacity(w * h * out_bpp);
    for y in 0..h {
        let row = plane
            .data
            .get(y * plane.stride..y * plane.stride + w * bpp)
            .ok_or_else(|| Error::invalid_arg(format!("plane 0 ends before row {y}")))?;
        for px in row.chunks_exact(bpp) {
            // (r, g, b, a) from each source layout.
            let (r, g, b, a) = match src {
                PixelFormat::Gray8 => (px[0], px[0], px[0], 255),
                PixelFormat::Bgr24 => (px[2], px[1], px[0], 255),
                PixelFormat::Rgb24 => (px[0], px[1], px[2], 255),
                PixelFormat::Bgra => (px[2], px[1], px[0], px[3]),
                PixelFormat::Rgba => (px[0], px[1], px[2], px[3]),
                _ => (px[1], px[2], px[3], px[0]), // ARGB
            };
            match target {
                PixelFormat::Gray8 => out.push(r),
                PixelFormat::Rgba => out.extend_from_slice(&[r, g, b, a]),
                _ => out.extend_from_slice(&[r, g, b]),
            }
        }
    }
    Ok(out)
}
