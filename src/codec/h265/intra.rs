//! Intra sample prediction (8.4.4.2).

use super::tables::{inv_angle, INTRA_ANGLE};

/// Reference samples. `left[0]` == `top[0]` == p[-1][-1]; `left[1+y]` = p[-1][y]; `top[1+x]` = p[x][-1].
#[derive(Clone)]
pub struct Refs {
    pub left: [i32; 65],
    pub top: [i32; 65],
}

impl Refs {
    /// `line` holds 4n+1 samples in substitution order (bottom-left .. corner .. top-right),
    /// `avail` marks which ones exist. Performs the substitution process (8.4.4.2.2).
    pub fn from_line(n: usize, line: &mut [i32], avail: &[bool]) -> Refs {
        let total = 4 * n + 1;
        let mut r = Refs {
            left: [128; 65],
            top: [128; 65],
        };
        if let Some(first) = (0..total).find(|&i| avail[i]) {
            if first > 0 {
                line[0] = line[first];
            }
            for i in 1..total {
                if !avail[i] {
                    line[i] = line[i - 1];
                }
            }
            // line[i] for i < 2n : p[-1][2n-1-i]
            for y in 0..2 * n {
                r.left[1 + y] = line[2 * n - 1 - y];
            }
            r.left[0] = line[2 * n];
            r.top[0] = line[2 * n];
            for x in 0..2 * n {
                r.top[1 + x] = line[2 * n + 1 + x];
            }
        }
        r
    }

    /// [1 2 1] reference smoothing (8.4.4.2.3), strong smoothing disabled.
    pub fn filtered(&self, n: usize) -> Refs {
        let mut f = self.clone();
        let m = 2 * n;
        f.left[0] = (self.left[1] + 2 * self.left[0] + self.top[1] + 2) >> 2;
        f.top[0] = f.left[0];
        for i in 1..m {
            f.left[i] = (self.left[i + 1] + 2 * self.left[i] + self.left[i - 1] + 2) >> 2;
            f.top[i] = (self.top[i + 1] + 2 * self.top[i] + self.top[i - 1] + 2) >> 2;
        }
        f
    }
}

pub fn needs_filter(mode: u32, n: usize) -> bool {
    if mode == 1 || n == 4 {
        return false;
    }
    let d = (mode as i32 - 26).abs().min((mode as i32 - 10).abs());
    let thr = match n {
        8 => 7,
        16 => 1,
        _ => 0,
    };
    d > thr
}

super::dsp::avx2_dispatch!(
    /// Predict an n x n block into `out` (row-major, stride n). `luma` enables edge filters.
    pub fn predict => predict_sized(r: &Refs, n: usize, mode: u32, luma: bool, out: &mut [u8])
);

#[inline(always)]
fn predict_sized(r: &Refs, n: usize, mode: u32, luma: bool, out: &mut [u8]) {
    super::dsp::by_size!(n, predict_n(r, n, mode, luma, out))
}

#[inline(always)]
fn predict_n<const N: usize>(r: &Refs, n: usize, mode: u32, luma: bool, out: &mut [u8]) {
    let n = if N > 0 { N } else { n };
    let log2 = n.trailing_zeros();
    match mode {
        0 => {
            let tr = r.top[1 + n];
            let bl = r.left[1 + n];
            for y in 0..n {
                for x in 0..n {
                    let v = ((n - 1 - x) as i32 * r.left[1 + y]
                        + (x + 1) as i32 * tr
                        + (n - 1 - y) as i32 * r.top[1 + x]
                        + (y + 1) as i32 * bl
                        + n as i32)
                        >> (log2 + 1);
                    out[y * n + x] = v as u8;
                }
            }
        }
        1 => {
            let mut s = n as i32;
            for i in 0..n {
                s += r.top[1 + i] + r.left[1 + i];
            }
            let dc = s >> (log2 + 1);
            for v in out[..n * n].iter_mut() {
                *v = dc as u8;
            }
            if luma && n < 32 {
                out[0] = ((r.left[1] + 2 * dc + r.top[1] + 2) >> 2) as u8;
                for x in 1..n {
                    out[x] = ((r.top[1 + x] + 3 * dc + 2) >> 2) as u8;
                }
                for y in 1..n {
                    out[y * n] = ((r.left[1 + y] + 3 * dc + 2) >> 2) as u8;
                }
            }
        }
        _ => {
            let angle = INTRA_ANGLE[(mode - 2) as usize];
            let vertical = mode >= 18;
            let (main, side) = if vertical {
                (&r.top, &r.left)
            } else {
                (&r.left, &r.top)
            };
            // ref array with offset n: refa[n + i] = ref[i], i in -n..=2n
            let mut refa = [0i32; 3 * 32 + 1];
            let off = n as i32;
            for i in 0..=2 * n {
                refa[n + i] = main[i];
            }
            if angle < 0 {
                let lim = (n as i32 * angle) >> 5;
                if lim < -1 {
                    let inv = inv_angle(angle);
                    let mut x = lim;
                    while x <= -1 {
                        let idx = (x * inv + 128) >> 8;
                        refa[(off + x) as usize] = side[idx as usize];
                        x += 1;
                    }
                }
            }
            for j in 0..n {
                // j is y for vertical, x for horizontal
                let pos = (j as i32 + 1) * angle;
                let idx = pos >> 5;
                let fact = pos & 31;
                for i in 0..n {
                    let base = (off + i as i32 + idx + 1) as usize;
                    let v = if fact != 0 {
                        ((32 - fact) * refa[base] + fact * refa[base + 1] + 16) >> 5
                    } else {
                        refa[base]
                    };
                    if vertical {
                        out[j * n + i] = v as u8;
                    } else {
                        out[i * n + j] = v as u8;
                    }
                }
            }
            if luma && n < 32 {
                if mode == 26 {
                    for y in 0..n {
                        let v = r.top[1] + ((r.left[1 + y] - r.left[0]) >> 1);
                        out[y * n] = v.clamp(0, 255) as u8;
                    }
                } else if mode == 10 {
                    for x in 0..n {
                        let v = r.left[1] + ((r.top[1 + x] - r.top[0]) >> 1);
                        out[x] = v.clamp(0, 255) as u8;
                    }
                }
            }
        }
    }
}
