//! One module per subcommand: a clap `Args` struct (its doc comments are the
//! help text) and a `run` that calls the library and writes the output.

pub mod analyze;
pub mod critical;
pub mod figures;
pub mod init;
pub mod phase;
pub mod reproduce;
pub mod simulate;
pub mod train;
pub mod trainable_depth;
pub mod trajectory;
pub mod variance_depth;
