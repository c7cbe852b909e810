//! XML-RPC codec: values, method calls, responses and faults, with explicit
//! limits (depth, element count, string size) and no DOCTYPE or custom
//! entities. It knows nothing of Supervisor; `sv-api` gives the values their
//! meaning.
//!
//! The codec arrives with the XML-RPC issue; until then this crate only
//! fixes its place in the dependency graph (`sv-api → sv-xmlrpc`).
