//! What clients send into the daemon: bytes for a process's stdin and
//! REMOTE_COMMUNICATION events for the event listeners.

use sv_api::RpcError;
use tokio::sync::oneshot;

use super::{Dispatcher, faults};
use crate::supervisor::Op;

impl Dispatcher {
    /// `sendProcessStdin`: hand `chars` to a running process's stdin.
    pub async fn send_process_stdin(
        &self,
        spec: impl Into<String>,
        chars: Vec<u8>,
    ) -> Result<(), RpcError> {
        let spec = spec.into();
        self.ask(|reply| Op::SendStdin {
            spec,
            data: chars,
            reply,
        })
        .await
    }

    /// `sendRemoteCommEvent`: emit the event. It cannot fail except by the
    /// actor being gone, and it works even while the daemon stops.
    pub async fn send_remote_comm_event(&self, kind: String, data: String) -> Result<(), RpcError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Op::RemoteComm { kind, data, reply })
            .await
            .map_err(|_| faults::shutdown_state())?;
        rx.await.map_err(|_| faults::shutdown_state())
    }
}
