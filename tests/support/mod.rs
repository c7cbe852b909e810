pub mod bin;
pub mod browser;
pub mod command;
pub mod daemon;
pub mod pair;
pub mod reference;
pub mod rpc;
