pub mod bin;
pub mod browser;
pub mod daemon;
pub mod hub;
pub mod pair;
pub mod postgres;
pub mod reference;
pub mod rpc;
