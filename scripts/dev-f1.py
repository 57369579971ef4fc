#!/usr/bin/env python3
# Strict span F1 of a model on the full SkillSpan, Green and CV dev sets through
# `rolemapper tag --conll` (SkillSpan and Green read as job posts, CV dev as CVs): the
# model-selection figures of README's issue-16 tables.
#   scripts/dev-f1.py MODEL OUT.json [TAG FLAGS…]   (MODEL: a bundle or runs/NAME/best; needs
#       data/ and target/release/rolemapper; e.g. --no-list-completion)
import json, os, subprocess, sys
model, out, flags = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs('target/dev-f1', exist_ok=True)
def spans(tags):
    s, cur = set(), None
    for i, t in enumerate(tags + ['O']):
        if t.startswith('B') or t == 'O' or (t.startswith('I') and cur is None):
            if cur is not None: s.add((cur, i)); cur = None
            if t.startswith('B') or t.startswith('I'): cur = i
    return s
res = {}
for name, style in [('skillspan', 'job'), ('green', 'job'), ('dotin', 'cv')]:
    rows = [json.loads(l) for l in open(f'data/{name}.dev.jsonl')]
    rows = [r for r in rows if r['words']]
    f = f'target/dev-f1/{name}.dev.conll'
    with open(f, 'w') as fh:
        for r in rows:
            fh.write('\n'.join(w.replace('\t', ' ') for w in r['words']) + '\n\n')
    p = subprocess.run(['target/release/rolemapper', 'tag', '--conll', '--style', style, '--model', model, *flags, f], capture_output=True, text=True, check=True)
    sents, cur = [], []
    for line in p.stdout.split('\n'):
        if line.strip() == '':
            if cur: sents.append(cur); cur = []
        else: cur.append(line.split('\t')[-1])
    if cur: sents.append(cur)
    assert len(sents) == len(rows), (name, len(sents), len(rows))
    tp = fp = fn = 0
    for r, pred in zip(rows, sents):
        assert len(pred) == len(r['words'])
        g, q = spans(r['tags']), spans(pred)
        tp += len(g & q); fp += len(q - g); fn += len(g - q)
    P = tp / max(tp + fp, 1); R = tp / max(tp + fn, 1); F = 2 * P * R / max(P + R, 1e-9)
    res[name] = dict(p=round(P, 3), r=round(R, 3), f1=round(F, 3), sentences=len(rows))
    print(name, res[name], flush=True)
res['mean'] = round(sum(res[n]['f1'] for n in ['skillspan', 'green', 'dotin']) / 3, 3)
print('mean', res['mean'])
json.dump(res, open(out, 'w'), indent=1)
