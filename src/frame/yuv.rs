//! The owned working format: tightly packed I420.

use super::format::half_up;
use super::view::FrameError;

/// Tightly packed, owned I420 (y stride = width, chroma stride = (width+1)/2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Yuv420 {
    pub width: u32,
    pub height: u32,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl Yuv420 {
    /// A frame with Y=0 and U=V=128. Y=0 sits below limited-range black
    /// (16); decoders clamp it to black, and it makes "never written" easy
    /// to spot. Sizes should stay within `MAX_DIMENSION`; larger ones only
    /// cost memory (an impossible allocation aborts, as for any Vec).
    pub fn new(width: u32, height: u32) -> Yuv420 {
        let (yl, cl) = plane_lens(width, height);
        Yuv420 {
            width,
            height,
            y: vec![0; yl],
            u: vec![128; cl],
            v: vec![128; cl],
        }
    }

    /// Chroma plane width and stride, `(width+1)/2`.
    pub fn c_width(&self) -> usize {
        half_up(self.width as usize)
    }

    /// Chroma plane rows, `(height+1)/2`.
    pub fn c_height(&self) -> usize {
        half_up(self.height as usize)
    }

    /// Checks the buffers match `width`x`height` (the fields are public, so
    /// callers can break that).
    pub fn check(&self) -> Result<(), FrameError> {
        let (yl, cl) = plane_lens(self.width, self.height);
        for (name, len, want) in [
            ("y", self.y.len(), yl),
            ("u", self.u.len(), cl),
            ("v", self.v.len(), cl),
        ] {
            if len != want {
                return Err(FrameError::new(format!(
                    "yuv420 {}x{} {name} plane holds {len} bytes, expected {want}",
                    self.width, self.height
                )));
            }
        }
        Ok(())
    }

    /// Sets the size and makes the buffers exactly that big (keeps their
    /// allocations when possible).
    pub(super) fn reshape(&mut self, width: u32, height: u32) {
        let (yl, cl) = plane_lens(width, height);
        self.width = width;
        self.height = height;
        self.y.resize(yl, 0);
        self.u.resize(cl, 128);
        self.v.resize(cl, 128);
    }
}

/// (luma bytes, bytes per chroma plane); saturates instead of overflowing.
fn plane_lens(width: u32, height: u32) -> (usize, usize) {
    let (w, h) = (width as usize, height as usize);
    (w.saturating_mul(h), half_up(w).saturating_mul(half_up(h)))
}

/// Luma PSNR in dB (peak 255). `f64::INFINITY` when identical; 0.0 when the
/// two frames differ in size or their buffers do not match their size.
pub fn psnr_y(a: &Yuv420, b: &Yuv420) -> f64 {
    if a.width != b.width
        || a.height != b.height
        || a.y.len() != b.y.len()
        || a.check().is_err()
        || b.check().is_err()
    {
        return 0.0;
    }
    let sse: u64 =
        a.y.iter()
            .zip(&b.y)
            .map(|(&p, &q)| {
                let d = p.abs_diff(q) as u32;
                (d * d) as u64
            })
            .sum();
    if sse == 0 {
        return f64::INFINITY;
    }
    let mse = sse as f64 / a.y.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_sizes() {
        let f = Yuv420::new(33, 17);
        assert_eq!((f.c_width(), f.c_height()), (17, 9));
        assert_eq!((f.y.len(), f.u.len(), f.v.len()), (33 * 17, 17 * 9, 17 * 9));
        assert!(f.y.iter().all(|&p| p == 0) && f.u.iter().chain(&f.v).all(|&p| p == 128));
        assert_eq!(f.check(), Ok(()));
        let mut g = f.clone();
        g.u.pop();
        assert_eq!(
            g.check().unwrap_err().0,
            "yuv420 33x17 u plane holds 152 bytes, expected 153"
        );
        g.reshape(4, 2);
        assert_eq!(g.check(), Ok(()));
        assert_eq!(Yuv420::new(0, 0).check(), Ok(()));
    }

    #[test]
    fn psnr() {
        let a = Yuv420::new(16, 16);
        let mut b = a.clone();
        assert_eq!(psnr_y(&a, &b), f64::INFINITY);
        b.y[0] = 16; // sse 256 over 256 pixels -> mse 1
        assert!((psnr_y(&a, &b) - 48.1308).abs() < 1e-3);
        assert_eq!(psnr_y(&a, &Yuv420::new(16, 8)), 0.0);
    }
}
