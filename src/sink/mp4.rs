//! Fragmented MP4 file (.mp4/.mov/.m4v) via the `muxide` crate.
//!
//! Layout: ftyp+moov (avcC/hvcC from the first keyframe's parameter sets),
//! then one moof+mdat fragment roughly every second, written straight to the
//! file. If the writer process is killed, every fragment already flushed
//! (all but the last ~1 s) stays playable; `finish` writes the tail fragment.

use super::annexb::create_file;
use super::nal::{annexb_to_length_prefixed, ParamSets};
use super::{AccessUnit, AuGate, Sink, SinkError, StreamInfo, VideoCodec};
use muxide::fragmented::{FragmentConfig, FragmentedMuxer};
use std::fs::File;
use std::io::Write;

/// Target fragment length in 90 kHz ticks.
const FRAGMENT_TICKS: i64 = 90_000;

pub struct Mp4Sink {
    path: String,
    info: StreamInfo,
    file: Option<File>,
    mux: Option<FragmentedMuxer>,
    params: ParamSets,
    gate: AuGate,
    base_dts: i64,
    frag_first_dts: Option<i64>,
    frag_count: usize,
}

impl Mp4Sink {
    pub fn create(path: &str, info: &StreamInfo) -> Result<Self, SinkError> {
        let file = create_file(path)?;
        Ok(Mp4Sink {
            path: path.to_string(),
            info: info.clone(),
            file: Some(file),
            mux: None,
            params: ParamSets::default(),
            gate: AuGate::default(),
            base_dts: 0,
            frag_first_dts: None,
            frag_count: 0,
        })
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| SinkError::protocol(format!("{}: write after finish", self.path)))?;
        f.write_all(bytes).map_err(|e| SinkError::io(&self.path, e))
    }

    fn flush_fragment(&mut self) -> Result<(), SinkError> {
        let seg = self.mux.as_mut().and_then(|m| m.flush_segment());
        if let Some(seg) = seg {
            self.write_bytes(&seg)?;
        }
        self.frag_first_dts = None;
        self.frag_count = 0;
        Ok(())
    }
}

impl Sink for Mp4Sink {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        if self.file.is_none() {
            return Err(SinkError::protocol(format!(
                "{}: write after finish",
                self.path
            )));
        }
        self.gate.check(au, &self.path)?;
        let codec = self.info.codec;
        let ps = ParamSets::from_au(codec, au.data);
        if self.mux.is_none() {
            if !ps.complete(codec) {
                return Err(SinkError::protocol(format!(
                    "{}: first keyframe lacks in-band {} parameter sets",
                    self.path,
                    if codec == VideoCodec::H264 {
                        "SPS/PPS"
                    } else {
                        "VPS/SPS/PPS"
                    }
                )));
            }
            let mut cfg = FragmentConfig::new(self.info.width, self.info.height, 90_000);
            let (Some(sps), Some(pps)) = (ps.sps.clone(), ps.pps.clone()) else {
                return Err(SinkError::protocol(format!(
                    "{}: first keyframe lacks SPS/PPS",
                    self.path
                )));
            };
            cfg.sps = sps;
            cfg.pps = pps;
            cfg.vps = ps.vps.clone();
            cfg.fragment_duration_ms = 1000;
            let mut mux = FragmentedMuxer::new(cfg).map_err(|e| {
                SinkError::protocol(format!(
                    "{}: cannot create MP4 muxer: {e}",
                    super::redact_url(&self.path)
                ))
            })?;
            let mut init = mux.init_segment();
            if codec == VideoCodec::H265 {
                patch_hvcc(&mut init, &ps);
            }
            self.mux = Some(mux);
            self.write_bytes(&init)?;
            self.params = ps.clone();
            self.base_dts = au.dts;
        }
        // Parameter sets equal to the ones in the sample entry are dropped from samples.
        let same = ps == ParamSets::default() || ps == self.params;
        let sample = annexb_to_length_prefixed(codec, au.data, same);
        if let Some(first) = self.frag_first_dts {
            if self.frag_count >= 2 && au.dts - first >= FRAGMENT_TICKS {
                self.flush_fragment()?;
            }
        }
        let dts = (au.dts - self.base_dts) as u64;
        let pts = (au.pts - self.base_dts).max(0) as u64;
        let keyframe = au.keyframe;
        let Some(mux) = self.mux.as_mut() else {
            return Err(SinkError::protocol(format!("{}: no muxer", self.path)));
        };
        mux.write_video(pts, dts, &sample, keyframe)
            .map_err(|e| SinkError::protocol(format!("{}: {e}", self.path)))?;
        if self.frag_first_dts.is_none() {
            self.frag_first_dts = Some(au.dts);
        }
        self.frag_count += 1;
        self.gate.accept(au);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if self.file.is_none() {
            return Ok(());
        }
        let r = self.flush_fragment();
        if let Some(f) = self.file.take() {
            r?;
            f.sync_all().map_err(|e| SinkError::io(&self.path, e))?;
        }
        Ok(())
    }

    fn is_network(&self) -> bool {
        false
    }
}

impl Drop for Mp4Sink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// muxide's hvcC hard-codes 4:2:0 / 8-bit and numTemporalLayers=0; replace it
/// with our record (same size, so box sizes stay valid) built from the SPS.
fn patch_hvcc(init: &mut [u8], ps: &ParamSets) {
    let (Some(vps), Some(sps), Some(pps)) = (&ps.vps, &ps.sps, &ps.pps) else {
        return;
    };
    let ours = super::nal::build_hvcc(vps, sps, pps);
    if let Some(pos) = init.windows(4).position(|w| w == b"hvcC") {
        if pos < 4 {
            return;
        }
        let size = u32::from_be_bytes([init[pos - 4], init[pos - 3], init[pos - 2], init[pos - 1]])
            as usize;
        let start = pos + 4;
        let end = pos - 4 + size;
        if end <= init.len() && end - start == ours.len() {
            init[start..end].copy_from_slice(&ours);
        }
    }
}
