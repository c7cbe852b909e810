//! The published method table: every `namespace.method` name the daemon
//! answers, its signature as `system.methodSignature` reports it, and the
//! help text `system.methodHelp` returns.
//!
//! Signatures were checked one by one against a running Supervisor 4.3.0.
//! How many arguments each method takes is declared by its decoder in
//! [`crate::request`], not read from here.
//! Help texts are written for this project; each carries the same `@param`
//! and `@return` tag lines (types and parameter names) as upstream's, since
//! tools derive signatures from those tags.

use sv_xmlrpc::Value;

/// One published method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodInfo {
    /// Full dotted name, e.g. `"supervisor.startProcess"`.
    pub name: &'static str,
    /// `[return type, parameter types…]`, e.g. `["boolean", "string", "boolean"]`.
    pub signature: &'static [&'static str],
    /// Text for `system.methodHelp`, with `@param`/`@return` tag lines.
    pub help: &'static str,
}

impl MethodInfo {
    /// The XML-RPC return type.
    pub fn return_type(&self) -> &'static str {
        self.signature.first().copied().unwrap_or("")
    }

    /// Parameter types in call order.
    pub fn param_types(&self) -> &'static [&'static str] {
        self.signature.get(1..).unwrap_or(&[])
    }

    /// The signature as `system.methodSignature` returns it: an array of
    /// type-name strings.
    pub fn signature_value(&self) -> Value {
        Value::Array(self.signature.iter().map(|&t| Value::from(t)).collect())
    }
}

/// Alias → the method it stands for (upstream binds both names to one
/// function, so they share behaviour, signature and help).
pub const ALIASES: &[(&str, &str)] = &[
    ("supervisor.clearProcessLog", "supervisor.clearProcessLogs"),
    ("supervisor.getVersion", "supervisor.getAPIVersion"),
    ("supervisor.readMainLog", "supervisor.readLog"),
    (
        "supervisor.readProcessLog",
        "supervisor.readProcessStdoutLog",
    ),
    (
        "supervisor.tailProcessLog",
        "supervisor.tailProcessStdoutLog",
    ),
];

/// The method an alias stands for, or the name itself.
pub fn canonical_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, target)| target)
}

// Help texts. Several are shared because upstream's aliases share one
// docstring.

const ADD_PROCESS_GROUP: &str =
    "Activate a process group that is present in the configuration (after a
reread) but not yet running under the daemon.

@param string name       the group to activate
@return boolean result   true once the group has been added";

const CLEAR_ALL_PROCESS_LOGS: &str =
    "Empty the stdout and stderr log files of every process, one process at a
time.

@return array result   one result struct (name, group, status, description) per process";

const CLEAR_LOG: &str = "Delete the daemon's main log file and start a fresh one.

@return boolean result   true unless the file could not be removed";

const CLEAR_PROCESS_LOGS: &str = "Empty a process's stdout and stderr log files and reopen them.

@param string name       the process, as 'name' or 'group:name'
@return boolean result   true unless clearing failed";

const GET_API_VERSION: &str = "Report the version of this XML-RPC interface.

@return string version   the interface version, e.g. '3.0'";

const GET_ALL_CONFIG_INFO: &str =
    "Describe the configuration of every configured process, whether or not
its group is active. Groups are flattened to one struct per process.

@return array result   configuration structs, sorted by process name";

const GET_ALL_PROCESS_INFO: &str = "Report the status of every process under the daemon.

@return array result   process status structs, ordered by group then process name";

const GET_IDENTIFICATION: &str = "Report the identifier configured for this daemon.

@return string identifier   the identifier string";

const GET_PID: &str = "Report the process id of the daemon itself.

@return int pid   the daemon's process id";

const GET_PROCESS_INFO: &str = "Report the status of one process.

@param string name      the process, as 'name' or 'group:name'
@return struct result   the process status struct";

const GET_STATE: &str = "Report the daemon's own state.

@return struct result   a struct with int statecode and string statename";

const GET_SUPERVISOR_VERSION: &str =
    "Report the version of the supervisor software that is running.

@return string version   the software version";

const READ_LOG: &str = "Read part of the daemon's main log. A negative offset with length 0
reads that many bytes from the end of the file.

@param int offset        where to start reading, in bytes
@param int length        how many bytes to read (0: up to the end)
@return string result    the text that was read";

const READ_PROCESS_STDERR_LOG: &str =
    "Read part of a process's stderr log. A negative offset with length 0
reads that many bytes from the end of the file.

