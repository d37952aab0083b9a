import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Yoga answers a POST whose Content-Type it cannot parse (text/plain, application/xml, …) with
 * an empty 415. Every refusal carries a GraphQL error with a code, so clients handle it like any
 * other: this fills that body in.
 */
export function unsupportedMediaType(): Plugin {
  return {
    onResponse: ({ response, setResponse, fetchAPI }) => {
      if (response.status !== 415 || response.headers.get('content-type')) return;
      const error = new GraphQLError(
        'Send the operation as JSON (Content-Type: application/json), or as a GET query string.',
        { extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } },
      );
      setResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [error.toJSON()] }), {
          status: 415,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        }),
      );
    },
  };
}
