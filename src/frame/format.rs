//! The pixel formats the library accepts and their plane geometry.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// Planar Y, U, V; chroma halved both ways.
    I420,
    /// Planar Y, V, U (I420 with the chroma planes swapped).
    Yv12,
    /// Y plane, then one plane of interleaved U,V.
    Nv12,
    /// Y plane, then one plane of interleaved V,U.
    Nv21,
    /// Packed B,G,R bytes.
    Bgr24,
    /// Packed R,G,B bytes.
    Rgb24,
    /// Packed B,G,R,A bytes.
    Bgra,
    /// Packed R,G,B,A bytes.
    Rgba,
    /// Packed A,R,G,B bytes.
    Argb,
    /// One luma byte per pixel.
    Gray8,
}

use PixelFormat::*;

const ALL: [PixelFormat; 10] = [
    I420, Yv12, Nv12, Nv21, Bgr24, Rgb24, Bgra, Rgba, Argb, Gray8,
];

// Accepted spellings; the first one for each format is its canonical name.
const NAMES: [(&str, PixelFormat); 15] = [
    ("i420", I420),
    ("yuv420p", I420),
    ("yv12", Yv12),
    ("nv12", Nv12),
    ("nv21", Nv21),
    ("bgr24", Bgr24),
    ("bgr", Bgr24),
    ("rgb24", Rgb24),
    ("rgb", Rgb24),
    ("bgra", Bgra),
    ("rgba", Rgba),
    ("argb", Argb),
    ("gray8", Gray8),
    ("gray", Gray8),
    ("y8", Gray8),
];

/// `(n + 1) / 2` without overflowing at `usize::MAX`.
#[inline]
pub(super) fn half_up(n: usize) -> usize {
    n / 2 + (n & 1)
}

impl PixelFormat {
    /// Parses a format name, case-insensitively.
    pub fn from_name(s: &str) -> Option<PixelFormat> {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|&(_, f)| f)
    }

    /// Canonical lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            I420 => "i420",
            Yv12 => "yv12",
            Nv12 => "nv12",
            Nv21 => "nv21",
            Bgr24 => "bgr24",
            Rgb24 => "rgb24",
            Bgra => "bgra",
            Rgba => "rgba",
            Argb => "argb",
            Gray8 => "gray8",
        }
    }

    pub fn plane_count(self) -> usize {
        match self {
            I420 | Yv12 => 3,
            Nv12 | Nv21 => 2,
            _ => 1,
        }
    }

    /// Bytes per pixel of the packed single-plane formats; None for the
    /// planar ones.
    pub fn packed_bytes_per_pixel(self) -> Option<usize> {
        match self {
            Bgr24 | Rgb24 => Some(3),
            Bgra | Rgba | Argb => Some(4),
            Gray8 => Some(1),
            _ => None,
        }
    }

    /// Bytes a row of `plane` needs at `width`; None on a plane the format
    /// does not have or on overflow.
    pub fn min_stride(self, plane: usize, width: u32) -> Option<usize> {
        let w = usize::try_from(width).ok()?;
        let cw = half_up(w);
        match (self, plane) {
            (I420 | Yv12 | Nv12 | Nv21 | Gray8, 0) => Some(w),
            (I420 | Yv12, 1 | 2) => Some(cw),
            (Nv12 | Nv21, 1) => cw.checked_mul(2),
            (Bgr24 | Rgb24, 0) => w.checked_mul(3),
            (Bgra | Rgba | Argb, 0) => w.checked_mul(4),
            _ => None,
        }
    }

    /// Rows in `plane` at `height` (chroma planes have `(h+1)/2`); 0 for a
    /// plane the format does not have.
    pub fn plane_rows(self, plane: usize, height: u32) -> usize {
        let h = height as usize;
        if plane >= self.plane_count() {
            0
        } else if plane == 0 {
            h
        } else {
            half_up(h)
        }
    }

    pub fn all() -> &'static [PixelFormat] {
        &ALL
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &f in PixelFormat::all() {
            assert_eq!(PixelFormat::from_name(f.name()), Some(f));
            assert_eq!(PixelFormat::from_name(&f.name().to_uppercase()), Some(f));
        }
        assert_eq!(PixelFormat::all().len(), 10);
    }

    #[test]
    fn aliases() {
        let cases = [
            ("YUV420P", I420),
            ("Bgr", Bgr24),
            ("rgb", Rgb24),
            ("GRAY", Gray8),
            ("y8", Gray8),
            ("Nv21", Nv21),
        ];
        for (s, f) in cases {
            assert_eq!(PixelFormat::from_name(s), Some(f), "{s}");
        }
        for s in ["", "yuv", "nv12 ", "rgb32", "i4200"] {
            assert_eq!(PixelFormat::from_name(s), None, "{s:?}");
        }
    }

    #[test]
    fn geometry() {
        assert_eq!(I420.min_stride(0, 33), Some(33));
        assert_eq!(I420.min_stride(1, 33), Some(17));
        assert_eq!(Yv12.min_stride(2, 33), Some(17));
        assert_eq!(I420.min_stride(3, 33), None);
        assert_eq!(Nv12.min_stride(1, 33), Some(34));
        assert_eq!(Nv21.min_stride(1, 32), Some(32));
        assert_eq!(Nv12.min_stride(2, 32), None);
        assert_eq!(Bgr24.min_stride(0, 33), Some(99));
        assert_eq!(Argb.min_stride(0, 33), Some(132));
        assert_eq!(Gray8.min_stride(0, 33), Some(33));
        assert_eq!(Rgba.min_stride(1, 33), None);
        assert_eq!(I420.plane_rows(0, 17), 17);
        assert_eq!(I420.plane_rows(2, 17), 9);
        assert_eq!(Nv12.plane_rows(1, 17), 9);
        assert_eq!(Nv12.plane_rows(2, 17), 0);
        assert_eq!(Bgra.plane_rows(1, 17), 0);
        assert_eq!(
            I420.plane_rows(1, u32::MAX),
            (u32::MAX as usize).div_ceil(2)
        );
        // Extreme widths must not overflow or panic.
        let _ = Argb.min_stride(0, u32::MAX);
        assert_eq!(
            I420.min_stride(1, u32::MAX),
            Some((u32::MAX as usize).div_ceil(2))
        );
    }
}
