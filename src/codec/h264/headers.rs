//! Parameter sets and slice headers of openh264's anchors, parsed and
//! rewritten so B pictures can sit between them: Main profile, picture order
//! count type 0, two reference frames, VUI reorder limits, and each anchor's
//! pic_order_cnt_lsb set from its display position.
//!
//! CAVLC slice data follows the slice header without alignment, so changing
//! header bits only shifts the bits after them.

use super::bits::{unescape, BitReader, BitWriter};
use crate::error::{Error, Result};

fn unsupported(what: &str) -> Error {
    Error::backend(format!(
        "openh264 wrote {what}, which the B-picture rewriter does not handle"
    ))
}

/// Profiles whose SPS carries chroma_format_idc and bit depths (7.3.2.1.1).
const HIGH_PROFILES: [u32; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

/// video_format, video_full_range_flag and the optional colour description
/// (primaries, transfer, matrix).
pub type VideoSignal = (u32, bool, Option<(u32, u32, u32)>);

/// The VUI fields openh264 may write; HRD parameters are refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vui {
    pub aspect_ratio: Option<(u32, u32, u32)>,
    pub overscan: Option<bool>,
    pub video_signal: Option<VideoSignal>,
    pub chroma_loc: Option<(u32, u32)>,
    pub timing: Option<(u32, u32, bool)>,
    pub pic_struct_present: bool,
}

/// A sequence parameter set (frame coding only, no scaling matrices).
#[derive(Clone, Debug, PartialEq)]
pub struct Sps {
    pub profile_idc: u32,
    pub constraint_flags: u32,
    pub level_idc: u32,
    pub sps_id: u32,
    pub log2_max_frame_num: u32,
    pub poc_type: u32,
    pub log2_max_poc_lsb: u32,
    /// For pic_order_cnt_type 1: whether delta_pic_order_always_zero_flag is set.
    pub delta_pic_order_always_zero: bool,
    pub num_ref_frames: u32,
    pub gaps_allowed: bool,
    pub width_mbs: u32,
    pub height_mbs: u32,
    pub direct_8x8_inference: bool,
    /// Left, right, top, bottom crop in chroma sample units (4:2:0: pixels / 2).
    pub crop: Option<[u32; 4]>,
    pub vui: Option<Vui>,
    /// (max_num_reorder_frames, max_dec_frame_buffering) when written.
    pub reorder: Option<(u32, u32)>,
}

impl Sps {
    /// Parses an SPS NAL unit (header byte included, emulation-escaped).
    pub fn parse(nal: &[u8]) -> Result<Sps> {
        let rbsp = unescape(nal.get(1..).unwrap_or_default());
        let mut r = BitReader::new(&rbsp);
        let profile_idc = r.u(8)?;
        let constraint_flags = r.u(8)?;
        let level_idc = r.u(8)?;
        let sps_id = r.ue()?;
        if HIGH_PROFILES.contains(&profile_idc) {
            let chroma_format_idc = r.ue()?;
            let depth_luma = r.ue()?;
            let depth_chroma = r.ue()?;
            let _bypass = r.flag()?;
            let scaling = r.flag()?;
            if chroma_format_idc != 1 || depth_luma != 0 || depth_chroma != 0 || scaling {
                return Err(unsupported(
                    "an SPS other than 8-bit 4:2:0 without scaling lists",
                ));
            }
        }
        let log2_max_frame_num = r.ue()? + 4;
        let poc_type = r.ue()?;
        let mut log2_max_poc_lsb = 0;
        let mut delta_pic_order_always_zero = false;
        match poc_type {
            0 => log2_max_poc_lsb = r.ue()? + 4,
            1 => {
                delta_pic_order_always_zero = r.flag()?;
                r.se()?;
                r.se()?;
                for _ in 0..r.ue()? {
                    r.se()?;
                }
            }
            _ => {}
        }
        let num_ref_frames = r.ue()?;
        let gaps_allowed = r.flag()?;
        let width_mbs = r.ue()? + 1;
        let height_mbs = r.ue()? + 1;
        if !r.flag()? {
            return Err(unsupported("field coding"));
        }
        let direct_8x8_inference = r.flag()?;
        let crop = if r.flag()? {
            Some([r.ue()?, r.ue()?, r.ue()?, r.ue()?])
        } else {
            None
        };
        let (vui, reorder) = if r.flag()? {
            let (v, re) = parse_vui(&mut r)?;
            (Some(v), re)
        } else {
            (None, None)
        };
        Ok(Sps {
            profile_idc,
            constraint_flags,
            level_idc,
            sps_id,
            log2_max_frame_num,
            poc_type,
            log2_max_poc_lsb,
            delta_pic_order_always_zero,
            num_ref_frames,
            gaps_allowed,
            width_mbs,
            height_mbs,
            direct_8x8_inference,
            crop,
            vui,
            reorder,
        })
    }

