//! B-slice inter coding: the merge list with combined bi-predictive and bi zero candidates
//! (8.5.3.2.2-8.5.3.2.5), AMVP per list with POC-distance scaling (8.5.3.2.6-8.5.3.2.8),
//! bi-prediction and the CU mode decision (merge / L0 / L1 / bi).
//!
//! Each list holds one picture, so every reference index is 0; temporal candidates are off
//! (slice_temporal_mvp_enabled_flag = 0).

use super::super::inter::{avg_u8, bi_average, mc_chroma16, mc_luma16, mvd_bits};
use super::*;

/// Motion of a prediction unit: `dir` bit 0 = L0, bit 1 = L1. Unused vectors are (0, 0), so
/// equal motion (same vectors, same reference indices) is plain equality.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) struct Motion {
    pub dir: u8,
    pub mv: [(i32, i32); 2],
}

/// Candidate pairs of the combined bi-predictive merge candidates (Table 8-6).
const L0_CAND: [usize; 12] = [0, 1, 0, 2, 1, 2, 0, 3, 1, 3, 2, 3];
const L1_CAND: [usize; 12] = [1, 0, 2, 0, 2, 1, 3, 0, 3, 1, 3, 2];

/// Scales a neighbour's vector that points `td` pictures back to one pointing `tb` back
/// (8.5.3.2.8; both pictures short-term).
fn scale_mv(mv: (i32, i32), td: i32, tb: i32) -> (i32, i32) {
    let td = td.clamp(-128, 127);
    let tb = tb.clamp(-128, 127);
    if td == 0 {
        return mv;
    }
    let tx = (16384 + (td.abs() >> 1)) / td;
    let dsf = ((tb * tx + 32) >> 6).clamp(-4096, 4095);
    let s = |v: i32| {
        let p = dsf * v;
        (p.signum() * ((p.abs() + 127) >> 8)).clamp(-32768, 32767)
    };
    (s(mv.0), s(mv.1))
}

/// 8x4 and 4x8 prediction blocks may not be bi-predicted: merge candidates fall back to L0
/// (8.5.3.2.2). CUs here are at least 8x8, so this never changes anything; kept for the spec.
fn restrict_bi(m: Motion, w: usize, h: usize) -> Motion {
    if w + h == 12 && m.dir == 3 {
        Motion {
            dir: 1,
            mv: [m.mv[0], (0, 0)],
        }
    } else {
        m
    }
}

/// Approximate bits of one list's mvd against its predictor.
fn mv_bits(mv: (i32, i32), p: (i32, i32)) -> u32 {
    mvd_bits(mv.0 - p.0) + mvd_bits(mv.1 - p.1)
}

impl<'a> SliceEnc<'a> {
    /// Motion of an available inter neighbour.
    fn motion_at(&self, x: usize, y: usize, xn: isize, yn: isize) -> Option<Motion> {
        if !self.avail(x, y, xn, yn) {
            return None;
        }
        let i = self.inf(xn as usize, yn as usize);
        if i.intra {
            None
        } else {
            Some(Motion {
                dir: i.dir,
                mv: [i.mv, i.mv1],
            })
        }
    }

    /// Merge candidate list of an n x n 2Nx2N CU in a B slice.
    fn merge_list_b(&self, x: usize, y: usize, n: usize) -> [Motion; MAX_MERGE_CAND as usize] {
        let (xi, yi, ni) = (x as isize, y as isize, n as isize);
        let a1 = self.motion_at(x, y, xi - 1, yi + ni - 1);
        let b1 = self.motion_at(x, y, xi + ni - 1, yi - 1);
        let b0 = self.motion_at(x, y, xi + ni, yi - 1);
        let a0 = self.motion_at(x, y, xi - 1, yi + ni);
        let b2 = self.motion_at(x, y, xi - 1, yi - 1);
        const MAX: usize = MAX_MERGE_CAND as usize;
        let mut list = [Motion::default(); MAX];
        let mut cnt = 0;
        let spatial = [
            a1,
            b1.filter(|&m| a1 != Some(m)),
            b0.filter(|&m| b1 != Some(m)),
            a0.filter(|&m| a1 != Some(m)),
        ];
        for m in spatial.into_iter().flatten() {
            list[cnt] = m;
            cnt += 1;
        }
        // B2 only when fewer than four of A1, B1, B0, A0 made it (pruned ones count as absent)
        if cnt < 4 {
            if let Some(m) = b2.filter(|&m| a1 != Some(m) && b1 != Some(m)) {
                list[cnt] = m;
                cnt += 1;
            }
        }
        let orig = cnt;
        if orig > 1 && orig < MAX {
            let mut comb = 0;
            while comb < orig * (orig - 1) && cnt < MAX {
                let (c0, c1) = (list[L0_CAND[comb]], list[L1_CAND[comb]]);
                if c0.dir & 1 != 0
                    && c1.dir & 2 != 0
                    && (self.f.ref_poc[0] != self.f.ref_poc[1] || c0.mv[0] != c1.mv[1])
                {
                    list[cnt] = Motion {
                        dir: 3,
                        mv: [c0.mv[0], c1.mv[1]],
                    };
                    cnt += 1;
                }
                comb += 1;
            }
        }
        // zero candidates: with one picture per list every one uses ref_idx 0 in both lists
        for m in list.iter_mut().skip(cnt) {
            *m = Motion {
                dir: 3,
                mv: [(0, 0); 2],
            };
        }
        list.map(|m| restrict_bi(m, n, n))
    }

