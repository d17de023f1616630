"""Device profiles are validated; ssh/scp/adb argv cannot be turned into options."""

import pytest

from edgeflow.devices.profile import DeviceProfile, load_profile
from edgeflow.devices.transport import AdbTransport, SshTransport
from edgeflow.errors import EdgeflowError


def _ssh(**kw):
    return SshTransport(DeviceProfile(name="pi", transport="ssh", host="pi.local", user="pi", **kw))


def test_ssh_destination_comes_after_the_end_of_options():
    t = _ssh(ssh_options=("LogLevel=ERROR",))
    cmd = t.command(["python3", "x.py", "--threads", "1"])
    assert cmd[cmd.index("--") + 1:] == ["pi@pi.local", "python3 x.py --threads 1"]
    assert cmd.index("--") > cmd.index("LogLevel=ERROR")
    push = t.push_command(__import__("pathlib").Path("-local file"), "/tmp/r")
    assert push[push.index("--") + 1:] == ["-local file", "pi@pi.local:/tmp/r"]
    pull = t.pull_command("/tmp/r", __import__("pathlib").Path("out"))
    assert pull[pull.index("--") + 1:] == ["pi@pi.local:/tmp/r", "out"]


@pytest.mark.parametrize("field,value", [("host", "-oProxyCommand=touch pwned"), ("user", "-F/dev/null")])
def test_ssh_host_or_user_that_looks_like_an_option_is_refused(field, value):
    values = {"host": "pi.local", "user": "pi", field: value}
    with pytest.raises(EdgeflowError, match="begins with '-'"):
        SshTransport(DeviceProfile(name="pi", transport="ssh", **values))


def test_adb_serial_that_looks_like_an_option_is_refused():
    with pytest.raises(EdgeflowError, match="begins with '-'"):
        AdbTransport(DeviceProfile(name="phone", transport="adb", serial="-a"))


def _write(tmp_path, body):
    path = tmp_path / "dev.toml"
    path.write_text(body)
    return str(path)


@pytest.mark.parametrize("body,message", [
    ('transport = "local"\ntimeout_s = "abc"\n', "timeout_s must be an integer or a number"),
    ('transport = "local"\ntimeout_s = true\n', "timeout_s must be"),
    ('transport = "local"\ntimeout_s = 0\n', "positive number of seconds"),
    ('transport = "local"\ntimeout_s = nan\n', "positive number of seconds"),
    ('transport = "local"\npython = 3\n', "python must be a string, got 3"),
    ('transport = "local"\nthreads = "many"\n', "threads must be a list"),
    ('transport = "local"\nthreads = [1, "x"]\n', "non-empty list of integers"),
    ('transport = "local"\nthreads = [0]\n', "threads must be >= 1"),
    ('transport = "ssh"\nhost = "h"\nssh_options = "A=b"\n', "ssh_options must be a list"),
    ('transport = "ssh"\nhost = "h"\nport = 0\n', "port must be 1-65535"),
    ('transport = "local"\nthredas = [1]\n', "unknown key 'thredas' (did you mean 'threads'?)"),
    ('transport = "local"\ncolour = "red"\n', "unknown key 'colour'; known keys"),
    ('transport = "local"\ngpu = "yes"\n', "gpu must be true or false"),
])
def test_bad_profiles_are_named(tmp_path, body, message):
    with pytest.raises(EdgeflowError) as e:
        load_profile(_write(tmp_path, body))
    assert message in str(e.value)


def test_shipped_profiles_load_and_keep_their_flags():
    assert load_profile("desktop-gpu").extra == {"gpu": True}
    assert load_profile("rpi4-emulated").extra == {"emulated": True}
    rpi4 = load_profile("rpi4")
    assert rpi4.threads == (1, 2, 4) and rpi4.port == 22 and rpi4.host == "raspberrypi.local"
