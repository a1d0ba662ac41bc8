# Sphinx configuration of the rendered study (`make site`): the executed notebooks as they are committed, never
# re-executed, with MyST-NB and the book theme. `gendiff.study.site` stages the sources next to this file's copy.
project = "gendiff"
author = "the gendiff authors"
html_title = "gendiff: why do diffusion models generalize?"
extensions = ["myst_nb", "sphinx-mathjax-offline"]  # MathJax 3 served from _static: math renders offline
nb_execution_mode = "off"  # the committed outputs are the study; building never runs a notebook
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
html_theme = "sphinx_book_theme"
html_theme_options = {"show_toc_level": 2, "home_page_in_toc": True}
html_last_updated_fmt = None
exclude_patterns = ["_build"]
html_static_path = ["_static"]
html_css_files = ["ledger.css"]  # the landing page's claims ledger: full width, wrapped, verdicts coloured
