//! extern "C": the only layer with raw pointers. Every export runs inside
//! the panic boundary of `macros.rs`; handle exports go through
//! `with_handle`, which also checks NULL and poisoning and records errors.
//!
//! Threading contract (also in venc.h): different handles are fully
//! concurrent; on one encoder one producer thread (send/drain) and one
//! consumer thread (receive) may run at once; free must not race anything.

#![allow(non_camel_case_types)]

pub mod chip;
pub mod frame;
pub mod image;
pub mod macros;
pub mod native;
pub mod packet;
pub mod status;
pub mod v4l2;
pub mod version;
