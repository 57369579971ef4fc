// RoleMapper for web pages: skill phrases in a CV or a job post, found by a
// DistilBERT token tagger that runs in a Web Worker of this page (WebAssembly,
// candle), linked to canonical skill names, and the roles they fit.
//
//   import { RoleMapper } from 'rolemapper';
//   const rm = await RoleMapper.load({ model: 'model/rolemapper.gguf', onProgress });
//   const spans = await rm.tag('Python and SQL', { style: 'cv' });
//   // [{ start: 0, end: 6, text: 'Python', skill: 'Python (computer programming)', score: 0.97 }, …]
//   rm.dispose();
//
// The worker (worker.js) loads the bundle, checks it against the
// manifest.json next to it, keeps it in the Cache API for the next visit and
// picks the relaxed-SIMD or SIMD128 build of its wasm for this browser. This
// file only speaks the worker's JSON messages (app/package/src/protocol.rs);
// RoleMapper's own app runs the same worker.

/** The most characters of one text that are read: the rest is not tagged. */
export const MAX_CHARS = 100000;

/** The styles a text can be read in. */
const STYLES = ['auto', 'cv', 'job'];

/** An error the worker reported, or a request that cannot be answered. */
export class RoleMapperError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RoleMapperError';
  }
}

function absolute(url) {
  const base = typeof document !== 'undefined' ? document.baseURI : self.location.href;
  return new URL(url, base).href;
}

/** The first `n` code points of `text` (the worker's cut). */
function firstChars(text, n) {
  if (text.length <= n) return text;
  let units = 0;
  for (let i = 0; i < n && units < text.length; i++) units += text.codePointAt(units) > 0xffff ? 2 : 1;
  return text.slice(0, units);
}

function wellFormed(text) {
  return typeof text.toWellFormed === 'function' ? text.toWellFormed() : text.replace(/\p{Surrogate}/gu, '\uFFFD');
}

function progressOf(msg) {
  switch (msg.stage) {
    case 'download': return { stage: 'download', loaded: msg.loaded, total: msg.total };
    case 'loading': return { stage: 'loading', fromCache: msg.from_cache };
    default: return { stage: msg.stage };
  }
}

function modelInfo(info) {
  return {
    name: info.name,
    bytes: info.bytes,
    sha256: info.sha256,
    fromCache: info.from_cache,
    loadMs: info.load_ms,
    kernel: info.kernel,
  };
}

function role(r) {
  return { uri: r.uri, title: r.title, isco: r.isco, score: r.score, matched: r.matched, missing: r.missing };
}

export class RoleMapper {
  #worker;
  #pending = new Map(); // request id → { resolve, reject, text?, kind }
  #waitingForRoles = []; // roles requests sent before the role data loaded
  #rolesState = 'loading'; // 'loading' | 'ready' | message of failure
  #nextId = 1;
  #info;
  #credits = [];
  #disposed = false;
  #broken = null; // why the worker can no longer answer

  /** Use `RoleMapper.load`. */
  constructor(worker) {
    if (!(worker instanceof Worker)) throw new TypeError('use `await RoleMapper.load({ model })`');
    this.#worker = worker;
  }

  /**
   * Starts the worker and loads the model: resolves once it can tag,
   * rejects with a RoleMapperError that says why it cannot (a missing or
   * damaged model, no WebAssembly SIMD, offline on the first visit).
   */
  static async load({ model = 'model/rolemapper.gguf', onProgress, worker } = {}) {
    const url = absolute(model);
    const w = worker ?? new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const rm = new RoleMapper(w);
    return new Promise((resolve, reject) => {
      rm.#listen(resolve, reject, onProgress);
      w.postMessage(JSON.stringify({ type: 'load', base: new URL('./', url).href, model: url }));
    });
  }

