//! One async method per published `supervisor.*` / `system.*` call, each
//! built from sv-api's [`Request`] (so the client and the daemon share one
//! vocabulary) and returning the typed record the method answers with.

use sv_api::{
    ConfigChanges, ConfigInfo, LogStream, ProcessInfo, ProcessResult, RecordError, Request,
    SignalArg, StateInfo, TailChunk, array_from_value,
};
use sv_xmlrpc::{MethodCall, Value};

use crate::{Client, Error, Fault};

/// A result that should be a string.
fn string(method: &'static str, value: Value) -> Result<String, Error> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(shape(method, "string", &other)),
    }
}

/// A result that should be a boolean (Supervisor's "it worked" `True`).
fn boolean(method: &'static str, value: Value) -> Result<bool, Error> {
    match value {
        Value::Bool(b) => Ok(b),
        other => Err(shape(method, "boolean", &other)),
    }
}

fn shape(method: &'static str, expected: &'static str, got: &Value) -> Error {
    Error::Record(RecordError::WrongShape {
        record: method,
        expected,
        got: got.type_name(),
    })
}

fn results(value: &Value) -> Result<Vec<ProcessResult>, Error> {
    Ok(array_from_value(
        "ProcessResult array",
        value,
        ProcessResult::from_value,
    )?)
}

impl Client {
    /// Send one typed request and return its raw result.
    pub async fn request(&self, request: &Request) -> Result<Value, Error> {
        self.call_method(&request.to_call()).await
    }

    // ---- system.* -----------------------------------------------------

