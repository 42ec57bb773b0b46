"""Loading CIFAR-10 (the python version) and writing small look-alike datasets.

The python version of CIFAR-10 is a folder ``cifar-10-batches-py`` holding the
training batches ``data_batch_1`` ... ``data_batch_5`` and ``test_batch``. Each is
a pickled dict with

- ``data``: uint8 array (10000, 3072), one image per row, channel-major
  (1024 red values, then 1024 green, then 1024 blue, each row by row);
- ``labels``: 10000 ints in 0..9.

Where the folder is looked for, in order: the ``cifar10_dir`` argument, else the
``CIFAR10_DIR`` environment variable, else ``~/.cache/convnet-grader/cifar-10-batches-py``.
"""

import os
import pickle
from pathlib import Path

import numpy as np

CIFAR10_ENV_VAR = "CIFAR10_DIR"
DEFAULT_CIFAR10_DIR = Path("~/.cache/convnet-grader/cifar-10-batches-py")
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR10_ARCHIVE_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
IMAGE_SHAPE = (3, 32, 32)


class CIFAR10NotFoundError(FileNotFoundError):
    """The CIFAR-10 python batches are not where they were looked for."""


def _missing_files(folder):
    return [name for name in (*TRAIN_BATCHES, TEST_BATCH) if not (folder / name).is_file()]


def resolve_cifar10_dir(cifar10_dir=None):
    """The folder holding the CIFAR-10 python batches.

    Parameters
    ----------
    cifar10_dir : str or Path, optional
        Used alone when given. Otherwise the ``CIFAR10_DIR`` environment variable
        (when set) and then ``~/.cache/convnet-grader/cifar-10-batches-py`` are tried.

    Returns
    -------
    Path of the first candidate that holds every batch file.

    Raises
    ------
    CIFAR10NotFoundError
        Listing every folder looked in, what was missing, and how to get the data.
    """
    if cifar10_dir is not None:
        candidates = [Path(cifar10_dir).expanduser()]
    else:
        candidates = []
        if os.environ.get(CIFAR10_ENV_VAR):
            candidates.append(Path(os.environ[CIFAR10_ENV_VAR]).expanduser())
        candidates.append(DEFAULT_CIFAR10_DIR.expanduser())

    findings = []
    for folder in candidates:
        if not folder.is_dir():
            findings.append(f"  {folder}  (no such directory)")
            continue
        missing = _missing_files(folder)
        if not missing:
            return folder
        findings.append(f"  {folder}  (missing: {', '.join(missing)})")

    raise CIFAR10NotFoundError(
        "CIFAR-10 (python version) was not found. Looked in:\n"
        + "\n".join(findings)
        + "\nTo get it, run `python -m convgrader download-cifar10` (it checks the archive and unpacks it "
        f"into {DEFAULT_CIFAR10_DIR.parent}), or by hand: "
        "download the python version, cifar-10-python.tar.gz, from the CIFAR-10 page of "
        f"Alex Krizhevsky at the University of Toronto ({CIFAR10_URL}; the archive is {CIFAR10_ARCHIVE_URL}), "
        "unpack it (tar -xzf cifar-10-python.tar.gz), and point the "
        f"{CIFAR10_ENV_VAR} environment variable to the unpacked folder cifar-10-batches-py "
        f"(or unpack it into {DEFAULT_CIFAR10_DIR.parent}, or pass cifar10_dir=...)."
    )


