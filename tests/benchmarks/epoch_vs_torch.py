"""One training epoch of the row-12 network: the reference model against PyTorch.

Usage (from the project root)::

    python tests/benchmarks/epoch_vs_torch.py                 # a full epoch, 980 iterations
    python tests/benchmarks/epoch_vs_torch.py --iterations 196   # a fifth of one, scaled

Both sides train the same network on the same synthetic data with the same
settings as row 12 of the assignment: conv 7x7 (32 filters, pad 3) - relu -
2x2 max pool - affine 500 - relu - affine 10 - softmax, weight scale 1e-3,
L2 reg 1e-3, Adam with learning rate 1e-3, minibatches of 50 drawn with
replacement from 49,000 float32 images (3x32x32), training and validation
accuracy measured on 1,000 images before the first and after the last step
(as ``Solver`` does). The reference side is exactly what a student runs:
``ThreeLayerConvNet`` from the answer key with the fast layers, trained by
``reference.solver.Solver``; the PyTorch side is the same loop written with
``torch.nn.functional`` and ``torch.optim.Adam``.

Fairness on a shared machine: each side runs in its own process (its own
OpenMP and BLAS thread pools), and the two take turns, a chunk of iterations
each, so that both see the same background load; each reports only the time it
spent training. The processes get the same environment: ``OMP_NUM_THREADS``
when set, otherwise every core for both. ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` are removed from it (they are set on the course's build
machines, slow OpenBLAS down, and users do not have them) unless
``--keep-openblas-env`` is given. PyTorch is needed only to run this script;
it is not a dependency of the project.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_NOT_PASSED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

NUM_TRAIN, NUM_VAL, IMAGE_SHAPE, NUM_CLASSES = 49000, 1000, (3, 32, 32), 10
BATCH_SIZE, HIDDEN_DIM, NUM_FILTERS, FILTER_SIZE = 50, 500, 32, 7
WEIGHT_SCALE, REG, LEARNING_RATE = 1e-3, 1e-3, 1e-3
ACCURACY_SAMPLES, ACCURACY_BATCH = 1000, 100


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------

def write_synthetic_data(folder, num_train, seed=0, signal=0.1):
    """Write learnable CIFAR-shaped float32 data to ``folder`` as .npy files.

    Every image is its class's fixed random pattern times ``signal`` plus
    Gaussian noise, so both networks can learn something in one epoch.
    Returns the file names by key (X_train, y_train, X_val, y_val).
    """
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((NUM_CLASSES, *IMAGE_SHAPE)).astype(np.float32)
    files = {}
    for split, count in (("train", num_train), ("val", NUM_VAL)):
        labels = rng.integers(0, NUM_CLASSES, size=count)
        images_path = Path(folder) / f"X_{split}.npy"
        images = np.lib.format.open_memmap(images_path, mode="w+", dtype=np.float32,
                                           shape=(count, *IMAGE_SHAPE))
        for start in range(0, count, 5000):  # in slices, to keep memory flat
            stop = min(start + 5000, count)
            noise = rng.standard_normal((stop - start, *IMAGE_SHAPE), dtype=np.float32)
            images[start:stop] = signal * patterns[labels[start:stop]] + noise
        images.flush()
        del images
        labels_path = Path(folder) / f"y_{split}.npy"
        np.save(labels_path, labels)
        files[f"X_{split}"], files[f"y_{split}"] = str(images_path), str(labels_path)
    return files


def load_data(folder):
    """The data written by :func:`write_synthetic_data`; images memory-mapped
    (the page cache is shared by both workers)."""
    return {key: np.load(Path(folder) / f"{key}.npy", mmap_mode="r" if key.startswith("X") else None)
            for key in ("X_train", "y_train", "X_val", "y_val")}


# --------------------------------------------------------------------------------------
# Workers: each trains one epoch, pausing every `chunk` iterations until told to go on
# --------------------------------------------------------------------------------------

class TurnTaker:
    """Counts training time and hands the machine back every ``chunk`` iterations.

    The parent writes a line to our stdin to let us run; we write 'pause' when
    we stop. Only the time between the two is counted.
    """

    def __init__(self, chunk):
        self.chunk = chunk
        self.elapsed = 0.0
        self._started = None

    def start(self):
        sys.stdin.readline()
        self._started = time.perf_counter()

    def after_iteration(self, iteration):
        if iteration % self.chunk == 0:
            self.elapsed += time.perf_counter() - self._started
            print("pause", flush=True)
            self.start()

    def stop(self):
        self.elapsed += time.perf_counter() - self._started


def run_reference(data, iterations, turns):
    """The student's way: answer-key ThreeLayerConvNet on the fast layers, trained by Solver."""
    from answer_key.classifiers.cnn import ThreeLayerConvNet
    from reference.solver import Solver

    np.random.seed(0)
    model = ThreeLayerConvNet(num_filters=NUM_FILTERS, filter_size=FILTER_SIZE, hidden_dim=HIDDEN_DIM,
                              weight_scale=WEIGHT_SCALE, reg=REG, dtype=np.float32)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": LEARNING_RATE},
                    batch_size=BATCH_SIZE, num_epochs=1, num_train_samples=ACCURACY_SAMPLES,
                    verbose=False, progress=lambda iteration, *_: turns.after_iteration(iteration))
    assert data["X_train"].shape[0] // BATCH_SIZE == iterations
    turns.start()
    solver.train()
    turns.stop()
    return solver.loss_history[-1], solver.train_acc_history[-1], solver.val_acc_history[-1]


