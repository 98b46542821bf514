//! libvenc: one stable C ABI for video and picture encoding on edge AI
//! boards. Layers, top to bottom: `capi` (extern "C") → `api` (one module
//! per personality) → `engine` (sessions, chip profiles) → `codec` (the
//! encoders) and `sink` (files, streams); `frame` holds pixel formats.

pub mod api;
pub mod capi;
pub mod codec;
pub mod engine;
pub mod error;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod sink;

pub use error::{Error, Result, Status};