def _read_batch(filename):
    """One batch as stored: uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    with open(filename, "rb") as f:
        # The batches were pickled by Python 2; latin1 maps its byte strings 1:1.
        batch = pickle.load(f, encoding="latin1")

    def entry(key):
        for candidate in (key, key.encode()):
            if candidate in batch:
                return batch[candidate]
        raise ValueError(f"{filename}: not a CIFAR-10 batch (no {key!r} entry)")

    data = np.asarray(entry("data"), dtype=np.uint8)
    labels = np.asarray(entry("labels"), dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != np.prod(IMAGE_SHAPE) or len(labels) != len(data):
        raise ValueError(
            f"{filename}: expected data (N, 3072) and N labels, got data {data.shape}, {len(labels)} labels"
        )
    return data.reshape(-1, *IMAGE_SHAPE), labels


def load_CIFAR_batch(filename):
    """Load one CIFAR-10 batch file.

    Returns
    -------
    X : ndarray of float64, (N, 32, 32, 3)
        Pixel values 0..255, channels last.
    y : ndarray of int64, (N,)
    """
    images, labels = _read_batch(filename)
    return images.transpose(0, 2, 3, 1).astype(np.float64), labels


def _read_all(root):
    """uint8 training and test images (N, 3, 32, 32) with their labels."""
    root = Path(root)
    train = [_read_batch(root / name) for name in TRAIN_BATCHES]
    X_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    X_test, y_test = _read_batch(root / TEST_BATCH)
    return X_train, y_train, X_test, y_test


def load_CIFAR10(root):
    """Load all of CIFAR-10 from the folder ``cifar-10-batches-py``.

    Returns
    -------
    X_train : ndarray of float64, (50000, 32, 32, 3)
    y_train : ndarray of int64, (50000,)
    X_test : ndarray of float64, (10000, 32, 32, 3)
    y_test : ndarray of int64, (10000,)
    """
    missing = _missing_files(Path(root))
    if missing:
        raise CIFAR10NotFoundError(f"{root}: missing CIFAR-10 batch files {', '.join(missing)}")
    X_train, y_train, X_test, y_test = _read_all(root)
    channels_last = (0, 2, 3, 1)
    return (
        X_train.transpose(channels_last).astype(np.float64), y_train,
        X_test.transpose(channels_last).astype(np.float64), y_test,
    )


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, cifar10_dir=None, dtype=np.float64):
    """CIFAR-10 split for training a convolutional network.

    The first ``num_training`` training images form the training set, the next
    ``num_validation`` the validation set; the first ``num_test`` images of the
    test batch form the test set. With ``subtract_mean`` the mean image of the
    training set is subtracted from all three.

    Parameters
    ----------
    num_training, num_validation, num_test : int
    subtract_mean : bool
    cifar10_dir : str or Path, optional
        See :func:`resolve_cifar10_dir`.
    dtype : numpy float dtype, default float64

    Returns
    -------
    dict with ``X_train`` (num_training, 3, 32, 32), ``y_train`` (num_training,),
    ``X_val``, ``y_val``, ``X_test``, ``y_test`` likewise; labels int64 in 0..9.

    Raises
    ------
    CIFAR10NotFoundError
        When the data is absent; the message says how to get it.
    """
    root = resolve_cifar10_dir(cifar10_dir)
    images, labels, test_images, test_labels = _read_all(root)
    if num_training + num_validation > len(images) or num_test > len(test_images):
        raise ValueError(
            f"Asked for {num_training} + {num_validation} training/validation and {num_test} test "
            f"images, but {root} holds {len(images)} and {len(test_images)}"
        )

    validation = slice(num_training, num_training + num_validation)
    data = {
        "X_train": images[:num_training].astype(dtype),
        "y_train": labels[:num_training],
        "X_val": images[validation].astype(dtype),
        "y_val": labels[validation],
        "X_test": test_images[:num_test].astype(dtype),
        "y_test": test_labels[:num_test],
    }
    if subtract_mean:
        mean_image = data["X_train"].mean(axis=0)
        for key in ("X_train", "X_val", "X_test"):
            data[key] -= mean_image
    return data


def write_CIFAR10_like(root, num_per_batch, seed, signal=0.1):
    """Write a small dataset in exactly the CIFAR-10 python format, for tests and CI.

    Five training batches and a test batch of ``num_per_batch`` images each, plus
    ``batches.meta``. Images are learnable: each class has a blocky colour pattern,
    and every image mixes its class pattern (weight ``signal``) with uniform noise
    (weight ``1 - signal``). Labels are balanced over the 10 classes as far as
    ``num_per_batch`` allows.

    Parameters
    ----------
    root : str or Path
        Folder to create (it plays the role of ``cifar-10-batches-py``).
    num_per_batch : int
    seed : int
        Seed of a private random generator; the global ``np.random`` is untouched.
    signal : float in [0, 1]
        How much of each image is its class pattern: 0 gives pure noise (nothing
        to learn), 1 gives ten distinct images.

    Returns
    -------
    Path of ``root``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    num_classes = len(CIFAR10_CLASSES)
    # 4x4 colour blocks blown up to 32x32 make each class's pattern.
    coarse = rng.uniform(0, 255, size=(num_classes, 3, 4, 4))
    patterns = np.kron(coarse, np.ones((1, 1, 8, 8)))

    def batch(batch_label, first_index):
        labels = rng.permutation(np.arange(num_per_batch) % num_classes)
        noise = rng.uniform(0, 255, size=(num_per_batch, *IMAGE_SHAPE))
        images = np.clip(signal * patterns[labels] + (1 - signal) * noise, 0, 255).astype(np.uint8)
        return {
            "batch_label": batch_label,
            "labels": [int(label) for label in labels],
            "data": images.reshape(num_per_batch, -1),
            "filenames": [f"synthetic_{first_index + i:06d}.png" for i in range(num_per_batch)],
        }

    batches = {name: batch(f"training batch {i} of 5", (i - 1) * num_per_batch)
               for i, name in enumerate(TRAIN_BATCHES, start=1)}
    batches[TEST_BATCH] = batch("testing batch 1 of 1", 5 * num_per_batch)
    batches["batches.meta"] = {
        "num_cases_per_batch": num_per_batch,
        "label_names": list(CIFAR10_CLASSES),
        "num_vis": int(np.prod(IMAGE_SHAPE)),
    }
    for name, content in batches.items():
        with open(root / name, "wb") as f:
            pickle.dump(content, f)
    return root
