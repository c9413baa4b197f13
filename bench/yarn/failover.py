"""Fails the ResourceManager or the NameNode of an HA mini-Hadoop over while a Spindle job runs,
and measures how long the job and Spindle's clients take to go on (bench/yarn/failover.sh).

Usage: failover.py WORK_DIR CONF_DIR SPINDLE APP_NAME rm|nn FRACTION OUT_JSON

WORK_DIR is the cluster's work dir (its control/ directory serves failover-rm and failover-nn,
docs/mini-hadoop.md), CONF_DIR its client configuration, SPINDLE the `spindle` binary. Once the
application APP_NAME runs and FRACTION of its first stage's tasks are done, the failover is asked
for. Measured from the kill (the launcher's `killed-at`), all on this machine's clock:
- progress: the first moment a task that had not begun at the kill is done (the AM's /api/v1,
  read from the AM directly every 50 ms: done > done + running of the last sample before the
  kill), and the next task done at all;
- status: (RM only) `spindle status APP` started over and over from the failover's request; the
  first one started after the kill that succeeded, at its end (Spindle's REST client, HA addresses);
- am: (RM only) the AM's RPC client: the AM's log line that says it reached the ResourceManager
  again (heartbeat answered, or registered again), as this script saw the line appear.
Writes OUT_JSON; prints nothing unless something fails."""
import glob, json, os, subprocess, sys, threading, time, urllib.request
import xml.etree.ElementTree as ET

work, conf_dir, spindle, name, kind, frac, out = sys.argv[1:8]
frac = float(frac)
now_ms = lambda: time.time() * 1000.0


def site(file):
    root = ET.parse(os.path.join(conf_dir, file)).getroot()
    return {p.findtext("name"): p.findtext("value") for p in root.iter("property")}


yarn = site("yarn-site.xml")
rms = [yarn[f"yarn.resourcemanager.webapp.address.{i}"] for i in yarn["yarn.resourcemanager.ha.rm-ids"].split(",")]


def get(url, timeout=2):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


def rm_get(path):
    """GET from whichever RM answers (a standby redirects to the active one)."""
    err = None
    for rm in rms:
        try:
            return get(f"http://{rm}{path}")
        except Exception as e:
            err = e
    raise err


def find_app():
    apps = (rm_get(f"/ws/v1/cluster/apps?name={name}").get("apps") or {}).get("app") or []
    return apps[0] if apps else None


# --- the application and its AM ---
deadline = time.time() + 600
app = None
while time.time() < deadline:
    try:
        a = find_app()
        if a and a.get("state") == "RUNNING" and a.get("amRPCAddress"):
            app, am = a["id"], "http://" + a["amRPCAddress"]
            ui_app = get(f"{am}/api/v1/applications")[0]["id"]
            break
        if a and a.get("state") in ("FINISHED", "FAILED", "KILLED"):
            sys.exit(f"failover.py: {name} ended before it was seen running")
    except Exception:
        pass
    time.sleep(0.1)
if app is None:
    sys.exit(f"failover.py: {name} not running within 600 s")

control = os.path.join(work, "control")
report_file = os.path.join(control, "rm-failovers" if kind == "rm" else "nn-failovers")


