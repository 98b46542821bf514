//! In-loop deblocking filter (8.7.2). SAO is disabled.

use super::tables::{chroma_qp, BETA_TABLE, TC_TABLE};
use super::BlkInfo;

#[inline]
fn bs_of(p: &BlkInfo, q: &BlkInfo, l1_is_l0: bool) -> u8 {
    if p.intra || q.intra {
        2
    } else if p.cbf || q.cbf {
        1
    } else if p.dir == 1 && q.dir == 1 {
        far(p.mv, q.mv) as u8
    } else {
        motion_bs(p, q, l1_is_l0)
    }
}

/// Motion vectors at least one integer sample apart.
#[inline]
fn far(a: (i32, i32), b: (i32, i32)) -> bool {
    (a.0 - b.0).abs() >= 4 || (a.1 - b.1).abs() >= 4
}

/// bS from motion (8.7.2.4) when a block may use L1. Lists hold one picture each, so a picture
/// is identified by its list, except that L1's picture is L0's when `l1_is_l0`.
fn motion_bs(p: &BlkInfo, q: &BlkInfo, l1_is_l0: bool) -> u8 {
    // (picture, mv) of each used list
    type Refs = ([(u8, (i32, i32)); 2], usize);
    let refs = |b: &BlkInfo| -> Refs {
        let l1 = (if l1_is_l0 { 0 } else { 1 }, b.mv1);
        match b.dir {
            1 => ([(0, b.mv), (0, b.mv)], 1),
            2 => ([l1, l1], 1),
            _ => ([(0, b.mv), l1], 2),
        }
    };
    let ((rp, np), (rq, nq)) = (refs(p), refs(q));
    if np != nq {
        return 1;
    }
    if np == 1 {
        return (rp[0].0 != rq[0].0 || far(rp[0].1, rq[0].1)) as u8;
    }
    let (mut pp, mut qp) = ([rp[0].0, rp[1].0], [rq[0].0, rq[1].0]);
    pp.sort_unstable();
    qp.sort_unstable();
    if pp != qp {
        return 1;
    }
    if rp[0].0 != rp[1].0 {
        // two different pictures: compare the vectors that point to the same picture
        let q_for = |pic: u8| if rq[0].0 == pic { rq[0].1 } else { rq[1].1 };
        return (far(rp[0].1, q_for(rp[0].0)) || far(rp[1].1, q_for(rp[1].0))) as u8;
    }
    // both vectors of both blocks point to the same picture: either pairing may match
    let straight = far(rp[0].1, rq[0].1) || far(rp[1].1, rq[1].1);
    let crossed = far(rp[0].1, rq[1].1) || far(rp[1].1, rq[0].1);
    (straight && crossed) as u8
}

