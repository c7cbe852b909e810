pub mod bin;
pub mod daemon;
pub mod pair;
pub mod reference;
