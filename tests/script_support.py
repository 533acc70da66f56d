"""What the Python end-to-end tests (prometheus_test.py, http_fuzz_test.py) share: a free loopback
port, and stopping their processes and removing their scratch directory at the end."""
import os
import shutil
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_and_clean(procs, work, timeout_s=20):
    """SIGTERM to each process still running (they drain), SIGKILL after `timeout_s`; then removes
    `work`, unless NBAPROPS_KEEP_TEST_DIR is set (to look at the logs in it)."""
    live = [p for p in procs if p is not None and p.poll() is None]
    for p in live:
        p.terminate()
    for p in live:
        try:
            p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
    if os.environ.get("NBAPROPS_KEEP_TEST_DIR"):
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
