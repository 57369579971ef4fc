//! Int8 matrix product speed, natively: `cargo run --release -p skills --example int8_speed`
//! (`RAYON_NUM_THREADS` sets the threads; `ROLEMAPPER_INT8_KERNEL=portable` turns AVX-512 VNNI
//! off). With `CONCURRENT=1` (and `RAYON_NUM_THREADS=1`): one 512 × 384 × 1536 product alone,
//! then on two threads at once, to see whether the machine's cores share their SIMD units.
use skills::int8::{quantize_packed, Int8Matrix};
use std::time::Instant;

/// Deterministic inputs `[rows, k]`, a weight `[n, k]` and its bias.
fn data(rows: usize, n: usize, k: usize) -> (Vec<f32>, Int8Matrix, Vec<f32>) {
    let x = (0..rows * k)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let w: Vec<f32> = (0..n * k)
        .map(|i| ((i * 104729) % 1000) as f32 / 5000.0 - 0.1)
        .collect();
    (x, Int8Matrix::from_f32(&w, n, k), vec![0.1f32; n])
}

/// Milliseconds per call of `f`, over `reps` calls.
fn ms_per_call<R>(reps: usize, f: impl Fn() -> R) -> f64 {
    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    t.elapsed().as_secs_f64() / reps as f64 * 1e3
}

fn main() {
    if std::env::var("CONCURRENT").is_ok() {
        let (x, m, b) = data(512, 384, 1536);
        let run = || ms_per_call(50, || m.matmul(&x, &b));
        println!("alone: {:.3} ms", run());
        std::thread::scope(|s| {
            let (a, b) = (s.spawn(run), s.spawn(run));
            println!(
                "two at once: {:.3} / {:.3} ms",
                a.join().unwrap(),
                b.join().unwrap()
            );
        });
        return;
    }
    for (rows, n, k) in [
        (22, 384, 1536),
        (22, 1536, 384),
        (22, 1152, 384),
        (512, 384, 1536),
    ] {
        let (x, m, b) = data(rows, n, k);
        let reps = (200_000_000 / (rows * n * k)).max(3);
        let all = ms_per_call(reps, || m.matmul(&x, &b));
        let q = ms_per_call(reps, || quantize_packed(&x, k, 4));
        println!(
            "{rows}×{n}×{k}: {all:.3} ms ({:.1} G multiply-adds/s); quantizing the input {q:.3} ms",
            (rows * n * k) as f64 / all / 1e6,
        );
    }
}
