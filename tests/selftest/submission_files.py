"""Writing submissions for the self-tests: folders and zips from ``{relative path: content}``."""

import zipfile


def write_tree(root, files):
    """Write ``{relative path: str or bytes}`` under ``root``; return root."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return root


def write_zip(path, files):
    """Write ``{member name: str or bytes}`` into the zip ``path``; return path."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path