    /// AMVP candidates of list `lx` (reference index 0) for an n x n CU in a B slice.
    fn amvp_list_b(&self, x: usize, y: usize, n: usize, lx: usize) -> [(i32, i32); 2] {
        let (xi, yi, ni) = (x as isize, y as isize, n as isize);
        let cur = self.f.poc as i32;
        let rp = self.f.ref_poc;
        let target = rp[lx];
        let order = [lx, 1 - lx];
        // a vector of the neighbour that points to the target picture (LX first, then LY)
        let same = |m: &Motion| {
            order
                .iter()
                .find(|&&l| m.dir & (1 << l) != 0 && rp[l] == target)
                .map(|&l| m.mv[l])
        };
        // otherwise the neighbour's LX (else LY) vector, scaled by the POC distances
        let scaled = |m: &Motion| {
            order
                .iter()
                .find(|&&l| m.dir & (1 << l) != 0)
                .map(|&l| scale_mv(m.mv[l], cur - rp[l], cur - target))
        };
        let a = [
            self.motion_at(x, y, xi - 1, yi + ni),
            self.motion_at(x, y, xi - 1, yi + ni - 1),
        ];
        let is_scaled = a.iter().any(|m| m.is_some());
        let mut mva = a
            .iter()
            .flatten()
            .find_map(same)
            .or_else(|| a.iter().flatten().find_map(scaled));
        let b = [
            self.motion_at(x, y, xi + ni, yi - 1),
            self.motion_at(x, y, xi + ni - 1, yi - 1),
            self.motion_at(x, y, xi - 1, yi - 1),
        ];
        let mut mvb = b.iter().flatten().find_map(same);
        if !is_scaled {
            if mvb.is_some() {
                mva = mvb;
            }
            mvb = b.iter().flatten().find_map(scaled);
        }
        amvp_pair(mva, mvb)
    }

    fn set_motion(&mut self, x: usize, y: usize, n: usize, m: Motion) {
        let w4 = self.w4();
        for r in 0..n / 4 {
            let o = ((y - self.y0) / 4 + r) * w4 + x / 4;
            for b in &mut self.info[o..o + n / 4] {
                b.mv = m.mv[0];
                b.mv1 = m.mv[1];
                b.dir = m.dir;
            }
        }
    }