#[inline]
fn clip8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// Filter one 4-line luma edge segment. `off` = index of q0 on the first line,
/// `xs` = step across the edge, `ls` = step along the edge.
fn luma_seg(pix: &mut [u8], off: usize, xs: usize, ls: usize, bs: u8, qp: i32) {
    let beta = BETA_TABLE[qp.clamp(0, 51) as usize] as i32;
    let tc = TC_TABLE[(qp + 2 * (bs as i32 - 1)).clamp(0, 53) as usize] as i32;
    if tc == 0 && beta == 0 {
        return;
    }
    let s = |pix: &[u8], line: usize, i: i32| -> i32 {
        let base = off + line * ls;
        if i < 0 {
            pix[base - ((-i) as usize) * xs] as i32
        } else {
            pix[base + (i as usize) * xs] as i32
        }
    };
    // p_i = s(-(i+1)), q_i = s(i)
    let dp0 = (s(pix, 0, -3) - 2 * s(pix, 0, -2) + s(pix, 0, -1)).abs();
    let dp3 = (s(pix, 3, -3) - 2 * s(pix, 3, -2) + s(pix, 3, -1)).abs();
    let dq0 = (s(pix, 0, 2) - 2 * s(pix, 0, 1) + s(pix, 0, 0)).abs();
    let dq3 = (s(pix, 3, 2) - 2 * s(pix, 3, 1) + s(pix, 3, 0)).abs();
    let dpq0 = dp0 + dq0;
    let dpq3 = dp3 + dq3;
    let dp = dp0 + dp3;
    let dq = dq0 + dq3;
    let d = dpq0 + dpq3;
    if d >= beta {
        return;
    }
    let dsam = |pix: &[u8], line: usize, dpq: i32| -> bool {
        let p0 = s(pix, line, -1);
        let p3 = s(pix, line, -4);
        let q0 = s(pix, line, 0);
        let q3 = s(pix, line, 3);
        dpq < (beta >> 2)
            && (p3 - p0).abs() + (q0 - q3).abs() < (beta >> 3)
            && (p0 - q0).abs() < ((5 * tc + 1) >> 1)
    };
    let strong = dsam(pix, 0, 2 * dpq0) && dsam(pix, 3, 2 * dpq3);
    let dep = dp < ((beta + (beta >> 1)) >> 3);
    let deq = dq < ((beta + (beta >> 1)) >> 3);
    for line in 0..4 {
        let base = off + line * ls;
        let p0 = pix[base - xs] as i32;
        let p1 = pix[base - 2 * xs] as i32;
        let p2 = pix[base - 3 * xs] as i32;
        let p3 = pix[base - 4 * xs] as i32;
        let q0 = pix[base] as i32;
        let q1 = pix[base + xs] as i32;
        let q2 = pix[base + 2 * xs] as i32;
        let q3 = pix[base + 3 * xs] as i32;
        if strong {
            let tc2 = 2 * tc;
            pix[base - xs] =
                ((p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1 + 4) >> 3).clamp(p0 - tc2, p0 + tc2) as u8;
            pix[base - 2 * xs] = ((p2 + p1 + p0 + q0 + 2) >> 2).clamp(p1 - tc2, p1 + tc2) as u8;
            pix[base - 3 * xs] =
                ((2 * p3 + 3 * p2 + p1 + p0 + q0 + 4) >> 3).clamp(p2 - tc2, p2 + tc2) as u8;
            pix[base] =
                ((p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2 + 4) >> 3).clamp(q0 - tc2, q0 + tc2) as u8;
            pix[base + xs] = ((p0 + q0 + q1 + q2 + 2) >> 2).clamp(q1 - tc2, q1 + tc2) as u8;
            pix[base + 2 * xs] =
                ((p0 + q0 + q1 + 3 * q2 + 2 * q3 + 4) >> 3).clamp(q2 - tc2, q2 + tc2) as u8;
        } else {
            let mut delta = (9 * (q0 - p0) - 3 * (q1 - p1) + 8) >> 4;
            if delta.abs() < tc * 10 {
                delta = delta.clamp(-tc, tc);
                pix[base - xs] = clip8(p0 + delta);
                pix[base] = clip8(q0 - delta);
                if dep {
                    let dpv = ((((p2 + p0 + 1) >> 1) - p1 + delta) >> 1).clamp(-(tc >> 1), tc >> 1);
                    pix[base - 2 * xs] = clip8(p1 + dpv);
                }
                if deq {
                    let dqv = ((((q2 + q0 + 1) >> 1) - q1 - delta) >> 1).clamp(-(tc >> 1), tc >> 1);
                    pix[base + xs] = clip8(q1 + dqv);
                }
            }
        }
    }
}

fn chroma_seg(pix: &mut [u8], off: usize, xs: usize, ls: usize, lines: usize, tc: i32) {
    if tc == 0 {
        return;
    }
    for line in 0..lines {
        let base = off + line * ls;
        let p0 = pix[base - xs] as i32;
        let p1 = pix[base - 2 * xs] as i32;
        let q0 = pix[base] as i32;
        let q1 = pix[base + xs] as i32;
        let delta = ((((q0 - p0) << 2) + p1 - q1 + 4) >> 3).clamp(-tc, tc);
        pix[base - xs] = clip8(p0 + delta);
        pix[base] = clip8(q0 - delta);
    }
}

/// Splits a plane (`stride` bytes a row) at the given row boundaries (`rows[0]` = 0, the
/// last = all rows) into disjoint bands.
fn split_rows<'a>(mut buf: &'a mut [u8], stride: usize, rows: &[usize]) -> Vec<&'a mut [u8]> {
    let mut out = Vec::with_capacity(rows.len().saturating_sub(1));
    for w in rows.windows(2) {
        let (a, b) = std::mem::take(&mut buf).split_at_mut((w[1] - w[0]) * stride);
        out.push(a);
        buf = b;
    }
    out
}

