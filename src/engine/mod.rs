//! What all personalities share: encode parameters, chip profiles, packets
//! and the Session that runs an engine on a worker thread.

pub mod chip;
pub mod packet;
pub mod params;
pub mod session;
pub mod timeline;

pub use packet::Packet;
pub use params::EncodeParams;
pub use session::Session;
