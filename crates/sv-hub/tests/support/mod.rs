pub mod hub;
pub mod sim;
