// Build step: compile Envoy's v3 protos (vendored in @grpc/grpc-js-xds) into one descriptor set,
// gen/envoy.binpb, that proxy/config/load.ts reads to parse configs strictly, as Envoy does.
// Generated at build time (npm ci -> prepare, npm run build), never committed (gen/ is ignored).
//
// Why every v3 file and not only those reachable from the bootstrap: a config naming a real Envoy
// extension we do not implement (tls_inspector, ext_authz...) must be told "supported by Envoy,
// not by the bundled proxy" with the field's path, which needs that extension's descriptor; a
// type URL missing from the set can only be reported as unknown. Measured here: ~2 s, ~1.6 MB.
//
// Two fixes to the vendored tree, made in a temp workspace (node_modules is never touched):
// - validate.proto lacks StringRules.ignore_empty, which 17 Envoy fields use: add it (field 26,
//   as upstream protoc-gen-validate has it);
// - a few files import protos that are not vendored (opencensus, opentelemetry collector): they
//   are dropped, together with every file that imports them (the build says which).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deps = join(root, 'node_modules/@grpc/grpc-js-xds/deps');
const buf = join(root, 'node_modules/@bufbuild/buf/bin/buf');
const out = join(root, 'gen/envoy.binpb');
// buf writes a temp file that is renamed into place, so a test run reading gen/envoy.binpb while a
// build runs never sees half a file.
const tmpOut = `${out}.${process.pid}.tmp`;
const started = Date.now();
const TYPED_STRUCTS = ['xds/type/v3/typed_struct.proto', 'udpa/type/v1/typed_struct.proto'];

const work = mkdtempSync(join(tmpdir(), 'crossmesh-protos-'));
try {
  // Only validate.proto is patched: the other trees are symlinked rather than copied (~7 MB).
  mkdirSync(join(work, 'deps'));
  for (const tree of ['envoy-api', 'xds', 'googleapis'])
    symlinkSync(join(deps, tree), join(work, 'deps', tree));
  cpSync(join(deps, 'protoc-gen-validate'), join(work, 'deps/protoc-gen-validate'), { recursive: true });
  const validate = join(work, 'deps/protoc-gen-validate/validate/validate.proto');
  const text = readFileSync(validate, 'utf8');
  if (!text.includes('ignore_empty')) {
    const anchor = /(\n\s*optional bool strict = 25 \[default = true\];)/;
    if (!anchor.test(text))
      throw new Error(`${validate}: StringRules.strict not found; cannot add ignore_empty`);
    writeFileSync(validate, text.replace(anchor, '$1\n    optional bool ignore_empty = 26;'));
  }
  writeFileSync(
    join(work, 'buf.yaml'),
    [
      'version: v2',
      'modules:',
      '  - path: deps/envoy-api',
      '  - path: deps/xds',
      '  - path: deps/googleapis',
      '  - path: deps/protoc-gen-validate',
      '',
    ].join('\n'),
  );

  const envoyRoot = join(work, 'deps/envoy-api');
  const candidates = walk(join(envoyRoot, 'envoy'))
    .map((f) => relative(envoyRoot, f))
    .filter((f) => f.includes('/v3/') && f.endsWith('.proto'))
    .sort();
  const importers = new Map(); // file -> files (candidates) that import it
  for (const f of candidates) {
    for (const m of readFileSync(join(envoyRoot, f), 'utf8').matchAll(/^import (?:public )?"([^"]+)";/gm)) {
      const list = importers.get(m[1]) ?? [];
      list.push(f);
      importers.set(m[1], list);
    }
  }

  const excluded = new Set();
  for (let attempt = 0; ; attempt++) {
    const args = ['build', '--exclude-source-info', '-o', tmpOut];
    for (const f of candidates) if (!excluded.has(f)) args.push('--path', `deps/envoy-api/${f}`);
    // TypedStruct (both spellings): Envoy accepts it in place of any typed config.
    for (const f of TYPED_STRUCTS) args.push('--path', `deps/xds/${f}`);
    mkdirSync(join(root, 'gen'), { recursive: true });
    try {
      execFileSync(buf, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
      break;
    } catch (err) {
      const stderr = String(err.stderr ?? err);
      const broken = new Set(
        [...stderr.matchAll(/^deps\/envoy-api\/(\S+?\.proto):\d+:\d+:/gm)].map((m) => m[1]),
      );
      if (broken.size === 0 || attempt > 20) throw new Error(`buf build failed:\n${stderr}`);
      // Drop each broken file and, transitively, every candidate that imports it.
      const queue = [...broken];
      while (queue.length > 0) {
        const f = queue.pop();
        if (excluded.has(f)) continue;
        excluded.add(f);
        queue.push(...(importers.get(f) ?? []));
      }
    }
  }
  renameSync(tmpOut, out);
  const size = statSync(out).size;
  process.stdout.write(
    `envoy protos: ${candidates.length - excluded.size} files -> gen/envoy.binpb (${(size / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms` +
      (excluded.size > 0 ? `; skipped (imports not vendored): ${[...excluded].sort().join(', ')}` : '') +
      '\n',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(tmpOut, { force: true });
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}
