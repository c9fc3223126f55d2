//! Typed stanzas: one Rust type per wire element family, parsed from and serialized to [`Element`]s.
//!
//! [`Element`]: crate::xmpp::xml::Element

pub mod error;
pub mod message;
pub mod presence;
pub mod roster;
pub mod sasl2;
