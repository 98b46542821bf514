//! libvenc's own B slices (CAVLC, Main profile) between two anchors coded by
//! openh264. Every macroblock is B_L0_16x16, B_L1_16x16 or B_Bi_16x16 with
//! one reference per list, or B_Skip / B_Direct_16x16 where spatial direct
//! prediction gives zero vectors (only then is it independent of the
//! co-located anchor's motion, which openh264 does not tell us). The
//! pictures are never referenced, so no reconstruction is kept: the
//! decoder's deblocking only affects what it shows.

mod cavlc;
mod mc;
mod tables;
mod transform;

pub use mc::RefPic;

use super::bits::{se_len, BitWriter};
use crate::frame::Yuv420;
use tables::{chroma_qp, BLOCK_XY, INTER_CBP, ZIGZAG_4X4};

/// What the slice header of one B picture needs.
#[derive(Clone, Copy, Debug)]
pub struct BSliceParams {
    pub pps_id: u32,
    pub log2_max_frame_num: u32,
    pub frame_num: u32,
    pub log2_max_poc_lsb: u32,
    pub poc_lsb: u32,
    pub pic_init_qp: i32,
    pub chroma_qp_offset: i32,
    pub deblocking_control_present: bool,
    pub qp: i32,
    /// The level's vertical motion vector limit in whole samples (Table A-1).
    pub max_mv_y: i32,
}

/// Prediction chosen for one macroblock: the vector per list, None when the
/// list is unused (refIdx -1 for neighbours' prediction).
type MbMotion = [Option<(i32, i32)>; 2];

/// mb_type values of Table 7-14 for the three 16x16 predictions.
const MB_DIRECT: u32 = 0;
const MB_L0: u32 = 1;
const MB_L1: u32 = 2;
const MB_BI: u32 = 3;

/// Codes `src` (macroblock-aligned size) as one B slice predicted from `l0`
/// (the anchor before it in display order) and `l1` (the one after).
/// Returns the NAL unit RBSP with its header byte first.
pub fn encode_b_picture(src: &Yuv420, l0: &RefPic, l1: &RefPic, p: &BSliceParams) -> Vec<u8> {
    let mbw = (src.width / 16) as usize;
    let mbh = (src.height / 16) as usize;
    let mut w = BitWriter::new();
    write_header(&mut w, p);
    let mut st = PictureState::new(mbw, mbh, p.qp);
    for mby in 0..mbh {
        for mbx in 0..mbw {
            let mb = MbCoder {
                src,
                refs: [l0, l1],
                mbx,
                mby,
                qp: p.qp,
                qpc: chroma_qp(p.qp, p.chroma_qp_offset),
                max_mv_y: p.max_mv_y,
            };
            mb.code(&mut st, &mut w);
        }
    }
    if st.skip_run > 0 {
        w.ue(st.skip_run);
    }
    w.finish()
}

fn write_header(w: &mut BitWriter, p: &BSliceParams) {
    w.put(0x01, 8); // nal_ref_idc 0, non-IDR slice
    w.ue(0); // first_mb_in_slice
    w.ue(1); // slice_type B
    w.ue(p.pps_id);
    w.put(p.frame_num, p.log2_max_frame_num);
    w.put(p.poc_lsb, p.log2_max_poc_lsb);
    w.flag(true); // direct_spatial_mv_pred_flag (no direct macroblocks are coded)
    w.flag(true); // num_ref_idx_active_override_flag
    w.ue(0); // one list-0 reference: the anchor before
    w.ue(0); // one list-1 reference: the anchor after
    w.flag(false); // ref_pic_list_modification_flag_l0
    w.flag(false); // ref_pic_list_modification_flag_l1
    w.se(p.qp - p.pic_init_qp);
    if p.deblocking_control_present {
        w.ue(0); // deblock as usual
        w.se(0);
        w.se(0);
    }
}

/// What later macroblocks need from earlier ones.
struct PictureState {
    mbw: usize,
    motion: Vec<MbMotion>,
    /// TotalCoeff of each luma 4x4 block, picture raster of 4x4 blocks.
    luma_nz: Vec<u8>,
    /// TotalCoeff of each chroma AC 4x4 block per component.
    chroma_nz: [Vec<u8>; 2],
    lambda: i32,
    /// Skipped macroblocks not yet written (mb_skip_run).
    skip_run: u32,
}

