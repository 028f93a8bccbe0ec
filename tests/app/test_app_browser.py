"""The interactive model page (``sim/app.py``, served by ``escalation viz``).

Two layers. The fast tests build the page's model and render the page's component tree in
Python (Solara's test renderer, no browser): every scenario builds, the sliders keep to the
rule registry's bounds, a slider's value reaches the model after Reset, Step and "Run to end"
change the figures. The browser test (marked ``browser``) serves the page with ``solara
run`` on a free localhost port and drives Debian's chromium headless through Playwright
(``executable_path=/usr/bin/chromium``; Playwright's own browser download cannot work here):
it loads the page, moves a rule slider with the mouse, resets, steps, runs to the end and
checks that the status line and every figure changed, and that the page's totals are those of
the same model run directly.

The browser test skips when chromium or Playwright is missing, except under CI (``CI=true``),
where it fails instead: CI installs chromium (``scripts/ensure-chromium.sh``).
Set ``ESCALATION_SCREENSHOTS=DIR`` to keep the page's screenshots.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from sim.scenario import load_scenario

from sim.rules import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
SERVER_START_S = 120
UI_TIMEOUT_MS = 90_000

#: The threshold level history.toml runs with (calibrated.toml's value), where sliders start.
HISTORY_LEVEL = float(load_scenario(Path(__file__).resolve().parents[2] / "scenarios"
                                    / "history.toml").params.us.rule_params.get("level", 12.0))


# --- Fast tests: the model and the component tree, no browser ---------------------------------

@pytest.fixture(scope="module")
def app():
    pytest.importorskip("solara", reason="the page needs the viz extra: pip install -e '.[viz]'")
    import sim.app
    return sim.app


def test_every_scenario_builds_steps_and_draws(app):
    names = app.scenario_names()
    assert names[0] == "history" and len(names) == len(list(app.SCENARIO_DIR.glob("*.toml")))
    for name in names:
        model = app.AppModel(scenario=name)
        for _ in range(40):
            model.step()
        assert model.day == 40
        assert model.history().index[-1] == model.timeline.start + pd.Timedelta(days=39)
        for draw in (app.timeline_figure, app.ladder_figure, app.militias_figure,
                     app.others_figure):
            fig = draw(model)
            assert fig.axes and all(ax.get_ylabel() for ax in fig.axes), (name, draw)


def test_flat_keywords_reach_the_rule(app):
    model = app.AppModel(rule="threshold", threshold__level=6.0, red_line__deaths=3.0)
    assert model.rule_name == "threshold"
    assert app.rule_values(model) == {"level": 6.0, "size": 1.0}  # red_line's slider ignored
    model = app.AppModel(scenario="red_line", red_line__wounded=app.NEVER_SLIDER_TOP)
    assert app.rule_values(model)["wounded"] == REGISTRY["red_line"].parameters["wounded"][2]
    with pytest.raises(ValueError, match="threshold__level"):
        app.AppModel(level=3.0)
    with pytest.raises(ValueError, match="unknown rule"):
        app.AppModel(rule="appeasement")


def test_sliders_keep_to_the_registry_bounds(app):
    for rule, cls in REGISTRY.items():
        model = app.AppModel(rule=rule)
        params = app.model_params(model)
        sliders = {k: v for k, v in params.items() if app.SEP in k}
        assert set(sliders) == {f"{rule}{app.SEP}{p}" for p in cls.parameters}
        for key, slider in sliders.items():
            default, lo, hi, _doc = cls.parameters[key.split(app.SEP)[1]]
            assert slider.min == lo and lo <= slider.max <= hi
            assert slider.min <= slider.value <= slider.max
            assert 0 < slider.step <= (slider.max - slider.min)
            # A slider starts at the scenario's value (history sets the calibrated threshold
            # level), else at the rule's default.
            name = key.split(app.SEP)[1]
            given = model.scenario.params.us.rule_params if (
                model.scenario.params.us.rule == rule) else {}
            expected = float(given.get(name, default))
            assert app.slider_value(rule, name, slider.value) == pytest.approx(expected)


def test_replayed_scenarios_say_the_rule_is_not_consulted(app):
    model = app.AppModel(scenario="no_soleimani_strike")
    assert model.replayed_us
    assert "not consulted" in app.status_markdown(model)
    assert "not consulted" in app.rule_help(model)


def _walk(widget, found):
    """Every widget under ``widget`` (SolaraViz's grid keeps its cells in ``items``)."""
    import ipywidgets
    if not isinstance(widget, ipywidgets.Widget) or any(w is widget for w in found):
        return found
    found.append(widget)
    for name in widget.keys:
        value = getattr(widget, name, None)
        values = value if isinstance(value, (list, tuple)) else (
            value.values() if isinstance(value, dict) else [value])
        for child in values:
            for c in (child if isinstance(child, (list, tuple)) else [child]):
                _walk(c, found)
    return found


def test_page_steps_runs_and_applies_a_slider(app):
    import ipyvuetify as v
    import ipywidgets
    import solara

    @solara.component
    def Served():  # what `solara run` wraps a page in
        with solara.AppLayout():
            app.Page()

    box, rc = solara.render(Served(), handle_error=False)

    def status() -> str:
        for w in _walk(box, []):
            template = getattr(getattr(w, "template", None), "template",
                               getattr(w, "template", None))
            if isinstance(template, str) and "escalation-date" in template:
                return re.sub(r"<[^>]+>", " ", template)
        raise AssertionError("no status line on the page")

    def images() -> list[bytes]:
        return [bytes(w.value) for w in _walk(box, []) if isinstance(w, ipywidgets.Image)]

    before = images()
    assert len(before) == 4 and "day 0 of 1919" in status()
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "day 7 of 1919" in status()            # render interval: a week per click
    level = [w for w in rc.find(v.Slider).widgets if w.label == "threshold: level"]
    assert len(level) == 1 and level[0].v_model == pytest.approx(HISTORY_LEVEL)
    level[0].v_model = 6.0
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert "day 0 of 1919" in status() and "level = 6" in status()
    rc.find(v.Btn, children=["Run to end"]).widget.click()
    after = images()
    assert "day 1919 of 1919" in status()
    assert all(a != b for a, b in zip(before, after))
    expected = app.AppModel(rule="threshold", threshold__level=6.0)
    expected.run_to_end()
    assert f"attacks {int(expected.history()['attacks'].sum())} " in status()


def test_viz_command_serves_the_page():
    from sim.cli import build_parser
    from sim.commands import viz

    args = build_parser().parse_args(["viz", "--port", "8800", "--host", "0.0.0.0"])
    assert (args.port, args.host) == (8800, "0.0.0.0")
    cmd = viz.command(8800, "0.0.0.0")
    assert cmd[1:3] == ["run", str(ROOT / "sim" / "app.py")]
    assert cmd[cmd.index("--port") + 1] == "8800" and "--no-open" in cmd


# --- The browser test ------------------------------------------------------------------------

def _need_browser():
    """Skip (outside CI) or fail (in CI) when the browser or Playwright is missing."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"Debian's chromium ({CHROMIUM}; apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright (pip install -e '.[viz]')")
    if importlib.util.find_spec("solara") is None:
        missing.append("Solara (pip install -e '.[viz]')")
    if missing:
        reason = "the browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI must install it", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served_page(tmp_path):
    """``solara run sim/app.py`` on a free localhost port; its address."""
    _need_browser()
    from sim.commands import viz

    port = _free_port()
    log = open(tmp_path / "solara.log", "w")
    server = subprocess.Popen(viz.command(port, "127.0.0.1"), cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("the Solara server did not start:\n"
                            + (tmp_path / "solara.log").read_text()[-3000:])
            time.sleep(0.5)
        yield url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # our own session: the server and its kernel
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        log.close()


HASH_IMAGES = """async () => {
    const out = [];
    for (const img of document.querySelectorAll('img.widget-image')) {
        const bytes = await (await fetch(img.src)).arrayBuffer();
        const digest = await crypto.subtle.digest('SHA-256', bytes);
        out.push(Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, '0')).join(''));
    }
    return out;
}"""


@pytest.mark.browser
def test_page_in_chromium(served_page, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("ESCALATION_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"),  # a fresh --user-data-dir
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(served_page)
            status = page.locator(".escalation-totals").first
            expect(page.get_by_role("button", name="Step")).to_be_visible()
            page.wait_for_function("document.querySelectorAll('img.widget-image').length >= 4")
            expect(page.get_by_text("day 0 of 1919")).to_be_visible()
            before_totals = status.inner_text()
            before_srcs = page.eval_on_selector_all("img.widget-image", "els => els.map(e => e.src)")
            before = page.evaluate(HASH_IMAGES)
            page.screenshot(path=shots / "page_start.png", full_page=True)

            # Move the threshold rule's level slider from history's (calibrated) value to
            # about 6: click its track an eighth of the way along (0-48), as a user would.
            slider = page.get_by_role("slider", name="threshold: level")
            start_level = slider.get_attribute("aria-valuenow")
            assert abs(float(start_level) - HISTORY_LEVEL) <= 0.2, start_level
            track = slider.locator("xpath=ancestor::div[contains(@class, 'v-slider')][1]")
            track.scroll_into_view_if_needed()
            box = track.bounding_box()
            page.mouse.click(box["x"] + box["width"] / 8, box["y"] + box["height"] / 2)
            expect(slider).not_to_have_attribute("aria-valuenow", start_level)
            level = float(slider.get_attribute("aria-valuenow"))
            assert 4 <= level <= 8, level
            page.get_by_role("button", name="Reset").click()
            expect(page.locator(".escalation-rule")).to_contain_text(f"level = {level:g},")

            page.get_by_role("button", name="Step").click()
            expect(page.get_by_text("day 7 of 1919")).to_be_visible()
            page.get_by_role("button", name="Run to end").click()
            expect(page.get_by_text("day 1919 of 1919")).to_be_visible()
            page.wait_for_function(
                "old => Array.from(document.querySelectorAll('img.widget-image'))"
                ".every((e, i) => e.src !== old[i])", arg=before_srcs)
            after = page.evaluate(HASH_IMAGES)
            page.screenshot(path=shots / "page_end.png", full_page=True)
            after_totals = status.inner_text()
        finally:
            context.close()

    assert len(before) == len(after) == 4
    assert all(a != b for a, b in zip(before, after)), "a figure did not change"
    assert before_totals != after_totals
    expected = __import__("sim.app", fromlist=["AppModel"]).AppModel(
        rule="threshold", threshold__level=level)
    expected.run_to_end()
    attacks = int(expected.history()["attacks"].sum())
    assert f"attacks {attacks} " in after_totals + " ", (after_totals, attacks)
