// Types of `rolemapper/element` (element.js): the <role-mapper-highlight> custom element.
import type { ModelInfo, Span } from './rolemapper.js';

export class RoleMapperHighlight extends HTMLElement {
  /** The skill phrases last found (UTF-16 offsets into the textarea's value, or into the element's text). */
  readonly spans: Span[];
}

declare global {
  interface HTMLElementTagNameMap {
    'role-mapper-highlight': RoleMapperHighlight;
  }
  interface HTMLElementEventMap {
    'rolemapper-ready': CustomEvent<{ info: ModelInfo }>;
    'rolemapper-tag': CustomEvent<{ spans: Span[] }>;
    'rolemapper-error': CustomEvent<{ message: string }>;
  }
}
