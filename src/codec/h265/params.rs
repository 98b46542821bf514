//! Parameter sets (VPS/SPS/PPS) and slice segment headers.

use super::bitwriter::{write_nal, BitWriter, NAL_PPS, NAL_SPS, NAL_VPS};

pub const LOG2_CTB: u32 = 5;
pub const LOG2_MIN_CB: u32 = 3;
pub const MAX_MERGE_CAND: u32 = 5;
pub const LOG2_MAX_POC_LSB: u32 = 8;

pub struct SeqParams {
    pub width: u32,
    pub height: u32,
    pub pw: u32, // coded (padded) width
    pub ph: u32,
    pub level_idc: u8,
    /// sps_max_dec_pic_buffering_minus1 (also in the VPS).
    pub max_dec_minus1: u32,
    /// sps_max_num_reorder_pics (also in the VPS).
    pub num_reorder: u32,
}

fn profile_tier_level(bw: &mut BitWriter, level_idc: u8) {
    bw.put(0, 2); // profile space
    bw.put(0, 1); // tier
    bw.put(1, 5); // Main
                  // compatibility flags: 1 and 2
    bw.put(0x6000_0000, 32);
    bw.put(1, 1); // progressive
    bw.put(0, 1); // interlaced
    bw.put(0, 1); // non packed
    bw.put(1, 1); // frame only
    bw.put(0, 32); // 43 reserved + 1 bit
    bw.put(0, 12);
    bw.put(level_idc as u32, 8);
}

impl SeqParams {
    pub fn new(width: u32, height: u32) -> SeqParams {
        let pw = (width + 7) & !7;
        let ph = (height + 7) & !7;
        let samples = pw as u64 * ph as u64;
        let level_idc = if samples <= 36864 {
            30
        } else if samples <= 122880 {
            60
        } else if samples <= 245760 {
            63
        } else if samples <= 552960 {
            90
        } else if samples <= 983040 {
            93
        } else if samples <= 2228224 {
            123
        } else if samples <= 8912896 {
            153
        } else {
            183
        };
        SeqParams {
            width,
            height,
            pw,
            ph,
            level_idc,
            max_dec_minus1: 1,
            num_reorder: 0,
        }
    }

    pub fn write_all(&self, out: &mut Vec<u8>) {
        // VPS
        let mut bw = BitWriter::new();
        bw.put(0, 4); // vps id
        bw.put(1, 1); // base layer internal
        bw.put(1, 1); // base layer available
        bw.put(0, 6); // max layers - 1
        bw.put(0, 3); // max sub layers - 1
        bw.put(1, 1); // temporal id nesting
        bw.put(0xffff, 16);
        profile_tier_level(&mut bw, self.level_idc);
        bw.put(1, 1); // sub layer ordering info present
        bw.ue(self.max_dec_minus1); // max dec pic buffering - 1
        bw.ue(self.num_reorder);
        bw.ue(0); // max latency increase + 1 (0: no limit)
        bw.put(0, 6); // max layer id
        bw.ue(0); // num layer sets - 1
        bw.put(0, 1); // timing info present
        bw.put(0, 1); // extension
        bw.trailing_bits();
        write_nal(out, NAL_VPS, &bw.into_bytes());

        // SPS
        let mut bw = BitWriter::new();
        bw.put(0, 4); // vps id
        bw.put(0, 3); // max sub layers - 1
        bw.put(1, 1); // temporal id nesting
        profile_tier_level(&mut bw, self.level_idc);
        bw.ue(0); // sps id
        bw.ue(1); // chroma 4:2:0
        bw.ue(self.pw);
        bw.ue(self.ph);
        let crop = self.pw != self.width || self.ph != self.height;
        bw.flag(crop);
        if crop {
            bw.ue(0);
            bw.ue((self.pw - self.width) / 2);
            bw.ue(0);
            bw.ue((self.ph - self.height) / 2);
        }
        bw.ue(0); // bit depth luma - 8
        bw.ue(0); // bit depth chroma - 8
        bw.ue(LOG2_MAX_POC_LSB - 4);
        bw.put(1, 1); // sub layer ordering info present
        bw.ue(self.max_dec_minus1);
        bw.ue(self.num_reorder);
        bw.ue(0);
        bw.ue(LOG2_MIN_CB - 3);
        bw.ue(LOG2_CTB - LOG2_MIN_CB);
        bw.ue(0); // log2 min tb - 2
        bw.ue(3); // log2 diff max min tb (4..32)
        bw.ue(0); // max transform hierarchy depth inter
        bw.ue(0); // max transform hierarchy depth intra
        bw.put(0, 1); // scaling list
        bw.put(0, 1); // amp
        bw.put(0, 1); // sao
        bw.put(0, 1); // pcm
        bw.ue(1); // num short term ref pic sets
                  // st_ref_pic_set(0): one negative picture, delta -1, used
        bw.ue(1); // num negative
        bw.ue(0); // num positive
        bw.ue(0); // delta poc s0 minus1
        bw.put(1, 1); // used by curr
        bw.put(0, 1); // long term refs present
        bw.put(0, 1); // temporal mvp
        bw.put(0, 1); // strong intra smoothing
        bw.put(0, 1); // vui
        bw.put(0, 1); // extension
        bw.trailing_bits();
        write_nal(out, NAL_SPS, &bw.into_bytes());

        // PPS
        let mut bw = BitWriter::new();
        bw.ue(0); // pps id
        bw.ue(0); // sps id
        bw.put(0, 1); // dependent slice segments
        bw.put(0, 1); // output flag present
        bw.put(0, 3); // extra slice header bits
        bw.put(0, 1); // sign data hiding
        bw.put(0, 1); // cabac init present
        bw.ue(0); // num ref idx l0 default - 1
        bw.ue(0); // l1
        bw.se(0); // init qp - 26
        bw.put(0, 1); // constrained intra
        bw.put(0, 1); // transform skip
        bw.put(0, 1); // cu qp delta
        bw.se(0); // cb qp offset
        bw.se(0); // cr qp offset
        bw.put(0, 1); // slice chroma qp offsets present
        bw.put(0, 1); // weighted pred
        bw.put(0, 1); // weighted bipred
        bw.put(0, 1); // transquant bypass
        bw.put(0, 1); // tiles
        bw.put(0, 1); // entropy coding sync
        bw.put(1, 1); // loop filter across slices
        bw.put(0, 1); // deblocking filter control present
        bw.put(0, 1); // scaling list data
        bw.put(0, 1); // lists modification
        bw.ue(0); // log2 parallel merge level - 2
        bw.put(0, 1); // slice header extension
        bw.put(0, 1); // pps extension
        bw.trailing_bits();
        write_nal(out, NAL_PPS, &bw.into_bytes());
    }
}

