//! Frame-level rate control (constant QP, CBR, VBR).

use super::RateControl;

pub struct RcState {
    pub rc: RateControl,
    fps: f64,
    pixels: f64,
    /// complexity per frame type: bits * 2^(qp/6)
    cplx_i: Option<f64>,
    cplx_p: Option<f64>,
    /// complexity of non-reference B pictures
    cplx_b: Option<f64>,
    buffer: f64, // accumulated (actual - target) bits
    last_qp_p: Option<i32>,
    last_qp_i: Option<i32>,
}

impl RcState {
    pub fn new(rc: RateControl, fps: f64, pixels: f64) -> RcState {
        RcState {
            rc,
            fps,
            pixels,
            cplx_i: None,
            cplx_p: None,
            cplx_b: None,
            buffer: 0.0,
            last_qp_p: None,
            last_qp_i: None,
        }
    }

    pub fn set(&mut self, rc: RateControl) {
        self.rc = rc;
        self.buffer = 0.0;
    }

    fn targets(&self) -> Option<(f64, f64, f64)> {
        match self.rc {
            RateControl::ConstQp { .. } => None,
            // buffer error is paid back over ~0.75 s (CBR) or ~1.5 s (VBR)
            RateControl::Cbr { bitrate } => Some((
                bitrate as f64 / self.fps,
                1.0 / (0.75 * self.fps).max(2.0),
                f64::MAX,
            )),
            RateControl::Vbr {
                bitrate,
                max_bitrate,
            } => {
                let mx = (max_bitrate.max(bitrate)) as f64 / self.fps;
                Some((
                    bitrate as f64 / self.fps,
                    1.0 / (1.5 * self.fps).max(2.0),
                    mx,
                ))
            }
        }
    }

    pub fn frame_qp(&mut self, intra: bool) -> i32 {
        let (avg, gain, maxf) = match self.targets() {
            None => {
                if let RateControl::ConstQp { qp } = self.rc {
                    // I pictures get a slightly lower QP (like an I/P ratio of ~1.4)
                    let off = if intra { 3 } else { 0 };
                    return (qp as i32 - off).clamp(0, 51);
                }
                return 30;
            }
            Some(t) => t,
        };
        let mult = if intra { 4.0 } else { 1.0 };
        let mut target = avg * mult - self.buffer * gain;
        let floor = avg * mult * 0.25;
        if target < floor {
            target = floor;
        }
        if target > maxf * mult {
            target = maxf * mult;
        }
        let cplx = if intra {
            self.cplx_i.or(self.cplx_p.map(|c| c * 5.0))
        } else {
            self.cplx_p.or(self.cplx_i.map(|c| c / 5.0))
        };
        let qp = match cplx {
            Some(c) => (6.0 * (c / target).log2()).round() as i32,
            None => {
                // first frame: guess from bits per pixel
                let bpp = target / self.pixels;
                (30.0 - 6.0 * (bpp / 0.3).log2() * 0.8).round() as i32
            }
        };
        let qp = if intra {
            match self.last_qp_p {
                Some(l) => qp.clamp(l - 8, l + 4),
                None => qp,
            }
        } else {
            match (self.last_qp_p, self.last_qp_i) {
                (Some(l), _) => qp.clamp(l - 3, l + 3),
                (None, Some(i)) => qp.clamp(i - 1, i + 5),
                _ => qp,
            }
        };
        qp.clamp(12, 51)
    }

    /// QP of a non-reference B picture: a little coarser than P (nothing predicts from it), so
    /// it gets a smaller share of the bits.
    pub fn frame_qp_b(&mut self) -> i32 {
        const B_OFFSET: i32 = 2;
        let (avg, gain, maxf) = match self.targets() {
            None => {
                if let RateControl::ConstQp { qp } = self.rc {
                    return (qp as i32 + B_OFFSET).clamp(0, 51);
                }
                return 30;
            }
            Some(t) => t,
        };
        let mult = 0.6;
        let target = (avg * mult - self.buffer * gain)
            .max(avg * mult * 0.25)
            .min(maxf * mult);
        let qp = match self.cplx_b.or(self.cplx_p.map(|c| c * 0.5)) {
            Some(c) => (6.0 * (c / target).log2()).round() as i32,
            None => 30,
        };
        let qp = match (self.last_qp_p, self.last_qp_i) {
            (Some(l), _) => qp.clamp(l, l + 2 * B_OFFSET),
            (None, Some(i)) => qp.clamp(i, i + 6),
            _ => qp,
        };
        qp.clamp(12, 51)
    }

    pub fn update_b(&mut self, qp: i32, bits: f64) {
        let c = bits * 2f64.powf(qp as f64 / 6.0);
        self.cplx_b = Some(match self.cplx_b {
            Some(o) => 0.4 * o + 0.6 * c,
            None => c,
        });
        if let Some((avg, _, _)) = self.targets() {
            self.buffer += bits - avg;
        }
    }

    pub fn update(&mut self, intra: bool, qp: i32, bits: f64) {
        let c = bits * 2f64.powf(qp as f64 / 6.0);
        if intra {
            self.cplx_i = Some(match self.cplx_i {
                Some(o) => 0.5 * o + 0.5 * c,
                None => c,
            });
            self.last_qp_i = Some(qp);
        } else {
            self.cplx_p = Some(match self.cplx_p {
                Some(o) => 0.4 * o + 0.6 * c,
                None => c,
            });
            self.last_qp_p = Some(qp);
        }
        if let Some((avg, _, _)) = self.targets() {
            self.buffer += bits - avg;
        }
    }
}
