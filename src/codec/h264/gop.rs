//! H.264 with B pictures: openh264 codes the anchors (I/P) in coding order,
//! its own decoder gives back their exact reconstruction, the parameter sets
//! and slice headers are rewritten for reordering, and `bslice` codes the
//! pictures between two anchors as non-reference B pictures.
//!
//! Reordered: display order  I0 B1 B2 P3 B4 B5 P6 …  is coded as
//! I0 P3 B1 B2 P6 B4 B5 …, each B predicted from the anchors around it.
//!
//! Low delay: I0 B1 P2 B3 P4 … in display order, each B predicted from the
//! two latest anchors (both in the past), so nothing is reordered. openh264
//! cannot code B pictures, so the anchors stay P pictures: every other
//! picture is B, not every non-key picture.

use super::bits::push_nal;
use super::bslice::{encode_b_picture, BSliceParams, RefPic};
use super::decoder::AnchorDecoder;
use super::headers::{b_sps, Pps, SliceHeader, Sps};
use super::Openh264;
use crate::codec::nal::{h264_type, push_annexb, split_annexb};
use crate::codec::Coded;
use crate::codec::VideoEncoder;
use crate::engine::packet::FrameType;
use crate::engine::params::{EncodeParams, RcMode};
use crate::error::{Error, Result};
use crate::frame::Yuv420;

/// B pictures code at the anchors' QP plus this (they are never referenced).
const B_QP_OFFSET: i32 = 2;

/// A decoded anchor, ready to predict from.
struct Anchor {
    display: u64,
    frame_num: u32,
    qp: i32,
    pic: RefPic,
}

/// Pictures by which each B picture refers: how the mini-GOP is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BLayout {
    /// `n` B pictures between anchors, each predicted from the anchor before
    /// and the anchor after it (coding order differs from display order).
    Reordered(u32),
    /// P anchors and B pictures alternate; a B picture is predicted from the
    /// latest anchor (list 0) and the one before it (list 1).
    LowDelay,
}

pub struct BEncoder {
    anchors: Openh264,
    layout: BLayout,
    decoder: AnchorDecoder,
    b_frames: u32,
    width: u32,
    height: u32,
    fps: f64,
    fps_num: u32,
    fps_den: u32,
    rc: RcMode,
    bitrate: u32,
    /// openh264's SPS and PPS as last written, and the SPS we send instead.
    sps: Option<Sps>,
    new_sps: Option<Sps>,
    pps: Option<Pps>,
    /// Pictures waiting for their anchor, display order, padded to macroblocks.
    held: Vec<(u64, Yuv420)>,
    next_index: u64,
    idr_display: u64,
    last: Option<Anchor>,
    /// The anchor before `last`, while both are in the DPB.
    older: Option<Anchor>,
    /// Bits spent on anchors and B pictures since the last rate update.
    anchor_bits: u64,
    b_bits: u64,
    /// Bits spent and allowed (target / fps per picture) since the rate was set.
    spent: f64,
    allowed: f64,
    /// QP added to the B pictures while the stream is over its budget.
    b_qp_extra: i32,
    b_count: u64,
    anchor_count: u64,
}

/// Macroblock-aligned size.
fn aligned(v: u32) -> u32 {
    v.div_ceil(16) * 16
}

/// Copies `pic` into a macroblock-aligned picture, repeating the last
/// column and row (the cropped area then codes cheaply).
fn pad(pic: &Yuv420) -> Yuv420 {
    let (w, h) = (pic.width as usize, pic.height as usize);
    let (aw, ah) = (aligned(pic.width) as usize, aligned(pic.height) as usize);
    let mut out = Yuv420::new(aw as u32, ah as u32);
    for y in 0..ah {
        let s = &pic.y[y.min(h - 1) * w..y.min(h - 1) * w + w];
        let d = &mut out.y[y * aw..y * aw + aw];
        d[..w].copy_from_slice(s);
        let last = s[w - 1];
        d[w..].fill(last);
    }
    let (cw, ch) = (pic.c_width(), h.div_ceil(2));
    let acw = out.c_width();
    for (src, dst) in [(&pic.u, &mut out.u), (&pic.v, &mut out.v)] {
        for y in 0..ah / 2 {
            let s = &src[y.min(ch - 1) * cw..y.min(ch - 1) * cw + cw];
            let d = &mut dst[y * acw..y * acw + acw];
            d[..cw].copy_from_slice(s);
            let last = s[cw - 1];
            d[cw..].fill(last);
        }
    }
    out
}

