#!/usr/bin/env python3
"""AWS API calls per object when refresh reads many EC2 networking objects,
counted by moto itself (its request recorder), not by dumcel. For N = 1, 10
and 100 it applies one VPC with N subnets, N security groups and N route
tables, records every request moto receives during a no-op `dumcel plan`
(which refreshes all of them), and prints the calls, per object and by
operation, as a Markdown table.

    bench/refresh_calls.py --bin "$CARGO_TARGET_DIR/debug/dumcel" [--sizes 1,10,100]

Needs moto on AWS_ENDPOINT_URL (dev/services/moto.sh). A batch of up to 100
objects of one type is one filtered Describe* call; at N = 1 each object
costs what reading it alone costs.
"""

import argparse
import base64
import collections
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

STACK = """
provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"
  endpoints {
    ec2 = "%(endpoint)s"
    sts = "%(endpoint)s"
  }
}

resource "aws_vpc" "bench" {
  cidr_block = "10.%(net)d.0.0/16"
}

resource "aws_subnet" "bench" {
  count      = %(n)d
  vpc_id     = aws_vpc.bench.id
  cidr_block = "10.%(net)d.${count.index}.0/24"
}

resource "aws_security_group" "bench" {
  count  = %(n)d
  name   = "refresh-calls-%(net)d-${count.index}"
  vpc_id = aws_vpc.bench.id
}

resource "aws_route_table" "bench" {
  count  = %(n)d
  vpc_id = aws_vpc.bench.id
}
"""

def moto(endpoint, path, method="POST"):
    req = urllib.request.Request(f"{endpoint}/moto-api/recorder/{path}", method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def action_of(entry):
    """The API operation of one recorded request (EC2 and STS: the query body's Action)."""
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode(errors="replace")
    fields = urllib.parse.parse_qs(body)
    if "Action" in fields:
        return fields["Action"][0]
    target = entry.get("headers", {}).get("X-Amz-Target", "")
    return target.rsplit(".", 1)[-1] or f"{entry.get('method')} {entry.get('url')}"


def dumcel(binary, stack, *args):
    out = subprocess.run(
        [binary, f"-chdir={stack}", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return out.returncode, out.stdout + out.stderr


def measure(binary, endpoint, n, net):
    """Calls by operation during the no-op plan of a stack with n of each type."""
    with tempfile.TemporaryDirectory(prefix=f"dumcel-refresh-{n}-") as d:
        Path(d, "main.hcl").write_text(STACK % {"endpoint": endpoint, "n": n, "net": net})
        for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
            code, text = dumcel(binary, d, *args)
            if code != 0:
                sys.exit(f"refresh_calls: {' '.join(args)} failed:\n{text[-3000:]}")
        try:
            moto(endpoint, "reset-recording")
            moto(endpoint, "start-recording")
            code, text = dumcel(binary, d, "plan", "-detailed-exitcode", "-input=false")
            moto(endpoint, "stop-recording")
            if code != 0:
                sys.exit(f"refresh_calls: the plan after apply was not a no-op (exit {code}):\n{text[-3000:]}")
            recording = moto(endpoint, "download-recording", method="GET")
        finally:
            dumcel(binary, d, "destroy", "-auto-approve", "-input=false")
    calls = collections.Counter(action_of(json.loads(line)) for line in recording.splitlines() if line.strip())
    return calls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the dumcel binary")
    ap.add_argument("--sizes", default="1,10,100", help="objects of each type (up to 200)")
    args = ap.parse_args()
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:5005").rstrip("/")
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(not 1 <= n <= 200 for n in sizes):
        sys.exit("refresh_calls: each size must be 1 to 200 (one /24 subnet per object in a /16)")

    print("| subnets, groups, route tables (each) | objects refreshed | API calls | calls per object | by operation |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for i, n in enumerate(sizes):
        calls = measure(args.bin, endpoint, n, 100 + i)
        objects = 1 + 3 * n  # the VPC, then n of each of the others
        total = sum(calls.values())
        ops = ", ".join(f"{op} {c}" for op, c in sorted(calls.items()))
        print(f"| {n} | {objects} | {total} | {total / objects:.2f} | {ops} |")

if __name__ == "__main__":
    main()
