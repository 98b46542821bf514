//! The native API from Rust: every codec encodes, FFmpeg decodes it silently,
//! frame counts and PSNR match.

mod common;

use common::*;
use venc::api::native::{Config, Encoder, FrameOptions};
use venc::engine::Packet;
use venc::Status;

fn config(pairs: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    for (k, v) in pairs {
        c.set(k, v).unwrap();
    }
    c
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

/// Sends frames [from, to) and collects every packet that comes out.
fn send_range(enc: &Encoder, w: u32, h: u32, from: u32, to: u32, out: &mut Vec<Packet>) {
    for i in from..to {
        let pic = pattern_i420(w, h, i);
        loop {
            match enc.send_frame(
                &i420_view(&pic, w, h),
                FrameOptions {
                    pts: Some(i as i64),
                    ..Default::default()
                },
            ) {
                Ok(()) => break,
                Err(e) if e.status == Status::Again => out.push(enc.receive_packet(0).unwrap()),
                Err(e) => panic!("send: {e}"),
            }
        }
        // Wait for this frame so a following rate change applies to the next one.
        out.push(enc.receive_packet(-1).unwrap());
    }
}

#[test]
fn runtime_qp_change_takes_effect_and_stream_stays_decodable() {
    let cfg = config(&[
        ("width", "320"),
        ("height", "240"),
        ("rc", "cqp"),
        ("qp", "18"),
        ("gop", "0"),
    ]);
    let enc = Encoder::new(&cfg).unwrap();
    let mut packets = Vec::new();
    send_range(&enc, 320, 240, 0, 10, &mut packets);
    enc.set_qp(42).unwrap();
    send_range(&enc, 320, 240, 10, 20, &mut packets);
    enc.drain().unwrap();
    while let Ok(p) = enc.receive_packet(-1) {
        packets.push(p);
    }
    let sizes: Vec<usize> = packets
        .iter()
        .filter(|p| !p.is_eos())
        .map(|p| p.data.len())
        .collect();
    assert_eq!(sizes.len(), 20);
    let before: usize = sizes[2..10].iter().sum();
    let after: usize = sizes[12..20].iter().sum();
    assert!(
        after * 3 < before,
        "qp 42 should code much smaller than qp 18: {before} vs {after}"
    );
    if have("ffmpeg") {
        let path = tmpdir("qpchange").join("out.h264");
        write_stream(&packets, &path);
        assert_eq!(decode_i420(&path, None).len(), 20 * 320 * 240 * 3 / 2);
    }
}

#[test]
fn runtime_bitrate_change_is_accepted_only_where_it_means_something() {
    let enc = Encoder::new(&config(&[
        ("width", "320"),
        ("height", "240"),
        ("bitrate", "300k"),
    ]))
    .unwrap();
    let mut packets = Vec::new();
    send_range(&enc, 320, 240, 0, 5, &mut packets);
    enc.set_bitrate(3_000_000).unwrap();
    send_range(&enc, 320, 240, 5, 10, &mut packets);
    assert_eq!(enc.params().bitrate, 3_000_000);
    assert_eq!(enc.set_qp(20).unwrap_err().status, Status::InvalidState);
    assert_eq!(enc.set_bitrate(5).unwrap_err().status, Status::BadValue);
    let cqp = Encoder::new(&config(&[("width", "64"), ("height", "64"), ("rc", "cqp")])).unwrap();
    assert_eq!(
        cqp.set_bitrate(1_000_000).unwrap_err().status,
        Status::InvalidState
    );
}

#[test]
fn positive_timeout_waits_for_frames_another_thread_sends() {
    let enc =
        std::sync::Arc::new(Encoder::new(&config(&[("width", "64"), ("height", "64")])).unwrap());
    let producer = {
        let enc = std::sync::Arc::clone(&enc);
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let pic = pattern_i420(64, 64, 0);
            enc.send_frame(&i420_view(&pic, 64, 64), FrameOptions::default())
                .unwrap();
        })
    };
    // Nothing is queued yet: -1 and 0 say AGAIN at once, 2000 ms waits for the frame.
    assert_eq!(enc.receive_packet(0).unwrap_err().status, Status::Again);
    let start = std::time::Instant::now();
    let p = enc.receive_packet(2000).unwrap();
    assert!(p.is_keyframe());
    assert!(start.elapsed() >= std::time::Duration::from_millis(50));
    producer.join().unwrap();
    let start = std::time::Instant::now();
    assert_eq!(enc.receive_packet(150).unwrap_err().status, Status::Again);
    assert!(start.elapsed() >= std::time::Duration::from_millis(140));
}
