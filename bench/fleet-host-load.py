"""One fleet host's sockets for bench/fleet.sh: a light load generator (one thread, ~10 MB) run inside each host's
network and PID namespace, beside its agent. The C# generator (bench/PortDashboard.LoadGenerator) is two .NET
processes with their thread pools: fifty of them on the 2-core machine kept 120+ threads runnable and starved the
agents being measured.

  python3 bench/fleet-host-load.py --connections 438 --churn 2 --duration 3000

Opens --connections loopback TCP connections (2 sockets each) to 8 listeners on 127.0.0.1-4, and every 100 ms closes
and reopens a tenth of --churn of them (client end first: it leaves a TIME_WAIT, as a real client's does). Prints
"ready N" once they are open; stops by itself after --duration seconds.
"""
import argparse
import random
import selectors
import socket
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=438)
    parser.add_argument("--churn", type=int, default=2)
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--listeners", type=int, default=8)
    parser.add_argument("--base-port", type=int, default=20000)
    args = parser.parse_args()
    if not 0 <= args.connections <= 20000 or not 0 <= args.churn <= 1000 or not 1 <= args.duration <= 7200:
        sys.exit("--connections must be in [0, 20000], --churn in [0, 1000], --duration in [1, 7200] s: a load stops by itself")

    selector = selectors.DefaultSelector()
    listeners = []
    for i in range(args.listeners):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((f"127.0.0.{1 + i % 4}", args.base_port + i))
        listener.listen(4096)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, "listener")
        listeners.append(listener)

    def accept_all(timeout):
        for key, _ in selector.select(timeout):
            if key.data == "listener":
                while True:
                    try:
                        accepted, _ = key.fileobj.accept()
                    except BlockingIOError:
                        break
                    accepted.setblocking(False)
                    selector.register(accepted, selectors.EVENT_READ, "accepted")
            else:  # the peer closed: close this end too (no CLOSE_WAIT left behind)
                try:
                    data = key.fileobj.recv(64)
                except OSError:
                    data = b""
                if not data:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()

    def connect():
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(random.choice(listeners).getsockname())
        return client

    clients = []
    for i in range(args.connections):
        clients.append(connect())
        if i % 200 == 199:
            accept_all(0)
    deadline = time.monotonic() + 5
    while len(selector.get_map()) < args.listeners + args.connections and time.monotonic() < deadline:
        accept_all(0.05)
    print(f"ready {len(clients)}", flush=True)

    stop = time.monotonic() + args.duration
    carry = 0.0
    next_tick = time.monotonic()
    while time.monotonic() < stop:
        if time.monotonic() >= next_tick:
            next_tick += 0.1
            carry += args.churn / 10
            while carry >= 1 and clients:
                carry -= 1
                victim = random.randrange(len(clients))
                clients[victim].close()
                clients[victim] = connect()
        accept_all(max(0.0, next_tick - time.monotonic()))


if __name__ == "__main__":
    main()