impl PictureState {
    fn new(mbw: usize, mbh: usize, qp: i32) -> Self {
        PictureState {
            mbw,
            motion: vec![[None, None]; mbw * mbh],
            luma_nz: vec![0; mbw * mbh * 16],
            chroma_nz: [vec![0; mbw * mbh * 4], vec![0; mbw * mbh * 4]],
            lambda: lambda_sad(qp),
            skip_run: 0,
        }
    }

    /// Motion vector prediction for a 16x16 partition (8.4.1.3): median of
    /// the left, upper and upper-right (else upper-left) neighbours, or the
    /// one neighbour using the same reference.
    fn mvp(&self, mbx: usize, mby: usize, list: usize) -> (i32, i32) {
        let get = |x: usize, y: usize| self.motion[y * self.mbw + x][list];
        let a = (mbx > 0).then(|| get(mbx - 1, mby));
        let b = (mby > 0).then(|| get(mbx, mby - 1));
        let c = if mby > 0 && mbx + 1 < self.mbw {
            Some(get(mbx + 1, mby - 1))
        } else if mby > 0 && mbx > 0 {
            Some(get(mbx - 1, mby - 1))
        } else {
            None
        };
        let (b, c) = if b.is_none() && c.is_none() && a.is_some() {
            (a, a)
        } else {
            (b, c)
        };
        // Flatten availability: unavailable and unused lists are refIdx -1, mv 0.
        let n = [a.flatten(), b.flatten(), c.flatten()];
        let same: Vec<(i32, i32)> = n.iter().flatten().copied().collect();
        if same.len() == 1 {
            return same[0];
        }
        let v = n.map(|m| m.unwrap_or((0, 0)));
        (
            median(v[0].0, v[1].0, v[2].0),
            median(v[0].1, v[1].1, v[2].1),
        )
    }
}

impl PictureState {
    /// Spatial direct prediction (8.4.1.2.2) when it does not depend on the
    /// co-located picture: each list is used if a neighbour uses it (all our
    /// references have refIdx 0), or both with zero vectors if none does; its
    /// vector is the 16x16 prediction, which colZeroFlag may replace by zero,
    /// so only zero predictions are taken.
    fn direct(&self, mbx: usize, mby: usize) -> Option<MbMotion> {
        let get = |x: usize, y: usize| self.motion[y * self.mbw + x];
        let mut neighbours = Vec::with_capacity(3);
        if mbx > 0 {
            neighbours.push(get(mbx - 1, mby));
        }
        if mby > 0 {
            neighbours.push(get(mbx, mby - 1));
            if mbx + 1 < self.mbw {
                neighbours.push(get(mbx + 1, mby - 1));
            } else if mbx > 0 {
                neighbours.push(get(mbx - 1, mby - 1));
            }
        }
        let used = [0, 1].map(|l| neighbours.iter().any(|n| n[l].is_some()));
        if !used[0] && !used[1] {
            return Some([Some((0, 0)), Some((0, 0))]);
        }
        let mut out: MbMotion = [None, None];
        for list in 0..2 {
            if used[list] {
                if self.mvp(mbx, mby, list) != (0, 0) {
                    return None;
                }
                out[list] = Some((0, 0));
            }
        }
        Some(out)
    }
}

fn median(a: i32, b: i32, c: i32) -> i32 {
    a.max(b).min(a.min(b).max(c))
}

/// Lagrangian weight of motion bits against SAD: sqrt(0.85 · 2^((QP-12)/3)).
fn lambda_sad(qp: i32) -> i32 {
    ((0.85 * 2f64.powf(f64::from(qp - 12) / 3.0)).sqrt().round() as i32).max(1)
}

fn mv_bits(mv: (i32, i32), mvp: (i32, i32)) -> i32 {
    (se_len(mv.0 - mvp.0) + se_len(mv.1 - mvp.1)) as i32
}

