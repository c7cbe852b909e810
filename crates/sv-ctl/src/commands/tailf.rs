//! `tail -f` and `maintail -f`: stream `/logtail/…` or `/mainlogtail`
//! until the server closes the stream or Ctrl-C (spec §5.4).

use std::io::Write;

use crate::controller::{CommandResult, Controller};
use crate::replies::Failure;

/// Copy the stream at `path` to stdout. Failures to connect or read are
/// reported on stderr in Supervisor's words and end the follow quietly.
pub async fn follow(ctl: &mut Controller, path: &str) -> CommandResult {
    ctl.out.line("==> Press Ctrl-C to exit <==");
    ctl.flush();
    let url = format!("{}{}", ctl.options.serverurl, path);
    let client = ctl.client()?;
    let stream = async {
        let (status, _reason, mut body) = match client.get_stream(path).await {
            Ok(x) => x,
            Err(e) => {
                let (class, text) = Failure::from(e).python_exception();
                eprintln!("{url} Cannot connect, error: <class '{class}'> ({text})");
                return;
            }
        };
        if status != 200 {
            eprintln!("{url} Cannot read, status code {status}");
            return;
        }
        let mut stdout = std::io::stdout();
        while let Ok(Some(data)) = sv_client::next_chunk(&mut body).await {
            let r = stdout.write_all(&data).and_then(|()| stdout.flush());
            if let Err(e) = r
                && e.kind() == std::io::ErrorKind::BrokenPipe
            {
                std::process::exit(0);
            }
        }
    };
    tokio::select! {
        () = stream => {}
        _ = tokio::signal::ctrl_c() => {
            ctl.out.line("");
        }
    }
    Ok(())
}
