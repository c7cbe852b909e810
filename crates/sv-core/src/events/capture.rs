//! Capture mode: output between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` becomes a PROCESS_COMMUNICATION event. The
//! scanner holds back a partial token across reads, as Supervisor's
//! `record_output` does.

use crate::logtext::strip_ansi;

/// What capture mode made of a chunk of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Output to log (Supervisor's `_log`): to the normal log when
    /// `captured` is false, into the capture buffer when true. Both are
    /// echoed to the main log and make PROCESS_LOG events if enabled.
    Output {
        /// The bytes, ANSI-stripped when the splitter strips.
        data: Vec<u8>,
        /// Whether they fell inside a capture.
        captured: bool,
    },
    /// The end token closed a capture: a PROCESS_COMMUNICATION event with
    /// this data.
    Communication(Vec<u8>),
}

const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// One output channel's capture mode (Supervisor's
/// `POutputDispatcher.record_output`). Without capture (`maxbytes == 0`)
/// every chunk passes through untouched.
#[derive(Debug, Clone)]
pub struct CaptureSplitter {
    /// `*_capture_maxbytes`; 0 disables capture mode.
    maxbytes: usize,
    strip_ansi: bool,
    capturing: bool,
    pending: Vec<u8>,
    captured: Vec<u8>,
}

impl CaptureSplitter {
    /// A splitter for one channel; `capture_maxbytes <= 0` disables capture mode.
    pub fn new(capture_maxbytes: i64, strip_ansi: bool) -> CaptureSplitter {
        CaptureSplitter {
            maxbytes: capture_maxbytes.max(0) as usize,
            strip_ansi,
            capturing: false,
            pending: Vec::new(),
            captured: Vec::new(),
        }
    }

    /// Whether capture mode is configured for this channel.
    pub fn enabled(&self) -> bool {
        self.maxbytes > 0
    }

    /// A new process: normal mode, nothing pending or captured.
    pub fn reset(&mut self) {
        self.capturing = false;
        self.pending.clear();
        self.captured.clear();
    }

    /// One read from the pipe. Output segments carry data already
    /// ANSI-stripped if `strip_ansi` is set (Supervisor strips in `_log`).
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<Segment>) {
        if !self.enabled() {
            self.log(data.to_vec(), out);
            return;
        }
        self.pending.extend_from_slice(data);
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if self.pending.len() <= token.len() {
                return;
            }
            let data = std::mem::take(&mut self.pending);
            match find(&data, token) {
                Some(at) => {
                    self.log(data[..at].to_vec(), out);
                    self.toggle(out);
                    self.pending = data[at + token.len()..].to_vec();
                    if self.pending.is_empty() {
                        return;
                    }
                }
                None => {
                    let keep = prefix_at_end(&data, token);
                    let cut = data.len() - keep;
                    self.pending = data[cut..].to_vec();
                    self.log(data[..cut].to_vec(), out);
                    return;
                }
            }
        }
    }

    fn log(&mut self, data: Vec<u8>, out: &mut Vec<Segment>) {
        if data.is_empty() {
            return;
        }
        let data = if self.strip_ansi {
            strip_ansi(&data)
        } else {
            data
        };
        if self.capturing {
            // Supervisor's BoundIO: drop as many leading bytes as the write
            // brings when the total would exceed the limit.
            if self.captured.len() + data.len() > self.maxbytes {
                let drop = data.len().min(self.captured.len());
                self.captured.drain(..drop);
            }
            self.captured.extend_from_slice(&data);
        }
        out.push(Segment::Output {
            data,
            captured: self.capturing,
        });
    }

    fn toggle(&mut self, out: &mut Vec<Segment>) {
        self.capturing = !self.capturing;
        if !self.capturing {
            out.push(Segment::Communication(std::mem::take(&mut self.captured)));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// medusa's `find_prefix_at_end`: the length of the longest proper prefix of
/// `needle` that `haystack` ends with.
fn prefix_at_end(haystack: &[u8], needle: &[u8]) -> usize {
    let mut l = needle.len().saturating_sub(1);
    while l > 0 && !haystack.ends_with(&needle[..l]) {
        l -= 1;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(c: &mut CaptureSplitter, chunks: &[&[u8]]) -> Vec<Segment> {
        let mut out = Vec::new();
        for chunk in chunks {
            c.feed(chunk, &mut out);
        }
        out
    }

    fn output(data: &[u8], captured: bool) -> Segment {
        Segment::Output {
            data: data.to_vec(),
            captured,
        }
    }

    #[test]
    fn capture_mode_splits_on_the_tokens() {
        let mut c = CaptureSplitter::new(100, false);
        let got = split(
            &mut c,
            &[b"before <!--XSUPERVISOR:BEGIN-->captured data<!--XSUPERVISOR:END--> after\n"],
        );
        assert_eq!(
            got,
            [
                output(b"before ", false),
                output(b"captured data", true),
                Segment::Communication(b"captured data".to_vec()),
            ]
        );
        // What is left is no longer than the begin token: it waits for more
        // (Supervisor logs nothing until the buffer outgrows the token).
        let got = split(&mut c, &[b"and more than a token's length\n"]);
        assert_eq!(
            got,
            [output(b" after\nand more than a token's length\n", false)]
        );
    }

    #[test]
    fn capture_mode_holds_back_a_partial_token_and_short_buffers() {
        let mut c = CaptureSplitter::new(100, false);
        // Shorter than the token: nothing yet.
        assert_eq!(split(&mut c, &[b"hi"]), []);
        let got = split(&mut c, &[b" there, here comes <!--XSUPER"]);
        assert_eq!(got, [output(b"hi there, here comes ", false)]);
        let got = split(&mut c, &[b"VISOR:BEGIN-->x", b"y<!--XSUPERVISOR:END-->"]);
        // "x" alone is shorter than the end token, so it waits for "y...".
        assert_eq!(
            got,
            [output(b"xy", true), Segment::Communication(b"xy".to_vec())]
        );
    }

    #[test]
    fn without_capture_everything_passes_through() {
        let mut c = CaptureSplitter::new(0, false);
        let got = split(&mut c, &[b"<!--XSUPERVISOR:BEGIN-->a", b"b"]);
        assert_eq!(
            got,
            [
                output(b"<!--XSUPERVISOR:BEGIN-->a", false),
                output(b"b", false)
            ]
        );
    }

    #[test]
    fn the_capture_buffer_is_bounded_like_boundio() {
        let mut c = CaptureSplitter::new(10, false);
        let mut out = Vec::new();
        c.feed(
            b"<!--XSUPERVISOR:BEGIN-->0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            &mut out,
        );
        c.feed(b"abcdef<!--XSUPERVISOR:END-->", &mut out);
        // BoundIO drops len(write) leading bytes when the total would exceed
        // the limit: the whole first write survives it (buffer was empty).
        let comm = out.iter().find_map(|s| match s {
            Segment::Communication(d) => Some(d.clone()),
            _ => None,
        });
        let first: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut want = first.to_vec();
        want.drain(..6);
        want.extend_from_slice(b"abcdef");
        assert_eq!(comm.unwrap(), want);
    }

    #[test]
    fn capture_strips_ansi_when_asked() {
        let mut c = CaptureSplitter::new(100, true);
        let got = split(
            &mut c,
            &[b"<!--XSUPERVISOR:BEGIN-->\x1b[31mred\x1b[0m<!--XSUPERVISOR:END-->"],
        );
        assert_eq!(
            got,
            [
                output(b"red", true),
                Segment::Communication(b"red".to_vec())
            ]
        );
        c.reset();
        assert_eq!(split(&mut c, &[b"ab"]), []);
    }
}
