//! Transport (in progress)
