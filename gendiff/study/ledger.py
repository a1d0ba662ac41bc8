"""The claims ledger: every claim the notebooks declared, with its declared test, the paper's value, ours and the
verdict the library decided; and the README's findings (counts and headline rows) generated from it."""
from __future__ import annotations

from pathlib import Path

from .._checks import GendiffError
from .claims import claim_rows, load_results
from .io import committed_results_dir

# One colour per verdict, for tables and plots (the site's CSS uses the same hues).
VERDICT_COLOURS = {"holds": "#4c9a4c", "differs": "#d08c2c", "inconclusive": "#d8d860",
                   "not discriminating": "#7f8fc8", "superseded": "#9a9a9a", "not run": "#bbbbbb",
                   "not recorded": "#cc3333"}

COLUMNS = ["id", "kind", "source", "claim", "paper", "test", "ours", "statistics", "verdict", "knife_edge", "notebook",
           "tested_by"]


def ledger_table(results_dir: Path | None = None, notebooks: list[str] | None = None):
    """A pandas DataFrame, one row per declared claim (in notebook order), from the results JSONs of a folder
    (default: the committed default-profile results). A notebook in ``notebooks`` that left no results gets one
    row with verdict 'not run'. ``tested_by``: the claims whose declaration says they test this claim's
    explanation (``Claims.declare(explains=...)``), each with its verdict; naming a claim that no notebook declared
    is an error once every notebook has results."""
    import pandas as pd

    from .runner import INDEX, all_notebooks

    results = load_results(results_dir or committed_results_dir())
    rows = []
    for nb in notebooks or [n for n in all_notebooks() if n != INDEX]:
        if nb not in results:
            rows.append(dict(id=f"({nb})", kind="", source="", claim="", paper="", test="", ours="", statistics="",
                             verdict="not run", knife_edge="", notebook=nb))
            continue
        rows.extend(claim_rows(results[nb]))
    ids = {r["id"] for r in rows}
    complete = all(r["verdict"] != "not run" for r in rows)
    tested_by = {}
    for r in rows:
        if r.get("superseded_by") and r["superseded_by"] not in ids and complete:
            raise GendiffError(f"claim {r['id']!r} ({r['notebook']}) says it is superseded by {r['superseded_by']!r}, "
                               "which no notebook declares: fix the id in its declare(superseded_by=...)")
        for target in r.get("explains", []):
            if target not in ids and complete:
                raise GendiffError(f"claim {r['id']!r} ({r['notebook']}) says it explains {target!r}, which no "
                                   "notebook declares: fix the id in its declare(explains=...)")
            tested_by.setdefault(target, []).append(f"{r['id']} ({r['verdict']})")
    for r in rows:
        r["tested_by"] = "; ".join(tested_by.get(r["id"], []))
    return pd.DataFrame(rows, columns=COLUMNS)


def _cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def _verdict(r) -> str:
    """'holds', or 'holds (knife edge: ratio)' when an interval end lies within 1 % of its threshold."""
    return r.verdict + (f" (knife edge: {r.knife_edge})" if r.knife_edge else "")


def counts_line(t) -> str:
    """'68 declared claims: 50 hold, 15 differ, 3 inconclusive', then the same by kind where kinds are declared."""
    order = ["holds", "differs", "inconclusive", "not discriminating", "superseded", "not recorded", "not run"]

    def count(sub):
        c = sub.verdict.value_counts()
        return ", ".join(f"{c[v]} {'hold' if v == 'holds' else 'differ' if v == 'differs' else v}"
                         for v in order if v in c)

    line = f"{len(t)} declared claims: {count(t)}"
    kinds = [(k, t[t.kind == k]) for k in ("verification", "reproduction", "extension", "")]
    if any(k and len(sub) for k, sub in kinds):
        line += "; by kind: " + "; ".join(f"{len(sub)} {k or 'of no declared kind'} ({count(sub)})"
                                          for k, sub in kinds if len(sub))
    knife = t[t.knife_edge != ""]
    if len(knife):
        line += f"; {len(knife)} on a knife edge (an interval end within 1 % of its threshold)"
    return line


