import { parseAllDocuments } from 'yaml';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { compileRegex, RULE_LIMITS } from './rule-limits.js';
import type { RouteTable, ServiceRoutes } from './rules.js';
import { isTrafficSplitInput, trafficSplitsToTable } from './smi.js';

const NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const METHOD = /^[A-Z]+$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reports keys outside `allowed`, which are almost always typos. */
function checkKeys(value: Obj, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      problems.push(`${where}: unknown field '${key}' (expected ${allowed.map((a) => `'${a}'`).join(', ')})`);
    }
  }
}

/** Checks a service name used as a key or a backend. */
function checkServiceName(value: unknown, where: string, problems: string[]): value is string {
  if (typeof value === 'string' && NAME.test(value)) return true;
  problems.push(
    `${where}: ${JSON.stringify(value)} is not a service name (lower-case letters, digits, '-' and '.')`,
  );
  return false;
}

function checkPercent(value: unknown, where: string, problems: string[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    problems.push(`${where}: percent must be a number from 0 to 100, got ${JSON.stringify(value)}`);
  }
}

function checkMs(value: unknown, where: string, problems: string[], min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 3_600_000) {
    problems.push(
      `${where} must be an integer number of ms from ${min} to 3600000, got ${JSON.stringify(value)}`,
    );
  }
}

function checkRegex(source: unknown, where: string, problems: string[]): void {
  if (typeof source !== 'string') {
    problems.push(`${where}: regex must be a string`);
    return;
  }
  if (source.length > RULE_LIMITS.regex) {
    problems.push(
      `${where}: regex is ${source.length} characters long, more than the ${RULE_LIMITS.regex} allowed`,
    );
    return;
  }
  try {
    compileRegex(source);
  } catch (err) {
    problems.push(
      `${where}: invalid regex ${JSON.stringify(source)} (${(err as Error).message}); ` +
        'rules use RE2 syntax, matched in linear time: no backreferences or lookaround',
    );
  }
}

/** A string field no longer than the limit. */
function checkLength(value: unknown, where: string, problems: string[]): void {
  if (typeof value === 'string' && value.length > RULE_LIMITS.string) {
    problems.push(`${where}: ${value.length} characters, more than the ${RULE_LIMITS.string} allowed`);
  }
}

/** A list or object no larger than the limit; returns false (and says so) when it is larger. */
function checkCount(count: number, limit: number, where: string, what: string, problems: string[]): boolean {
  if (count <= limit) return true;
  problems.push(`${where}: ${count} ${what}, more than the ${limit} allowed`);
  return false;
}

function checkStringMatch(value: unknown, where: string, problems: string[], header: boolean): void {
  if (typeof value === 'string') {
    checkLength(value, where, problems);
    return;
  }
  if (!isObject(value)) {
    problems.push(`${where}: expected a string or an object with one of exact, prefix, regex`);
    return;
  }
  const kinds = header ? ['exact', 'prefix', 'regex', 'present'] : ['exact', 'prefix', 'regex'];
  checkKeys(value, kinds, where, problems);
  const given = kinds.filter((k) => value[k] !== undefined);
  if (given.length !== 1) {
    problems.push(`${where}: give exactly one of ${kinds.join(', ')}`);
    return;
  }
  const kind = given[0]!;
  if (kind === 'regex') checkRegex(value.regex, where, problems);
  else if (kind === 'present') {
    if (typeof value.present !== 'boolean') problems.push(`${where}: present must be true or false`);
  } else if (typeof value[kind] !== 'string') problems.push(`${where}: ${kind} must be a string`);
  else checkLength(value[kind], `${where}.${kind}`, problems);
}

