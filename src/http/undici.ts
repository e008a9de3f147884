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
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import connect from 'undici/lib/api/api-connect.js';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent.js';

const proto = Dispatcher.prototype as { connect?: unknown };
if (typeof proto.connect !== 'function') proto.connect = connect;

export { EnvHttpProxyAgent };
