//! MPEG-2 Transport Stream file (.ts): PAT/PMT (repeated before every
//! keyframe and at least every 0.5 s), one PES per access unit on PID 0x100
//! with PTS/DTS, PCR in the adaptation field of each PES start, stream_type
//! 0x1B (H.264) / 0x24 (H.265), per-PID continuity counters. An AUD is
//! inserted when the access unit lacks one (required for AVC/HEVC in TS).

use super::annexb::create_file;
use super::nal::{is_aud, nal_type, split_nals};
use super::{AccessUnit, AuGate, Sink, SinkError, StreamInfo, VideoCodec};
use std::fs::File;
use std::io::{BufWriter, Write};

pub const PMT_PID: u16 = 0x1000;
pub const VIDEO_PID: u16 = 0x100;
const TS_SIZE: usize = 188;
/// Offset added to timestamps (like FFmpeg's 1.4 s) so PCR can precede DTS.
const TS_OFFSET: i64 = 126_000;
/// PCR leads DTS by this many 90 kHz ticks.
const PCR_LEAD: i64 = 63_000;

pub fn crc32_mpeg(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Pure TS packetizer (no I/O), usable for files or other transports.
pub struct TsMuxer {
    codec: VideoCodec,
    cc: [u8; 3], // PAT, PMT, video
    base: Option<i64>,
    last_psi_dts: Option<i64>,
}

fn psi_section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
    // section_length covers: id(2) ver(1) sec(1) last(1) body crc(4)
    let len = 5 + body.len() + 4;
    let mut s = vec![table_id, 0xb0 | ((len >> 8) as u8 & 0x0f), len as u8];
    s.extend_from_slice(&id.to_be_bytes());
    s.push(0xc1); // version 0, current_next 1
    s.push(0);
    s.push(0);
    s.extend_from_slice(body);
    let crc = crc32_mpeg(&s);
    s.extend_from_slice(&crc.to_be_bytes());
    s
}

fn put_ts(buf: &mut Vec<u8>, marker: u8, v: i64) {
    let v = (v as u64) & 0x1_ffff_ffff;
    buf.push((marker << 4) | (((v >> 30) as u8 & 7) << 1) | 1);
    buf.push((v >> 22) as u8);
    buf.push((((v >> 15) as u8) << 1) | 1);
    buf.push((v >> 7) as u8);
    buf.push(((v as u8) << 1) | 1);
}

impl TsMuxer {
    pub fn new(codec: VideoCodec) -> Self {
        TsMuxer {
            codec,
            cc: [0; 3],
            base: None,
            last_psi_dts: None,
        }
    }

    fn next_cc(&mut self, idx: usize) -> u8 {
        let c = self.cc[idx];
        self.cc[idx] = (c + 1) & 0x0f;
        c
    }

    fn psi_packet(&mut self, out: &mut Vec<u8>, pid: u16, idx: usize, section: &[u8]) {
        let start = out.len();
        out.push(0x47);
        out.push(0x40 | ((pid >> 8) as u8 & 0x1f));
        out.push(pid as u8);
        let cc = self.next_cc(idx);
        out.push(0x10 | cc);
        out.push(0); // pointer_field
        out.extend_from_slice(section);
        out.resize(start + TS_SIZE, 0xff);
    }

    /// PAT + PMT packets.
    pub fn write_tables(&mut self, out: &mut Vec<u8>) {
        let pat = psi_section(
            0x00,
            1,
            &[0x00, 0x01, 0xe0 | (PMT_PID >> 8) as u8, PMT_PID as u8],
        );
        self.psi_packet(out, 0, 0, &pat);
        let st = match self.codec {
            VideoCodec::H264 => 0x1b,
            VideoCodec::H265 => 0x24,
        };
        let body = [
            0xe0 | (VIDEO_PID >> 8) as u8,
            VIDEO_PID as u8, // PCR PID
            0xf0,
            0x00, // program_info_length
            st,
            0xe0 | (VIDEO_PID >> 8) as u8,
            VIDEO_PID as u8,
            0xf0,
            0x00, // ES_info_length
        ];
        let pmt = psi_section(0x02, 1, &body);
        self.psi_packet(out, PMT_PID, 1, &pmt);
    }

