import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ErrorCode, TrellisError } from '../core/errors.js';
import { markRulesLoaded, RulesSource } from './rules-source.js';

/** Several file events arrive for one save; read the file once they settle. */
const SETTLE_MS = 25;

function readInitial(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TrellisError(
      ErrorCode.InvalidConfig,
      `Cannot read routing rules from ${path}: ${(err as Error).message}. Check the path and its permissions.`,
      { cause: err },
    );
  }
}

/**
 * Routing rules from a YAML or JSON file (trellis format or SMI `TrafficSplit`s), re-read
 * whenever the file changes; updates take effect within milliseconds. The file's directory is
 * watched, so editors and tools that replace the file (write a temporary file, then rename)
 * work. A missing file means no rules until it appears; deleting the file later keeps the
 * rules in force (write an empty file to clear them). An invalid version is rejected (see the
 * source's `rejected` event) and the previous rules stay.
 *
 * @param path - the rules file
 * @throws `TrellisError` `TRELLIS_INVALID_CONFIG` when the file exists now and is invalid.
 */
export function fileRules(path: string): RulesSource {
  const file = resolve(path);
  const description = `file ${file}`;
  let last = readInitial(file);
  return new RulesSource(description, last, (source) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const reread = async (): Promise<void> => {
      timer = undefined;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        source.emit(
          'rejected',
          new TrellisError(
            ErrorCode.InvalidConfig,
            `Cannot read routing rules from ${file}: ${(err as Error).message}`,
            {
              cause: err,
            },
          ),
        );
        return;
      }
      if (stopped || text === last) return;
      last = text;
      source.offer(text, description);
    };
    const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name !== null && name !== basename(file)) return;
      if (timer === undefined) timer = setTimeout(reread, SETTLE_MS);
    });
    watcher.on('error', (err) => {
      source.emit(
        'rejected',
        new TrellisError(
          ErrorCode.InvalidConfig,
          `Watching ${file} for rule changes failed: ${err.message}`,
          {
            cause: err,
          },
        ),
      );
    });
    // The first read happened when the source was created.
    markRulesLoaded(source);
    // A change between the first read and the watch starting would otherwise be missed.
    timer = setTimeout(reread, 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
      watcher.close();
    };
  });
}
