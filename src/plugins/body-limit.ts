import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

function tooLarge(maxBytes: number): GraphQLError {
  return new GraphQLError(`The request body is larger than ${maxBytes} bytes.`, {
    extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413 } },
  });
}

/**
 * Refuses request bodies over `maxBytes` with HTTP 413 before they are read in full: at once
 * when `Content-Length` says so, otherwise (chunked bodies) as soon as the bytes read so far
 * pass the limit.
 */
export function bodyLimit(maxBytes: number): Plugin {
  return {
    onRequest: ({ request, setRequest, fetchAPI, endResponse }) => {
      if (!request.body) return;
      const declared = Number(request.headers.get('content-length') ?? Number.NaN);
      if (declared > maxBytes) {
        const error = tooLarge(maxBytes);
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
            status: 413,
            headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close' },
          }),
        );
        return;
      }
      if (!Number.isNaN(declared)) return;
      let seen = 0;
      const counted = request.body.pipeThrough(
        new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            seen += chunk.byteLength;
            if (seen > maxBytes) controller.error(tooLarge(maxBytes));
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