def report_count():
    try:
        return int(open(report_file).read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


# --- watchers started at the failover's request ---
status_runs = []  # (started ms, ended ms, ok)
am_lines = []  # (seen ms, line)
stop = threading.Event()


def status_prober():
    env = dict(os.environ, HADOOP_CONF_DIR=conf_dir)
    while not stop.is_set():
        t0 = now_ms()
        ok = subprocess.run([spindle, "status", app], env=env, capture_output=True).returncode == 0
        status_runs.append((t0, now_ms(), ok))
        time.sleep(0.02)


def am_log_watcher():
    path, pos = None, 0
    while not stop.is_set():
        if path is None:
            found = glob.glob(f"{work}/**/{app}/container_*_000001/stderr", recursive=True)
            if found:
                path = found[0]
                pos = os.path.getsize(path)  # only what comes after the request
        else:
            with open(path, errors="replace") as f:
                f.seek(pos)
                chunk = f.read()
                pos = f.tell()
            t = now_ms()
            for line in chunk.splitlines():
                am_lines.append((t, line))
        time.sleep(0.02)


# --- sampling, the request, the report ---
samples = []  # (ms, done, running, first stage's task count)
requested = killed_at = kill_to_active = None
before = report_count()
final = None
last_check = 0.0
while True:
    t = now_ms()
    try:
        stages = get(f"{am}/api/v1/applications/{ui_app}/stages", timeout=5)
        done = sum(s.get("numCompleteTasks", 0) for s in stages)
        running = sum(s.get("numActiveTasks", 0) for s in stages)
        first = min(stages, key=lambda s: s["stageId"])["numTasks"] if stages else 0
        samples.append((t, done, running, first))
    except Exception:
        pass
    if requested is None and samples and samples[-1][3] and samples[-1][1] >= frac * samples[-1][3]:
        requested = now_ms()
        open(os.path.join(control, "failover-rm" if kind == "rm" else "failover-nn"), "w").close()
        if kind == "rm":
            threading.Thread(target=status_prober, daemon=True).start()
            threading.Thread(target=am_log_watcher, daemon=True).start()
    if requested is not None and killed_at is None and report_count() > before:
        words = dict(w.split("=", 1) for w in open(report_file).read().split()[1:])
        killed_at, kill_to_active = float(words["killed-at"]), int(words["ms"])
    if t - last_check > 500:
        last_check = t
        try:
            state = rm_get(f"/ws/v1/cluster/apps/{app}")["app"]["state"]
            if state in ("FINISHED", "FAILED", "KILLED"):
                final = state
        except Exception:
            pass
    if final and (killed_at is not None or requested is None):
        break
    if requested is not None and now_ms() - requested > 600_000:
        sys.exit("failover.py: no failover report within 600 s")
    time.sleep(0.05)
stop.set()


def after_kill(pred):
    return next((s for s in samples if s[0] > killed_at and pred(s)), None) if killed_at else None


result = {"app": app, "kind": kind, "final_state": final, "kill_to_active_ms": kill_to_active,
          "samples": len(samples), "tasks": max((s[3] for s in samples), default=0)}
if killed_at:
    base = max((s for s in samples if s[0] <= killed_at), key=lambda s: s[0], default=None)
    if base:
        result["done_at_kill"], result["running_at_kill"] = base[1], base[2]
        nxt = after_kill(lambda s: s[1] > base[1])
        new = after_kill(lambda s: s[1] > base[1] + base[2])
        result["next_task_done_ms"] = round(nxt[0] - killed_at) if nxt else None
        result["progress_ms"] = round(new[0] - killed_at) if new else None
        # How late the progress may have been seen: the gap to the sample before it.
        if new:
            prev = max((s for s in samples if s[0] < new[0]), key=lambda s: s[0])
            result["progress_resolution_ms"] = round(new[0] - prev[0])
    if kind == "rm":
        ok = next((r for r in status_runs if r[0] >= killed_at and r[2]), None)
        result["status_ms"] = round(ok[1] - killed_at) if ok else None
        result["status_runs"] = [[round(a - killed_at), round(b - killed_at), ok] for a, b, ok in status_runs
                                 if b >= killed_at][:6]
        back = next((l for l in am_lines if "answers again" in l[1] or "registered again" in l[1]), None)
        result["am_rpc_ms"] = round(back[0] - killed_at) if back else None
        result["am_lines"] = [l[1] for l in am_lines if "ResourceManager" in l[1] or "registered" in l[1]][:8]
    try:
        attempts = rm_get(f"/ws/v1/cluster/apps/{app}/appattempts")["appAttempts"]["appAttempt"]
        result["attempts"] = len(attempts)
    except Exception:
        result["attempts"] = None
json.dump(result, open(out, "w"), indent=1)