    /// The SPS as an RBSP with its NAL header byte (0x67) first; escape it
    /// with `push_nal`.
    pub fn to_rbsp(&self) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.put(0x67, 8);
        w.put(self.profile_idc, 8);
        w.put(self.constraint_flags, 8);
        w.put(self.level_idc, 8);
        w.ue(self.sps_id);
        if HIGH_PROFILES.contains(&self.profile_idc) {
            w.ue(1);
            w.ue(0);
            w.ue(0);
            w.flag(false);
            w.flag(false);
        }
        w.ue(self.log2_max_frame_num - 4);
        w.ue(self.poc_type);
        if self.poc_type == 0 {
            w.ue(self.log2_max_poc_lsb - 4);
        }
        // pic_order_cnt_type 1 is never written back (rewrite() forces type 0).
        w.ue(self.num_ref_frames);
        w.flag(self.gaps_allowed);
        w.ue(self.width_mbs - 1);
        w.ue(self.height_mbs - 1);
        w.flag(true);
        w.flag(self.direct_8x8_inference);
        w.flag(self.crop.is_some());
        if let Some(c) = self.crop {
            c.iter().for_each(|&v| w.ue(v));
        }
        let vui_present = self.vui.is_some() || self.reorder.is_some();
        w.flag(vui_present);
        if vui_present {
            write_vui(&mut w, &self.vui.clone().unwrap_or_default(), self.reorder);
        }
        w.finish()
    }
}

fn parse_vui(r: &mut BitReader) -> Result<(Vui, Option<(u32, u32)>)> {
    let mut v = Vui::default();
    if r.flag()? {
        let idc = r.u(8)?;
        let (sw, sh) = if idc == 255 {
            (r.u(16)?, r.u(16)?)
        } else {
            (0, 0)
        };
        v.aspect_ratio = Some((idc, sw, sh));
    }
    if r.flag()? {
        v.overscan = Some(r.flag()?);
    }
    if r.flag()? {
        let format = r.u(3)?;
        let full = r.flag()?;
        let desc = if r.flag()? {
            Some((r.u(8)?, r.u(8)?, r.u(8)?))
        } else {
            None
        };
        v.video_signal = Some((format, full, desc));
    }
    if r.flag()? {
        v.chroma_loc = Some((r.ue()?, r.ue()?));
    }
    if r.flag()? {
        v.timing = Some((r.u(32)?, r.u(32)?, r.flag()?));
    }
    if r.flag()? || r.flag()? {
        return Err(unsupported("HRD parameters"));
    }
    v.pic_struct_present = r.flag()?;
    let reorder = if r.flag()? {
        r.flag()?;
        for _ in 0..4 {
            r.ue()?;
        }
        Some((r.ue()?, r.ue()?))
    } else {
        None
    };
    Ok((v, reorder))
}

