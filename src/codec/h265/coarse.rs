//! Coarse motion for far references. The block search (`inter::motion_search`) starts from
//! predictors and walks downhill, which finds motion of a few samples per picture but not the
//! 4-8x larger motion between reordered anchors. A full search on quarter-resolution pictures
//! per 32x32 block gives each CU a start near the true motion.

/// Quarter-resolution picture: the mean of each 4x4 block.
pub struct LowRes {
    pub data: Vec<u8>,
    pub w: usize,
    pub h: usize,
}

/// Downsamples a padded luma plane (`pw` x `ph`, multiples of 8) by 4 in each direction.
pub fn downsample(src: &[u8], pw: usize, ph: usize) -> LowRes {
    let (w, h) = (pw / 4, ph / 4);
    let mut data = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0u32;
            for r in 0..4 {
                let o = (y * 4 + r) * pw + x * 4;
                s += src[o..o + 4].iter().map(|&v| v as u32).sum::<u32>();
            }
            data[y * w + x] = ((s + 8) >> 4) as u8;
        }
    }
    LowRes { data, w, h }
}

/// SAD of the 8x8 low-res block at (bx, by) of `cur` against `refp` displaced by (dx, dy),
/// with reference samples clamped to the picture.
fn block_sad(cur: &LowRes, refp: &LowRes, bx: usize, by: usize, dx: i32, dy: i32) -> u32 {
    let (w, h) = (cur.w as i32, cur.h as i32);
    let (rx0, ry0) = (bx as i32 + dx, by as i32 + dy);
    if bx + 8 <= cur.w && by + 8 <= cur.h && rx0 >= 0 && ry0 >= 0 && rx0 + 8 <= w && ry0 + 8 <= h {
        // whole block inside: no clamping
        let mut s = 0u32;
        for r in 0..8 {
            let a = &cur.data[(by + r) * cur.w + bx..][..8];
            let b = &refp.data[(ry0 as usize + r) * refp.w + rx0 as usize..][..8];
            s += a
                .iter()
                .zip(b)
                .map(|(&p, &q)| p.abs_diff(q) as u32)
                .sum::<u32>();
        }
        return s;
    }
    let mut s = 0u32;
    for r in 0..8usize {
        let y = (by + r).min(cur.h - 1);
        let ry = (y as i32 + dy).clamp(0, h - 1) as usize;
        for c in 0..8usize {
            let x = (bx + c).min(cur.w - 1);
            let rx = (x as i32 + dx).clamp(0, w - 1) as usize;
            s += cur.data[y * cur.w + x].abs_diff(refp.data[ry * refp.w + rx]) as u32;
        }
    }
    s
}

/// Motion of every 32x32 block (8x8 at quarter resolution) from `cur` to `refp`, in
/// quarter-sample units of the full picture. Full search of +-`range` low-res samples around
/// zero, then a +-2 refinement around the left and upper neighbours' results (motion is
/// mostly smooth), with a small bias towards shorter vectors.
pub fn block_motion(cur: &LowRes, refp: &LowRes, range: i32) -> (Vec<(i32, i32)>, usize) {
    let bw = cur.w.div_ceil(8);
    let bh = cur.h.div_ceil(8);
    let mut field = vec![(0i32, 0i32); bw * bh];
    let cost = |bx: usize, by: usize, d: (i32, i32)| -> u32 {
        block_sad(cur, refp, bx, by, d.0, d.1) + 2 * (d.0.unsigned_abs() + d.1.unsigned_abs())
    };
    for j in 0..bh {
        for i in 0..bw {
            let (bx, by) = (i * 8, j * 8);
            let mut best = ((0, 0), cost(bx, by, (0, 0)));
            // full search on a 2-sample grid, then refine to 1 sample
            for dy in (-range..=range).step_by(2) {
                for dx in (-range..=range).step_by(2) {
                    let c = cost(bx, by, (dx, dy));
                    if c < best.1 {
                        best = ((dx, dy), c);
                    }
                }
            }
            let mut centres = vec![best.0];
            if i > 0 {
                centres.push(field[j * bw + i - 1]);
            }
            if j > 0 {
                centres.push(field[(j - 1) * bw + i]);
            }
            for c0 in centres {
                for dy in -2..=2 {
                    for dx in -2..=2 {
                        let d = (c0.0 + dx, c0.1 + dy);
                        let c = cost(bx, by, d);
                        if c < best.1 {
                            best = (d, c);
                        }
                    }
                }
            }
            field[j * bw + i] = best.0;
        }
    }
    // low-res samples are 4 full samples = 16 quarter samples
    (field.iter().map(|d| (d.0 * 16, d.1 * 16)).collect(), bw)
}

/// Spreads a 32x32-block field to the 4x4 grid used as search hints.
pub fn to_hints(field: &[(i32, i32)], bw: usize, pw: usize, ph: usize) -> Vec<Option<(i32, i32)>> {
    let (w4, h4) = (pw / 4, ph / 4);
    let mut v = Vec::with_capacity(w4 * h4);
    for y in 0..h4 {
        for x in 0..w4 {
            v.push(field.get((y / 8) * bw + x / 8).copied());
        }
    }
    v
}
