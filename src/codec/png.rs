//! Lossless PNG through the `png` crate.

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PngColor {
    Gray,
    Rgb,
    Rgba,
}

/// Encodes tightly packed pixels. `fast` trades 10-20 % size for 20x speed.
pub fn encode(
    data: &[u8],
    width: u32,
    height: u32,
    color: PngColor,
    fast: bool,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(match color {
            PngColor::Gray => png::ColorType::Grayscale,
            PngColor::Rgb => png::ColorType::Rgb,
            PngColor::Rgba => png::ColorType::Rgba,
        });
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(if fast {
            png::Compression::Fast
        } else {
            png::Compression::Balanced
        });
        let mut writer = enc
            .write_header()
            .map_err(|e| Error::backend(format!("PNG header: {e}")))?;
        writer
            .write_image_data(data)
            .map_err(|e| Error::backend(format!("PNG data: {e}")))?;
        writer
            .finish()
            .map_err(|e| Error::backend(format!("PNG end: {e}")))?;
    }
    Ok(out)
}