fn write_vui(w: &mut BitWriter, v: &Vui, reorder: Option<(u32, u32)>) {
    w.flag(v.aspect_ratio.is_some());
    if let Some((idc, sw, sh)) = v.aspect_ratio {
        w.put(idc, 8);
        if idc == 255 {
            w.put(sw, 16);
            w.put(sh, 16);
        }
    }
    w.flag(v.overscan.is_some());
    if let Some(o) = v.overscan {
        w.flag(o);
    }
    w.flag(v.video_signal.is_some());
    if let Some((format, full, desc)) = v.video_signal {
        w.put(format, 3);
        w.flag(full);
        w.flag(desc.is_some());
        if let Some((p, t, m)) = desc {
            w.put(p, 8);
            w.put(t, 8);
            w.put(m, 8);
        }
    }
    w.flag(v.chroma_loc.is_some());
    if let Some((a, b)) = v.chroma_loc {
        w.ue(a);
        w.ue(b);
    }
    w.flag(v.timing.is_some());
    if let Some((units, scale, fixed)) = v.timing {
        w.put(units, 32);
        w.put(scale, 32);
        w.flag(fixed);
    }
    w.flag(false); // nal_hrd_parameters_present_flag
    w.flag(false); // vcl_hrd_parameters_present_flag
    w.flag(v.pic_struct_present);
    w.flag(reorder.is_some());
    if let Some((num_reorder, max_dec)) = reorder {
        w.flag(true); // motion_vectors_over_pic_boundaries_flag
        w.ue(0); // max_bytes_per_pic_denom: no limit
        w.ue(0); // max_bits_per_mb_denom: no limit
        w.ue(16); // log2_max_mv_length_horizontal
        w.ue(16); // log2_max_mv_length_vertical
        w.ue(num_reorder);
        w.ue(max_dec);
    }
}

/// The PPS fields the B writer and the rewriter depend on.
#[derive(Clone, Debug, PartialEq)]
pub struct Pps {
    pub pps_id: u32,
    pub entropy_cabac: bool,
    pub bottom_field_poc_present: bool,
    pub weighted_pred: bool,
    pub weighted_bipred_idc: u32,
    pub pic_init_qp: i32,
    pub chroma_qp_index_offset: i32,
    pub deblocking_control_present: bool,
    pub redundant_pic_cnt_present: bool,
}

impl Pps {
    pub fn parse(nal: &[u8]) -> Result<Pps> {
        let rbsp = unescape(nal.get(1..).unwrap_or_default());
        let mut r = BitReader::new(&rbsp);
        let pps_id = r.ue()?;
        let _sps_id = r.ue()?;
        let entropy_cabac = r.flag()?;
        let bottom_field_poc_present = r.flag()?;
        if r.ue()? != 0 {
            return Err(unsupported("slice groups"));
        }
        let _l0 = r.ue()?;
        let _l1 = r.ue()?;
        let weighted_pred = r.flag()?;
        let weighted_bipred_idc = r.u(2)?;
        let pic_init_qp = 26 + r.se()?;
        let _qs = r.se()?;
        let chroma_qp_index_offset = r.se()?;
        let deblocking_control_present = r.flag()?;
        let _constrained_intra = r.flag()?;
        let redundant_pic_cnt_present = r.flag()?;
        Ok(Pps {
            pps_id,
            entropy_cabac,
            bottom_field_poc_present,
            weighted_pred,
            weighted_bipred_idc,
            pic_init_qp,
            chroma_qp_index_offset,
            deblocking_control_present,
            redundant_pic_cnt_present,
        })
    }

    /// Whether B slices with default weighting can use this PPS as it is.
    pub fn check(&self) -> Result<()> {
        if self.entropy_cabac {
            return Err(unsupported("CABAC anchors"));
        }
        if self.bottom_field_poc_present || self.redundant_pic_cnt_present {
            return Err(unsupported("field POC or redundant pictures"));
        }
        if self.weighted_pred || self.weighted_bipred_idc != 0 {
            return Err(unsupported("weighted prediction"));
        }
        Ok(())
    }
}

/// Level limits from Table A-1: level_idc, MaxMBPS, MaxFS, MaxDpbMbs.
const LEVELS: [(u32, u64, u32, u32); 16] = [
    (10, 1485, 99, 396),
    (11, 3000, 396, 900),
    (12, 6000, 396, 2376),
    (13, 11880, 396, 2376),
    (20, 11880, 396, 2376),
    (21, 19800, 792, 4752),
    (22, 20250, 1620, 8100),
    (30, 40500, 1620, 8100),
    (31, 108000, 3600, 18000),
    (32, 216000, 5120, 20480),
    (40, 245760, 8192, 32768),
    (41, 245760, 8192, 32768),
    (42, 522240, 8704, 34816),
    (50, 589824, 22080, 110400),
    (51, 983040, 36864, 184320),
    (52, 2073600, 36864, 184320),
];

