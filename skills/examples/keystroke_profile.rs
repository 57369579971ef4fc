//! Where one keystroke's re-tagging goes (natively; `ROLEMAPPER_INT8_KERNEL=portable`
//! approximates the browser's kernel): the edited sentence of the 600-word CV that
//! `tests/e2e/bench.mjs` types into, tagged as the app's worker does.
//! `cargo run --release -p skills --example keystroke_profile`
use skills::bundle::Bundle;
use skills::model::Compute;
use std::time::Instant;

fn clock() -> f64 {
    thread_local!(static START: Instant = Instant::now());
    START.with(|s| s.elapsed().as_secs_f64() * 1e3)
}

fn main() {
    let bytes =
        std::fs::read("public/model/rolemapper.gguf").expect("run from the repository root");
    let h = Bundle::read(&bytes)
        .unwrap()
        .into_highlighter(128, Compute::Int8)
        .unwrap();
    let sample = std::fs::read_to_string("app/examples/cv.txt").unwrap();
    let sample = sample.trim();
    let mut cv = String::new();
    let mut n = 0;
    'outer: loop {
        for w in sample.split_inclusive(char::is_whitespace) {
            if n == 600 {
                break 'outer;
            }
            n += 1;
            cv.push_str(w);
        }
    }
    let mut mid = cv.len() / 2;
    while !cv.is_char_boundary(mid) || !cv[mid..].starts_with(' ') {
        mid += 1;
    }
    cv.insert_str(mid, " Python SQL Docker Kubernetes and Apache");
    let sentences = h.splitter.split(&cv);
    let s = sentences
        .iter()
        .find(|r| r.start <= mid && mid < r.end)
        .unwrap()
        .clone();
    let t = h
        .pieces
        .encode(
            &skills::words::words(&cv[s.clone()])
                .iter()
                .map(|w| &cv[s.start + w.start..s.start + w.end])
                .collect::<Vec<_>>(),
        )
        .unwrap();
    println!(
        "sentence: {} bytes, {} sub-words: {:?}",
        s.len(),
        t.ids.len(),
        &cv[s.clone()]
    );
    // The style the worker reads the CV in (none for a model without markers).
    let style = h.style_of(&cv, skills::style::StyleChoice::Auto);
    for _ in 0..20 {
        h.highlight_sentences(&cv, std::slice::from_ref(&s), style)
            .unwrap();
    }
    let reps = 50;
    let mut total = Vec::new();
    let mut laps: Vec<(&'static str, f64)> = Vec::new();
    for _ in 0..reps {
        let t0 = clock();
        let (r, ms) = skills::profile::profiled(clock, || {
            h.highlight_sentences(&cv, std::slice::from_ref(&s), style)
        });
        r.unwrap();
        total.push(clock() - t0);
        for (k, v) in ms {
            skills::profile::add(&mut laps, k, v);
        }
    }
    total.sort_by(f64::total_cmp);
    println!("highlight_sentences: p50 {:.2} ms", total[reps / 2]);
    let t0 = clock();
    for _ in 0..reps {
        std::hint::black_box(h.splitter.split(&cv));
    }
    println!(
        "split the whole text: {:.3} ms",
        (clock() - t0) / reps as f64
    );
    for (k, v) in laps {
        println!("  {k}: {:.3} ms", v / reps as f64);
    }
}
