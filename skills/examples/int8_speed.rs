//! Int8 matrix product speed by phase, natively: `cargo run --release -p skills --example int8_speed`.
use skills::int8::{quantize_packed, Int8Matrix};
use std::time::Instant;

fn main() {
    if std::env::var("CONCURRENT").is_ok() {
        // Two threads, each its own products at once (run with RAYON_NUM_THREADS=1).
        let (rows, n, k) = (512, 384, 1536);
        let x: Vec<f32> = (0..rows * k)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 104729) % 1000) as f32 / 5000.0 - 0.1)
            .collect();
        let b = vec![0.1f32; n];
        let m = Int8Matrix::from_f32(&w, n, k);
        let run = || {
            let t = Instant::now();
            for _ in 0..50 {
                std::hint::black_box(m.matmul(&x, &b));
            }
            t.elapsed().as_secs_f64() / 50.0 * 1e3
        };
        println!("alone: {:.3} ms", run());
        std::thread::scope(|s| {
            let a = s.spawn(run);
            let b2 = s.spawn(run);
            println!(
                "two at once: {:.3} / {:.3} ms",
                a.join().unwrap(),
                b2.join().unwrap()
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
        let x: Vec<f32> = (0..rows * k)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 104729) % 1000) as f32 / 5000.0 - 0.1)
            .collect();
        let b = vec![0.1f32; n];
        let m = Int8Matrix::from_f32(&w, n, k);
        let reps = (200_000_000 / (rows * n * k)).max(3);
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(m.matmul(&x, &b));
        }
        let all = t.elapsed().as_secs_f64() / reps as f64;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(quantize_packed(&x, k, 4));
        }
        let q = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "{rows}×{n}×{k}: {:.3} ms ({:.1} GMAC/s); quantize {:.3} ms",
            all * 1e3,
            (rows * n * k) as f64 / all / 1e9,
            q * 1e3
        );
    }
}

#[allow(dead_code)]
fn concurrent() {}