/// The lowest level that holds `mbs` macroblocks per picture at `fps`
/// with `dpb_frames` frames in the DPB.
pub fn min_level(mbs: u32, fps: f64, dpb_frames: u32) -> u32 {
    let mbps = (f64::from(mbs) * fps).ceil() as u64;
    LEVELS
        .iter()
        .find(|&&(_, max_mbps, max_fs, max_dpb)| {
            mbps <= max_mbps && mbs <= max_fs && mbs * dpb_frames <= max_dpb
        })
        .map_or(52, |l| l.0)
}

/// log2_max_pic_order_cnt_lsb used for B streams: POC = 2 × display distance
/// from the last IDR; 16 bits keep any two pictures in the DPB unambiguous.
pub const LOG2_MAX_POC_LSB: u32 = 16;

/// The SPS for a stream with B pictures, derived from openh264's.
/// `fps` is (numerator, denominator); it goes into the VUI timing so that
/// demuxers without decode timestamps (MPEG-TS) need not guess the rate.
pub fn b_sps(
    old: &Sps,
    width: u32,
    height: u32,
    fps: (u32, u32),
    reorder_frames: u32,
) -> Result<Sps> {
    if old.width_mbs * 16 < width || old.height_mbs * 16 < height {
        return Err(unsupported("an SPS smaller than the picture"));
    }
    let max_dec = old.num_ref_frames.max(2);
    let mbs = old.width_mbs * old.height_mbs;
    let crop_r = (old.width_mbs * 16 - width) / 2;
    let crop_b = (old.height_mbs * 16 - height) / 2;
    let (num, den) = (fps.0.max(1), fps.1.max(1));
    let mut vui = old.vui.clone().unwrap_or_default();
    if vui.timing.is_none() && num <= u32::MAX / 2 {
        // A frame lasts two field ticks: time_scale / (2 · num_units_in_tick) = fps.
        vui.timing = Some((den, 2 * num, true));
    }
    Ok(Sps {
        profile_idc: 77,
        constraint_flags: 0,
        level_idc: old
            .level_idc
            .max(min_level(mbs, f64::from(num) / f64::from(den), max_dec)),
        poc_type: 0,
        log2_max_poc_lsb: LOG2_MAX_POC_LSB,
        delta_pic_order_always_zero: false,
        num_ref_frames: max_dec,
        gaps_allowed: false,
        crop: (crop_r > 0 || crop_b > 0).then_some([0, crop_r, 0, crop_b]),
        reorder: Some((reorder_frames, max_dec)),
        vui: Some(vui),
        ..old.clone()
    })
}

/// The parsed start of a slice header, up to and including dec_ref_pic_marking.
#[derive(Clone, Debug, PartialEq)]
pub struct SliceHeader {
    pub nal_ref_idc: u32,
    pub nal_type: u32,
    pub first_mb: u32,
    pub slice_type: u32,
    pub pps_id: u32,
    pub frame_num: u32,
    pub idr_pic_id: u32,
    pub num_ref_idx_override: Option<(u32, Option<u32>)>,
    /// (modification_of_pic_nums_idc, value) pairs for list 0, before the 3.
    pub ref_mods_l0: Option<Vec<(u32, u32)>>,
    /// IDR: (no_output_of_prior_pics, long_term_reference).
    pub idr_marking: (bool, bool),
    /// Whether the anchor carried memory management operations (dropped).
    pub had_mmco: bool,
    pub slice_qp_delta: i32,
    /// Bit position in the RBSP where the slice header rest starts
    /// (after dec_ref_pic_marking).
    rest: usize,
    rbsp: Vec<u8>,
}

impl SliceHeader {
    pub fn is_p(&self) -> bool {
        self.slice_type.is_multiple_of(5)
    }

