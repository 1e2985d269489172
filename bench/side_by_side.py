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

Same activation precision as llama.cpp: kantu runs --activations bf16 on BF16 weights
(llama.cpp multiplies them with bf16 activations) and int8 on the quantized ones (q8_0 /
q8_K activations); the BF16 rows also measure kantu's faithful f32 precision for prefill
and image encode (rows "… (kantu f32)", against the same llama.cpp figures).

A shared machine moves by tens of percent between runs, so every measurement is repeated
--reps times with the engines alternating run by run (kantu then llama.cpp, then the other
way round), and the table gives the best and the median of each engine with both ratios.
The CPU model, its SIMD flags and the load average are recorded with the results.

llama.cpp: llama-bench (prefill, decode; -r 1 per repetition, after its warm-up) and
llama-mtmd-cli (image runs, from its log: "mtmd batch encoding done in", llama_perf
prompt-eval / eval times). kantu: `kantu bench --json --repeat 2` (a warm-up run, then the
measured one). Python standard library only. Ratios are kantu / llama.cpp: for times < 1
means kantu is faster, for tok/s > 1.

Example (the quantized text models are made next to model.gguf on first use):
  python3 bench/side_by_side.py --llama-bin /tmp/llama/src/build/bin \\
      --gguf-dir /tmp/models/kantu-2b-gguf --kantu build/release/kantu --kantu-quant gguf \\
      --types bf16,q8_0,q4_k_m --reps 3 --json-out /tmp/side_by_side.json
