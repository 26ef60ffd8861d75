"""servicestudy benchmarks: each task timed side by side with its peers in one run.

    python bench/run.py [--sizes 1000,10000,100000,1000000] [--timeout 180] [--quick]

Every (task, size, implementation) runs in its own process (``bench/tasks.py`` or
``bench/psych_peer.R``) so that peak memory is its own; times cover the computation only.
Results go to ``bench/results/results.json`` and a Markdown table ``bench/results/results.md``,
which is also printed. Peers: pingouin (alpha), factor_analyzer (KMO, Bartlett, EFA),
statsmodels (OLS HC3), and R's psych when ``Rscript`` is on the PATH (skipped otherwise).
Results are compared with ours and the table says whether they agree.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from tasks import likert  # noqa: E402

# task -> (item count, peers, sizes it runs at (None = all))
TASKS: dict[str, tuple[int, tuple[str, ...], tuple[int, ...] | None]] = {
    "alpha_boot": (20, ("psych",), None),  # pingouin has no bootstrap CI: compared in "alpha"
    "omega": (20, ("psych",), None),
    "kmo_bartlett": (20, ("psych", "factor_analyzer"), None),
    "efa": (20, ("psych", "factor_analyzer"), None),
    "parallel": (20, ("psych",), None),
    "alpha": (20, ("psych", "pingouin"), None),
    "ols_hc3": (20, ("statsmodels",), None),
    "relative_weights": (20, (), None),
    "careless": (20, (), None),
    "chunked_pipeline": (30, (), (1_000_000,)),
    "read_xlsx": (0, ("pandas_openpyxl",), (100_000,)),
    "pipeline": (0, (), (1_000, 10_000, 100_000)),
}
# agreement tolerances per task (relative), and which result keys to compare
TOL = {"alpha_boot": ("alpha", 1e-10), "omega": ("omega_total", 1e-3), "kmo_bartlett": ("kmo", 1e-8),
       "efa": ("h2_sum", 1e-3), "parallel": ("n_factors", 0), "ols_hc3": ("se1", 1e-8), "alpha": ("alpha", 1e-10),
       "read_xlsx": ("rows", 0)}


def _run(cmd: list[str], timeout: float) -> dict:
    t0 = time.perf_counter()
    # own process group: on a timeout the whole group is killed (psych forks bootstrap workers)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"status": f"timeout > {timeout:.0f} s", "seconds": math.inf}
    out = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["failed"])[-1]
        return {"status": f"failed: {last[:80]}"}
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    res = json.loads(line)
    res["status"] = "ok"
    res["wall_process"] = time.perf_counter() - t0
    return res


def _python_for(impl: str) -> str:
    return sys.executable


def _available(impl: str) -> bool:
    if impl == "psych":
        return shutil.which("Rscript") is not None
    mod = {"pandas_openpyxl": "openpyxl", "pingouin": "pingouin", "factor_analyzer": "factor_analyzer", "statsmodels": "statsmodels"}[impl]
    return importlib.util.find_spec(mod) is not None


def _data_files(n: int, k: int) -> tuple[Path, Path]:
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    csv, pq = data / f"likert_{n}_{k}.csv", data / f"likert_{n}_{k}.parquet"
    if not csv.exists() or not pq.exists():
        df = likert(n, k)
        df.astype("int8").to_csv(csv, index=False)
        df.to_parquet(pq, index=False)
    return csv, pq


def _agree(task: str, ours: dict, peer: dict) -> str:
    key, tol = TOL.get(task, (None, None))
    if key is None or key not in (ours.get("result") or {}) or key not in (peer.get("result") or {}):
        return "n/a"
    a, b = ours["result"][key], peer["result"][key]
    if a is None or b is None:
        return "n/a"
    if tol == 0:
        return "yes" if a == b else f"no ({a} vs {b})"
    rel = abs(a - b) / max(abs(b), 1e-300)
    return "yes" if rel <= tol else f"no (rel {rel:.1e})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,10000,100000,1000000")
    p.add_argument("--timeout", type=float, default=180.0)
    p.add_argument("--tasks", default=",".join(TASKS))
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for task in args.tasks.split(","):
        k, peers, only = TASKS[task]
        for n in sizes if only is None else ([s for s in sizes if s in only] or list(only)):
            csv, _pq = _data_files(n, k) if k else (None, None)
            ours = _run([sys.executable, str(HERE / "tasks.py"), task, "servicestudy", str(n), str(k),
                         "--data", str(HERE / "data")], args.timeout)
            rows.append({"task": task, "n": n, "k": k, "impl": "servicestudy", **ours})
            print(f"{task:>16} n={n:>8} servicestudy    {ours.get('seconds', float('nan')):9.3f} s  {ours['status']}", flush=True)
            for peer in peers:
                if not _available(peer):
                    rows.append({"task": task, "n": n, "k": k, "impl": peer, "status": "not installed"})
                    continue
                if peer == "psych":
                    res = _run(["Rscript", str(HERE / "psych_peer.R"), task, str(csv)], args.timeout)
                else:
                    res = _run([_python_for(peer), str(HERE / "tasks.py"), task, peer, str(n), str(k)], args.timeout)
                res["agree"] = _agree(task, ours, res) if res.get("status") == "ok" else "n/a"
                rows.append({"task": task, "n": n, "k": k, "impl": peer, **res})
                print(f"{task:>16} n={n:>8} {peer:<15} {res.get('seconds', float('nan')):9.3f} s  {res['status']}", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    meta = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": os.cpu_count(),
            "timing": "best of up to 3 repeats when a run takes under 2 s"}
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str) + "\n")
    table = render(rows)
    (out / "results.md").write_text(table + "\n")
    print()
    print(table)


def render(rows: list[dict]) -> str:
    ours = {(r["task"], r["n"]): r for r in rows if r["impl"] == "servicestudy"}
    lines = ["| task | n | implementation | seconds | peak MB | peer / ours | results agree |",
             "|---|---:|---|---:|---:|---:|---|"]
    for r in rows:
        sec = r.get("seconds")
        s = "" if sec is None else (r["status"] if not math.isfinite(sec) else (f"{sec:.3f}" if sec >= 0.01 else f"{sec:.5f}"))
        if r.get("status") not in ("ok",) and not s:
            s = r.get("status", "")
        mem = f"{r['peak_rss_mb']:.0f}" if r.get("peak_rss_mb") else ""
        ratio = ""
        base = ours.get((r["task"], r["n"]))
        if r["impl"] != "servicestudy" and base and base.get("status") == "ok" and sec:
            ratio = f"{sec / base['seconds']:.1f}x" if math.isfinite(sec) else f"> {float(r['status'].split('>')[1].split()[0]) / base['seconds']:.0f}x"
        lines.append(f"| {r['task']} | {r['n']:,} | {r['impl']} | {s} | {mem} | {ratio} | {r.get('agree', '')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
