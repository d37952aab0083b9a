import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ValidationError } from '../services/errors.js';

/**
 * Where webhooks may be posted. A webhook URL is chosen by a workspace admin, but the request
 * leaves from inside the server's network: without a check, an endpoint could make the server
 * call its own loopback services, the private network or the cloud metadata service (SSRF).
 *
 * So a target must be `https`, carry no credentials, and its host must resolve only to public
 * unicast addresses (ipaddr.js's `unicast` range, IPv4-mapped IPv6 addresses taken as IPv4).
 * The URL is checked when an endpoint is created or changed, and the address is checked again
 * at every delivery on the address actually connected to — the connection's own DNS lookup
 * refuses non-public answers — so a name that resolves elsewhere later (DNS rebinding) gains
 * nothing. RELATE_WEBHOOK_ALLOW_PRIVATE=true admits loopback and private targets and plain
 * `http` (development, tests, a receiver inside the same network); the metadata addresses,
 * unspecified, broadcast and multicast addresses are refused even then.
 */

/** Cloud metadata services, refused whatever the settings. */
const METADATA = new Set(['169.254.169.254', 'fd00:ec2::254']);
/** Ranges (ipaddr.js names) a target may be in with RELATE_WEBHOOK_ALLOW_PRIVATE=true. */
const PRIVATE_RANGES = new Set(['loopback', 'private', 'uniqueLocal', 'linkLocal', 'carrierGradeNat']);
export const MAX_URL_LENGTH = 2000;
/** How long the check at creation waits for DNS. */
const RESOLVE_TIMEOUT = 5_000;

/** Why an address may not be a target, or null when it may. */
export function refusedAddress(address: string, allowPrivate: boolean): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address it maps.
  const parsed = ipaddr.process(address);
  const normalized = parsed.toNormalizedString();
  const range = parsed.range();
  if (METADATA.has(normalized) || METADATA.has(parsed.toString())) return `${address} is a metadata service address`;
  if (range === 'unicast') return null;
  if (allowPrivate && PRIVATE_RANGES.has(range)) return null;
  return `${address} is not a public address (${range})`;
}

/** The host of a URL as a name or a bare IP literal (without IPv6 brackets). */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** The checks a URL gets before any address is known; throws ValidationError(field). */
export function parseTarget(raw: string, allowPrivate: boolean, field = 'url'): URL {
  const text = raw.trim();
  if (!text || text.length > MAX_URL_LENGTH) throw new ValidationError(`${field} must be 1 to ${MAX_URL_LENGTH} characters.`, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`${field} is not a valid URL.`, field);
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw new ValidationError(`${field} must be an https URL.`, field);
  }
  if (url.username || url.password) throw new ValidationError(`${field} must not carry credentials.`, field);
  if (!hostOf(url)) throw new ValidationError(`${field} has no host.`, field);
  return url;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

/**
 * Checks a webhook URL for an endpoint: parseTarget's rules, and every address its host resolves
 * to now must be allowed. Returns the URL as it is stored.
 */
export async function checkTarget(raw: string, allowPrivate: boolean, field = 'url'): Promise<string> {
  const url = parseTarget(raw, allowPrivate, field);
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await withTimeout(resolveAll(host), RESOLVE_TIMEOUT, 'timed out')).map((entry) => entry.address);
    } catch {
      throw new ValidationError(`${field}: the host ${host} could not be resolved.`, field);
    }
  }
  if (addresses.length === 0) throw new ValidationError(`${field}: the host ${host} could not be resolved.`, field);
  for (const address of addresses) {
    const reason = refusedAddress(address, allowPrivate);
    if (reason) throw new ValidationError(`${field} must point to a public address: ${reason}.`, field);
  }
  return url.toString();
}

/** An address the delivery refused to connect to. */
export class RefusedTargetError extends Error {
  readonly code = 'ERR_WEBHOOK_TARGET_REFUSED';
}

/**
 * A `lookup` for http(s).request that resolves as usual and fails the connection when any
 * address is not allowed: the check is made on the very addresses the socket will use.
 */
export function safeLookup(allowPrivate: boolean): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: (...args: any[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const refused = addresses.map((entry) => refusedAddress(entry.address, allowPrivate)).find(Boolean);
      if (refused || addresses.length === 0) {
        return callback(new RefusedTargetError(`refused: ${refused ?? `${hostname} resolved to nothing`}`));
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** The refusal of a URL's literal IP host (which no lookup sees), or null. */
export function refusedLiteralHost(url: URL, allowPrivate: boolean): string | null {
  const host = hostOf(url);
  return isIP(host) ? refusedAddress(host, allowPrivate) : null;
}
