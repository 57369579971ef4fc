// <role-mapper-highlight>: highlights the skills of the text it wraps, live,
// with no build step:
//
//   <script type="module" src="…/rolemapper/element.js"></script>
//   <role-mapper-highlight model="model/rolemapper.gguf" kind="cv">
//     <textarea aria-label="Your CV"></textarea>      (highlighted as you type)
//   </role-mapper-highlight>
//   <role-mapper-highlight model="model/rolemapper.gguf"><p>Python and SQL</p></role-mapper-highlight>
//
// Around a textarea, the highlights are drawn on a backdrop behind it (the
// textarea itself is untouched: its value, caret, undo and form submission
// stay the page's). Around other content, each skill phrase is wrapped in a
// <mark class="rolemapper-skill"> in place. Theming: the custom properties
// below, and ::part(mark), ::part(mark unlinked), ::part(backdrop) and
// ::part(status) for the textarea's backdrop. Events: `rolemapper-ready`,
// `rolemapper-tag` (detail: { spans }) and `rolemapper-error` (detail:
// { message }). Elements with the same model share one worker.
import { RoleMapper } from './rolemapper.js';

const mappers = new Map(); // absolute model URL → Promise<RoleMapper>
function mapperFor(model) {
  const url = new URL(model, document.baseURI).href;
  let p = mappers.get(url);
  if (!p) {
    p = RoleMapper.load({ model: url });
    // A failed load is not kept: the next element (or a retry) tries again.
    p.catch(() => mappers.delete(url));
    mappers.set(url, p);
  }
  return p;
}

const COLORS = `
  --_mark: var(--rolemapper-mark-background, rgb(250 204 21 / 0.45));
  --_unlinked: var(--rolemapper-unlinked-background, rgb(96 165 250 / 0.35));
  --_radius: var(--rolemapper-mark-radius, 0.2em);`;

// Constructed style sheets: a page whose Content-Security-Policy forbids
// inline styles still styles the element.
const shadowSheet = new CSSStyleSheet();
shadowSheet.replaceSync(`
  :host { display: block; position: relative; ${COLORS} }
  :host([hidden]) { display: none; }
  .backdrop { position: absolute; overflow: hidden; pointer-events: none; color: transparent;
    white-space: pre-wrap; overflow-wrap: break-word; box-sizing: border-box; margin: 0;
    border-color: transparent !important; border-style: solid; }
  mark { color: transparent; background: var(--_mark); border-radius: var(--_radius); }
  mark[part~="unlinked"] { background: var(--_unlinked); }
  .status { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
    clip-path: inset(50%); white-space: nowrap; border: 0; }
`);
const documentSheet = new CSSStyleSheet();
documentSheet.replaceSync(`
  :where(role-mapper-highlight) { ${COLORS} }
  :where(role-mapper-highlight) mark.rolemapper-skill { color: inherit; background: var(--_mark); border-radius: var(--_radius); }
  :where(role-mapper-highlight) mark.rolemapper-skill.rolemapper-unlinked { background: var(--_unlinked); }
`);

// Text that is not shown as text is neither read nor wrapped.
const SKIPPED = new Set(['SCRIPT', 'STYLE', 'TEXTAREA', 'OPTION', 'NOSCRIPT', 'TEMPLATE', 'SELECT']);

// The textarea's box and text layout, copied onto the backdrop.
const COPIED = ['fontFamily', 'fontSize', 'fontWeight', 'fontStyle', 'fontStretch', 'fontVariant', 'fontFeatureSettings',
  'letterSpacing', 'wordSpacing', 'lineHeight', 'textAlign', 'textIndent', 'textTransform', 'tabSize', 'direction',
  'paddingTop', 'paddingRight', 'paddingBottom', 'paddingLeft', 'borderTopWidth', 'borderRightWidth',
  'borderBottomWidth', 'borderLeftWidth', 'borderTopLeftRadius', 'borderTopRightRadius', 'borderBottomLeftRadius',
  'borderBottomRightRadius'];

export class RoleMapperHighlight extends HTMLElement {
  static observedAttributes = ['model', 'kind'];

