//! RTP packetization of H.264 (RFC 6184, single NAL unit + FU-A) and H.265
//! (RFC 7798, single NAL unit + FU), plus the interleaved TCP framing of
//! RFC 2326 §10.12.

use super::nal::{is_aud, nal_type, split_nals};
use super::VideoCodec;

pub const DEFAULT_MAX_PAYLOAD: usize = 1400;

/// Weak random number (no crypto needed: SSRC, initial seq/timestamp, cnonce).
pub fn weak_random() -> u32 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    h.finish() as u32
}

pub struct RtpPacketizer {
    pub codec: VideoCodec,
    pub payload_type: u8,
    pub ssrc: u32,
    pub seq: u16,
    pub ts_offset: u32,
    pub max_payload: usize,
}

impl RtpPacketizer {
    pub fn new(codec: VideoCodec, payload_type: u8) -> Self {
        RtpPacketizer {
            codec,
            payload_type,
            ssrc: weak_random(),
            seq: weak_random() as u16,
            ts_offset: weak_random(),
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    fn header(&mut self, out: &mut Vec<u8>, marker: bool, ts: u32) {
        out.push(0x80);
        out.push((if marker { 0x80 } else { 0 }) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        self.seq = self.seq.wrapping_add(1);
    }

    /// RTP timestamp for a 90 kHz presentation time.
    pub fn rtp_ts(&self, pts: i64) -> u32 {
        (pts as u32).wrapping_add(self.ts_offset)
    }

    /// Packetize one Annex-B access unit; the marker bit is set on the last packet.
    pub fn packetize(&mut self, au: &[u8], pts: i64) -> Vec<Vec<u8>> {
        let ts = self.rtp_ts(pts);
        let codec = self.codec;
        let nals: Vec<&[u8]> = split_nals(au)
            .into_iter()
            .filter(|n| !is_aud(codec, nal_type(codec, n)))
            .collect();
        let mut packets = Vec::new();
        let hl = match codec {
            VideoCodec::H264 => 1,
            VideoCodec::H265 => 2,
        };
        for (i, nal) in nals.iter().enumerate() {
            let last_nal = i + 1 == nals.len();
            if nal.len() <= self.max_payload {
                let mut p = Vec::with_capacity(12 + nal.len());
                self.header(&mut p, last_nal, ts);
                p.extend_from_slice(nal);
                packets.push(p);
                continue;
            }
            if nal.len() <= hl {
                continue;
            }
            let t = nal_type(codec, nal);
            let body = &nal[hl..];
            let chunk = self.max_payload - (hl + 1);
            let n_chunks = body.len().div_ceil(chunk);
            for (k, c) in body.chunks(chunk).enumerate() {
                let start = k == 0;
                let end = k + 1 == n_chunks;
                let mut p = Vec::with_capacity(12 + 3 + c.len());
                self.header(&mut p, end && last_nal, ts);
                let se = (if start { 0x80 } else { 0 }) | (if end { 0x40 } else { 0 });
                match codec {
                    VideoCodec::H264 => {
                        p.push((nal[0] & 0xe0) | 28); // FU indicator
                        p.push(se | t); // FU header
                    }
                    VideoCodec::H265 => {
                        p.push((nal[0] & 0x81) | (49 << 1)); // PayloadHdr, type 49
                        p.push(nal[1]);
                        p.push(se | t); // FU header
                    }
                }
                p.extend_from_slice(c);
                packets.push(p);
            }
        }
        packets
    }
}

/// `$ channel len16 payload` framing for RTP over the RTSP TCP connection.
pub fn interleave(channel: u8, pkt: &[u8], out: &mut Vec<u8>) {
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&(pkt.len() as u16).to_be_bytes());
    out.extend_from_slice(pkt);
}

/// Reassemble NAL units from RTP payloads (for tests / loopback checks).
pub fn depacketize(codec: VideoCodec, payloads: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut nals = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    for p in payloads {
        let (fu, hl) = match codec {
            VideoCodec::H264 => (p[0] & 0x1f == 28, 1),
            VideoCodec::H265 => ((p[0] >> 1) & 0x3f == 49, 2),
        };
        if !fu {
            nals.push(p.to_vec());
            continue;
        }
        let fh = p[hl];
        if fh & 0x80 != 0 {
            let mut n = match codec {
                VideoCodec::H264 => vec![(p[0] & 0xe0) | (fh & 0x1f)],
                VideoCodec::H265 => vec![(p[0] & 0x81) | ((fh & 0x3f) << 1), p[1]],
            };
            n.extend_from_slice(&p[hl + 1..]);
            cur = Some(n);
        } else if let Some(c) = cur.as_mut() {
            c.extend_from_slice(&p[hl + 1..]);
        }
        if fh & 0x40 != 0 {
            if let Some(c) = cur.take() {
                nals.push(c);
            }
        }
    }
    nals
}
