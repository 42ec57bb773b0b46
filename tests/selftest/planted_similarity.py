"""A planted class for the similarity self-test: independent solutions and copies disguised by hand's usual edits.

Every submission starts from the skeleton (``student_impl/`` as released): its
docstrings stay, each ``raise NotImplementedError`` becomes a solution's code,
as students hand it in. The independent solutions are the three written apart
(the answer key, ``implementations/vectorized``, ``implementations/loops_float32``);
the copies are derived from them by the edits a student makes to hide copying:
renamed variables, changed comments, reordered functions, loops rewritten as
comprehensions. One copy is of a "public" solution that only the ``--against``
folder holds.

:func:`build` writes the class and the public folder and returns which pairs
are planted; nothing here runs the code it writes.
"""

import ast
import io
import keyword
import tokenize
import zipfile
from pathlib import Path

from convgrader.paths import PROJECT

IMPLEMENTATIONS = Path(__file__).parent / "implementations"
SKELETON = PROJECT / "student_impl"
FILES = ("layers.py", "classifiers/cnn.py")
#: Names a renaming must keep: the graded API, numpy and the code a submission imports.
KEPT_NAMES = {"np", "numpy", "self", "reference", "cache", "conv_param", "pool_param", "bn_param", "gn_param"}


# -- filling the skeleton ------------------------------------------------------------------------

def _functions(tree):
    """Every function of a module by qualified name (``ThreeLayerConvNet.loss``)."""
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if isinstance(child, ast.FunctionDef):
                    found[name] = child
                visit(child, name + ".")
    visit(tree, "")
    return found


def _body_lines(node):
    """(first, last) 1-based lines of a function's body after its docstring."""
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body[0].lineno, node.end_lineno


def into_skeleton(skeleton, solution):
    """The skeleton's text with each function's body (after its docstring) taken from ``solution``.

    The solution's module-level functions the skeleton lacks (its helpers) and its
    imports are added after the skeleton's imports.
    """
    lines = skeleton.splitlines(keepends=True)
    solution_lines = solution.splitlines(keepends=True)
    ours, theirs = _functions(ast.parse(skeleton)), _functions(ast.parse(solution))
    for name, node in sorted(ours.items(), key=lambda item: -item[1].lineno):
        if name in theirs:
            first, last = _body_lines(node)
            their_first, their_last = _body_lines(theirs[name])
            lines[first - 1:last] = solution_lines[their_first - 1:their_last]
    solution_tree = ast.parse(solution)
    extra = [node for node in solution_tree.body
             if isinstance(node, (ast.Import, ast.ImportFrom))
             or (isinstance(node, ast.FunctionDef) and node.name not in ours)]
    added = "".join("".join(solution_lines[node.lineno - 1:node.end_lineno]) + "\n" for node in extra)
    tree = ast.parse(skeleton)
    last_import = max((n.end_lineno for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))), default=0)
    return "".join(lines[:last_import]) + "\n" + added + "".join(lines[last_import:])


# -- the edits that disguise a copy --------------------------------------------------------------

def renamed(source, suffix="_val"):
    """Every local variable and argument renamed (``x_pad`` -> ``padded_val``-like names), attributes kept."""
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    names |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
              for a in n.args + n.kwonlyargs}
    names -= KEPT_NAMES | set(dir(__builtins__))
    new_names = {name: f"{_scrambled(name)}{suffix}" for name in names}
    tokens, after_dot = [], False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        text = token.string
        if token.type == tokenize.NAME and not after_dot and text in new_names and not keyword.iskeyword(text):
            text = new_names[text]
        after_dot = token.type == tokenize.OP and token.string == "."
        tokens.append((token.type, text))
    return tokenize.untokenize(tokens)


def _scrambled(name):
    vowels = str.maketrans("aeiouAEIOU", "eiouaEIOUA")
    return "my_" + name.translate(vowels).lower()


def recommented(source):
    """Every comment replaced by another, and one more comment before each return."""
    out = []
    for line in source.splitlines(keepends=True):
        code, hash_, comment = line.partition("#")
        if hash_ and "'" not in code and '"' not in code:
            line = code.rstrip() + "  # step done as in the lecture\n" if code.strip() else \
                code + "# see the lecture notes for this step\n"
        if line.strip().startswith("return "):
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}# hand the result back\n")
        out.append(line)
    return "".join(out)


def reordered(source):
    """The module's top-level functions in the reverse order (imports and docstring first)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    if len(functions) < 2:
        return source
    head_end = functions[0].lineno - 1 - len(functions[0].decorator_list)
    chunks = ["".join(lines[n.lineno - 1:n.end_lineno]) for n in functions]
    return "".join(lines[:head_end]) + "\n\n".join(reversed(chunks)) + "\n"


#: loops_float32's loops over output positions, as comprehensions (one edit per function).
COMPREHENSIONS = {
    """    out = np.zeros((N, F, H_out, W_out), dtype=np.float32)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top = i * stride
                    left = j * stride
                    window = x_pad[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
""": """    out = np.array([[[[np.sum(x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW] * w[f]) + b[f]
                       for j in range(W_out)]
                      for i in range(H_out)]
                     for f in range(F)]
                    for n in range(N)], dtype=np.float32)
""",
}


def with_comprehensions(source):
    if "def conv_forward_naive" not in source:  # the model's file has no such loop
        return source
    for loop, comprehension in COMPREHENSIONS.items():
        assert loop in source, "the loop to rewrite is no longer in loops_float32/layers.py"
        source = source.replace(loop, comprehension)
    return source


# -- the class ------------------------------------------------------------------------------------

def _solution(name, relative):
    folder = PROJECT / "answer_key" if name == "answer_key" else IMPLEMENTATIONS / name
    return (folder / relative).read_text(encoding="utf-8")


def _write(folder, files):
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in (folder, folder / "classifiers"):
        (package / "__init__.py").touch()


def submission(solution, *edits):
    files = {}
    for relative in FILES:
        text = into_skeleton((SKELETON / relative).read_text(encoding="utf-8"), _solution(solution, relative))
        for edit in edits:
            text = edit(text)
        files[relative] = text
    return files


def build(root):
    """Write ``root/submissions`` (one per student) and ``root/known`` (a known solution), as the docs name them.

    Returns
    -------
    (class_folder, public_folder, planted, copied_from_public)
        ``planted``: set of frozensets {a, b} of submissions derived one from
        the other; ``copied_from_public``: {submission: public solution's name}.
    """
    root = Path(root)
    klass, public = root / "submissions", root / "known"
    _write(klass / "anna", submission("answer_key"))
    _write(klass / "dmitri" / "homework" / "student_impl",  # nested, as batch finds it
           submission("answer_key", renamed, recommented, reordered))
    _write(klass / "clara", submission("loops_float32"))
    _write(klass / "elena", submission("loops_float32", with_comprehensions, recommented))
    _write(public / "github_solution" / "student_impl", submission("vectorized"))
    boris = klass / "boris_src"
    _write(boris, submission("vectorized", renamed, reordered))
    with zipfile.ZipFile(klass / "boris.zip", "w") as archive:  # a zip, as batch reads it
        for path in sorted(boris.rglob("*")):
            archive.write(path, Path("student_impl") / path.relative_to(boris))
    for path in sorted(boris.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    boris.rmdir()
    planted = {frozenset(("anna", "dmitri")), frozenset(("clara", "elena"))}
    return klass, public, planted, {"boris": "github_solution"}
