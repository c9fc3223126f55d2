//! Typed stanzas: one Rust type per wire element family, parsed from and serialized to [`Element`]s.
//!
//! [`Element`]: crate::xmpp::xml::Element

pub mod delay;
pub mod error;
pub mod mam;
pub mod message;
pub mod presence;
pub mod receipts;
pub mod roster;
pub mod sasl2;
pub mod sid;