"""

import argparse
import json
import os
import platform
import re
import statistics
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


def llama_bench(bin_dir, model, threads, prompt, gen):
    """One llama-bench test (-r 1, after llama-bench's own warm-up): tok/s."""
    out, _, _, _ = run([os.path.join(bin_dir, "llama-bench"), "-m", model, "-t", str(threads),
                        "-p", str(prompt), "-n", str(gen), "-r", "1", "-o", "json"])
    for entry in json.loads(out):
        if entry.get("n_prompt") == prompt and entry.get("n_gen") == gen:
            return entry["avg_ts"]
    raise RuntimeError(f"llama-bench printed no -p {prompt} -n {gen} result")


def parse_mtmd_log(text):
    def ms(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else None

    def total_ms(pattern):
        # LLaVA-NeXT's image is several chunks (the overview and each tile), each encoded and
        # logged on its own: the image's encode time is their sum.
        found = re.findall(pattern, text)
        return sum(float(v) for v in found) if found else None

    return {
        "image_ms": total_ms(r"(?:mtmd batch encoding done|slice encoded) in (\d+) ms"),
        "image_decode_ms": ms(r"decoded \(batch \d+/\d+\) in (\d+) ms"),
        "prompt_eval_ms": ms(r"prompt eval time =\s*([\d.]+) ms"),
        "eval_ms": ms(r"\beval time =\s*([\d.]+) ms / +\d+ runs"),
    }


def llama_mtmd(bin_dir, model, mmproj, image, threads, n_predict):
    argv = [os.path.join(bin_dir, "llama-mtmd-cli"), "-m", model, "--mmproj", mmproj,
            "--image", image, "-p", "Describe this image in detail.", "-n", str(n_predict),
            "-t", str(threads), "--temp", "0", "-c", "4096", "--no-warmup",
            # --jinja: render the GGUF's own chat template, as kantu does (llama.cpp's built-in
            # matcher refuses llava-hf's template: "this custom template is not supported")
            "--jinja",
            "-lv", "4"]  # verbosity 4 lets libllama's perf lines through
    out, err, _, rss = run(argv)
    r = parse_mtmd_log(out + err)
    if r["image_ms"] is None:
        raise RuntimeError("no image encode time in llama-mtmd-cli's log:\n" + err[-3000:])
    r["peak_rss_mb"] = rss
    return r


def llama_measure(args, model, mmproj, images, key):
    """One run of llama.cpp for one measurement key; returns {key: value, ...}."""
    if key == "prefill_tok_s":
        return {key: llama_bench(args.llama_bin, model, args.threads, 512, 0)}
    if key == "decode_tok_s":
        return {key: llama_bench(args.llama_bin, model, args.threads, 0, 128)}
    if key in ("image448_ms", "image896_ms"):
        size = 448 if key == "image448_ms" else 896
        return {key: llama_mtmd(args.llama_bin, model, mmproj, images[size], args.threads, 1)["image_ms"]}
    cap = llama_mtmd(args.llama_bin, model, mmproj, images[448], args.threads, 32)
    # prompt eval covers the image-token and text prefill batches; eval the 31 decode steps
    return {"caption_ms": cap["image_ms"] + (cap["prompt_eval_ms"] or 0) + (cap["eval_ms"] or 0),
            "peak_rss_mb": cap["peak_rss_mb"]}


# ---------------------------------------------------------------- kantu


def kantu_bench(args, model_args, extra):
    argv = [args.kantu, "bench"] + model_args + ["--threads", str(args.threads), "--json"] + extra
    out, _, _, rss = run(argv)
    j = json.loads(out.strip().splitlines()[-1])
    j["wait4_rss_mb"] = rss
    return j


KANTU_RUNS = {  # kantu bench arguments per measurement; --repeat 2: a warm-up, then the run
    "prefill_tok_s": ["--image-size", "0", "--prompt-tokens", "512", "--gen-tokens", "1", "--repeat", "2"],
    "decode_tok_s": ["--image-size", "0", "--prompt-tokens", "16", "--gen-tokens", "128", "--repeat", "2"],
    "image448_ms": ["--image-size", "448", "--gen-tokens", "1", "--repeat", "2"],
    "image896_ms": ["--image-size", "896", "--gen-tokens", "1", "--repeat", "2"],
    "caption_ms": ["--image-size", "448", "--gen-tokens", "32"],
}


def kantu_measure(args, model_args, key, activations):
    """One kantu bench run for one measurement key; returns {key: value, ...}."""
    j = kantu_bench(args, model_args, KANTU_RUNS[key] + ["--no-peaks", "--activations", activations])
    if key == "caption_ms":
        return {key: j["image_ms"] + j["prefill_ms"] + j["decode_ms"], "peak_rss_mb": j["wait4_rss_mb"]}
    field = {"prefill_tok_s": "prefill_tok_s", "decode_tok_s": "decode_tok_s",
             "image448_ms": "image_ms", "image896_ms": "image_ms"}[key]
    return {key: j[field]}


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
F32_KEYS = ["image448_ms", "image896_ms", "prefill_tok_s"]  # kantu's faithful precision, BF16 rows


def fmt(v):
    if v is None:
        return "—"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def measured(values):
    """The runs of one measurement (a single figure from an older --json-out counts as one)."""
    if values is None:
        return []
    return [v for v in (values if isinstance(values, list) else [values]) if v is not None]


def best(values, higher):
    values = measured(values)
    if not values:
        return None
    return max(values) if higher else min(values)


def median(values):
    values = measured(values)
    return statistics.median(values) if values else None


def ratio(k, l):
    return f"{k / l:.2f}" if k is not None and l else "—"


def table(results):
    lines = ["| weights | measure | kantu best | kantu median | llama.cpp best | llama.cpp median "
             "| ratio of bests | ratio of medians |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for wtype, res in results.items():
        k, l, f = res.get("kantu") or {}, res.get("llama") or {}, res.get("kantu_f32") or {}
        rows = [(key, label, unit, higher, k) for key, label, unit, higher in ROWS]
        rows += [(key, label + " (kantu f32)", unit, higher, f) for key, label, unit, higher in ROWS
                 if key in f]
        for key, label, unit, higher, kv in rows:
            kb, km = best(kv.get(key), higher), median(kv.get(key))
            lb, lm = best(l.get(key), higher), median(l.get(key))
            lines.append(f"| {wtype.upper()} | {label} ({unit}) | {fmt(kb)} | {fmt(km)} | {fmt(lb)} "
                         f"| {fmt(lm)} | {ratio(kb, lb)} | {ratio(km, lm)} |")
    return "\n".join(lines)


def machine_notes():
    """CPU model, the SIMD flags that pick kernels, core count, kernel version."""
    model, flags, family = "unknown CPU", [], ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and model == "unknown CPU":
                    model = value
                elif key == "cpu family" and not family:
                    family = value
                elif key == "flags" and not flags:
                    flags = value.split()
    except OSError:
        pass
    wanted = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
              "avx_vnni", "avx512_fp16", "amx_bf16", "amx_int8")
    simd = [f for f in wanted if f in flags]
    return [f"CPU: {model} (family {family or '?'}), {os.cpu_count()} logical CPUs, "
            f"SIMD flags: {' '.join(simd) or 'none'}; {platform.platform()}"]


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True, help="folder with llama-bench, llama-mtmd-cli, llama-quantize")
    ap.add_argument("--gguf-dir", required=True, help="folder with model.gguf + mmproj.gguf (kantu synth --format gguf)")
    ap.add_argument("--kantu", default="build/release/kantu")
    ap.add_argument("--kantu-hf", help="the same-seed safetensors folder, for a kantu without GGUF loading")
    ap.add_argument("--types", default="bf16,q8_0,q4_k_m", help="comma list of bf16/f16, q8_0, q4_k_m, q4_0")
    ap.add_argument("--measures", default=",".join(k for k in KANTU_RUNS),
                    help="comma list of " + ", ".join(KANTU_RUNS) + " (peak RSS comes with caption_ms)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="runs of every measurement per engine (alternating)")
    ap.add_argument("--kantu-quant", choices=["convert", "gguf"], default="gguf",
                    help="quantized types for kantu: load llama-quantize's file, or convert the BF16 weights at load")
    ap.add_argument("--no-f32", action="store_true", help="skip kantu's f32 rows of the BF16 weights")
    ap.add_argument("--engines", default="kantu,llama", help="which engines to run")
    ap.add_argument("--json-out", help="also write the raw results here")
    ap.add_argument("--llama-json", help="take llama.cpp's figures from an earlier --json-out instead of "
                    "running it again (only for kantu's A/B work: the ratios in one table should come "
                    "from one run)")
    args = ap.parse_args()
    if args.reps < 1:
        sys.exit("--reps must be at least 1")

    base_model = os.path.join(args.gguf_dir, "model.gguf")
    mmproj = os.path.join(args.gguf_dir, "mmproj.gguf")
    for p in (base_model, mmproj):
        if not os.path.exists(p):
            sys.exit(f"missing {p}")
    engines = set(args.engines.split(","))
    measures = args.measures.split(",")
    for key in measures:
        if key not in KANTU_RUNS:
            sys.exit(f"unknown measure {key}")
    help_text = kantu_help(args.kantu) if "kantu" in engines else ""

    work = tempfile.mkdtemp(prefix="side_by_side_")
    images = {}
    for size in (448, 896):
        images[size] = os.path.join(work, f"synthetic_{size}.png")
        synthetic_png(size, images[size])

    notes = machine_notes() + [f"{args.threads} threads each, {args.reps} runs of every measurement "
                               "per engine, alternating"]
    earlier = {}
    if args.llama_json:
        with open(args.llama_json) as f:
            earlier = json.load(f)
        notes.append("llama.cpp figures taken from " + args.llama_json)
    notes.append("load average at start: " + load_average())
    results = {}
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
        res = {"kantu": {}, "llama": {}}
        runners = []  # (engine label, function returning {key: value})
        if "kantu" in engines:
            margs, how = kantu_model_args(args, wtype, model, base_model, mmproj, help_text)
            acts = "int8" if QUANT_NAMES[wtype] else "bf16"
            notes.append(f"{wtype}: kantu loads the {how}, --activations {acts}")
            if margs:
                runners.append(("kantu", lambda key, m=margs, a=acts: kantu_measure(args, m, key, a)))
                if not QUANT_NAMES[wtype] and not args.no_f32:
                    res["kantu_f32"] = {}
                    runners.append(("kantu_f32", lambda key, m=margs: kantu_measure(args, m, key, "f32")))
        if args.llama_json:
            res["llama"] = (earlier["results"].get(wtype) or {}).get("llama") or {}
        elif "llama" in engines:
            runners.append(("llama", lambda key, m=model: llama_measure(args, m, mmproj, images, key)))
        for rep in range(args.reps):
            for key in measures:
                order = runners if rep % 2 == 0 else list(reversed(runners))
                for label, measure in order:
                    if label == "kantu_f32" and key not in F32_KEYS:
                        continue
                    try:
                        got = measure(key)
                    except RuntimeError as e:  # one failed run leaves a gap, not an empty table
                        log(f"{label} {wtype} {key} failed: {e}")
                        continue
                    for k, v in got.items():
                        res[label].setdefault(k, []).append(v)
                    log(f"{wtype} rep {rep + 1}/{args.reps} {label}: {got} (load {load_average()})")
        results[wtype] = res
        if args.json_out:  # kept after every weight type, in case a later one fails
            with open(args.json_out, "w") as f:
                json.dump({"results": results, "notes": notes}, f, indent=2)
    notes.append("load average at end: " + load_average())

    print(table(results))
    print()
    for n in notes:
        print(f"- {n}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"results": results, "notes": notes}, f, indent=2)


if __name__ == "__main__":
    main()
