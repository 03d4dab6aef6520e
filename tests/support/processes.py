"""Run the real `hotline` console script as subprocesses, the way an operator would.

`Processes` starts `hotline serve` / `hotline worker` with an environment of our choosing (the
parent's environment minus every HOTLINE_* variable, plus the test's), writes each process's
output to files, waits for readiness by polling (never by sleeping a fixed time), and stops
everything on teardown: SIGTERM, a bounded wait, then SIGKILL. Failures carry the processes' logs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import requests

HOTLINE = Path(sys.executable).parent / "hotline"
READY_TIMEOUT = 30.0
POLL_INTERVAL = 0.1
STOP_TIMEOUT = 15.0
CLI_TIMEOUT = 60.0
# The tail of each log shown in a failure message.
LOG_TAIL_CHARS = 6000

T = TypeVar("T")


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hotline_env(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any HOTLINE_* variable, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HOTLINE_")}
    env.update(variables)
    # Unbuffered output, so the logs in a failure message are complete.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _tail(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no output file)"
    if len(text) > LOG_TAIL_CHARS:
        text = "…" + text[-LOG_TAIL_CHARS:]
    return text.strip() or "(empty)"


@dataclass
class HotlineProcess:
    """One running `hotline …` process and the files its output goes to."""

    name: str
    args: list[str]
    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    base_url: str | None = None
    # False once the test stopped or killed it on purpose.
    expected_running: bool = True
    _files: list[IO[bytes]] = field(default_factory=list, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def logs(self) -> str:
        state = "running" if self.running() else f"exited with {self.popen.returncode}"
        return (
            f"--- {self.name}: hotline {' '.join(self.args)} (pid {self.pid}, {state})\n"
            f"stdout:\n{_tail(self.stdout_path)}\nstderr:\n{_tail(self.stderr_path)}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit code.

        Whatever the process left behind in its process group (rq's scheduler and work horses
        are children of the worker) is killed too, so nothing outlives the test.
        """
        self.expected_running = False
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        return self.kill()

    def kill(self) -> int:
        """SIGKILL to the process and its children, as a crash of the container would."""
        self.expected_running = False
        # The group was created for this process alone (start_new_session), so its id is ours.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=STOP_TIMEOUT)
        self._close_files()
        return int(self.popen.returncode)

    def _close_files(self) -> None:
        for handle in self._files:
            handle.close()
        self._files.clear()


class Processes:
    """Starts hotline processes for one test and stops all of them at its end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.started: list[HotlineProcess] = []
        self._counter = 0

    # --- starting --------------------------------------------------------------------------

    def start(self, name: str, args: list[str], env: Mapping[str, str]) -> HotlineProcess:
        self._counter += 1
        stem = f"{self._counter:02d}-{name}"
        stdout_path = self.log_dir / f"{stem}.stdout.log"
        stderr_path = self.log_dir / f"{stem}.stderr.log"
        stdout = stdout_path.open("wb")
        stderr = stderr_path.open("wb")
        try:
            popen = subprocess.Popen(
                [str(HOTLINE), *args],
                env=hotline_env(env),
                cwd=self.log_dir,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                # A process group of its own: teardown can reach its children by its id.
                start_new_session=True,
            )
        except BaseException:
            stdout.close()
            stderr.close()
            raise
        process = HotlineProcess(
            name, args, popen, stdout_path, stderr_path, _files=[stdout, stderr]
        )
        self.started.append(process)
        return process

    def serve(self, env: Mapping[str, str], name: str = "serve") -> HotlineProcess:
        """`hotline serve` on a free port; returns once GET /healthz answers 200."""
        port = free_port()
        process = self.start(name, ["serve"], {**env, "HOTLINE_PORT": str(port)})
        process.base_url = f"http://127.0.0.1:{port}"
        self.wait_healthy(process)
        return process

    def worker(self, env: Mapping[str, str], name: str = "worker") -> HotlineProcess:
        """`hotline worker`: it has no port, so its readiness shows in what it does.

        Poll for that with `poll`, which also fails at once if the worker died.
        """
        return self.start(name, ["worker"], env)

    def wait_healthy(self, process: HotlineProcess, timeout: float = READY_TIMEOUT) -> None:
        url = f"{process.base_url}/healthz"
        last = "no answer yet"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.running():
                raise AssertionError(self.explain(f"{process.name} exited before it was ready"))
            try:
                response = requests.get(url, timeout=2)
            except requests.RequestException as exc:
                last = f"{type(exc).__name__}"
            else:
                with response:
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
            time.sleep(POLL_INTERVAL)
        raise AssertionError(
            self.explain(f"{process.name}: GET /healthz not 200 within {timeout:.0f} s ({last})")
        )

    # --- one-shot commands -------------------------------------------------------------------

    def run(
        self,
        args: list[str],
        env: Mapping[str, str],
        *,
        input_text: str | None = None,
        timeout: float = CLI_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """Run `hotline ARGS` to completion (bounded) and return what it printed."""
        return subprocess.run(
            [str(HOTLINE), *args],
            env=hotline_env(env),
            cwd=self.log_dir,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def add_staff(
        self, env: Mapping[str, str], username: str, password: str, role: str = "hotline"
    ) -> subprocess.CompletedProcess[str]:
        """`hotline staff add USERNAME --password-stdin --role ROLE`, asserting it succeeded."""
        result = self.run(
            ["staff", "add", username, "--password-stdin", "--role", role],
            env,
            input_text=password + "\n",
        )
        assert result.returncode == 0, self.explain(
            f"hotline staff add exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    # --- waiting and reporting ---------------------------------------------------------------

    def poll(
        self,
        probe: Callable[[], T | None],
        what: str,
        *,
        timeout: float = READY_TIMEOUT,
        interval: float = POLL_INTERVAL,
    ) -> T:
        """Call `probe` until it returns something other than None/False; fail with the logs."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            result = probe()
            if result is not None and result is not False:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(self.explain(f"{what}: not within {timeout:.0f} s"))
            time.sleep(interval)

    def check_alive(self) -> None:
        """Fail (with the logs) if a process that should be running has exited."""
        dead = [p.name for p in self.started if p.expected_running and not p.running()]
        if dead:
            raise AssertionError(self.explain(f"exited unexpectedly: {', '.join(dead)}"))

    def logs(self) -> str:
        return "\n".join(process.logs() for process in self.started) or "(no processes started)"

    def explain(self, message: str) -> str:
        return f"{message}\n\n{self.logs()}"

    def stop_all(self) -> None:
        # Newest first: workers and servers started later may depend on earlier ones.
        for process in reversed(self.started):
            process.stop()
