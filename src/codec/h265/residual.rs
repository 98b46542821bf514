//! residual_coding() syntax (7.3.8.11) with CABAC context selection (9.3.4.2.5-7).

use super::cabac::Cabac;
use super::tables::*;

fn write_last_prefix(cab: &mut Cabac, pos: u32, log2: u32, is_luma: bool, base: usize) {
    let (off, shift) = if is_luma {
        (3 * (log2 - 2) + ((log2 - 1) >> 2), (log2 + 1) >> 2)
    } else {
        (15, log2 - 2)
    };
    let g = GROUP_IDX[pos as usize] as u32;
    let cmax = (log2 << 1) - 1;
    for i in 0..g {
        cab.encode_bin(1, base + (off + (i >> shift)) as usize);
    }
    if g < cmax {
        cab.encode_bin(0, base + (off + (g >> shift)) as usize);
    }
}

fn write_last_suffix(cab: &mut Cabac, pos: u32) {
    let g = GROUP_IDX[pos as usize] as u32;
    if g > 3 {
        let nb = (g >> 1) - 1;
        let suf = pos - MIN_IN_GROUP[g as usize] as u32;
        cab.encode_bypass_bits(suf, nb);
    }
}

fn write_remaining(cab: &mut Cabac, value: u32, rice: u32) {
    if value < (3 << rice) {
        let len = value >> rice;
        // len ones, then a zero
        cab.encode_bypass_bits((1 << (len + 1)) - 2, len + 1);
        if rice > 0 {
            cab.encode_bypass_bits(value & ((1 << rice) - 1), rice);
        }
    } else {
        let mut len = rice;
        let mut v = value - (3 << rice);
        while v >= (1 << len) {
            v -= 1 << len;
            len += 1;
        }
        let nones = 3 + len + 1 - rice; // total prefix bins
                                        // (nones-1) ones followed by a zero
        let mut k = nones - 1;
        while k > 0 {
            let c = k.min(16);
            cab.encode_bypass_bits((1 << c) - 1, c);
            k -= c;
        }
        cab.encode_bypass(0);
        cab.encode_bypass_bits(v, len);
    }
}

