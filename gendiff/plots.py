"""Plot helpers shared by the notebooks: one style, image grids."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from .data import from_unit_range


def style():
    """The study's plot style (seaborn whitegrid, readable sizes)."""
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 90, "savefig.dpi": 110, "axes.titlesize": "medium"})


def t_ci(values) -> tuple[float, float]:
    """seaborn ``errorbar=`` callable: the 95 % Student-t interval over seeds, the same interval the verdicts use
    (``Estimate.t_interval``); one seed draws no bar."""
    from .stats import Estimate

    e = Estimate.t_interval(values)
    return (e.value, e.value) if e.lo is None else (e.lo, e.hi)


def image_grid(rows: dict[str, torch.Tensor], ncols: int | None = None, scale: float = 1.0, title: str | None = None):
    """One row per entry {label: (n, C, H, W) images in [-1, 1]}; returns the figure."""
    n = ncols or max(v.shape[0] for v in rows.values())
    fig, axes = plt.subplots(len(rows), n, figsize=(scale * n * 0.9, scale * len(rows) * 0.95), squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.axis("off")
            if c < imgs.shape[0]:
                im = from_unit_range(imgs[c].detach().cpu().float())
                if im.shape[0] == 1:
                    ax.imshow(im[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                else:
                    ax.imshow(im.permute(1, 2, 0), interpolation="nearest")
        axes[r, 0].text(-0.1, 0.5, label, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
