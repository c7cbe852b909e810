//! Fuzzing inside `cargo test`, on stable and with a fixed budget: each
//! target of `fuzz/targets.rs` (shared with the long cargo-fuzz runs, see
//! docs/reliability.md) gets mutations of its seed inputs and arbitrary
//! byte strings from a seeded generator, so every run tries the same
//! inputs and a failure names the one that broke. Below them, each input a
//! long run found is kept as a named regression test.

#[path = "fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

/// The generator's seed: fixed, so a failure reproduces.
const SEED: u64 = 0x5eed_f022_1500_0015;

/// A small xorshift64* generator: the suite needs repeatable bytes, not
/// good randomness, and no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Files directly in `dir`, sorted (so the inputs do not depend on the
/// directory's order).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The seed inputs of a target: its directory under `tests/corpus/fuzz/`,
/// plus the config corpus for the two config readers.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let corpus = root().join("tests/corpus");
    let mut paths = files(&corpus.join("fuzz").join(target));
    if matches!(target, "ini" | "config") {
        paths.extend(
            files(&corpus)
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "conf")),
        );
        paths.extend(files(&corpus.join("fuzz/config")));
        paths.extend(files(&corpus.join("inc_conf.d")));
    }
    let seeds: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    assert!(!seeds.is_empty(), "no seed inputs for {target}");
    seeds
}

/// Tokens the mutator splices in: the parsers' own keywords, where
/// arbitrary bytes rarely get.
const TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b"=",
    b":",
    b";",
    b"#",
    b"\n",
    b"\r\n",
    b"\r",
    b"\t",
    b" ",
    b"%(",
    b")s",
    b"%%",
    b"\n%%\n",
    b"[include]\nfiles=",
    b"[DEFAULT]\n",
    b"[program:",
    b"<value>",
    b"</value>",
    b"<struct>",
    b"<array><data>",
    b"<member><name>",
    b"<int>",
    b"<i8>",
    b"<double>",
    b"<base64>",
    b"<string>",
    b"<![CDATA[",
    b"&#",
    b"&amp;",
    b"<!DOCTYPE",
    b"<?xml",
    b"\r\n\r\n",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"0\r\n\r\n",
    b"Authorization: Basic dXNlcjpwYXNz\r\n",
    b"Origin: ",
    b"HTTP/1.1",
    b"%2F",
    b"%00",
    b"READY\n",
    b"RESULT ",
    b"OK",
    b"FAIL",
    b"-",
    b"_",
    b"<!--XSUPERVISOR:BEGIN-->",
    b"<!--XSUPERVISOR:END-->",
    b"\x1b[",
    b"\0",
    b"\xff",
    b"--",
    b"-c",
    b"-s",
    b"\xc3\xa9",
    b"\xed\xa0\x80",
    b"99999999999999999999",
    b"-1",
];

/// One mutation of `input`, libFuzzer-style: flip, insert, erase, repeat,
/// splice a token or a piece of another seed.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let at = |rng: &mut Rng, v: &Vec<u8>| rng.below(v.len() + 1);
    match rng.below(7) {
        0 if !input.is_empty() => {
            let i = rng.below(input.len());
            input[i] ^= 1 << rng.below(8);
        }
        1 => {
            let i = at(rng, input);
            let b = rng.next() as u8;
            input.insert(i, b);
        }
        2 if !input.is_empty() => {
            let i = rng.below(input.len());
            let n = rng.below((input.len() - i).min(64) + 1);
            input.drain(i..i + n);
        }
        3 if !input.is_empty() => {
            let i = rng.below(input.len());
            let n = rng.below((input.len() - i).min(32)) + 1;
            let piece = input[i..i + n].to_vec();
            let j = at(rng, input);
            for _ in 0..rng.below(4) + 1 {
                input.splice(j..j, piece.iter().copied());
            }
        }
        4 | 5 => {
            let token = TOKENS[rng.below(TOKENS.len())];
            let i = at(rng, input);
            input.splice(i..i, token.iter().copied());
        }
        _ => {
            let other = &seeds[rng.below(seeds.len())];
            if !other.is_empty() {
                let i = rng.below(other.len());
                let n = rng.below((other.len() - i).min(256)) + 1;
                let j = at(rng, input);
                input.splice(j..j, other[i..i + n].iter().copied());
            }
        }
    }
}