@param string name       the process, as 'name' or 'group:name'
@param int offset        where to start reading, in bytes
@param int length        how many bytes to read (0: up to the end)
@return string result    the text that was read";

const READ_PROCESS_STDOUT_LOG: &str =
    "Read part of a process's stdout log. A negative offset with length 0
reads that many bytes from the end of the file.

@param string name       the process, as 'name' or 'group:name'
@param int offset        where to start reading, in bytes
@param int length        how many bytes to read (0: up to the end)
@return string result    the text that was read";

const RELOAD_CONFIG: &str = "Read the configuration file again and compare it with the groups that
are running. Nothing is started or stopped; the result lists group names
that were added to, changed in and removed from the configuration.

@return array result   [[added, changed, removed]]";

const REMOVE_PROCESS_GROUP: &str =
    "Take a process group out of the daemon. Every process in it must be
stopped first.

@param string name       the group to remove
@return boolean result   true once the group is gone";

const RESTART: &str = "Ask the daemon to restart: stop every process, reload the
configuration and start again.

@return boolean result   true when the restart has been scheduled";

const SEND_PROCESS_STDIN: &str =
    "Write text to a running process's standard input. The text is encoded
as UTF-8.

@param string name       the process, as 'name' or 'group:name'
@param string chars      the text to write
@return boolean result   true once the text has been handed over";

const SEND_REMOTE_COMM_EVENT: &str = "Emit a REMOTE_COMMUNICATION event to the event listeners that
subscribe to it.

@param string type       value of the 'type' header of the event
@param string data       the event body
@return boolean result   true once the event has been emitted";

const SHUTDOWN: &str = "Ask the daemon to stop every process and exit.

@return boolean result   true when the shutdown has been scheduled";

const SIGNAL_ALL_PROCESSES: &str = "Send a signal to every process that is running or starting or
stopping.

@param string signal    the signal, by name ('HUP', 'SIGHUP') or number ('1')
@return array result    one result struct per process signalled";

const SIGNAL_PROCESS: &str = "Send a signal to one process. A group name ('group:*') signals the
whole group and returns an array of result structs instead.

@param string name       the process, as 'name' or 'group:name'
@param string signal     the signal, by name ('HUP', 'SIGHUP') or number ('1')
@return boolean result   true once the signal has been sent";

const SIGNAL_PROCESS_GROUP: &str =
    "Send a signal to every process of a group that is running or starting
or stopping.

@param string name      the group
@param string signal    the signal, by name ('HUP', 'SIGHUP') or number ('1')
@return array result    one result struct per process signalled";

const START_ALL_PROCESSES: &str =
    "Start every process that is not already running, in priority order.

@param boolean wait    whether to answer only after each process is fully started
@return array result   one result struct per process, in completion order";

const START_PROCESS: &str = "Start one process. A group name ('group:*') starts the whole group and
returns an array of result structs instead.

@param string name       the process, as 'name', 'group:name' or 'group:*'
@param boolean wait      whether to answer only once the process is RUNNING
@return boolean result   true once the process has started";

const START_PROCESS_GROUP: &str = "Start every process of a group that is not already running, in
priority order.

@param string name     the group
@param boolean wait    whether to answer only after each process is fully started
@return array result   one result struct per process, in completion order";

const STOP_ALL_PROCESSES: &str = "Stop every running process.

@param boolean wait    whether to answer only after each process has stopped
@return array result   one result struct per process, in completion order";

const STOP_PROCESS: &str = "Stop one process. A group name ('group:*') stops the whole group and
returns an array of result structs instead.

@param string name       the process, as 'name', 'group:name' or 'group:*'
@param boolean wait      whether to answer only once the process has stopped
@return boolean result   true once the process has stopped";

const STOP_PROCESS_GROUP: &str = "Stop every running process of a group.

@param string name     the group
@param boolean wait    whether to answer only after each process has stopped
@return array result   one result struct per process, in completion order";

const TAIL_PROCESS_STDERR_LOG: &str =
    "Read the end of a process's stderr log efficiently. When the log holds
more than offset + length bytes, the window moves to the end of the log
and the overflow flag is set. The returned offset is the log's current
size: pass it back to continue tailing.

@param string name      the process, as 'name' or 'group:name'
@param int offset       where to start reading, in bytes
@param int length       the most bytes to return
@return array result    [string bytes, int offset, bool overflow]";

const TAIL_PROCESS_STDOUT_LOG: &str =
    "Read the end of a process's stdout log efficiently. When the log holds
