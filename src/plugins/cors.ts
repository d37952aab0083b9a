import type { YogaServerOptions } from 'graphql-yoga';

type CorsOption = NonNullable<YogaServerOptions<object, object>['cors']>;

/**
 * What an allowed browser origin is told. The API authenticates with a bearer key, never a
 * cookie, so credentials are not allowed; the rate-limit headers are exposed so a browser client
 * can honour them. The headers a preflight asks for are allowed (Authorization, Content-Type, a
 * tracing `traceparent`, …): which page may ask is decided by its origin.
 */
const ALLOWED = {
  // whatwg-node reads origin '*' as "echo the request's Origin, with Vary: Origin" (never a
  // literal *); the origin has been checked by then.
  origin: '*',
  methods: ['GET', 'POST'],
  exposedHeaders: ['Retry-After', 'RateLimit', 'RateLimit-Policy'],
  credentials: false,
  maxAge: 600,
};

/**
 * Yoga's `cors` option for RELATE_CORS_ORIGINS: `*` (any origin), a list of exact origins, or
 * none. A refused origin, like every origin when there are none, gets no Access-Control-*
 * header at all (never `Access-Control-Allow-Origin: null`, which sandboxed pages would match).
 */
export function corsOption(origins: readonly string[] | '*'): CorsOption {
  if (origins === '*') return ALLOWED;
  if (origins.length === 0) return false;
  const allowed = new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    return origin !== null && allowed.has(origin) ? ALLOWED : false;
  };
}