/// Encode residual_coding for a transform block. `lv` is row-major [y][x] of size 1<<log2.
pub fn code_residual(cab: &mut Cabac, lv: &[i16], log2: u32, c_idx: u32, scan_idx: usize) {
    let n = 1usize << log2;
    let sc = scans();
    let sb_w = n >> 2;
    let lsb = log2 as usize - 2; // index of subblock scan table
    let sub_scan = &sc.s[lsb][scan_idx];
    let pos_scan = &sc.s[2][scan_idx];
    let is_luma = c_idx == 0;
    // find last significant coefficient in scan order
    let mut last_sb: i32 = -1;
    let mut last_pos: i32 = -1;
    'outer: for i in (0..sub_scan.len()).rev() {
        let (sx, sy) = sub_scan[i];
        for p in (0..16).rev() {
            let (px, py) = pos_scan[p];
            let x = ((sx as usize) << 2) + px as usize;
            let y = ((sy as usize) << 2) + py as usize;
            if lv[y * n + x] != 0 {
                last_sb = i as i32;
                last_pos = p as i32;
                break 'outer;
            }
        }
    }
    if last_sb < 0 {
        return; // caller must not call with an all-zero block
    }
    let (lsx, lsy) = sub_scan[last_sb as usize];
    let (lpx, lpy) = pos_scan[last_pos as usize];
    let last_x = ((lsx as u32) << 2) + lpx as u32;
    let last_y = ((lsy as u32) << 2) + lpy as u32;
    let (cx, cy) = if scan_idx == 2 {
        (last_y, last_x)
    } else {
        (last_x, last_y)
    };
    write_last_prefix(cab, cx, log2, is_luma, CTX_LAST_X);
    write_last_prefix(cab, cy, log2, is_luma, CTX_LAST_Y);
    write_last_suffix(cab, cx);
    write_last_suffix(cab, cy);

    let mut csbf = [0u8; 64]; // [sy*8+sx]
    let mut c1_state: u32 = 1; // greater1Ctx carried between subblocks
    let mut first_sb_done = false;
    for i in (0..=last_sb as usize).rev() {
        let (sx, sy) = sub_scan[i];
        let (sx, sy) = (sx as usize, sy as usize);
        // gather the 16 coefficients of this subblock in scan order
        let mut vals = [0i32; 16];
        let mut nz = 0;
        for p in 0..16 {
            let (px, py) = pos_scan[p];
            let x = (sx << 2) + px as usize;
            let y = (sy << 2) + py as usize;
            vals[p] = lv[y * n + x] as i32;
            if vals[p] != 0 {
                nz += 1;
            }
        }
        let right = if sx + 1 < sb_w {
            csbf[sy * 8 + sx + 1]
        } else {
            0
        };
        let below = if sy + 1 < sb_w {
            csbf[(sy + 1) * 8 + sx]
        } else {
            0
        };
        let mut infer_dc = false;
        if (i as i32) < last_sb && i > 0 {
            let flag = (nz > 0) as u32;
            let ctx = CTX_CSBF + (right | below).min(1) as usize + if is_luma { 0 } else { 2 };
            cab.encode_bin(flag, ctx);
            csbf[sy * 8 + sx] = flag as u8;
            infer_dc = true;
        } else {
            csbf[sy * 8 + sx] = 1;
        }
        if csbf[sy * 8 + sx] == 0 {
            continue;
        }
        let prev_csbf = right as u32 + 2 * below as u32;
        let start = if i as i32 == last_sb {
            last_pos - 1
        } else {
            15
        };
        let mut p = start;
        while p >= 0 {
            let pu = p as usize;
            let sig = (vals[pu] != 0) as u32;
            if p == 0 && infer_dc {
                // inferred to be 1 when all others in the subblock are zero
                break;
            }
            let (px, py) = pos_scan[pu];
            let xc = (sx << 2) + px as usize;
            let yc = (sy << 2) + py as usize;
            let sig_ctx = if log2 == 2 {
                CTX_IDX_MAP_4X4[(yc << 2) + xc] as usize
            } else if xc + yc == 0 {
                0
            } else {
                let xp = px as usize;
                let yp = py as usize;
                let mut s = match prev_csbf {
                    0 => {
                        if xp + yp == 0 {
                            2
                        } else if xp + yp < 3 {
                            1
                        } else {
                            0
                        }
                    }
                    1 => {
                        if yp == 0 {
                            2
                        } else if yp == 1 {
                            1
                        } else {
                            0
                        }
                    }
                    2 => {
                        if xp == 0 {
                            2
                        } else if xp == 1 {
                            1
                        } else {
                            0
                        }
                    }
                    _ => 2,
                };
                if is_luma && (sx, sy) != (0, 0) {
                    s += 3;
                }
                if log2 == 3 {
                    s += if scan_idx == 0 { 9 } else { 15 };
                } else {
                    s += if is_luma { 21 } else { 12 };
                }
                s
            };
            let ctx = CTX_SIG + if is_luma { sig_ctx } else { 27 + sig_ctx };
            cab.encode_bin(sig, ctx);
            if sig != 0 {
                infer_dc = false;
            }
            p -= 1;
        }
        // levels
        let mut ctx_set = if i == 0 || !is_luma { 0 } else { 2 };
        if first_sb_done && c1_state == 0 {
            ctx_set += 1;
        }
        first_sb_done = true;
        let mut c1: u32 = 1;
        let mut sig_pos = [0usize; 16];
        let mut nsig = 0;
        for p in (0..16).rev() {
            if vals[p] != 0 {
                sig_pos[nsig] = p;
                nsig += 1;
            }
        }
        let mut gt1_first_idx: i32 = -1; // index into sig_pos of first coeff with greater1
        let ng1 = nsig.min(8);
        for k in 0..ng1 {
            let a = vals[sig_pos[k]].unsigned_abs();
            let flag = (a > 1) as u32;
            let ctx = CTX_GT1 + ctx_set * 4 + c1.min(3) as usize + if is_luma { 0 } else { 16 };
            cab.encode_bin(flag, ctx);
            if flag != 0 {
                c1 = 0;
                if gt1_first_idx < 0 {
                    gt1_first_idx = k as i32;
                }
            } else if c1 > 0 && c1 < 3 {
                c1 += 1;
            }
        }
        c1_state = c1;
        if gt1_first_idx >= 0 {
            let a = vals[sig_pos[gt1_first_idx as usize]].unsigned_abs();
            let ctx = CTX_GT2 + ctx_set + if is_luma { 0 } else { 4 };
            cab.encode_bin((a > 2) as u32, ctx);
        }
        for k in 0..nsig {
            cab.encode_bypass((vals[sig_pos[k]] < 0) as u32);
        }
        // remaining
        let mut rice = 0u32;
        for k in 0..nsig {
            let a = vals[sig_pos[k]].unsigned_abs();
            let base = if k < 8 {
                if k as i32 == gt1_first_idx {
                    3
                } else {
                    2
                }
            } else {
                1
            };
            if a >= base {
                // coded only when the flags saturated at base
                let saturated = if k < 8 {
                    if base == 3 {
                        a > 2
                    } else {
                        // base 2: greater1 flag was 1 but no greater2 flag coded
                        a > 1
                    }
                } else {
                    true
                };
                if saturated {
                    let rem = a - base;
                    write_remaining(cab, rem, rice);
                    if a > 3 * (1 << rice) {
                        rice = (rice + 1).min(4);
                    }
                }
            }
        }
    }
}
