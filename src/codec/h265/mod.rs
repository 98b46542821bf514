//! H.265/HEVC Main profile encoder (8-bit 4:2:0, I/P/B slices, CABAC), pure Rust.
//!
//! GOP shapes (`GopShape`): I/P only; low-delay B (every inter picture a B slice whose two
//! lists both hold the previous picture); reordered (`b_frames` non-reference B pictures
//! between I/P anchors, L0 = anchor before, L1 = anchor after; flat, no pyramid). Every list
//! holds exactly one picture, so ref_idx is never coded; temporal MV prediction is off.
//! `Encoder::encode` returns the pictures coded by that call in coding order (none while B
//! pictures wait for their anchor); `flush` codes a held partial mini-GOP, the last picture as P.
//!
//! Structure: `bitwriter` (RBSP/NAL), `cabac` (arithmetic coder), `tables` (spec constants),
//! `params` (VPS/SPS/PPS/slice header), `intra`, `inter` (MC + motion search), `transform`
//! (DCT/DST), `quant`, `residual` (residual_coding syntax), `ctu` (mode decision and
//! CTU syntax; `ctu::bslice` for B slices), `coarse` (quarter-resolution motion for far
//! references), `deblock`, `ratecontrol`, `dsp` (AVX2/SSE2 dispatch of the integer kernels).

#![allow(
    clippy::too_many_arguments,
    clippy::needless_range_loop,
    clippy::manual_div_ceil,
    clippy::if_same_then_else,
    clippy::identity_op,
    clippy::precedence,
    clippy::manual_memcpy,
    clippy::needless_lifetimes,
    clippy::unnecessary_cast
)]

mod bitwriter;
mod cabac;
mod coarse;
mod ctu;
mod deblock;
mod dsp;
mod inter;
mod intra;
mod params;
mod quant;
mod ratecontrol;
mod residual;
mod tables;
#[cfg(test)]
mod tests;
mod transform;

use bitwriter::{write_nal, NAL_IDR_W_RADL, NAL_TRAIL_N, NAL_TRAIL_R};
use ctu::{FrameCtx, RefFrame, SliceEnc};
use inter::Plane;
use params::{SeqParams, LOG2_CTB};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RateControl {
    ConstQp { qp: u8 },
    Cbr { bitrate: u32 },
    Vbr { bitrate: u32, max_bitrate: u32 },
}

/// Which pictures are coded as B and in which order (the engine's type).
pub use crate::engine::params::GopShape;

#[derive(Clone, Debug)]
pub struct Config {
    pub width: u32,
    pub height: u32,
    pub fps_num: u32,
    pub fps_den: u32,
    pub rc: RateControl,
    /// IDR period in frames; 0 = only the first frame is IDR.
    pub gop: u32,
    /// Worker threads (slices per picture); 0 = auto.
    pub threads: u32,
    pub gop_shape: GopShape,
}

/// An I420 picture.
pub struct Picture<'a> {
    pub y: &'a [u8],
    pub u: &'a [u8],
    pub v: &'a [u8],
    pub y_stride: usize,
    pub c_stride: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceType {
    I,
    P,
    B,
}

#[derive(Clone, Debug)]
pub struct Coded {
    /// Annex-B slice NAL units of one picture (no parameter sets).
    pub data: Vec<u8>,
    pub idr: bool,
    pub slice_type: SliceType,
    pub qp: u8,
    /// Position of this picture in input (display) order, 0 for the first picture.
    pub display_index: u64,
}

/// Per 4x4 block side information of the current picture.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct BlkInfo {
    pub intra: bool,
    pub skip: bool,
    pub cbf: bool,
    pub edge_v: bool,
    pub edge_h: bool,
    pub depth: u8,
    pub ipm: u8,
    /// L0 motion vector ((0, 0) when L0 is unused).
    pub mv: (i32, i32),
    /// L1 motion vector ((0, 0) when L1 is unused).
    pub mv1: (i32, i32),
    /// Lists used by an inter block: bit 0 = L0, bit 1 = L1 (0 for intra).
    pub dir: u8,
}

