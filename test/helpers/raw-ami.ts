/** A raw AMI client over TCP for byte-level checks of the simulator against the recorded wire. */
import net from 'node:net';
import type { TestContext } from 'node:test';

/** A raw, logged-in AMI client that keeps every byte it reads. */
export async function rawSession(t: TestContext, port: number): Promise<{ bytes: () => Buffer; waitFor: (pred: (b: Buffer) => boolean) => Promise<void>; mark: () => number; send: (raw: string) => void }> {
  const socket = net.createConnection(port, '127.0.0.1');
  t.after(() => { socket.destroy(); });
  const chunks: Buffer[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (d: Buffer) => { chunks.push(d); for (const w of waiters.splice(0)) w(); });
  const bytes = () => Buffer.concat(chunks);
  const waitFor = async (pred: (b: Buffer) => boolean) => {
    const deadline = Date.now() + 3000;
    while (!pred(bytes())) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(bytes().toString('utf8').slice(-400))}`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
    }
  };
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write('Action: Login\r\nActionID: l\r\nUsername: simcast\r\nSecret: simcast\r\n\r\n');
  await waitFor((b) => b.includes('Event: FullyBooted') && b.subarray(b.indexOf('Event: FullyBooted')).includes('\r\n\r\n'));
  const offset = bytes().length;
  return { bytes: () => bytes().subarray(offset), waitFor: (pred) => waitFor((b) => pred(b.subarray(offset))), mark: () => bytes().length - offset, send: (raw) => void socket.write(raw) };
}
