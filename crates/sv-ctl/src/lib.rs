//! supervisorctl: arguments, one module per command, the interactive shell,
//! output rendering, and the one mapping from faults to messages and exit
//! statuses.
//!
//! Built with the supervisorctl issue; the binary says so meanwhile.
