pub mod bin;
pub mod browser;
pub mod daemon;
pub mod hostile;
pub mod pair;
pub mod reference;
pub mod rpc;
