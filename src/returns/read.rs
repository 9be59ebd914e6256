//! Reading CSV returns.
pub struct Source;
pub fn read() {}
