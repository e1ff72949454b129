"""Local copies of the browser assets that nbconvert's pages and slides otherwise load from CDNs.

``npm install`` (package.json at the repository root) puts reveal.js, MathJax 2.7, require.js,
jQuery and Font Awesome 4.7 into ``node_modules/``; :func:`install_assets` copies the parts the
pages use into ``<site>/assets/``, and :func:`exporter_urls` gives the relative URLs that point
nbconvert at them. Nothing then needs the network: open the HTML from disk or any web server.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
ASSETS = "assets"  # folder name under the site root
COLAB_BADGE = "colab-badge.svg"

# package -> the paths inside it the pages need (folders are copied whole, minus IGNORE)
PACKAGES: dict[str, tuple[str, ...]] = {
    "reveal.js": (
        "dist/reveal.js",
        "dist/reveal.css",
        "dist/reset.css",
        "dist/theme/white.css",
        "dist/theme/fonts/source-sans-pro",
        "plugin/notes/notes.js",
        "LICENSE",
    ),
    "mathjax": (
        "MathJax.js",
        "config/TeX-AMS_CHTML-full.js",
        "config/Safe.js",
        "extensions",
        "jax/input/TeX",
        "jax/element",
        "jax/output/CommonHTML",
        "jax/output/PreviewHTML",
        "jax/output/NativeMML",
        "fonts/HTML-CSS/TeX/woff",
        "localization/en",
        "LICENSE",
    ),
    "requirejs": ("require.js",),
    "jquery": ("dist/jquery.min.js", "LICENSE.txt"),
    "font-awesome": (
        "css/font-awesome.min.css",
        "fonts/fontawesome-webfont.woff2",
        "fonts/fontawesome-webfont.woff",
    ),
}
IGNORE = shutil.ignore_patterns("*.map", "*.esm.js", "*.scss")

# The Colab badge drawn locally, so a page opened offline shows it instead of a broken image.
COLAB_BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" \
width="117" height="20" role="img" aria-label="Open in Colab">
<rect width="117" height="20" rx="3" fill="#555"/><rect \
x="20" width="97" height="20" rx="3" fill="#f9ab00"/>
<path d="M20 0h4v20h-4z" fill="#f9ab00"/>
<circle cx="7" cy="10" r="4" fill="none" stroke="#f9ab00" stroke-width="2.2"/>
<circle cx="13" cy="10" r="4" fill="none" stroke="#e8710a" stroke-width="2.2"/>
<text x="68" y="14" font-family="Verdana,DejaVu Sans,sans-serif" \
font-size="11" fill="#fff" text-anchor="middle">Open in Colab</text>
</svg>
"""


class AssetsMissing(RuntimeError):
    """node_modules lacks a package and npm could not install it."""


def ensure_node_modules(root: Path = ROOT) -> Path:
    """Run ``npm install`` (``npm ci`` with a lock file)
    when a package is missing; return node_modules.
    """
    node_modules = root / "node_modules"
    if all((node_modules / name / "package.json").exists() for name in PACKAGES):
        return node_modules
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsMissing(
            "the offline slides need reveal.js and MathJax from npm, but `npm` is "
            "not installed: install Node.js (e.g. `apt-get install -y npm`) and "
            "run `npm install` in the repository root"
        )
    command = [
        npm,
        "ci" if (root / "package-lock.json").exists() else "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
    ]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssetsMissing(f"`{' '.join(command[:2])}` failed in {root}:\n{done.stderr[-2000:]}")
    return node_modules


def install_assets(site: Path, node_modules: Path | None = None) -> Path:
    """Copy the needed parts of each npm package into ``site/assets``; return that folder."""
    node_modules = Path(node_modules) if node_modules is not None else ensure_node_modules()
    target = Path(site) / ASSETS
    for package, parts in PACKAGES.items():
        for part in parts:
            source, dest = node_modules / package / part, target / package / part
            if not source.exists():
                raise AssetsMissing(f"{source} is missing: run `npm install` in {ROOT}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=IGNORE, dirs_exist_ok=True)
            else:
                shutil.copy2(source, dest)
    (target / COLAB_BADGE).write_text(COLAB_BADGE_SVG, encoding="utf-8")
    return target


def exporter_urls(prefix: str) -> dict[str, str]:
    """nbconvert exporter settings that load every asset from ``prefix`` (e.g. ``"../assets"``)."""
    return {
        "require_js_url": f"{prefix}/requirejs/require.js",
        "jquery_url": f"{prefix}/jquery/dist/jquery.min.js",
        "mathjax_url": f"{prefix}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        "font_awesome_url": f"{prefix}/font-awesome/css/font-awesome.min.css",
        "reveal_url_prefix": f"{prefix}/reveal.js",
    }