/// Runs `job(band, y, u, v)` on every band, band 0 on this thread and the others on spawned
/// threads.
fn run_bands<F>(ys: Vec<&mut [u8]>, us: Vec<&mut [u8]>, vs: Vec<&mut [u8]>, job: F)
where
    F: Fn(usize, &mut [u8], &mut [u8], &mut [u8]) + Sync,
{
    let job = &job;
    let mut bands = ys.into_iter().zip(us).zip(vs).enumerate();
    let Some((_, ((y0, u0), v0))) = bands.next() else {
        return;
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = bands
            .map(|(k, ((y, u), v))| s.spawn(move || job(k, y, u, v)))
            .collect();
        job(0, y0, u0, v0);
        for h in handles {
            let _ = h.join();
        }
    });
}

/// Deblock a whole picture in place. Planes are tight (stride = width). With `bands` > 1 the
/// vertical edges and then the horizontal edges are filtered in that many row bands in
/// parallel; each edge belongs to exactly one band and the samples an edge reads or writes
/// lie inside its band (edges are 8 samples apart and touch at most 4 on either side), so the
/// result is the same as filtering serially.
pub fn deblock_picture(
    y: &mut [u8],
    u: &mut [u8],
    v: &mut [u8],
    pw: usize,
    ph: usize,
    info: &[BlkInfo],
    qp: i32,
    l1_is_l0: bool,
    bands: usize,
) {
    let w4 = pw / 4;
    let h4 = ph / 4;
    let cw = pw / 2;
    let qpc = chroma_qp(qp);
    let tcc = TC_TABLE[(qpc + 2).clamp(0, 53) as usize] as i32;
    // band boundaries in 4-row block lines, even (horizontal edges lie on even lines)
    let nb = bands.clamp(1, (h4 / 8).max(1));
    let mut b: Vec<usize> = (0..nb).map(|k| (h4 * k / nb) & !1).collect();
    b.push(h4);
    // vertical edges: band k holds block lines b[k]..b[k+1]
    let lrows: Vec<usize> = b.iter().map(|&l| l * 4).collect();
    let crows: Vec<usize> = b.iter().map(|&l| l * 2).collect();
    run_bands(
        split_rows(y, pw, &lrows),
        split_rows(u, cw, &crows),
        split_rows(v, cw, &crows),
        |k, y, u, v| {
            let by0 = b[k];
            for by in by0..b[k + 1] {
                for bx in (2..w4).step_by(2) {
                    let q = &info[by * w4 + bx];
                    if !q.edge_v {
                        continue;
                    }
                    let p = &info[by * w4 + bx - 1];
                    let bs = bs_of(p, q, l1_is_l0);
                    if bs == 0 {
                        continue;
                    }
                    luma_seg(y, (by - by0) * 4 * pw + bx * 4, 1, pw, bs, qp);
                    if bs == 2 && bx % 4 == 0 {
                        let off = (by - by0) * 2 * cw + bx * 2;
                        chroma_seg(u, off, 1, cw, 2, tcc);
                        chroma_seg(v, off, 1, cw, 2, tcc);
                    }
                }
            }
        },
    );
    // horizontal edges: band k holds the edges on lines b[k]..b[k+1]; the rows they touch
    // start 4 luma (2 chroma) rows above the first line
    let lrows: Vec<usize> = b
        .iter()
        .enumerate()
        .map(|(k, &l)| {
            if k == nb {
                ph
            } else {
                (l * 4).saturating_sub(4)
            }
        })
        .collect();
    let crows: Vec<usize> = b
        .iter()
        .enumerate()
        .map(|(k, &l)| {
            if k == nb {
                ph / 2
            } else {
                (l * 2).saturating_sub(2)
            }
        })
        .collect();
    run_bands(
        split_rows(y, pw, &lrows),
        split_rows(u, cw, &crows),
        split_rows(v, cw, &crows),
        |k, y, u, v| {
            let (lbase, cbase) = (lrows[k], crows[k]);
            for by in (b[k].max(2)..b[k + 1]).step_by(2) {
                for bx in 0..w4 {
                    let q = &info[by * w4 + bx];
                    if !q.edge_h {
                        continue;
                    }
                    let p = &info[(by - 1) * w4 + bx];
                    let bs = bs_of(p, q, l1_is_l0);
                    if bs == 0 {
                        continue;
                    }
                    luma_seg(y, (by * 4 - lbase) * pw + bx * 4, pw, 1, bs, qp);
                    if bs == 2 && by % 4 == 0 {
                        let off = (by * 2 - cbase) * cw + bx * 2;
                        chroma_seg(u, off, cw, 1, 2, tcc);
                        chroma_seg(v, off, cw, 1, 2, tcc);
                    }
                }
            }
        },
    );
}