pub struct Encoder {
    cfg: Config,
    sp: SeqParams,
    pw: usize,
    ph: usize,
    src: [Vec<u8>; 3],
    rec: [Vec<u8>; 3],
    out: [Vec<u8>; 3],
    info: Vec<BlkInfo>,
    /// Most recent reference picture (the last anchor with reordering) and its POC.
    refp: Option<RefFrame>,
    ref_poc: i32,
    /// The anchor before `refp` (L0 of reordered B pictures) and its POC.
    ref_old: Option<RefFrame>,
    ref_old_poc: i32,
    frame_num: u64,
    /// Pictures given to `encode` so far, and the display index of the last IDR.
    displayed: u64,
    idr_display: u64,
    /// Pictures since the last IDR, in display order.
    since_idr: u64,
    rc: ratecontrol::RcState,
    threads: usize,
    hp_tmp: Vec<i16>,
    /// Encoding time of each slice of the last multi-slice picture: the workers take the
    /// slices longest first (scheduling only; slices are independent, so output is unchanged).
    slice_secs: Vec<f64>,
    prev_mvs: Vec<Option<(i32, i32)>>,
    /// POC distance the motion in `prev_mvs` spans (to scale it as a search hint).
    prev_mvs_dist: i32,
    /// Quarter-resolution source of the last anchor (reordered shape), for coarse motion.
    lowres_anchor: Option<coarse::LowRes>,
    /// Quarter-resolution source of the anchor before it (L0 of reordered B pictures).
    lowres_old: Option<coarse::LowRes>,
    /// Pictures waiting for their anchor (reordered shape), in display order.
    held: Vec<Held>,
    spare: Vec<[Vec<u8>; 3]>,
    /// (display index, cropped I420 reconstruction) of every coded picture, when enabled.
    recon_log: Option<Vec<(u64, Vec<u8>)>>,
}

/// A source picture held back until its anchor is coded.
struct Held {
    planes: [Vec<u8>; 3],
    display: u64,
}

/// How one picture is coded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PicKind {
    Idr,
    /// P slice predicted from `refp`.
    P,
    /// Low-delay B: both lists hold `refp`; a reference picture.
    BLowDelay,
    /// Non-reference B between `ref_old` (L0) and `refp` (L1).
    BReordered,
}

fn check_rc(rc: &RateControl) -> Result<(), String> {
    match *rc {
        RateControl::ConstQp { qp } if qp > 51 => Err(format!("qp {} out of range 0..=51", qp)),
        RateControl::Cbr { bitrate } if bitrate < 1000 => {
            Err(format!("bitrate {} too low (min 1000 bps)", bitrate))
        }
        RateControl::Vbr { bitrate, .. } if bitrate < 1000 => {
            Err(format!("bitrate {} too low (min 1000 bps)", bitrate))
        }
        RateControl::Vbr {
            bitrate,
            max_bitrate,
        } if max_bitrate < bitrate => Err(format!(
            "max_bitrate {} is below bitrate {}",
            max_bitrate, bitrate
        )),
        _ => Ok(()),
    }
}