    /// `system.listMethods()`
    pub async fn list_methods(&self) -> Result<Vec<String>, Error> {
        let value = self.request(&Request::ListMethods).await?;
        Ok(array_from_value("system.listMethods", &value, |v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(RecordError::WrongShape {
                    record: "system.listMethods",
                    expected: "array of string",
                    got: v.type_name(),
                })
        })?)
    }

    /// `system.methodHelp(name)`
    pub async fn method_help(&self, name: &str) -> Result<String, Error> {
        let request = Request::MethodHelp { name: name.into() };
        string("system.methodHelp", self.request(&request).await?)
    }

    /// `system.methodSignature(name)`: `[return type, parameter types…]`.
    pub async fn method_signature(&self, name: &str) -> Result<Vec<String>, Error> {
        let request = Request::MethodSignature { name: name.into() };
        let value = self.request(&request).await?;
        Ok(array_from_value("system.methodSignature", &value, |v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(RecordError::WrongShape {
                    record: "system.methodSignature",
                    expected: "array of string",
                    got: v.type_name(),
                })
        })?)
    }

    /// `system.multicall(calls)`: one result or fault per call, in order.
    pub async fn multicall(
        &self,
        calls: Vec<MethodCall>,
    ) -> Result<Vec<Result<Value, Fault>>, Error> {
        let request = Request::Multicall {
            calls: calls
                .into_iter()
                .map(sv_api::MulticallEntry::Call)
                .collect(),
        };
        let value = self.request(&request).await?;
        Ok(array_from_value("system.multicall", &value, |item| {
            // A call's result comes wrapped in a one-item array; a fault
            // comes as the `{faultCode, faultString}` struct.
            match item {
                Value::Array(one) if one.len() == 1 => Ok(Ok(one[0].clone())),
                Value::Struct(_) => {
                    let code = item.get("faultCode").and_then(Value::as_i32);
                    let string = item.get("faultString").and_then(Value::as_str);
                    match (code, string) {
                        (Some(code), Some(string)) => Ok(Err(Fault::from(sv_xmlrpc::Fault {
                            code,
                            string: string.to_owned(),
                        }))),
                        _ => Err(RecordError::Missing {
                            record: "system.multicall fault",
                            field: "faultCode",
                        }),
                    }
                }
                other => Err(RecordError::WrongShape {
                    record: "system.multicall",
                    expected: "[result] or fault struct",
                    got: other.type_name(),
                }),
            }
        })?)
    }

    // ---- identity and daemon state ------------------------------------

    /// `supervisor.getAPIVersion()`
    pub async fn get_api_version(&self) -> Result<String, Error> {
        string(
            "supervisor.getAPIVersion",
            self.request(&Request::GetApiVersion).await?,
        )
    }

    /// `supervisor.getVersion()`: the alias of `getAPIVersion` that
    /// supervisorctl's connection check sends (kept so its bytes match).
    pub async fn get_version(&self) -> Result<String, Error> {
        string(
            "supervisor.getVersion",
            self.call("supervisor.getVersion", Vec::new()).await?,
        )
    }

    /// `supervisor.getSupervisorVersion()`
    pub async fn get_supervisor_version(&self) -> Result<String, Error> {
        string(
            "supervisor.getSupervisorVersion",
            self.request(&Request::GetSupervisorVersion).await?,
        )
    }

    /// `supervisor.getIdentification()`
    pub async fn get_identification(&self) -> Result<String, Error> {
        string(
            "supervisor.getIdentification",
            self.request(&Request::GetIdentification).await?,
        )
    }

    /// `supervisor.getState()`
    pub async fn get_state(&self) -> Result<StateInfo, Error> {
        Ok(StateInfo::from_value(
            &self.request(&Request::GetState).await?,
        )?)
    }

    /// `supervisor.getPID()`
    pub async fn get_pid(&self) -> Result<i64, Error> {
        match self.request(&Request::GetPid).await? {
            Value::Int(n) => Ok(i64::from(n)),
            Value::I8(n) => Ok(n),
            other => Err(shape("supervisor.getPID", "int", &other)),
        }
    }

    /// `supervisor.shutdown()`
    pub async fn shutdown(&self) -> Result<bool, Error> {
        boolean(
            "supervisor.shutdown",
            self.request(&Request::Shutdown).await?,
        )
    }

    /// `supervisor.restart()`
    pub async fn restart(&self) -> Result<bool, Error> {
        boolean("supervisor.restart", self.request(&Request::Restart).await?)
    }

    // ---- configuration and groups -------------------------------------

    /// `supervisor.reloadConfig()`
    pub async fn reload_config(&self) -> Result<ConfigChanges, Error> {
        Ok(ConfigChanges::from_value(
            &self.request(&Request::ReloadConfig).await?,
        )?)
    }

    /// `supervisor.addProcessGroup(name)`
    pub async fn add_process_group(&self, name: &str) -> Result<bool, Error> {
        let request = Request::AddProcessGroup { name: name.into() };
        boolean("supervisor.addProcessGroup", self.request(&request).await?)
    }

    /// `supervisor.removeProcessGroup(name)`
    pub async fn remove_process_group(&self, name: &str) -> Result<bool, Error> {
        let request = Request::RemoveProcessGroup { name: name.into() };
        boolean(
            "supervisor.removeProcessGroup",
            self.request(&request).await?,
        )
    }

    /// `supervisor.getAllConfigInfo()`
    pub async fn get_all_config_info(&self) -> Result<Vec<ConfigInfo>, Error> {
        let value = self.request(&Request::GetAllConfigInfo).await?;
        Ok(array_from_value(
            "ConfigInfo array",
            &value,
            ConfigInfo::from_value,
        )?)
    }

    // ---- process information ------------------------------------------

    /// `supervisor.getProcessInfo(name)`
    pub async fn get_process_info(&self, name: &str) -> Result<ProcessInfo, Error> {
        let request = Request::GetProcessInfo { name: name.into() };
        Ok(ProcessInfo::from_value(&self.request(&request).await?)?)
    }

    /// `supervisor.getAllProcessInfo()`
    pub async fn get_all_process_info(&self) -> Result<Vec<ProcessInfo>, Error> {
        let value = self.request(&Request::GetAllProcessInfo).await?;
        Ok(array_from_value(
            "ProcessInfo array",
            &value,
            ProcessInfo::from_value,
        )?)
    }

    // ---- start / stop / signal ----------------------------------------

    /// `supervisor.startProcess(name, wait)`
    pub async fn start_process(&self, name: &str, wait: bool) -> Result<bool, Error> {
        let request = Request::StartProcess {
            name: name.into(),
            wait,
        };
        boolean("supervisor.startProcess", self.request(&request).await?)
    }

    /// `supervisor.startProcessGroup(name, wait)`
    pub async fn start_process_group(
        &self,
        name: &str,
        wait: bool,
    ) -> Result<Vec<ProcessResult>, Error> {
        let request = Request::StartProcessGroup {
            name: name.into(),
            wait,
        };
        results(&self.request(&request).await?)
    }

    /// `supervisor.startAllProcesses(wait)`
    pub async fn start_all_processes(&self, wait: bool) -> Result<Vec<ProcessResult>, Error> {
        results(&self.request(&Request::StartAllProcesses { wait }).await?)
    }

    /// `supervisor.stopProcess(name, wait)`
    pub async fn stop_process(&self, name: &str, wait: bool) -> Result<bool, Error> {
        let request = Request::StopProcess {
            name: name.into(),
            wait,
        };
        boolean("supervisor.stopProcess", self.request(&request).await?)
    }

    /// `supervisor.stopProcessGroup(name, wait)`
    pub async fn stop_process_group(
        &self,
        name: &str,
        wait: bool,
    ) -> Result<Vec<ProcessResult>, Error> {
        let request = Request::StopProcessGroup {
            name: name.into(),
            wait,
        };
        results(&self.request(&request).await?)
    }

    /// `supervisor.stopAllProcesses(wait)`
    pub async fn stop_all_processes(&self, wait: bool) -> Result<Vec<ProcessResult>, Error> {
        results(&self.request(&Request::StopAllProcesses { wait }).await?)
    }

    /// `supervisor.signalProcess(name, signal)`; `signal` is a name
    /// (`HUP`, `SIGHUP`) or a number as text.
    pub async fn signal_process(&self, name: &str, signal: &str) -> Result<bool, Error> {
        let request = Request::SignalProcess {
            name: name.into(),
            signal: SignalArg::named(signal),
        };
        boolean("supervisor.signalProcess", self.request(&request).await?)
    }

    /// `supervisor.signalProcessGroup(name, signal)`
    pub async fn signal_process_group(
        &self,
        name: &str,
        signal: &str,
    ) -> Result<Vec<ProcessResult>, Error> {
        let request = Request::SignalProcessGroup {
            name: name.into(),
            signal: SignalArg::named(signal),
        };
        results(&self.request(&request).await?)
    }

    /// `supervisor.signalAllProcesses(signal)`
    pub async fn signal_all_processes(&self, signal: &str) -> Result<Vec<ProcessResult>, Error> {
        let request = Request::SignalAllProcesses {
            signal: SignalArg::named(signal),
        };
        results(&self.request(&request).await?)
    }

    // ---- logs ---------------------------------------------------------

    /// `supervisor.readLog(offset, length)`: the main log's text.
    pub async fn read_log(&self, offset: i64, length: i64) -> Result<String, Error> {
        let request = Request::ReadLog { offset, length };
        string("supervisor.readLog", self.request(&request).await?)
    }

    /// `supervisor.clearLog()`
    pub async fn clear_log(&self) -> Result<bool, Error> {
        boolean(
            "supervisor.clearLog",
            self.request(&Request::ClearLog).await?,
        )
    }

    /// `supervisor.readProcessStdoutLog` / `readProcessStderrLog`.
    pub async fn read_process_log(
        &self,
        name: &str,
        stream: LogStream,
        offset: i64,
        length: i64,
    ) -> Result<String, Error> {
        let request = Request::ReadProcessLog {
            name: name.into(),
            stream,
            offset,
            length,
        };
        string(request.method_name(), self.request(&request).await?)
    }

    /// `supervisor.tailProcessStdoutLog` / `tailProcessStderrLog`.
    pub async fn tail_process_log(
        &self,
        name: &str,
        stream: LogStream,
        offset: i64,
        length: i64,
    ) -> Result<TailChunk, Error> {
        let request = Request::TailProcessLog {
            name: name.into(),
            stream,
            offset,
            length,
        };
        Ok(TailChunk::from_value(&self.request(&request).await?)?)
    }

    /// `supervisor.clearProcessLogs(name)`
    pub async fn clear_process_logs(&self, name: &str) -> Result<bool, Error> {
        let request = Request::ClearProcessLogs { name: name.into() };
        boolean("supervisor.clearProcessLogs", self.request(&request).await?)
    }

    /// `supervisor.clearAllProcessLogs()`
    pub async fn clear_all_process_logs(&self) -> Result<Vec<ProcessResult>, Error> {
        results(&self.request(&Request::ClearAllProcessLogs).await?)
    }

    // ---- stdin and events ---------------------------------------------

    /// `supervisor.sendProcessStdin(name, chars)`
    pub async fn send_process_stdin(&self, name: &str, chars: &[u8]) -> Result<bool, Error> {
        let request = Request::SendProcessStdin {
            name: name.into(),
            chars: chars.to_vec(),
        };
        boolean("supervisor.sendProcessStdin", self.request(&request).await?)
    }

    /// `supervisor.sendRemoteCommEvent(type, data)`
    pub async fn send_remote_comm_event(&self, kind: &str, data: &str) -> Result<bool, Error> {
        let request = Request::SendRemoteCommEvent {
            kind: kind.into(),
            data: data.into(),
        };
        boolean(
            "supervisor.sendRemoteCommEvent",
            self.request(&request).await?,
        )
    }
}
