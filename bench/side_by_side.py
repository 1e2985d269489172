#!/usr/bin/env python3
"""Side-by-side speed and memory of kantu and llama.cpp on the same GGUF weights.

Both engines run with the same thread count on the same synthesized model (kantu synth
--format gguf writes the pair; llama-quantize makes the Q8_0 / Q4_K_M text models), and
the same picture (the synthetic image `kantu bench` draws, written as a PNG for
llama-mtmd-cli). Measured per weight type:

  image encode 448x448 and 896x896  vision tower (+ merger) time, ms
  prefill                           tok/s over a 512-token text prompt
  decode                            tok/s over 128 greedy tokens
  time to caption                   448x448 image + short prompt + 32 new tokens, ms
                                    (encode + prefill + decode; model loading excluded)
  peak RSS                          of the caption run (wait4 ru_maxrss), MB

llama.cpp: llama-bench (prefill, decode) and llama-mtmd-cli (image runs, from its log:
"mtmd batch encoding done in", llama_perf prompt-eval / eval times). kantu: `kantu bench
--json`. Python standard library only. Prints a Markdown table with kantu/llama.cpp
ratios (for times a ratio < 1 means kantu is faster; for tok/s > 1 means faster).

Example:
  python3 bench/side_by_side.py --llama-bin /tmp/llama/build/bin \\
      --gguf-dir /tmp/llama/models/gguf-bf16 --kantu build/release/kantu --types bf16,q8_0,q4_k_m
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

QUANT_NAMES = {"bf16": None, "f16": None, "q8_0": "Q8_0", "q4_k_m": "Q4_K_M", "q4_0": "Q4_0"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- inputs


def synthetic_png(size, path):
    """The picture kantu bench draws (cli/bench.cpp synthetic_image), as an RGB PNG."""
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter type none
        for x in range(size):
            row += bytes((x * 255 // max(1, size - 1),
                          y * 255 // max(1, size - 1),
                          ((x // 16 + y // 16) % 2) * 200 + (x ^ y) % 56))
        rows.append(bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def run(argv, timeout=3600):
    """Runs a command; returns (stdout, stderr, seconds, peak RSS in MB of that process)."""
    log("  $ " + " ".join(argv))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError(f"timed out after {timeout} s: {' '.join(argv)}")
            time.sleep(0.05)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(argv)}\n{stderr[-3000:]}")
    return stdout, stderr, seconds, usage.ru_maxrss / 1024.0


# ---------------------------------------------------------------- llama.cpp


def llama_bench(bin_dir, model, threads, reps):
    out, _, _, _ = run([os.path.join(bin_dir, "llama-bench"), "-m", model, "-t", str(threads),
                        "-p", "512", "-n", "128", "-r", str(reps), "-o", "json"])
    results = {}
    for entry in json.loads(out):
        if entry.get("n_prompt") == 512 and entry.get("n_gen") == 0:
            results["prefill_tok_s"] = entry["avg_ts"]
        if entry.get("n_gen") == 128 and entry.get("n_prompt") == 0:
            results["decode_tok_s"] = entry["avg_ts"]
    return results


def parse_mtmd_log(text):
    def ms(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else None

    return {
        "image_ms": ms(r"(?:mtmd batch encoding done|slice encoded) in (\d+) ms"),
        "image_decode_ms": ms(r"decoded \(batch \d+/\d+\) in (\d+) ms"),
        "prompt_eval_ms": ms(r"prompt eval time =\s*([\d.]+) ms"),
        "eval_ms": ms(r"\beval time =\s*([\d.]+) ms / +\d+ runs"),
    }


def llama_mtmd(bin_dir, model, mmproj, image, threads, n_predict):
    argv = [os.path.join(bin_dir, "llama-mtmd-cli"), "-m", model, "--mmproj", mmproj,
            "--image", image, "-p", "Describe this image in detail.", "-n", str(n_predict),
            "-t", str(threads), "--temp", "0", "-c", "4096", "--no-warmup",
            "-lv", "4"]  # verbosity 4 lets libllama's perf lines through
    out, err, _, rss = run(argv)
    r = parse_mtmd_log(out + err)
    if r["image_ms"] is None:
        raise RuntimeError("no image encode time in llama-mtmd-cli's log:\n" + err[-3000:])
    r["peak_rss_mb"] = rss
    return r


def llama_side(args, model, mmproj, images):
    log(f"llama.cpp: {os.path.basename(model)}")
    r = llama_bench(args.llama_bin, model, args.threads, args.reps)
    r["image448_ms"] = llama_mtmd(args.llama_bin, model, mmproj, images[448], args.threads, 1)["image_ms"]
    r["image896_ms"] = llama_mtmd(args.llama_bin, model, mmproj, images[896], args.threads, 1)["image_ms"]
    cap = llama_mtmd(args.llama_bin, model, mmproj, images[448], args.threads, 32)
    # prompt eval covers the image-token and text prefill batches; eval the 31 decode steps
    r["caption_ms"] = cap["image_ms"] + (cap["prompt_eval_ms"] or 0) + (cap["eval_ms"] or 0)
    r["peak_rss_mb"] = cap["peak_rss_mb"]
    return r


# ---------------------------------------------------------------- kantu


def kantu_bench(args, model_args, extra):
    argv = [args.kantu, "bench"] + model_args + ["--threads", str(args.threads), "--json"] + extra
    out, _, _, rss = run(argv)
    j = json.loads(out.strip().splitlines()[-1])
    j["wait4_rss_mb"] = rss
    return j


def kantu_side(args, model_args):
    log("kantu: " + " ".join(model_args))
    rep = ["--repeat", str(args.reps + 1)]  # the first run warms up (page cache, converted weights)
    r = {}

    def measure(extra):
        try:
            return kantu_bench(args, model_args, extra)
        except RuntimeError as e:  # one failed measurement leaves a gap, not an empty table
            log(f"kantu run failed: {e}")
            return None

    j = measure(["--image-size", "0", "--prompt-tokens", "512", "--gen-tokens", "1"] + rep)
    r["prefill_tok_s"] = j and j["prefill_tok_s"]
    j = measure(["--image-size", "0", "--prompt-tokens", "16", "--gen-tokens", "128"] + rep)
    r["decode_tok_s"] = j and j["decode_tok_s"]
    j = measure(["--image-size", "448", "--gen-tokens", "1"])
    r["image448_ms"] = j and j["image_ms"]
    j = measure(["--image-size", "896", "--gen-tokens", "1"])
    r["image896_ms"] = j and j["image_ms"]
    j = measure(["--image-size", "448", "--gen-tokens", "32"])
    if j:
        r["caption_ms"] = j["image_ms"] + j["prefill_ms"] + j["decode_ms"]
        r["peak_rss_mb"] = j["wait4_rss_mb"]
    return r


def kantu_help(kantu):
    try:
        return subprocess.run([kantu, "bench", "--help"], capture_output=True, text=True).stdout
    except OSError as e:
        sys.exit(f"cannot run kantu at {kantu}: {e}")


def kantu_model_args(args, wtype, gguf_model, bf16_model, mmproj, help_text):
    """kantu's way to the same weights: the GGUF pair when kantu bench takes --mmproj,
    else the same-seed safetensors folder (--kantu-hf). Quantized types either load
    llama-quantize's file (--kantu-quant gguf) or let kantu convert the BF16 weights at
    load (--kantu-quant convert: q8 = Q8_0 like llama.cpp's, q4 = Q4_0, which is not
    llama.cpp's Q4_K_M); the vision tower stays BF16 like the mmproj."""
    quant = QUANT_NAMES[wtype]
    convert = []
    if quant and args.kantu_quant == "convert":
        if "--weights" not in help_text:
            return None, "kantu has no --weights"
        convert = ["--weights", "q8" if wtype == "q8_0" else "q4", "--vision-weights", "bf16"]
    how = ""
    if "--mmproj" in help_text and not args.kantu_hf:
        model = bf16_model if convert else gguf_model
        margs, how = ["-m", model, "--mmproj", mmproj], f"GGUF pair ({os.path.basename(model)})"
    elif args.kantu_hf:
        if quant and not convert:
            return None, "a safetensors folder has no quantized file"
        margs, how = ["-m", args.kantu_hf], "safetensors folder, same seed"
    else:
        sys.exit("this kantu cannot load GGUF; pass --kantu-hf DIR (the same-seed safetensors folder)")
    if convert:
        how += f", converted at load with --weights {convert[1]} (vision bf16)"
    return margs + convert, how


# ---------------------------------------------------------------- table

ROWS = [  # key, label, unit, higher is better
    ("image448_ms", "image encode 448x448", "ms", False),
    ("image896_ms", "image encode 896x896", "ms", False),
    ("prefill_tok_s", "prefill 512 tokens", "tok/s", True),
    ("decode_tok_s", "decode 128 tokens", "tok/s", True),
    ("caption_ms", "time to caption (448², 32 tokens)", "ms", False),
    ("peak_rss_mb", "peak RSS (caption run)", "MB", False),
]


def fmt(v):
    if v is None:
        return "—"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def table(results):
    lines = ["| weights | measure | kantu | llama.cpp | kantu / llama.cpp |",
             "|---|---|---:|---:|---:|"]
    for wtype, res in results.items():
        k, l = res.get("kantu") or {}, res.get("llama") or {}
        for key, label, unit, _ in ROWS:
            kv, lv = k.get(key), l.get(key)
            ratio = f"{kv / lv:.2f}" if kv is not None and lv else "—"
            lines.append(f"| {wtype.upper()} | {label} ({unit}) | {fmt(kv)} | {fmt(lv)} | {ratio} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True, help="folder with llama-bench, llama-mtmd-cli, llama-quantize")
    ap.add_argument("--gguf-dir", required=True, help="folder with model.gguf + mmproj.gguf (kantu synth --format gguf)")
    ap.add_argument("--kantu", default="build/release/kantu")
    ap.add_argument("--kantu-hf", help="the same-seed safetensors folder, for a kantu without GGUF loading")
    ap.add_argument("--types", default="bf16,q8_0,q4_k_m", help="comma list of bf16/f16, q8_0, q4_k_m, q4_0")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=2, help="repetitions of the prefill/decode measurements")
    ap.add_argument("--kantu-quant", choices=["convert", "gguf"], default="convert",
                    help="quantized types for kantu: convert the BF16 weights at load, or load llama-quantize's file")
    ap.add_argument("--engines", default="kantu,llama", help="which engines to run")
    ap.add_argument("--json-out", help="also write the raw results here")
    ap.add_argument("--llama-json", help="take llama.cpp's figures from an earlier --json-out instead of "
                    "running it again (it does not change while kantu does; measure both on a quiet machine)")
    args = ap.parse_args()

    base_model = os.path.join(args.gguf_dir, "model.gguf")
    mmproj = os.path.join(args.gguf_dir, "mmproj.gguf")
    for p in (base_model, mmproj):
        if not os.path.exists(p):
            sys.exit(f"missing {p}")
    engines = set(args.engines.split(","))
    help_text = kantu_help(args.kantu) if "kantu" in engines else ""

    work = tempfile.mkdtemp(prefix="side_by_side_")
    images = {}
    for size in (448, 896):
        images[size] = os.path.join(work, f"synthetic_{size}.png")
        synthetic_png(size, images[size])

    results, notes = {}, []
    earlier = {}
    if args.llama_json:
        with open(args.llama_json) as f:
            earlier = json.load(f)
        notes += ["llama.cpp figures from " + args.llama_json + ": " + n for n in earlier.get("notes", [])
                  if n.startswith("load average")]
    with open("/proc/loadavg") as f:
        notes.append("load average at start: " + " ".join(f.read().split()[:3]))
    for wtype in args.types.split(","):
        if wtype not in QUANT_NAMES:
            sys.exit(f"unknown weight type {wtype}")
        model = base_model
        if QUANT_NAMES[wtype]:
            model = os.path.join(args.gguf_dir, f"model-{QUANT_NAMES[wtype]}.gguf")
            if not os.path.exists(model):
                log(f"quantizing {model}")
                run([os.path.join(args.llama_bin, "llama-quantize"), base_model, model,
                     QUANT_NAMES[wtype], str(args.threads)])
        res = {}
        if args.llama_json:
            res["llama"] = (earlier["results"].get(wtype) or {}).get("llama")
        elif "llama" in engines:
            res["llama"] = llama_side(args, model, mmproj, images)
            log(json.dumps({wtype: {"llama": res["llama"]}}))  # kept even if a later run fails
        if "kantu" in engines:
            margs, how = kantu_model_args(args, wtype, model, base_model, mmproj, help_text)
            notes.append(f"{wtype}: kantu loads the {how}")
            res["kantu"] = kantu_side(args, margs) if margs else None
        results[wtype] = res
        log(json.dumps(res))
    with open("/proc/loadavg") as f:
        notes.append("load average at end: " + " ".join(f.read().split()[:3]))

    print(table(results))
    print()
    for n in notes:
        print(f"- {n}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"results": results, "notes": notes}, f, indent=2)


if __name__ == "__main__":
    main()
