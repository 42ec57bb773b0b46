"""``download-cifar10`` against a loopback HTTP server serving a generated archive.

The archive is a ``cifar-10-batches-py`` folder written by
``reference.data_utils.write_CIFAR10_like``, so the real loader can read what was
installed. The server (``http.server`` on 127.0.0.1, in a thread) can serve a
corrupt copy, drop the connection halfway through the body, or ignore ``Range``.
"""

import hashlib
import io
import re
import socket
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from convgrader.course import datasets
from convgrader.cli import main
from convgrader.course.datasets import ARCHIVE_NAME, DownloadError, download_cifar10
from reference.data_utils import get_CIFAR10_data, write_CIFAR10_like

pytestmark = pytest.mark.timeout(60)


def targz(files):
    """A .tar.gz holding ``files``: {member name: bytes}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def batch_files(tmp_path_factory):
    folder = write_CIFAR10_like(tmp_path_factory.mktemp("source") / "cifar-10-batches-py",
                                num_per_batch=20, seed=0)
    return {f"cifar-10-batches-py/{path.name}": path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def archive(batch_files):
    payload = targz(batch_files)
    assert len(payload) > 4 * datasets.CHUNK_BYTES  # so that "halfway" is several chunks in
    return payload


def md5(payload):
    return hashlib.md5(payload).hexdigest()


class Server:
    """Serves one payload at ``url``; records the Range header of every request.

    Parameters
    ----------
    payload : bytes
    supports_range : bool
        Answer ``Range: bytes=N-`` with 206 and the rest (else 200 and everything).
    drops : int
        The first ``drops`` responses send half their body, then close the connection.
    """

    def __init__(self, payload, supports_range=True, drops=0):
        self.payload, self.supports_range, self.drops = payload, supports_range, drops
        self.ranges = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.handle(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/{ARCHIVE_NAME}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def handle(self, request):
        asked = request.headers.get("Range")
        self.ranges.append(asked)
        start = 0
        if asked and self.supports_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", asked).group(1))
            if start >= len(self.payload):
                request.send_response(416)
                request.send_header("Content-Range", f"bytes */{len(self.payload)}")
                request.end_headers()
                return
            request.send_response(206)
            request.send_header("Content-Range", f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        else:
            request.send_response(200)
        body = self.payload[start:]
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if self.drops > 0:
            self.drops -= 1
            request.wfile.write(body[:len(body) // 2])
            request.wfile.flush()
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        request.wfile.write(body)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch):
    monkeypatch.setattr(datasets, "RETRY_PAUSE_SECONDS", 0.0)


def assert_installed(destination):
    data = get_CIFAR10_data(num_training=90, num_validation=10, num_test=10, cifar10_dir=destination)
    assert data["X_train"].shape == (90, 3, 32, 32) and data["y_test"].shape == (10,)


def assert_nothing_left(parent, keep=()):
    """Only ``keep`` remains next to the destination: no archive, no staging folder."""
    assert sorted(p.name for p in parent.iterdir()) == sorted(keep)


def test_good_archive_is_verified_and_installed(tmp_path, archive, capsys):
    destination = tmp_path / "data" / "cifar-10-batches-py"
    with Server(archive) as server:
        status = main(["download-cifar10", "--dest", str(destination), "--url", server.url,
                       "--md5", md5(archive)])
        assert status == 0
        assert server.ranges == [None]
        assert_installed(destination)
        assert_nothing_left(destination.parent, keep=["cifar-10-batches-py"])
        out, err = capsys.readouterr()
        assert "100%" in err and ARCHIVE_NAME in err  # the progress bar
        assert str(destination) in out
        # A second run finds the data and downloads nothing.
        assert main(["download-cifar10", "--dest", str(destination), "--url", server.url]) == 0
        assert server.ranges == [None]
        assert "already" in capsys.readouterr().out


def test_default_destination_is_where_the_loader_looks(tmp_path, archive, monkeypatch):
    destination = tmp_path / "elsewhere" / "cifar-10-batches-py"
    monkeypatch.setenv("CIFAR10_DIR", str(destination))
    with Server(archive) as server:
        assert download_cifar10(url=server.url, md5=md5(archive), quiet=True) == destination
    assert_installed(None)  # found through CIFAR10_DIR


def test_corrupt_archive_is_refused_and_nothing_installed(tmp_path, archive, capsys):
    corrupt = bytearray(archive)
    corrupt[len(corrupt) // 2] ^= 0xFF
    destination = tmp_path / "cifar-10-batches-py"
    with Server(bytes(corrupt)) as server:
        status = main(["download-cifar10", "--dest", str(destination), "--url", server.url,
                       "--md5", md5(archive), "--quiet"])
    assert status == 1
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and md5(archive) in err and md5(bytes(corrupt)) in err
    assert "nothing was installed" in err
    assert_nothing_left(tmp_path)


def test_dropped_connection_is_resumed_by_a_rerun(tmp_path, archive):
    destination = tmp_path / "cifar-10-batches-py"
    part = tmp_path / (ARCHIVE_NAME + ".part")
    with Server(archive, drops=1) as server:
        with pytest.raises(DownloadError, match="interrupted.*run the command again"):
            download_cifar10(destination, url=server.url, md5=md5(archive), retries=0, quiet=True)
        half = len(archive) // 2
        assert part.stat().st_size == half
        assert not destination.exists()

        download_cifar10(destination, url=server.url, md5=md5(archive), retries=0, quiet=True)
        assert server.ranges == [None, f"bytes={half}-"]
    assert_installed(destination)
    assert_nothing_left(tmp_path, keep=["cifar-10-batches-py"])


def test_dropped_connection_is_resumed_within_one_run(tmp_path, archive):
    destination = tmp_path / "cifar-10-batches-py"
    with Server(archive, drops=1) as server:
        download_cifar10(destination, url=server.url, md5=md5(archive), retries=2, quiet=True)
        assert server.ranges == [None, f"bytes={len(archive) // 2}-"]
    assert_installed(destination)


def test_server_without_range_support_restarts_cleanly(tmp_path, archive):
    destination = tmp_path / "cifar-10-batches-py"
    with Server(archive, supports_range=False, drops=1) as server:
        with pytest.raises(DownloadError, match="interrupted"):
            download_cifar10(destination, url=server.url, md5=md5(archive), retries=0, quiet=True)
        # The rerun asks for the rest, gets the whole file, and writes it from the start.
        download_cifar10(destination, url=server.url, md5=md5(archive), retries=0, quiet=True)
        assert server.ranges == [None, f"bytes={len(archive) // 2}-"]
    assert_installed(destination)
    assert_nothing_left(tmp_path, keep=["cifar-10-batches-py"])


def test_complete_part_file_is_not_fetched_again(tmp_path, archive):
    (tmp_path / (ARCHIVE_NAME + ".part")).write_bytes(archive)
    destination = tmp_path / "cifar-10-batches-py"
    with Server(archive) as server:
        download_cifar10(destination, url=server.url, md5=md5(archive), quiet=True)
        assert server.ranges == [f"bytes={len(archive)}-"]  # answered 416: nothing left
    assert_installed(destination)


def test_incomplete_leftover_folder_is_replaced(tmp_path, archive):
    destination = tmp_path / "cifar-10-batches-py"
    destination.mkdir()
    (destination / "data_batch_1").write_bytes(b"half of an earlier attempt")
    with Server(archive) as server:
        download_cifar10(destination, url=server.url, md5=md5(archive), quiet=True)
    assert_installed(destination)
    assert_nothing_left(tmp_path, keep=["cifar-10-batches-py"])


@pytest.mark.parametrize("bad_member", ["../escaped", "/tmp/absolute", "cifar-10-batches-py/../../up"])
def test_members_escaping_the_folder_are_refused(tmp_path, batch_files, bad_member):
    payload = targz({**batch_files, bad_member: b"x"})
    destination = tmp_path / "data" / "cifar-10-batches-py"
    with Server(payload) as server:
        with pytest.raises(DownloadError, match="refusing archive member"):
            download_cifar10(destination, url=server.url, md5=md5(payload), quiet=True)
    assert not destination.exists()
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "up").exists()
    assert_nothing_left(destination.parent, keep=[ARCHIVE_NAME])  # verified, kept for a retry


def test_symlink_member_is_refused(tmp_path, batch_files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    payload = buffer.getvalue()
    destination = tmp_path / "cifar-10-batches-py"
    with Server(payload) as server:
        with pytest.raises(DownloadError, match="not a plain file"):
            download_cifar10(destination, url=server.url, md5=md5(payload), quiet=True)
    assert not destination.exists()


def test_archive_missing_a_batch_installs_nothing(tmp_path, batch_files):
    files = {name: content for name, content in batch_files.items() if not name.endswith("test_batch")}
    payload = targz(files)
    destination = tmp_path / "cifar-10-batches-py"
    with Server(payload) as server:
        with pytest.raises(DownloadError, match="no complete cifar-10-batches-py"):
            download_cifar10(destination, url=server.url, md5=md5(payload), quiet=True)
    assert not destination.exists()
    assert_nothing_left(tmp_path, keep=[ARCHIVE_NAME])


def test_unreachable_server_is_a_clear_error(tmp_path, capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = main(["download-cifar10", "--dest", str(tmp_path / "cifar-10-batches-py"),
                   "--url", f"http://127.0.0.1:{port}/{ARCHIVE_NAME}", "--quiet"])
    assert status == 1
    error = capsys.readouterr().err
    assert "could not download" in error
    # Offline, the message says how to put the files in place by hand.
    assert f"copy it to {tmp_path / ARCHIVE_NAME}" in error and str(tmp_path / "cifar-10-batches-py") in error
