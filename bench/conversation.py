#!/usr/bin/env python3
"""A conversation about a picture against `kantu serve`: the prefix KV cache and chunked prefill.

1. Time to first token (TTFT) of the first question about an image and of a follow-up
   question about it (the first turn, its answer and a new question), with the prefix
   cache off (`--kv-cache-mb 0`: "cold", today's follow-up re-prefills everything; the
   image-embedding cache still skips the vision tower) and on (default: "warm"), for each
   --images file (448x448 and 896x896 by default).
2. Streams under an arriving large image: 4 text streams decode; once they all do, a
   fifth request with the 896x896 image arrives. Reported per run (chunked prefill off and
   on): the normal step (median gap between two tokens of a running stream before the
   arrival), the largest gap of any running stream while the fifth is admitted (from its
   arrival to its first token), and the streams' aggregate decode tok/s over that window.

Each figure is the best and the median of --repeat runs (the machine is shared).
Standard library only.

    bench/conversation.py -m /tmp/kantu-2b --threads 2 --repeat 3
"""
import argparse
import base64
import os
import statistics
import threading
import time

import serve_client

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("KANTU_TESTDATA", os.path.join(HERE, "..", "..", "shared"))


def start_server(args, extra):
    return serve_client.start_server(args.kantu, args.model, args.threads, ["--max-context", "4096"] + extra)


def image_part(path):
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode()
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + data}}


def conversation(port, image, first_tokens):
    """The first question and a follow-up; returns (ttft first, ttft follow-up, cached)."""
    turn1 = [{"role": "user", "content": [image_part(image), {"type": "text", "text": "Describe this image."}]}]
    first = serve_client.stream_chat(port, turn1, first_tokens)
    turn2 = turn1 + [{"role": "assistant", "content": first.text},
                     {"role": "user", "content": "What is in its top left corner? Answer briefly."}]
    follow = serve_client.stream_chat(port, turn2, 1)
    usage = follow.usage
    cached = usage.get("prompt_tokens_details", {}).get("cached_tokens", 0) if usage else 0
    return first.ttft, follow.ttft, cached, usage["prompt_tokens"] if usage else 0


def ttft_table(args):
    rows = []
    for label, extra in (("cold (--kv-cache-mb 0)", ["--kv-cache-mb", "0"]), ("warm (prefix cache)", [])):
        for image in args.images:
            firsts, follows, cached, prompt = [], [], 0, 0
            for _ in range(args.repeat):
                proc, port = start_server(args, extra)  # a fresh server: nothing cached yet
                try:
                    t1, t2, cached, prompt = conversation(port, image, args.first_tokens)
                finally:
                    serve_client.stop_server(proc)
                firsts.append(t1)
                follows.append(t2)
            rows.append((label, os.path.basename(image), firsts, follows, cached, prompt))
            print(f"{label:24} {os.path.basename(image):18} first {fmt(firsts)}  follow-up {fmt(follows)}"
                  f"  ratio {min(follows) / min(firsts):.3f}  cached {cached}/{prompt}", flush=True)
    return rows


def fmt(xs):
    return f"best {min(xs):6.2f} s median {statistics.median(xs):6.2f} s"


def arrival(args, chunked):
    proc, port = start_server(args, ["--parallel", "5", "--chunked-prefill", "true" if chunked else "false"])
    try:
        stamps = [[] for _ in range(4)]
        threads = [threading.Thread(target=serve_client.stream_chat, args=(port, [{"role": "user", "content":
                   f"Count from {i} to 1000 in words, one number per line."}], args.stream_tokens, stamps[i]))
                   for i in range(4)]
        for t in threads:
            t.start()
        while min(len(s) for s in stamps) < 8:  # all four decoding, steps settled
            time.sleep(0.05)
        big = [{"role": "user", "content": [image_part(args.big_image), {"type": "text", "text": "Describe this image."}]}]
        t_arrive = time.monotonic()
        ttft = serve_client.stream_chat(port, big, 1).ttft
        t_first = t_arrive + ttft
        for t in threads:
            t.join()
    finally:
        serve_client.stop_server(proc)
    before, during_gaps, during_tokens = [], [], 0
    for s in stamps:
        for a, b in zip(s, s[1:]):
            if b <= t_arrive:
                before.append(b - a)
            elif a < t_first:  # a gap that overlaps the admission window
                during_gaps.append(b - a)
        during_tokens += sum(1 for x in s if t_arrive < x <= t_first)
    step = statistics.median(before)
    worst = max(during_gaps)
    return step, worst, during_tokens / (t_first - t_arrive), t_first - t_arrive


def arrival_table(args):
    for chunked in (False, True):
        runs = [arrival(args, chunked) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r[1] / r[0])
        label = "chunked prefill" if chunked else "one-piece prefill"
        print(f"{label:18} step {best[0] * 1000:6.0f} ms  largest gap {best[1] * 1000:7.0f} ms"
              f" ({best[1] / best[0]:.1f} steps; median of runs {statistics.median(r[1] / r[0] for r in runs):.1f})"
              f"  4-stream decode during admission {best[2]:.1f} tok/s  (896 request TTFT {best[3]:.1f} s)",
              flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-m", "--model", required=True)
    p.add_argument("--kantu", default=os.path.join(HERE, "..", "build", "release", "kantu"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--images", nargs="+", default=[os.path.join(SHARED, "images", "perf_448x448.png"),
                                                    os.path.join(SHARED, "images", "perf_896x896.png")])
    p.add_argument("--big-image", default=os.path.join(SHARED, "images", "perf_896x896.png"))
    p.add_argument("--first-tokens", type=int, default=24, help="answer length of the first question")
    p.add_argument("--stream-tokens", type=int, default=400, help="tokens each running stream asks for")
    p.add_argument("--only", choices=["ttft", "arrival"], help="run one part")
    args = p.parse_args()
    print(f"# {args.model}, {args.threads} threads, best/median of {args.repeat}", flush=True)
    if args.only != "arrival":
        ttft_table(args)
    if args.only != "ttft":
        arrival_table(args)


if __name__ == "__main__":
    main()
