"""The interactive model page (``sim/app.py``, served by ``escalation viz``).

Two layers. The fast tests build the page's model and render the page's component tree in
Python (Solara's test renderer, no browser): every runnable scenario builds (and
``calibrated``, a parameter-only parent, is not offered), the sliders run over the rule's
declared bounds and start at the scenario's values, the rule card shows the values in force,
a slider's value reaches the model, Step and "Run to end" change the figures, the ensemble
draws its median and 90% band. The browser test (marked ``browser``) serves the page with
``solara run`` on a free localhost port and drives Debian's chromium headless through
Playwright (``executable_path=/usr/bin/chromium``; Playwright's own browser download cannot
work here): it checks the tab's title, the level slider's declared bounds and its value shown
beside it, the rule card's value against the scenario's, that ``calibrated`` is not offered;
moves the slider with the mouse, types an exact value, steps, runs to the end and checks that
the status line and every figure changed and that the page's totals are those of the same
model run directly; then switches to the ensemble and waits for its band. It fails on any
console error, failed request or HTTP error answer of the page.

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

import numpy as np
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

#: History's deterrence rule (``ladder`` since the model revision of issue 10) and the level it
#: runs with: calibrated.toml's value when that file calibrates this rule, else the rule's
#: default. Sliders start there and the rule card shows it.
_HISTORY_US = load_scenario(Path(__file__).resolve().parents[2] / "scenarios"
                            / "history.toml").params.us
HISTORY_RULE = _HISTORY_US.rule
HISTORY_LEVEL_GIVEN = "level" in _HISTORY_US.rule_params
HISTORY_LEVEL = float(_HISTORY_US.rule_params.get(
    "level", REGISTRY[HISTORY_RULE].parameters["level"][0]))


# --- Fast tests: the model and the component tree, no browser ---------------------------------

@pytest.fixture(scope="module")
def app():
    pytest.importorskip("solara", reason="the page needs the viz extra: pip install -e '.[viz]'")
    import sim.app
    return sim.app


def test_every_runnable_scenario_builds_steps_and_draws(app):
    names = app.scenario_names()
    files = sorted(app.SCENARIO_DIR.glob("*.toml"))
    assert names[0] == "history" and "calibrated" not in names
    # Offered: every file with its own name and description; not offered: parameter-only
    # parents such as calibrated.toml (which history.toml extends).
    assert set(names) == {p.stem for p in files if app.runnable(p)}
    assert {p.stem for p in files} - set(names) == {"calibrated"}
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
    model = app.AppModel(scenario="red_line", red_line__wounded=5.0)
    assert app.rule_values(model)["wounded"] == 5.0
    model = app.AppModel(rule="threshold", threshold__level=5000.0)   # kept within bounds
    assert app.rule_values(model)["level"] == REGISTRY["threshold"].parameters["level"][2]
    with pytest.raises(ValueError, match="threshold__level"):
        app.AppModel(level=3.0)
    with pytest.raises(ValueError, match="unknown rule"):
        app.AppModel(rule="appeasement")


def test_sliders_run_over_the_declared_bounds_from_the_scenarios_values(app):
    history = load_scenario(ROOT / "scenarios" / "history.toml")
    for rule, cls in REGISTRY.items():
        model = app.AppModel(rule=rule)
        specs = {s.key: s for s in app.slider_specs(model)}
        assert set(specs) == {f"{rule}{app.SEP}{p}" for p in cls.parameters}
        for key, spec in specs.items():
            name = key.split(app.SEP)[1]
            default, lo, hi, _doc = cls.parameters[name]
            assert (spec.min, spec.max) == (lo, hi), key     # the declared range, all of it
            assert 0 < spec.step <= 0.01 * (hi - lo)
            given = history.params.us.rule_params if history.params.us.rule == rule else {}
            assert spec.value == pytest.approx(float(given.get(name, default))), key
        assert app.model_params(model) == {"scenario": "history", "rule": rule,
                                           "replicate": 0,
                                           **{k: s.value for k, s in specs.items()}}
    level = app.slider_spec(HISTORY_RULE, "level", HISTORY_LEVEL)
    assert (level.min, level.max, level.value) == (0.0, 1000.0, HISTORY_LEVEL)


def test_rule_card_shows_the_values_in_force(app):
    card = app.rule_help(app.AppModel())
    rule = REGISTRY[HISTORY_RULE]
    default_level, default_size = rule.parameters["level"][0], rule.parameters["size"][0]
    if HISTORY_LEVEL_GIVEN:     # calibrated.toml calibrates history's rule
        assert f"data-param='level'>{HISTORY_LEVEL:g}</span> (history's value; rule default " \
               f"{default_level:g}" in card
    else:                       # not yet: the rule's default is in force, and says so
        assert f"data-param='level'>{HISTORY_LEVEL:g}</span> (the rule's default" in card
    assert f"data-param='size'>{default_size:g}</span> (the rule's default" in card
    moved = app.rule_help(app.AppModel(**{f"{HISTORY_RULE}__level": 6.0}))
    origin = (f"history's value {HISTORY_LEVEL:g}" if HISTORY_LEVEL_GIVEN
              else f"rule default {default_level:g}")
    assert f"data-param='level'>6</span> (set on this page; {origin}" in moved


def test_replayed_scenarios_say_the_rule_is_not_consulted(app):
    model = app.AppModel(scenario="no_soleimani_strike")
    assert model.replayed_us
    assert "not consulted" in app.status_markdown(model)
    assert "not consulted" in app.rule_help(model)


def test_ensemble_draws_median_and_band_quickly(app):
    from matplotlib.collections import PolyCollection

    model = app.AppModel()
    params = tuple(sorted((s.key, s.value) for s in app.slider_specs(model)))
    app.ensemble("history", HISTORY_RULE, params, 10)            # compile once
    result, seconds = app.ensemble("history", HISTORY_RULE, params, app.ENSEMBLE_REPLICATES)
    assert result.replicates == app.ENSEMBLE_REPLICATES and result.engine == "batch"
    assert seconds < 5.0, seconds                                 # about 0.2 s on 2 cores
    # The ensemble's replicate 0 is the page's replicate 0, run step by step.
    model.run_to_end()
    assert result.summary["attacks"].iloc[0] == model.history()["attacks"].sum()
    for column, q in app.ensemble_bands(result).items():
        lo, mid, hi = (q[b].to_numpy() for b in app.BAND)
        assert (lo <= mid).all() and (mid <= hi).all() and (hi[-1] > lo[0]), column
    fig = app.ensemble_figure(result, "history", HISTORY_RULE)
    assert all(any(isinstance(c, PolyCollection) for c in ax.collections) for ax in fig.axes)
    text = app.ensemble_markdown(result, seconds)
    assert f"{app.ENSEMBLE_REPLICATES} replicates" in text and "U.S. left Iraq" in text


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


def _classed(box, cls: str) -> list:
    """Widgets of the page that carry the CSS class ``cls`` (Solara's ``classes=``)."""
    return [w for w in _walk(box, []) if cls in str(getattr(w, "class_", "") or "").split()]


def test_page_steps_runs_and_applies_a_slider(app):
    import ipyvuetify as v
    import ipywidgets
    import solara

    @solara.component
    def Served():  # what `solara run` wraps a page in
        with solara.AppLayout():
            app.Page()

    box, rc = solara.render(Served(), handle_error=False)

    def html_text(marker: str) -> str:
        for w in _walk(box, []):
            html = getattr(w, "unsafe_innerHTML", None)
            if isinstance(html, str) and marker in html:
                return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
        raise AssertionError(f"nothing with {marker!r} on the page")

    def status() -> str:
        return html_text("escalation-date")

    def images() -> list[bytes]:
        return [bytes(w.value) for w in _walk(box, []) if isinstance(w, ipywidgets.Image)]

    def level_widgets():
        block, = _classed(box, f"escalation-param-{HISTORY_RULE}-level")
        slider, = [w for w in _walk(block, []) if isinstance(w, v.Slider)]
        shown, = [w for w in _walk(block, []) if isinstance(w, v.TextField)]
        return slider, shown

    before = images()
    assert len(before) == 4 and "day 0 of 1919" in status()
    slider, shown = level_widgets()
    assert (slider.min, slider.max) == (0, 1000)
    assert slider.v_model == pytest.approx(HISTORY_LEVEL)
    assert float(shown.v_model) == pytest.approx(HISTORY_LEVEL)         # value shown beside it
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert "day 7 of 1919" in status()            # render interval: a week per click
    slider.v_model = 6.0                           # a change builds a fresh model at once
    assert "day 0 of 1919" in status() and "(level = 6," in status()
    slider, shown = level_widgets()
    assert float(shown.v_model) == 6.0 and "level = 6 (set on this page" in html_text(
        "escalation-in-force")
    rc.find(v.Btn, children=["Reset"]).widget.click()   # Reset keeps the page's values
    assert "day 0 of 1919" in status() and "(level = 6," in status()
    rc.find(v.Btn, children=["Run to end"]).widget.click()
    after = images()
    assert "day 1919 of 1919" in status()
    assert all(a != b for a, b in zip(before, after))
    expected = app.AppModel(rule=HISTORY_RULE, **{f"{HISTORY_RULE}__level": 6.0})
    expected.run_to_end()
    assert f"attacks {int(expected.history()['attacks'].sum())} " in status()

    rc.find(v.BtnToggle).widget.v_model = app.VIEWS.index("ensemble")
    assert "replicates in" in html_text("escalation-ensemble")
    assert len(images()) == 1


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


def _watch(page, problems: list[str]) -> None:
    """Record every console error, failed request and HTTP error answer of the page."""
    page.on("console", lambda m: m.type == "error" and problems.append(
        f"console error: {m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(
        f"HTTP {r.status}: {r.url}"))


def _number(value: float) -> re.Pattern:
    """A text box's value that reads as ``value``: "12", "12.0" or "10.44"."""
    return re.compile(rf"^{re.escape(f'{value:g}')}(\.0+)?$")


@pytest.mark.browser
def test_page_in_chromium(served_page, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)   # a busy machine redraws four figures slowly
    shots = Path(os.environ.get("ESCALATION_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    _default, level_lo, level_hi, _doc = REGISTRY[HISTORY_RULE].parameters["level"]
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"),  # a fresh --user-data-dir
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            _watch(page, problems)
            page.goto(served_page)
            status = page.locator(".escalation-totals").first
            expect(page.get_by_role("button", name="Step")).to_be_visible()
            page.wait_for_function("document.querySelectorAll('img.widget-image').length >= 4")
            expect(page.get_by_text("day 0 of 1919")).to_be_visible()
            expect(page).to_have_title("escalation-sim: history")
            expect(page.get_by_text("escalation-sim: history:").first).to_be_visible()
            before_totals = status.inner_text()
            before_srcs = page.eval_on_selector_all("img.widget-image", "els => els.map(e => e.src)")
            before = page.evaluate(HASH_IMAGES)
            page.screenshot(path=shots / "page_start.png", full_page=True)

            # The scenarios offered: runnable ones, not calibrated.toml (parameters only).
            page.locator(".v-select").filter(has_text="scenario").first.click()
            options = page.locator(".menuable__content__active .v-list-item")
            expect(options.first).to_be_visible()
            offered = [t.strip() for t in options.all_inner_texts()]
            page.keyboard.press("Escape")
            assert "history" in offered and "calibrated" not in offered, offered

            # The level slider: the rule's declared bounds, history's value shown beside it
            # and on the rule card (history's calibrated value when calibrated.toml
            # calibrates its rule, else the rule's default).
            block = page.locator(f".escalation-param-{HISTORY_RULE}-level")
            slider = block.get_by_role("slider")
            shown = block.locator(".escalation-value input")
            in_force = page.locator(".escalation-in-force[data-param='level']")
            assert float(slider.get_attribute("aria-valuemin")) == level_lo
            assert float(slider.get_attribute("aria-valuemax")) == level_hi
            assert float(slider.get_attribute("aria-valuenow")) == pytest.approx(HISTORY_LEVEL)
            # (the box shows a float as Python writes it: "12.0" for the rule's default 12)
            expect(shown).to_have_value(_number(HISTORY_LEVEL))
            expect(in_force).to_have_text(f"{HISTORY_LEVEL:g}")

            # Move it with the mouse: a third of the way along; the shown value follows.
            track = block.locator(".v-slider").first
            track.scroll_into_view_if_needed()
            box = track.bounding_box()
            page.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
            expect(slider).not_to_have_attribute("aria-valuenow", f"{HISTORY_LEVEL:g}")
            moved = float(slider.get_attribute("aria-valuenow"))
            assert 200 <= moved <= 450, moved
            expect(shown).to_have_value(_number(moved))
            expect(in_force).to_have_text(f"{moved:g}")

            # Type an exact value into the box beside it.
            shown.fill("6")
            shown.press("Enter")
            expect(slider).to_have_attribute("aria-valuenow", "6")
            expect(in_force).to_have_text("6")
            expect(page.locator(".escalation-rule")).to_contain_text("level = 6,")
            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_text("day 0 of 1919")).to_be_visible()
            expect(page.locator(".escalation-rule")).to_contain_text("level = 6,")

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

            # The ensemble: a few dozen replicates of the same settings, median and band.
            page.get_by_role("button", name="ensemble").click()
            ensemble = page.locator(".escalation-ensemble")
            expect(ensemble).to_contain_text("40 replicates in")
            expect(page.locator("img.widget-image")).to_have_count(1)
            expect(page).to_have_title("escalation-sim: history")
            page.screenshot(path=shots / "page_ensemble.png", full_page=True)
            ensemble_text = ensemble.inner_text()
        finally:
            context.close()

    assert not problems, "the page's console and network:\n" + "\n".join(problems)
    assert len(before) == len(after) == 4
    assert all(a != b for a, b in zip(before, after)), "a figure did not change"
    assert before_totals != after_totals
    app = __import__("sim.app", fromlist=["AppModel"])
    expected = app.AppModel(rule=HISTORY_RULE, **{f"{HISTORY_RULE}__level": 6.0})
    expected.run_to_end()
    attacks = int(expected.history()["attacks"].sum())
    assert f"attacks {attacks} " in after_totals + " ", (after_totals, attacks)
    # The ensemble is of the page's settings (level 6): its replicate 0 is the run above.
    result, _seconds = app.ensemble("history", HISTORY_RULE, tuple(sorted(
        (s.key, s.value) for s in app.slider_specs(expected))), 40)
    median = int(np.quantile(result.summary["attacks"], 0.5, method="nearest"))
    assert f"attacks {median} (" in ensemble_text, ensemble_text
