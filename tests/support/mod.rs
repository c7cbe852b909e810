pub mod bin;
pub mod daemon;
pub mod reference;
pub mod pair;
