//! The native API from Rust: every codec encodes, FFmpeg decodes it silently,
//! frame counts and PSNR match.

mod common;

use common::*;
use venc::api::native::{Config, Encoder, FrameOptions};
use venc::engine::Packet;
use venc::frame::{FrameView, PixelFormat, Plane};
use venc::Status;

fn config(pairs: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    for (k, v) in pairs {
        c.set(k, v).unwrap();
    }
    c
}

fn i420_view(buf: &[u8], w: u32, h: u32) -> FrameView<'_> {
    let (wu, hu) = (w as usize, h as usize);
    let (cw, ch) = (wu.div_ceil(2), hu.div_ceil(2));
    let (y, rest) = buf.split_at(wu * hu);
    let (u, v) = rest.split_at(cw * ch);
    FrameView {
        format: PixelFormat::I420,
        width: w,
        height: h,
        planes: [
            Plane {
                data: y,
                stride: wu,
            },
            Plane {
                data: u,
                stride: cw,
            },
            Plane {
                data: v,
                stride: cw,
            },
        ],
    }
}

/// Sends `frames` pattern frames, drains, returns (source, packets).
fn encode(cfg: &Config, frames: u32) -> (Vec<u8>, Vec<Packet>) {
    let enc = Encoder::new(cfg).unwrap();
    let p = enc.params();
    let mut src = Vec::new();
    let mut packets = Vec::new();
    for i in 0..frames {
        let pic = pattern_i420(p.width, p.height, i);
        loop {
            match enc.send_frame(
                &i420_view(&pic, p.width, p.height),
                FrameOptions {
                    pts: Some(i as i64 * 3000),
                    user_tag: 1000 + i as u64,
                    force_keyframe: false,
                },
            ) {
                Ok(()) => break,
                Err(e) if e.status == Status::Again => {
                    packets.push(enc.receive_packet(0).expect("AGAIN on both sides"))
                }
                Err(e) => panic!("send: {e}"),
            }
        }
        src.extend_from_slice(&pic);
    }
    enc.drain().unwrap();
    loop {
        match enc.receive_packet(-1) {
            Ok(p) => packets.push(p),
            Err(e) if e.status == Status::Eof => break,
            Err(e) => panic!("receive: {e}"),
        }
    }
    (src, packets)
}

fn write_stream(packets: &[Packet], path: &std::path::Path) {
    let bytes: Vec<u8> = packets.iter().flat_map(|p| p.data.clone()).collect();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn h264_cqp_decodes_with_exact_count_and_psnr() {
    if !have("ffmpeg") {
        eprintln!("skipped: ffmpeg missing");
        return;
    }
    let cfg = config(&[
        ("width", "320"),
        ("height", "240"),
        ("rc", "cqp"),
        ("qp", "22"),
        ("gop", "10"),
    ]);
    let (src, packets) = encode(&cfg, 30);
    let last = packets.last().unwrap();
    assert!(last.is_eos() && last.data.is_empty());
    let frames: Vec<&Packet> = packets.iter().filter(|p| !p.is_eos()).collect();
    assert_eq!(frames.len(), 30);
    for (i, p) in frames.iter().enumerate() {
        assert_eq!(p.user_tag, 1000 + i as u64);
        assert_eq!(p.pts, i as i64 * 3000);
        assert_eq!(p.is_keyframe(), i % 10 == 0, "frame {i}");
        assert_eq!(p.is_header(), i % 10 == 0);
    }
    let dir = tmpdir("h264cqp");
    let path = dir.join("out.h264");
    write_stream(&packets, &path);
    let decoded = decode_i420(&path, None);
    let psnr = psnr_y_min(&src, &decoded, 320, 240);
    assert!(psnr > 40.0, "PSNR {psnr}");
}

#[test]
fn mjpeg_decodes_with_exact_count() {
    if !have("ffmpeg") {
        return;
    }
    let cfg = config(&[
        ("codec", "mjpeg"),
        ("width", "176"),
        ("height", "144"),
        ("quality", "90"),
    ]);
    let (src, packets) = encode(&cfg, 12);
    let dir = tmpdir("mjpeg");
    let path = dir.join("out.mjpeg");
    write_stream(&packets, &path);
    let decoded = decode_i420(&path, Some("mjpeg"));
    assert!(psnr_y_min(&src, &decoded, 176, 144) > 38.0);
}

#[test]
fn separate_headers_come_before_each_idr() {
    let cfg = config(&[
        ("width", "160"),
        ("height", "96"),
        ("gop", "5"),
        ("header_mode", "separate"),
    ]);
    let (_, packets) = encode(&cfg, 11);
    let headers: Vec<usize> = packets
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_header())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(headers.len(), 3);
    for i in headers {
        assert!(!packets[i].is_keyframe());
        assert!(packets[i + 1].is_keyframe());
    }
}

#[test]
fn send_after_drain_is_eof_and_h265_is_unsupported() {
    let cfg = config(&[("width", "64"), ("height", "64")]);
    let enc = Encoder::new(&cfg).unwrap();
    enc.drain().unwrap();
    enc.drain().unwrap();
    let pic = pattern_i420(64, 64, 0);
    let e = enc
        .send_frame(&i420_view(&pic, 64, 64), FrameOptions::default())
        .unwrap_err();
    assert_eq!(e.status, Status::Eof);
    assert!(enc.receive_packet(-1).unwrap().is_eos());
    assert_eq!(enc.receive_packet(-1).unwrap_err().status, Status::Eof);
}

#[test]
fn receive_without_input_does_not_block() {
    let enc = Encoder::new(&config(&[("width", "64"), ("height", "64")])).unwrap();
    assert_eq!(enc.receive_packet(-1).unwrap_err().status, Status::Again);
}

#[test]
fn odd_sizes_are_refused_with_a_reason() {
    let e = Encoder::new(&config(&[("width", "65"), ("height", "64")]))
        .err()
        .unwrap();
    assert_eq!(e.status, Status::BadValue);
    assert!(e.message.contains("65x64"), "{}", e.message);
}
