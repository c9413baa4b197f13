"""Samples a YARN application while it runs (bench/yarn/run.sh): the first moment a task runs,
as its AM's Spark-style /api/v1 reports it through the RM proxy, and the peak RSS of each of its
containers (every process whose environment names the container), and each container's last
sample (for the idle applications: an idle executor's RSS). Usage:
sample.py RM_URL APP_NAME OUT_JSON  -- runs until the application is in a final state.
With SAMPLE_SPNEGO=1 (a secure cluster) every request goes through curl --negotiate, with the
Kerberos ticket cache of KRB5CCNAME."""
import json, os, subprocess, sys, time, urllib.request

rm, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.time()

def get(url, timeout=2):
    if os.environ.get("SAMPLE_SPNEGO") == "1":
        out = subprocess.run(["curl", "-sf", "--negotiate", "-u", ":", "-L", "-m", str(timeout),
                              "-H", "Accept: application/json", url],
                             capture_output=True, check=True).stdout
        return json.loads(out.decode())
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())

def find_app():
    apps = (get(f"{rm}/ws/v1/cluster/apps").get("apps") or {}).get("app") or []
    mine = [a for a in apps if a.get("name") == name]
    return mine[0] if mine else None

def rss_by_container(suffix):
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            cid = next((e[13:].decode() for e in env if e.startswith(b"CONTAINER_ID=container_" + suffix.encode())), None)
            if cid is None:
                continue
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    found[cid] = found.get(cid, 0) + int(line.split()[1])
        except (OSError, StopIteration):
            pass
    return found

app, first_task, peak, last, state = None, None, {}, {}, None
while True:
    try:
        if app is None:
            a = find_app()
            if a:
                app = a["id"]
        else:
            a = get(f"{rm}/ws/v1/cluster/apps/{app}")["app"]
        if a:
            state = a.get("state")
            if state in ("FINISHED", "FAILED", "KILLED"):
                break
            if first_task is None and state == "RUNNING" and a.get("trackingUrl", "").startswith("http"):
                base = a["trackingUrl"].rstrip("/").replace(":0/", ":" + rm.rsplit(":", 1)[1] + "/")
                try:
                    ids = get(f"{base}/api/v1/applications")
                    for s in get(f"{base}/api/v1/applications/{ids[0]['id']}/stages"):
                        if s.get("numActiveTasks", 0) > 0 or s.get("numCompleteTasks", 0) > 0:
                            first_task = time.time() - t0
                            break
                except Exception:
                    pass
            for cid, kb in rss_by_container(app[len("application_"):] + "_").items():
                peak[cid] = max(peak.get(cid, 0), kb)
                last[cid] = kb
    except Exception:
        pass
    time.sleep(0.1)
am = {c: kb for c, kb in peak.items() if c.endswith("_000001")}
ex = {c: kb for c, kb in peak.items() if not c.endswith("_000001")}
# The last sample of a container is its memory at the end of the application: for the idle
# applications (a small job, then seconds of nothing) that is an idle executor's RSS.
ex_last = {c: kb for c, kb in last.items() if not c.endswith("_000001")}
json.dump({"app": app, "state": state, "first_task_s": first_task,
           "am_rss_mb": round(max(am.values(), default=0) / 1024, 1),
           "executor_rss_mb": round(max(ex.values(), default=0) / 1024, 1),
           "executor_last_rss_mb": round(max(ex_last.values(), default=0) / 1024, 1)}, open(out, "w"))
