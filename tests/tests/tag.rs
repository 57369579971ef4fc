//! `rolemapper tag`'s contract on a trained tiny model: code-point offsets
//! whose slice is exactly `text`, canonical names from the lexicon, CoNLL
//! lines echoed with a tag, whatever the Unicode around the skills.

use rolemapper_tests::{scratch, tiny_trained_model};
use skills::highlight::{Highlighter, Linker};
use skills::lexicon::{LabelKind, LexiconBuilder, Source};
use skills::style::StyleChoice;
use trainer::predict::Model;
use trainer::tag::{conll, json_line};

fn highlighter(dir: &std::path::Path, link: bool) -> Highlighter {
    let m = Model::load(
        dir,
        &candle_core::Device::Cpu,
        32,
        skills::model::Compute::F32,
    )
    .unwrap();
    let linker = link.then(|| {
        let mut b = LexiconBuilder::new();
        b.source(Source {
            id: "t".into(),
            ..Default::default()
        });
        b.label(
            "t",
            "py",
            "Python (programming language)",
            LabelKind::Preferred,
        )
        .label("t", "py", "python", LabelKind::Alternative);
        b.label("t", "sql", "SQL", LabelKind::Preferred);
        Linker::new(&b.build().0).unwrap()
    });
    Highlighter::new(m.tagger, m.pieces, linker, candle_core::Device::Cpu)
}

#[test]
fn json_spans_use_code_points_and_link_skills() {
    let out = scratch("tag-json");
    let h = highlighter(&tiny_trained_model(&out), true);
    // The first sentence is a training sentence; the decorations around it
    // are multi-byte, astral-plane and right-to-left text.
    let text = "😀👩‍💻 Über —\nwe use python and sql\nמפתח • strong machine learning skills";
    let line: serde_json::Value =
        serde_json::from_str(&json_line(&h, "cv.txt", text, StyleChoice::Auto).unwrap()).unwrap();
    assert_eq!(line["file"], "cv.txt");
    let chars: Vec<char> = text.chars().collect();
    let spans = line["spans"].as_array().unwrap();
    let mut last = 0;
    for s in spans {
        let (start, end) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert!(start >= last && start < end && end <= chars.len());
        assert_eq!(
            chars[start..end].iter().collect::<String>(),
            s["text"].as_str().unwrap()
        );
        let score = s["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        last = end;
    }
    let found: Vec<(&str, Option<&str>)> = spans
        .iter()
        .map(|s| (s["text"].as_str().unwrap(), s["skill"].as_str()))
        .collect();
    assert!(found.contains(&("python", Some("Python"))), "{found:?}");
    assert!(found.contains(&("sql", Some("SQL"))), "{found:?}");
    assert!(found.contains(&("machine learning", None)), "{found:?}");
    // Nothing to find in an empty or blank text.
    let empty: serde_json::Value =
        serde_json::from_str(&json_line(&h, "-", " \n ", StyleChoice::Auto).unwrap()).unwrap();
    assert_eq!(empty["spans"].as_array().unwrap().len(), 0);
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn conll_echoes_lines_with_tags() {
    let out = scratch("tag-conll");
    let h = highlighter(&tiny_trained_model(&out), false);
    let input = "we\tO\nuse\nPython\nand\nsql\n\ncommunication\nskills\n";
    let tagged = conll(&h, input, StyleChoice::Auto).unwrap();
    assert_eq!(tagged, "we\tO\tO\nuse\tO\nPython\tB-SKILL\nand\tO\nsql\tB-SKILL\n\ncommunication\tB-SKILL\nskills\tO\n");
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn long_run_on_text_is_cut_into_windows() {
    let out = scratch("tag-long");
    let h = highlighter(&tiny_trained_model(&out), false);
    // 300 words without a sentence break, several windows of 32 sub-words,
    // plus one word longer than the model's limit on its own.
    let text = format!(
        "{} {}",
        "we use python and sql".repeat(60).replace("sql", "sql "),
        "x".repeat(500)
    );
    let spans = h.highlight(&text).unwrap();
    assert!(spans.len() >= 30, "only {} spans", spans.len());
    let mut last = 0;
    for s in &spans {
        assert!(s.bytes.start >= last && s.bytes.start < s.bytes.end && s.bytes.end <= text.len());
        last = s.bytes.end;
    }
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn a_bundle_tags_like_the_model_folder_it_was_made_from() {
    use model_export::bundle::{write_bundle, ModelDir, Policy, Provenance};
    let out = scratch("tag-bundle");
    let dir = tiny_trained_model(&out);
    let lexicon = skills::lexicon::Lexicon::parse(
        r#"[{"id":"t","title":"t","package":"","sha256":"","path":"","licence":"CC0","attribution":""}]"#,
        "{\"name\":\"Python\",\"source\":\"t\",\"aliases\":[\"python\"]}\n",
    )
    .unwrap();
    let text = "we use python and sql\nstrong machine learning skills 😀";
    let from_dir = json_line(&highlighter(&dir, false), "-", text, StyleChoice::Auto).unwrap();
    let policy = |d| Policy {
        embeddings: d,
        blocks: d,
    };
    use candle_core::quantized::GgmlDType;
    for (dtype, exact) in [(GgmlDType::F32, true), (GgmlDType::Q8_0, false)] {
        let path = out.join(format!("{dtype:?}.gguf"));
        write_bundle(
            &ModelDir::read(&dir).unwrap(),
            &policy(dtype),
            &lexicon,
            "tiny",
            &Provenance {
                run: Some(&out),
                card: None,
            },
            &path,
        )
        .unwrap();
        let m = Model::load(
            &path,
            &candle_core::Device::Cpu,
            32,
            skills::model::Compute::F32,
        )
        .unwrap();
        let h = Highlighter::new(m.tagger, m.pieces, None, candle_core::Device::Cpu);
        let from_bundle = json_line(&h, "-", text, StyleChoice::Auto).unwrap();
        let spans = |s: &str| -> Vec<(u64, u64)> {
            let v: serde_json::Value = serde_json::from_str(s).unwrap();
            v["spans"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["start"].as_u64().unwrap(), s["end"].as_u64().unwrap()))
                .collect()
        };
        if exact {
            assert_eq!(from_bundle, from_dir, "{dtype:?}");
        } else {
            assert_eq!(spans(&from_bundle), spans(&from_dir), "{dtype:?}");
        }
        // The bundle carries its training record.
        let b = skills::bundle::Bundle::read_file(&path).unwrap();
        assert!(
            b.metadata["training"]["train"].is_object(),
            "{}",
            b.metadata
        );
    }
    std::fs::remove_dir_all(out).unwrap();
}
