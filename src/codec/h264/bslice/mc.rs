//! Motion-compensated prediction exactly as a decoder forms it (8.4.2.2):
//! 6-tap half-sample luma filter, quarter samples as rounded averages,
//! eighth-sample bilinear chroma, samples outside the picture clamped to its edge.

use crate::frame::Yuv420;

/// Margin around the picture in which prediction planes are precomputed;
/// motion search keeps every block inside it (see `MV_MARGIN`).
pub const PAD: i32 = 48;
/// How far (in whole samples) a 16x16 block may reach outside the picture.
pub const MV_MARGIN: i32 = 24;

/// A reference picture with its luma half-sample planes, padded by `PAD`.
pub struct RefPic {
    pub width: i32,
    pub height: i32,
    stride: usize,
    /// Integer samples G, then the half samples b (right of G), h (below G)
    /// and j (right and below), each at the position of their G.
    planes: [Vec<u8>; 4],
    pub chroma: [Vec<u8>; 2],
    pub c_width: i32,
    pub c_height: i32,
}

const FULL: usize = 0;
const HALF_H: usize = 1;
const HALF_V: usize = 2;
const HALF_C: usize = 3;

fn clip(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

fn tap6(s: [i32; 6]) -> i32 {
    s[0] - 5 * s[1] + 20 * s[2] + 20 * s[3] - 5 * s[4] + s[5]
}

impl RefPic {
    /// Builds the planes from a decoded picture whose size is a whole number
    /// of macroblocks (the sample array a decoder predicts from).
    pub fn new(pic: &Yuv420) -> RefPic {
        let (w, h) = (pic.width as i32, pic.height as i32);
        let pw = (w + 2 * PAD) as usize;
        let ph = (h + 2 * PAD) as usize;
        let at =
            |x: i32, y: i32| i32::from(pic.y[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize]);
        let mut planes = [
            vec![0u8; pw * ph],
            vec![0u8; pw * ph],
            vec![0u8; pw * ph],
            vec![0u8; pw * ph],
        ];
        // Unrounded horizontal half samples (b1), three rows beyond the padding
        // on each side for the vertical pass of j.
        let rows = ph + 6;
        let mut b1 = vec![0i32; pw * rows];
        for r in 0..rows {
            let y = r as i32 - PAD - 3;
            for c in 0..pw {
                let x = c as i32 - PAD;
                b1[r * pw + c] = tap6([
                    at(x - 2, y),
                    at(x - 1, y),
                    at(x, y),
                    at(x + 1, y),
                    at(x + 2, y),
                    at(x + 3, y),
                ]);
            }
        }
        for r in 0..ph {
            let y = r as i32 - PAD;
            for c in 0..pw {
                let x = c as i32 - PAD;
                let i = r * pw + c;
                planes[FULL][i] = at(x, y) as u8;
                planes[HALF_H][i] = clip((b1[(r + 3) * pw + c] + 16) >> 5);
                let h1 = tap6([
                    at(x, y - 2),
                    at(x, y - 1),
                    at(x, y),
                    at(x, y + 1),
                    at(x, y + 2),
                    at(x, y + 3),
                ]);
                planes[HALF_V][i] = clip((h1 + 16) >> 5);
                let col = |k: usize| b1[(r + k) * pw + c];
                let j1 = tap6([col(1), col(2), col(3), col(4), col(5), col(6)]);
                planes[HALF_C][i] = clip((j1 + 512) >> 10);
            }
        }
        RefPic {
            width: w,
            height: h,
            stride: pw,
            planes,
            chroma: [pic.u.clone(), pic.v.clone()],
            c_width: pic.c_width() as i32,
            c_height: (h + 1) / 2,
        }
    }

    fn index(&self, x: i32, y: i32) -> usize {
        (y + PAD) as usize * self.stride + (x + PAD) as usize
    }

    /// Integer-sample luma row slice starting at (x, y), `n` samples.
    pub fn full_row(&self, x: i32, y: i32, n: usize) -> &[u8] {
        let i = self.index(x, y);
        &self.planes[FULL][i..i + n]
    }

    /// Clamps a quarter-sample motion vector so the 16x16 block at (bx, by)
    /// stays within `MV_MARGIN` samples of the picture.
    pub fn clamp_mv(&self, bx: i32, by: i32, mv: (i32, i32)) -> (i32, i32) {
        let lo_x = (-MV_MARGIN - bx) * 4;
        let hi_x = (self.width + MV_MARGIN - 16 - bx) * 4;
        let lo_y = (-MV_MARGIN - by) * 4;
        let hi_y = (self.height + MV_MARGIN - 16 - by) * 4;
        (mv.0.clamp(lo_x, hi_x), mv.1.clamp(lo_y, hi_y))
    }

    /// The 16x16 luma prediction at (bx, by) displaced by a quarter-sample
    /// vector (Table 8-12: each fraction is one plane or the rounded
    /// average of two). `mv` must satisfy `clamp_mv`.
    pub fn luma16(&self, bx: i32, by: i32, mv: (i32, i32), out: &mut [u8; 256]) {
        let (x, y) = (bx + (mv.0 >> 2), by + (mv.1 >> 2));
        let src = LUMA_SOURCES[((mv.0 & 3) * 4 + (mv.1 & 3)) as usize];
        let a = &self.planes[src[0].0];
        let ia = self.index(x + src[0].1, y + src[0].2);
        match src.get(1) {
            None => {
                for r in 0..16 {
                    let s = ia + r * self.stride;
                    out[r * 16..r * 16 + 16].copy_from_slice(&a[s..s + 16]);
                }
            }
            Some(&(p, dx, dy)) => {
                let b = &self.planes[p];
                let ib = self.index(x + dx, y + dy);
                for r in 0..16 {
                    let (sa, sb) = (ia + r * self.stride, ib + r * self.stride);
                    for c in 0..16 {
                        out[r * 16 + c] =
                            ((u16::from(a[sa + c]) + u16::from(b[sb + c]) + 1) >> 1) as u8;
                    }
                }
            }
        }
    }

    /// The 8x8 chroma prediction of plane `k` for the macroblock at luma
    /// (bx, by): eighth-sample bilinear (8-266 ff.), clamped coordinates.
    pub fn chroma8(&self, k: usize, bx: i32, by: i32, mv: (i32, i32), out: &mut [u8; 64]) {
        let plane = &self.chroma[k];
        let (cw, ch) = (self.c_width, self.c_height);
        let (fx, fy) = (mv.0 & 7, mv.1 & 7);
        let (x0, y0) = (bx / 2 + (mv.0 >> 3), by / 2 + (mv.1 >> 3));
        let at = |x: i32, y: i32| {
            i32::from(plane[(y.clamp(0, ch - 1) * cw + x.clamp(0, cw - 1)) as usize])
        };
        for r in 0..8 {
            for c in 0..8 {
                let (x, y) = (x0 + c, y0 + r);
                let v = (8 - fx) * (8 - fy) * at(x, y)
                    + fx * (8 - fy) * at(x + 1, y)
                    + (8 - fx) * fy * at(x, y + 1)
                    + fx * fy * at(x + 1, y + 1);
                out[(r * 8 + c) as usize] = ((v + 32) >> 6) as u8;
            }
        }
    }
}

/// For each quarter-sample fraction (xFrac * 4 + yFrac), the planes averaged
/// and their offsets in whole samples (Table 8-12: G, d, h, n / a, e, i, p /
/// b, f, j, q / c, g, k, r).
const LUMA_SOURCES: [&[(usize, i32, i32)]; 16] = [
    &[(FULL, 0, 0)],
    &[(FULL, 0, 0), (HALF_V, 0, 0)],
    &[(HALF_V, 0, 0)],
    &[(FULL, 0, 1), (HALF_V, 0, 0)],
    &[(FULL, 0, 0), (HALF_H, 0, 0)],
    &[(HALF_H, 0, 0), (HALF_V, 0, 0)],
    &[(HALF_V, 0, 0), (HALF_C, 0, 0)],
    &[(HALF_V, 0, 0), (HALF_H, 0, 1)],
    &[(HALF_H, 0, 0)],
    &[(HALF_H, 0, 0), (HALF_C, 0, 0)],
    &[(HALF_C, 0, 0)],
    &[(HALF_C, 0, 0), (HALF_H, 0, 1)],
    &[(FULL, 1, 0), (HALF_H, 0, 0)],
    &[(HALF_H, 0, 0), (HALF_V, 1, 0)],
    &[(HALF_C, 0, 0), (HALF_V, 1, 0)],
    &[(HALF_V, 1, 0), (HALF_H, 0, 1)],
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct transcription of 8.4.2.2.1 for one sample, to check the planes.
    fn reference_sample(pic: &Yuv420, xq: i32, yq: i32) -> u8 {
        let (w, h) = (pic.width as i32, pic.height as i32);
        let g =
            |x: i32, y: i32| i32::from(pic.y[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize]);
        let (xi, yi, fx, fy) = (xq >> 2, yq >> 2, xq & 3, yq & 3);
        let b1 = |x: i32, y: i32| {
            tap6([
                g(x - 2, y),
                g(x - 1, y),
                g(x, y),
                g(x + 1, y),
                g(x + 2, y),
                g(x + 3, y),
            ])
        };
        let h1 = |x: i32, y: i32| {
            tap6([
                g(x, y - 2),
                g(x, y - 1),
                g(x, y),
                g(x, y + 1),
                g(x, y + 2),
                g(x, y + 3),
            ])
        };
        let b = |x, y| (b1(x, y) + 16) >> 5;
        let hh = |x, y| (h1(x, y) + 16) >> 5;
        let bc = |x, y| b(x, y).clamp(0, 255);
        let hc = |x, y| hh(x, y).clamp(0, 255);
        let j = |x: i32, y: i32| {
            let j1 = tap6([
                b1(x, y - 2),
                b1(x, y - 1),
                b1(x, y),
                b1(x, y + 1),
                b1(x, y + 2),
                b1(x, y + 3),
            ]);
            ((j1 + 512) >> 10).clamp(0, 255)
        };
        let avg = |a: i32, b: i32| (a + b + 1) >> 1;
        let (x, y) = (xi, yi);
        (match (fx, fy) {
            (0, 0) => g(x, y),
            (0, 1) => avg(g(x, y), hc(x, y)),
            (0, 2) => hc(x, y),
            (0, 3) => avg(g(x, y + 1), hc(x, y)),
            (1, 0) => avg(g(x, y), bc(x, y)),
            (1, 1) => avg(bc(x, y), hc(x, y)),
            (1, 2) => avg(hc(x, y), j(x, y)),
            (1, 3) => avg(hc(x, y), bc(x, y + 1)),
            (2, 0) => bc(x, y),
            (2, 1) => avg(bc(x, y), j(x, y)),
            (2, 2) => j(x, y),
            (2, 3) => avg(j(x, y), bc(x, y + 1)),
            (3, 0) => avg(g(x + 1, y), bc(x, y)),
            (3, 1) => avg(bc(x, y), hc(x + 1, y)),
            (3, 2) => avg(j(x, y), hc(x + 1, y)),
            _ => avg(hc(x + 1, y), bc(x, y + 1)),
        }) as u8
    }

    #[test]
    fn every_fraction_matches_the_standard() {
        let mut pic = Yuv420::new(32, 32);
        let mut s = 12345u32;
        for v in pic.y.iter_mut() {
            s = s.wrapping_mul(1103515245).wrapping_add(12345);
            *v = (s >> 24) as u8;
        }
        let r = RefPic::new(&pic);
        for mv in [
            (0, 0),
            (1, 0),
            (2, 3),
            (-5, 7),
            (-70, -63),
            (31, 22),
            (3, 3),
            (6, 1),
        ] {
            for (bx, by) in [(0, 0), (16, 16), (16, 0)] {
                let mv = r.clamp_mv(bx, by, mv);
                let mut out = [0u8; 256];
                r.luma16(bx, by, mv, &mut out);
                for yy in 0..16 {
                    for xx in 0..16 {
                        let want =
                            reference_sample(&pic, (bx + xx) * 4 + mv.0, (by + yy) * 4 + mv.1);
                        assert_eq!(out[(yy * 16 + xx) as usize], want, "mv {mv:?} at {xx},{yy}");
                    }
                }
            }
        }
    }
}
