"""Do the fast layers ever run more threads than there are cores? Measured, per configuration.

Usage (from the project root)::

    python tests/benchmarks/thread_pools.py            # every configuration below, a table
    python tests/benchmarks/thread_pools.py --json     # one line of JSON for this process's environment

Each configuration runs in its own process (thread settings are read at start):
``OMP_NUM_THREADS`` (the kernels' OpenMP team) and ``OPENBLAS_NUM_THREADS``
(numpy's and SciPy's BLAS pools) unset, 1, or 2 x the cores. The process
alternates a numpy matrix product (which wakes numpy's BLAS pool; its threads
keep spinning for a while after it) with a convolution forward + backward on
the row-12 network's layer, and counts, during the convolutions only, the CPU
time of every thread of the process (``/proc/self/task/*/schedstat``, in
nanoseconds). It reports the threads that did more than ``BUSY_SHARE`` of the
process's CPU work during the convolutions (shares of CPU time, not of wall
time, so that the figure holds on a loaded machine), and the work done by the
others: one pool at a time means at most as many busy threads as cores.
Linux only (``/proc``).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: A thread counts as busy when it did this share of the process's CPU work during the convolutions.
BUSY_SHARE = 0.05
ROUNDS = 12


def thread_cpu_ns():
    """{thread id: nanoseconds it has run on a CPU} for every thread of this process."""
    times = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as stat:
                times[tid] = int(stat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread ended meanwhile
    return times


def measure():
    """Busy threads and their shares of the CPU work during conv forward + backward, this process."""
    import fast_ext
    from reference.fast_layers import conv_backward_fast, conv_forward_fast

    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3, 32, 32)).astype(np.float32)
    w = rng.standard_normal((32, 3, 7, 7)).astype(np.float32)
    b = np.zeros(32, np.float32)
    dout = rng.standard_normal((50, 32, 32, 32)).astype(np.float32)
    a = rng.standard_normal((512, 512)).astype(np.float32)
    conv_param = {"stride": 1, "pad": 3}
    used, wall = {}, 0.0
    for _ in range(ROUNDS):
        a @ a  # numpy's BLAS pool: awake and spinning when the convolution starts
        before, started = thread_cpu_ns(), time.perf_counter()
        _, cache = conv_forward_fast(x, w, b, conv_param)
        conv_backward_fast(dout, cache)
        wall += time.perf_counter() - started
        after = thread_cpu_ns()
        for tid, ns in after.items():
            used[tid] = used.get(tid, 0) + ns - before.get(tid, 0)
    total = max(1, sum(used.values()))
    shares = sorted((ns / total for ns in used.values()), reverse=True)
    busy = [share for share in shares if share > BUSY_SHARE]
    return {"busy_threads": len(busy), "busy_shares": [round(share, 3) for share in busy],
            "others_share": round(sum(shares[len(busy):]), 4),
            "cpu_per_wall": round(total / 1e9 / wall, 2),
            "threads_in_process": len(used), "cores": len(os.sched_getaffinity(0)),
            "openmp_team": fast_ext.parallel_info().num_threads}


def configurations(cores):
    """(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) pairs; None is unset."""
    values = (None, "1", str(2 * cores))
    return [(omp, blas) for omp in values for blas in values]


def run_configuration(omp, blas):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    for name, value in (("OMP_NUM_THREADS", omp), ("OPENBLAS_NUM_THREADS", blas)):
        env.pop(name, None)
        if value is not None:
            env[name] = value
    result = subprocess.run([sys.executable, __file__, "--json"], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True, timeout=300)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="measure this process only, print JSON")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure()))
        return
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores; load average {os.getloadavg()[0]:.2f}")
    print(f"{'OMP_NUM_THREADS':>16}{'OPENBLAS_NUM_THREADS':>22}{'team':>6}{'busy threads':>14}"
          f"{'others':>8}{'CPU/wall':>10}  busy threads' shares of the CPU work")
    for omp, blas in configurations(cores):
        result = run_configuration(omp, blas)
        print(f"{omp or 'unset':>16}{blas or 'unset':>22}{result['openmp_team']:>6}"
              f"{result['busy_threads']:>14}{result['others_share']:>8.3f}{result['cpu_per_wall']:>10.2f}"
              f"  {result['busy_shares']}")


if __name__ == "__main__":
    main()
