//! `rolemapper dataset` and `rolemapper eval --baseline gazetteer` on the
//! fixtures: splits, deduplication, offsets and scores checked by hand.

use rolemapper_tests::{fixtures, scratch};
use skills::lexicon::{LabelKind, LexiconBuilder, Source};
use trainer::data::read_jsonl;
use trainer::dataset::{self, Labeller, Options};
use trainer::eval;

fn labeller() -> Labeller {
    let mut b = LexiconBuilder::new();
    b.source(Source {
        id: "fixture".into(),
        ..Default::default()
    });
    for name in [
        "Python",
        "SQL",
        "Excel",
        "Docker",
        "machine learning",
        "data analysis",
        "Power BI",
    ] {
        b.label("fixture", name, name, LabelKind::Preferred);
    }
    Labeller::new(b.build().0).unwrap()
}

#[test]
fn dataset_and_baseline_on_fixtures() {
    let out = scratch("pipeline");
    let l = labeller();
    let opts = Options {
        cache: out.join("cache"),
        shared: fixtures().join("shared"),
        out: out.clone(),
        sources: vec!["skillspan".into(), "dotin".into()],
    };
    let card = dataset::build(&l, &opts).unwrap();
    let count = |source: &str, split: &str| {
        card.rows
            .iter()
            .filter(|r| r.source == source && r.split == split)
            .map(|r| r.sentences)
            .sum::<usize>()
    };
    // SkillSpan: test keeps all 3; dev keeps 3; train loses its copy of a
    // test sentence, its own repeat, and a copy of a dev sentence.
    assert_eq!(
        (
            count("skillspan", "test"),
            count("skillspan", "dev"),
            count("skillspan", "train")
        ),
        (3, 3, 2)
    );
    let notes = card.notes.join("\n");
    assert!(notes.contains("skillspan: 3 sentences dropped"), "{notes}");
    // Dotin: 3.xml repeats 1.xml, 4.xml is malformed.
    assert!(
        notes.contains("dotin: 2 CVs read, 1 duplicate CVs and 1 unreadable files dropped"),
        "{notes}"
    );

    let dev = read_jsonl(&out.join("skillspan.dev.jsonl")).unwrap();
    assert!(dev.bad.is_empty());
    assert!(
        dev.records.iter().any(|r| r.text == "We’re hiring"),
        "Windows-1252 punctuation repaired"
    );

    // Every record's offsets select its words, in code points, and its
    // spans carry canonical names where the lexicon knows the phrase.
    let mut dotin_spans = Vec::new();
    for split in ["train", "dev"] {
        let path = out.join(format!("dotin.{split}.jsonl"));
        if !path.exists() {
            continue;
        }
        for r in read_jsonl(&path).unwrap().records {
            let chars: Vec<char> = r.text.chars().collect();
            for (w, o) in r.words.iter().zip(&r.offsets) {
                assert_eq!(&chars[o[0]..o[1]].iter().collect::<String>(), w);
            }
            assert!(
                !r.text.contains("\\x"),
                "literal escapes decoded: {}",
                r.text
            );
            dotin_spans.extend(r.spans.into_iter().map(|s| (s.text, s.skill)));
        }
    }
    dotin_spans.sort();
    let expected = [
        ("Excel", Some("Excel")),
        ("Power BI", Some("Power BI")),
        ("Python", Some("Python")),
        ("SQL", Some("SQL")),
        ("communication", None),
        ("data analysis", Some("data analysis")),
        ("machine learning", Some("machine learning")),
    ];
    let got: Vec<(&str, Option<&str>)> = dotin_spans
        .iter()
        .map(|(t, s)| (t.as_str(), s.as_deref()))
        .collect();
    assert_eq!(got, expected);

    // Gazetteer on SkillSpan test: gold [Python] [manage SQL databases] [Excel];
    // predicted [Python] [SQL] [Excel] → strict 2/3, 2/3; token 3/3, 3/5.
    let rows = eval::baseline(&l, &out).unwrap();
    let full = &rows[0];
    assert_eq!(full.model, "gazetteer (full lexicon)");
    let ss = full
        .splits
        .iter()
        .find(|s| s.split == "SkillSpan test")
        .unwrap();
    assert_eq!(ss.sentences, 3);
    assert!(
        (ss.strict.precision - 2.0 / 3.0).abs() < 1e-9
            && (ss.strict.recall - 2.0 / 3.0).abs() < 1e-9
    );
    assert!((ss.token.precision - 1.0).abs() < 1e-9 && (ss.token.recall - 0.6).abs() < 1e-9);
    assert!(eval::table(&rows)
        .contains("| gazetteer (full lexicon) | SkillSpan test | 3 | 0.667 | 0.667 | 0.667 |"));
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn eval_without_data_says_what_to_do() {
    let empty = scratch("empty-eval");
    let err = eval::baseline(&labeller(), &empty).unwrap_err().to_string();
    assert!(err.contains("run `rolemapper dataset` first"), "{err}");
    std::fs::remove_dir_all(empty).unwrap();
}
