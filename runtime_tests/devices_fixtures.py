"""Real test devices: an OpenSSH server on loopback with throw-away keys, and the adb stand-in."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from edgeflow.devices.profile import DeviceProfile

SSHD = Path("/usr/sbin/sshd")
STANDIN_ADB = Path(__file__).parent / "standins" / "adb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sshd:
    """sshd on 127.0.0.1:<free port>, key auth only, its own host key; the client trusts only that key."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        for key in ("host_key", "user_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True)
        (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
        self.port = free_port()
        host_pub = (folder / "host_key.pub").read_text().split()
        (folder / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        (folder / "empty_known_hosts").write_text("")
        (folder / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
            f"StrictModes no\nUsePAM no\nSubsystem sftp internal-sftp\nPidFile {folder / 'sshd.pid'}\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Sshd":
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation folder sshd insists on
        self.proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "sshd.log", "w"))
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not start: {(self.dir / 'sshd.log').read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def profile(self, name: str = "test-ssh", known_hosts: str = "known_hosts", **kw) -> DeviceProfile:
        import getpass

        work = self.dir / "remote work dir"  # a space: command lines must quote
        work.mkdir(exist_ok=True)
        values = dict(name=name, transport="ssh", host="127.0.0.1", port=self.port, user=getpass.getuser(),
                      identity_file=str(self.dir / "user_key"), work_dir=str(work), python=sys.executable,
                      interpreter="ai_edge_litert", threads=(1,), timeout_s=120,
                      ssh_options=(f"UserKnownHostsFile={self.dir / known_hosts}", "LogLevel=ERROR"))
        values.update(kw)
        return DeviceProfile(**values)


def adb_profile(serial: str = "standin-0001", **kw) -> DeviceProfile:
    values = dict(name="test-adb", transport="adb", serial=serial, adb=str(STANDIN_ADB), work_dir="/data/local/tmp",
                  python=sys.executable, interpreter="ai_edge_litert", threads=(1,), timeout_s=120)
    values.update(kw)
    return DeviceProfile(**values)