impl Encoder {
    pub fn new(cfg: Config) -> Result<Encoder, String> {
        let (w, h) = (cfg.width, cfg.height);
        if w % 2 != 0 {
            return Err(format!("width {} is odd; H.265 4:2:0 needs even sizes", w));
        }
        if h % 2 != 0 {
            return Err(format!("height {} is odd; H.265 4:2:0 needs even sizes", h));
        }
        if w < 16 || h < 16 {
            return Err(format!("size {}x{} too small; minimum is 16x16", w, h));
        }
        if w > 8192 || h > 4320 {
            return Err(format!("size {}x{} too large; maximum is 8192x4320", w, h));
        }
        if cfg.fps_num == 0 || cfg.fps_den == 0 {
            return Err(format!(
                "invalid frame rate {}/{}",
                cfg.fps_num, cfg.fps_den
            ));
        }
        check_rc(&cfg.rc)?;
        let mut sp = SeqParams::new(w, h);
        match cfg.gop_shape {
            GopShape::IpOnly | GopShape::LowDelayB => {}
            GopShape::Reordered { b_frames } => {
                if !(1..=7).contains(&b_frames) {
                    return Err(format!("b_frames {} out of range 1..=7", b_frames));
                }
                // two anchors plus the B picture being decoded; one picture of reordering
                sp.max_dec_minus1 = 2;
                sp.num_reorder = 1;
            }
        }
        let pw = sp.pw as usize;
        let ph = sp.ph as usize;
        let threads = if cfg.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(16)
        } else {
            (cfg.threads as usize).min(64)
        };
        let fps = cfg.fps_num as f64 / cfg.fps_den as f64;
        let rc = ratecontrol::RcState::new(cfg.rc, fps, (w as f64) * (h as f64));
        let (cw, ch) = (pw / 2, ph / 2);
        Ok(Encoder {
            sp,
            pw,
            ph,
            src: [vec![0; pw * ph], vec![0; cw * ch], vec![0; cw * ch]],
            rec: [vec![0; pw * ph], vec![128; cw * ch], vec![128; cw * ch]],
            out: [
                vec![0; (w * h) as usize],
                vec![128; (w / 2 * h / 2) as usize],
                vec![128; (w / 2 * h / 2) as usize],
            ],
            info: vec![BlkInfo::default(); (pw / 4) * (ph / 4)],
            refp: None,
            ref_poc: 0,
            ref_old: None,
            ref_old_poc: 0,
            frame_num: 0,
            displayed: 0,
            idr_display: 0,
            since_idr: 0,
            rc,
            threads,
            hp_tmp: Vec::new(),
            slice_secs: Vec::new(),
            prev_mvs: Vec::new(),
            prev_mvs_dist: 1,
            lowres_anchor: None,
            lowres_old: None,
            held: Vec::new(),
            spare: Vec::new(),
            recon_log: None,
            cfg,
        })
    }

    /// The most pictures by which coding order runs ahead of display order.
    pub fn reorder_delay(&self) -> u32 {
        match self.cfg.gop_shape {
            GopShape::Reordered { .. } => 1,
            _ => 0,
        }
    }

    /// Keep a copy of every reconstructed picture (for tests), taken by `take_reconstructions`.
    pub fn log_reconstructions(&mut self) {
        self.recon_log = Some(Vec::new());
    }

    /// (display index, cropped I420) of the pictures coded since the last call.
    pub fn take_reconstructions(&mut self) -> Vec<(u64, Vec<u8>)> {
        self.recon_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// VPS + SPS + PPS in Annex-B format.
    pub fn parameter_sets(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.sp.write_all(&mut v);
        v
    }

    pub fn set_rate_control(&mut self, rc: RateControl) -> Result<(), String> {
        check_rc(&rc)?;
        self.cfg.rc = rc;
        self.rc.set(rc);
        Ok(())
    }

    /// Last reconstructed (decoded) picture, cropped, tightly packed I420.
    pub fn reconstruction(&self) -> (&[u8], &[u8], &[u8]) {
        (&self.out[0], &self.out[1], &self.out[2])
    }

    fn load_source(&mut self, pic: &Picture) -> Result<(), String> {
        let w = self.cfg.width as usize;
        let h = self.cfg.height as usize;
        let (cw, chh) = ((w + 1) / 2, (h + 1) / 2);
        if pic.y_stride < w {
            return Err(format!(
                "y_stride {} is smaller than width {}",
                pic.y_stride, w
            ));
        }
        if pic.c_stride < cw {
            return Err(format!(
                "c_stride {} is smaller than chroma width {}",
                pic.c_stride, cw
            ));
        }
        let need_y = pic
            .y_stride
            .checked_mul(h - 1)
            .and_then(|v| v.checked_add(w))
            .ok_or_else(|| format!("y_stride {} is too large", pic.y_stride))?;
        let need_c = pic
            .c_stride
            .checked_mul(chh - 1)
            .and_then(|v| v.checked_add(cw))
            .ok_or_else(|| format!("c_stride {} is too large", pic.c_stride))?;
        if pic.y.len() < need_y {
            return Err(format!(
                "y plane has {} bytes, need at least {}",
                pic.y.len(),
                need_y
            ));
        }
        if pic.u.len() < need_c {
            return Err(format!(
                "u plane has {} bytes, need at least {}",
                pic.u.len(),
                need_c
            ));
        }
        if pic.v.len() < need_c {
            return Err(format!(
                "v plane has {} bytes, need at least {}",
                pic.v.len(),
                need_c
            ));
        }
        let pw = self.pw;
        let ph = self.ph;
        copy_pad(&mut self.src[0], pw, ph, pic.y, pic.y_stride, w, h);
        copy_pad(
            &mut self.src[1],
            pw / 2,
            ph / 2,
            pic.u,
            pic.c_stride,
            cw,
            chh,
        );
        copy_pad(
            &mut self.src[2],
            pw / 2,
            ph / 2,
            pic.v,
            pic.c_stride,
            cw,
            chh,
        );
        Ok(())
    }

    /// Takes the next picture in display order and returns the pictures now coded, in coding
    /// order: one without reordering; with reordering none while B pictures wait for their
    /// anchor and several when it arrives. `force_idr` makes this picture an IDR (held
    /// pictures are coded first, without referencing it).
    pub fn encode(&mut self, pic: &Picture, force_idr: bool) -> Result<Vec<Coded>, String> {
        self.load_source(pic)?;
        let display = self.displayed;
        self.displayed += 1;
        let idr = (self.refp.is_none() && self.held.is_empty())
            || force_idr
            || display == 0
            || (self.cfg.gop > 0 && self.since_idr >= self.cfg.gop as u64);
        if idr {
            self.since_idr = 0;
        }
        self.since_idr += 1;
        let mut out = Vec::new();
        match self.cfg.gop_shape {
            GopShape::IpOnly | GopShape::LowDelayB => {
                let kind = if idr {
                    PicKind::Idr
                } else if self.cfg.gop_shape == GopShape::IpOnly {
                    PicKind::P
                } else {
                    PicKind::BLowDelay
                };
                out.push(self.code_picture(kind, display)?);
            }
            GopShape::Reordered { b_frames } => {
                if idr {
                    // the held pictures pass through `self.src`: keep this one aside meanwhile
                    let spare = self.spare_planes();
                    let current = std::mem::replace(&mut self.src, spare);
                    self.code_held(&mut out)?;
                    let done = std::mem::replace(&mut self.src, current);
                    self.spare.push(done);
                    out.push(self.code_picture(PicKind::Idr, display)?);
                } else {
                    let spare = self.spare_planes();
                    let planes = std::mem::replace(&mut self.src, spare);
                    self.held.push(Held { planes, display });
                    if self.held.len() > b_frames as usize {
                        self.code_held(&mut out)?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// End of stream: codes every picture still held back (the last one as P).
    pub fn flush(&mut self) -> Result<Vec<Coded>, String> {
        let mut out = Vec::new();
        self.code_held(&mut out)?;
        Ok(out)
    }

    fn spare_planes(&mut self) -> [Vec<u8>; 3] {
        self.spare.pop().unwrap_or_else(|| {
            let (a, c) = (self.pw * self.ph, (self.pw / 2) * (self.ph / 2));
            [vec![0; a], vec![0; c], vec![0; c]]
        })
    }

    /// Codes the held pictures: the last as the P anchor, then the others as B pictures
    /// between the previous anchor and it.
    fn code_held(&mut self, out: &mut Vec<Coded>) -> Result<(), String> {
        let mut held = std::mem::take(&mut self.held);
        let Some(last) = held.pop() else {
            return Ok(());
        };
        let mut order = vec![(last, PicKind::P)];
        order.extend(held.into_iter().map(|h| (h, PicKind::BReordered)));
        for (h, kind) in order {
            let planes = std::mem::replace(&mut self.src, h.planes);
            self.spare.push(planes);
            out.push(self.code_picture(kind, h.display)?);
        }
        Ok(())
    }

    /// Codes the picture in `self.src`.
    fn code_picture(&mut self, kind: PicKind, display: u64) -> Result<Coded, String> {
        let idr = kind == PicKind::Idr;
        if idr {
            self.idr_display = display;
        }
        // POC counts display order from the last IDR
        let poc = display.wrapping_sub(self.idr_display) as u32;
        let qp = match kind {
            PicKind::BReordered => self.rc.frame_qp_b(),
            _ => self.rc.frame_qp(idr),
        };
        let pw = self.pw;
        let ph = self.ph;
        let ctb = 1usize << LOG2_CTB;
        let ctb_rows = (ph + ctb - 1) / ctb;
        // with several workers use two slices per worker (dynamic load balancing); the slice
        // layout depends only on the thread count, so output is deterministic
        let nworkers = self.threads.clamp(1, ctb_rows);
        let nslices = if nworkers > 1 {
            (nworkers * 2).min(ctb_rows)
        } else {
            1
        };
        // speed level: 2 for HD and larger (SAD-based ME, 16x16 minimum inter CU), 3 from
        // 1080p on (no 32x32 intra in P pictures), 1 otherwise
        let fast = if pw * ph >= 1920 * 1080 {
            3
        } else if pw * ph >= 1280 * 720 {
            2
        } else {
            1
        };
        // reference lists (one picture each) and the explicit RPS when the SPS one ({-1}) does
        // not describe the DPB
        let cur = poc as i32;
        let (refp, refp1, ref_poc, rps): (_, _, _, Vec<(i32, bool)>) = match kind {
            PicKind::Idr => (None, None, [0, 0], Vec::new()),
            PicKind::P => (
                self.refp.as_ref(),
                None,
                [self.ref_poc; 2],
                vec![(self.ref_poc - cur, true)],
            ),
            PicKind::BLowDelay => (
                self.refp.as_ref(),
                self.refp.as_ref(),
                [self.ref_poc; 2],
                vec![(self.ref_poc - cur, true)],
            ),
            PicKind::BReordered => match self.ref_old.as_ref() {
                Some(old) => (
                    Some(old),
                    self.refp.as_ref(),
                    [self.ref_old_poc, self.ref_poc],
                    vec![(self.ref_old_poc - cur, true), (self.ref_poc - cur, true)],
                ),
                None => return Err("internal error: B picture without a past anchor".into()),
            },
        };
        if !idr && refp.is_none() {
            return Err("internal error: inter picture without a reference".into());
        }
        // anchors of the reordered shape: seed the search with coarse motion over the whole
        // anchor distance (the previous anchor's motion is often missing or too short)
        let mut coarse_hints = None;
        let mut b_hints: [Option<Vec<ctu::Hint>>; 2] = [None, None];
        if matches!(self.cfg.gop_shape, GopShape::Reordered { .. }) {
            let lr = coarse::downsample(&self.src[0], pw, ph);
            match kind {
                PicKind::P => {
                    if let Some(old) = self.lowres_anchor.as_ref() {
                        if cur - ref_poc[0] > 1 {
                            let (field, bw) = coarse::block_motion(&lr, old, 16);
                            coarse_hints = Some(coarse::to_hints(&field, bw, pw, ph));
                        }
                    }
                }
                PicKind::BReordered => {
                    // B pictures are at most b_frames pictures from either anchor: a smaller
                    // range per list; the anchor's own motion says nothing across a scene cut.
                    // At distance 1 the scaled motion of the anchor does as well.
                    let lists = [self.lowres_old.as_ref(), self.lowres_anchor.as_ref()];
                    for (l, r) in lists.into_iter().enumerate() {
                        if let (Some(r), true) = (r, (cur - ref_poc[l]).abs() > 1) {
                            let (field, bw) = coarse::block_motion(&lr, r, 8);
                            b_hints[l] = Some(coarse::to_hints(&field, bw, pw, ph));
                        }
                    }
                }
                _ => {}
            }
            if kind != PicKind::BReordered {
                self.lowres_old = if idr { None } else { self.lowres_anchor.take() };
                self.lowres_anchor = Some(lr);
            }
        }
        let slice_type = match kind {
            PicKind::Idr => 2,
            PicKind::P => 1,
            PicKind::BLowDelay | PicKind::BReordered => 0,
        };
        let fctx = FrameCtx {
            pw,
            ph,
            src_y: &self.src[0],
            src_u: &self.src[1],
            src_v: &self.src[2],
            refp,
            qp,
            idr,
            poc,
            fast,
            prev_mvs: match (&coarse_hints, idr) {
                (_, true) => None,
                (Some(h), _) => Some(h),
                (None, _) => Some(&self.prev_mvs),
            },
            refp1,
            ref_poc,
            slice_type,
            rps: if rps.as_slice() == [(-1, true)] || idr {
                None
            } else {
                Some(&rps)
            },
            prev_mvs_dist: self.prev_mvs_dist,
            list_hints: [b_hints[0].as_deref(), b_hints[1].as_deref()],
        };
        // split buffers into bands of CTB rows
        let mut bands = Vec::new();
        {
            let [ry, ru, rv] = &mut self.rec;
            let mut ry: &mut [u8] = &mut ry[..];
            let mut ru: &mut [u8] = &mut ru[..];
            let mut rv: &mut [u8] = &mut rv[..];
            let mut inf: &mut [BlkInfo] = &mut self.info[..];
            let w4 = pw / 4;
            let cw = pw / 2;
            let mut row = 0;
            for s in 0..nslices {
                let rows = ctb_rows * (s + 1) / nslices - ctb_rows * s / nslices;
                let y0 = row * ctb;
                let y1 = ((row + rows) * ctb).min(ph);
                let lh = y1 - y0;
                let (a, b) = std::mem::take(&mut ry).split_at_mut(lh * pw);
                ry = b;
                let (cu_, cb_) = std::mem::take(&mut ru).split_at_mut(lh / 2 * cw);
                ru = cb_;
                let (cv_, cvb) = std::mem::take(&mut rv).split_at_mut(lh / 2 * cw);
                rv = cvb;
                let (ia, ib) = std::mem::take(&mut inf).split_at_mut(lh / 4 * w4);
                inf = ib;
                bands.push((y0, y1, a, cu_, cv_, ia));
                row += rows;
            }
        }
        let fref = &fctx;
        let mut results: Vec<Vec<u8>> = Vec::new();
        if bands.len() == 1 {
            for (y0, y1, a, u, v, i) in bands {
                let mut se = SliceEnc::new(fref, y0, y1, a, u, v, i);
                results.push(se.encode_slice());
            }
        } else {
            use std::sync::atomic::{AtomicUsize, Ordering};
            use std::sync::Mutex;
            let n = bands.len();
            // longest slice first (by the last picture's times; at first the tallest), so the
            // short ones fill the end of the picture
            if self.slice_secs.len() != n {
                self.slice_secs = bands.iter().map(|b| (b.1 - b.0) as f64).collect();
            }
            let mut order: Vec<usize> = (0..n).collect();
            let cost = &self.slice_secs;
            order.sort_by(|&a, &b| cost[b].total_cmp(&cost[a]).then(a.cmp(&b)));
            let queue: Vec<Mutex<Option<_>>> =
                bands.into_iter().map(|b| Mutex::new(Some(b))).collect();
            let outs: Vec<Mutex<(Vec<u8>, f64)>> =
                (0..n).map(|_| Mutex::new((Vec::new(), 0.0))).collect();
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                let mut handles = Vec::new();
                for _ in 0..nworkers.min(n) {
                    handles.push(s.spawn(|| loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n {
                            break;
                        }
                        let i = order[k];
                        let band = queue[i].lock().ok().and_then(|mut g| g.take());
                        if let Some((y0, y1, a, u, v, inf)) = band {
                            let t0 = std::time::Instant::now();
                            let mut se = SliceEnc::new(fref, y0, y1, a, u, v, inf);
                            let r = se.encode_slice();
                            if let Ok(mut g) = outs[i].lock() {
                                *g = (r, t0.elapsed().as_secs_f64());
                            }
                        }
                    }));
                }
                // joining explicitly turns a (never expected) worker panic into an error below
                for h in handles {
                    let _ = h.join();
                }
            });
            let res: Vec<Vec<u8>> = outs
                .into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let (r, t) = m.into_inner().unwrap_or_default();
                    self.slice_secs[i] = t;
                    r
                })
                .collect();
            results = res;
        }
        if results.iter().any(|r| r.is_empty()) {
            return Err("internal error: slice worker failed".to_string());
        }
        let mut data = Vec::new();
        let reference = kind != PicKind::BReordered;
        let nal_type = if idr {
            NAL_IDR_W_RADL
        } else if reference {
            NAL_TRAIL_R
        } else {
            NAL_TRAIL_N
        };
        for r in &results {
            write_nal(&mut data, nal_type, r);
        }
        let l1_is_l0 = ref_poc[0] == ref_poc[1];
        if reference {
            // (`update_refs` copies the motion of reference pictures to `prev_mvs`)
            self.prev_mvs_dist = if idr { 1 } else { (cur - ref_poc[0]).max(1) };
        }
        // in-loop filter and reference update
        {
            let [ry, ru, rv] = &mut self.rec;
            deblock::deblock_picture(ry, ru, rv, pw, ph, &self.info, qp, l1_is_l0, nworkers);
        }
        if reference {
            self.update_refs(idr, cur);
        } else {
            crop_planes(&self.rec, &mut self.out, self.pw, &self.cfg);
        }
        self.log_output(display);
        match kind {
            PicKind::BReordered => self.rc.update_b(qp, (data.len() * 8) as f64),
            _ => self.rc.update(idr, qp, (data.len() * 8) as f64),
        }
        self.frame_num += 1;
        Ok(Coded {
            data,
            idr,
            slice_type: match slice_type {
                2 => SliceType::I,
                1 => SliceType::P,
                _ => SliceType::B,
            },
            qp: qp as u8,
            display_index: display,
        })
    }

    /// Makes the just reconstructed picture a reference: with reordering the previous anchor
    /// stays as `ref_old` (L0 of the B pictures that follow), except across an IDR.
    fn update_refs(&mut self, idr: bool, poc: i32) {
        let pw = self.pw;
        let ph = self.ph;
        let recycled = if matches!(self.cfg.gop_shape, GopShape::Reordered { .. }) {
            let old = self.ref_old.take();
            if idr {
                // nothing before an IDR may be referenced after it
                self.refp.take().or(old)
            } else {
                self.ref_old = self.refp.take();
                self.ref_old_poc = self.ref_poc;
                old
            }
        } else {
            self.refp.take()
        };
        let (oy, ou, ov, ohp) = match recycled {
            Some(r) => {
                let [a, b, c] = r.hp;
                (r.y.data, r.u.data, r.v.data, vec![a.data, b.data, c.data])
            }
            None => (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
        };
        // the padded planes, the cropped output and the motion that seeds the search of the
        // next pictures (`prev_mvs`), on two threads
        let (w, h) = (self.cfg.width as usize, self.cfg.height as usize);
        let (rec, [out_y, out_u, out_v]) = (&self.rec, &mut self.out);
        let (info, prev_mvs) = (&self.info, &mut self.prev_mvs);
        let mut second = move || {
            crop_plane(&rec[0], pw, out_y, w, h);
            prev_mvs.clear();
            prev_mvs.extend(info.iter().map(|b| if b.intra { None } else { Some(b.mv) }));
        };
        let first = || {
            let y = Plane::from_tight_reuse(&rec[0], pw, ph, 80, oy);
            let u = Plane::from_tight_reuse(&rec[1], pw / 2, ph / 2, 48, ou);
            let v = Plane::from_tight_reuse(&rec[2], pw / 2, ph / 2, 48, ov);
            crop_plane(&rec[1], pw / 2, out_u, w / 2, h / 2);
            crop_plane(&rec[2], pw / 2, out_v, w / 2, h / 2);
            (y, u, v)
        };
        let (yplane, u, v) = if self.threads > 1 {
            std::thread::scope(|s| {
                let other = s.spawn(second);
                let r = first();
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
                r
            })
        } else {
            second();
            first()
        };
        let hp = inter::half_planes(&yplane, ohp, &mut self.hp_tmp);
        self.refp = Some(RefFrame {
            y: yplane,
            hp,
            u,
            v,
        });
        self.ref_poc = poc;
    }

    /// Appends the cropped output to the test log.
    fn log_output(&mut self, display: u64) {
        if let Some(log) = self.recon_log.as_mut() {
            let mut v = self.out[0].clone();
            v.extend_from_slice(&self.out[1]);
            v.extend_from_slice(&self.out[2]);
            log.push((display, v));
        }
    }
}

/// Copies the cropped reconstruction (`rec`, padded width `pw`) to `out`.
fn crop_planes(rec: &[Vec<u8>; 3], out: &mut [Vec<u8>; 3], pw: usize, cfg: &Config) {
    let (w, h) = (cfg.width as usize, cfg.height as usize);
    crop_plane(&rec[0], pw, &mut out[0], w, h);
    crop_plane(&rec[1], pw / 2, &mut out[1], w / 2, h / 2);
    crop_plane(&rec[2], pw / 2, &mut out[2], w / 2, h / 2);
}

/// Copies the top left `w` x `h` samples of `src` (row stride `stride`) to tight `dst`.
fn crop_plane(src: &[u8], stride: usize, dst: &mut [u8], w: usize, h: usize) {
    for y in 0..h {
        dst[y * w..y * w + w].copy_from_slice(&src[y * stride..y * stride + w]);
    }
}

fn copy_pad(dst: &mut [u8], dw: usize, dh: usize, src: &[u8], stride: usize, w: usize, h: usize) {
    for y in 0..dh {
        let sy = y.min(h - 1);
        let srow = &src[sy * stride..sy * stride + w];
        let drow = &mut dst[y * dw..y * dw + dw];
        drow[..w].copy_from_slice(srow);
        let last = srow[w - 1];
        for v in &mut drow[w..] {
            *v = last;
        }
    }
}
