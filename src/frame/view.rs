//! Borrowed views of caller frames and their validation.

use std::fmt;

use super::format::PixelFormat;

/// Largest accepted width or height; keeps every size product far from
/// overflow even with 32-bit `usize` (16384 * 16384 * 4 = 2^30).
pub const MAX_DIMENSION: u32 = 16384;

#[derive(Clone, Copy, Debug)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    /// Bytes from the start of one row to the start of the next.
    pub stride: usize,
}

impl<'a> Plane<'a> {
    pub const fn new(data: &'a [u8], stride: usize) -> Plane<'a> {
        Plane { data, stride }
    }

    /// The placeholder for planes a format does not use.
    pub const fn empty() -> Plane<'a> {
        Plane {
            data: &[],
            stride: 0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct FrameView<'a> {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Planes beyond `format.plane_count()` are ignored (use `Plane::empty()`).
    pub planes: [Plane<'a>; 3],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError(pub String);

impl FrameError {
    pub(super) fn new(msg: impl Into<String>) -> FrameError {
        FrameError(msg.into())
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FrameError {}

/// Checks a frame size is in 1..=MAX_DIMENSION both ways.
pub(super) fn check_dims(width: u32, height: u32) -> Result<(), FrameError> {
    for (what, v) in [("width", width), ("height", height)] {
        if v == 0 {
            return Err(FrameError::new(format!("{what} 0")));
        }
        if v > MAX_DIMENSION {
            return Err(FrameError::new(format!(
                "{what} {v} is larger than the maximum {MAX_DIMENSION}"
            )));
        }
    }
    Ok(())
}

impl<'a> FrameView<'a> {
    /// Single-plane view (packed RGB or gray).
    pub fn packed(
        format: PixelFormat,
        width: u32,
        height: u32,
        data: &'a [u8],
        stride: usize,
    ) -> FrameView<'a> {
        FrameView {
            format,
            width,
            height,
            planes: [Plane::new(data, stride), Plane::empty(), Plane::empty()],
        }
    }

    /// Checks the size, and that every plane the format uses is present,
    /// has a stride at least one row wide and holds all its rows. The last
    /// row only needs its own bytes, not a full stride (buffers cropped
    /// right after the last pixel are common).
    pub fn validate(&self) -> Result<(), FrameError> {
        check_dims(self.width, self.height)?;
        let name = self.format.name();
        let n = self.format.plane_count();
        for (p, plane) in self.planes.iter().enumerate().take(n) {
            if plane.data.is_empty() {
                let s = if n == 1 { "" } else { "s" };
                return Err(FrameError::new(format!(
                    "plane {p} is missing ({name} has {n} plane{s})"
                )));
            }
            // Cannot fail for p < plane_count with width <= MAX_DIMENSION; handled anyway.
            let row = self.format.min_stride(p, self.width).ok_or_else(|| {
                FrameError::new(format!(
                    "plane {p} row size of {name} at width {} overflows",
                    self.width
                ))
            })?;
            if plane.stride < row {
                return Err(FrameError::new(format!(
                    "plane {p} stride {} is smaller than the {row} bytes a row of {name} at width {} needs",
                    plane.stride, self.width
                )));
            }
            let rows = self.format.plane_rows(p, self.height);
            let need = (rows - 1)
                .checked_mul(plane.stride)
                .and_then(|b| b.checked_add(row));
            match need {
                None => {
                    return Err(FrameError::new(format!(
                        "plane {p}: {rows} rows of stride {} overflow the address space",
                        plane.stride
                    )))
                }
                Some(need) if plane.data.len() < need => {
                    return Err(FrameError::new(format!(
                        "plane {p} holds {} bytes but {rows} rows of stride {} need {need}",
                        plane.data.len(),
                        plane.stride
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// Row `y` (first `len` bytes) of a validated plane.
#[inline]
pub(super) fn row<'a>(plane: &Plane<'a>, y: usize, len: usize) -> &'a [u8] {
    let start = y * plane.stride;
    &plane.data[start..start + len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use PixelFormat::*;

    fn err(v: &FrameView) -> String {
        v.validate().unwrap_err().0
    }

    fn i420<'a>(
        w: u32,
        h: u32,
        y: &'a [u8],
        u: &'a [u8],
        v: &'a [u8],
        ys: usize,
        cs: usize,
    ) -> FrameView<'a> {
        FrameView {
            format: I420,
            width: w,
            height: h,
            planes: [Plane::new(y, ys), Plane::new(u, cs), Plane::new(v, cs)],
        }
    }

    #[test]
    fn valid_frames() {
        let buf = vec![0u8; 400 * 300 * 4];
        for &f in PixelFormat::all() {
            let mut planes = [Plane::empty(); 3];
            for (p, pl) in planes.iter_mut().enumerate().take(f.plane_count()) {
                *pl = Plane::new(&buf, f.min_stride(p, 33).unwrap() + 5);
            }
            let v = FrameView {
                format: f,
                width: 33,
                height: 17,
                planes,
            };
            assert_eq!(v.validate(), Ok(()), "{f}");
        }
        // Last row may stop right after its pixels.
        let y = vec![0u8; 99 * 16 + 33];
        let c = vec![0u8; 50 * 8 + 17];
        assert_eq!(i420(33, 17, &y, &c, &c, 99, 50).validate(), Ok(()));
        // Unused planes are ignored even if filled.
        let mut v = FrameView::packed(Rgba, 4, 4, &buf, 16);
        v.planes[2] = Plane::new(&buf, 1);
        assert_eq!(v.validate(), Ok(()));
    }

    #[test]
    fn size_errors() {
        let b = [0u8; 64];
        assert_eq!(err(&FrameView::packed(Gray8, 0, 8, &b, 8)), "width 0");
        assert_eq!(err(&FrameView::packed(Gray8, 8, 0, &b, 8)), "height 0");
        assert_eq!(
            err(&FrameView::packed(Gray8, 16385, 8, &b, 8)),
            "width 16385 is larger than the maximum 16384"
        );
        assert_eq!(
            err(&FrameView::packed(Gray8, 8, u32::MAX, &b, 8)),
            "height 4294967295 is larger than the maximum 16384"
        );
    }

    #[test]
    fn missing_plane() {
        let y = vec![0u8; 320 * 240];
        let c = vec![0u8; 160 * 120];
        assert_eq!(
            err(&i420(320, 240, &y, &c, &[], 320, 160)),
            "plane 2 is missing (i420 has 3 planes)"
        );
        assert_eq!(
            err(&i420(320, 240, &[], &c, &c, 320, 160)),
            "plane 0 is missing (i420 has 3 planes)"
        );
        let v = FrameView {
            format: Nv12,
            width: 320,
            height: 240,
            planes: [Plane::new(&y, 320), Plane::empty(), Plane::empty()],
        };
        assert_eq!(err(&v), "plane 1 is missing (nv12 has 2 planes)");
        assert_eq!(
            err(&FrameView::packed(Bgr24, 4, 4, &[], 12)),
            "plane 0 is missing (bgr24 has 1 plane)"
        );
    }

    #[test]
    fn short_stride() {
        let y = vec![0u8; 320 * 240];
        let v = FrameView {
            format: Nv12,
            width: 320,
            height: 240,
            planes: [Plane::new(&y, 320), Plane::new(&y, 100), Plane::empty()],
        };
        assert_eq!(
            err(&v),
            "plane 1 stride 100 is smaller than the 320 bytes a row of nv12 at width 320 needs"
        );
        // NV12 chroma row of an odd width rounds up to whole U,V pairs.
        let v = FrameView {
            format: Nv12,
            width: 33,
            height: 2,
            planes: [Plane::new(&y, 33), Plane::new(&y, 33), Plane::empty()],
        };
        assert_eq!(
            err(&v),
            "plane 1 stride 33 is smaller than the 34 bytes a row of nv12 at width 33 needs"
        );
        assert_eq!(
            err(&FrameView::packed(Rgb24, 320, 240, &y, 0)),
            "plane 0 stride 0 is smaller than the 960 bytes a row of rgb24 at width 320 needs"
        );
    }

    #[test]
    fn short_buffer() {
        let y = vec![0u8; 1000];
        assert_eq!(
            err(&FrameView::packed(Gray8, 320, 240, &y, 320)),
            "plane 0 holds 1000 bytes but 240 rows of stride 320 need 76800"
        );
        let c = vec![0u8; 160 * 120];
        let big = vec![0u8; 320 * 240];
        assert_eq!(
            err(&i420(320, 240, &big, &c, &c[1..], 320, 160)),
            "plane 2 holds 19199 bytes but 120 rows of stride 160 need 19200"
        );
        // Huge strides must be reported, not overflow.
        assert_eq!(
            err(&FrameView::packed(Gray8, 4, 3, &y, usize::MAX)),
            format!(
                "plane 0: 3 rows of stride {} overflow the address space",
                usize::MAX
            )
        );
        assert_eq!(
            err(&FrameView::packed(Gray8, 4, 3, &y, usize::MAX / 2)),
            format!(
                "plane 0: 3 rows of stride {} overflow the address space",
                usize::MAX / 2
            )
        );
    }

    #[test]
    fn display() {
        assert_eq!(FrameError::new("width 0").to_string(), "width 0");
    }
}
