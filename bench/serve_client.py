"""`kantu serve` for the bench scripts (conversation.py, server_streams.py): start one on a
free port and wait until it is ready, stop it, and one greedy streaming chat request with
the arrival time of every piece of text. Standard library only."""
import collections
import http.client
import json
import subprocess
import sys
import threading
import time

# ttft: seconds from sending to the first text; stamps: time.monotonic() of each content
# event; usage and timings: from the event that carried usage (None without one).
Streamed = collections.namedtuple("Streamed", "ttft text stamps usage timings")


def start_server(kantu, model, threads, extra=()):
    """Starts `kantu serve -m MODEL --port 0 --threads N EXTRA...`; (process, port) once ready."""
    cmd = [kantu, "serve", "-m", model, "--port", "0", "--threads", str(threads)] + list(extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    port = None
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("event") == "listening":
            port = event["port"]
        if event.get("event") == "ready":
            break
    else:
        sys.exit("kantu serve exited before it was ready: " + " ".join(cmd))
    # Keep draining stdout so the server never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, port


def stop_server(proc, timeout=120):
    """SIGTERM: the server finishes the requests in flight, then exits."""
    proc.terminate()
    proc.wait(timeout=timeout)


def stream_chat(port, messages, max_tokens, stamps=None, timeout=900):
    """One greedy streaming chat completion (usage included) as a Streamed. Content event
    times go to `stamps` as they arrive (a list other threads may watch), else to a new one.
    An error status or error event raises RuntimeError."""
    body = json.dumps({"messages": messages, "max_tokens": max_tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True}})
    stamps = [] if stamps is None else stamps
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"status {resp.status}: {resp.read()[:300]!r}")
    ttft, text, usage, timings = None, "", None, None
    for raw in resp:
        line = raw.decode("utf-8").strip()
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            break
        event = json.loads(line[6:])
        if "error" in event:
            raise RuntimeError(event["error"])
        if event.get("usage"):
            usage = event["usage"]
            timings = event.get("timings")
        for choice in event.get("choices") or []:
            piece = choice.get("delta", {}).get("content")
            if piece:
                now = time.monotonic()
                if ttft is None:
                    ttft = now - t0
                text += piece
                stamps.append(now)
    conn.close()
    return Streamed(ttft, text, stamps, usage, timings)