    /// Append the TS packets for one access unit to `out`.
    pub fn write_au(&mut self, out: &mut Vec<u8>, au: &AccessUnit) {
        let base = *self.base.get_or_insert(TS_OFFSET - au.dts);
        let dts = au.dts + base;
        let pts = au.pts + base;
        let psi_due = match self.last_psi_dts {
            None => true,
            Some(l) => au.keyframe || dts - l >= 45_000,
        };
        if psi_due {
            self.write_tables(out);
            self.last_psi_dts = Some(dts);
        }
        // PES header + payload
        let mut pes = Vec::with_capacity(au.data.len() + 32);
        pes.extend_from_slice(&[0, 0, 1, 0xe0, 0, 0]); // unbounded length
        let has_dts = pts != dts;
        pes.push(0x84); // marker '10', data_alignment_indicator
        pes.push(if has_dts { 0xc0 } else { 0x80 });
        pes.push(if has_dts { 10 } else { 5 });
        put_ts(&mut pes, if has_dts { 3 } else { 2 }, pts);
        if has_dts {
            put_ts(&mut pes, 1, dts);
        }
        let nals = split_nals(au.data);
        let has_aud = nals
            .first()
            .map(|n| is_aud(self.codec, nal_type(self.codec, n)))
            .unwrap_or(false);
        if !has_aud {
            match self.codec {
                VideoCodec::H264 => pes.extend_from_slice(&[0, 0, 0, 1, 0x09, 0xf0]),
                VideoCodec::H265 => pes.extend_from_slice(&[0, 0, 0, 1, 0x46, 0x01, 0x50]),
            }
        }
        for n in nals {
            pes.extend_from_slice(&[0, 0, 0, 1]);
            pes.extend_from_slice(n);
        }
        let pcr = (dts - PCR_LEAD).max(0);
        let mut pos = 0;
        let mut first = true;
        while pos < pes.len() {
            let start = out.len();
            out.push(0x47);
            out.push((if first { 0x40 } else { 0 }) | ((VIDEO_PID >> 8) as u8 & 0x1f));
            out.push(VIDEO_PID as u8);
            let cc = self.next_cc(2);
            let remaining = pes.len() - pos;
            // Adaptation field content (without its length byte)
            let mut af: Vec<u8> = Vec::new();
            if first {
                let mut flags = 0x10u8; // PCR_flag
                if au.keyframe {
                    flags |= 0x40; // random_access_indicator
                }
                af.push(flags);
                let pcr_base = (pcr as u64) & 0x1_ffff_ffff;
                af.push((pcr_base >> 25) as u8);
                af.push((pcr_base >> 17) as u8);
                af.push((pcr_base >> 9) as u8);
                af.push((pcr_base >> 1) as u8);
                af.push((((pcr_base & 1) as u8) << 7) | 0x7e);
                af.push(0);
            }
            let af_total = if first { 1 + af.len() } else { 0 };
            let space = TS_SIZE - 4 - af_total;
            if remaining < space {
                // Need stuffing: grow (or create) the adaptation field.
                let stuff = space - remaining;
                let mut af_body = af.clone();
                if af_total == 0 {
                    // create AF: length byte + (flags + stuffing) ; stuff counts the length byte
                    if stuff == 1 {
                        af_body.clear(); // length 0
                    } else {
                        af_body.push(0x00);
                        af_body.resize(stuff - 1, 0xff);
                    }
                } else {
                    af_body.resize(af.len() + stuff, 0xff);
                }
                out.push(0x30 | cc);
                out.push(af_body.len() as u8);
                out.extend_from_slice(&af_body);
            } else if af_total > 0 {
                out.push(0x30 | cc);
                out.push(af.len() as u8);
                out.extend_from_slice(&af);
            } else {
                out.push(0x10 | cc);
            }
            let take = TS_SIZE - (out.len() - start);
            out.extend_from_slice(&pes[pos..pos + take]);
            pos += take;
            first = false;
            debug_assert_eq!(out.len() - start, TS_SIZE);
        }
    }
}

pub struct TsSink {
    path: String,
    out: Option<BufWriter<File>>,
    mux: TsMuxer,
    gate: AuGate,
    buf: Vec<u8>,
}

impl TsSink {
    pub fn create(path: &str, info: &StreamInfo) -> Result<Self, SinkError> {
        let f = create_file(path)?;
        Ok(TsSink {
            path: path.to_string(),
            out: Some(BufWriter::with_capacity(1 << 20, f)),
            mux: TsMuxer::new(info.codec),
            gate: AuGate::default(),
            buf: Vec::new(),
        })
    }
}

impl Sink for TsSink {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        let path = &self.path;
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| SinkError::protocol(format!("{path}: write after finish")))?;
        self.gate.check(au, path)?;
        self.buf.clear();
        self.mux.write_au(&mut self.buf, au);
        out.write_all(&self.buf)
            .map_err(|e| SinkError::io(path, e))?;
        if au.keyframe {
            // keep whatever a killed process leaves behind playable up to the last GOP
            out.flush().map_err(|e| SinkError::io(path, e))?;
        }
        self.gate.accept(au);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(|e| SinkError::io(&self.path, e))?;
        }
        Ok(())
    }
    fn is_network(&self) -> bool {
        false
    }
}

impl Drop for TsSink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
