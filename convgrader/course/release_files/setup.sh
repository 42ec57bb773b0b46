#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image; the bundle is
# unpacked in /autograder/source. It installs the harness into /autograder/venv and then makes
# the answer key and the hidden tests unreadable to every user but root, so that the
# submission's code (run as 'nobody' by the sandbox) cannot read them at all.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/venv"

export DEBIAN_FRONTEND=noninteractive
apt-get update
# python3-dev and build-essential compile fast_ext (Cython); python3-venv gives a private env.
apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
# Editable, so that the harness finds tests/ and fixtures/ next to its package.
"$VENV/bin/python" -m pip install -e "$SOURCE[test]"

# Everything the sandboxed worker needs stays readable (the interpreter, site-packages, the
# harness, the provided code, the fixtures); the secrets are root's alone.
chmod -R a+rX "$SOURCE" "$VENV"
for secret in "$SOURCE/answer_key" "$SOURCE/tests/hidden"; do
    chown -R root:root "$secret"
    chmod -R go-rwx "$secret"   # group too: nothing but root itself may read them
done

# Fail the image build now, not every submission later: fast_ext compiled, harness importable,
# and say whether the worker will run as 'nobody'.
cd "$SOURCE"
"$VENV/bin/python" -c "import fast_ext._kernels, convgrader.course.release"
"$VENV/bin/python" -c "from convgrader.running.sandbox import unprivileged_user as u; \
print('submissions will run as', u().get('user', 'root (nobody cannot run Python here)'))"
