// Owns the shape of a loaded spec (what loading hands to validation, planning and the rest): the parsed spec, where
// it came from, its source map and the patch files it names. Its own file so validation does not import loading.
import type { ClusterSpec } from './schema.js';
import type { SourceMap } from './source.js';

export interface LoadedSpec {
  spec: ClusterSpec;
  /** Absolute path of the spec file. */
  file: string;
  /** Directory of the spec file (relative paths in the spec resolve against it). */
  dir: string;
  source: SourceMap;
  /** The patch files the spec names (as written in it), read with the spec: their text, or why not. */
  patchFiles: Record<string, { text: string } | { error: string }>;
}