def ledger_markdown(results_dir: Path | None = None) -> str:
    """The ledger as a Markdown table."""
    t = ledger_table(results_dir)
    lines = ["| claim | verdict | ours | statistics: value [95 % interval] (over what) | declared test | paper | source |",
             "|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        verdict = f"**{_verdict(r)}**" if r.verdict != "holds" else _verdict(r)
        ours = f"{r.ours} (explanation tested by: {r.tested_by})" if r.tested_by else r.ours
        lines.append("| " + " | ".join(_cell(x) for x in (f"`{r.id}` {r.claim}", verdict, ours, r.statistics, r.test,
                                                               r.paper, r.source)) + " |")
    return "\n".join(lines) + "\n"


# The README's headline rows, in reading order: one or two per work, the reproductions and the departures alike.
HEADLINES = ("000-kl-transition", "000-kl-trained", "001-dataset-size", "001-DL-DG", "001-gauss-vs-mem-heldout-clear",
             "001-strong-gen-xseed", "001-Nstar-exponent", "002-net-vs-DM-alike", "002-pspc-DM-equal", "002-flex")


def findings_markdown(results_dir: Path | None = None) -> str:
    """The README's findings: the verdict counts and the HEADLINES rows (claim, verdict, what we measured, the
    notebook), all rendered from the results, so no measured number is typed."""
    t = ledger_table(results_dir)
    lines = [f"**{counts_line(t)}** (default profile).", "",
             "| claim | verdict | what we measured | notebook |", "|---|---|---|---|"]
    rows = t.set_index("id")
    missing = [c for c in HEADLINES if c not in rows.index]
    if missing and all(v != "not run" for v in t.verdict):
        raise GendiffError(f"README headline claims {missing} are declared by no notebook: fix ledger.HEADLINES")
    for cid in HEADLINES:
        if cid not in rows.index:
            continue
        r = rows.loc[cid]
        verdict = f"**{_verdict(r)}**" if r.verdict != "holds" else _verdict(r)
        lines.append("| " + " | ".join(_cell(x) for x in (
            f"`{cid}` {r.claim}", verdict, r.ours, f"[{r.notebook[:2]}](notebooks/{r.notebook}.ipynb)")) + " |")
    return "\n".join(lines) + "\n"


def ledger_html(results_dir: Path | None = None, link: str = "notebooks/{}.html") -> str:
    """The ledger as one compact HTML table for the site: claim, verdict (coloured by class ``verdict-<v>``),
    what we measured; the statistics, declared test, paper's value, source and explanation tests open on click,
    with a link to the notebook (``link`` formatted with its name)."""
    from html import escape

    t = ledger_table(results_dir)
    out = ['<table class="ledger">', "<thead><tr><th>claim</th><th>verdict</th><th>what we measured</th></tr></thead>",
           "<tbody>"]
    for r in t.itertuples():
        details = [("statistics: value [95 % interval] (over what)", r.statistics), ("declared test", r.test),
                   ("paper", r.paper), ("source", r.source), ("kind", r.kind),
                   ("explanation tested by", r.tested_by)]
        body = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in details if v)
        body += f'<dt>notebook</dt><dd><a href="{escape(link.format(r.notebook))}">{escape(r.notebook)}</a></dd>'

        edge = f' <span class="knife-edge" title="an interval end within 1 % of its threshold">knife edge: ' \
               f'{escape(r.knife_edge)}</span>' if r.knife_edge else ""
        out.append(f'<tr class="verdict-{r.verdict.replace(" ", "-")}" id="claim-{escape(r.id)}">'
                   f"<td><code>{escape(r.id)}</code> {escape(r.claim)}</td>"
                   f'<td><span class="verdict">{escape(r.verdict)}</span>{edge}</td>'
                   f"<td>{escape(r.ours)}<details><summary>details</summary><dl>{body}</dl></details></td></tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out) + "\n"


README_START = "<!-- findings:start (generated by `python -m gendiff ledger --update-readme`; do not edit) -->"
README_END = "<!-- findings:end -->"


def readme_table(readme_text: str) -> str:
    """The generated block of the README (between the findings markers)."""
    i, j = readme_text.find(README_START), readme_text.find(README_END)
    if i < 0 or j < i:
        return ""
    return readme_text[i + len(README_START):j].strip("\n") + "\n"


def update_readme(path: Path, results_dir: Path | None = None) -> bool:
    """Rewrite the README's generated findings; True if it changed."""
    from .io import atomic_write_text

    text = Path(path).read_text()
    i, j = text.find(README_START), text.find(README_END)
    if i < 0 or j < i:
        raise GendiffError(f"{path} has no findings markers ({README_START!r} ... {README_END!r})")
    new = text[:i + len(README_START)] + "\n" + findings_markdown(results_dir) + text[j:]
    if new != text:
        atomic_write_text(path, new)
    return new != text