    /// Parses a CAVLC I or P slice NAL unit (header byte included, escaped).
    pub fn parse(nal: &[u8], sps: &Sps) -> Result<SliceHeader> {
        let head = *nal
            .first()
            .ok_or_else(|| unsupported("an empty NAL unit"))?;
        let rbsp = unescape(&nal[1..]);
        let mut r = BitReader::new(&rbsp);
        let first_mb = r.ue()?;
        let slice_type = r.ue()?;
        if slice_type % 5 != 0 && slice_type % 5 != 2 {
            return Err(unsupported("a slice other than I or P"));
        }
        let pps_id = r.ue()?;
        let frame_num = r.u(sps.log2_max_frame_num)?;
        let nal_type = u32::from(head & 0x1f);
        let idr_pic_id = if nal_type == 5 { r.ue()? } else { 0 };
        match sps.poc_type {
            0 => {
                r.u(sps.log2_max_poc_lsb)?;
            }
            1 if !sps.delta_pic_order_always_zero => {
                r.se()?;
            }
            _ => {}
        }
        let mut h = SliceHeader {
            nal_ref_idc: u32::from(head >> 5) & 3,
            nal_type,
            first_mb,
            slice_type,
            pps_id,
            frame_num,
            idr_pic_id,
            num_ref_idx_override: None,
            ref_mods_l0: None,
            idr_marking: (false, false),
            had_mmco: false,
            slice_qp_delta: 0,
            rest: 0,
            rbsp: Vec::new(),
        };
        if h.is_p() {
            if r.flag()? {
                h.num_ref_idx_override = Some((r.ue()?, None));
            }
            if r.flag()? {
                let mut mods = Vec::new();
                loop {
                    let idc = r.ue()?;
                    if idc == 3 {
                        break;
                    }
                    if mods.len() > 32 {
                        return Err(unsupported("an endless ref_pic_list_modification"));
                    }
                    mods.push((idc, r.ue()?));
                }
                h.ref_mods_l0 = Some(mods);
            }
        }
        if h.nal_ref_idc != 0 {
            if nal_type == 5 {
                h.idr_marking = (r.flag()?, r.flag()?);
            } else if r.flag()? {
                h.had_mmco = true;
                loop {
                    let op = r.ue()?;
                    match op {
                        0 => break,
                        1 | 2 | 6 | 4 => {
                            r.ue()?;
                        }
                        3 => {
                            r.ue()?;
                            r.ue()?;
                        }
                        5 => {}
                        _ => return Err(unsupported("a bad memory_management_control_operation")),
                    }
                }
            }
        }
        h.rest = r.pos();
        h.slice_qp_delta = r.se()?;
        h.rbsp = rbsp;
        Ok(h)
    }

    /// Slice QP from the PPS and slice_qp_delta.
    pub fn qp(&self, pps: &Pps) -> i32 {
        (pps.pic_init_qp + self.slice_qp_delta).clamp(0, 51)
    }

    /// The same slice with a new pic_order_cnt_lsb under `new_sps`, sliding
    /// window reference marking, as an RBSP with the NAL header byte first.
    pub fn rewrite(&self, new_sps: &Sps, poc_lsb: u32) -> Result<Vec<u8>> {
        let r = BitReader::new(&self.rbsp);
        let stop = r.stop_bit()?;
        if stop < self.rest {
            return Err(unsupported("a slice without data"));
        }
        let mut w = BitWriter::new();
        w.put((self.nal_ref_idc << 5) | self.nal_type, 8);
        w.ue(self.first_mb);
        w.ue(self.slice_type);
        w.ue(self.pps_id);
        w.put(self.frame_num, new_sps.log2_max_frame_num);
        if self.nal_type == 5 {
            w.ue(self.idr_pic_id);
        }
        w.put(poc_lsb, new_sps.log2_max_poc_lsb);
        if self.is_p() {
            w.flag(self.num_ref_idx_override.is_some());
            if let Some((l0, _)) = self.num_ref_idx_override {
                w.ue(l0);
            }
            w.flag(self.ref_mods_l0.is_some());
            if let Some(mods) = &self.ref_mods_l0 {
                for &(idc, v) in mods {
                    w.ue(idc);
                    w.ue(v);
                }
                w.ue(3);
            }
        }
        if self.nal_ref_idc != 0 {
            if self.nal_type == 5 {
                w.flag(self.idr_marking.0);
                w.flag(self.idr_marking.1);
            } else {
                // Sliding window: with num_ref_frames >= 2 the previous anchor
                // stays available as the B pictures' list-0 reference.
                w.flag(false);
            }
        }
        w.copy_bits(&self.rbsp, self.rest, stop);
        Ok(w.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_table_a1() {
        // 1080p (8160 MBs) at 30 fps with two frames in the DPB: level 4.0.
        assert_eq!(min_level(8160, 30.0, 2), 40);
        // 720p (3600 MBs) at 30 fps: level 3.1.
        assert_eq!(min_level(3600, 30.0, 2), 31);
        assert_eq!(min_level(99, 15.0, 2), 10);
    }
}
