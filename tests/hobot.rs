//! The Horizon personality from Rust: lifecycle errors, the sample encode
//! loop (IDR every 60 with SPS/PPS in-band), timeouts, blocking send,
//! per-handle state, and FFmpeg decoding with exact frame counts.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use venc::api::hobot::{HobotEncoder, HobotError};

const W: u32 = 320;
const H: u32 = 240;

fn failed<T: std::fmt::Debug>(r: Result<T, HobotError>) -> String {
    match r {
        Err(HobotError::Failed(m)) => m,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn lifecycle_errors() {
    let e = HobotEncoder::new();
    assert!(failed(e.close()).contains("never opened"));
    assert!(failed(e.send_frame(&[0; 10])).contains("not open"));
    assert!(failed(e.get_frame(0)).contains("not open"));
    assert!(failed(e.encode(4, 320, 240, 1000)).contains("encode type"));
    assert!(failed(e.encode(1, 5000, 240, 1000)).contains("5000x240"));
    assert!(failed(e.encode(1, 321, 240, 1000)).contains("even"));
    assert!(failed(e.set("colour", "red")).contains("unknown key"));
    assert!(failed(e.set("gop", "x")).contains("gop"));
    assert!(failed(e.set("board", "x9")).contains("x3 or x5"));
    e.encode(1, 320, 240, 1000).unwrap();
    assert!(failed(e.encode(1, 320, 240, 1000)).contains("already open"));
    assert!(failed(e.encode(1, 640, 480, 1000)).contains("already open"));
    assert!(failed(e.set("gop", "10")).contains("before encode"));
    assert!(failed(e.send_frame(&[0; 100])).contains("exactly 115200"));
    let t = Instant::now();
    assert!(failed(e.get_frame(100)).contains("100 ms"));
    assert!(t.elapsed() >= Duration::from_millis(90));
    let t = Instant::now();
    assert!(failed(e.get_frame(-1)).contains("2000 ms"));
    assert!(t.elapsed() >= Duration::from_millis(1900));
    e.close().unwrap();
    assert!(failed(e.close()).contains("never opened"));
    // Open again after close.
    e.encode(3, 320, 240, 0).unwrap();
    e.close().unwrap();
}

#[test]
fn buffer_too_small_keeps_the_frame() {
    let e = HobotEncoder::new();
    e.encode(1, W as i32, H as i32, 1000).unwrap();
    e.send_frame(&pattern_nv12(W, H, 0)).unwrap();
    let mut small = [0u8; 8];
    let needed = match e.get_frame_into(&mut small, 2000) {
        Err(HobotError::BufferTooSmall { needed, .. }) => needed,
        other => panic!("{other:?}"),
    };
    assert!(needed > 8);
    let mut big = vec![0u8; needed];
    assert_eq!(e.get_frame_into(&mut big, 0).unwrap(), needed);
    assert_eq!(&h264_nal_types(&big)[..2], &[7, 8]);
}

#[test]
fn send_blocks_two_seconds_then_fails() {
    let e = HobotEncoder::new();
    e.encode(1, W as i32, H as i32, 1000).unwrap();
    let pic = pattern_nv12(W, H, 0);
    let mut sent = 0;
    let t = Instant::now();
    let err = loop {
        match e.send_frame(&pic) {
            Ok(()) => sent += 1,
            Err(err) => break err,
        }
        assert!(sent < 100, "send never blocked");
    };
    assert!(err.message().contains("stayed full"), "{err}");
    assert!(t.elapsed() >= Duration::from_millis(1900));
    // Everything accepted is still delivered.
    for _ in 0..sent {
        e.get_frame(2000).unwrap();
    }
}

fn encode_loop(e: &HobotEncoder, frames: u32) -> (Vec<u8>, Vec<u32>) {
    let mut out = Vec::new();
    let mut idr = Vec::new();
    for i in 0..frames {
        e.send_frame(&pattern_nv12(W, H, i)).unwrap();
        let f = e.get_frame(-1).unwrap();
        if h264_nal_types(&f).contains(&7) {
            idr.push(i);
        }
        out.extend_from_slice(&f);
    }
    (out, idr)
}

#[test]
fn sample_loop_h264_idr_every_60() {
    let e = HobotEncoder::new();
    e.encode(1, W as i32, H as i32, 2000).unwrap();
    let (data, idr) = encode_loop(&e, 100);
    assert_eq!(idr, [0, 60]);
    assert!(h264_nal_types(&data[..64]).starts_with(&[7, 8]));
    e.close().unwrap();
    if !have("ffmpeg") {
        return;
    }
    let path = tmpdir("hobot").join("sample.h264");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    assert_eq!(decoded_frames(&path, Some("h264"), W, H), 100);
}

#[test]
fn state_is_per_handle_and_mjpeg_decodes() {
    let a = HobotEncoder::new();
    let b = HobotEncoder::new();
    b.set("gop", "10").unwrap();
    b.set("board", "x5").unwrap();
    a.encode(1, W as i32, H as i32, 1000).unwrap();
    b.encode(1, W as i32, H as i32, 1000).unwrap();
    let ta = std::thread::spawn(move || encode_loop(&a, 30).1);
    let tb = std::thread::spawn(move || encode_loop(&b, 30).1);
    assert_eq!(ta.join().unwrap(), [0]);
    assert_eq!(tb.join().unwrap(), [0, 10, 20]);

    let m = HobotEncoder::new();
    m.set("quality", "90").unwrap();
    m.encode(3, W as i32, H as i32, 0).unwrap();
    let mut data = Vec::new();
    for i in 0..12 {
        m.send_frame(&pattern_nv12(W, H, i)).unwrap();
        data.extend_from_slice(&m.get_frame(-1).unwrap());
    }
    m.close().unwrap();
    let h = HobotEncoder::new();
    h.encode(2, W as i32, H as i32, 1000).unwrap();
    h.close().unwrap();
    if !have("ffmpeg") {
        return;
    }
    let path = tmpdir("hobot").join("m.mjpeg");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    assert_eq!(decoded_frames(&path, Some("mjpeg"), W, H), 12);
}
