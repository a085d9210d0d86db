"""A TCP proxy that adds latency and loss, for links netem cannot fake.

The kernels here have no sch_netem, so the benchmark shapes bandwidth
with tbf and takes latency and loss from this proxy:

* every chunk is delivered ``rtt / 2`` after it was read, in each
  direction, and a new connection waits one round trip before it is
  opened upstream (the TCP handshake);
* each 1448-byte segment is lost with probability ``loss``; a loss holds
  back that segment and everything behind it for one retransmission
  timeout (Linux's 200 ms minimum plus a round trip), as TCP's in-order
  delivery does;
* with probability ``hang``, a connection is silently dropped at a random
  point: no more bytes arrive and nothing closes it, as when a middlebox
  forgets a flow.  Only a client-side timeout gets out of that.

    python benchmarks/lossy_proxy.py LISTEN_HOST LISTEN_PORT \\
        TARGET_HOST TARGET_PORT [--rtt-ms 300] [--loss 0.02] [--hang 0.02]
"""

import argparse
import asyncio
import math
import random

MSS = 1448
CHUNK = 16384
MIN_RTO = 0.2
# A dropped flow is held at most this long, so the proxy never keeps
# sockets forever even if a client has no timeout at all.
HANG_LIMIT = 900.0


class Link:
    def __init__(self, rtt, loss, hang, seed=None):
        self.one_way = rtt / 2
        self.rtt = rtt
        self.rto = MIN_RTO + rtt
        self.loss = loss
        self.hang = hang
        self.random = random.Random(seed)

    def losses(self, nbytes):
        segments = max(1, math.ceil(nbytes / MSS))
        return sum(self.random.random() < self.loss for _ in range(segments))

    async def pump(self, reader, writer, hang_after=None):
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def read():
            while True:
                data = await reader.read(CHUNK)
                queue.put_nowait((loop.time() + self.one_way, data))
                if not data:
                    return

        async def write():
            sent = 0
            while True:
                due, data = await queue.get()
                wait = max(0.0, due - loop.time())
                if data:
                    wait += self.losses(len(data)) * self.rto
                await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                if hang_after is not None and sent + len(data) > hang_after:
                    await asyncio.sleep(HANG_LIMIT)
                    return
                writer.write(data)
                await writer.drain()
                sent += len(data)

        reading = asyncio.ensure_future(read())
        try:
            await write()
        finally:
            reading.cancel()

    async def handle(self, client_reader, client_writer, target):
        upstream_writer = None
        try:
            await asyncio.sleep(self.rtt)
            upstream_reader, upstream_writer = await asyncio.open_connection(
                *target)
            hang_after = None
            if self.random.random() < self.hang:
                hang_after = self.random.randrange(0, 256 * 1024)
            pumps = [
                asyncio.ensure_future(self.pump(client_reader,
                                                upstream_writer)),
                asyncio.ensure_future(self.pump(upstream_reader,
                                                client_writer, hang_after)),
            ]
            done, pending = await asyncio.wait(
                pumps, return_when=asyncio.FIRST_COMPLETED)
            if pumps[1] in pending:
                # The client went away first: nothing left to deliver.
                for p in pending:
                    p.cancel()
            else:
                pumps[0].cancel()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            for w in (client_writer, upstream_writer):
                if w is not None:
                    w.close()


async def serve(args):
    link = Link(args.rtt_ms / 1000.0, args.loss, args.hang, args.seed)
    target = (args.target_host, args.target_port)
    server = await asyncio.start_server(
        lambda r, w: link.handle(r, w, target),
        args.listen_host, args.listen_port)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('listen_host')
    parser.add_argument('listen_port', type=int)
    parser.add_argument('target_host')
    parser.add_argument('target_port', type=int)
    parser.add_argument('--rtt-ms', type=float, default=300.0)
    parser.add_argument('--loss', type=float, default=0.02)
    parser.add_argument('--hang', type=float, default=0.02)
    parser.add_argument('--seed', type=int, default=None)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
