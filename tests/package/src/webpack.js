// The same use as src/main.ts, as plain JavaScript, for webpack 5 (no loader needed).
import { RoleMapper } from 'rolemapper';
import 'rolemapper/element';

RoleMapper.load({ model: 'model/rolemapper.gguf' })
  .then(async (rm) => {
    const spans = await rm.tag('Python and SQL', { style: 'job' });
    window.__api = { spans, kernel: rm.info.kernel };
    rm.dispose();
  })
  .catch((e) => { window.__api = { error: String(e) }; });
