//! The daemon's identity and lifecycle: versions, identification, state,
//! pid, and the requests to shut down or restart.

use sv_api::{RpcError, StateInfo, SupervisorState};

use super::{API_VERSION, Dispatcher, SUPERVISOR_VERSION};
use crate::supervisor::Op;

impl Dispatcher {
    /// `getAPIVersion`: the interface version (SHUTDOWN_STATE while
    /// stopping, like every `supervisor.*` method).
    pub async fn api_version(&self) -> Result<&'static str, RpcError> {
        self.running_info().await?;
        Ok(API_VERSION)
    }

    /// `getSupervisorVersion`: the Supervisor release this daemon mimics.
    pub async fn supervisor_version(&self) -> Result<&'static str, RpcError> {
        self.running_info().await?;
        Ok(SUPERVISOR_VERSION)
    }

    /// `getIdentification`: the configured `identifier`.
    pub async fn identification(&self) -> Result<String, RpcError> {
        Ok(self.running_info().await?.identifier)
    }

    /// `getState`: always RUNNING when it answers at all (a stopping
    /// daemon refuses with SHUTDOWN_STATE, as Supervisor does).
    pub async fn state(&self) -> Result<StateInfo, RpcError> {
        self.running_info().await?;
        Ok(StateInfo::from(SupervisorState::Running))
    }

    /// `getPID`: the daemon's process id.
    pub async fn pid(&self) -> Result<u32, RpcError> {
        Ok(self.running_info().await?.pid)
    }

    /// `shutdown`: stop every process and exit.
    pub async fn shutdown(&self) -> Result<(), RpcError> {
        self.ask(Op::Shutdown).await
    }

    /// `restart`: stop every process, reload the configuration, start again.
    pub async fn restart(&self) -> Result<(), RpcError> {
        self.ask(Op::Restart).await
    }
}