    /// Full B-slice inter decision for a 2Nx2N CU; returns RD cost, decision (recon written)
    /// and the luma SATD of the chosen prediction.
    pub(super) fn inter_code_b(
        &mut self,
        x: usize,
        y: usize,
        n: usize,
        depth: u8,
    ) -> (f64, CuDec, f64) {
        let refs = match (self.f.refp, self.f.refp1) {
            (Some(a), Some(b)) => [a, b],
            _ => return (f64::MAX, self.dummy(x, y, n), f64::MAX),
        };
        let pw = self.f.pw;
        let sl = self.sqrt_lambda;
        let fast = self.f.fast >= 2;
        let src = &self.f.src_y[y * pw + x..];
        let metric = |b: &[u8]| -> u32 {
            if fast {
                sad(src, pw, b, n, n, n)
            } else {
                satd(src, pw, b, n, n, n)
            }
        };
        let mut tmp = [0u8; 1024];
        // merge candidates
        let mc = self.merge_list_b(x, y, n);
        let mut best_merge = (0usize, f64::MAX);
        for (i, &m) in mc.iter().enumerate() {
            if mc[..i].contains(&m) {
                continue;
            }
            est_luma(refs, x, y, n, m, &mut tmp);
            let c = metric(&tmp[..n * n]) as f64 + sl * (1.0 + i as f64);
            if c < best_merge.1 {
                best_merge = (i, c);
            }
        }
        // uni-directional searches
        let lam16 = (sl * 16.0) as u32;
        let sp = SearchParams {
            range: 16,
            lambda: lam16,
            subpel_square: true,
            use_sad: fast,
            coarse: n == 32 || self.parent_mv.is_none(),
        };
        let amvp = [self.amvp_list_b(x, y, n, 0), self.amvp_list_b(x, y, n, 1)];
        let same_pic = self.f.ref_poc[0] == self.f.ref_poc[1];
        let cur = self.f.poc as i32;
        let w4 = pw >> 2;
        let centre4 =
            ((y + n / 2) >> 2).min((self.f.ph >> 2) - 1) * w4 + ((x + n / 2) >> 2).min(w4 - 1);
        let at =
            |h: Option<&[Option<(i32, i32)>]>| h.and_then(|h| h.get(centre4).copied().flatten());
        let prev = at(self.f.prev_mvs);
        // coarse motion to each list's picture, else the last reference's motion scaled
        let hints = [0, 1].map(|l| {
            at(self.f.list_hints[l]).or_else(|| {
                prev.map(|h| scale_mv(h, self.f.prev_mvs_dist, cur - self.f.ref_poc[l]))
            })
        });
        let mut buf = std::mem::take(&mut self.scratch);
        let mut uni = [((0, 0), u32::MAX); 2];
        for l in 0..2 {
            if l == 1 && same_pic {
                // both lists hold the same picture: L1 alone can only repeat L0
                uni[1] = (uni[0].0, uni[0].1.saturating_add(1));
                continue;
            }
            let mut starts = [(0i32, 0i32); 8];
            starts[0] = amvp[l][1];
            let mut ns = 2;
            if l == 0 {
                if let Some(m) = self.parent_mv {
                    starts[ns] = m;
                    ns += 1;
                }
            }
            if let Some(h) = hints[l] {
                starts[ns] = h;
                ns += 1;
            }
            for m in mc.iter().filter(|m| m.dir & (1 << l) != 0).take(3) {
                starts[ns] = m.mv[l];
                ns += 1;
            }
            let r = refs[l];
            uni[l] = motion_search(
                src,
                pw,
                &r.y,
                &r.hp,
                x as i32,
                y as i32,
                n,
                n,
                amvp[l][0],
                &starts[..ns],
                &sp,
                &mut buf,
            );
        }
        self.scratch = buf;
        let mvp_idx = |l: usize, mv: (i32, i32)| -> usize {
            (mv_bits(mv, amvp[l][1]) < mv_bits(mv, amvp[l][0])) as usize
        };
        let mv_cost = |l: usize, mv: (i32, i32)| -> u32 {
            (lam16 * mv_bits(mv, amvp[l][mvp_idx(l, mv)])) >> 4
        };
        // bi: the average of the two uni predictions, then one refinement step of L1 over the
        // half-sample grid (read from the precomputed planes, so no interpolation here)
        let mut p0 = [0u8; 1024];
        let mut p1 = [0u8; 1024];
        luma_u8(refs[0], x, y, n, uni[0].0, &mut p0);
        let mut bi = (uni[0].0, uni[1].0);
        let c0 = mv_cost(0, bi.0);
        let mut bi_cost = if same_pic {
            // (mv, mv) from one picture is the uni prediction again: only refined vectors count
            u32::MAX
        } else {
            luma_u8(refs[1], x, y, n, bi.1, &mut p1);
            avg_u8(&p0[..n * n], &p1[..n * n], &mut tmp[..n * n]);
            metric(&tmp[..n * n]) + c0 + mv_cost(1, bi.1)
        };
        let centre = (uni[1].0 .0 & !1, uni[1].0 .1 & !1);
        for d in [(0, 0), (-2, 0), (2, 0), (0, -2), (0, 2)] {
            let cand = (centre.0 + d.0, centre.1 + d.1);
            if cand == uni[1].0 && !same_pic {
                continue;
            }
            let Some((v, st)) = pred_view(refs[1], x, y, n, cand) else {
                continue;
            };
            for row in 0..n {
                avg_u8(
                    &p0[row * n..row * n + n],
                    &v[row * st..row * st + n],
                    &mut tmp[row * n..row * n + n],
                );
            }
            let c = metric(&tmp[..n * n]) + c0 + mv_cost(1, cand);
            if c < bi_cost {
                bi_cost = c;
                bi.1 = cand;
            }
        }
        // pick merge, L0, L1 or bi (side bits: merge flag, inter_pred_idc, mvp flags)
        let opts = [
            uni[0].1 as f64 + sl * 3.0,
            uni[1].1 as f64 + sl * 3.0,
            bi_cost as f64 + sl * 4.0,
        ];
        let mut amvp_pick = 0;
        for k in 1..3 {
            if opts[k] < opts[amvp_pick] {
                amvp_pick = k;
            }
        }
        let use_merge = best_merge.1 <= opts[amvp_pick];
        let amvp_motion = match amvp_pick {
            0 => Motion {
                dir: 1,
                mv: [uni[0].0, (0, 0)],
            },
            1 => Motion {
                dir: 2,
                mv: [(0, 0), uni[1].0],
            },
            _ => Motion {
                dir: 3,
                mv: [bi.0, bi.1],
            },
        };
        let mut m = if use_merge {
            mc[best_merge.0]
        } else {
            amvp_motion
        };
        let mut pred = [0u8; 1024];
        let nc = n / 2;
        let (xc, yc) = (x / 2, y / 2);
        let mut pu = [0u8; 256];
        let mut pv = [0u8; 256];
        pred_b(refs, x, y, n, m, &mut pred, &mut pu, &mut pv);
        let satd_cost = satd(src, pw, &pred, n, n, n) as f64;
        let mut coeffs = Vec::with_capacity(n * n * 3 / 2);
        let (d0, b0, c0) = self.code_block(0, x, y, n, &pred, false, false, &mut coeffs);
        let (d1, b1, c1) = self.code_block(1, xc, yc, nc, &pu, false, false, &mut coeffs);
        let (d2, b2, c2) = self.code_block(2, xc, yc, nc, &pv, false, false, &mut coeffs);
        let any = c0 || c1 || c2;
        let mut mvp = [0u8; 2];
        let mut mvd = [(0, 0); 2];
        let mut side_bits = 1.0 + best_merge.0 as f64;
        if !use_merge {
            side_bits = if m.dir == 3 { 2.0 } else { 3.0 };
            for l in 0..2 {
                if m.dir & (1 << l) != 0 {
                    let k = mvp_idx(l, m.mv[l]);
                    let p = amvp[l][k];
                    mvp[l] = k as u8;
                    mvd[l] = (m.mv[l].0 - p.0, m.mv[l].1 - p.1);
                    side_bits += mv_bits(m.mv[l], p) as f64 + 1.0;
                }
            }
        }
        let mut cost = (d0 + d1 + d2) as f64
            + self.lambda * (b0 + b1 + b2 + side_bits + 2.0 + if any { 2.0 } else { 0.0 });
        let mut pred_kind = if use_merge {
            let merge = best_merge.0 as u8;
            if any {
                Pred::Merge { merge }
            } else {
                Pred::Skip { merge }
            }
        } else {
            Pred::AmvpB {
                dir: m.dir,
                mvd,
                mvp,
            }
        };
        let mut cbf = [c0, c1, c2];
        // skip (best merge candidate, no residual) when it is cheaper overall
        let skip_better = matches!(pred_kind, Pred::Merge { .. } | Pred::AmvpB { .. });
        if skip_better {
            let mm = mc[best_merge.0];
            let (mut p2, mut pu2, mut pv2) = ([0u8; 1024], [0u8; 256], [0u8; 256]);
            let (py, puu, pvv): (&[u8], &[u8], &[u8]) = if use_merge {
                (&pred, &pu, &pv)
            } else {
                pred_b(refs, x, y, n, mm, &mut p2, &mut pu2, &mut pv2);
                (&p2, &pu2, &pv2)
            };
            let ds = sse(src, pw, py, n, n, n)
                + sse(&self.f.src_u[yc * (pw / 2) + xc..], pw / 2, puu, nc, nc, nc)
                + sse(&self.f.src_v[yc * (pw / 2) + xc..], pw / 2, pvv, nc, nc, nc);
            let cs = ds as f64 + self.lambda * (1.0 + best_merge.0 as f64);
            if cs < cost {
                cost = cs;
                pred_kind = Pred::Skip {
                    merge: best_merge.0 as u8,
                };
                cbf = [false; 3];
                for v in coeffs.iter_mut() {
                    *v = 0;
                }
                m = mm;
                let (a, b, c) = (py.to_vec(), puu.to_vec(), pvv.to_vec());
                self.write_pred(x, y, n, &a, &b, &c);
            }
        }
        let skip = matches!(pred_kind, Pred::Skip { .. });
        self.set_info(x, y, n, depth, false, skip, 1, m.mv[0], cbf[0]);
        self.set_motion(x, y, n, m);
        (
            cost,
            CuDec {
                x: x as u32,
                y: y as u32,
                log2: n.trailing_zeros(),
                pred: pred_kind,
                cbf,
                coeffs,
            },
            satd_cost,
        )
    }
}

