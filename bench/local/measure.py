"""Runs a command and prints one JSON line: wall seconds, CPU seconds, peak
RSS, and the job seconds the program reported (Spindle's "job N (...)
finished in D" lines with SPINDLE_VERBOSE=1, Spark's "job_seconds=S").

Memory and CPU cover the command's whole process tree, sampled from /proc
every 50 ms: pyspark starts the JVM as a child it never waits for, so
getrusage(RUSAGE_CHILDREN) alone would see only the Python process.
- rss_mb: the peak of the tree's summed RSS (MiB);
- rss_max_mb: the peak RSS of its largest single process;
- cpu: user + system seconds, the larger of getrusage over waited-for
  descendants and the sum of every tree process's last sampled CPU time.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def seconds(text):
    m = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text)
    if not m:
        return 0.0
    scale = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    return float(m.group(1)) * scale


def stat(pid):
    """(ppid, cpu seconds, rss bytes) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        with open("/proc/%d/statm" % pid) as f:
            rss_pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    # The command name is in parentheses and may hold spaces.
    fields = s[s.rindex(")") + 2:].split()
    ppid = int(fields[1])
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    return ppid, cpu, rss_pages * PAGE


class Tree:
    """The processes descending from one pid, including ones re-parented
    after their parent exited (remembered once seen)."""

    def __init__(self, root):
        self.seen = {root}
        self.cpu = {}
        self.peak_sum = 0
        self.peak_max = 0

    def sample(self):
        procs = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = stat(int(name))
                if st:
                    procs[int(name)] = st
        children = {}
        for pid, (ppid, _, _) in procs.items():
            children.setdefault(ppid, []).append(pid)
        todo = [p for p in self.seen if p in procs]
        live = set()
        while todo:
            p = todo.pop()
            if p in live:
                continue
            live.add(p)
            todo.extend(children.get(p, []))
        self.seen |= live
        total = 0
        for p in live:
            _, cpu, rss = procs[p]
            self.cpu[p] = cpu
            total += rss
            self.peak_max = max(self.peak_max, rss)
        self.peak_sum = max(self.peak_sum, total)


def main():
    cmd = sys.argv[1:]
    start = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = Tree(p.pid)
    # Read the output on threads so a chatty command never blocks on a full pipe.
    import threading

    out = {}

    def drain(name, stream):
        out[name] = stream.read()

    threads = [threading.Thread(target=drain, args=(n, s)) for n, s in (("o", p.stdout), ("e", p.stderr))]
    for t in threads:
        t.start()
    while p.poll() is None:
        tree.sample()
        time.sleep(0.05)
    wall = time.time() - start
    # Descendants that outlive the command (a JVM shutting down) still count.
    deadline = time.time() + 30
    while time.time() < deadline:
        tree.sample()
        if not any(os.path.exists("/proc/%d" % q) for q in tree.seen if q != p.pid):
            break
        time.sleep(0.05)
    for t in threads:
        t.join()
    stdout, stderr = out.get("o", ""), out.get("e", "")
    if p.returncode != 0:
        sys.stderr.write(stdout + stderr)
        raise SystemExit("command failed: %s" % " ".join(cmd))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = max(usage.ru_utime + usage.ru_stime, sum(tree.cpu.values()))
    rss_waited = usage.ru_maxrss * 1024
    job = 0.0
    for line in (stdout + stderr).splitlines():
        m = re.search(r"spindle: job \d+ \(.*\) finished in (\S+)", line)
        if m:
            job += seconds(m.group(1))
        m = re.search(r"job_seconds=([\d.]+)", line)
        if m:
            job += float(m.group(1))
    mib = 1024.0 * 1024.0
    print(
        json.dumps(
            {
                "wall": round(wall, 3),
                "job": round(job or wall, 3),
                # A process's own peak (getrusage) bounds the tree's from below
                # when the run is too short for the 50 ms sampling.
                "rss_mb": round(max(tree.peak_sum, tree.peak_max, rss_waited) / mib, 1),
                "rss_max_mb": round(max(tree.peak_max, rss_waited) / mib, 1),
                "cpu": round(cpu, 3),
                "procs": len(tree.seen),
            }
        )
    )


if __name__ == "__main__":
    main()
