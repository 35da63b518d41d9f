#!/usr/bin/env python3
"""Holds idle established TCP connections on the loopback interface until it is killed.

    python3 bench/idle-sockets.py [PAIRS]      (default 5000 pairs = 10,000 established sockets)

It listens on 127.0.0.1 (a free port), connects PAIRS clients to itself and accepts them, so the host has 2 x PAIRS
more sockets in ESTABLISHED (the kernel counts both ends of a loopback connection). It prints one line
"READY <sockets> <port>" on stdout once all are up, then sleeps until SIGTERM/SIGINT. Nothing is sent on them.
Used by bench/run-sampler-overhead.sh to show that a sample's cost does not grow with the number of sockets.
"""
import resource
import signal
import socket
import sys


def main() -> int:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * pairs + 64
    if soft < needed:
        limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        if limit < needed:
            print(f"idle-sockets: need {needed} descriptors, hard limit is {hard}: raise ulimit -n", file=sys.stderr)
            return 1

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    port = server.getsockname()[1]

    held = []
    for _ in range(pairs):
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        held.append((client, accepted))

    print(f"READY {2 * len(held)} {port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
