"""Runs a command and prints one JSON line: wall seconds, CPU seconds (user +
system of the command and the descendants it waited for), peak RSS (largest
process among them, MiB), and the job seconds the
program reported (Spindle's "job N (...) finished in D" lines with
SPINDLE_VERBOSE=1, Spark's "job_seconds=S")."""
import json
import re
import resource
import subprocess
import sys
import time


def seconds(text):
    m = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text)
    if not m:
        return 0.0
    scale = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    return float(m.group(1)) * scale


def main():
    cmd = sys.argv[1:]
    start = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - start
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit("command failed: %s" % " ".join(cmd))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss = usage.ru_maxrss / 1024.0
    cpu = usage.ru_utime + usage.ru_stime
    job = 0.0
    for line in (p.stdout + p.stderr).splitlines():
        m = re.search(r"spindle: job \d+ \(.*\) finished in (\S+)", line)
        if m:
            job += seconds(m.group(1))
        m = re.search(r"job_seconds=([\d.]+)", line)
        if m:
            job += float(m.group(1))
    print(json.dumps({"wall": round(wall, 3), "job": round(job or wall, 3), "rss_mb": round(rss, 1), "cpu": round(cpu, 3)}))


if __name__ == "__main__":
    main()
