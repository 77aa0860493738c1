"""Executes a Jupyter notebook top to bottom with nbclient (the venv's own python3 kernel) and
fails on the first cell that raises; the executed copy goes to reports/ for a person to read."""

import sys
from pathlib import Path

import nbclient
import nbformat


def main(path: str) -> None:
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(Path.cwd())}})
    client.execute()
    out = Path("reports") / (Path(path).stem + ".executed.ipynb")
    out.parent.mkdir(exist_ok=True)
    nbformat.write(nb, str(out))
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"notebook {path}: {cells} code cells ran without error (executed copy: {out})")


if __name__ == "__main__":
    main(sys.argv[1])