more than offset + length bytes, the window moves to the end of the log
and the overflow flag is set. The returned offset is the log's current
size: pass it back to continue tailing.

@param string name      the process, as 'name' or 'group:name'
@param int offset       where to start reading, in bytes
@param int length       the most bytes to return
@return array result    [string bytes, int offset, bool overflow]";

const LIST_METHODS: &str = "List the names of every method this server answers.

@return array result   the method names, sorted";

const METHOD_HELP: &str = "Return the documentation of a method.

@param string name      the full method name, e.g. 'supervisor.getState'
@return string result   the method's help text";

const METHOD_SIGNATURE: &str = "Describe a method's types as [return type, parameter type, ...].

@param string name     the full method name, e.g. 'supervisor.getState'
@return array result   the type names";

const MULTICALL: &str = "Run several calls in one request, one after another. Each call is a
struct {'methodName': string, 'params': array}. Each result is the call's
return value itself, or a struct {'faultCode': int, 'faultString': string}
when the call failed.

@param array calls     the calls to make
@return array result   one result per call, in order";

macro_rules! method {
    ($name:literal, [$($t:literal),+], $help:expr) => {
        MethodInfo { name: $name, signature: &[$($t),+], help: $help }
    };
}

/// Every published method, in `system.listMethods` order (byte-wise sort).
pub const METHODS: &[MethodInfo] = &[
    method!(
        "supervisor.addProcessGroup",
        ["boolean", "string"],
        ADD_PROCESS_GROUP
    ),
    method!(
        "supervisor.clearAllProcessLogs",
        ["array"],
        CLEAR_ALL_PROCESS_LOGS
    ),
    method!("supervisor.clearLog", ["boolean"], CLEAR_LOG),
    method!(
        "supervisor.clearProcessLog",
        ["boolean", "string"],
        CLEAR_PROCESS_LOGS
    ),
    method!(
        "supervisor.clearProcessLogs",
        ["boolean", "string"],
        CLEAR_PROCESS_LOGS
    ),
    method!("supervisor.getAPIVersion", ["string"], GET_API_VERSION),
    method!(
        "supervisor.getAllConfigInfo",
        ["array"],
        GET_ALL_CONFIG_INFO
    ),
    method!(
        "supervisor.getAllProcessInfo",
        ["array"],
        GET_ALL_PROCESS_INFO
    ),
    method!(
        "supervisor.getIdentification",
        ["string"],
        GET_IDENTIFICATION
    ),
    method!("supervisor.getPID", ["int"], GET_PID),
    method!(
        "supervisor.getProcessInfo",
        ["struct", "string"],
        GET_PROCESS_INFO
    ),
    method!("supervisor.getState", ["struct"], GET_STATE),
    method!(
        "supervisor.getSupervisorVersion",
        ["string"],
        GET_SUPERVISOR_VERSION
    ),
    method!("supervisor.getVersion", ["string"], GET_API_VERSION),
    method!("supervisor.readLog", ["string", "int", "int"], READ_LOG),
    method!("supervisor.readMainLog", ["string", "int", "int"], READ_LOG),
    method!(
        "supervisor.readProcessLog",
        ["string", "string", "int", "int"],
        READ_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.readProcessStderrLog",
        ["string", "string", "int", "int"],
        READ_PROCESS_STDERR_LOG
    ),
    method!(
        "supervisor.readProcessStdoutLog",
        ["string", "string", "int", "int"],
        READ_PROCESS_STDOUT_LOG
    ),
    method!("supervisor.reloadConfig", ["array"], RELOAD_CONFIG),
    method!(
        "supervisor.removeProcessGroup",
        ["boolean", "string"],
        REMOVE_PROCESS_GROUP
    ),
    method!("supervisor.restart", ["boolean"], RESTART),
    method!(
        "supervisor.sendProcessStdin",
        ["boolean", "string", "string"],
        SEND_PROCESS_STDIN
    ),
    method!(
        "supervisor.sendRemoteCommEvent",
        ["boolean", "string", "string"],
        SEND_REMOTE_COMM_EVENT
    ),
    method!("supervisor.shutdown", ["boolean"], SHUTDOWN),
    method!(
        "supervisor.signalAllProcesses",
        ["array", "string"],
        SIGNAL_ALL_PROCESSES
    ),
    method!(
        "supervisor.signalProcess",
        ["boolean", "string", "string"],
        SIGNAL_PROCESS
    ),
    method!(
        "supervisor.signalProcessGroup",
        ["array", "string", "string"],
        SIGNAL_PROCESS_GROUP
    ),
    method!(
        "supervisor.startAllProcesses",
        ["array", "boolean"],
        START_ALL_PROCESSES
    ),
    method!(
        "supervisor.startProcess",
        ["boolean", "string", "boolean"],
        START_PROCESS
    ),
    method!(
        "supervisor.startProcessGroup",
        ["array", "string", "boolean"],
        START_PROCESS_GROUP
    ),
    method!(
        "supervisor.stopAllProcesses",
        ["array", "boolean"],
        STOP_ALL_PROCESSES
    ),
    method!(
        "supervisor.stopProcess",
        ["boolean", "string", "boolean"],
        STOP_PROCESS
    ),
    method!(
        "supervisor.stopProcessGroup",
        ["array", "string", "boolean"],
        STOP_PROCESS_GROUP
    ),
    method!(
        "supervisor.tailProcessLog",
        ["array", "string", "int", "int"],
        TAIL_PROCESS_STDOUT_LOG
    ),
    method!(
        "supervisor.tailProcessStderrLog",
        ["array", "string", "int", "int"],
        TAIL_PROCESS_STDERR_LOG
    ),
    method!(
        "supervisor.tailProcessStdoutLog",
        ["array", "string", "int", "int"],
        TAIL_PROCESS_STDOUT_LOG
    ),
    method!("system.listMethods", ["array"], LIST_METHODS),
    method!("system.methodHelp", ["string", "string"], METHOD_HELP),
    method!(
        "system.methodSignature",
        ["array", "string"],
        METHOD_SIGNATURE
    ),
    method!("system.multicall", ["array", "array"], MULTICALL),
];

