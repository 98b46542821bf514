//! Pure helpers of the encode benchmark: Bjøntegaard delta rate and the
//! parsing of FFmpeg's `psnr`, `ssim` and `-benchmark` output. No I/O, so
//! they are unit-tested (`cargo test --test bench_analysis`).

/// One rate-distortion point: actual bitrate (kbit/s) and quality (PSNR-Y, dB).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RdPoint {
    pub kbps: f64,
    pub psnr: f64,
}

/// Bjøntegaard delta rate (VCEG-M33, the classic form): fits log10(rate) as
/// a cubic polynomial of PSNR for each curve (least squares; exact through
/// four points), integrates both over the PSNR range the curves share, and
/// turns the mean log-rate difference into a percentage. Negative: `test`
/// needs less rate than `anchor` for the same PSNR.
///
/// None when either curve has fewer than 4 usable points, the ranges do not
/// overlap, or the fit is degenerate (e.g. all points at one PSNR).
pub fn bd_rate(anchor: &[RdPoint], test: &[RdPoint]) -> Option<f64> {
    let fit = |pts: &[RdPoint]| -> Option<([f64; 4], f64, f64)> {
        let pts: Vec<RdPoint> = pts
            .iter()
            .copied()
            .filter(|p| p.kbps > 0.0 && p.kbps.is_finite() && p.psnr.is_finite())
            .collect();
        if pts.len() < 4 {
            return None;
        }
        let xs: Vec<f64> = pts.iter().map(|p| p.psnr).collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.kbps.log10()).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((polyfit3(&xs, &ys)?, lo, hi))
    };
    let (pa, alo, ahi) = fit(anchor)?;
    let (pt, tlo, thi) = fit(test)?;
    let (lo, hi) = (alo.max(tlo), ahi.min(thi));
    if hi - lo <= 1e-9 {
        return None;
    }
    let mean_a = (integral(&pa, hi) - integral(&pa, lo)) / (hi - lo);
    let mean_t = (integral(&pt, hi) - integral(&pt, lo)) / (hi - lo);
    let r = (10f64.powf(mean_t - mean_a) - 1.0) * 100.0;
    r.is_finite().then_some(r)
}

/// Least-squares cubic y = c0 + c1 x + c2 x² + c3 x³ (normal equations,
/// x centred for conditioning; the returned coefficients are in plain x).
fn polyfit3(xs: &[f64], ys: &[f64]) -> Option<[f64; 4]> {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let mut a = [[0.0f64; 5]; 4];
    for (&x, &y) in xs.iter().zip(ys) {
        let t = x - m;
        let pow = [1.0, t, t * t, t * t * t];
        for (row, &pi) in a.iter_mut().zip(&pow) {
            for (cell, &pj) in row.iter_mut().zip(&pow) {
                *cell += pi * pj;
            }
            row[4] += pi * y;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..4 {
        let piv = (col..4).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[piv][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, piv);
        let pivot = a[col];
        for (r, row) in a.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot[col];
                for (cell, &p) in row.iter_mut().zip(&pivot).skip(col) {
                    *cell -= f * p;
                }
            }
        }
    }
    let d: Vec<f64> = (0..4).map(|i| a[i][4] / a[i][i]).collect();
    // Expand c(t) with t = x - m back to powers of x.
    let c = [
        d[0] - d[1] * m + d[2] * m * m - d[3] * m * m * m,
        d[1] - 2.0 * d[2] * m + 3.0 * d[3] * m * m,
        d[2] - 3.0 * d[3] * m,
        d[3],
    ];
    c.iter().all(|v| v.is_finite()).then_some(c)
}

/// Antiderivative of the cubic at x.
fn integral(c: &[f64; 4], x: f64) -> f64 {
    c[0] * x + c[1] * x * x / 2.0 + c[2] * x.powi(3) / 3.0 + c[3] * x.powi(4) / 4.0
}

/// The value after `key` up to the next space, as a number ("inf" parses).
fn field(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split_whitespace().next()?.parse().ok()
}

/// PSNR-Y (dB) from the summary line of FFmpeg's `psnr` filter:
/// `[Parsed_psnr_5 @ 0x..] PSNR y:38.12 u:42.0 v:43.1 average:39.3 min:.. max:..`.
/// FFmpeg derives it from the mean squared error over all frames.
pub fn parse_psnr_y(stderr: &str) -> Option<f64> {
    stderr
        .lines()
        .rev()
        .filter(|l| l.contains("] PSNR "))
        .find_map(|l| field(l, " y:"))
}

/// (SSIM-Y, SSIM-All) from the summary line of FFmpeg's `ssim` filter:
/// `[Parsed_ssim_6 @ 0x..] SSIM Y:0.953 (13.3) U:.. V:.. All:0.96 (14.1)`.
pub fn parse_ssim(stderr: &str) -> Option<(f64, f64)> {
    let line = stderr.lines().rev().find(|l| l.contains("] SSIM "))?;
    Some((field(line, " Y:")?, field(line, " All:")?))
}

/// Real time (s) from FFmpeg's `-benchmark` line: `bench: utime=.. stime=.. rtime=1.234s`.
pub fn parse_bench_rtime(stderr: &str) -> Option<f64> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("bench: ") && l.contains("rtime="))?;
    let v = line.split("rtime=").nth(1)?.split_whitespace().next()?;
    v.trim_end_matches('s').parse().ok()
}

