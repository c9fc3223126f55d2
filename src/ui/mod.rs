//! UI (in progress)
pub fn mount() {}
