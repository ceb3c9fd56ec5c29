//! Server-Sent Events framing: writing events (servers) and reading them back (clients).
//!
//! Both directions follow the WHATWG `text/event-stream` format: `field: value` lines, an empty
//! line ends an event, a line starting with `:` is a comment (a keep-alive).

mod decode;
mod encode;

pub use decode::{Decoded, SseDecoder, SseEvent};
pub(crate) use encode::{KEEP_ALIVE, encode_event};