impl BEncoder {
    pub fn new(p: &EncodeParams, layout: BLayout) -> Result<BEncoder> {
        let b_frames = match layout {
            BLayout::Reordered(n) => n,
            BLayout::LowDelay => 1,
        };
        if !(1..=7).contains(&b_frames) {
            return Err(Error::bad_value(format!(
                "b_frames {b_frames}: H.264 takes 1 to 7 B pictures between anchors"
            )));
        }
        super::check_size(p.width, p.height)?;
        let fps = f64::from(p.fps_num) / f64::from(p.fps_den.max(1));
        let mut ap = p.clone();
        ap.width = aligned(p.width);
        ap.height = aligned(p.height);
        let anchors = Openh264::with_anchor_settings(&ap, b_frames + 1)?;
        Ok(BEncoder {
            anchors,
            layout,
            decoder: AnchorDecoder::new()?,
            b_frames,
            width: p.width,
            height: p.height,
            fps,
            fps_num: p.fps_num,
            fps_den: p.fps_den,
            rc: p.rc,
            bitrate: p.bitrate,
            sps: None,
            new_sps: None,
            pps: None,
            held: Vec::new(),
            next_index: 0,
            idr_display: 0,
            last: None,
            older: None,
            anchor_bits: 0,
            b_bits: 0,
            spent: 0.0,
            allowed: 0.0,
            b_qp_extra: 0,
            b_count: 0,
            anchor_count: 0,
        })
    }

    fn check_picture(&self, pic: &Yuv420) -> Result<()> {
        let (w, h) = (pic.width as usize, pic.height as usize);
        let c = pic.c_width() * h.div_ceil(2);
        if pic.width != self.width || pic.height != self.height {
            return Err(Error::invalid_arg(format!(
                "picture is {}x{} but the encoder was opened for {}x{}",
                pic.width, pic.height, self.width, self.height
            )));
        }
        if pic.y.len() < w * h || pic.u.len() < c || pic.v.len() < c {
            return Err(Error::invalid_arg(
                "picture planes are shorter than its size",
            ));
        }
        Ok(())
    }

    fn encode_low_delay(&mut self, index: u64, pic: &Yuv420) -> Result<Vec<Coded>> {
        let last_was_anchor = self.last.as_ref().is_some_and(|a| a.display + 1 == index);
        if !last_was_anchor {
            return Ok(vec![self.code_anchor(index, pic, false)?]);
        }
        let (Some(l0), Some(sps), Some(pps)) = (&self.last, &self.new_sps, &self.pps) else {
            return Err(Error::invalid_state("B picture before any anchor"));
        };
        let l1 = self.older.as_ref().unwrap_or(l0);
        let qp = ((l0.qp + l1.qp + 1) / 2 + B_QP_OFFSET + self.b_qp_extra).clamp(0, 51);
        let coded = code_b(pic, index, l0, l1, sps, pps, self.idr_display, qp);
        self.account(&coded);
        self.b_bits += coded.data.len() as u64 * 8;
        self.b_count += 1;
        self.update_rate()?;
        Ok(vec![coded])
    }
}

impl VideoEncoder for BEncoder {
    /// Pictures coding order runs ahead of display order by: one with
    /// anchors coded before the B pictures they close, none for low delay.
    fn reorder_delay(&self) -> u32 {
        // Low delay codes in display order, but FFmpeg's H.264 decoder holds
        // one picture once it meets B slices, and MPEG-TS demuxers then drop
        // a DTS equal to the PTS and guess a wrong one (frames get lost).
        // Declaring one picture of delay (SPS max_num_reorder_frames 1, dts
        // one frame before pts) says what the decoder really does.
        1
    }

    fn encode(&mut self, pic: &Yuv420, force_key: bool) -> Result<Vec<Coded>> {
        self.check_picture(pic)?;
        let index = self.next_index;
        self.next_index += 1;
        let padded = pad(pic);
        let mut out = Vec::new();
        if force_key || self.last.is_none() {
            self.close_held(&mut out)?;
            out.push(self.code_anchor(index, &padded, true)?);
            return Ok(out);
        }
        if self.layout == BLayout::LowDelay {
            return self.encode_low_delay(index, &padded);
        }
        self.held.push((index, padded));
        if self.held.len() > self.b_frames as usize {
            self.close_held(&mut out)?;
        }
        Ok(out)
    }

