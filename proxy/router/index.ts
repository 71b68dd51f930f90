/**
 * The router: compiles an Envoy RouteConfiguration into a {@link RouteTable} the engine calls per
 * request. Contract with the engine (proxy/server, proxy/http):
 *
 * - `compileRouteConfiguration(rc, { path, stripPort })` → `RouteTable`; throws MeshError on bad config.
 * - `table.route(req)` → `RouteResult`: `cluster` (weighted clusters already picked), `direct`
 *   (fresh `headers` per call: add your own, then `route.applyResponseHeaders`), `redirect`
 *   (send `location` with `status`), or `none` (answer 404 with response flag NR).
 * - On the matched `route` (a {@link CompiledRoute}): `applyRequestHeaders(headers, ctx)` before
 *   forwarding, `applyResponseHeaders(headers, ctx)` before replying, `rewritePath(path)` (set
 *   `x-envoy-original-path` when `hasPathRewrite` and the path changed), `hostRewrite` /
 *   `autoHostRewrite` / `hostRewriteHeader`, `timeoutMs` (0 = none), `idleTimeoutMs`,
 *   `retryPolicy`, `hashKey(req, out)` for RING_HASH/MAGLEV (`out.setCookie` → add `set-cookie`
 *   to the response), `upgradeEnabled('websocket')`, `clusterNotFoundStatus`.
 */
export type { HeaderPredicate, MatchInput, StringPredicate } from './matchers.js';
export { compileHeaderMatcher, compileQueryMatcher, compileStringMatcher, queryParam } from './matchers.js';
export type { CompileRe2Options } from './re2.js';
export { compileRe2, translateRe2 } from './re2.js';
export type { AttemptFailure, RetryPolicyValues } from './retry.js';
export { compileRetryPolicy, RETRY_ON_CONDITIONS, retryBackOffMs, shouldRetry } from './retry.js';
export type { CompileRouteOptions, HashKeyOutput, RouteRequest, RouteResult } from './route-table.js';
export { CompiledRoute, compileRouteConfiguration, RouteTable, stripHostPort } from './route-table.js';
