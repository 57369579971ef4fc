"""Sentences for scripts/bench.sh when SkillSpan (../shared/data) is absent:
the sample texts shipped in app/examples, one record a sentence in the
dataset's JSONL format (`rolemapper dataset`), every word tagged O.

    python examples_jsonl.py OUT.jsonl app/examples/*.txt

Each non-empty line is split after . ! or ? followed by a space; words are
runs of letters and digits (joined by - ' . / + #) or single other
characters, with code-point offsets into the sentence, as the dataset's.
"""

import json
import re
import sys
from pathlib import Path

WORD = re.compile(r"\w+(?:[-'’./+#]\w+)*[+#]*|[^\w\s]")


def records(path: Path):
    n = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        for text in re.split(r"(?<=[.!?])\s+", line.strip()):
            words = list(WORD.finditer(text))
            if not words:
                continue
            yield {
                "id": f"examples-{path.stem}-{n}",
                "source": "examples",
                "split": "test",
                "text": text,
                "words": [m.group() for m in words],
                "offsets": [[m.start(), m.end()] for m in words],
                "tags": ["O"] * len(words),
                "spans": [],
            }
            n += 1


def main() -> None:
    out, inputs = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    if not inputs:
        sys.exit(__doc__)
    rows = [r for p in sorted(inputs) for r in records(p)]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} sentences from {len(inputs)} files in {out}")


if __name__ == "__main__":
    main()
