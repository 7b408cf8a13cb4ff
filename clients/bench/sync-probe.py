#!/usr/bin/python3
"""What a durable write costs on this disk: K pages written then one
fdatasync, against one small append and fdatasync (what Redis's
appendfsync always does).

A commit's latency follows how many pages it writes and how scattered they
are, so this prints the p50 of each shape in microseconds. The file is
written in full first, so no measured sync grows it.

usage: sync-probe.py [--dir DIR] [--mb N] [--rounds N]
"""
import argparse
import os
import random
import sys
import tempfile
import time

PAGE = 4096


def p50(samples):
    samples.sort()
    return samples[len(samples) // 2] * 1e6


def timed(rounds, fn):
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return p50(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the probe file goes (default: %(default)s)")
    ap.add_argument("--mb", type=int, default=150, help="probe file size in MiB (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=200, help="samples per shape (default: %(default)s)")
    a = ap.parse_args()
    pages = a.mb * 256
    fd, path = tempfile.mkstemp(prefix="sync-probe.", dir=a.dir)
    try:
        block = b"x" * (1 << 20)
        for i in range(a.mb):
            os.pwrite(fd, block, i << 20)
        os.fsync(fd)
        page = b"y" * PAGE
        print("shape                          p50 us")
        for k in (1, 5, 20):

            def scattered(k=k):
                for _ in range(k):
                    os.pwrite(fd, page, random.randrange(pages) * PAGE)
                os.fdatasync(fd)

            def contiguous(k=k):
                os.pwrite(fd, page * k, random.randrange(pages - k) * PAGE)
                os.fdatasync(fd)

            print("%2d pages scattered + fdatasync  %7.0f" % (k, timed(a.rounds, scattered)))
            print("%2d pages contiguous + fdatasync %7.0f" % (k, timed(a.rounds, contiguous)))
        afd = os.open(path + ".log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:

            def append():
                os.write(afd, b"z" * 300)
                os.fdatasync(afd)

            print("300-byte append + fdatasync     %7.0f" % timed(a.rounds, append))
        finally:
            os.close(afd)
            os.unlink(path + ".log")
    finally:
        os.close(fd)
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
