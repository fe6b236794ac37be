import { RE2JS } from 're2js';

/**
 * Bounds on what routing rules may hold. Rules come from a control plane (a file, an etcd key)
 * that anyone with write access can fill; each bound is far above real use, and a table beyond
 * one is refused whole, keeping the previous table.
 */
export const RULE_LIMITS = Object.freeze({
  /** Size of rules text (YAML or JSON), in characters. */
  textLength: 4 * 1024 * 1024,
  /** Services a table may route. */
  services: 10_000,
  /** Routes of one service. */
  routes: 1_000,
  /** Header conditions in one match. */
  headers: 32,
  /** Backends of one split. */
  splitBackends: 64,
  /** Length of a match string (exact, prefix), header name or route name, in characters. */
  string: 4096,
  /** Length of a regular expression, in characters. */
  regex: 1024,
});

/**
 * Compiles a rule's regular expression with RE2 semantics (re2js): matching takes time linear
 * in the input whatever the pattern, so a pattern such as `^(a+)+$` cannot freeze the process
 * on a crafted header. Backreferences and lookaround, which need backtracking, are not
 * supported and are refused when the rules are validated.
 *
 * @throws the engine's syntax error for an unsupported or invalid pattern.
 */
export function compileRegex(source: string): RE2JS {
  return RE2JS.compile(source);
}

/** A compiled rule regex. */
export type RuleRegex = RE2JS;
