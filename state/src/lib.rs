//! Dumcel's recorded world: the [`State`] model and its JSON format, the
//! local backend (snapshot file + OS lock + journal) and crash recovery.
//!
//! Durability during apply costs O(change) per completed resource: changes
//! go to an append-only, group-committed [`Journal`] that is folded into the
//! snapshot at the end of the command and replayed after a crash. An intent
//! is made durable before each provider call, so an operation cut off by a
//! crash is reported as [`InFlight`] instead of being silently lost.

mod compact;
pub mod error;
mod fsutil;
mod identity;
pub mod journal;
pub mod local;
pub mod lock;
pub mod model;
mod record;
mod replay;
mod sorted_map;
pub mod terraform_v4;
mod writer;

pub use error::StateError;
pub use journal::{HeldIntent, InFlight, Journal, Operation, Outcome};
pub use local::{DEFAULT_STATE_FILE, Loaded, LocalBackend};
pub use lock::{LocalLock, LockInfo};
pub use model::{FORMAT_VERSION, OutputValue, ResourceInstance, State};
pub use terraform_v4::{TerraformStateError, from_terraform};
pub use writer::Ship;
