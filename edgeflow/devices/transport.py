"""Transports: run argv lists on a device and move files to and from it.

Remote command lines are built from argument lists and quoted once with ``shlex.join`` (a path with
spaces or ``;`` stays one argument). SSH uses the user's OpenSSH client, so ``~/.ssh/config``, keys,
agents and jump hosts work; host keys are verified (``StrictHostKeyChecking=yes``) unless the user asks
for ``accept-new`` explicitly.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from edgeflow.devices.profile import DeviceProfile
from edgeflow.errors import EdgeflowError

PID_FILE = ".edgeflow-run.pid"


def refuse_option_like(profile: DeviceProfile, **values: str) -> None:
    """A host, user or serial that begins with '-' would be read as an option by ssh/scp/adb."""
    for key, value in values.items():
        if value.startswith("-"):
            raise EdgeflowError(f"device profile {profile.name}: {key} {value!r} begins with '-'; refused (it "
                                "would be read as a command-line option)")


class Transport:
    """Base: subclasses say how a device command, a push and a pull look as host-side argv lists."""

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile
        self.log: list[list[str]] = []  # every host-side command run, for tests and --verbose

    def command(self, argv: list[str]) -> list[str]:
        raise NotImplementedError

    def push_command(self, local: Path, remote: str) -> list[str]:
        raise NotImplementedError

    def pull_command(self, remote: str, local: Path) -> list[str]:
        raise NotImplementedError

    def _run(self, cmd: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
        self.log.append(cmd)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout or self.profile.timeout_s)
        except subprocess.TimeoutExpired as e:
            what = cmd[-1] if len(cmd[-1]) <= 120 else cmd[-1][:117] + "..."
            raise EdgeflowError(f"device {self.profile.name}: timed out after {e.timeout:.0f} s running {what!r}; "
                                "it was stopped there. Check the device is up and not overloaded, or raise "
                                "timeout_s in its profile") from e
        except FileNotFoundError as e:
            raise EdgeflowError(f"device {self.profile.name}: {cmd[0]!r} is not installed on this host") from e
        except OSError as e:  # e.g. a profile path that is not executable
            raise EdgeflowError(f"device {self.profile.name}: cannot run {cmd[0]!r}: {e.strerror}; check that "
                                "path in the profile") from e
        self.check_connection(proc)
        return proc

    def check_connection(self, proc: subprocess.CompletedProcess) -> None:
        """Raise EdgeflowError when ``proc`` failed because the device could not be reached."""

    def run(self, argv: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
        return self._run(self.command(argv), timeout)

    # A remote command outlives the local ssh/adb client that a timeout or Ctrl-C kills: it would keep a
    # board busy and skew the next measurement. So a tracked command records its pid in its run folder
    # (``exec`` keeps the pid) and is killed there, with its process group, when it is cut short.
    kills_remote = False  # local and emulated runs are children of this process: subprocess kills them

    def run_tracked(self, argv: list[str], remote_dir: str,
                    timeout: float | None = None) -> subprocess.CompletedProcess:
        """``run`` for long commands inside ``remote_dir``: stopped on the device when cut short here."""
        if not self.kills_remote:
            return self.run(argv, timeout)
        wrapped = ["sh", "-c", f'echo $$ > "$0/{PID_FILE}"; exec "$@"', remote_dir, *argv]
        try:
            return self.run(wrapped, timeout)
        except BaseException:  # a timeout (EdgeflowError), Ctrl-C or SIGTERM: stop it there, then go on
            self.stop_remote(remote_dir)
            raise

    def stop_remote(self, remote_dir: str) -> None:
        """Best effort: TERM, then KILL, the process group and the process whose pid the run folder holds."""
        script = (f'p=$(cat "$0/{PID_FILE}" 2>/dev/null) || exit 0; kill -s TERM -- "-$p" "$p" 2>/dev/null; '
                  f'sleep 1; kill -s KILL -- "-$p" "$p" 2>/dev/null; exit 0')
        try:
            self.run(["sh", "-c", script, remote_dir], timeout=30)
        except EdgeflowError:
            pass

    def push(self, local: Path, remote: str) -> None:
        proc = self._run(self.push_command(local, remote))
        if proc.returncode != 0:
            raise EdgeflowError(f"device {self.profile.name}: copying {local.name} failed: {_last(proc.stderr)}")

    def pull(self, remote: str, local: Path) -> None:
        proc = self._run(self.pull_command(remote, local))
        if proc.returncode != 0:
            raise EdgeflowError(f"device {self.profile.name}: fetching {remote} failed: {_last(proc.stderr)}")

    def make_temp_dir(self) -> str:
        proc = self.run(["mktemp", "-d", f"{self.profile.work_dir.rstrip('/')}/edgeflow.XXXXXX"])
        if proc.returncode != 0:
            raise EdgeflowError(f"device {self.profile.name}: cannot create a temp folder in "
                                f"{self.profile.work_dir}: {_last(proc.stderr)}")
        return proc.stdout.strip()

    def remove_dir(self, remote: str) -> None:
        """Best effort: the device may be gone already."""
        try:
            self.run(["rm", "-rf", remote], timeout=30)
        except EdgeflowError:
            pass


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


class LocalTransport(Transport):
    """This machine, through subprocesses (no shell). A relative ``python`` path in the profile (such as
    ``.venv/bin/python``) is taken from the project root, so it works from any working directory."""

    def command(self, argv: list[str]) -> list[str]:
        from edgeflow.paths import project_root

        py = self.profile.python
        if argv and argv[0] == py and "/" in py and not py.startswith("/"):
            return [str(project_root() / py), *argv[1:]]
        return list(argv)

    def push_command(self, local: Path, remote: str) -> list[str]:
        return ["cp", str(local), remote]

    def pull_command(self, remote: str, local: Path) -> list[str]:
        return ["cp", remote, str(local)]


class SshTransport(Transport):
    """OpenSSH client: ``ssh``/``scp`` with batch mode (never a password prompt)."""

    kills_remote = True

    def __init__(self, profile: DeviceProfile, *, accept_new_host_key: bool = False) -> None:
        super().__init__(profile)
        if not profile.host:
            raise EdgeflowError(f"device profile {profile.name}: ssh transport needs host")
        refuse_option_like(profile, host=profile.host, user=profile.user)
        self.accept_new = accept_new_host_key

    def _options(self) -> list[str]:
        opts = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-o", f"StrictHostKeyChecking={'accept-new' if self.accept_new else 'yes'}"]
        if self.profile.identity_file:
            opts += ["-i", str(Path(self.profile.identity_file).expanduser()), "-o", "IdentitiesOnly=yes"]
        for o in self.profile.ssh_options:
            opts += ["-o", o]
        return opts

    @property
    def target(self) -> str:
        return f"{self.profile.user}@{self.profile.host}" if self.profile.user else self.profile.host

    # "--" ends the options: nothing after it (destination, paths) can be read as one
    def command(self, argv: list[str]) -> list[str]:
        return ["ssh", "-p", str(self.profile.port), *self._options(), "--", self.target, shlex.join(argv)]

    def push_command(self, local: Path, remote: str) -> list[str]:
        return ["scp", "-q", "-P", str(self.profile.port), *self._options(), "--", str(local),
                f"{self.target}:{remote}"]

    def pull_command(self, remote: str, local: Path) -> list[str]:
        return ["scp", "-q", "-P", str(self.profile.port), *self._options(), "--", f"{self.target}:{remote}",
                str(local)]

    def check_connection(self, proc: subprocess.CompletedProcess) -> None:
        if proc.returncode == 255:  # ssh's own failures: refused, unreachable, auth, host key
            raise EdgeflowError(f"device {self.profile.name}: ssh to {self.target} port {self.profile.port} "
                                f"failed: {_last(proc.stderr)}. Check the host is up, the port, your key, and "
                                "known_hosts (--accept-new-host-key to trust a new host once)")


class AdbTransport(Transport):
    """Android Debug Bridge: ``adb -s SERIAL push|pull|shell``."""

    kills_remote = True

    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        if not profile.serial:
            raise EdgeflowError(f"device profile {profile.name}: adb transport needs serial")
        refuse_option_like(profile, serial=profile.serial)

    def _adb(self) -> list[str]:
        return [self.profile.adb, "-s", self.profile.serial]

    def command(self, argv: list[str]) -> list[str]:
        return [*self._adb(), "shell", shlex.join(argv)]

    def push_command(self, local: Path, remote: str) -> list[str]:
        return [*self._adb(), "push", str(local), remote]

    def pull_command(self, remote: str, local: Path) -> list[str]:
        return [*self._adb(), "pull", remote, str(local)]

    def ensure_listed(self) -> None:
        proc = self._run([self.profile.adb, "devices"], timeout=30)
        listed = [line.split()[0] for line in proc.stdout.splitlines()[1:] if line.strip().endswith("device")]
        if self.profile.serial not in listed:
            raise EdgeflowError(f"device {self.profile.name}: adb serial {self.profile.serial} is not listed by "
                                f"`adb devices` (listed: {', '.join(listed) or 'none'}); check the cable and "
                                "that USB debugging is authorised")


class QemuTransport(LocalTransport):
    """An emulated arm64 core on this machine: the device's python is the sysroot's, run under qemu-user;
    files stay on the host (qemu resolves paths missing from the sysroot to the host's)."""

    def __init__(self, profile: DeviceProfile) -> None:
        super().__init__(profile)
        from edgeflow.devices.arm_sysroot import CORES, emulated_python

        if profile.qemu_cpu not in CORES:
            raise EdgeflowError(f"device profile {profile.name}: qemu_cpu must be one of {', '.join(CORES)}")
        self.python = emulated_python(profile.qemu_cpu)

    def command(self, argv: list[str]) -> list[str]:
        if argv and argv[0] == self.profile.python:
            return [*self.python, *argv[1:]]
        if argv[:1] == ["taskset"] and len(argv) > 2 and argv[2] == self.profile.python:
            return [*argv[:2], *self.python, *argv[3:]]
        return list(argv)


def make_transport(profile: DeviceProfile, *, accept_new_host_key: bool = False) -> Transport:
    if profile.transport == "ssh":
        return SshTransport(profile, accept_new_host_key=accept_new_host_key)
    if profile.transport == "adb":
        t = AdbTransport(profile)
        t.ensure_listed()
        return t
    if profile.transport == "qemu":
        return QemuTransport(profile)
    return LocalTransport(profile)
