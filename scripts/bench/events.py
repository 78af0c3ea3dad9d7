#!/usr/bin/env python3
"""Live-events benchmark client (scripts/bench/events.sh runs it): N users each hold one GET /v1/events stream while
a producer causes RATE events per second (admin credit grants: one `balance` event to a random streaming user each).
Reports the server's RSS growth and the delivery latency of each event.

Standard library only (asyncio streams, HTTP/1.1 by hand), so it runs on a bare Python 3.

Latency is measured from the moment the producer *sent* the request whose transaction wrote the event to the moment
the event's bytes arrived on its stream: commit happens in between, so this is an upper bound of commit -> client
(it includes the request's own handling before the commit)."""
import argparse
import asyncio
import json
import random
import statistics
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def request(host, port, method, path, body=None, token=None):
    """One request on its own connection (Connection: close); returns (status, parsed JSON or None)."""
    reader, writer = await asyncio.open_connection(host, port)
    payload = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {len(payload)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    writer.write(head.encode() + b"\r\n" + payload)
    await writer.drain()
    data = await reader.read()
    writer.close()
    head_end = data.index(b"\r\n\r\n")
    status = int(data[:head_end].split(b" ")[1])
    raw = data[head_end + 4:]
    if b"transfer-encoding: chunked" in data[:head_end].lower():
        raw = dechunk(raw)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def dechunk(raw):
    out = b""
    while raw:
        line_end = raw.index(b"\r\n")
        size = int(raw[:line_end].split(b";")[0], 16)
        if size == 0:
            break
        out += raw[line_end + 2:line_end + 2 + size]
        raw = raw[line_end + 2 + size + 2:]
    return out


class Stream:
    """One user's event stream: parses chunked SSE and records each balance event's arrival time."""

    def __init__(self, user_id, token, arrivals):
        self.user_id = user_id
        self.token = token
        self.arrivals = arrivals
        self.opened = asyncio.Event()
        self.events = 0

    async def run(self, host, port):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET /v1/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nAuthorization: Bearer {self.token}\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"stream refused: {head!r}")
        text = ""
        while True:
            size_line = await reader.readline()
            if not size_line:
                return
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            chunk = await reader.readexactly(size + 2)
            now = time.monotonic()
            text += chunk[:-2].decode()
            while "\n\n" in text:
                block, text = text.split("\n\n", 1)
                if block.startswith("retry:"):
                    self.opened.set()
                    continue
                event = data = None
                for line in block.split("\n"):
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                if event == "balance" and data:
                    self.events += 1
                    self.arrivals[(self.user_id, json.loads(data)["balance"])] = now


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server's pid, for its RSS")
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    host, port = args.host, args.port

    # Users, registered a few at a time.
    users = []
    semaphore = asyncio.Semaphore(16)

    async def register(index):
        async with semaphore:
            name = f"ev{index}_{random.randrange(1 << 30):x}"
            status, body = await request(host, port, "POST", "/v1/auth/register",
                                         {"email": f"{name}@example.com", "password": "bench-password", "username": name[:30]})
            if status != 201:
                raise RuntimeError(f"register: {status} {body}")
            users.append((body["user"]["id"], body["access_token"]))

    await asyncio.gather(*(register(i) for i in range(args.streams)))
    await asyncio.sleep(1)
    rss_before = rss_kib(args.pid)

    arrivals = {}
    streams = [Stream(user_id, token, arrivals) for user_id, token in users]
    tasks = []
    opened_at = time.monotonic()
    for index, stream in enumerate(streams):
        tasks.append(asyncio.create_task(stream.run(host, port)))
        if index % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in streams)), timeout=120)
    open_seconds = time.monotonic() - opened_at
    await asyncio.sleep(1)
    rss_open = rss_kib(args.pid)

    # The producer: RATE grants per second, each to a random streaming user, on a schedule (no coordinated omission).
    sent = {}
    balances = {user_id: 0 for user_id, _ in users}
    failures = 0
    in_flight = set()

    async def grant(user_id, credits, expected):
        nonlocal failures
        sent[(user_id, expected)] = time.monotonic()
        status, _ = await request(host, port, "POST", "/v1/admin/credits/grants",
                                  {"user_id": user_id, "credits": credits, "reason": "events bench"}, token=args.admin_token)
        if status != 201:
            failures += 1
            sent.pop((user_id, expected), None)

    start = time.monotonic()
    count = int(args.rate * args.duration)
    for index in range(count):
        due = start + index / args.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        user_id = random.choice(users)[0]
        balances[user_id] += 1
        task = asyncio.create_task(grant(user_id, 1, balances[user_id]))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    produced_seconds = time.monotonic() - start
    if in_flight:
        await asyncio.wait(in_flight)
    await asyncio.sleep(2)
    rss_after = rss_kib(args.pid)

    latencies = sorted((arrivals[key] - at) * 1000 for key, at in sent.items() if key in arrivals)
    lost = len([key for key in sent if key not in arrivals])
    for task in tasks:
        task.cancel()
    dead = sum(1 for task in tasks if task.done() and not task.cancelled() and task.exception() is not None)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")

    result = {
        "streams": len(streams), "streams_open_seconds": round(open_seconds, 2),
        "events_sent": len(sent), "events_delivered": len(latencies), "events_lost": lost, "grant_failures": failures,
        "streams_failed": dead,
        "rate_achieved_per_s": round(len(sent) / produced_seconds, 1),
        "latency_ms_p50": round(pct(0.50), 1), "latency_ms_p99": round(pct(0.99), 1),
        "latency_ms_max": round(latencies[-1], 1) if latencies else None,
        "latency_ms_mean": round(statistics.mean(latencies), 1) if latencies else None,
        "rss_mib_before_streams": round(rss_before / 1024, 1), "rss_mib_streams_open": round(rss_open / 1024, 1),
        "rss_mib_after_load": round(rss_after / 1024, 1),
        "rss_growth_mib": round((max(rss_open, rss_after) - rss_before) / 1024, 1),
    }
    print(json.dumps(result, indent=2))
    ok = lost == 0 and failures == 0 and result["rss_growth_mib"] <= 100 and result["latency_ms_p99"] <= 100
    print("targets (RSS growth <= 100 MiB, p99 <= 100 ms, nothing lost):", "met" if ok else "NOT met", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
