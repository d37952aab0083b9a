import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function tooLarge(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413 } } });
}

const bodyTooLarge = (maxBytes: number) => tooLarge(`The request body is larger than ${maxBytes} bytes.`);
const uploadTooLarge = (maxBytes: number) =>
  tooLarge(`The upload is larger than the ${maxBytes} bytes an upload may be (RELATE_IMPORT_UPLOAD_MAX_BYTES); import larger files with relate import.`);

/** File uploads (the GraphQL multipart request): how large a file may be, and who may send one. */
export interface UploadLimits {
  /** The largest file, in bytes. */
  maxBytes: number;
  /** Whether the request may upload (its API key is valid): others keep the ordinary limit. */
  allowed: (request: Request) => Promise<boolean>;
}

const isMultipart = (request: Request) =>
  request.method === 'POST' && /^multipart\/form-data\b/i.test(request.headers.get('content-type') ?? '');

/**
 * Refuses request bodies over `maxBytes` with HTTP 413 before they are read in full: at once
 * when `Content-Length` says so, otherwise (chunked bodies) as soon as the bytes read so far
 * pass the limit.
 *
 * A multipart request (a file upload) of a valid API key may be as large as the file limit
 * (`uploads.maxBytes`) plus `maxBytes` for its other parts; without a valid key it keeps the
 * ordinary limit, so nothing large is received for nobody. Its text parts (`operations`, `map`)
 * are held to 1 MiB each by the multipart parser (busboy's field limit), and the mutation that
 * takes the file checks its size against the import's maximum.
 */
export function bodyLimit(maxBytes: number, uploads?: UploadLimits): Plugin {
  const refuse = (fetchAPI: { Response: typeof Response }, error: GraphQLError) =>
    new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
      status: 413,
      headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
    });
  return {
    onRequest: async ({ request, setRequest, fetchAPI, endResponse }) => {
      if (!request.body) return;
      const upload = uploads !== undefined && isMultipart(request) && (await uploads.allowed(request));
      const limit = upload ? uploads.maxBytes + maxBytes : maxBytes;
      const refusal = () => (upload ? uploadTooLarge(uploads.maxBytes) : bodyTooLarge(maxBytes));
      const declared = Number(request.headers.get('content-length') ?? Number.NaN);
      if (declared > limit) {
        endResponse(refuse(fetchAPI, refusal()));
        return;
      }
      if (!Number.isNaN(declared)) return;
      let seen = 0;
      const counted = request.body.pipeThrough(
        new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += chunk.byteLength;
            if (seen > limit) controller.error(refusal());
            else controller.enqueue(chunk);
          },
        }),
      );
      setRequest(
        new fetchAPI.Request(request.url, {
          method: request.method,
          headers: request.headers,
          body: counted,
          signal: request.signal,
          duplex: 'half',
        } as RequestInit),
      );
    },
  };
}