/// What a slice header says about the picture's type and references.
pub struct SliceKind<'a> {
    pub idr: bool,
    /// 0 = B, 1 = P, 2 = I (slice_type values).
    pub slice_type: u32,
    /// Explicit short-term RPS as (POC delta, used by the current picture), or None to use the
    /// SPS set (one picture at delta -1).
    pub rps: Option<&'a [(i32, bool)]>,
}

/// Writes a slice segment header (byte aligned at the end).
pub fn slice_header(
    bw: &mut BitWriter,
    kind: &SliceKind,
    poc: u32,
    first_ctb: u32,
    num_ctbs: u32,
    qp: i32,
) {
    let idr = kind.idr;
    bw.flag(first_ctb == 0);
    if idr {
        bw.put(0, 1); // no output of prior pics
    }
    bw.ue(0); // pps id
    if first_ctb != 0 {
        let mut bits = 0;
        while (1u32 << bits) < num_ctbs {
            bits += 1;
        }
        bw.put(first_ctb, bits);
    }
    bw.ue(kind.slice_type);
    if !idr {
        bw.put(poc & ((1 << LOG2_MAX_POC_LSB) - 1), LOG2_MAX_POC_LSB);
        match kind.rps {
            None => bw.put(1, 1), // short term ref pic set sps flag (idx uses 0 bits)
            Some(rps) => {
                bw.put(0, 1);
                st_ref_pic_set(bw, rps);
            }
        }
    }
    if kind.slice_type != 2 {
        // one reference per list: the PPS defaults (num_ref_idx_lX_default_active_minus1 = 0)
        bw.put(0, 1); // num ref idx active override
        if kind.slice_type == 0 {
            bw.put(0, 1); // mvd_l1_zero_flag
        }
        bw.ue(5 - MAX_MERGE_CAND);
    }
    bw.se(qp - 26);
    bw.put(1, 1); // slice loop filter across slices enabled
                  // byte_alignment()
    bw.put(1, 1);
    bw.align_zero();
}

/// st_ref_pic_set(num_short_term_ref_pic_sets) coded in a slice header (7.3.7).
fn st_ref_pic_set(bw: &mut BitWriter, rps: &[(i32, bool)]) {
    bw.put(0, 1); // inter_ref_pic_set_prediction_flag (idx != 0, so present)
    let mut neg: Vec<(i32, bool)> = rps.iter().copied().filter(|r| r.0 < 0).collect();
    let mut pos: Vec<(i32, bool)> = rps.iter().copied().filter(|r| r.0 > 0).collect();
    // closest first, as the deltas are coded incrementally
    neg.sort_by_key(|r| -r.0);
    pos.sort_by_key(|r| r.0);
    bw.ue(neg.len() as u32);
    bw.ue(pos.len() as u32);
    let mut prev = 0;
    for &(d, used) in &neg {
        bw.ue((prev - d - 1) as u32);
        bw.flag(used);
        prev = d;
    }
    prev = 0;
    for &(d, used) in &pos {
        bw.ue((d - prev - 1) as u32);
        bw.flag(used);
        prev = d;
    }
}
