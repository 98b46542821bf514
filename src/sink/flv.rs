//! FLV tags (shared with RTMP) and the FLV file sink.
//!
//! H.264 uses the legacy AVC video tag (CodecID 7, AVCPacketType + SI24
//! composition time). H.265 uses the enhanced-RTMP ExVideoTagHeader:
//! IsExHeader bit | FrameType | PacketType, FourCC 'hvc1', then
//! SequenceStart (hvcC) / CodedFrames (SI24 composition time + NALUs) /
//! SequenceEnd.

use super::annexb::create_file;
use super::nal::{annexb_to_length_prefixed, build_avcc, build_hvcc, ParamSets};
use super::{AccessUnit, AuGate, Sink, SinkError, StreamInfo, VideoCodec};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

pub const TAG_AUDIO: u8 = 8;
pub const TAG_VIDEO: u8 = 9;
pub const TAG_SCRIPT: u8 = 18;

/// Payload of a video tag / RTMP video message.
pub enum VideoPayload<'a> {
    /// Decoder configuration record (avcC / hvcC).
    SequenceHeader(&'a [u8]),
    /// Length-prefixed NAL units with composition time offset in ms.
    Frame {
        data: &'a [u8],
        cts_ms: i32,
        keyframe: bool,
    },
    EndOfSequence,
}

fn si24(v: i32) -> [u8; 3] {
    let b = v.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// Build the body of an FLV video tag (== RTMP video message payload).
pub fn video_tag_body(codec: VideoCodec, p: &VideoPayload) -> Vec<u8> {
    let mut v = Vec::new();
    match codec {
        VideoCodec::H264 => match p {
            VideoPayload::SequenceHeader(cfg) => {
                v.extend_from_slice(&[0x17, 0, 0, 0, 0]);
                v.extend_from_slice(cfg);
            }
            VideoPayload::Frame {
                data,
                cts_ms,
                keyframe,
            } => {
                v.push(if *keyframe { 0x17 } else { 0x27 });
                v.push(1);
                v.extend_from_slice(&si24(*cts_ms));
                v.extend_from_slice(data);
            }
            VideoPayload::EndOfSequence => v.extend_from_slice(&[0x17, 2, 0, 0, 0]),
        },
        VideoCodec::H265 => {
            match p {
                VideoPayload::SequenceHeader(cfg) => {
                    v.push(0x80 | (1 << 4)); // ex header, keyframe, SequenceStart
                    v.extend_from_slice(b"hvc1");
                    v.extend_from_slice(cfg);
                }
                VideoPayload::Frame {
                    data,
                    cts_ms,
                    keyframe,
                } => {
                    let ft = if *keyframe { 1 } else { 2 };
                    if *cts_ms == 0 {
                        v.push(0x80 | (ft << 4) | 3); // CodedFramesX
                        v.extend_from_slice(b"hvc1");
                    } else {
                        v.push(0x80 | (ft << 4) | 1); // CodedFrames
                        v.extend_from_slice(b"hvc1");
                        v.extend_from_slice(&si24(*cts_ms));
                    }
                    v.extend_from_slice(data);
                }
                VideoPayload::EndOfSequence => {
                    v.push(0x80 | (1 << 4) | 2);
                    v.extend_from_slice(b"hvc1");
                }
            }
        }
    }
    v
}

/// Parsed video tag body (for tests / inspection).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedVideo {
    pub enhanced: bool,
    pub fourcc: [u8; 4],
    pub frame_type: u8,
    /// Legacy: AVCPacketType; enhanced: PacketType.
    pub packet_type: u8,
    pub cts_ms: i32,
    pub payload: Vec<u8>,
}

