"""The one progress bar of the project: tqdm.auto (widgets in JupyterLab when ipywidgets is installed, text
otherwise, which also reads well in notebooks rendered on GitHub), without tqdm's notice about ipywidgets."""
import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="IProgress not found")
    from tqdm.auto import tqdm

__all__ = ["tqdm"]
