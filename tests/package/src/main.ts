// Uses the package as a web developer would: the API, typed, and the element.
import { RoleMapper, type Span, type Progress } from 'rolemapper';
import 'rolemapper/element';

async function useTheApi(): Promise<void> {
  const out = document.getElementById('api')!;
  const stages: Progress['stage'][] = [];
  const rm = await RoleMapper.load({ model: 'model/rolemapper.gguf', onProgress: (p) => stages.push(p.stage) });
  const spans: Span[] = await rm.tag('Python and SQL', { style: 'job' });
  const roles = await rm.roles('Python and SQL, statistics, machine learning', { top: 3 });
  // A lone surrogate (text cut by UTF-16 length) is read as U+FFFD: answered, offsets unchanged.
  const lone = 'SQL, \ud800 and Python';
  const loneSpans = await rm.tag(lone);
  out.textContent = spans.map((s) => `${s.text}@${s.start}-${s.end}`).join(' ');
  (window as unknown as { __api: unknown }).__api = {
    spans, stages, kernel: rm.info.kernel, roles: roles.roles.map((r) => r.title), credits: rm.credits.length,
    lone: loneSpans.map((s) => [lone.slice(s.start, s.end), s.text]),
  };
  rm.dispose();
}
useTheApi().catch((e: unknown) => {
  (window as unknown as { __api: unknown }).__api = { error: String(e) };
});

const el = document.querySelector('role-mapper-highlight')!;
el.addEventListener('rolemapper-tag', (e) => {
  (window as unknown as { __element: Span[] }).__element = e.detail.spans;
});