struct MbCoder<'a> {
    src: &'a Yuv420,
    refs: [&'a RefPic; 2],
    mbx: usize,
    mby: usize,
    qp: i32,
    qpc: i32,
    max_mv_y: i32,
}

impl MbCoder<'_> {
    fn bx(&self) -> i32 {
        (self.mbx * 16) as i32
    }
    fn by(&self) -> i32 {
        (self.mby * 16) as i32
    }

    fn src_block(&self) -> [u8; 256] {
        let w = self.src.width as usize;
        let mut out = [0u8; 256];
        for r in 0..16 {
            let s = (self.mby * 16 + r) * w + self.mbx * 16;
            out[r * 16..r * 16 + 16].copy_from_slice(&self.src.y[s..s + 16]);
        }
        out
    }

    /// SAD of the source block against an integer-displaced reference block.
    fn sad_full(&self, src: &[u8; 256], r: &RefPic, dx: i32, dy: i32) -> i32 {
        let mut sad = 0i32;
        for row in 0..16 {
            let refrow = r.full_row(self.bx() + dx, self.by() + dy + row as i32, 16);
            for (a, b) in src[row * 16..row * 16 + 16].iter().zip(refrow) {
                sad += (i32::from(*a) - i32::from(*b)).abs();
            }
        }
        sad
    }

    /// Keeps a vector inside the search area and the level's vertical range.
    fn clamp(&self, r: &RefPic, mv: (i32, i32)) -> (i32, i32) {
        let y = mv.1.clamp(-4 * self.max_mv_y, 4 * self.max_mv_y - 1);
        r.clamp_mv(self.bx(), self.by(), (mv.0, y))
    }

    /// SATD against the prediction at a quarter-sample vector.
    fn satd_q(&self, src: &[u8; 256], r: &RefPic, mv: (i32, i32)) -> i32 {
        let mut pred = [0u8; 256];
        r.luma16(self.bx(), self.by(), mv, &mut pred);
        satd(src, &pred)
    }

    /// Motion search in one list: best of the predictors, a small-diamond
    /// integer search, then half- and quarter-sample refinement.
    fn search(&self, st: &PictureState, src: &[u8; 256], list: usize) -> ((i32, i32), i32) {
        let r = self.refs[list];
        let mvp = st.mvp(self.mbx, self.mby, list);
        let cost_of = |mv: (i32, i32), sad: i32| sad + st.lambda * mv_bits(mv, mvp);
        // Integer start: the rounded predictors.
        let mut cands = vec![(0, 0), mvp];
        for (dx, dy) in [(-1i32, 0i32), (0, -1), (1, -1)] {
            let (x, y) = (self.mbx as i32 + dx, self.mby as i32 + dy);
            if x >= 0 && y >= 0 && (x as usize) < st.mbw {
                if let Some(mv) = st.motion[y as usize * st.mbw + x as usize][list] {
                    cands.push(mv);
                }
            }
        }
        let mut best = ((0, 0), i32::MAX);
        for c in cands {
            let c = self.clamp(r, ((c.0 + 2) & !3, (c.1 + 2) & !3));
            let cost = cost_of(c, self.sad_full(src, r, c.0 >> 2, c.1 >> 2));
            if cost < best.1 {
                best = (c, cost);
            }
        }
        for _ in 0..32 {
            let centre = best;
            for (dx, dy) in [(-4, 0), (4, 0), (0, -4), (0, 4)] {
                let c = self.clamp(r, (centre.0 .0 + dx, centre.0 .1 + dy));
                let cost = cost_of(c, self.sad_full(src, r, c.0 >> 2, c.1 >> 2));
                if cost < best.1 {
                    best = (c, cost);
                }
            }
            if best.0 == centre.0 {
                break;
            }
        }
        // Sub-sample refinement compares SATD, closer to the coded cost.
        best.1 = cost_of(best.0, self.satd_q(src, r, best.0));
        for step in [2, 1] {
            let centre = best;
            for (dx, dy) in [
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let c = self.clamp(r, (centre.0 .0 + dx * step, centre.0 .1 + dy * step));
                let cost = cost_of(c, self.satd_q(src, r, c));
                if cost < best.1 {
                    best = (c, cost);
                }
            }
        }
        best
    }

    fn code(&self, st: &mut PictureState, w: &mut BitWriter) {
        let src = self.src_block();
        let (mb_type, motion, res) = self.decide(st, &src);
        let cbp = res.cbp();
        let i = self.mby * st.mbw + self.mbx;
        st.motion[i] = motion;
        if mb_type == MB_DIRECT && cbp == 0 {
            // B_Skip: direct prediction, no residual.
            st.skip_run += 1;
            self.write_residual(st, w, &res, 0);
            return;
        }
        w.ue(st.skip_run);
        st.skip_run = 0;
        w.ue(mb_type);
        if mb_type != MB_DIRECT {
            for (list, mv) in motion.iter().enumerate() {
                if let Some(mv) = mv {
                    // Prediction from the neighbours only: this macroblock's
                    // own entry does not take part.
                    let mvp = st.mvp(self.mbx, self.mby, list);
                    w.se(mv.0 - mvp.0);
                    w.se(mv.1 - mvp.1);
                }
            }
        }
        let code = INTER_CBP.iter().position(|&c| c == cbp).unwrap_or(0);
        w.ue(code as u32);
        self.write_residual(st, w, &res, cbp);
    }

    /// Chooses the macroblock's prediction and quantises its residual.
    fn decide(&self, st: &PictureState, src: &[u8; 256]) -> (u32, MbMotion, Residual) {
        let direct = st.direct(self.mbx, self.mby).map(|d| {
            let pd = self.luma_pred(&d);
            let rd = self.residual(src, &pd, &self.chroma_pred(&d));
            // A skipped macroblock costs a fraction of a bit in a skip run;
            // B_Direct_16x16 three (skip run, mb_type, cbp).
            let bits_x2 = if rd.cbp() == 0 { 1 } else { 6 };
            (d, rd, satd(src, &pd) + st.lambda * bits_x2 / 2)
        });
        // Every other mode costs at least 5 bits of header: a direct
        // prediction cheaper than that wins whatever a search would find.
        if let Some((d, rd, cost)) = direct.as_ref() {
            if *cost <= 5 * st.lambda {
                return (MB_DIRECT, *d, rd.clone());
            }
        }
        let (mv0, c0) = self.search(st, src, 0);
        let (mv1, c1) = self.search(st, src, 1);
        let mut p0 = [0u8; 256];
        let mut p1 = [0u8; 256];
        self.refs[0].luma16(self.bx(), self.by(), mv0, &mut p0);
        self.refs[1].luma16(self.bx(), self.by(), mv1, &mut p1);
        let pbi = average(&p0, &p1);
        let mvp0 = st.mvp(self.mbx, self.mby, 0);
        let mvp1 = st.mvp(self.mbx, self.mby, 1);
        // Header bits beyond the vectors: mb_skip_run, mb_type (3 bits for
        // L0/L1, 5 for Bi) and a coded_block_pattern of at least one bit.
        let (c0, c1) = (c0 + 5 * st.lambda, c1 + 5 * st.lambda);
        let cbi = satd(src, &pbi) + st.lambda * (mv_bits(mv0, mvp0) + mv_bits(mv1, mvp1) + 7);
        if let Some((d, rd, cost)) = direct {
            if cost <= c0.min(c1).min(cbi) {
                return (MB_DIRECT, d, rd);
            }
        }
        let (mb_type, motion, pred) = if cbi <= c0 && cbi <= c1 {
            (MB_BI, [Some(mv0), Some(mv1)], pbi)
        } else if c0 <= c1 {
            (MB_L0, [Some(mv0), None], p0)
        } else {
            (MB_L1, [None, Some(mv1)], p1)
        };
        let res = self.residual(src, &pred, &self.chroma_pred(&motion));
        (mb_type, motion, res)
    }

    /// Luma prediction of a 16x16 macroblock: one list, or the rounded average.
    fn luma_pred(&self, motion: &MbMotion) -> [u8; 256] {
        let mut preds = motion.iter().zip(self.refs).filter_map(|(mv, r)| {
            mv.map(|mv| {
                let mut p = [0u8; 256];
                r.luma16(self.bx(), self.by(), mv, &mut p);
                p
            })
        });
        let a = preds.next().unwrap_or([128; 256]);
        match preds.next() {
            Some(b) => average(&a, &b),
            None => a,
        }
    }

    fn chroma_pred(&self, motion: &MbMotion) -> [[u8; 64]; 2] {
        let mut out = [[0u8; 64]; 2];
        for (k, o) in out.iter_mut().enumerate() {
            let mut preds = motion.iter().zip(self.refs).filter_map(|(mv, r)| {
                mv.map(|mv| {
                    let mut p = [0u8; 64];
                    r.chroma8(k, self.bx(), self.by(), mv, &mut p);
                    p
                })
            });
            let a = preds.next().unwrap_or([128; 64]);
            *o = match preds.next() {
                Some(b) => {
                    std::array::from_fn(|i| ((u16::from(a[i]) + u16::from(b[i]) + 1) >> 1) as u8)
                }
                None => a,
            };
        }
        out
    }

    fn residual(&self, src: &[u8; 256], pred: &[u8; 256], chroma: &[[u8; 64]; 2]) -> Residual {
        let mut res = Residual::default();
        for (blk, &(x, y)) in BLOCK_XY.iter().enumerate() {
            let d: [i32; 16] = std::array::from_fn(|i| {
                let p = (y + i / 4) * 16 + x + i % 4;
                i32::from(src[p]) - i32::from(pred[p])
            });
            let q = transform::quant4(&transform::fdct4(&d), self.qp, false);
            res.luma[blk] = ZIGZAG_4X4.map(|z| q[z]);
        }
        // Isolated ±1 levels cost more bits than the distortion they remove.
        for b8 in 0..4 {
            let blocks = &mut res.luma[b8 * 4..b8 * 4 + 4];
            let nz = blocks.iter().flatten().filter(|&&c| c != 0).count();
            let big = blocks.iter().flatten().any(|&c| c.abs() > 1);
            if !big && nz <= 2 {
                blocks.iter_mut().for_each(|b| *b = [0; 16]);
            }
        }
        let cw = self.src.c_width();
        let (cx, cy) = (self.mbx * 8, self.mby * 8);
        for (k, plane) in [&self.src.u, &self.src.v].into_iter().enumerate() {
            let mut dc = [0i32; 4];
            for (blk, dc) in dc.iter_mut().enumerate() {
                let (x, y) = ((blk % 2) * 4, (blk / 2) * 4);
                let d: [i32; 16] = std::array::from_fn(|i| {
                    let (r, c) = (y + i / 4, x + i % 4);
                    i32::from(plane[(cy + r) * cw + cx + c]) - i32::from(chroma[k][r * 8 + c])
                });
                let t = transform::fdct4(&d);
                *dc = t[0];
                let q = transform::quant4(&t, self.qpc, true);
                let scanned = ZIGZAG_4X4.map(|z| q[z]);
                res.chroma_ac[k][blk].copy_from_slice(&scanned[1..]);
            }
            res.chroma_dc[k] = transform::chroma_dc(dc, self.qpc);
        }
        let ac_nz = res
            .chroma_ac
            .iter()
            .flatten()
            .flatten()
            .filter(|&&c| c != 0)
            .count();
        let ac_big = res
            .chroma_ac
            .iter()
            .flatten()
            .flatten()
            .any(|&c| c.abs() > 1);
        if !ac_big && ac_nz <= 1 {
            res.chroma_ac = [[[0; 15]; 4]; 2];
        }
        res
    }

    fn write_residual(&self, st: &mut PictureState, w: &mut BitWriter, res: &Residual, cbp: u8) {
        let w4 = st.mbw * 4;
        let (gx0, gy0) = (self.mbx * 4, self.mby * 4);
        for &(x, y) in &BLOCK_XY {
            st.luma_nz[(gy0 + y / 4) * w4 + gx0 + x / 4] = 0;
        }
        if cbp == 0 {
            return;
        }
        w.se(0); // mb_qp_delta
        for (blk, &(x, y)) in BLOCK_XY.iter().enumerate() {
            if cbp & (1 << (blk / 4)) == 0 {
                continue;
            }
            let (gx, gy) = (gx0 + x / 4, gy0 + y / 4);
            let left = (gx > 0).then(|| st.luma_nz[gy * w4 + gx - 1]);
            let up = (gy > 0).then(|| st.luma_nz[(gy - 1) * w4 + gx]);
            st.luma_nz[gy * w4 + gx] = cavlc::write_block(w, &res.luma[blk], cavlc::nc(left, up));
        }
        let chroma = cbp >> 4;
        let w2 = st.mbw * 2;
        let (cx0, cy0) = (self.mbx * 2, self.mby * 2);
        for k in 0..2 {
            for blk in 0..4 {
                st.chroma_nz[k][(cy0 + blk / 2) * w2 + cx0 + blk % 2] = 0;
            }
        }
        if chroma == 0 {
            return;
        }
        for k in 0..2 {
            cavlc::write_block(w, &res.chroma_dc[k], -1);
        }
        if chroma != 2 {
            return;
        }
        for k in 0..2 {
            for blk in 0..4 {
                let (gx, gy) = (cx0 + blk % 2, cy0 + blk / 2);
                let nz = &st.chroma_nz[k];
                let left = (gx > 0).then(|| nz[gy * w2 + gx - 1]);
                let up = (gy > 0).then(|| nz[(gy - 1) * w2 + gx]);
                let n = cavlc::write_block(w, &res.chroma_ac[k][blk], cavlc::nc(left, up));
                st.chroma_nz[k][gy * w2 + gx] = n;
            }
        }
    }
}

