//! Arbitrary bytes as a model bundle: the reader answers with a bundle or
//! a BundleError, never a panic, an abort or a runaway allocation. Seed the
//! corpus with a valid tiny bundle (RELIABILITY.md) so that mutations reach
//! past the header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = skills::bundle::Bundle::read(data) {
        // A bundle that verifies also builds its highlighter.
        let _ = b.into_highlighter(32, skills::model::Compute::F32);
    }
    // The browser worker's read (lexicon straight into the linker), without
    // the checksum, so that mutations reach the lexicon.
    let _ = skills::bundle::Bundle::highlighter_steps(
        data,
        false,
        32,
        skills::model::Compute::F32,
        &mut |_| {},
    );
});
