import http from 'node:http';
import { duplexPair, type Duplex } from 'node:stream';
import type { Got } from 'got';
import { readAnswer } from './read-answer.ts';

/**
 * One PUT with a JSON body through got's stream and readAnswer, as a real request goes, over an in-memory connection
 * that answers 204: the first real request then takes a few milliseconds instead of ~20 of compiling got's request
 * path, which is most of the lag from "app ready" to "registered" (npm run bench, readiness lag).
 */
export async function rehearse(got: Got): Promise<void> {
  const connection = (): Duplex => {
    const [ours, theirs] = duplexPair();
    theirs.once('data', () => theirs.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    return ours;
  };
  await readAnswer(
    got.stream('http://rehearsal.invalid/', {
      method: 'PUT',
      json: { rehearsal: true },
      timeout: { request: 1000 },
      // No agent and our own connection: Node's http client then needs no socket and no name lookup.
      request: (url, options, callback) => http.request(url, { ...options, agent: undefined, createConnection: connection }, callback),
    }),
    true,
  );
}