    fn flush(&mut self) -> Result<Vec<Coded>> {
        let mut out = Vec::new();
        self.close_held(&mut out)?;
        Ok(out)
    }

    fn set_bitrate(&mut self, bps: u32) -> Result<()> {
        // Until B pictures are measured again, the same first share as at open.
        let share = 1.0 / (1.0 + f64::from(self.b_frames) * 0.5);
        self.anchors.set_bitrate((f64::from(bps) * share) as u32)?;
        self.bitrate = bps;
        self.anchor_bits = 0;
        self.b_bits = 0;
        self.anchor_count = 0;
        self.b_count = 0;
        self.spent = 0.0;
        self.allowed = 0.0;
        self.b_qp_extra = 0;
        Ok(())
    }

    fn set_qp(&mut self, qp: u8) -> Result<()> {
        self.anchors.set_qp(qp)
    }
}

impl BEncoder {
    /// Codes the last held picture as a P anchor, then the others as B
    /// pictures between the previous anchor and it.
    fn close_held(&mut self, out: &mut Vec<Coded>) -> Result<()> {
        let Some((index, pic)) = self.held.pop() else {
            return Ok(());
        };
        out.push(self.code_anchor(index, &pic, false)?);
        let (Some(next), Some(prev), Some(sps), Some(pps)) =
            (&self.last, &self.older, &self.new_sps, &self.pps)
        else {
            return Err(Error::invalid_state("B pictures held without two anchors"));
        };
        let qp = ((prev.qp + next.qp + 1) / 2 + B_QP_OFFSET + self.b_qp_extra).clamp(0, 51);
        let held = std::mem::take(&mut self.held);
        let coded: Vec<Coded> = held
            .iter()
            .map(|(i, pic)| code_b(pic, *i, prev, next, sps, pps, self.idr_display, qp))
            .collect();
        for c in coded {
            self.b_bits += c.data.len() as u64 * 8;
            self.b_count += 1;
            self.account(&c);
            out.push(c);
        }
        self.update_rate()
    }

    /// openh264 only sees the anchors; tell it the bits left for them once
    /// the B pictures have taken their share (CBR/VBR).
    /// openh264 may also miss its own target when anchors far apart are
    /// expensive: whatever the stream spent above its budget is taken off
    /// the anchors' target over the next four seconds, and raises the B
    /// pictures' QP (6 per second of target over budget, at most 8).
    fn update_rate(&mut self) -> Result<()> {
        if self.rc == RcMode::Cqp || self.b_count < 8 || self.anchor_count < 2 {
            return Ok(());
        }
        let b_per_sec = self.fps * f64::from(self.b_frames) / f64::from(self.b_frames + 1);
        let b_rate = self.b_bits as f64 / self.b_count as f64 * b_per_sec;
        let target = f64::from(self.bitrate);
        let excess = self.spent - self.allowed;
        let for_anchors = (target - b_rate - excess / 4.0).clamp(target * 0.2, target * 1.5);
        self.b_qp_extra = (excess / target.max(1.0) * 6.0).round().clamp(0.0, 8.0) as i32;
        self.anchors.set_bitrate(for_anchors as u32)?;
        // Keep a moving window: halve the history.
        self.b_bits /= 2;
        self.b_count /= 2;
        self.anchor_bits /= 2;
        self.anchor_count /= 2;
        Ok(())
    }

    fn account(&mut self, coded: &Coded) {
        self.spent += (coded.data.len() + coded.parameter_sets.len()) as f64 * 8.0;
        self.allowed += f64::from(self.bitrate) / self.fps.max(0.001);
    }