def run_torch(data, iterations, turns):
    """The same network, loss, regularization, initialization and Adam in PyTorch."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(_threads_wanted())
    torch.manual_seed(0)
    np.random.seed(0)
    C, H, W = IMAGE_SHAPE
    shapes = {"W1": (NUM_FILTERS, C, FILTER_SIZE, FILTER_SIZE), "b1": (NUM_FILTERS,),
              "W2": (NUM_FILTERS * H // 2 * W // 2, HIDDEN_DIM), "b2": (HIDDEN_DIM,),
              "W3": (HIDDEN_DIM, NUM_CLASSES), "b3": (NUM_CLASSES,)}
    params = {name: (torch.randn(shape) * WEIGHT_SCALE if name.startswith("W") else torch.zeros(shape))
              .requires_grad_() for name, shape in shapes.items()}
    optimizer = torch.optim.Adam(params.values(), lr=LEARNING_RATE)

    def scores(images):
        hidden = F.max_pool2d(F.relu(F.conv2d(images, params["W1"], params["b1"],
                                              padding=(FILTER_SIZE - 1) // 2)), 2, 2)
        hidden = F.relu(hidden.flatten(1) @ params["W2"] + params["b2"])
        return hidden @ params["W3"] + params["b3"]

    def accuracy(X, y, num_samples):
        if num_samples is not None and X.shape[0] > num_samples:
            subset = np.random.choice(X.shape[0], num_samples)
            X, y = X[subset], y[subset]
        with torch.no_grad():
            predictions = [scores(torch.from_numpy(np.array(X[start:start + ACCURACY_BATCH])))
                           .argmax(dim=1).numpy() for start in range(0, X.shape[0], ACCURACY_BATCH)]
        return float(np.mean(np.concatenate(predictions) == y))

    def record_accuracies():
        return (accuracy(data["X_train"], data["y_train"], ACCURACY_SAMPLES),
                accuracy(data["X_val"], data["y_val"], None))

    turns.start()
    for t in range(iterations):
        batch = np.random.choice(data["X_train"].shape[0], BATCH_SIZE)
        images = torch.from_numpy(data["X_train"][batch])
        labels = torch.from_numpy(data["y_train"][batch])
        loss = F.cross_entropy(scores(images), labels)
        loss = loss + 0.5 * REG * sum((params[name] ** 2).sum() for name in ("W1", "W2", "W3"))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if t == 0 or t == iterations - 1:
            train_acc, val_acc = record_accuracies()
        turns.after_iteration(t + 1)
    turns.stop()
    return float(loss.detach()), train_acc, val_acc


def _threads_wanted():
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else os.cpu_count()


def worker_main(side, folder, iterations, chunk):
    data = load_data(folder)
    data["X_train"] = data["X_train"][:iterations * BATCH_SIZE]
    data["y_train"] = data["y_train"][:iterations * BATCH_SIZE]
    run = run_reference if side == "reference" else run_torch
    turns = TurnTaker(chunk)
    print("ready", flush=True)
    final_loss, train_acc, val_acc = run(data, iterations, turns)
    print(f"done {turns.elapsed!r} {final_loss!r} {train_acc!r} {val_acc!r}", flush=True)


# --------------------------------------------------------------------------------------
# Parent: start both workers, let them take turns, report
# --------------------------------------------------------------------------------------

def worker_environment(keep_openblas_env):
    env = dict(os.environ)
    if not keep_openblas_env:
        for name in ENV_NOT_PASSED:
            env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def start_worker(side, folder, iterations, chunk, env):
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", side, "--data", folder,
         "--iterations", str(iterations), "--chunk", str(chunk)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT)
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the {side} worker failed to start")
    return process


def take_turns(workers):
    """Let each worker run one chunk in turn until all are done; their results by side."""
    results = {}
    while len(results) < len(workers):
        for side, process in workers.items():
            if side in results:
                continue
            process.stdin.write("go\n")
            process.stdin.flush()
            line = process.stdout.readline().split()
            if not line:
                raise RuntimeError(f"the {side} worker died (exit status {process.wait()})")
            if line[0] == "done":
                results[side] = dict(zip(("seconds", "loss", "train_acc", "val_acc"), map(float, line[1:])))
                process.wait()
    return results


def versions():
    import scipy
    import torch
    return f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=NUM_TRAIN // BATCH_SIZE,
                        help="training iterations (default: one epoch, 980); fewer use a"
                             " proportionally smaller training set")
    parser.add_argument("--chunk", type=int, default=49, help="iterations per turn")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="pass OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE on to the workers")
    parser.add_argument("--worker", choices=("reference", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.iterations <= NUM_TRAIN // BATCH_SIZE:
        parser.error(f"--iterations must be between 1 and {NUM_TRAIN // BATCH_SIZE}")
    if args.worker:
        worker_main(args.worker, args.data, args.iterations, args.chunk)
        return

    try:
        print(versions())
    except ImportError:
        sys.exit("PyTorch is not installed: pip install torch==2.13.0 (it is never a project dependency)")
    env = worker_environment(args.keep_openblas_env)
    removed = [name for name in ENV_NOT_PASSED if name in os.environ and name not in env]
    print(f"python {platform.python_version()}, {os.cpu_count()} cores,"
          f" OMP_NUM_THREADS={env.get('OMP_NUM_THREADS', '(unset: all cores)')}"
          + (f"; removed from the workers' environment: {', '.join(removed)}" if removed else ""))
    print(f"{args.iterations} iterations of batch {BATCH_SIZE}"
          + ("" if args.iterations == NUM_TRAIN // BATCH_SIZE else " (a scaled-down epoch)")
          + f", turns of {args.chunk} iterations; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="epoch_vs_torch_") as folder:
        write_synthetic_data(folder, args.iterations * BATCH_SIZE)
        workers = {side: start_worker(side, folder, args.iterations, args.chunk, env)
                   for side in ("reference", "torch")}
        results = take_turns(workers)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    for side, result in results.items():
        print(f"{side:9s}: {result['seconds']:7.2f} s  final loss {result['loss']:.4f}"
              f"  train acc {result['train_acc']:.3f}  val acc {result['val_acc']:.3f}")
    ratio = results["reference"]["seconds"] / results["torch"]["seconds"]
    print(f"reference / torch = {ratio:.2f}")


if __name__ == "__main__":
    main()
