"""Data sets for training ThreeLayerConvNet: CIFAR-10 download, scikit-learn digits.

``python -m convgrader download-cifar10 [--dest DIR] [--url URL]`` downloads the
python version of CIFAR-10 (about 163 MB), checks its MD5 and unpacks it where
``reference.data_utils`` looks for it: ``--dest`` if given, else the folder named by
the ``CIFAR10_DIR`` environment variable, else
``~/.cache/convnet-grader/cifar-10-batches-py``.

How the command stays safe to interrupt and to rerun:

- bytes go to ``<dest>/../cifar-10-python.tar.gz.part``; a rerun asks the server
  for the rest only (an HTTP ``Range`` request) and starts over if the server
  answers with the whole file instead;
- the archive is unpacked only after its MD5 matches, into a hidden temporary
  folder next to ``dest``; the batches appear under ``dest`` by one rename, once
  they are all there, so the loader never sees half a data set;
- archive members that would land outside that folder (absolute paths, ``..``,
  links) are refused.

:func:`get_digits_data` turns scikit-learn's 8x8 digits (real scans, shipped with
the package, no download) into CIFAR-10-shaped data for quick training checks.
"""

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from reference.data_utils import (
    CIFAR10_ARCHIVE_URL,
    CIFAR10_ENV_VAR,
    DEFAULT_CIFAR10_DIR,
    TEST_BATCH,
    TRAIN_BATCHES,
)

CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
#: The folder the archive unpacks to.
ARCHIVE_FOLDER = "cifar-10-batches-py"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 60
UNPACK_PREFIX = ".cifar10-unpack-"
#: Pause before the first automatic resume; it doubles with every further one (at most 10 s).
RETRY_PAUSE_SECONDS = 1.0


class DownloadError(Exception):
    """The data set could not be installed; the message says why and what to do."""


def default_destination():
    """Where the loader looks first: ``$CIFAR10_DIR``, else the cache folder."""
    configured = os.environ.get(CIFAR10_ENV_VAR)
    return Path(configured).expanduser() if configured else DEFAULT_CIFAR10_DIR.expanduser()


def is_complete(folder):
    """True when ``folder`` holds every CIFAR-10 batch file (what the loader requires)."""
    folder = Path(folder)
    return all((folder / name).is_file() for name in (*TRAIN_BATCHES, TEST_BATCH))


def md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress_bar(total, initial, quiet):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=ARCHIVE_NAME, disable=quiet, file=sys.stderr)