  #root;
  #backdrop;
  #status;
  #textarea = null;
  #mapper = null;
  #busy = false;
  #again = false;
  #observer = null;
  #resize = null;
  #wrapping = false;
  #spans = [];

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.adoptedStyleSheets = [shadowSheet];
    this.#backdrop = document.createElement('div');
    this.#backdrop.className = 'backdrop';
    this.#backdrop.setAttribute('part', 'backdrop');
    this.#backdrop.setAttribute('aria-hidden', 'true');
    this.#status = document.createElement('div');
    this.#status.className = 'status';
    this.#status.setAttribute('part', 'status');
    this.#status.setAttribute('role', 'status');
    this.#root.append(this.#backdrop, document.createElement('slot'), this.#status);
  }

  /** The skill phrases last found (UTF-16 offsets into the textarea's value or the element's text). */
  get spans() {
    return this.#spans.slice();
  }

  connectedCallback() {
    // The marks' styles where this element is: the document, or the shadow
    // root of the component that holds it.
    const root = this.getRootNode();
    if (root.adoptedStyleSheets && !root.adoptedStyleSheets.includes(documentSheet)) {
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, documentSheet];
    }
    this.#attach();
    this.#load();
  }

  disconnectedCallback() {
    this.#detach();
  }

  attributeChangedCallback(name, old, value) {
    if (!this.isConnected || old === value) return;
    if (name === 'model') this.#load();
    else this.#schedule();
  }

  #attach() {
    this.#detach();
    this.#textarea = this.querySelector(':scope > textarea');
    this.#backdrop.hidden = !this.#textarea;
    if (this.#textarea) {
      const ta = this.#textarea;
      ta.addEventListener('input', this.#onInput);
      ta.addEventListener('scroll', this.#onScroll);
      // A form's reset changes the value without an input event.
      ta.form?.addEventListener('reset', this.#onReset);
      // The textarea is drawn over the backdrop, which takes its background.
      this.#saved = { position: ta.style.position, background: ta.style.background };
      ta.style.position = 'relative';
      this.#scheme.addEventListener('change', this.#onScheme);
      this.#resize = new ResizeObserver(() => this.#layout());
      this.#resize.observe(ta);
      this.#resize.observe(this);
      this.#layout();
    }
    // Children the page changes: text is tagged again; a textarea that
    // arrives (or leaves) switches the mode.
    this.#observer = new MutationObserver(() => {
      if (this.#wrapping) return;
      if (this.querySelector(':scope > textarea') !== this.#textarea) this.#attach();
      this.#schedule();
    });
    this.#observer.observe(this, { childList: true, characterData: !this.#textarea, subtree: !this.#textarea });
  }

  #onInput = () => this.#schedule();
  // The backdrop scrolls with the textarea.
  #onScroll = () => {
    if (!this.#textarea) return;
    this.#backdrop.scrollTop = this.#textarea.scrollTop;
    this.#backdrop.scrollLeft = this.#textarea.scrollLeft;
  };
  #onReset = () => setTimeout(() => this.#schedule());
  #scheme = matchMedia('(prefers-color-scheme: dark)');
  #onScheme = () => this.#syncBackground();
  #saved = null;

  #detach() {
    const ta = this.#textarea;
    if (ta) {
      ta.removeEventListener('input', this.#onInput);
      ta.removeEventListener('scroll', this.#onScroll);
      ta.form?.removeEventListener('reset', this.#onReset);
      this.#scheme.removeEventListener('change', this.#onScheme);
      if (this.#saved) Object.assign(ta.style, this.#saved);
    }
    this.#saved = null;
    this.#textarea = null;
    this.#resize?.disconnect();
    this.#observer?.disconnect();
    this.#resize = this.#observer = null;
  }

  /** Tags the text again: for pages that set the textarea's value from script (no input event). */
  refresh() {
    this.#schedule();
  }

  // The textarea's own background (the page's, in its theme now), drawn by
  // the backdrop behind the transparent textarea; read again at each
  // layout, render and colour-scheme change.
  #syncBackground() {
    const ta = this.#textarea;
    if (!ta) return null;
    ta.style.background = this.#saved.background;
    const cs = getComputedStyle(ta);
    this.#backdrop.style.background = cs.background;
    ta.style.background = 'transparent';
    return cs;
  }

  #layout() {
    const ta = this.#textarea;
    if (!ta) return;
    const cs = this.#syncBackground();
    const b = this.#backdrop.style;
    for (const p of COPIED) b[p] = cs[p];
    b.top = `${ta.offsetTop}px`;
    b.left = `${ta.offsetLeft}px`;
    b.width = `${ta.offsetWidth}px`;
    b.height = `${ta.offsetHeight}px`;
    // A scrollbar narrows the textarea's text: the backdrop wraps as narrowly.
    const bar = ta.offsetWidth - ta.clientWidth - parseFloat(cs.borderLeftWidth) - parseFloat(cs.borderRightWidth);
    b.paddingRight = bar > 0 ? `${parseFloat(cs.paddingRight) + bar}px` : cs.paddingRight;
    this.#onScroll();
  }

  #model() {
    return this.getAttribute('model') || 'model/rolemapper.gguf';
  }

  async #load() {
    const model = this.#model();
    this.setAttribute('data-state', 'loading');
    this.#mapper = null;
    try {
      const mapper = await mapperFor(model);
      if (this.#model() !== model) return;
      this.#mapper = mapper;
      this.setAttribute('data-state', 'ready');
      this.dispatchEvent(new CustomEvent('rolemapper-ready', { detail: { info: mapper.info } }));
      this.#schedule();
    } catch (err) {
      if (this.#model() !== model) return;
      this.setAttribute('data-state', 'error');
      this.#status.textContent = `Skill highlighting is unavailable: ${err.message}`;
      this.dispatchEvent(new CustomEvent('rolemapper-error', { detail: { message: err.message } }));
    }
  }

  #text() {
    return this.#textarea ? this.#textarea.value : this.#segments().text;
  }

  // The element's visible text, as one string, and where each text node
  // starts in it. Text in another block (or after a <br>) starts a new line,
  // so that "<li>Python</li><li>SQL</li>" reads as two words.
  #segments() {
    const segments = [];
    let text = '';
    let block = null;
    let brk = false;
    const walker = document.createTreeWalker(this, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => n.nodeType !== Node.ELEMENT_NODE ? NodeFilter.FILTER_ACCEPT
        : SKIPPED.has(n.tagName) ? NodeFilter.FILTER_REJECT
          : n.tagName === 'BR' ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP,
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.nodeType === Node.ELEMENT_NODE) {
        brk = true;
        continue;
      }
      const b = this.#blockOf(n);
      if ((brk || (block && b !== block)) && text && !/\s$/.test(text)) text += '\n';
      block = b;
      brk = false;
      segments.push({ node: n, start: text.length });
      text += n.data;
    }
    return { text, segments };
  }

  #blockOf(node) {
    let el = node.parentElement;
    while (el && el !== this && getComputedStyle(el).display.startsWith('inline')) el = el.parentElement;
    return el;
  }

  // One request at a time; text that changes meanwhile is tagged after it.
  async #schedule() {
    if (!this.#mapper) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    try {
      do {
        this.#again = false;
        if (!this.#mapper) return;
        const text = this.#text();
        const kind = this.getAttribute('kind');
        const style = kind === 'cv' || kind === 'job' ? kind : 'auto';
        let spans;
        try {
          spans = await this.#mapper.tag(text, { style });
        } catch (err) {
          this.dispatchEvent(new CustomEvent('rolemapper-error', { detail: { message: err.message } }));
          return;
        }
        if (this.#again || text !== this.#text()) {
          this.#again = true; // the text changed meanwhile: tag it as it is now
          continue;
        }
        this.#spans = spans;
        this.#render(text, spans);
        const names = [...new Set(spans.map((s) => s.skill ?? s.text))];
        this.#status.textContent = names.length
          ? `${names.length} skill${names.length === 1 ? '' : 's'} highlighted: ${names.join(', ')}`
          : 'No skills highlighted';
        this.dispatchEvent(new CustomEvent('rolemapper-tag', { detail: { spans } }));
      } while (this.#again);
    } finally {
      this.#busy = false;
    }
  }

  #render(text, spans) {
    if (this.#textarea) {
      const parts = [];
      let at = 0;
      for (const s of spans) {
        parts.push(document.createTextNode(text.slice(at, s.start)));
        const mark = document.createElement('mark');
        mark.setAttribute('part', s.skill ? 'mark' : 'mark unlinked');
        mark.textContent = text.slice(s.start, s.end);
        parts.push(mark);
        at = s.end;
      }
      // A final newline needs a character after it to take its line.
      parts.push(document.createTextNode(`${text.slice(at)}\n`));
      this.#backdrop.replaceChildren(...parts);
      this.#syncBackground();
      this.#onScroll();
      return;
    }
    this.#wrapping = true;
    try {
      this.#unwrap();
      this.#wrap(spans);
    } finally {
      this.#observer?.takeRecords();
      this.#wrapping = false;
    }
  }

  #unwrap() {
    for (const mark of this.querySelectorAll('mark.rolemapper-skill')) {
      const parent = mark.parentNode;
      mark.replaceWith(...mark.childNodes);
      parent.normalize();
    }
  }

  // Wraps each span's characters, text node by text node (a phrase may
  // cross an element boundary: each piece gets a mark).
  #wrap(spans) {
    if (!spans.length) return;
    const nodes = this.#segments().segments;
    // From the last span back, so that splitting leaves earlier offsets valid.
    for (const s of [...spans].reverse()) {
      for (let i = nodes.length - 1; i >= 0; i--) {
        const { node, start } = nodes[i];
        const end = start + node.data.length;
        if (end <= s.start || start >= s.end) continue;
        const from = Math.max(s.start, start) - start;
        const to = Math.min(s.end, end) - start;
        const range = document.createRange();
        range.setStart(node, from);
        range.setEnd(node, to);
        const mark = document.createElement('mark');
        mark.className = s.skill ? 'rolemapper-skill' : 'rolemapper-skill rolemapper-unlinked';
        if (s.skill) mark.title = s.skill;
        range.surroundContents(mark);
        // The text before the mark keeps this node (and its start offset).
      }
    }
  }
}

if (!customElements.get('role-mapper-highlight')) {
  customElements.define('role-mapper-highlight', RoleMapperHighlight);
}
