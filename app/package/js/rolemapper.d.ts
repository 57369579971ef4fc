// Types of the npm package `rolemapper` (rolemapper.js).

/** How to read a text: a CV, a job post, or `auto` (the model tells). */
export type Style = 'auto' | 'cv' | 'job';

/** One skill phrase. */
export interface Span {
  /** UTF-16 offsets (JavaScript string indices), half-open: `text.slice(start, end)`. */
  start: number;
  end: number;
  /** The phrase itself. */
  text: string;
  /** The canonical skill name, when the skill list knows the phrase. */
  skill: string | null;
  /** The model's confidence, 0..1. */
  score: number;
}

/** Where loading is. */
export type Progress =
  | { stage: 'manifest' }
  | { stage: 'download'; loaded: number; total: number }
  | { stage: 'loading'; fromCache: boolean };

export interface LoadOptions {
  /** The bundle's URL, relative to the page; manifest.json (and roles.json.gz) lie next to it. Default `model/rolemapper.gguf`. */
  model?: string;
  onProgress?: (progress: Progress) => void;
  /** A worker running this package's worker.js, for pages that create it themselves. */
  worker?: Worker;
}

export interface ModelInfo {
  name: string;
  bytes: number;
  sha256: string;
  /** Whether the bundle came from the browser's cache (no download). */
  fromCache: boolean;
  /** Milliseconds from the load request to a usable model. */
  loadMs: number;
  /** The int8 kernel in use (relaxed SIMD or SIMD128). */
  kernel: string;
}

/** A job field (Nesta's skills-based sectors). */
export interface Field {
  sector: string;
  sub_sector: string;
  score: number;
}

/** An ESCO occupation and how the text's skills fit it. */
export interface Role {
  /** ESCO occupation URI. */
  uri: string;
  title: string;
  /** 4-digit ISCO-08 code. */
  isco: string;
  score: number;
  /** The occupation's skills the text has, and the ones it lacks. */
  matched: string[];
  missing: string[];
}

export interface Roles {
  field: Field | null;
  fields: Field[];
  roles: Role[];
  /** The occupation asked for with `fit`, when it was. */
  fit: Role | null;
}

export interface TagOptions {
  style?: Style;
}

export interface RolesOptions {
  style?: Style;
  /** How many roles (at most 50). Default 10. */
  top?: number;
  /** An ESCO occupation URI whose fit to report. */
  fit?: string;
}

/** The most characters of one text that are read. */
export const MAX_CHARS: number;

export class RoleMapperError extends Error {}

export class RoleMapper {
  private constructor(worker: Worker);
  /** Starts the worker and loads (or takes from the cache) and checks the model. */
  static load(options?: LoadOptions): Promise<RoleMapper>;
  /** The skill phrases of `text` (its first MAX_CHARS characters). */
  tag(text: string, options?: TagOptions): Promise<Span[]>;
  /** The job field and the roles the text's skills fit. */
  roles(text: string, options?: RolesOptions): Promise<Roles>;
  readonly info: ModelInfo;
  /** The role data's sources, to credit where roles are shown. */
  readonly credits: string[];
  /** Ends the worker; waiting requests are rejected. */
  dispose(): void;
}

export default RoleMapper;