  #listen(resolve, reject, onProgress) {
    let loading = true;
    const fail = (message) => {
      if (loading) {
        loading = false;
        this.dispose();
        reject(new RoleMapperError(message));
      } else {
        // After the load: the worker's wasm stopped (a panic, out of
        // memory). It cannot answer any more: everything waiting, and every
        // later request, is refused with the reason.
        this.#broken = `RoleMapper's worker stopped (${message}); load it again`;
        this.#rejectAll(this.#broken);
      }
    };
    this.#worker.onerror = (e) => {
      e.preventDefault?.();
      fail(loading ? `RoleMapper's worker did not start (${e.message || 'its script did not load'})` : (e.message || 'an error'));
    };
    this.#worker.onmessageerror = () => fail('a message could not be read');
    this.#worker.onmessage = (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      switch (msg.type) {
        case 'progress':
          if (onProgress) onProgress(progressOf(msg));
          break;
        case 'ready':
          this.#info = modelInfo(msg);
          loading = false;
          resolve(this);
          break;
        case 'failed':
          fail(msg.message);
          break;
        case 'spans':
          this.#answer(msg.id, (p) => msg.spans.map((s) => ({
            start: s.start, end: s.end, text: p.text.slice(s.start, s.end), skill: s.skill ?? null, score: s.score,
          })));
          break;
        case 'roles':
          this.#answer(msg.id, () => ({
            field: msg.ranking.field ?? null,
            fields: msg.ranking.fields ?? [],
            roles: (msg.ranking.roles ?? []).map(role),
            fit: msg.fit ? role(msg.fit) : null,
          }));
          break;
        case 'highlight_failed': {
          const p = this.#pending.get(msg.id);
          if (p) {
            this.#pending.delete(msg.id);
            p.reject(new RoleMapperError(msg.message));
          }
          break;
        }
        case 'roles_ready':
          this.#rolesState = 'ready';
          this.#credits = msg.credits;
          for (const send of this.#waitingForRoles.splice(0)) send();
          break;
        case 'roles_failed':
          this.#rolesState = msg.message;
          for (const [id, p] of this.#pending) {
            if (p.kind === 'roles') {
              this.#pending.delete(id);
              p.reject(new RoleMapperError(msg.message));
            }
          }
          this.#waitingForRoles.length = 0;
          break;
        default:
          break;
      }
    };
  }

  #answer(id, make) {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    p.resolve(make(p));
  }

  #rejectAll(message) {
    for (const p of this.#pending.values()) p.reject(new RoleMapperError(message));
    this.#pending.clear();
    this.#waitingForRoles.length = 0;
  }

  #request(kind, text, message) {
    if (this.#disposed) return Promise.reject(new RoleMapperError('this RoleMapper was disposed'));
    if (this.#broken) return Promise.reject(new RoleMapperError(this.#broken));
    if (typeof text !== 'string') return Promise.reject(new TypeError('text must be a string'));
    const id = this.#nextId++;
    // Offsets refer to the part that is read (the worker reads no more), with
    // any lone surrogate as U+FFFD (one UTF-16 unit: offsets stay the same).
    const read = wellFormed(firstChars(text, MAX_CHARS));
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, text: read, kind });
      const send = () => this.#worker.postMessage(JSON.stringify({ ...message, id, text: read }));
      if (kind === 'roles' && this.#rolesState === 'loading') this.#waitingForRoles.push(send);
      else if (kind === 'roles' && this.#rolesState !== 'ready') {
        this.#pending.delete(id);
        reject(new RoleMapperError(this.#rolesState));
      } else send();
    });
  }

  /**
   * The skill phrases of `text`: UTF-16 offsets (JavaScript string indices,
   * half-open), the phrase, its canonical skill name when the skill list
   * knows it (else null) and the model's confidence. Only the first
   * MAX_CHARS characters are read.
   */
  tag(text, { style = 'auto' } = {}) {
    if (!STYLES.includes(style)) return Promise.reject(new TypeError(`style must be one of ${STYLES.join(', ')}`));
    return this.#request('tag', text, { type: 'highlight', style });
  }

  /**
   * The job field and the roles (ESCO occupations) that the skills of
   * `text` fit best, with each role's matched and missing skills; with
   * `fit` (an ESCO occupation URI) that occupation's fit too. Waits for the
   * role data, which loads after the model.
   */
  roles(text, { style = 'auto', top = 10, fit } = {}) {
    if (!STYLES.includes(style)) return Promise.reject(new TypeError(`style must be one of ${STYLES.join(', ')}`));
    if (!Number.isInteger(top) || top < 0) return Promise.reject(new TypeError('top must be a whole number ≥ 0'));
    if (fit != null && typeof fit !== 'string') return Promise.reject(new TypeError('fit must be an ESCO occupation URI'));
    return this.#request('roles', text, { type: 'roles', style, top, fit: fit ?? null });
  }

  /** The loaded model: name, size, SHA-256, whether it came from the cache, load time, int8 kernel. */
  get info() {
    return this.#info;
  }

  /** The role data's sources, to credit where roles are shown (empty until it loads). */
  get credits() {
    return this.#credits.slice();
  }

  /** Ends the worker; requests still waiting are rejected. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#worker.terminate();
    this.#rejectAll('this RoleMapper was disposed');
  }
}

export default RoleMapper;
