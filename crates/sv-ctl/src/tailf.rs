//! `tail -f` and `maintail -f`: stream `/logtail/…` or `/mainlogtail`
//! until the server closes the stream or Ctrl-C (spec §5.4).

use std::io::Write;

use crate::controller::{Controller, unhandled};

pub async fn tailf(ctl: &mut Controller, path: &str) -> Result<(), crate::controller::Unhandled> {
    ctl.out.line("==> Press Ctrl-C to exit <==");
    ctl.flush();
    let url = format!("{}{}", ctl.options.serverurl, path);
    let client = match sv_client::Client::new(
        &ctl.options.serverurl,
        ctl.options.username.as_deref(),
        ctl.options.password.as_deref(),
    ) {
        Ok(c) => c,
        Err(e) => return Err(unhandled(&e)),
    };
    let stream = async {
        let (status, _reason, mut body) = match client.get_stream(path).await {
            Ok(x) => x,
            Err(e) => {
                let u = unhandled(&e);
                eprintln!(
                    "{url} Cannot connect, error: <class '{}'> ({})",
                    u.class, u.text
                );
                return;
            }
        };
        if status != 200 {
            eprintln!("{url} Cannot read, status code {status}");
            return;
        }
        let mut stdout = std::io::stdout();
        loop {
            match sv_client::next_chunk(&mut body).await {
                Ok(Some(data)) => {
                    let r = stdout.write_all(&data).and_then(|()| stdout.flush());
                    if let Err(e) = r
                        && e.kind() == std::io::ErrorKind::BrokenPipe
                    {
                        std::process::exit(0);
                    }
                }
                _ => return,
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