function checkMatch(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: expected an object with method, path and/or headers`);
    return;
  }
  checkKeys(value, ['method', 'path', 'headers'], where, problems);
  if (value.method !== undefined && (typeof value.method !== 'string' || !METHOD.test(value.method))) {
    problems.push(`${where}.method: expected an upper-case HTTP method such as 'GET'`);
  }
  if (value.path !== undefined) checkStringMatch(value.path, `${where}.path`, problems, false);
  if (value.headers !== undefined) {
    if (!isObject(value.headers))
      problems.push(`${where}.headers: expected an object of header name to match`);
    else if (
      checkCount(
        Object.keys(value.headers).length,
        RULE_LIMITS.headers,
        `${where}.headers`,
        'headers',
        problems,
      )
    ) {
      for (const [name, match] of Object.entries(value.headers)) {
        if (name.length > RULE_LIMITS.string || !HEADER_NAME.test(name))
          problems.push(`${where}.headers: '${name}' is not a valid header name`);
        checkStringMatch(match, `${where}.headers.${name}`, problems, true);
      }
    }
  }
}

function checkSplit(value: unknown, where: string, problems: string[]): void {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${where}: expected a non-empty list of { backend, weight }`);
    return;
  }
  if (!checkCount(value.length, RULE_LIMITS.splitBackends, where, 'backends', problems)) return;
  const before = problems.length;
  let total = 0;
  value.forEach((entry, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at}: expected { backend, weight }`);
      return;
    }
    checkKeys(entry, ['backend', 'weight'], at, problems);
    checkServiceName(entry.backend, `${at}.backend`, problems);
    const weight = entry.weight;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      problems.push(`${at}.weight: must be a finite number >= 0, got ${JSON.stringify(weight)}`);
    } else total += weight;
  });
  const names = value.map((entry) => (isObject(entry) ? entry.backend : undefined));
  if (new Set(names).size !== names.length)
    problems.push(`${where}: a backend is listed twice; merge its weights`);
  if (total === 0 && problems.length === before)
    problems.push(`${where}: the weights add up to 0; give some backend weight`);
  // Each weight may be finite and the sum still overflow (1e308 + 1e308): shares would be NaN.
  if (!Number.isFinite(total) && problems.length === before)
    problems.push(
      `${where}: the weights add up to more than a number can hold; use smaller weights, e.g. percentages`,
    );
}

function checkMirror(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: expected { backend, percent, timeoutMs? }`);
    return;
  }
  checkKeys(value, ['backend', 'percent', 'timeoutMs'], where, problems);
  checkServiceName(value.backend, `${where}.backend`, problems);
  checkPercent(value.percent, where, problems);
  if (value.timeoutMs !== undefined) checkMs(value.timeoutMs, `${where}.timeoutMs`, problems, 1);
}

function checkFault(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: expected { delay?: { percent, ms }, abort?: { percent } }`);
    return;
  }
  checkKeys(value, ['delay', 'abort'], where, problems);
  if (value.delay !== undefined) {
    if (!isObject(value.delay)) problems.push(`${where}.delay: expected { percent, ms }`);
    else {
      checkKeys(value.delay, ['percent', 'ms'], `${where}.delay`, problems);
      checkPercent(value.delay.percent, `${where}.delay`, problems);
      checkMs(value.delay.ms, `${where}.delay.ms`, problems, 0);
    }
  }
  if (value.abort !== undefined) {
    if (!isObject(value.abort)) problems.push(`${where}.abort: expected { percent }`);
    else {
      checkKeys(value.abort, ['percent'], `${where}.abort`, problems);
      checkPercent(value.abort.percent, `${where}.abort`, problems);
    }
  }
}

function checkRoute(value: unknown, where: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${where}: expected a route object`);
    return;
  }
  checkKeys(value, ['name', 'match', 'backend', 'split', 'mirror', 'fault'], where, problems);
  if (value.name !== undefined && typeof value.name !== 'string')
    problems.push(`${where}.name: must be a string`);
  checkLength(value.name, `${where}.name`, problems);
  if (value.match !== undefined) checkMatch(value.match, `${where}.match`, problems);
  if ((value.backend === undefined) === (value.split === undefined)) {
    problems.push(`${where}: give either 'backend' or 'split' (not both, not neither)`);
  }
  if (value.backend !== undefined) checkServiceName(value.backend, `${where}.backend`, problems);
  if (value.split !== undefined) checkSplit(value.split, `${where}.split`, problems);
  if (value.mirror !== undefined) checkMirror(value.mirror, `${where}.mirror`, problems);
  if (value.fault !== undefined) checkFault(value.fault, `${where}.fault`, problems);
}