/// Run `target` on every seed, `structured` mutated seeds (1 to 8
/// mutations each) and `arbitrary` random byte strings (up to 512 bytes).
/// A panic is reported with the input that caused it, escaped, ready to
/// become a regression test.
///
/// `SV_FUZZ_SCALE=n` multiplies both counts (a longer run on stable, where
/// cargo-fuzz cannot run).
fn drive(target: &str, structured: usize, arbitrary: usize) {
    let scale: usize = std::env::var("SV_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (structured, arbitrary) = (structured * scale, arbitrary * scale);
    let seeds = seeds(target);
    let mut rng = Rng(SEED ^ target.len() as u64 ^ (target.as_bytes()[0] as u64) << 32);
    let mut inputs: Vec<Vec<u8>> = seeds.clone();
    for _ in 0..structured {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..rng.below(8) + 1 {
            mutate(&mut rng, &mut input, &seeds);
        }
        inputs.push(input);
    }
    for _ in 0..arbitrary {
        let len = rng.below(513);
        inputs.push(rng.bytes(len));
    }
    for input in inputs {
        let run = std::panic::catch_unwind(|| targets::run(target, &input));
        if run.is_err() {
            panic!(
                "fuzz target {target} failed on b\"{}\"",
                input.escape_ascii()
            );
        }
    }
}

#[test]
fn fuzz_ini_reader() {
    drive("ini", 12000, 6000);
}

#[test]
fn fuzz_config_loader() {
    drive("config", 8000, 3000);
}

#[test]
fn fuzz_xmlrpc_decoder() {
    drive("xmlrpc", 16000, 6000);
}

#[test]
fn fuzz_http_request_path() {
    drive("http", 4000, 1500);
}

#[test]
fn fuzz_listener_result_parser() {
    drive("listener", 16000, 6000);
}

#[test]
fn fuzz_capture_token_scanner() {
    drive("capture", 16000, 6000);
}

#[test]
fn fuzz_ctl_arguments() {
    drive("ctl_args", 12000, 6000);
}

/// Every seed directory holds files, and every target has a cargo-fuzz
/// binary: the two drivers cannot drift apart.
#[test]
fn fuzz_targets_match_the_cargo_fuzz_binaries() {
    for name in targets::NAMES {
        let bin = root().join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        let text =
            std::fs::read_to_string(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        assert!(
            text.contains(&format!("targets::{name}(data)")),
            "{} does not run target {name}",
            bin.display()
        );
        let _ = seeds(name);
    }
}

/// The HTTP target reaches the daemon's router (not only hyper's parser):
/// an RPC call with the right credentials is answered with an XML-RPC
/// fault from the dispatcher (its actor is gone), without them with 401.
#[test]
fn fuzz_http_target_reaches_the_rpc_dispatcher() {
    let request = std::fs::read(root().join("tests/corpus/fuzz/http/rpc_post")).expect("seed");
    let answer = targets::http_exchange(&request, Some(("user", "pass")));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("<name>faultCode</name>"), "{answer}");
    let refused = targets::http_exchange(&request, Some(("user", "other")));
    assert!(
        refused.starts_with(b"HTTP/1.1 401 "),
        "{}",
        refused.escape_ascii()
    );
}

/// The config target's in-memory machine is complete enough for a real
/// configuration: its include seed (main file and two `conf.d` parts)
/// loads, with the included groups.
#[test]
fn fuzz_config_target_loads_its_include_seed() {
    let seed = std::fs::read(root().join("tests/corpus/fuzz/config/include_parts")).expect("seed");
    let config = targets::config_load(&seed).unwrap_or_else(|e| panic!("{e:?}"));
    let mut names: Vec<&str> = config.groups.iter().map(|g| g.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["f", "g", "mem"]);
    let g = config
        .groups
        .iter()
        .find(|g| g.name == "g")
        .expect("group g");
    assert_eq!(g.processes.len(), 3);
}

// Regressions: inputs the long runs found, by what broke.

/// xmlrpc, first long run: a string holding `&#13;` decodes to `\r`, is
/// re-encoded raw (Python's bytes) and decodes the second time as `\n` —
/// XML's end-of-line normalization, which Python's `xmlrpc.client` shows
/// too (`loads(dumps(("a\rb",)))` is `("a\nb",)`). Not a decoder bug: the
/// round-trip property now allows exactly that normalization.
#[test]
fn regression_xmlrpc_carriage_return_round_trip() {
    targets::xmlrpc(b"<methodCall><methodName>a&#13;b</methodName></methodCall>");
    targets::xmlrpc(
        b"<methodResponse><params><param><value>x&#13;&#10;y&#xD;z</value></param></params></methodResponse>",
    );
    let found =
        std::fs::read(root().join("tests/corpus/fuzz/xmlrpc/crash_carriage_return_round_trip"))
            .expect("the input the long run found");
    targets::xmlrpc(&found);
    // What the property relies on, as Python does it: a character
    // reference keeps the `\r`, a raw one becomes `\n`.
    let limits = sv_xmlrpc::Limits::default();
    let name = |xml: &[u8]| {
        sv_xmlrpc::decode_call(xml, &limits)
            .map(|c| c.name)
            .expect("decodes")
    };
    assert_eq!(
        name(b"<methodCall><methodName>a&#13;b</methodName></methodCall>"),
        "a\rb"
    );
    assert_eq!(
        name(b"<methodCall><methodName>a\rb</methodName></methodCall>"),
        "a\nb"
    );
}
