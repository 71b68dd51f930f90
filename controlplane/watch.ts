/**
 * Watching a mesh file for edits. Editors save by rewriting in place or by writing a temporary
 * file and renaming it over the original, which replaces the inode a plain `fs.watch(file)`
 * follows; so the directory is watched and events are filtered by name, then debounced because a
 * save often fires several events.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Calls `onChange` (debounced by `delayMs`) whenever `file` is written or replaced; returns a stop function. */
export function watchFile(file: string, onChange: () => void, delayMs = 100): () => void {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, delayMs);
  });
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
  };
}
