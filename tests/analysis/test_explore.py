"""`explore` in headless Chromium: the page renders offline (plotly.js embedded), the heatmap
holds each cell's mean as `table` computes it, the controls change the plot (metric, axes,
slices), and a cell's trajectories draw. A script injected into a copy of the page drives the
controls as a user would (change events) and writes what the plot holds into the DOM, which
Chromium prints (--dump-dom).
Run by hand: PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis/test_explore.py"""
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import iclsweep
from files import concept
from iclsweep import explore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM, reason="no chromium (scripts/install-deps.sh "
                                                      "--tests installs it)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--virtual-time-budget=5000"]

PROBE = r"""<script>
(function () {
  const out = {};
  const heat = () => document.getElementById('heat').data[0];
  function pick(id, value) { const s = document.getElementById(id); s.value = value;
    s.dispatchEvent(new Event('change')); }
  out.first = {z: heat().z, x: heat().x, y: heat().y, metric: document.getElementById('metric').value,
               text: heat().text[0][0]};
  pick('metric', 'test_err_decay');
  out.metric = {z: heat().z};
  pick('x', 'K'); pick('y', 'noise');
  out.swapped = {x: heat().x, y: heat().y};
  pick('metric', 'test_err'); pick('x', 'noise'); pick('y', 'noise');
  const slice = document.querySelector('select.slice[data-axis="K"]');
  slice.value = '0'; slice.dispatchEvent(new Event('change'));
  out.slice = {z: heat().z, title: document.getElementById('heat').layout.title.text};
  pick('y', 'K'); showCell(0, 0);
  const traj = document.getElementById('traj').data || [];
  out.traj = {n: traj.length, y: traj.length ? Array.from(traj[0].y) : []};
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
})();
</script>"""


def _chromium(args, tmp_path):
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM] + FLAGS + [f"--user-data-dir={profile}"] + args,
                          capture_output=True, text=True, timeout=120)


def test_explore_renders_and_the_controls_change_the_plot(tmp_path):
    path = tmp_path / "toy.h5"
    concept(path)
    page = explore.explore(path, output=tmp_path / "toy.html")
    text = open(page, encoding="utf-8").read()
    ours = text[text.index("</script></head>"):]       # the page after the embedded plotly.js
    assert not re.search(r"(src|href)=\"(https?:)?//", ours), "the page loads something online"
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    p = _chromium(["--dump-dom", probe.as_uri()], tmp_path)
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, f"the page did not run: {p.stderr[-2000:]}"
    out = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    first = out["first"]
    assert first["metric"] == "test_err" and first["x"] == ["0.01", "0.1", "0.3", "1"]
    means = iclsweep.load(path).groupby(["K", "noise"]).test_err.mean()
    z = np.array(first["z"], dtype=float)             # rows K, columns noise
    assert np.allclose(z, means.unstack("noise").to_numpy(), rtol=1e-6)
    assert "n = 2" in first["text"] and "95% CI (bootstrap)" in first["text"]
    assert not np.allclose(np.array(out["metric"]["z"], dtype=float), z)
    assert out["swapped"] == {"x": ["2", "4", "8"], "y": ["0.01", "0.1", "0.3", "1"]}
    assert "K = 2" in out["slice"]["title"]
    assert out["traj"]["n"] == 2 and len(out["traj"]["y"]) == 3
    keep = os.environ.get("ICLSWEEP_KEEP_SCREENSHOT")     # a picture to look at, by hand
    if keep:
        _chromium([f"--screenshot={keep}", "--window-size=1200,1300", probe.as_uri()], tmp_path)
