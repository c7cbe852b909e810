//! The child-log writer: 64 MiB in 4 KiB chunks (the size of a pipe read
//! from a fast child) into a [`RotatingFile`], rotating every 8 MiB with 3
//! backups, and the same with rotation off. Files live in a temp dir.
//!
//! `cargo bench -p sv-daemon`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sv_daemon::logfile::RotatingFile;

const TOTAL: usize = 64 << 20;
const CHUNK: usize = 4 << 10;

fn write_all(file: &mut RotatingFile, chunk: &[u8]) {
    for _ in 0..TOTAL / CHUNK {
        file.write(black_box(chunk));
    }
}

fn rotating(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let chunk: Vec<u8> = (0..CHUNK).map(|i| b'a' + (i % 26) as u8).collect();
    let mut group = c.benchmark_group("rotating_file_64MiB");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    for (label, maxbytes, backups) in [("rotate_8MiB_x3", 8 << 20, 3), ("no_rotation", 0, 0)] {
        let path = dir.path().join(format!("{label}.log"));
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut file = RotatingFile::open(&path, maxbytes, backups).expect("open log");
                if maxbytes == 0 {
                    // Without rotation the file would grow by 64 MiB per run.
                    file.clear().expect("truncate log");
                }
                write_all(&mut file, &chunk);
                assert_eq!(file.dropped, 0, "bytes lost");
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rotating);
criterion_main!(benches);