/// Exact uni-prediction of an n x n luma block from one reference.
fn luma_u8(r: &RefFrame, x: usize, y: usize, n: usize, mv: (i32, i32), out: &mut [u8]) {
    match pred_view(r, x, y, n, mv) {
        Some((v, s)) => {
            for row in 0..n {
                out[row * n..row * n + n].copy_from_slice(&v[row * s..row * s + n]);
            }
        }
        None => mc_luma(&r.y, x as i32, y as i32, n, n, mv, out),
    }
}

/// Luma prediction estimate for the search: exact for one list, the rounded average of the two
/// uni predictions for bi (exact when both vectors are full-sample).
fn est_luma(refs: [&RefFrame; 2], x: usize, y: usize, n: usize, m: Motion, out: &mut [u8]) {
    match m.dir {
        1 => luma_u8(refs[0], x, y, n, m.mv[0], out),
        2 => luma_u8(refs[1], x, y, n, m.mv[1], out),
        _ => {
            let mut a = [0u8; 1024];
            let mut b = [0u8; 1024];
            luma_u8(refs[0], x, y, n, m.mv[0], &mut a);
            luma_u8(refs[1], x, y, n, m.mv[1], &mut b);
            avg_u8(&a[..n * n], &b[..n * n], &mut out[..n * n]);
        }
    }
}