/// Quantised levels of one macroblock, in scan order.
#[derive(Clone, Default)]
struct Residual {
    luma: [[i32; 16]; 16],
    chroma_dc: [[i32; 4]; 2],
    chroma_ac: [[[i32; 15]; 4]; 2],
}

impl Residual {
    /// coded_block_pattern: a bit per luma 8x8 with levels, chroma 0/1/2 above.
    fn cbp(&self) -> u8 {
        let mut cbp = 0u8;
        for b8 in 0..4 {
            if self.luma[b8 * 4..b8 * 4 + 4]
                .iter()
                .flatten()
                .any(|&c| c != 0)
            {
                cbp |= 1 << b8;
            }
        }
        let ac = self.chroma_ac.iter().flatten().flatten().any(|&c| c != 0);
        let dc = self.chroma_dc.iter().flatten().any(|&c| c != 0);
        cbp | if ac {
            32
        } else if dc {
            16
        } else {
            0
        }
    }
}

/// Sum of absolute 4x4 Hadamard-transformed differences, halved. The
/// vertical pass runs across all 16 columns at once (it vectorises), then
/// each row's four 4-sample groups.
fn satd(a: &[u8; 256], b: &[u8; 256]) -> i32 {
    let d: [i32; 256] = std::array::from_fn(|i| i32::from(a[i]) - i32::from(b[i]));
    let mut v = [0i32; 256];
    for g in 0..4 {
        let base = g * 64;
        for c in 0..16 {
            let (a0, a1, a2, a3) = (
                d[base + c],
                d[base + 16 + c],
                d[base + 32 + c],
                d[base + 48 + c],
            );
            let (s01, d01, s23, d23) = (a0 + a1, a0 - a1, a2 + a3, a2 - a3);
            v[base + c] = s01 + s23;
            v[base + 16 + c] = d01 + d23;
            v[base + 32 + c] = s01 - s23;
            v[base + 48 + c] = d01 - d23;
        }
    }
    let mut total = 0;
    for q in v.chunks_exact(4) {
        let (s01, d01, s23, d23) = (q[0] + q[1], q[0] - q[1], q[2] + q[3], q[2] - q[3]);
        total += (s01 + s23).abs() + (d01 + d23).abs() + (s01 - s23).abs() + (d01 - d23).abs();
    }
    (total + 1) / 2
}

fn average(a: &[u8; 256], b: &[u8; 256]) -> [u8; 256] {
    std::array::from_fn(|i| ((u16::from(a[i]) + u16::from(b[i]) + 1) >> 1) as u8)
}
