// Uses the package as a web developer would: the API, typed, and the element.
import { RoleMapper, type Span, type Progress } from 'rolemapper';
import 'rolemapper/element';

async function useTheApi(): Promise<void> {
  const out = document.getElementById('api')!;
  const stages: Progress['stage'][] = [];
  const rm = await RoleMapper.load({ model: 'model/rolemapper.gguf', onProgress: (p) => stages.push(p.stage) });
  const spans: Span[] = await rm.tag('Python and SQL', { style: 'job' });
  const roles = await rm.roles('Python and SQL, statistics, machine learning', { top: 3 });
  out.textContent = spans.map((s) => `${s.text}@${s.start}-${s.end}`).join(' ');
  (window as unknown as { __api: unknown }).__api = {
    spans, stages, kernel: rm.info.kernel, roles: roles.roles.map((r) => r.title), credits: rm.credits.length,
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
