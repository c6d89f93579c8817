"""What starting a local service needs from the machine: Java, Maven, free ports, our own pids."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from schemas.errors import ServiceError

MIN_JAVA = 17


def find_java(configured: str | None) -> str:
    candidates = [configured] if configured else []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    candidates.append("java")
    for candidate in candidates:
        found = shutil.which(candidate) if candidate else None
        if found:
            major = java_major(found)
            if major >= MIN_JAVA:
                return found
            raise ServiceError(
                f"{found} is Java {major}; Kafka and OpenSearch here need Java {MIN_JAVA} or newer",
                hint="install openjdk-17-jre-headless, or set services.java / JAVA_HOME to a Java 17+",
            )
    raise ServiceError(
        "Java was not found",
        hint="install Java 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
    )


def java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    first = int(match.group(1))
    return int(match.group(2) or 0) if first == 1 else first  # "1.8" means Java 8


def find_maven() -> str:
    found = shutil.which("mvn")
    if not found:
        raise ServiceError(
            "Maven (mvn) was not found; it downloads Kafka and OpenSearch from Maven Central",
            hint="install it (apt-get install maven) and run the command again",
        )
    return found


def resolve_classpath(pom: Path, lib_dir: Path, properties: dict[str, str], log_file: Path, what: str) -> None:
    """Copy the runtime classpath of ``pom`` into ``lib_dir`` once per version set."""
    if classpath_resolved(lib_dir, properties):
        return
    if lib_dir.exists():
        shutil.rmtree(lib_dir)
    lib_dir.mkdir(parents=True)
    command = [
        find_maven(), "-B", "-f", str(pom), "dependency:copy-dependencies",
        f"-DoutputDirectory={lib_dir}", "-DincludeScope=runtime",
        *(f"-D{key}={value}" for key, value in properties.items()),
    ]  # fmt: skip
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise ServiceError(
            f"downloading {what} from Maven Central failed (mvn exit {result.returncode})",
            hint=f"read {log_file}; check that Maven Central is reachable and the version exists",
        )
    (lib_dir / ".resolved").write_text(json.dumps(properties, sort_keys=True))


def classpath_resolved(lib_dir: Path, properties: dict[str, str]) -> bool:
    stamp = lib_dir / ".resolved"
    return stamp.is_file() and stamp.read_text() == json.dumps(properties, sort_keys=True)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


@dataclass
class ProcessRecord:
    """What `services up` remembers of a process it started, so `down` stops only that one."""

    pid: int
    port: int
    started_at: float
    log: str
    marker: str  # a string in the process's command line that only our process has

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> ProcessRecord | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def alive(self) -> bool:
        """True only if the pid runs and is still our process (pids get reused)."""
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        return self.marker.encode() in cmdline

    def stop(self, grace_s: float = 30.0) -> None:
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if not self.alive():
                return
            time.sleep(0.2)
        os.killpg(self.pid, signal.SIGKILL)
        while self.alive():
            time.sleep(0.1)


def start_background(
    command: list[str], stdout_log: Path, cwd: Path, env: dict[str, str] | None = None, run_as: tuple[int, int] | None = None
) -> int:
    """Start ``command`` detached; ``run_as`` (uid, gid) for a service that refuses root."""
    stdout_log.parent.mkdir(parents=True, exist_ok=True)
    with stdout_log.open("ab") as out:
        try:
            process = _popen(command, out, cwd, env, run_as)
        except OSError as exc:
            who = f" as uid {run_as[0]}" if run_as else ""
            raise ServiceError(
                f"cannot start {command[0]}{who}: {exc.strerror or exc}",
                hint="check that the file exists, is executable, and that every folder above it can be entered by that user",
            ) from None
    return process.pid


def _popen(command: list[str], out, cwd: Path, env: dict[str, str] | None, run_as: tuple[int, int] | None) -> subprocess.Popen:
    return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own process group: not killed with the CLI, stoppable as a group
            user=run_as[0] if run_as else None,
            group=run_as[1] if run_as else None,
            extra_groups=[] if run_as else None,  # drop root's supplementary groups too
        )


def exit_status(pid: int) -> int | None:
    """Reap ``pid`` if it was our child and has exited; its exit code, else None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status) if done else None