/// Exact final prediction (luma n x n, chroma n/2 x n/2) of a motion.
fn pred_b(
    refs: [&RefFrame; 2],
    x: usize,
    y: usize,
    n: usize,
    m: Motion,
    py: &mut [u8],
    pu: &mut [u8],
    pv: &mut [u8],
) {
    let nc = n / 2;
    let (xc, yc) = ((x / 2) as i32, (y / 2) as i32);
    if m.dir != 3 {
        let l = if m.dir == 1 { 0 } else { 1 };
        let (r, mv) = (refs[l], m.mv[l]);
        luma_u8(r, x, y, n, mv, py);
        mc_chroma(&r.u, xc, yc, nc, nc, mv, pu);
        mc_chroma(&r.v, xc, yc, nc, nc, mv, pv);
        return;
    }
    let mut a = [0i16; 1024];
    let mut b = [0i16; 1024];
    let (r0, r1) = (refs[0], refs[1]);
    mc_luma16(&r0.y, x as i32, y as i32, n, n, m.mv[0], &mut a);
    mc_luma16(&r1.y, x as i32, y as i32, n, n, m.mv[1], &mut b);
    bi_average(&a[..n * n], &b[..n * n], &mut py[..n * n]);
    let k = nc * nc;
    mc_chroma16(&r0.u, xc, yc, nc, nc, m.mv[0], &mut a);
    mc_chroma16(&r1.u, xc, yc, nc, nc, m.mv[1], &mut b);
    bi_average(&a[..k], &b[..k], &mut pu[..k]);
    mc_chroma16(&r0.v, xc, yc, nc, nc, m.mv[0], &mut a);
    mc_chroma16(&r1.v, xc, yc, nc, nc, m.mv[1], &mut b);
    bi_average(&a[..k], &b[..k], &mut pv[..k]);
}
