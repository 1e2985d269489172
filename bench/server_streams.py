#!/usr/bin/env python3
"""Aggregate decode throughput of `kantu serve` with 1, 4, 8 ... concurrent streams.

Starts `kantu serve` on a free port, warms it up, then for each stream count N fires N
streaming chat requests at once (greedy, fixed max_tokens) and timestamps every SSE
content event. Prefills of newly admitted requests interleave with decode steps, so
the figure that shows batching is measured over the window where all N streams are
decoding together: from the moment the last stream got its first token to the moment
the first stream ended. Aggregate tok/s = content events of all streams inside that
window / window length (one event per token, except when a token's text is held back
as part of an incomplete character or a possible stop string; `usage` is printed
as a check). With --repeat R each round runs R times and the fastest is kept (the
machine is shared; slower runs measure the neighbours). Standard library only.

    bench/server_streams.py -m /tmp/kantu-2b --threads 2 --streams 1,4,8 --max-tokens 32
"""
import argparse
import os
import threading
import time

import serve_client


def start_server(args, parallel):
    return serve_client.start_server(args.kantu, args.model, args.threads,
                                     ["--parallel", str(parallel), "--max-context", str(args.max_context)])


def stream_request(port, prompt, max_tokens, out):
    """One streaming request; appends (content event timestamps, usage) to out."""
    r = serve_client.stream_chat(port, [{"role": "user", "content": prompt}], max_tokens, timeout=600)
    out.append((r.stamps, r.usage))


def run_round(port, n, max_tokens):
    results, threads = [], []
    start = time.monotonic()
    for i in range(n):
        prompt = f"Stream {i}: write a long story about the number {i}."
        threads.append(threading.Thread(target=stream_request, args=(port, prompt, max_tokens, results)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = time.monotonic()
    if len(results) != n or any(not s for s, _ in results):
        raise RuntimeError("a stream failed or produced no text")
    window_start = max(s[0] for s, _ in results)  # every stream is decoding from here
    window_end = min(s[-1] for s, _ in results)   # until the first one ends
    in_window = sum(sum(1 for t in s if window_start < t <= window_end) for s, _ in results)
    window = window_end - window_start
    tokens = sum(u["completion_tokens"] for _, u in results if u)
    return {
        "streams": n,
        "tokens": tokens,
        "window_s": window,
        "window_events": in_window,
        "agg_tok_s": in_window / window if window > 0 else float("nan"),
        "wall_s": end - start,
        "wall_tok_s": tokens / (end - start),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kantu", default=os.path.join(here, "..", "build", "release", "kantu"))
    ap.add_argument("-m", "--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--streams", default="1,4,8")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--max-context", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=1, help="runs per stream count; the fastest is kept")
    args = ap.parse_args()
    counts = [int(x) for x in args.streams.split(",")]

    proc, port = start_server(args, max(counts))
    try:
        run_round(port, 1, 4)  # warm-up: page in the weights, first-touch allocations
        rows = []
        for n in counts:
            runs = [run_round(port, n, args.max_tokens) for _ in range(args.repeat)]
            rows.append(max(runs, key=lambda r: r["agg_tok_s"]))
    finally:
        serve_client.stop_server(proc)

    load = os.getloadavg()
    print(f"model {args.model}, --threads {args.threads}, max_tokens {args.max_tokens}, "
          f"greedy, best of {args.repeat}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'streams':>7} {'tokens':>6} {'window s':>8} {'agg tok/s':>9} {'per stream':>10} "
          f"{'vs 1':>5} {'wall s':>7} {'wall tok/s':>10}")
    base = rows[0]["agg_tok_s"]
    for r in rows:
        print(f"{r['streams']:>7} {r['tokens']:>6} {r['window_s']:>8.2f} {r['agg_tok_s']:>9.2f} "
              f"{r['agg_tok_s'] / r['streams']:>10.2f} {r['agg_tok_s'] / base:>5.2f} "
              f"{r['wall_s']:>7.2f} {r['wall_tok_s']:>10.2f}")


if __name__ == "__main__":
    main()