pub fn parse_video_body(b: &[u8]) -> Option<ParsedVideo> {
    let h = *b.first()?;
    let rd24 = |s: &[u8]| -> i32 {
        (((s[0] as i32) << 24) | ((s[1] as i32) << 16) | ((s[2] as i32) << 8)) >> 8
    };
    if h & 0x80 != 0 {
        let pt = h & 0x0f;
        let fourcc: [u8; 4] = b.get(1..5)?.try_into().ok()?;
        let (cts, off) = if pt == 1 {
            (rd24(b.get(5..8)?), 8)
        } else {
            (0, 5)
        };
        Some(ParsedVideo {
            enhanced: true,
            fourcc,
            frame_type: (h >> 4) & 7,
            packet_type: pt,
            cts_ms: cts,
            payload: b.get(off..)?.to_vec(),
        })
    } else {
        let codec_id = h & 0x0f;
        let fourcc = if codec_id == 7 {
            *b"avc1"
        } else {
            [0, 0, 0, codec_id]
        };
        Some(ParsedVideo {
            enhanced: false,
            fourcc,
            frame_type: h >> 4,
            packet_type: *b.get(1)?,
            cts_ms: rd24(b.get(2..5)?),
            payload: b.get(5..)?.to_vec(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct FlvTag {
    pub tag_type: u8,
    pub timestamp_ms: u32,
    pub data: Vec<u8>,
}

/// Parse an FLV file: returns the tags (None if the header/structure is broken).
pub fn parse_flv(b: &[u8]) -> Option<Vec<FlvTag>> {
    if b.len() < 13 || &b[0..3] != b"FLV" {
        return None;
    }
    let hlen = u32::from_be_bytes(b[5..9].try_into().ok()?) as usize;
    let mut pos = hlen + 4;
    let mut tags = Vec::new();
    while pos + 11 <= b.len() {
        let t = b[pos] & 0x1f;
        let size =
            ((b[pos + 1] as usize) << 16) | ((b[pos + 2] as usize) << 8) | b[pos + 3] as usize;
        let ts = ((b[pos + 7] as u32) << 24)
            | ((b[pos + 4] as u32) << 16)
            | ((b[pos + 5] as u32) << 8)
            | b[pos + 6] as u32;
        let data = b.get(pos + 11..pos + 11 + size)?.to_vec();
        let prev = u32::from_be_bytes(b.get(pos + 11 + size..pos + 15 + size)?.try_into().ok()?);
        if prev as usize != size + 11 {
            return None;
        }
        tags.push(FlvTag {
            tag_type: t,
            timestamp_ms: ts,
            data,
        });
        pos += 15 + size;
    }
    Some(tags)
}

// ---- AMF0 helpers ----
pub fn amf0_string(v: &mut Vec<u8>, s: &str) {
    v.push(2);
    v.extend_from_slice(&(s.len() as u16).to_be_bytes());
    v.extend_from_slice(s.as_bytes());
}
fn amf0_key(v: &mut Vec<u8>, s: &str) {
    v.extend_from_slice(&(s.len() as u16).to_be_bytes());
    v.extend_from_slice(s.as_bytes());
}
pub fn amf0_number(v: &mut Vec<u8>, n: f64) {
    v.push(0);
    v.extend_from_slice(&n.to_be_bytes());
}

/// onMetaData script body; returns (body, offset of the duration f64 inside the body).
pub fn metadata_body(info: &StreamInfo) -> (Vec<u8>, usize) {
    let mut v = Vec::new();
    amf0_string(&mut v, "onMetaData");
    v.push(8); // ECMA array
    v.extend_from_slice(&5u32.to_be_bytes());
    amf0_key(&mut v, "duration");
    let dur_off = v.len() + 1;
    amf0_number(&mut v, 0.0);
    amf0_key(&mut v, "width");
    amf0_number(&mut v, info.width as f64);
    amf0_key(&mut v, "height");
    amf0_number(&mut v, info.height as f64);
    amf0_key(&mut v, "framerate");
    let fps = if info.fps_den > 0 {
        info.fps_num as f64 / info.fps_den as f64
    } else {
        0.0
    };
    amf0_number(&mut v, fps);
    amf0_key(&mut v, "videocodecid");
    let id = match info.codec {
        VideoCodec::H264 => 7.0,
        VideoCodec::H265 => u32::from_be_bytes(*b"hvc1") as f64,
    };
    amf0_number(&mut v, id);
    v.extend_from_slice(&[0, 0, 9]);
    (v, dur_off)
}

/// Converts AUs into FLV video payloads with ms timestamps (shared by FLV file and RTMP).
pub struct FlvVideoPacker {
    pub codec: VideoCodec,
    pub params: Option<ParamSets>,
    base_dts: i64,
}

impl FlvVideoPacker {
    pub fn new(codec: VideoCodec) -> Self {
        FlvVideoPacker {
            codec,
            params: None,
            base_dts: 0,
        }
    }
    fn ms(&self, t: i64) -> i64 {
        ((t - self.base_dts) * 1000 + 45_000).div_euclid(90_000)
    }
    /// Returns (timestamp_ms, body) items to send for this AU: a sequence
    /// header first (or when parameter sets change), then the frame.
    pub fn pack(&mut self, au: &AccessUnit, what: &str) -> Result<Vec<(u32, Vec<u8>)>, SinkError> {
        let codec = self.codec;
        let ps = ParamSets::from_au(codec, au.data);
        let mut out = Vec::new();
        if self.params.is_none() {
            if !ps.complete(codec) {
                return Err(SinkError::protocol(format!(
                    "{what}: first keyframe lacks in-band parameter sets"
                )));
            }
            self.base_dts = au.dts;
        }
        let dts_ms = self.ms(au.dts);
        let pts_ms = self.ms(au.pts);
        let changed = ps.complete(codec) && self.params.as_ref() != Some(&ps);
        if changed {
            // `complete` checked the sets this codec needs.
            let cfg = match (codec, &ps.vps, &ps.sps, &ps.pps) {
                (VideoCodec::H264, _, Some(sps), Some(pps)) => build_avcc(sps, pps),
                (VideoCodec::H265, Some(vps), Some(sps), Some(pps)) => build_hvcc(vps, sps, pps),
                _ => {
                    return Err(SinkError::protocol(format!(
                        "{what}: incomplete parameter sets"
                    )))
                }
            };
            out.push((
                dts_ms as u32,
                video_tag_body(codec, &VideoPayload::SequenceHeader(&cfg)),
            ));
            self.params = Some(ps);
        }
        let data = annexb_to_length_prefixed(codec, au.data, true);
        let body = video_tag_body(
            codec,
            &VideoPayload::Frame {
                data: &data,
                cts_ms: (pts_ms - dts_ms) as i32,
                keyframe: au.keyframe,
            },
        );
        out.push((dts_ms as u32, body));
        Ok(out)
    }
    pub fn dts_ms(&self, dts: i64) -> u32 {
        self.ms(dts) as u32
    }
}

pub struct FlvFileSink {
    path: String,
    info: StreamInfo,
    out: Option<BufWriter<File>>,
    packer: FlvVideoPacker,
    gate: AuGate,
    duration_pos: u64,
    last_ts: u32,
}

fn write_tag(out: &mut impl Write, tag_type: u8, ts: u32, body: &[u8]) -> std::io::Result<()> {
    let n = body.len();
    let hdr = [
        tag_type,
        (n >> 16) as u8,
        (n >> 8) as u8,
        n as u8,
        (ts >> 16) as u8,
        (ts >> 8) as u8,
        ts as u8,
        (ts >> 24) as u8,
        0,
        0,
        0,
    ];
    out.write_all(&hdr)?;
    out.write_all(body)?;
    out.write_all(&((n + 11) as u32).to_be_bytes())
}

impl FlvFileSink {
    pub fn create(path: &str, info: &StreamInfo) -> Result<Self, SinkError> {
        let f = create_file(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        let (meta, dur_off) = metadata_body(info);
        let io = |e| SinkError::io(path, e);
        out.write_all(&[b'F', b'L', b'V', 1, 0x01, 0, 0, 0, 9, 0, 0, 0, 0])
            .map_err(io)?;
        write_tag(&mut out, TAG_SCRIPT, 0, &meta).map_err(io)?;
        Ok(FlvFileSink {
            path: path.to_string(),
            info: info.clone(),
            out: Some(out),
            packer: FlvVideoPacker::new(info.codec),
            gate: AuGate::default(),
            duration_pos: (13 + 11 + dur_off) as u64,
            last_ts: 0,
        })
    }
}

impl Sink for FlvFileSink {
    fn write(&mut self, au: &AccessUnit) -> Result<(), SinkError> {
        let path = &self.path;
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| SinkError::protocol(format!("{path}: write after finish")))?;
        self.gate.check(au, path)?;
        for (ts, body) in self.packer.pack(au, path)? {
            write_tag(out, TAG_VIDEO, ts, &body).map_err(|e| SinkError::io(path, e))?;
            self.last_ts = ts;
        }
        if au.keyframe {
            out.flush().map_err(|e| SinkError::io(path, e))?;
        }
        self.gate.accept(au);
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        let Some(mut out) = self.out.take() else {
            return Ok(());
        };
        let path = self.path.clone();
        let io = |e| SinkError::io(&path, e);
        if self.gate.started() {
            let end = video_tag_body(self.info.codec, &VideoPayload::EndOfSequence);
            write_tag(&mut out, TAG_VIDEO, self.last_ts, &end).map_err(io)?;
            let dur = (self.last_ts as f64 + self.info.frame_ticks() as f64 / 90.0) / 1000.0;
            out.seek(SeekFrom::Start(self.duration_pos)).map_err(io)?;
            out.write_all(&dur.to_be_bytes()).map_err(io)?;
            out.seek(SeekFrom::End(0)).map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(())
    }
    fn is_network(&self) -> bool {
        false
    }
}

impl Drop for FlvFileSink {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
