//! Runs the unit tests of the benchmark's pure helpers (BD-rate, FFmpeg
//! output parsing); the bench target itself has no test harness.
#![allow(dead_code)]

#[path = "../benches/support/analysis.rs"]
mod analysis;