def _open(url, offset):
    """Open ``url``, asking for the bytes from ``offset`` on when ``offset`` > 0.

    Returns
    -------
    response, start : the open response and the offset its body starts at
        (0 when the server ignored the Range header and sends everything).
        ``response`` is None when nothing is left to fetch (HTTP 416).
    """
    request = urllib.request.Request(url, headers={"User-Agent": "convnet-grader"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return None, offset
        raise
    if response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        if not content_range.startswith(f"bytes {offset}-"):
            response.close()
            raise DownloadError(f"the server resumed at the wrong place ({content_range!r}); "
                                "delete the .part file and run again")
        return response, offset
    return response, 0


def fetch(url, part, quiet=False):
    """Bring ``part`` up to the full body of ``url``, resuming from its current size.

    Raises
    ------
    DownloadError
        When the connection ends before the body does; ``part`` keeps what arrived.
    """
    offset = part.stat().st_size if part.exists() else 0
    response, start = _open(url, offset)
    if response is None:
        return
    with response:
        remaining = response.headers.get("Content-Length")
        expected = start + int(remaining) if remaining is not None else None
        # A server that ignores Range sends everything again: start the file over.
        mode = "ab" if start else "wb"
        received = start
        with open(part, mode) as f, _progress_bar(expected, start, quiet) as bar:
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (OSError, ValueError, http.client.HTTPException) as error:  # reset, timeout, closed
                    raise DownloadError(_interrupted(received, expected, error)) from error
                if not chunk:
                    break
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received < expected:
        raise DownloadError(_interrupted(received, expected, "the connection closed early"))


def _interrupted(received, expected, why):
    of = f" of {expected}" if expected else ""
    return f"download interrupted after {received}{of} bytes ({why})"


def _safe_members(archive, root):
    """The members of ``archive``, refusing any that would be written outside ``root``."""
    root = root.resolve()
    for member in archive.getmembers():
        target = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()):
            raise DownloadError(f"refusing archive member {member.name!r}: not a plain file or folder")
        if not target.is_relative_to(root):
            raise DownloadError(f"refusing archive member {member.name!r}: it would land outside {root}")
        yield member


def unpack(archive_path, destination):
    """Unpack the archive's ``cifar-10-batches-py`` to ``destination``, all or nothing."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=UNPACK_PREFIX, dir=destination.parent))
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            members = list(_safe_members(archive, staging))
            extract = dict(filter="data") if hasattr(tarfile, "data_filter") else {}
            archive.extractall(staging, members=members, **extract)
        unpacked = staging / ARCHIVE_FOLDER
        if not is_complete(unpacked):
            raise DownloadError(f"the archive holds no complete {ARCHIVE_FOLDER}/ folder")
        if destination.exists():
            # An earlier, incomplete folder: swap it out, so the rename below is atomic.
            destination.rename(staging / "previous")
        unpacked.rename(destination)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DownloadError(f"could not unpack {archive_path}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def by_hand(url, md5, archive, destination):
    """How to put CIFAR-10 in place without this machine's download: the sentence an error ends with."""
    return (f"Without a connection here, put the files in place by hand: on a machine that has one, "
            f"download {url} (163 MB, MD5 {md5}), copy it to {archive} and run this command again, "
            f"which checks and unpacks it; or unpack it yourself (tar xzf {ARCHIVE_NAME}) so that "
            f"{destination} holds data_batch_1 ... data_batch_5 and test_batch.")


def download_cifar10(destination=None, url=CIFAR10_ARCHIVE_URL, md5=CIFAR10_MD5, retries=3,
                     keep_archive=False, quiet=False):
    """Download, verify and unpack CIFAR-10 (python version) into ``destination``.

    Parameters
    ----------
    destination : str or Path, optional
        The folder that will hold ``data_batch_1`` ... ``test_batch``; default
        :func:`default_destination`.
    url : str
        Where the ``.tar.gz`` is fetched from.
    md5 : str
        Expected MD5 of the archive.
    retries : int
        How many times an interrupted download is resumed before giving up.
    keep_archive : bool
        Keep the verified ``.tar.gz`` next to ``destination`` after unpacking.
    quiet : bool
        No progress bar.

    Returns
    -------
    Path of ``destination``.

    Raises
    ------
    DownloadError
        With a message that says what failed; nothing is installed then.
    """
    destination = Path(destination).expanduser() if destination else default_destination()
    if is_complete(destination):
        return destination
    parent = destination.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(UNPACK_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    archive = parent / ARCHIVE_NAME
    part = parent / (ARCHIVE_NAME + ".part")

    if not (archive.exists() and md5_of(archive) == md5):
        for attempt in range(retries + 1):
            try:
                fetch(url, part, quiet=quiet)
                break
            except DownloadError as error:
                if attempt == retries:
                    raise DownloadError(f"{error}. What arrived is kept in {part}; run the command again "
                                        f"to resume. {by_hand(url, md5, archive, destination)}") from None
                time.sleep(min(RETRY_PAUSE_SECONDS * 2 ** attempt, 10.0))
            except (urllib.error.URLError, OSError) as error:
                raise DownloadError(f"could not download {url}: {error}. "
                                    f"{by_hand(url, md5, archive, destination)}") from error
        actual = md5_of(part)
        if actual != md5:
            part.unlink()
            raise DownloadError(f"checksum mismatch for {url}: expected MD5 {md5}, got {actual}. "
                                "The download was deleted and nothing was installed; run the "
                                "command again (if it keeps failing, the file on the server differs).")
        part.replace(archive)

    unpack(archive, destination)
    if not keep_archive:
        archive.unlink()
    return destination


def get_digits_data(num_training=1500, image_size=16, channels=3, seed=0, dtype=np.float64):
    """scikit-learn's handwritten digits shaped like :func:`reference.data_utils.get_CIFAR10_data`.

    The 1797 scans of 8x8 pixels (values 0..16, ten classes) are shuffled with
    ``seed``, scaled to 0..255, enlarged to ``image_size`` by repeating pixels,
    copied into ``channels`` channels, and the training mean image is subtracted.

    Returns
    -------
    dict with ``X_train`` (num_training, channels, image_size, image_size),
    ``y_train`` (num_training,), ``X_val`` and ``y_val`` (the remaining images),
    labels int64 in 0..9.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    scale = image_size // 8
    images = digits.images[order] * (255.0 / 16.0)
    images = np.kron(images, np.ones((scale, scale)))
    images = np.repeat(images[:, None], channels, axis=1).astype(dtype)
    labels = digits.target[order].astype(np.int64)
    mean_image = images[:num_training].mean(axis=0)
    images -= mean_image
    return {
        "X_train": images[:num_training], "y_train": labels[:num_training],
        "X_val": images[num_training:], "y_val": labels[num_training:],
    }


def register(commands):
    parser = commands.add_parser(
        "download-cifar10", help="download and unpack CIFAR-10 (python version)",
        description="Download CIFAR-10 (python version, ~163 MB), check its MD5 and unpack it "
                    "where the loader looks. Safe to interrupt: run it again to resume.")
    parser.add_argument("--dest", default=None,
                        help=f"folder to hold the batches (default: ${CIFAR10_ENV_VAR}, else "
                             f"{DEFAULT_CIFAR10_DIR})")
    parser.add_argument("--url", default=CIFAR10_ARCHIVE_URL, help="archive URL (default: %(default)s)")
    parser.add_argument("--md5", default=CIFAR10_MD5, help="expected MD5 of the archive (default: %(default)s)")
    parser.add_argument("--retries", type=int, default=3,
                        help="resume an interrupted download this many times (default: %(default)s)")
    parser.add_argument("--keep-archive", action="store_true", help="keep the .tar.gz after unpacking")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args, extra):
    destination = Path(args.dest).expanduser() if args.dest else default_destination()
    if is_complete(destination):
        print(f"CIFAR-10 is already in {destination}")
        return 0
    try:
        download_cifar10(destination, url=args.url, md5=args.md5, retries=args.retries,
                         keep_archive=args.keep_archive, quiet=args.quiet)
    except DownloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"CIFAR-10 is in {destination}")
    if args.dest and Path(args.dest).expanduser() != default_destination():
        print(f"The loader looks there when {CIFAR10_ENV_VAR} is set: export {CIFAR10_ENV_VAR}={destination}")
    return 0