/** Validates one service's routes, adding every problem found to `problems`. */
function checkServiceRoutes(value: unknown, where: string, problems: string[]): value is ServiceRoutes {
  const before = problems.length;
  if (!isObject(value) || !Array.isArray(value.routes)) {
    problems.push(`${where}: expected { routes: [...] }`);
    return false;
  }
  checkKeys(value, ['routes'], where, problems);
  if (!checkCount(value.routes.length, RULE_LIMITS.routes, `${where}.routes`, 'routes', problems))
    return false;
  value.routes.forEach((route, i) => {
    checkRoute(route, `${where}.routes[${i}]`, problems);
  });
  return problems.length === before;
}

function invalidRules(problems: readonly string[], origin: string): TrellisError {
  return new TrellisError(
    ErrorCode.InvalidConfig,
    `Invalid routing rules from ${origin} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((p) => `  - ${p}`).join('\n') +
      '\nThe previous rules stay in force; fix the rules and publish them again.',
    { details: { problems, origin } },
  );
}

/** Deep-freezes a validated table so nobody changes rules behind the validator's back. */
function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) freeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Turns rules text (YAML or JSON, possibly several YAML documents) into plain data. */
function parseText(text: string, problems: string[]): unknown {
  if (text.length > RULE_LIMITS.textLength) {
    problems.push(
      `the rules are ${text.length} characters long, more than the ${RULE_LIMITS.textLength} allowed`,
    );
    return undefined;
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return undefined; // an empty text: no documents at all
  for (const doc of docs) {
    for (const error of doc.errors) problems.push(`syntax: ${error.message.split('\n')[0]}`);
  }
  if (problems.length > 0) return undefined;
  const values: unknown[] = [];
  for (const doc of docs) {
    try {
      // toJS resolves aliases (bounded by the library's alias limit) and can still fail on one
      // that points nowhere.
      const value: unknown = doc.toJS();
      if (value !== null && value !== undefined) values.push(value);
    } catch (err) {
      problems.push(`syntax: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (problems.length > 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

/**
 * Validates routing rules as a whole and returns them as a frozen {@link RouteTable}. Accepts
 * the trellis format (`{ services: { users: { routes: [...] } } }`), one or more SMI
 * `TrafficSplit` resources (a single object, a list, a Kubernetes `List`, or several YAML
 * documents), or either of those as YAML/JSON text. Empty text means "no rules".
 *
 * @param input - the rules, as data or text
 * @param origin - where they came from, for the error message (a file name, an etcd key)
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` listing every problem found.
 */
export function parseRules(input: unknown, origin = 'the caller'): RouteTable {
  const problems: string[] = [];
  let value = typeof input === 'string' ? parseText(input, problems) : input;
  if (problems.length > 0) throw invalidRules(problems, origin);
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return freeze({ services: {} });
  if (isTrafficSplitInput(value)) value = trafficSplitsToTable(value, problems);
  if (problems.length > 0) throw invalidRules(problems, origin);
  if (!isObject(value) || !isObject(value.services)) {
    throw invalidRules(
      [
        "expected { services: { <name>: { routes: [...] } } } or SMI TrafficSplit resources (kind: 'TrafficSplit')",
      ],
      origin,
    );
  }
  checkKeys(value, ['services'], 'rules', problems);
  const count = Object.keys(value.services).length;
  if (!checkCount(count, RULE_LIMITS.services, 'services', 'services', problems))
    throw invalidRules(problems, origin);
  for (const [name, routes] of Object.entries(value.services)) {
    checkServiceName(name, `services: key`, problems);
    checkServiceRoutes(routes, `services.${name}`, problems);
  }
  if (problems.length > 0) throw invalidRules(problems, origin);
  return freeze(structuredClone({ services: value.services }) as unknown as RouteTable);
}

/**
 * Validates one service's routes (the form `routes()` takes in the builder).
 *
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` listing every problem found.
 */
export function parseServiceRoutes(input: unknown, origin = 'routes()'): ServiceRoutes {
  const problems: string[] = [];
  checkServiceRoutes(input, 'routes', problems);
  if (problems.length > 0) throw invalidRules(problems, origin);
  return freeze(structuredClone(input) as ServiceRoutes);
}
