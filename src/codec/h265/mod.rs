//! H.265/HEVC Main profile encoder (8-bit 4:2:0, I/P slices, CABAC), pure Rust.
//!
//! Structure: `bitwriter` (RBSP/NAL), `cabac` (arithmetic coder), `tables` (spec constants),
//! `params` (VPS/SPS/PPS/slice header), `intra`, `inter` (MC + motion search), `transform`
//! (DCT/DST), `quant`, `residual` (residual_coding syntax), `ctu` (mode decision and
//! CTU syntax), `deblock`, `ratecontrol`, `dsp` (AVX2/SSE2 dispatch of the integer kernels).

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

use bitwriter::{write_nal, NAL_IDR_W_RADL, NAL_TRAIL_R};
use ctu::{FrameCtx, RefFrame, SliceEnc};
use inter::Plane;
use params::{SeqParams, LOG2_CTB};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RateControl {
    ConstQp { qp: u8 },
    Cbr { bitrate: u32 },
    Vbr { bitrate: u32, max_bitrate: u32 },
}

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
}

#[derive(Clone, Debug)]
pub struct Coded {
    /// Annex-B slice NAL units of one picture (no parameter sets).
    pub data: Vec<u8>,
    pub idr: bool,
    pub slice_type: SliceType,
    pub qp: u8,
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
    pub mv: (i32, i32),
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
    refp: Option<RefFrame>,
    poc: u32,
    frame_num: u64,
    since_idr: u64,
    rc: ratecontrol::RcState,
    threads: usize,
    hp_tmp: Vec<i16>,
    prev_mvs: Vec<Option<(i32, i32)>>,
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
        let sp = SeqParams::new(w, h);
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
            poc: 0,
            frame_num: 0,
            since_idr: 0,
            rc,
            threads,
            hp_tmp: Vec::new(),
            prev_mvs: Vec::new(),
            cfg,
        })
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

    pub fn encode(&mut self, pic: &Picture, force_idr: bool) -> Result<Coded, String> {
        self.load_source(pic)?;
        let idr = self.refp.is_none()
            || force_idr
            || self.frame_num == 0
            || (self.cfg.gop > 0 && self.since_idr >= self.cfg.gop as u64);
        if idr {
            self.poc = 0;
            self.since_idr = 0;
        }
        let qp = self.rc.frame_qp(idr);
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
        let refp = if idr { None } else { self.refp.as_ref() };
        let fctx = FrameCtx {
            pw,
            ph,
            src_y: &self.src[0],
            src_u: &self.src[1],
            src_v: &self.src[2],
            refp,
            qp,
            idr,
            poc: self.poc,
            fast,
            prev_mvs: if idr { None } else { Some(&self.prev_mvs) },
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
            let queue: Vec<Mutex<Option<_>>> =
                bands.into_iter().map(|b| Mutex::new(Some(b))).collect();
            let outs: Vec<Mutex<Vec<u8>>> = (0..n).map(|_| Mutex::new(Vec::new())).collect();
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                let mut handles = Vec::new();
                for _ in 0..nworkers.min(n) {
                    handles.push(s.spawn(|| loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let band = queue[i].lock().ok().and_then(|mut g| g.take());
                        if let Some((y0, y1, a, u, v, inf)) = band {
                            let mut se = SliceEnc::new(fref, y0, y1, a, u, v, inf);
                            let r = se.encode_slice();
                            if let Ok(mut g) = outs[i].lock() {
                                *g = r;
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
                .map(|m| m.into_inner().unwrap_or_default())
                .collect();
            results = res;
        }
        if results.iter().any(|r| r.is_empty()) {
            return Err("internal error: slice worker failed".to_string());
        }
        let mut data = Vec::new();
        let nal_type = if idr { NAL_IDR_W_RADL } else { NAL_TRAIL_R };
        for r in &results {
            write_nal(&mut data, nal_type, r);
        }
        self.prev_mvs.clear();
        self.prev_mvs.extend(
            self.info
                .iter()
                .map(|b| if b.intra { None } else { Some(b.mv) }),
        );
        // in-loop filter and reference update
        {
            let [ry, ru, rv] = &mut self.rec;
            deblock::deblock_picture(ry, ru, rv, pw, ph, &self.info, qp);
        }
        let (oy, ou, ov, ohp) = match self.refp.take() {
            Some(r) => {
                let [a, b, c] = r.hp;
                (r.y.data, r.u.data, r.v.data, vec![a.data, b.data, c.data])
            }
            None => (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
        };
        let yplane = Plane::from_tight_reuse(&self.rec[0], pw, ph, 80, oy);
        let hp = inter::half_planes(&yplane, ohp, &mut self.hp_tmp);
        self.refp = Some(RefFrame {
            y: yplane,
            hp,
            u: Plane::from_tight_reuse(&self.rec[1], pw / 2, ph / 2, 48, ou),
            v: Plane::from_tight_reuse(&self.rec[2], pw / 2, ph / 2, 48, ov),
        });
        // cropped output
        let w = self.cfg.width as usize;
        let h = self.cfg.height as usize;
        for y in 0..h {
            self.out[0][y * w..y * w + w].copy_from_slice(&self.rec[0][y * pw..y * pw + w]);
        }
        let (cw, ch) = (w / 2, h / 2);
        for y in 0..ch {
            self.out[1][y * cw..y * cw + cw]
                .copy_from_slice(&self.rec[1][y * (pw / 2)..y * (pw / 2) + cw]);
            self.out[2][y * cw..y * cw + cw]
                .copy_from_slice(&self.rec[2][y * (pw / 2)..y * (pw / 2) + cw]);
        }
        self.rc.update(idr, qp, (data.len() * 8) as f64);
        self.poc = self.poc.wrapping_add(1);
        self.frame_num += 1;
        self.since_idr += 1;
        Ok(Coded {
            data,
            idr,
            slice_type: if idr { SliceType::I } else { SliceType::P },
            qp: qp as u8,
        })
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