    /// Codes one anchor with openh264, decodes it, rewrites its headers.
    fn code_anchor(&mut self, index: u64, pic: &Yuv420, idr: bool) -> Result<Coded> {
        let coded = self
            .anchors
            .encode(pic, idr)?
            .pop()
            .ok_or_else(|| Error::backend("openh264 returned no anchor picture"))?;
        let mut whole = coded.parameter_sets.clone();
        whole.extend_from_slice(&coded.data);
        let decoded = self.decoder.decode(&whole)?;
        if decoded.width != pic.width || decoded.height != pic.height {
            return Err(Error::backend("openh264 decoded an anchor at another size"));
        }
        let mut parameter_sets = Vec::new();
        for unit in split_annexb(&coded.parameter_sets) {
            match h264_type(unit) {
                7 => {
                    let old = Sps::parse(unit)?;
                    let reorder = self.reorder_delay();
                    let fps = (self.fps_num, self.fps_den);
                    let new = b_sps(&old, self.width, self.height, fps, reorder)?;
                    push_nal(&mut parameter_sets, &new.to_rbsp());
                    self.sps = Some(old);
                    self.new_sps = Some(new);
                }
                8 => {
                    let pps = Pps::parse(unit)?;
                    pps.check()?;
                    push_annexb(&mut parameter_sets, unit);
                    self.pps = Some(pps);
                }
                _ => push_annexb(&mut parameter_sets, unit),
            }
        }
        let (Some(sps), Some(new_sps), Some(pps)) = (&self.sps, &self.new_sps, &self.pps) else {
            return Err(Error::backend(
                "openh264 wrote a slice before its parameter sets",
            ));
        };
        if coded.keyframe {
            self.idr_display = index;
        }
        let lsb = poc_lsb(index, self.idr_display, new_sps);
        let mut data = Vec::with_capacity(coded.data.len() + 16);
        let mut first: Option<SliceHeader> = None;
        for unit in split_annexb(&coded.data) {
            match h264_type(unit) {
                1 | 5 => {
                    let h = SliceHeader::parse(unit, sps)?;
                    push_nal(&mut data, &h.rewrite(new_sps, lsb)?);
                    first.get_or_insert(h);
                }
                _ => push_annexb(&mut data, unit),
            }
        }
        let h = first.ok_or_else(|| Error::backend("openh264 wrote an anchor without slices"))?;
        self.anchor_bits += data.len() as u64 * 8;
        self.anchor_count += 1;
        // An IDR empties the DPB; otherwise the sliding window keeps the
        // previous anchor beside the new one.
        self.older = if coded.keyframe {
            None
        } else {
            self.last.take()
        };
        self.last = Some(Anchor {
            display: index,
            frame_num: h.frame_num,
            qp: h.qp(pps),
            pic: RefPic::new(&decoded),
        });
        let coded = Coded {
            data,
            parameter_sets,
            display_index: index,
            ..coded
        };
        self.account(&coded);
        Ok(coded)
    }
}

/// Codes one non-reference B picture predicted from `l0` and `l1`.
#[allow(clippy::too_many_arguments)]
fn code_b(
    pic: &Yuv420,
    index: u64,
    l0: &Anchor,
    l1: &Anchor,
    sps: &Sps,
    pps: &Pps,
    idr_display: u64,
    qp: i32,
) -> Coded {
    // The latest anchor is the reference picture with the highest frame_num.
    let latest = if l0.display > l1.display { l0 } else { l1 };
    let params = BSliceParams {
        pps_id: pps.pps_id,
        log2_max_frame_num: sps.log2_max_frame_num,
        // A non-reference picture after a reference one takes PrevRefFrameNum + 1.
        frame_num: (latest.frame_num + 1) % (1 << sps.log2_max_frame_num),
        log2_max_poc_lsb: sps.log2_max_poc_lsb,
        poc_lsb: poc_lsb(index, idr_display, sps),
        pic_init_qp: pps.pic_init_qp,
        chroma_qp_offset: pps.chroma_qp_index_offset,
        deblocking_control_present: pps.deblocking_control_present,
        qp,
        max_mv_y: max_mv_y(sps.level_idc),
    };
    let rbsp = encode_b_picture(pic, &l0.pic, &l1.pic, &params);
    let mut data = Vec::with_capacity(rbsp.len() + 16);
    push_nal(&mut data, &rbsp);
    Coded {
        data,
        parameter_sets: Vec::new(),
        keyframe: false,
        frame_type: Some(FrameType::B),
        display_index: index,
    }
}

/// MaxVmvR of Table A-1 in whole samples (the upper bound is a quarter less).
fn max_mv_y(level_idc: u32) -> i32 {
    match level_idc {
        0..=13 => 64,
        14..=22 => 128,
        23..=30 => 256,
        _ => 512,
    }
}

/// pic_order_cnt_lsb: two per picture of display distance from the last IDR.
fn poc_lsb(index: u64, idr: u64, sps: &Sps) -> u32 {
    ((index.saturating_sub(idr) * 2) % (1u64 << sps.log2_max_poc_lsb)) as u32
}
