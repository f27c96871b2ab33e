#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A bad link between two QEMU guests (t-netloss.sh): each guest's `-netdev socket,udp=`
sends its Ethernet frames, one per UDP datagram, to one of the relay's two ports; the
relay passes each frame to the other guest, but drops, duplicates or holds back (to send
after the next frame: reordered) a seeded random share of them.

netrelay.py PORTFILE SEED DROP DUP REORDER
  writes "PORT_A PORT_B" to PORTFILE once bound; a guest's address is learnt from its
  first datagram.  On SIGTERM it writes its counts to stdout and exits."""
import os
import random
import select
import signal
import socket
import sys

HOLD_S = 0.02  # a held frame goes out after this long when no other frame follows


def main():
    portfile, seed = sys.argv[1], int(sys.argv[2])
    drop, dup, reorder = (float(x) for x in sys.argv[3:6])
    rng = random.Random(seed)
    socks = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    peer = [None, None]  # each guest's address, from its first datagram
    held = [None, None]  # a frame held back, per direction (by the receiving side)
    count = {"frames": 0, "dropped": 0, "duplicated": 0, "reordered": 0}

    def stop(*_):
        print(" ".join("%s %d" % kv for kv in count.items()), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    with open(portfile + ".part", "w") as f:
        f.write("%d %d\n" % (socks[0].getsockname()[1], socks[1].getsockname()[1]))
    os.rename(portfile + ".part", portfile)

    def send(to, frame):
        if peer[to]:
            socks[to].sendto(frame, peer[to])

    while True:
        ready, _, _ = select.select(socks, [], [], HOLD_S)
        if not ready:  # quiet: what was held back goes now
            for to in range(2):
                if held[to]:
                    send(to, held[to])
                    held[to] = None
            continue
        for s in ready:
            frm = socks.index(s)
            frame, addr = s.recvfrom(65536)
            peer[frm] = addr
            to = 1 - frm
            count["frames"] += 1
            r = rng.random()
            if r < drop:
                count["dropped"] += 1
                continue
            if r < drop + reorder and not held[to]:
                count["reordered"] += 1
                held[to] = frame
                continue
            send(to, frame)
            if held[to]:
                send(to, held[to])
                held[to] = None
            if drop + reorder <= r < drop + reorder + dup:
                count["duplicated"] += 1
                send(to, frame)


if __name__ == "__main__":
    main()
