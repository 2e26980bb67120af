#!/usr/bin/env python3
"""A minimal SMTP server that accepts every email and keeps nothing but a count.

For ``bench_servers.py``: Odoo's mail queue delivers the letters' emails to it,
so that their PDFs are really rendered and sent without reaching anyone. Each
email received appends one line to ``--out``: the time, the size, the ``To``
and the ``Subject`` headers, so that duplicates can be counted afterwards.

Usage::

    python3 bench/smtp_sink.py --port 2525 --out /tmp/smtp_sink.txt &
"""

import argparse
import asyncio
import time
from email.parser import BytesHeaderParser


class Session:
    def __init__(self, out):
        self.out = out

    async def handle(self, reader, writer):
        writer.write(b"220 sink ESMTP\r\n")
        data = None
        while line := await reader.readline():
            if data is not None:
                if line in (b".\r\n", b".\n"):
                    self.record(b"".join(data))
                    data = None
                    writer.write(b"250 OK\r\n")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                data = []
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()

    def record(self, message):
        headers = BytesHeaderParser().parsebytes(message)
        to, subject = (
            " ".join(str(headers.get(name, "")).split()) for name in ("To", "Subject")
        )
        with open(self.out, "a", encoding="utf-8") as out:
            out.write(f"{time.time():.3f}\t{len(message)}\t{to}\t{subject}\n")


async def serve(port, out):
    server = await asyncio.start_server(Session(out).handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--out", default="smtp_sink.txt")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.out))


if __name__ == "__main__":
    main()