/// "1,2" → [1, 2]; empty items are dropped, anything unparsable is an error.
pub fn parse_list<T: std::str::FromStr>(s: &str) -> Result<Vec<T>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().map_err(|_| format!("\"{t}\" is not valid")))
        .collect()
}

// The bench target is built with cfg(test) but without a harness, where
// these helpers look unused; `tests/bench_analysis.rs` runs them.
#[cfg(test)]
#[allow(dead_code)]
mod tests {
    use super::*;

    fn curve(kbps: &[f64], psnr: &[f64]) -> Vec<RdPoint> {
        kbps.iter()
            .zip(psnr)
            .map(|(&kbps, &psnr)| RdPoint { kbps, psnr })
            .collect()
    }

    const RATES: [f64; 4] = [1000.0, 2000.0, 4000.0, 8000.0];
    const PSNR: [f64; 4] = [33.1, 35.9, 38.4, 40.6];

    #[test]
    fn identical_curves_give_zero() {
        let a = curve(&RATES, &PSNR);
        let r = bd_rate(&a, &a).unwrap();
        assert!(r.abs() < 1e-9, "{r}");
    }

    #[test]
    fn ten_percent_less_rate_gives_minus_ten() {
        let a = curve(&RATES, &PSNR);
        let less: Vec<f64> = RATES.iter().map(|r| r * 0.9).collect();
        let r = bd_rate(&a, &curve(&less, &PSNR)).unwrap();
        assert!((r + 10.0).abs() < 1e-6, "{r}");
        // And the other way round: the anchor needs 1/0.9 - 1 = +11.1 % more.
        let r = bd_rate(&curve(&less, &PSNR), &a).unwrap();
        assert!((r - 100.0 / 9.0).abs() < 1e-6, "{r}");
    }

    #[test]
    fn better_quality_at_equal_rate_is_negative() {
        let a = curve(&RATES, &PSNR);
        let up: Vec<f64> = PSNR.iter().map(|p| p + 1.0).collect();
        let r = bd_rate(&a, &curve(&RATES, &up)).unwrap();
        // About 1 dB per 25–30 % of rate on this curve.
        assert!(r < -15.0 && r > -40.0, "{r}");
    }

    #[test]
    fn points_in_any_order_and_shifted_range() {
        let a = curve(&RATES, &PSNR);
        let mut b = curve(&RATES.map(|r| r * 1.2), &PSNR);
        b.reverse();
        let r = bd_rate(&a, &b).unwrap();
        assert!((r - 20.0).abs() < 1e-6, "{r}");
    }

    #[test]
    fn unusable_inputs_give_none() {
        let a = curve(&RATES, &PSNR);
        assert_eq!(bd_rate(&a, &a[..3]), None);
        let disjoint = curve(&RATES, &[50.0, 51.0, 52.0, 53.0]);
        assert_eq!(bd_rate(&a, &disjoint), None);
        let flat = curve(&RATES, &[40.0; 4]);
        assert_eq!(bd_rate(&a, &flat), None);
        let mut nan = a.clone();
        nan[0].psnr = f64::NAN;
        assert_eq!(bd_rate(&a, &nan), None);
    }

    #[test]
    fn polyfit_recovers_a_cubic() {
        let xs = [30.0, 33.0, 36.0, 39.0, 42.0];
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| 1.0 - 0.5 * x + 0.02 * x * x + 0.001 * x * x * x)
            .collect();
        let c = polyfit3(&xs, &ys).unwrap();
        for (got, want) in c.iter().zip([1.0, -0.5, 0.02, 0.001]) {
            assert!((got - want).abs() < 1e-6, "{c:?}");
        }
    }

    const FFMPEG_OUT: &str = "\
Input #0, h264, from 'out.h264':
  Stream #0:0: Video: h264 (High), yuv420p(progressive), 1920x1080, 30 fps
[Parsed_psnr_5 @ 0x55d0c8a3c0c0] PSNR y:38.123456 u:42.000001 v:43.100000 average:39.310000 min:35.200000 max:41.000000
[Parsed_ssim_6 @ 0x55d0c8a3d1c0] SSIM Y:0.953282 (13.303441) U:0.970000 (15.228787) V:0.975000 (16.020600) All:0.961000 (14.100000)
bench: utime=7.012s stime=0.321s rtime=3.456s
bench: maxrss=123456kB
";

    #[test]
    fn parses_ffmpeg_summaries() {
        assert_eq!(parse_psnr_y(FFMPEG_OUT), Some(38.123456));
        assert_eq!(parse_ssim(FFMPEG_OUT), Some((0.953282, 0.961)));
        assert_eq!(parse_bench_rtime(FFMPEG_OUT), Some(3.456));
    }

    #[test]
    fn parses_lossless_and_missing() {
        let s = "[Parsed_psnr_0 @ 0x1] PSNR y:inf u:inf v:inf average:inf min:inf max:inf";
        assert_eq!(parse_psnr_y(s), Some(f64::INFINITY));
        assert_eq!(parse_psnr_y("Error opening input"), None);
        assert_eq!(parse_ssim("[Parsed_ssim_0 @ 0x1] SSIM Y:0.9"), None);
        assert_eq!(parse_bench_rtime("bench: maxrss=1kB"), None);
    }

    #[test]
    fn lists() {
        assert_eq!(parse_list::<u32>("1, 2,,4"), Ok(vec![1, 2, 4]));
        assert!(parse_list::<u32>("1,x").is_err());
        assert_eq!(
            parse_list::<String>("venc264,x264"),
            Ok(vec!["venc264".to_string(), "x264".to_string()])
        );
    }
}
