/**
 * The part of undici the client uses: its environment proxy agent (and,
 * through it, Agent, ProxyAgent, Pool and the HTTP/1.1 client), loaded module
 * by module rather than through undici's index, which would load fetch,
 * WebSocket, the caches and the mocks at every start.
 *
 * undici's index adds its API methods to Dispatcher.prototype; ProxyAgent
 * opens its CONNECT tunnels with one of them (`connect`), so that one is
 * added here, the same function undici's index would add.
 */
import { setFlagsFromString } from 'node:v8';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import connect from 'undici/lib/api/api-connect.js';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent.js';

const proto = Dispatcher.prototype as { connect?: unknown };
if (typeof proto.connect !== 'function') proto.connect = connect;

/**
 * undici parses HTTP/1.1 with llhttp compiled to WebAssembly. V8 runs it
 * first as baseline code (Liftoff) and, once the parser's main function is
 * hot (after a few dozen responses), recompiles that one large function with
 * its optimising compiler on a background thread: about 0.2 s of CPU in
 * every run, one tag or five thousand. Liftoff parses a response in about
 * 2 µs, so even 5,000 responses cost a fraction of the recompile
 * (docs/benchmarks.md, "fourth pass"). V8's tier-up filter lets only the
 * function with the given index tier up; no module has a function at index
 * 2^31 − 1 (V8 allows 10^6), so none does. It changes which compiler runs,
 * not what the code does; the only WebAssembly in the process is llhttp.
 * Set before undici compiles llhttp (at its first connection), and only on
 * the V8 majors Node 22 and 24 ship, which have the flag
 * (test/unit/undici.test.ts): a V8 without it would print an error line.
 */
export const WASM_TIER_UP_FLAG = '--wasm-tier-up-filter=2147483647';
if (/^1[23]\./.test(process.versions.v8)) setFlagsFromString(WASM_TIER_UP_FLAG);

export { EnvHttpProxyAgent };
