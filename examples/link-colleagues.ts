/**
 * An automation script: links every contact whose email is at one domain as colleagues of a
 * given contact, in batches of up to 100, all or nothing per batch. Safe to re-run: links that
 * exist already come back with `createdCount` unchanged, never as errors.
 *
 *   RELATE_URL=http://localhost:4000/graphql RELATE_API_KEY=rel_… \
 *     npx tsx examples/link-colleagues.ts <contact id> <email domain> [label key]
 */
import { GraphQLClient } from 'graphql-request';
import { BatchLinkDocument, FindContactsDocument, type LinkRecordsInput } from './generated/graphql.js';

const [contactId, domain, labelKey = 'colleague'] = process.argv.slice(2);
if (!contactId || !domain) {
  process.stderr.write('usage: link-colleagues.ts <contact id> <email domain> [label key]\n');
  process.exit(2);
}

const client = new GraphQLClient(process.env.RELATE_URL ?? 'http://localhost:4000/graphql', {
  headers: { authorization: `Bearer ${process.env.RELATE_API_KEY ?? ''}` },
});

const { records } = await client.request(FindContactsDocument, { search: `@${domain}` });
const links: LinkRecordsInput[] = records.edges
  .filter(({ node }) => node.id !== contactId)
  .map(({ node }) => ({ firstRecordId: contactId, secondRecordId: node.id, labelKeys: [labelKey] }));

let created = 0;
for (let start = 0; start < links.length; start += 100) {
  const { batchLinkRecords: result } = await client.request(BatchLinkDocument, { links: links.slice(start, start + 100) });
  if (result.__typename !== 'BatchLinkRecordsSuccess') {
    // Nothing of this batch was stored; the error names the failing item.
    const index = 'index' in result && result.index != null ? start + result.index : '?';
    process.stderr.write(`batch failed at item ${index}: ${result.code} ${result.message}\n`);
    process.exit(1);
  }
  created += result.createdCount;
}
process.stdout.write(`${links.length} contacts at ${domain}: ${created} new links, ${links.length - created} already linked\n`);
