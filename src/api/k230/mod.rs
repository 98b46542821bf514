//! The Kendryte K230 personality (`kd_mpi_venc_*` / CanMV `Encoder`): a
//! device standing in for the media manager, four channels, streams of
//! packs that stay valid until released, and the vendor's error codes.

pub mod attr;
pub mod channel;
pub mod device;
pub mod error;
pub mod stream;

pub use attr::{ChnAttr, Payload, RcAttr};
pub use channel::ChnStatus;
pub use device::{Device, DeviceOptions, InputFrame, CHANNELS, IDE_CHANNEL};
pub use error::{Code, K230Error, KResult};
pub use stream::{Pack, PackType, Stream, MAX_PACKS};
