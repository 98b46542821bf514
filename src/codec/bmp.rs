//! Windows BMP, 24-bit bottom-up. Written by hand: the format is a 54-byte
//! header plus padded rows, smaller than any crate's API surface.

use crate::error::{Error, Result};

/// Encodes tightly packed RGB24 as a 24-bit BMP (stored BGR, bottom-up).
pub fn encode_rgb24(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let w = width as usize;
    let h = height as usize;
    let row = w
        .checked_mul(3)
        .ok_or_else(|| Error::bad_value("BMP width overflows"))?;
    let padded = (row + 3) & !3;
    let image_size = padded
        .checked_mul(h)
        .filter(|&s| s <= u32::MAX as usize - 54)
        .ok_or_else(|| Error::bad_value(format!("BMP of {width}x{height} is larger than 4 GiB")))?;
    if rgb.len() < row * h {
        return Err(Error::invalid_arg(
            "BMP input is shorter than width*height*3",
        ));
    }
    let mut out = Vec::with_capacity(54 + image_size);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&((54 + image_size) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(width as i32).to_le_bytes());
    out.extend_from_slice(&(height as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // BI_RGB
    out.extend_from_slice(&(image_size as u32).to_le_bytes());
    out.extend_from_slice(&2835i32.to_le_bytes()); // 72 dpi
    out.extend_from_slice(&2835i32.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    for y in (0..h).rev() {
        let src = &rgb[y * row..y * row + row];
        for px in src.chunks_exact(3) {
            out.extend_from_slice(&[px[2], px[1], px[0]]);
        }
        out.resize(out.len() + (padded - row), 0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_and_padding() {
        let bmp = super::encode_rgb24(&[255, 0, 0], 1, 1).unwrap();
        assert_eq!(&bmp[0..2], b"BM");
        assert_eq!(bmp.len(), 54 + 4);
        assert_eq!(&bmp[54..58], &[0, 0, 255, 0]);
    }
}
