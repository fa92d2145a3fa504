#!/usr/bin/env python3
"""The engine's cost against the stack's size: plan on an empty state, apply
and the no-op plan of N null_resources (bench/gen.py's stack) for N = 1,000,
10,000 and 100,000, each the median of several runs, with the peak resident
memory of each command. Writes a Markdown table (stdout and bench/scale.md)
and a log-log plot of time and memory against size (bench/scale.svg).

    bench/scale.py --bin target/release/dumcel [--sizes 1000,10000,100000] [--runs 3]

Wall time is taken around the command; peak RSS is the command's own
(os.wait4), so nothing else on the machine is counted. The sizes take turns,
one run of each per round, so the machine's drift over the minutes of a run
falls on every size alike and the growth between sizes is not a measure of
when each size ran. Every size's stack has the same bytes per resource
(gen.py --width: names and indexes padded to the largest size's digits), so
ten times the resources is ten times the text to read. Below the table: the
growth between neighbouring sizes (of the medians, and within each round) and
the exponent k of time ~ N^k fitted through each round's sizes.

    bench/scale.py ... [--out DIR]   # write scale.md and scale.svg to DIR instead
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = ("plan", "apply", "no-op plan")


def run(binary, args, cwd, expect):
    """Runs dumcel once; (seconds, peak RSS in MB). Fails unless its output says `expect`.

    The output goes to a file, never into this process: a child's peak RSS
    (os.wait4) starts from its parent's size when it was started, so a
    parent that had read the 100,000-resource output (some 70 MB) made every
    later 1,000-resource run look as large as that.
    """
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [binary, *args],
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        # What each step says is in its last lines.
        log.seek(max(0, log.seek(0, os.SEEK_END) - 64 * 1024))
        text = log.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0 or expect not in text:
        sys.exit(f"scale: {' '.join(args)} in {cwd} failed or did not say {expect!r}:\n{text[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def measure_once(binary, n, width, results):
    """One run of each step for a stack of n resources, in a fresh directory."""
    with tempfile.TemporaryDirectory(prefix=f"dumcel-scale-{n}-") as d:
        subprocess.run(
            [sys.executable, str(HERE / "gen.py"), "--tool", "dumcel", "-n", str(n), "--width", str(width), d],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        run(binary, ["init", "-input=false", "-no-color"], d, "")
        flags = ["-input=false", "-no-color"]
        results["plan"].append(run(binary, ["plan", *flags], d, f"Plan: {n} to add"))
        results["apply"].append(
            run(binary, ["apply", "-auto-approve", "-parallelism=10", *flags], d, f"{n} added")
        )
        results["no-op plan"].append(run(binary, ["plan", *flags], d, "No changes."))
        # What the steps read, to show the input grows as the resources do.
        results["input"].append(
            (os.path.getsize(Path(d) / "main.hcl"), os.path.getsize(Path(d) / "dumcel.tfstate"))
        )


def measure(binary, sizes, runs):
    """Each size's median time and largest peak per step, the sizes taking turns."""
    results = {n: {step: [] for step in (*STEPS, "input")} for n in sizes}
    width = len(str(max(sizes) - 1))
    for round_ in range(runs):
        for n in sizes:
            print(f"scale: round {round_ + 1} of {runs}, {n:,} resources", file=sys.stderr)
            measure_once(binary, n, width, results[n])
    rows = [
        (
            n,
            {
                step: (statistics.median(t for t, _ in rs), max(m for _, m in rs))
                for step, rs in results[n].items()
                if step in STEPS
            },
        )
        for n in sizes
    ]
    return rows, results


