//! Reading a large configuration: 1 000 `[program:x]` sections of the kind
//! found in real deployments (comments, inline comments, a continuation
//! line, `%(…)s` expansions left for the caller) plus `[supervisord]`.
//!
//! `cargo bench -p sv-ini`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sv_ini::Document;

const SECTIONS: usize = 1000;

fn config() -> String {
    let mut src = String::from(
        "; generated for the benchmark\n[supervisord]\nlogfile = /var/log/supervisord.log\n\
         pidfile=/run/supervisord.pid ; inline comment\nnodaemon = false\nminfds = 4096\n\n",
    );
    for i in 0..SECTIONS {
        src.push_str(&format!(
            "# worker {i}\n[program:worker_{i:04}]\n\
             command = /usr/bin/python3 -m app.worker --queue q{i} --concurrency 4\n\
             directory=/srv/app\nautostart = true\nautorestart: unexpected\n\
             startsecs = 5 ; seconds\nstopwaitsecs = 30\n\
             stdout_logfile = /var/log/app/%(program_name)s.log\n\
             stdout_logfile_maxbytes = 50MB\nredirect_stderr = true\n\
             environment = APP_ENV=\"production\",\n    WORKER_ID=\"{i}\"\n\n"
        ));
    }
    src
}

fn read(c: &mut Criterion) {
    let src = config();
    let mut group = c.benchmark_group("ini");
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.bench_function("read_1000_sections", |b| {
        b.iter(|| {
            let mut doc = Document::new();
            doc.read_str(black_box(&src), "/etc/supervisord.conf")
                .expect("valid config");
            doc
        })
    });
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
