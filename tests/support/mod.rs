pub mod bin;
pub mod reference;
