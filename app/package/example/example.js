// The job post's skills, listed as RoleMapper finds them, each marked when
// the "What I do" block has it too (both elements' `rolemapper-tag` events).
const about = document.getElementById('about-me');
const job = document.getElementById('job');
const list = document.getElementById('found');

const key = (s) => (s.skill ?? s.text).toLowerCase();
let mine = new Set();
let theirs = [];

function render() {
  const seen = new Set();
  const items = [];
  for (const s of theirs) {
    const k = key(s);
    if (seen.has(k)) continue;
    seen.add(k);
    const li = document.createElement('li');
    li.textContent = s.skill ?? s.text;
    if (mine.has(k)) {
      const have = document.createElement('span');
      have.className = 'have';
      have.textContent = ' — I have this';
      li.append(have);
    }
    items.push(li);
  }
  list.replaceChildren(...items);
}

about.addEventListener('rolemapper-tag', (e) => {
  mine = new Set(e.detail.spans.map(key));
  render();
});
job.addEventListener('rolemapper-tag', (e) => {
  theirs = e.detail.spans;
  render();
});
for (const el of [about, job]) {
  el.addEventListener('rolemapper-error', (e) => {
    list.replaceChildren(Object.assign(document.createElement('li'), { textContent: `Highlighting is unavailable: ${e.detail.message}` }));
  });
}
