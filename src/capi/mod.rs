//! extern "C": the only layer with raw pointers. Every export runs inside
//! the panic boundary of `macros.rs`; handle exports go through
//! `with_handle`, which also checks NULL and poisoning and records errors.
//!
//! Threading contract (also in venc.h): different handles are fully
//! concurrent; on one encoder one producer thread (send/drain) and one
//! consumer thread (receive) may run at once; free must not race anything.

#![allow(non_camel_case_types)]
// Exports take raw pointers by nature; their contracts are in venc.h, and the
// helpers in macros.rs are the only places that dereference them.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod chip;
pub mod frame;
pub mod hobot;
pub mod image;
pub mod k230;
pub mod macros;
pub mod native;
pub mod packet;
pub mod sail;
pub mod status;
pub mod v4l2;
pub mod version;