def fmt_time(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def table(binary, rows, results, runs):
    version = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.splitlines()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {version[0] if version else binary};"
        f" {os.cpu_count()} cores, load average {load} at the end.",
        "",
        f"Median wall time of {runs} runs / largest peak RSS, per step:",
        "",
        "| resources | plan | apply | no-op plan | configuration + state |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, r in rows:
        cells = " | ".join(f"{fmt_time(r[s][0])} / {r[s][1]:.0f} MB" for s in STEPS)
        config, state = results[n]["input"][0]
        lines.append(f"| {n:,} | {cells} | {config / 1e6:.2f} + {state / 1e6:.2f} MB |")
    ratios = []
    for (n0, r0), (n1, r1) in zip(rows, rows[1:]):
        per = ", ".join(f"{s} x{r1[s][0] / r0[s][0]:.1f}" for s in STEPS)
        (c0, s0), (c1, s1) = results[n0]["input"][0], results[n1]["input"][0]
        ratios.append(
            f"{n0:,} -> {n1:,} (x{n1 / n0:.0f} resources; configuration x{c1 / c0:.2f},"
            f" configuration and state x{(c1 + s1) / (c0 + s0):.2f}): {per}"
        )
    text = "\n".join(lines) + ("\n\nGrowth of the time: " + "; ".join(ratios) if ratios else "")
    sizes = [n for n, _ in rows]
    extra = [line for line in (paired_growth(results, sizes), exponents(results, sizes)) if line]
    return "\n\n".join([text, *extra])


def paired_growth(results, sizes):
    """The growth between neighbouring sizes round by round: each round runs
    the sizes one after the other, so the ratio within a round is less
    touched by the machine's drift than the ratio of the medians. The median
    ratio with the middle half of the rounds' ratios (needs 4 rounds)."""
    lines = []
    for n0, n1 in zip(sizes, sizes[1:]):
        per = []
        for s in STEPS:
            ratios = [b[0] / a[0] for a, b in zip(results[n0][s], results[n1][s])]
            if len(ratios) < 4:
                return ""
            q1, _, q3 = statistics.quantiles(ratios, n=4)
            per.append(f"{s} x{statistics.median(ratios):.2f} ({q1:.2f} to {q3:.2f})")
        lines.append(f"{n0:,} -> {n1:,}: {', '.join(per)}")
    return "Growth within each round (median, middle half of the rounds): " + "; ".join(lines)


def exponents(results, sizes):
    """How the time grows over the whole range, as the exponent k of
    time ~ size^k: the slope of a least-squares line through one round's
    (log size, log time) points, the median over the rounds with their middle
    half (needs 3 sizes and 4 rounds). 1 is linear; below 1, the fixed cost of
    starting still shows at the small sizes."""
    if len(sizes) < 3:
        return ""
    xs = [math.log(n) for n in sizes]
    per = []
    for s in STEPS:
        slopes = [
            statistics.linear_regression(xs, [math.log(t) for t, _ in round_]).slope
            for round_ in zip(*(results[n][s] for n in sizes))
        ]
        if len(slopes) < 4:
            return ""
        q1, _, q3 = statistics.quantiles(slopes, n=4)
        per.append(f"{s} {statistics.median(slopes):.3f} ({q1:.3f} to {q3:.3f})")
    return (
        f"Exponent k of time ~ resources^k, {sizes[0]:,} to {sizes[-1]:,} (a least-squares line"
        f" through each round's sizes on log-log axes; median, middle half of the rounds; 1 is linear): "
        + ", ".join(per)
    )


def svg(rows):
    """A log-log plot: time (left axis, lines) and memory (right axis, dashed)."""
    w, h, left, right, top, bottom = 720, 420, 70, 70, 30, 50
    ns = [n for n, _ in rows]
    times = [r[s][0] for _, r in rows for s in STEPS]
    mems = [r[s][1] for _, r in rows for s in STEPS]

    def scale(v, lo, hi, a, b):
        return a + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo) or 1) * (b - a)

    nlo, nhi = min(ns), max(ns)
    tlo, thi = 10 ** math.floor(math.log10(min(times))), 10 ** math.ceil(math.log10(max(times)))
    mlo, mhi = 10 ** math.floor(math.log10(min(mems))), 10 ** math.ceil(math.log10(max(mems)))
    x = lambda n: scale(n, nlo, nhi, left, w - right)
    yt = lambda t: scale(t, tlo, thi, h - bottom, top)
    ym = lambda m: scale(m, mlo, mhi, h - bottom, top)
    colours = {"plan": "#1f77b4", "apply": "#d62728", "no-op plan": "#2ca02c"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
           f'<line x1="{w - right}" y1="{top}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>']
    for n in ns:
        out.append(f'<text x="{x(n):.0f}" y="{h - bottom + 18}" text-anchor="middle">{n:,}</text>')
    exp = math.log10(tlo)
    while 10 ** exp <= thi * 1.0001:
        t = 10 ** exp
        out.append(f'<text x="{left - 6}" y="{yt(t) + 4:.0f}" text-anchor="end">{fmt_time(t)}</text>')
        exp += 1
    exp = math.log10(mlo)
    while 10 ** exp <= mhi * 1.0001:
        m = 10 ** exp
        out.append(f'<text x="{w - right + 6}" y="{ym(m) + 4:.0f}">{m:.0f} MB</text>')
        exp += 1
    for s in STEPS:
        c = colours[s]
        pts = " ".join(f"{x(n):.1f},{yt(r[s][0]):.1f}" for n, r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"/>')
        pts = " ".join(f"{x(n):.1f},{ym(r[s][1]):.1f}" for n, r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5" stroke-dasharray="5,4"/>')
    for i, s in enumerate(STEPS):
        out.append(f'<line x1="{left + 10}" y1="{top + 8 + 16 * i}" x2="{left + 34}" y2="{top + 8 + 16 * i}" stroke="{colours[s]}" stroke-width="2"/>')
        out.append(f'<text x="{left + 40}" y="{top + 12 + 16 * i}">{s} (time; dashed: peak RSS)</text>')
    out.append(f'<text x="{w / 2}" y="{h - 10}" text-anchor="middle">null_resources in the stack (log scale)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bin", required=True, help="the dumcel binary (a release build)")
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default=str(HERE))
    a = p.parse_args()
    binary = str(Path(a.bin).resolve())
    rows, results = measure(binary, [int(s) for s in a.sizes.split(",")], a.runs)
    md = table(binary, rows, results, a.runs)
    print(md)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    Path(a.out, "scale.md").write_text(md + "\n")
    Path(a.out, "scale.svg").write_text(svg(rows))


if __name__ == "__main__":
    main()