/// The entry for a full dotted method name.
pub fn lookup(name: &str) -> Option<&'static MethodInfo> {
    // METHODS is sorted (checked by a test), so a binary search is exact.
    METHODS
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .and_then(|i| METHODS.get(i))
}

/// Every method name, as `system.listMethods` returns them.
pub fn list_methods() -> Vec<&'static str> {
    METHODS.iter().map(|m| m.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(type, name)` of each `@param` line, read the way upstream's tag parser
    /// reads docstrings (trimmed line starting with `@`, whitespace-separated).
    fn param_tags(help: &str) -> Vec<(&str, &str)> {
        help.lines()
            .map(str::trim)
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                (words.next()? == "@param").then_some(())?;
                Some((words.next()?, words.next()?))
            })
            .collect()
    }

    /// The "Full listMethods output" block of spec §4.6, verbatim.
    const SPEC_LIST: &str = "
supervisor.addProcessGroup supervisor.clearAllProcessLogs supervisor.clearLog supervisor.clearProcessLog
supervisor.clearProcessLogs supervisor.getAPIVersion supervisor.getAllConfigInfo supervisor.getAllProcessInfo
supervisor.getIdentification supervisor.getPID supervisor.getProcessInfo supervisor.getState
supervisor.getSupervisorVersion supervisor.getVersion supervisor.readLog supervisor.readMainLog
supervisor.readProcessLog supervisor.readProcessStderrLog supervisor.readProcessStdoutLog supervisor.reloadConfig
supervisor.removeProcessGroup supervisor.restart supervisor.sendProcessStdin supervisor.sendRemoteCommEvent
supervisor.shutdown supervisor.signalAllProcesses supervisor.signalProcess supervisor.signalProcessGroup
supervisor.startAllProcesses supervisor.startProcess supervisor.startProcessGroup supervisor.stopAllProcesses
supervisor.stopProcess supervisor.stopProcessGroup supervisor.tailProcessLog supervisor.tailProcessStderrLog
supervisor.tailProcessStdoutLog system.listMethods system.methodHelp system.methodSignature system.multicall
";

    /// Observed from a running Supervisor 4.3.0: for each method, the return
    /// type and the `type:name` of each `@param` tag of its docstring (the
    /// types are exactly what `system.methodSignature` returned).
    const REFERENCE_TAGS: &str = "
supervisor.addProcessGroup boolean string:name
supervisor.clearAllProcessLogs array
supervisor.clearLog boolean
supervisor.clearProcessLog boolean string:name
supervisor.clearProcessLogs boolean string:name
supervisor.getAPIVersion string
supervisor.getAllConfigInfo array
supervisor.getAllProcessInfo array
supervisor.getIdentification string
supervisor.getPID int
supervisor.getProcessInfo struct string:name
supervisor.getState struct
supervisor.getSupervisorVersion string
supervisor.getVersion string
supervisor.readLog string int:offset int:length
supervisor.readMainLog string int:offset int:length
supervisor.readProcessLog string string:name int:offset int:length
supervisor.readProcessStderrLog string string:name int:offset int:length
supervisor.readProcessStdoutLog string string:name int:offset int:length
supervisor.reloadConfig array
supervisor.removeProcessGroup boolean string:name
supervisor.restart boolean
supervisor.sendProcessStdin boolean string:name string:chars
supervisor.sendRemoteCommEvent boolean string:type string:data
supervisor.shutdown boolean
supervisor.signalAllProcesses array string:signal
supervisor.signalProcess boolean string:name string:signal
supervisor.signalProcessGroup array string:name string:signal
supervisor.startAllProcesses array boolean:wait
supervisor.startProcess boolean string:name boolean:wait
supervisor.startProcessGroup array string:name boolean:wait
supervisor.stopAllProcesses array boolean:wait
supervisor.stopProcess boolean string:name boolean:wait
supervisor.stopProcessGroup array string:name boolean:wait
supervisor.tailProcessLog array string:name int:offset int:length
supervisor.tailProcessStderrLog array string:name int:offset int:length
supervisor.tailProcessStdoutLog array string:name int:offset int:length
system.listMethods array
system.methodHelp string string:name
system.methodSignature array string:name
system.multicall array array:calls
";

    #[test]
    fn list_matches_spec_block() {
        let spec: Vec<&str> = SPEC_LIST.split_whitespace().collect();
        assert_eq!(spec.len(), 41);
        assert_eq!(list_methods(), spec);
        let supervisor = spec.iter().filter(|n| n.starts_with("supervisor.")).count();
        assert_eq!(supervisor, 37);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in METHODS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} !< {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn signatures_and_param_names_match_reference() {
        let lines: Vec<&str> = REFERENCE_TAGS.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), METHODS.len());
        for (line, method) in lines.into_iter().zip(METHODS) {
            let mut words = line.split_whitespace();
            assert_eq!(words.next(), Some(method.name));
            let ret = words.next().expect("return type");
            let params: Vec<(&str, &str)> = words
                .map(|w| w.split_once(':').expect("type:name"))
                .collect();
            let mut signature = vec![ret];
            signature.extend(params.iter().map(|(t, _)| *t));
            assert_eq!(method.signature, signature.as_slice(), "{}", method.name);
            assert_eq!(param_tags(method.help), params, "{}", method.name);
        }
    }

    /// What a generic client derives from the help text (upstream's own
    /// `methodSignature` algorithm) agrees with the declared signature.
    #[test]
    fn help_tags_yield_signature() {
        for method in METHODS {
            let mut ret = None;
            let mut params = Vec::new();
            for line in method.help.lines().map(str::trim) {
                let mut words = line.split_whitespace();
                match words.next() {
                    Some("@return") => ret = words.next(),
                    Some("@param") => params.push(words.next().expect("param type")),
                    Some(word) => assert!(!word.starts_with('@'), "{}: {line}", method.name),
                    None => {}
                }
            }
            let mut derived = vec![ret.expect("a @return tag")];
            derived.extend(params);
            assert_eq!(derived, method.signature, "{}", method.name);
            assert!(!method.help.starts_with(char::is_whitespace));
        }
    }

    #[test]
    fn lookup_finds_every_method() {
        for method in METHODS {
            assert_eq!(lookup(method.name), Some(method));
        }
        for missing in [
            "",
            "supervisor",
            "supervisor.",
            "supervisor.nosuch",
            "system.multiCall",
            "zzz.x",
        ] {
            assert_eq!(lookup(missing), None, "{missing}");
        }
    }

    #[test]
    fn aliases_share_everything() {
        for (alias, target) in ALIASES {
            let (a, t) = (
                lookup(alias).expect("alias"),
                lookup(target).expect("target"),
            );
            assert_eq!(a.signature, t.signature);
            assert_eq!(a.help, t.help);
            assert_eq!(canonical_name(alias), *target);
        }
        assert_eq!(canonical_name("supervisor.readLog"), "supervisor.readLog");
        assert_eq!(canonical_name("nosuch"), "nosuch");
    }

    #[test]
    fn signature_value_is_string_array() {
        let m = lookup("supervisor.startProcess").expect("method");
        assert_eq!(m.return_type(), "boolean");
        assert_eq!(m.param_types(), ["string", "boolean"]);
        assert_eq!(
            m.signature_value(),
            Value::Array(vec![
                Value::from("boolean"),
                Value::from("string"),
                Value::from("boolean")
            ])
        );
    }
}
